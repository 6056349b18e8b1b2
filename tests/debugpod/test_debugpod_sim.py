"""`gputui debug` against the simulator over HTTP: one node, a mixed fleet, a node whose GPUs are all
taken, a namespace that forbids privileged pods, Ctrl-C mid-run, and leftover cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gputui.cli import main
from tests.helpers.debugpod import HOST, namespace, node, pods_left, poll_debug_pods_quickly, wait_no_pods
from tests.helpers.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]


def gpu_workload(name: str, on: str) -> dict:
    """A running pod holding the node's only GPU (scripted: the simulator leaves it as it is)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "nodeName": on,
            "containers": [{"name": "train", "image": "trainer:1", "resources": {"limits": {"nvidia.com/gpu": "1"}}}],
        },
        "status": {"phase": "Running"},
    }


def driver_pod(on: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"nvidia-driver-daemonset-{on[-4:]}",
            "namespace": "gpu-operator",
            "labels": {"app": "nvidia-driver-daemonset"},
        },
        "spec": {"nodeName": on, "containers": [{"name": "nvidia-driver-ctr", "image": "nvcr.io/nvidia/driver"}]},
        "status": {"phase": "Running"},
    }


FLEET = [
    namespace("default"),
    namespace("gpu-operator"),
    node("gpu-ok", labels=HOST, driver_root="host"),
    node("gpu-operator-1", "g5.12xlarge", 4, driver_root="operator"),
    driver_pod("gpu-operator-1"),
    node("gpu-nodriver", labels=HOST, nvidia_smi="driver-not-loaded"),
    node("gpu-nvml", labels=HOST, nvidia_smi="nvml-unknown-error"),
    node("gpu-missing", "g5.12xlarge", 3, labels=HOST, nvidia_smi="gpu-missing"),
    node("gpu-xid", labels=HOST, xid="79", ecc="1,3"),
    node("cpu-1", "m5.large", 0),
]


