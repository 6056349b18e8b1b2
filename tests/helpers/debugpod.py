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


def gpu_fleet(count: int) -> list[dict]:
    """`count` one-GPU nodes whose node image ships the driver, and the default namespace."""
    return [namespace("default")] + [node(f"gpu-{i}", labels=HOST) for i in range(count)]


class DebugProcess:
    """A real `gputui debug ...` subprocess against `sim`; its stderr lines are collected as they come."""

    def __init__(self, sim, *args: str):
        import os
        import subprocess
        import sys
        import threading
        from pathlib import Path

        root = Path(__file__).resolve().parents[2]
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gputui", "debug", "--no-progress", "--kubeconfig", str(sim.kubeconfig), *args],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def said(self, text: str, timeout: float = 20.0) -> bool:
        return bool(wait_until(lambda: text in self.stderr, timeout=timeout))

    def finish(self, timeout: float = 30.0) -> int:
        """Wait for the exit (killing it after `timeout`); returns the exit code."""
        import subprocess

        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)
        return self.proc.returncode

    def __enter__(self) -> DebugProcess:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.finish()
