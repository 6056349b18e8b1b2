"""`gputui debug` through the CLI against the simulator: what GPU702 tells the on-call engineer
to do next names the driver pod that really runs on the node, or says there is none."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gputui.cli import main
from tests.helpers.debugpod import HOST, namespace, node, pods_left, poll_debug_pods_quickly, wait_no_pods
from tests.helpers.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]


def _driver_pod(on: str) -> dict:
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
    # The driver container runs (the GPU Operator manages the driver) but has not loaded it.
    node("gpu-opdrv", labels={"nvidia.com/gpu.deploy.driver": "true"}, nvidia_smi="driver-not-loaded"),
    _driver_pod("gpu-opdrv"),
    # The node image ships the driver: there is no driver pod to read.
    node("gpu-hostdrv", labels=HOST, nvidia_smi="driver-not-loaded"),
    node("gpu-mismatch", labels=HOST, nvidia_smi="version-mismatch"),
    node("gpu-fine", labels=HOST),
    node("gpu-xid", labels=HOST, xid="79"),
]


@pytest.fixture(autouse=True)
def _quick_polling(monkeypatch):
    poll_debug_pods_quickly(monkeypatch)


@pytest.fixture
def fleet(start_sim):
    return start_sim(objects=FLEET, behaviour=True)


def _gpu702(sim, capsys, node_name: str) -> str:
    code = main(["debug", "--kubeconfig", str(sim.kubeconfig), "--no-progress", node_name, "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 1, err
    [finding] = [f for f in json.loads(out)["findings"] if f["code"] == "GPU702"]
    return finding["message"]


def test_gpu702_next_step_names_the_driver_pod_on_the_node(fleet, capsys):
    message = _gpu702(fleet, capsys, "gpu-opdrv")
    step = message.split("Next step: ", 1)[1]
    assert "nvidia-driver-daemonset-pdrv" in step
    assert "`kubectl logs -n gpu-operator nvidia-driver-daemonset-pdrv --all-containers`" in step


def test_the_text_report_gives_the_same_next_step(fleet, capsys):
    code = main(["debug", "--kubeconfig", str(fleet.kubeconfig), "--no-progress", "gpu-hostdrv"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1
    assert "next step: no GPU Operator driver pod runs on this node" in out
    assert "nvidia-driver-daemonset pod's log" not in out


def test_gpu702_without_a_driver_pod_says_the_driver_is_on_the_host(fleet, capsys):
    for name in ("gpu-hostdrv", "gpu-mismatch"):
        step = _gpu702(fleet, capsys, name).split("Next step: ", 1)[1]
        assert "no GPU Operator driver pod runs on this node" in step
        assert "nvidia-driver-daemonset" not in step  # no pod that does not exist


def test_debug_all_prints_a_summary_failures_first_then_the_detail(fleet, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code = main(["debug", "--kubeconfig", str(fleet.kubeconfig), "--no-progress", "--all"])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "nvidia-smi on 5 node(s): 3 failed, 1 with problems, 1 fine"
    summary = lines[1 : lines.index("")]
    assert [line.split()[:2] for line in summary if not line.startswith("         ")] == [
        ["FAILED", "gpu-hostdrv"],
        ["FAILED", "gpu-mismatch"],
        ["FAILED", "gpu-opdrv"],
        ["ERROR", "gpu-xid"],
        ["ok", "gpu-fine"],
    ]
    assert "GPU706" in summary[3]
    # Then one block per node, the detail, in the same order.
    blocks = [
        out.index(f"\n{name}  (mode ") for name in ("gpu-hostdrv", "gpu-mismatch", "gpu-opdrv", "gpu-xid", "gpu-fine")
    ]
    assert blocks == sorted(blocks) and blocks[0] > out.index(summary[-1])
    assert all(len(line) <= 80 for line in summary)


def test_ctrl_c_prints_what_the_finished_nodes_found(start_sim, monkeypatch):
    from gputui.sim import behaviour, nvsmi

    real = nvsmi.run_container

    def run_container(node, argv, **kw):
        # gpu-fine answers at once; the others keep nvidia-smi running until interrupted.
        behaviour.RUN_SECONDS = 0.1 if node["metadata"]["name"] == "gpu-fine" else 60.0
        return real(node, argv, **kw)

    monkeypatch.setattr(nvsmi, "run_container", run_container)
    monkeypatch.setattr(behaviour, "RUN_SECONDS", 0.1)
    sim = start_sim(objects=[namespace("default"), node("gpu-fine", labels=HOST), *FLEET[4:6]], behaviour=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    argv = [sys.executable, "-m", "gputui", "debug", "--all", "--no-progress", "--kubeconfig", str(sim.kubeconfig)]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:

        def only_the_slow_ones_run() -> bool:
            pods = pods_left(sim)
            running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
            return len(pods) == len(running) == 2

        assert wait_until(only_the_slow_ones_run, timeout=20), "the fast node never finished"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted; deleted 2 debug pod(s)" in err
    lines = out.splitlines()
    assert lines[0] == "nvidia-smi on 1 node(s): 0 failed, 0 with problems, 1 fine"
    assert lines[1].startswith("interrupted: 1 of 3 node(s) finished")
    assert "gpu-fine  (mode host" in out and "nvidia-smi sees 1 GPU(s)" in out
    assert wait_no_pods(sim) == []
