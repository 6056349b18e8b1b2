"""Nodes and namespaces for debug-pod tests, and waiting for gputui's debug pods to go."""

from __future__ import annotations

from tests.helpers.wait import wait_until

SEL = "gputui.dev/debug=true"


def node(name: str, instance_type: str = "g5.xlarge", gpus: int = 1, labels=None, **ann) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "node.kubernetes.io/instance-type": instance_type,
                "kubernetes.io/hostname": name,
                **(labels or {}),
            },
            "annotations": {f"sim.gputui.dev/{k.replace('_', '-')}": v for k, v in ann.items()},
        },
        "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}] if gpus else []},
        "status": {
            "allocatable": {"cpu": "3920m", "memory": "14162Mi", "pods": "58", "nvidia.com/gpu": str(gpus)},
            "capacity": {"cpu": "4", "memory": "15896Mi", "pods": "58", "nvidia.com/gpu": str(gpus)},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def namespace(name: str, **labels) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


HOST = {"nvidia.com/gpu.deploy.driver": "false"}


def pods_left(sim) -> list[dict]:
    return sim.store.list(sim.store.type_for("v1", "Pod"), label_selector=SEL)[0]


def wait_no_pods(sim, seconds: float = 5.0, but: tuple[str, ...] = ()) -> list[dict]:
    """The debug pods left once only those named in `but` are (or after `seconds`)."""

    def names() -> list[str]:
        return sorted(p["metadata"]["name"] for p in pods_left(sim))

    wait_until(lambda: names() == sorted(but), timeout=seconds)
    return pods_left(sim)


def poll_debug_pods_quickly(monkeypatch, seconds: float = 0.02) -> None:
    """Debug runners made from here on poll their pods every `seconds` at first (0.25 s in
    gputui, growing 1.5x per poll): the simulated pods finish within a second, and the tests
    would otherwise spend most of their time between polls. Runners given an explicit
    poll_seconds keep it."""
    from gputui.debugpod import runner

    class QuickRunner(runner.DebugRunner):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("poll_seconds", seconds)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(runner, "DebugRunner", QuickRunner)
