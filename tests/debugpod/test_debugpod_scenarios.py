"""`gputui debug --all` on the built-in nvidia-smi-failures scenario: three nodes the API shows as
healthy fail nvidia-smi in three ways, and each is told apart (an access or permission failure is
not a GPU off the bus; NVML's Unknown Error names the cgroup cause first and Xid 79 as the other)."""

from __future__ import annotations

import json

from gputui.cli import main
from tests.helpers.debugpod import poll_debug_pods_quickly, wait_no_pods

BROKEN = {
    "ip-10-0-5-96.us-west-2.compute.internal": "device files",
    "ip-10-0-49-151.us-west-2.compute.internal": "operating system",
    "ip-10-0-84-128.us-west-2.compute.internal": "daemon-reload",
}


def test_each_nvidia_smi_failure_is_told_apart(start_sim, capsys, monkeypatch):
    poll_debug_pods_quickly(monkeypatch)
    sim = start_sim(sources=["nvidia-smi-failures"], behaviour=True)
    code = main(["debug", "--all", "--kubeconfig", str(sim.kubeconfig), "--no-progress", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    by_node = {f["subject"]["name"]: f for f in doc["findings"]}
    assert set(by_node) == set(BROKEN), "the two healthy GPU nodes have no finding"
    for node, words in BROKEN.items():
        finding = by_node[node]
        assert finding["code"] == "GPU702" and finding["severity"] == "error"
        assert words in finding["message"]
        if words != "daemon-reload":  # an access failure is never a GPU off the bus
            assert "fell off the bus" not in finding["message"].lower()
    assert wait_no_pods(sim) == []


def test_the_api_alone_sees_nothing_wrong(start_sim, capsys):
    sim = start_sim(sources=["nvidia-smi-failures"])
    code = main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "--no-progress", "-o", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 0 and [f for f in findings if f["severity"] != "info"] == []