def run_cli(sim, *args, capsys) -> tuple[int, str, str]:
    code = main(["debug", "--kubeconfig", str(sim.kubeconfig), "--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _quick_polling(monkeypatch):
    poll_debug_pods_quickly(monkeypatch)


@pytest.fixture
def fleet(start_sim):
    return start_sim(objects=FLEET, behaviour=True)


def test_single_node(fleet, capsys):
    code, out, err = run_cli(fleet, "gpu-ok", "-o", "json", capsys=capsys)
    doc = json.loads(out)
    assert code == 0, err
    assert doc["namespace"] == "default" and "no gputui-debug namespace" in doc["namespaceReason"]
    [n] = doc["nodes"]
    assert n["node"] == "gpu-ok" and n["mode"] == "host"
    assert "nvidia.com/gpu.deploy.driver=false" in n["modeReason"]
    assert (n["expectedGpus"], n["expectedSource"], n["allocatableGpus"], n["seenGpus"]) == (
        1,
        "instance type g5.xlarge",
        1,
        1,
    )
    gpu = n["nvidiaSmi"]["gpus"][0]
    assert (gpu["name"], gpu["bus_id"], gpu["memory_total_mib"], gpu["ecc_volatile_uncorrected"]) == (
        "NVIDIA A10G",
        "00000000:00:1E.0",
        23028,
        0,
    )
    assert n["podProblem"] is None and doc["findings"] == []
    assert wait_no_pods(fleet) == []


def test_text_output_names_mode_and_table(fleet, capsys):
    code, out, _ = run_cli(fleet, "gpu-operator-1", capsys=capsys)
    assert code == 0
    assert "gpu-operator-1  (mode operator-driver: GPU Operator driver pod nvidia-driver-daemonset-or-1 runs" in out
    assert "nvidia-smi sees 4 GPU(s), 4 expected (instance type g5.12xlarge), allocatable 4" in out
    assert out.count("NVIDIA A10G") == 4 and "No problems found." in out


def test_all_over_a_mixed_fleet(fleet, capsys):
    live, peak = set(), [0]

    def count(event, rt, obj):
        if rt.kind == "Pod" and (obj["metadata"].get("labels") or {}).get("gputui.dev/debug") == "true":
            (live.discard if event == "DELETED" else live.add)(obj["metadata"]["name"])
            peak[0] = max(peak[0], len(live))

    fleet.store.subscribe(count)
    code, out, err = run_cli(fleet, "--all", "--concurrency", "2", "-o", "json", capsys=capsys)
    doc = json.loads(out)
    assert code == 1
    nodes = {n["node"]: n for n in doc["nodes"]}
    assert set(nodes) == {"gpu-ok", "gpu-operator-1", "gpu-nodriver", "gpu-nvml", "gpu-missing", "gpu-xid"}
    assert 1 <= peak[0] <= 2
    failure = {k: (v["nvidiaSmi"]["failure"] or {}).get("kind") for k, v in nodes.items()}
    assert failure == {
        "gpu-ok": None,
        "gpu-operator-1": None,
        "gpu-nodriver": "driver-not-loaded",
        "gpu-nvml": "nvml-unknown-error",
        "gpu-missing": None,
        "gpu-xid": None,
    }
    assert nodes["gpu-missing"]["seenGpus"] == 3 and nodes["gpu-missing"]["expectedGpus"] == 4
    found = sorted((f["code"], f["subject"]["name"], f["severity"]) for f in doc["findings"])
    assert found == [
        ("GPU702", "gpu-nodriver", "error"),
        ("GPU702", "gpu-nvml", "error"),
        ("GPU703", "gpu-missing", "error"),
        ("GPU705", "gpu-xid", "error"),
        ("GPU706", "gpu-xid", "error"),
        ("GPU707", "gpu-xid", "warning"),
    ]
    xid = next(f for f in doc["findings"] if f["code"] == "GPU706")
    assert (
        "Xid 79" in xid["title"] and "fallen off the bus" in xid["message"] and "replace the instance" in xid["message"]
    )
    missing = next(f for f in doc["findings"] if f["code"] == "GPU703")
    assert "3 of 4" in missing["title"] and "instance type g5.12xlarge" in missing["message"]
    assert wait_no_pods(fleet) == []


def test_nodepool_selects_its_nodes(start_sim, capsys):
    sim = start_sim(
        objects=[
            namespace("default"),
            node("pool-a-1", labels={"karpenter.sh/nodepool": "a", **HOST}),
            node("pool-b-1", labels={"karpenter.sh/nodepool": "b", **HOST}),
        ],
        behaviour=True,
    )
    code, out, _ = run_cli(sim, "--nodepool", "a", "-o", "json", capsys=capsys)
    assert code == 0 and [n["node"] for n in json.loads(out)["nodes"]] == ["pool-a-1"]


def test_node_with_every_gpu_allocated(start_sim, capsys):
    sim = start_sim(
        objects=[namespace("default"), node("gpu-full", labels=HOST), gpu_workload("train-0", "gpu-full")],
        behaviour=True,
    )
    code, out, _ = run_cli(sim, "gpu-full", "-o", "json", capsys=capsys)
    [n] = json.loads(out)["nodes"]
    assert code == 0 and n["seenGpus"] == 1 and n["podProblem"] is None  # no GPU requested: admitted anyway
    code, out, _ = run_cli(sim, "gpu-full", "--request-gpu", "-o", "json", capsys=capsys)
    doc = json.loads(out)
    [n] = doc["nodes"]
    assert code == 1
    assert n["podProblem"]["kind"] == "admission"
    assert n["podProblem"]["message"].startswith(
        "UnexpectedAdmissionError: Allocate failed due to requested number of devices unavailable for nvidia.com/gpu"
    )
    assert "run without --request-gpu" in n["podProblem"]["hint"]
    assert [f["code"] for f in doc["findings"]] == ["GPU701"]
    assert wait_no_pods(sim) == []


def test_namespace_that_forbids_privileged_pods(start_sim, capsys):
    sim = start_sim(
        objects=[
            namespace("default"),
            namespace("gputui-debug", **{"pod-security.kubernetes.io/enforce": "baseline"}),
            node("gpu-ok", labels=HOST),
        ],
        behaviour=True,
    )
    code, out, _ = run_cli(sim, "gpu-ok", "-o", "json", capsys=capsys)
    doc = json.loads(out)
    assert code == 1 and doc["namespace"] == "gputui-debug"
    problem = doc["nodes"][0]["podProblem"]
    assert problem["kind"] == "forbidden-podsecurity"
    assert problem["message"] == (
        'pods "{}" is forbidden: violates PodSecurity "baseline:latest": privileged (container "nvidia-smi" must not '
        'set securityContext.privileged=true), hostPath volumes (volume "driver-root")'.format(
            f"gputui-smi-gpu-ok-{doc['runId']}"
        )
    )
    assert (
        "kubectl label namespace gputui-debug pod-security.kubernetes.io/enforce=privileged --overwrite"
        in problem["hint"]
    )
    # The runtime mode is unprivileged and passes the same namespace.
    code, out, _ = run_cli(sim, "gpu-ok", "--mode", "runtime", "-o", "json", capsys=capsys)
    [n] = json.loads(out)["nodes"]
    assert code == 0 and n["mode"] == "runtime" and n["seenGpus"] == 1
    assert n["nvidiaSmi"]["kernelReadable"] is True  # the simulator does not model dmesg permissions
    assert pods_left(sim) == [] or wait_no_pods(sim) == []


def test_print_creates_nothing(fleet, capsys):
    import yaml

    code, out, _ = run_cli(fleet, "gpu-ok", "gpu-operator-1", "--print", capsys=capsys)
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert code == 0 and [d["spec"]["nodeName"] for d in docs] == ["gpu-ok", "gpu-operator-1"]
    assert docs[1]["spec"]["volumes"][0]["hostPath"]["path"] == "/run/nvidia/driver"
    assert docs[0]["spec"]["tolerations"] == [{"operator": "Exists"}]
    assert pods_left(fleet) == []


def test_bad_input(fleet, capsys):
    assert run_cli(fleet, "gpu-ok", "--all", capsys=capsys)[0] == 2
    code, _, err = run_cli(fleet, "no-such-node", capsys=capsys)
    assert code == 6 and "node no-such-node not found" in err and "Traceback" not in err
    assert run_cli(fleet, capsys=capsys)[0] == 2


def test_ctrl_c_deletes_every_pod(fleet, monkeypatch):
    from gputui.sim import behaviour

    monkeypatch.setattr(behaviour, "RUN_SECONDS", 60.0)  # nvidia-smi keeps running until interrupted
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gputui",
            "debug",
            "--all",
            "--concurrency",
            "3",
            "--no-progress",
            "--kubeconfig",
            str(fleet.kubeconfig),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def running() -> int:
            return sum((p.get("status") or {}).get("phase") == "Running" for p in pods_left(fleet))

        assert wait_until(lambda: running() >= 3, timeout=20), "debug pods never ran"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted; deleted 3 debug pod(s)" in err
    assert wait_no_pods(fleet) == []


def test_leftover_pods_are_found_and_removed(start_sim, capsys):
    def leftover(name: str, deadline: str) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "default",
                "labels": {
                    "app.kubernetes.io/managed-by": "gputui",
                    "gputui.dev/debug": "true",
                    "gputui.dev/run-id": "old111",
                },
                "annotations": {"gputui.dev/deadline": deadline, "gputui.dev/node": "gpu-ok"},
            },
            "spec": {
                "nodeName": "gpu-ok",
                "restartPolicy": "Never",
                "activeDeadlineSeconds": 120,
                "containers": [{"name": "nvidia-smi", "image": "busybox"}],
            },
            "status": {"phase": "Failed", "reason": "DeadlineExceeded"},
        }

    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    sim = start_sim(
        objects=[
            namespace("default"),
            node("gpu-ok", labels=HOST),
            leftover("gputui-smi-gpu-ok-old111", "2026-01-01T00:00:00Z"),
            leftover("gputui-smi-gpu-ok-live22", future),
        ],
        behaviour=True,
    )
    code, _, err = run_cli(sim, "gpu-ok", capsys=capsys)
    assert code == 0
    assert "1 leftover debug pod(s)" in err and "default/gputui-smi-gpu-ok-old111" in err
    assert "gputui debug --cleanup" in err
    code, out, _ = run_cli(sim, "--cleanup", capsys=capsys)
    assert code == 0 and out.startswith("deleted default/gputui-smi-gpu-ok-old111 (node gpu-ok, Failed")
    names = [p["metadata"]["name"] for p in wait_no_pods(sim, seconds=1.0, but=("gputui-smi-gpu-ok-live22",))]
    assert names == ["gputui-smi-gpu-ok-live22"]  # not past its deadline: maybe another run's
    code, out, _ = run_cli(sim, "--cleanup", capsys=capsys)
    assert code == 0 and "1 debug pod(s) of runs that may still be running" in out
    assert "gputui-smi-gpu-ok-live22" in out and "no owner recorded" in out and "pass --yes" in out
    assert [p["metadata"]["name"] for p in pods_left(sim)] == ["gputui-smi-gpu-ok-live22"]
    code, out, _ = run_cli(sim, "--cleanup", "--yes", capsys=capsys)
    assert code == 0 and "deleted default/gputui-smi-gpu-ok-live22" in out
    assert wait_no_pods(sim) == []
    code, out, _ = run_cli(sim, "--cleanup", capsys=capsys)
    assert code == 0 and out == "No leftover gputui debug pods.\n"
