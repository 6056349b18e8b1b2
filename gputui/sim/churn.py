"""Pods and nodes that come and go at a steady rate, for benchmarks of the app's live view.

`parse_churn("pods=50/s,nodes=1/min")` reads the rates; `Churn` creates that many pods (bound
to existing nodes, Running, as a scenario would list them) and nodes per second, and deletes
the oldest of its own once `keep` of each exist, so the store stays the same size however
long it runs. Names and choices come from a seeded random generator: the same seed gives
the same objects in the same order.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from gputui.errors import InputError

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_RATE = re.compile(r"^\s*(pods|nodes)\s*=\s*(\d+(?:\.\d+)?)\s*/\s*([a-z]+)\s*$")
NAMESPACE = "churn"


@dataclass(frozen=True)
class ChurnRates:
    pods_per_second: float = 0.0
    nodes_per_second: float = 0.0


def parse_churn(text: str) -> ChurnRates:
    """'pods=50/s,nodes=1/min' -> rates per second."""
    rates = {"pods": 0.0, "nodes": 0.0}
    for part in [p for p in text.split(",") if p.strip()]:
        m = _RATE.match(part)
        if not m or m.group(3) not in _UNITS:
            raise InputError(
                f"--churn {text!r}: cannot read {part.strip()!r}",
                hint="e.g. --churn pods=50/s,nodes=1/min (units: s, min, h)",
            )
        rates[m.group(1)] = float(m.group(2)) / _UNITS[m.group(3)]
    if not any(rates.values()):
        raise InputError(f"--churn {text!r}: no rate above zero", hint="e.g. --churn pods=50/s,nodes=1/min")
    return ChurnRates(rates["pods"], rates["nodes"])


class Churn:
    """Creates and deletes pods and nodes in `store` at `rates`; `step(now)` catches up to `now`."""

    def __init__(
        self,
        store,
        rates: ChurnRates,
        *,
        seed: int = 0,
        keep_pods: int = 500,
        keep_nodes: int = 5,
        clock: Callable[[], float] = time.time,
        tick_seconds: float = 0.05,
    ):
        self.store = store
        self.rates = rates
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.keep_pods, self.keep_nodes = keep_pods, keep_nodes
        self.created = {"pods": 0, "nodes": 0}
        self.deleted = {"pods": 0, "nodes": 0}
        self._rng = random.Random(seed)
        self._pods_rt = store.type_for("v1", "Pod")
        self._nodes_rt = store.type_for("v1", "Node")
        self._live: dict[str, deque[str]] = {"pods": deque(), "nodes": deque()}
        self._due = {"pods": 0.0, "nodes": 0.0}
        self._started: float | None = None
        self._nodes = [e.obj["metadata"]["name"] for e in store.select(self._nodes_rt).entries]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ensure_namespace()

    def _ensure_namespace(self) -> None:
        rt = self.store.type_for("v1", "Namespace")
        try:
            self.store.entry(rt, None, NAMESPACE)
        except Exception:
            self.store.create(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": NAMESPACE, "labels": {"kubernetes.io/metadata.name": NAMESPACE}},
                }
            )

    def start(self) -> Churn:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="sim-churn", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            self.step()

    def step(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        if self._started is None:
            self._started = now
        elapsed = now - self._started
        for what, rate in (("pods", self.rates.pods_per_second), ("nodes", self.rates.nodes_per_second)):
            if rate <= 0:
                continue
            want = int(elapsed * rate) + 1  # the first change comes at once
            while self.created[what] < want and not self._stop.is_set():
                self._add_node() if what == "nodes" else self._add_pod()
                keep = self.keep_nodes if what == "nodes" else self.keep_pods
                while len(self._live[what]) > keep:
                    self._remove(what)

    # -- changes ----------------------------------------------------------------------------

    def _stamp(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock()))

    def _add_pod(self) -> None:
        n = self.created["pods"]
        name = f"churn-{n:07d}-{self._rng.randrange(16**5):05x}"
        nodes = self._nodes + list(self._live["nodes"])
        node = self._rng.choice(nodes) if nodes else None
        stamp = self._stamp()
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": "churn"}},
            "spec": {
                "containers": [
                    {
                        "name": "work",
                        "image": "public.ecr.aws/docker/library/busybox:1.36",
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                    }
                ],
                **({"nodeName": node} if node else {}),
            },
            "status": {
                "phase": "Running" if node else "Pending",
                "startTime": stamp,
                "conditions": [{"type": "Ready", "status": "True" if node else "False", "lastTransitionTime": stamp}],
            },
        }
        self.store.create(pod)
        self.created["pods"] += 1
        self._live["pods"].append(name)

    def _add_node(self) -> None:
        n = self.created["nodes"]
        name = f"ip-10-9-{n // 250 % 250}-{n % 250 + 1}.churn.internal"
        stamp = self._stamp()
        self.store.create(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "node.kubernetes.io/instance-type": self._rng.choice(["m7i.xlarge", "m7i.2xlarge"]),
                        "kubernetes.io/os": "linux",
                    },
                },
                "spec": {},
                "status": {
                    "capacity": {"cpu": "4", "memory": "16Gi", "pods": "58"},
                    "allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "58"},
                    "conditions": [
                        {"type": "Ready", "status": "True", "reason": "KubeletReady", "lastTransitionTime": stamp}
                    ],
                },
            }
        )
        self.created["nodes"] += 1
        self._live["nodes"].append(name)

    def _remove(self, what: str) -> None:
        name = self._live[what].popleft()
        try:
            if what == "nodes":
                self.store.delete(self._nodes_rt, None, name)
            else:
                self.store.delete(self._pods_rt, NAMESPACE, name)
        except Exception:
            return
        self.deleted[what] += 1
