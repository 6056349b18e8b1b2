"""`gputui diagnose`, `snapshot` and `checks` through the CLI, against the simulator over HTTP."""

from __future__ import annotations

import errno
import io
import json
import re
import subprocess
import sys

import pytest
import yaml

from gputui.cli import main
from gputui.errors import EXIT_INPUT, EXIT_INTERRUPTED
from gputui.sim.faults import Faults
from tests.helpers.yamlio import load_yaml

TAINT = "device-plugin-taint"
TAINTED_NODES = {"ip-10-0-20-38.us-west-2.compute.internal", "ip-10-0-80-20.us-west-2.compute.internal"}


def _diagnose(capsys, sim, *extra: str) -> tuple[int, dict]:
    code = main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "-o", "json", "--no-progress", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out)


def _pairs(doc: dict) -> set[tuple[str, str, str]]:
    return {(f["code"], f["subject"]["kind"], f["subject"]["name"]) for f in doc["findings"]}


@pytest.fixture
def taint_sim(start_sim):
    return start_sim(sources=[TAINT])


def test_json_report_and_exit_code_for_a_broken_cluster(capsys, taint_sim):
    code, doc = _diagnose(capsys, taint_sim)
    assert code == 1
    assert doc["schema"] == "gputui.dev/diagnose/v1"
    assert doc["cluster"] == {"context": taint_sim.context, "server": taint_sim.url, "source": "live"}
    assert doc["incomplete"] == []
    assert doc["summary"]["error"] == sum(f["severity"] == "error" for f in doc["findings"]) > 0
    assert {("GPU101", "Node", n) for n in TAINTED_NODES} <= _pairs(doc)


def test_check_filter_by_code_and_name(capsys, taint_sim):
    _, doc = _diagnose(capsys, taint_sim, "--check", "GPU101")
    assert {f["code"] for f in doc["findings"]} == {"GPU101"}
    _, by_name = _diagnose(capsys, taint_sim, "--check", "gpu-not-allocatable,GPU205")
    assert {f["code"] for f in by_name["findings"]} == {"GPU101", "GPU205"}


def test_unknown_check_is_a_usage_error_listing_the_checks(capsys, taint_sim):
    code = main(["diagnose", "--kubeconfig", str(taint_sim.kubeconfig), "--check", "GPU999", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "gputui: error: unknown check: GPU999" in err
    assert "GPU101 gpu-not-allocatable" in err and "gputui checks list" in err


def test_node_nodepool_namespace_and_severity_filters(capsys, taint_sim):
    node = sorted(TAINTED_NODES)[0]
    _, doc = _diagnose(capsys, taint_sim, "--node", node)
    assert doc["findings"] and all(
        any(r["kind"] in ("Node", "NodeClaim", "Pod") for r in [f["subject"], *f["related"]]) for f in doc["findings"]
    )
    assert ("GPU101", "Node", node) in _pairs(doc)
    assert not any(f["subject"]["name"] in TAINTED_NODES - {node} for f in doc["findings"])

    _, doc = _diagnose(capsys, taint_sim, "--nodepool", "gpu-dedicated")
    assert {("GPU101", "Node", n) for n in TAINTED_NODES} <= _pairs(doc)
    assert ("GPU304", "NodeClaim", "gpu-dedicated-8ngxb") in _pairs(doc)
    # A NodePool that does not exist is a mistake, not a clean bill of health.
    code = main(["diagnose", "--kubeconfig", str(taint_sim.kubeconfig), "--no-progress", "--nodepool", "no-such-pool"])
    assert code == 2 and "no NodePool matches --nodepool no-such-pool" in capsys.readouterr().err

    _, doc = _diagnose(capsys, taint_sim, "--namespace", "ml-research")
    assert doc["findings"] and all(
        "ml-research" in {r["namespace"] for r in [f["subject"], *f["related"]]} for f in doc["findings"]
    )

    _, doc = _diagnose(capsys, taint_sim, "--min-severity", "error")
    assert doc["findings"] and {f["severity"] for f in doc["findings"]} == {"error"}


def test_fail_on_decides_the_exit_code(capsys, taint_sim):
    assert _diagnose(capsys, taint_sim, "--fail-on", "none")[0] == 0
    assert _diagnose(capsys, taint_sim, "--check", "GPU402", "--fail-on", "error")[0] == 0
    assert _diagnose(capsys, taint_sim, "--check", "GPU402", "--fail-on", "warning")[0] == 1


def test_forbidden_resources_give_findings_and_exit_3(capsys, start_sim):
    sim = start_sim(sources=[TAINT], faults=Faults(forbid=("nodeclaims", "events")))
    code, doc = _diagnose(capsys, sim, "--fail-on", "none")
    assert code == 3
    assert [(i["resource"], i["reason"]) for i in doc["incomplete"]] == [
        ("events", "Forbidden"),
        ("nodeclaims.karpenter.sh", "Forbidden"),
    ]
    assert {("GPU101", "Node", n) for n in TAINTED_NODES} <= _pairs(doc)
    # --fail-on is applied first: errors still exit 1.
    assert _diagnose(capsys, sim)[0] == 1
    main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "--no-progress", "--fail-on", "none"])
    text = capsys.readouterr().out
    assert "Could not see" in text and "nodeclaims.karpenter.sh  Forbidden" in text


