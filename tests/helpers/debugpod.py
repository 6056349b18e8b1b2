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


def wait_no_pods(sim, seconds: float = 5.0) -> list[dict]:
    wait_until(lambda: not pods_left(sim), timeout=seconds)
    return pods_left(sim)
