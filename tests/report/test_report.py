"""Report formats, rendered from a hand-built snapshot and findings (no server needed)."""

from __future__ import annotations

import io
import json

import yaml

from checks.model import Finding, FixPlan, ObjectRef, Severity
from checks.snapshot import ClusterSnapshot, Incomplete
from gputui.report import SCHEMA, render

NODE = ObjectRef("Node", "ip-10-0-3-7.us-west-2.compute.internal")
DS = ObjectRef("DaemonSet", "nvidia-device-plugin-daemonset", "gpu-operator")
EVIDENCE = (
    "taint example.com/gpu=true:NoSchedule is not tolerated by nvidia-device-plugin-daemonset "
    "[states not ready: [state-driver]]"
)
KUBECTL = (
    "kubectl patch clusterpolicy cluster-policy --type merge -p "
    '\'{"spec":{"daemonsets":{"tolerations":[{"key":"example.com/gpu","operator":"Exists"}]}}}\''
)


def _findings() -> list[Finding]:
    return [
        Finding(
            code="GPU501",
            name="gpu-workload-disruptable",
            severity=Severity.WARNING,
            area="disruption",
            title="Long-running GPU pods can be disrupted by consolidation",
            message="Job ml/train-llm runs on NodePool gpu with WhenEmptyOrUnderutilized",
            subject=ObjectRef("Job", "train-llm", "ml"),
        ),
        Finding(
            code="GPU101",
            name="gpu-not-allocatable",
            severity=Severity.ERROR,
            area="nodes",
            title="GPU node reports no allocatable nvidia.com/gpu",
            message="ip-10-0-3-7 (g5.xlarge, 1x A10G expected) has 0 allocatable: the device plugin pod is "
            "not running there",
            subject=NODE,
            related=[DS],
            evidence=[EVIDENCE],
            fixes=[
                FixPlan(
                    id="clusterpolicy-tolerations",
                    title="Tolerate example.com/gpu in ClusterPolicy",
                    target=ObjectRef("ClusterPolicy", "cluster-policy"),
                    patch_type="merge",
                    patch={"spec": {}},
                    kubectl=KUBECTL,
                )
            ],
        ),
        Finding(
            code="GPU305",
            name="nodeclaim-disrupting",
            severity=Severity.INFO,
            area="karpenter",
            title="NodeClaim is drifted",
            message="gpu-abc12 Drifted=True",
            subject=ObjectRef("NodeClaim", "gpu-abc12"),
        ),
    ]


def _snapshot(**kw) -> ClusterSnapshot:
    snap = ClusterSnapshot(
        context="prod-eks", server="https://ABC.gr7.us-west-2.eks.amazonaws.com", source="live", **kw
    )
    snap.incomplete = [Incomplete("nodeclaims.karpenter.sh", "Forbidden", "nodeclaims.karpenter.sh is forbidden")]
    return snap


def _render(fmt: str, findings=None, snap=None, color=None) -> str:
    out = io.StringIO()
    render(fmt, snap or _snapshot(), _findings() if findings is None else findings, out, color=color)
    return out.getvalue()


def test_json_is_the_v1_contract():
    doc = json.loads(_render("json"))
    assert list(doc) == ["schema", "cluster", "summary", "incomplete", "findings"]
    assert doc["schema"] == SCHEMA == "gputui.dev/diagnose/v1"
    assert doc["cluster"] == {
        "context": "prod-eks",
        "server": "https://ABC.gr7.us-west-2.eks.amazonaws.com",
        "source": "live",
    }
    assert doc["summary"] == {"error": 1, "warning": 1, "info": 1}
    assert doc["incomplete"] == [
        {
            "resource": "nodeclaims.karpenter.sh",
            "reason": "Forbidden",
            "message": "nodeclaims.karpenter.sh is forbidden",
        }
    ]
    f = next(x for x in doc["findings"] if x["code"] == "GPU101")
    for key in ("code", "name", "severity", "title", "message", "subject", "related", "evidence", "fixes"):
        assert key in f
    assert f["subject"] == {"kind": "Node", "namespace": None, "name": NODE.name}
    assert f["related"] == [{"kind": "DaemonSet", "namespace": "gpu-operator", "name": DS.name}]
    assert f["evidence"] == [EVIDENCE]
    assert f["fixes"][0]["id"] == "clusterpolicy-tolerations" and f["fixes"][0]["disruptive"] is False
    assert f["fixes"][0]["kubectl"] == KUBECTL