def _gpu_node_without_operator() -> list[dict]:
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "ip-10-0-9-9.ec2.internal",
            "creationTimestamp": "2026-11-29T20:00:00Z",
            "labels": {"node.kubernetes.io/instance-type": "g5.xlarge"},
        },
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "lastTransitionTime": "2026-11-29T20:01:00Z",
                }
            ]
        },
    }
    return [node]


def test_cluster_without_karpenter_or_operator(capsys, start_sim):
    sim = start_sim(objects=_gpu_node_without_operator())
    code, doc = _diagnose(capsys, sim)
    reasons = {i["resource"]: i["message"] for i in doc["incomplete"]}
    assert reasons["nodepools.karpenter.sh"].startswith("Karpenter not installed")
    assert reasons["clusterpolicies.nvidia.com"].startswith("GPU Operator not installed")
    # The GPU node without a device plugin is the finding; missing CRDs alone are not a partial read.
    gpu101 = next(f for f in doc["findings"] if f["code"] == "GPU101")
    assert gpu101["subject"]["name"] == "ip-10-0-9-9.ec2.internal"
    assert code == 1
    assert _diagnose(capsys, sim, "--fail-on", "none")[0] == 0


def test_healthy_cluster_without_karpenter_exits_0(capsys, start_sim):
    sim = start_sim(
        objects=[
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "cpu-1"},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            }
        ]
    )
    code, doc = _diagnose(capsys, sim)
    assert code == 0 and doc["findings"] == []
    main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "--no-progress"])
    text = capsys.readouterr().out
    assert "No problems found." in text and "Not installed" in text and "Karpenter not installed" in text


def test_text_yaml_markdown_outputs(capsys, taint_sim):
    base = ["diagnose", "--kubeconfig", str(taint_sim.kubeconfig), "--no-progress"]
    assert main([*base, "-o", "text"]) == 1
    text = capsys.readouterr().out
    assert text.startswith(f"gputui diagnose  {taint_sim.context} (live) as of ")
    assert text.splitlines()[1] == f"server {taint_sim.url}"
    assert "ERROR (" in text and "GPU101 gpu-not-allocatable  Node ip-10-0-20-38" in text
    assert main([*base, "-o", "yaml"]) == 1
    assert yaml.safe_load(capsys.readouterr().out)["schema"] == "gputui.dev/diagnose/v1"
    assert main([*base, "-o", "markdown"]) == 1
    md = capsys.readouterr().out
    assert md.startswith(f"## gputui diagnose: {taint_sim.context}\n") and "| error | GPU101 |" in md


def test_progress_only_on_a_terminal(capsys, monkeypatch, taint_sim):
    main(["diagnose", "--kubeconfig", str(taint_sim.kubeconfig), "-o", "json"])
    assert capsys.readouterr().err == ""  # stderr is not a TTY under pytest

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    main(["diagnose", "--kubeconfig", str(taint_sim.kubeconfig), "-o", "json"])
    assert "gputui: reading " in tty.getvalue() and tty.getvalue().endswith("\r\x1b[K")
    tty2 = Tty()
    monkeypatch.setattr(sys, "stderr", tty2)
    main(["diagnose", "--kubeconfig", str(taint_sim.kubeconfig), "-o", "json", "--no-progress"])
    assert tty2.getvalue() == ""


