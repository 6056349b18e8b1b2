"""`gputui debug` through the CLI against the simulator: what GPU702 tells the on-call engineer
to do next names the driver pod that really runs on the node, or says there is none."""

from __future__ import annotations

import json

import pytest

from gputui.cli import main
from tests.helpers.debugpod import HOST, namespace, node, poll_debug_pods_quickly


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


def test_gpu702_without_a_driver_pod_says_the_driver_is_on_the_host(fleet, capsys):
    for name in ("gpu-hostdrv", "gpu-mismatch"):
        step = _gpu702(fleet, capsys, name).split("Next step: ", 1)[1]
        assert "no GPU Operator driver pod runs on this node" in step
        assert "nvidia-driver-daemonset" not in step  # no pod that does not exist