def test_yaml_carries_the_same_document():
    assert yaml.safe_load(_render("yaml")) == json.loads(_render("json"))


def test_text_groups_by_severity_then_area_and_fits_80_columns():
    text = _render("text")
    lines = text.splitlines()
    # Everything fits 80 columns except kubectl commands, kept on one line so they paste.
    assert all(len(line) <= 80 for line in lines if not line.lstrip().startswith("$ kubectl")), max(lines, key=len)
    assert f"         $ {KUBECTL}" in lines
    assert all(line == line.rstrip() for line in lines)
    assert "\x1b[" not in text  # not a terminal: no escape codes
    assert lines[0] == "gputui diagnose  prod-eks (live)"
    assert lines[1] == "server https://ABC.gr7.us-west-2.eks.amazonaws.com"
    assert "1 error · 1 warning · 1 info · 1 resources unreadable" in text
    order = [text.index(s) for s in ("ERROR (1)", "GPU101", "WARNING (1)", "GPU501", "INFO (1)", "GPU305")]
    assert order == sorted(order)
    # Brackets in evidence are printed, not parsed as markup; long lines wrap instead of being cut.
    flat = " ".join(" ".join(text.split()).split(" - "))
    assert "[states not ready: [state-driver]]" in flat
    assert "clusterpolicy-tolerations" in text and "$ kubectl patch clusterpolicy cluster-policy" in text
    assert "Could not see" in text and "nodeclaims.karpenter.sh  Forbidden" in text


def test_text_colour_only_when_asked(monkeypatch):
    assert "\x1b[" in _render("text", color=True)
    monkeypatch.setenv("NO_COLOR", "1")

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    render("text", _snapshot(), _findings(), out)
    assert "\x1b[" not in out.getvalue()


def test_text_without_findings_says_so():
    snap = ClusterSnapshot(context="c", server="s")
    text = _render("text", findings=[], snap=snap)
    assert "0 errors · 0 warnings · 0 info" in text
    assert "No problems found." in text
    assert "Could not see" not in text


def test_not_installed_is_not_called_unreadable():
    snap = ClusterSnapshot(context="c", server="s")
    snap.incomplete = [Incomplete("clusterpolicies.nvidia.com", "NotFound", "GPU Operator not installed: ...")]
    text = _render("text", findings=[], snap=snap)
    assert "unreadable" not in text
    assert "Not installed" in text and "GPU Operator not installed" in text


def test_markdown_for_a_ticket():
    md = _render("markdown")
    assert md.startswith("## gputui diagnose: prod-eks\n")
    assert "| Severity | Code | Check | Subject | Title |" in md
    assert (
        f"| error | GPU101 | gpu-not-allocatable | Node/{NODE.name} | GPU node reports no allocatable nvidia.com/gpu |"
        in md
    )
    assert f"```text\n{EVIDENCE}\n```" in md
    assert f"```sh\n  {KUBECTL}\n  ```" in md
    assert "> **Partial view:**" in md
    assert "- `nodeclaims.karpenter.sh`: Forbidden: nodeclaims.karpenter.sh is forbidden" in md
    assert md.index("### Error") < md.index("### Warning") < md.index("### Info")


def test_areas_follow_the_catalogue_not_the_alphabet():
    nodeclaim = Finding(
        code="GPU304",
        name="nodeclaim-not-initialized",
        severity=Severity.ERROR,
        area="karpenter",
        title="NodeClaim not initialized",
        message="m",
        subject=ObjectRef("NodeClaim", "gpu-x"),
    )
    findings = [nodeclaim, *_findings()]
    text = _render("text", findings=findings)
    assert text.index("\nnodes\n") < text.index("\nkarpenter\n")
    doc = json.loads(_render("json", findings=findings))
    assert [f["code"] for f in doc["findings"]] == ["GPU101", "GPU304", "GPU501", "GPU305"]