def _failing_operand_pod() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "nvidia-device-plugin-daemonset-zz9kq",
            "namespace": "gpu-operator",
            "labels": {"app": "nvidia-device-plugin-daemonset"},
            "annotations": {
                "sim.gputui.dev/previous-log.nvidia-device-plugin": "E1130 main.go:132] nvml init failed: ERROR_LIBRARY_NOT_FOUND\n"
            },
        },
        "spec": {
            "nodeName": "ip-10-0-20-38.us-west-2.compute.internal",
            "containers": [
                {
                    "name": "nvidia-device-plugin",
                    "image": "nvcr.io/nvidia/k8s-device-plugin",
                    "env": [
                        {"name": "HF_TOKEN", "value": "hf_secret_value"},
                        {"name": "FROM_REF", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                    ],
                }
            ],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "nvidia-device-plugin",
                    "image": "x",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
                }
            ],
        },
    }


def test_snapshot_round_trip(capsys, start_sim, tmp_path):
    sim = start_sim(sources=[TAINT], objects=[_failing_operand_pod()], faults=Faults(forbid=("events",)))
    out = tmp_path / "snap.yaml"
    code = main(["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 3  # events were forbidden: a partial snapshot, said so
    assert f"to {out}" in err and "could not read events: Forbidden" in err

    doc = load_yaml(out.read_text())
    assert doc["kind"] == "List" and doc["apiVersion"] == "v1"
    kinds = [o["kind"] for o in doc["items"]]
    assert "Secret" not in kinds and kinds.index("CustomResourceDefinition") < kinds.index("NodePool")
    pod = next(o for o in doc["items"] if o["metadata"]["name"] == "nvidia-device-plugin-daemonset-zz9kq")
    env = pod["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "HF_TOKEN", "value": "(redacted by gputui snapshot)"}
    assert env[1]["valueFrom"]["secretKeyRef"]["name"] == "s"
    assert "hf_secret_value" not in out.read_text()
    assert "nvml init failed" in pod["metadata"]["annotations"]["sim.gputui.dev/previous-log.nvidia-device-plugin"]
    assert all("managedFields" not in o["metadata"] for o in doc["items"])

    _, live = _diagnose(capsys, sim, "--fail-on", "none")
    assert main(["diagnose", "--from", str(out), "-o", "json", "--fail-on", "none"]) == 3
    offline = json.loads(capsys.readouterr().out)
    assert offline["cluster"] == {"context": sim.context, "server": sim.url, "source": "snapshot"}
    assert offline["incomplete"] == live["incomplete"]
    assert _pairs(offline) == _pairs(live)

    # The simulator replays the snapshot, and a live run against the replay agrees too.
    replay = start_sim(sources=[str(out)])
    _, again = _diagnose(capsys, replay, "--fail-on", "none")
    assert _pairs(again) == _pairs(live)


def test_snapshot_json_when_asked(capsys, start_sim, tmp_path):
    sim = start_sim(objects=_gpu_node_without_operator())
    out = tmp_path / "snap.json"
    assert main(["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", str(out), "--no-progress"]) == 0
    doc = json.loads(out.read_text())
    assert doc["kind"] == "List"
    assert [o["metadata"]["name"] for o in doc["items"] if o["kind"] == "Node"] == ["ip-10-0-9-9.ec2.internal"]


def _expected_snapshot(sim, meta: dict, logs: dict) -> dict:
    """What `gputui snapshot` has always written, built here from the simulator's unpaged lists:
    full objects with kind/apiVersion, managedFields and last-applied dropped, env values
    redacted, log tails as annotations; the meta object, then CRDs, namespaces, the rest by name."""
    from checks.snapshot import KIND_TO_ATTR, RESOURCES
    from tests.helpers.sim import sim_http

    def redact(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "env" and isinstance(value, list):
                    for item in value:
                        if item.get("value") not in ("", None):
                            item["value"] = "(redacted by gputui snapshot)"
                else:
                    redact(value)
        elif isinstance(node, list):
            for item in node:
                redact(item)

    items = [meta]
    for attr in sorted(RESOURCES, key=lambda a: ({"crds": 0, "namespaces": 1}.get(a, 2), a)):
        group, version, plural = RESOURCES[attr]
        api_version = f"{group}/{version}" if group else version
        status, _, body = sim_http(sim, "GET", f"/apis/{api_version}/{plural}" if group else f"/api/v1/{plural}")
        assert status == 200, (attr, status)
        kind = next(k for k, a in KIND_TO_ATTR.items() if a == attr)
        for obj in json.loads(body)["items"]:
            obj.setdefault("apiVersion", api_version)
            obj.setdefault("kind", kind)
            obj["metadata"].pop("managedFields", None)
            obj["metadata"].get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
            redact(obj)
            for (ns, name, container, previous), text in logs.items():
                if kind == "Pod" and (obj["metadata"].get("namespace"), obj["metadata"]["name"]) == (ns, name):
                    prefix = "sim.gputui.dev/previous-log." if previous else "sim.gputui.dev/log."
                    obj["metadata"].setdefault("annotations", {})[prefix + container] = text
            items.append(obj)
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_streamed_snapshot_is_what_one_whole_dump_would_be(capsys, start_sim, tmp_path, monkeypatch, suffix):
    from gputui.kube import gather as gather_mod
    from gputui.kube.client import connect

    pod = _failing_operand_pod()
    pod["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = '{"env": "hf_secret"}'
    pod["metadata"]["annotations"]["note"] = "größe: 80 GiB " + "x" * 150  # wraps at width 120, not ASCII
    pod["metadata"]["annotations"]["sim.gputui.dev/log.nvidia-device-plugin"] = "I1130 main.go:250] Starting\n"
    sim = start_sim(sources=[TAINT], objects=[pod])
    logs = gather_mod.gather(connect(str(sim.kubeconfig))).logs
    assert len(logs) == 2
    # Small pages: lists span many pages and the pod held for its log tails sits inside one.
    monkeypatch.setattr(gather_mod, "PAGE_SIZE", 3)
    out = tmp_path / f"snap{suffix}"
    assert main(["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", str(out), "--no-progress"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no spool or .tmp left behind

    text = out.read_text(encoding="utf-8")
    meta = (json.loads(text) if suffix == ".json" else load_yaml(text))["items"][0]
    assert meta["metadata"]["name"] == "gputui-snapshot"
    assert (meta["data"]["context"], meta["data"]["server"], meta["data"]["incomplete"]) == (sim.context, sim.url, "[]")
    expected = _expected_snapshot(sim, meta, logs)
    assert len(expected["items"]) > 40
    # One item a line (JSON; in YAML as a flow mapping), which --from streams.
    lines = text.splitlines()
    if suffix == ".json":
        assert (lines[0], lines[-1]) == (
            '{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[',
            "]}",
        )
        items = [json.loads(line.removesuffix(",")) for line in lines[1:-1]]
        assert json.loads(text) == expected
    else:
        assert lines[:5] == ["apiVersion: v1", "kind: List", "metadata:", '  resourceVersion: ""', "items:"]
        items = [json.loads(line.removeprefix("- ")) for line in lines[5:]]
        assert yaml.load(text, Loader=yaml.CSafeLoader) == expected
    assert items == expected["items"]
    assert f"wrote {len(expected['items'])} objects" in capsys.readouterr().err


def test_snapshot_to_stdout_is_the_same_file(capsys, start_sim, tmp_path):
    sim = start_sim(sources=[TAINT])
    out = tmp_path / "snap.yaml"
    assert main(["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", "-", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    # Only the moment of gathering differs between the two runs.
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert stamp.sub("T", printed) == stamp.sub("T", out.read_text())


def test_failed_write_leaves_the_old_file_and_no_partial_one(capsys, start_sim, tmp_path, monkeypatch):
    from gputui.kube.snapshot_file import SnapshotWriter

    sim = start_sim(sources=[TAINT])
    out = tmp_path / "snap.yaml"
    out.write_text("yesterday's snapshot\n")
    real = SnapshotWriter._write_to
    seen_partial = []

    def disk_fills_up(self, write, *args):
        written = []

        def limited(data: bytes) -> None:
            if sum(written) > 4000:
                seen_partial.append(any(tmp_path.glob(".snap.yaml.*.tmp")))
                raise OSError(errno.ENOSPC, "No space left on device")
            written.append(len(data))
            write(data)

        real(self, limited, *args)

    monkeypatch.setattr(SnapshotWriter, "_write_to", disk_fills_up)
    code = main(["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", str(out), "--no-progress"])
    assert code == EXIT_INPUT and seen_partial == [True]
    assert f"cannot write {out}: No space left on device" in capsys.readouterr().err
    assert out.read_text() == "yesterday's snapshot\n"
    assert [p.name for p in tmp_path.iterdir()] == ["snap.yaml"]


def test_interrupted_snapshot_leaves_no_file(capsys, start_sim, tmp_path, monkeypatch):
    from gputui.commands.gathering import GatherProgress

    sim = start_sim(sources=[TAINT])

    def interrupt_on_pods(self, resource: str, count: int) -> None:
        if resource == "pods":
            raise KeyboardInterrupt

    monkeypatch.setattr(GatherProgress, "update", interrupt_on_pods)
    out = tmp_path / "snap.yaml"
    code = main(["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", str(out), "--no-progress"])
    assert code == EXIT_INTERRUPTED and "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_unwritable_target_fails_before_reading(capsys, start_sim, tmp_path):
    sim = start_sim(sources=[TAINT])
    code = main(
        ["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", str(tmp_path / "no" / "snap.yaml"), "--no-progress"]
    )
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and "cannot write" in err and "choose a writable path for -o" in err


def test_checks_list_and_explain(capsys):
    assert main(["checks", "list", "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    gpu101 = next(r for r in rows if r["code"] == "GPU101")
    assert (
        gpu101
        == {
            "code": "GPU101",
            "name": "gpu-not-allocatable",
            "severity": "error",
            "area": "nodes",
            "title": gpu101["title"],
            "module": "checks/nodes.py",
            "fixes": gpu101["fixes"],
        }
        and gpu101["title"]
        and "delete-nodeclaim" in gpu101["fixes"]
    )
    assert [r["code"] for r in rows] == sorted(r["code"] for r in rows)

    assert main(["checks", "list"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["CODE", "NAME", "SEVERITY", "AREA", "TITLE"]
    assert any(line.split()[:4] == ["GPU101", "gpu-not-allocatable", "error", "nodes"] for line in text.splitlines())

    assert main(["checks", "explain", "gpu-not-allocatable"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("GPU101 gpu-not-allocatable  (error, nodes)\n")
    for section in ("What it checks", "Why it matters", "How to fix"):
        assert f"\n{section}\n" in text

    assert main(["checks", "explain", "GPU000"]) == 2
    assert "unknown check: GPU000" in capsys.readouterr().err


def test_diagnose_as_a_real_process(taint_sim):
    proc = subprocess.run(
        [sys.executable, "-m", "gputui", "diagnose", "--kubeconfig", str(taint_sim.kubeconfig), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    assert {("GPU101", "Node", n) for n in TAINTED_NODES} <= _pairs(json.loads(proc.stdout))


def test_from_scenario_as_a_real_process():
    proc = subprocess.run(
        [sys.executable, "-m", "gputui", "diagnose", "--from", "healthy", "--fail-on", "warning"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No problems found." in proc.stdout or "0 errors · 0 warnings" in proc.stdout
    assert "(offline snapshot)" in proc.stdout.splitlines()[0]


def test_offline_diagnosis_and_check_listing_never_load_the_kubernetes_client():
    code = (
        "import sys\n"
        "from gputui.cli import main\n"
        "for argv in (['diagnose', '--from', 'healthy', '-o', 'json'], ['checks', 'list']):\n"
        "    main(argv)\n"
        "print('HEAVY=' + ','.join(m for m in ('kubernetes', 'textual') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "HEAVY="
