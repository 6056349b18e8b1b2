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
    assert lines[0].startswith("gputui diagnose  prod-eks (live) as of ")
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


def _chain() -> list[Finding]:
    """A taint (GPU205) that keeps the device plugin off a node (GPU101) whose pods wait (GPU402)."""
    cp = ObjectRef("ClusterPolicy", "cluster-policy")
    fix = FixPlan(
        id="clusterpolicy-tolerations",
        title="Tolerate example.com/gpu in ClusterPolicy cluster-policy",
        target=cp,
        patch_type="merge",
        patch={"spec": {}},
        kubectl=KUBECTL,
    )
    taint = Finding(
        code="GPU205",
        name="operand-taint-not-tolerated",
        severity=Severity.ERROR,
        area="operator",
        title="GPU node taint not tolerated by GPU Operator operands",
        message="Taint example.com/gpu=true:NoSchedule is not tolerated",
        subject=cp,
        fixes=[fix],
    )
    node, disruptable, drifted = _findings()[1], _findings()[0], _findings()[2]
    node.fixes = [fix]
    node.cause = taint.id
    waiting = Finding(
        code="GPU402",
        name="gpu-pod-nominated-not-bound",
        severity=Severity.WARNING,
        area="scheduling",
        title="GPU pods nominated but not bound",
        message="2 pods of Deployment ml/llm were nominated for the node",
        subject=ObjectRef("Deployment", "llm", "ml"),
        related=[NODE],
        cause=taint.id,
    )
    return [disruptable, node, waiting, taint, drifted]


def test_text_leads_with_the_cause_and_a_summary():
    text = _render("text", findings=_chain())
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines if not line.lstrip().startswith("$ kubectl")), max(lines, key=len)
    summary = text[text.index("4 problems") : text.index("ERROR (")]
    assert " ".join(summary.split()) == (
        "4 problems (2 errors, 2 warnings) and 1 info; causes: "
        "- GPU205 GPU node taint not tolerated by GPU Operator operands on ClusterPolicy cluster-policy "
        "(+2 that follow) first: Tolerate example.com/gpu in ClusterPolicy cluster-policy"
    )
    assert "ERROR (2) and 1 warning that follow from them" in text
    order = [
        text.index(s)
        for s in (
            "  GPU205 operand-taint-not-tolerated  ClusterPolicy cluster-policy",
            "  ↳ GPU101 gpu-not-allocatable  Node ip-10-0-3-7",
            "  ↳ GPU402 gpu-pod-nominated-not-bound  Deployment ml/llm  (warning)",
            "WARNING (1)",
            "GPU501",
        )
    ]
    assert order == sorted(order)
    assert "      because of GPU205 on ClusterPolicy cluster-policy" in lines
    # The cause's fix is printed once, with its command; the consequence points at it.
    assert text.count(f"$ {KUBECTL}") == 1
    assert "(the fix of GPU205 above)" in text


def test_text_summary_without_shared_causes_names_the_worst_finding_first():
    text = _render("text")
    assert "2 problems (1 error, 1 warning) and 1 info; no finding follows from another" in text
    assert "first: Tolerate example.com/gpu in ClusterPolicy" in text


def test_json_gives_every_finding_an_id_and_consequences_their_cause():
    findings = _chain()
    doc = json.loads(_render("json", findings=findings))
    # Order stays by severity, then catalogue, as scripts expect; fields are only added.
    assert [f["code"] for f in doc["findings"]] == ["GPU101", "GPU205", "GPU402", "GPU501", "GPU305"]
    by_code = {f["code"]: f for f in doc["findings"]}
    assert by_code["GPU101"]["id"] == f"GPU101:Node//{NODE.name}"
    assert by_code["GPU205"]["id"] == "GPU205:ClusterPolicy//cluster-policy"
    assert by_code["GPU101"]["cause"] == by_code["GPU402"]["cause"] == "GPU205:ClusterPolicy//cluster-policy"
    assert by_code["GPU205"]["cause"] is None and by_code["GPU501"]["cause"] is None
    assert len({f["id"] for f in doc["findings"]}) == len(doc["findings"])
    assert yaml.safe_load(_render("yaml", findings=findings)) == doc


def test_markdown_groups_consequences_under_their_cause():
    md = _render("markdown", findings=_chain())
    assert "- **Causes:** GPU205 GPU node taint not tolerated by GPU Operator operands on " in md
    assert "- **First:** Tolerate example.com/gpu in ClusterPolicy cluster-policy\n" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "GPU" in line]
    assert [r.split(" | ")[1] for r in rows] == ["GPU205", "GPU101", "GPU402", "GPU501", "GPU305"]
    assert rows[1].endswith("| ↳ GPU node reports no allocatable nvidia.com/gpu |")
    assert md.index("#### GPU205") < md.index("#### ↳ GPU101") < md.index("#### ↳ GPU402") < md.index("### Warning")
    assert "**Because of GPU205 on ClusterPolicy cluster-policy.**" in md


def test_a_cause_filtered_out_of_the_report_is_still_named():
    findings = [f for f in _chain() if f.code != "GPU205"]
    text = _render("text", findings=findings)
    assert "↳" not in text  # nothing to fold under
    assert "    because of GPU205 on ClusterPolicy cluster-policy (not shown)" in text.splitlines()
    assert "  - GPU205 on ClusterPolicy cluster-policy, not shown (+2 that follow)" in text.splitlines()
    doc = json.loads(_render("json", findings=findings))
    assert next(f for f in doc["findings"] if f["code"] == "GPU101")["cause"] == "GPU205:ClusterPolicy//cluster-policy"
    md = _render("markdown", findings=findings)
    assert "- **Causes:** GPU205 on ClusterPolicy cluster-policy, not shown (+2)\n" in md
    assert "**Because of GPU205 on ClusterPolicy cluster-policy (not shown).**" in md
