"""`gputui debug` on simulated nodes whose nvidia-smi cannot reach the GPUs for access reasons
(Insufficient Permissions, GPU access blocked): a GPU702 failure that names the pod's device access
and never blames a lost GPU."""

from __future__ import annotations

import json

import pytest

from gputui.cli import main
from tests.helpers.debugpod import HOST, namespace, node, poll_debug_pods_quickly, wait_no_pods

FLEET = [
    namespace("default"),
    node("gpu-perm", labels=HOST, nvidia_smi="insufficient-permissions"),
    node("gpu-blocked", labels=HOST, nvidia_smi="access-blocked"),
]


@pytest.fixture(autouse=True)
def _quick_polling(monkeypatch):
    poll_debug_pods_quickly(monkeypatch)


@pytest.mark.parametrize(
    "name, kind, words",
    [
        ("gpu-perm", "nvml-no-permission", "Insufficient Permissions"),
        ("gpu-blocked", "gpu-access-blocked", "GPU access blocked by the operating system"),
    ],
)
def test_access_failure_is_a_failure_finding_about_access(start_sim, capsys, name, kind, words):
    sim = start_sim(objects=FLEET, behaviour=True)
    code = main(["debug", "--kubeconfig", str(sim.kubeconfig), "--no-progress", name, "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    [n] = doc["nodes"]
    assert n["nvidiaSmi"]["gpus"] == [] and n["nvidiaSmi"]["failure"]["kind"] == kind
    [f] = doc["findings"]
    assert f["code"] == "GPU702" and f["severity"] == "error"
    assert words in "\n".join(f["evidence"])
    assert "not at fault" in f["message"] and "fell off" not in f["message"]
    assert wait_no_pods(sim) == []
