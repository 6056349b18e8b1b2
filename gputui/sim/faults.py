"""Injected misbehaviour: slow answers, flaky reads, RBAC holes, expired continue tokens.

A `Faults` instance is read on every request, so tests may change its fields while the
simulator runs (for example to forbid `events` half-way through a gathering).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_rate: float = 0.0  # fraction of reads answered 500/503
    forbid: tuple[str, ...] = ()  # "nodeclaims", "nodeclaims.karpenter.sh", "events"
    expire_continue: bool = False
    # Per request kind, "METHOD resource" with the resource as RBAC names it ("DELETE pods",
    # "GET pods/log", "POST pods"): extra latency in ms, and how many more such requests answer
    # 503 (-1: every one).
    slow: dict[str, float] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    # Writes (POST/PUT/PATCH/DELETE) are held this long after their body is read, before they
    # are applied: a client killed meanwhile leaves a change that lands without its answer.
    write_latency_ms: float = 0.0
    writes_received: int = 0  # counted before the hold, so a test knows a write is in flight
    # Reads of these resources ("pods", "pods/log", "nodeclaims.karpenter.sh") never answer: the
    # request hangs until `release()` (or an hour), as behind a stalled proxy or a wedged server.
    stall: tuple[str, ...] = ()
    # Reads of these resources are always answered 503 (error_rate picks reads at random instead).
    unavailable: tuple[str, ...] = ()
    stalled: int = 0  # how many requests have been stalled so far
    # How many more watch requests find their resourceVersion compacted away (410 Gone), as a
    # client that was away longer than etcd keeps history does.
    expire_watches: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    _released: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.forbid = normalize_forbid(self.forbid)
        self.stall = normalize_forbid(self.stall)
        self.unavailable = normalize_forbid(self.unavailable)

    def stalls(self, plural: str, group: str, sub: str | None = None) -> bool:
        return _names(plural, group, sub) & set(normalize_forbid(self.stall)) != set()

    def wait_stalled(self) -> None:
        """Hang the request (the handler thread) until release()."""
        self.stalled += 1
        self._released.wait(3600)

    def release(self) -> None:
        """Let every stalled request go on (and stall no more)."""
        self.stall = ()
        self._released.set()

    def is_unavailable(self, plural: str, group: str, sub: str | None = None) -> bool:
        return _names(plural, group, sub) & set(normalize_forbid(self.unavailable)) != set()

    def forbids(self, plural: str, group: str) -> bool:
        names = normalize_forbid(self.forbid)
        return plural in names or (bool(group) and f"{plural}.{group}" in names)

    def fail_read(self) -> int:
        """0 to answer normally, else the 5xx status to answer this read with."""
        if self.error_rate <= 0 or self._rng.random() >= self.error_rate:
            return 0
        return self._rng.choice((500, 503))

    def take_expired_watch(self) -> bool:
        with self._lock:
            if self.expire_watches <= 0:
                return False
            self.expire_watches -= 1
            return True

    def request_fault(self, method: str, resource: str) -> int:
        """Sleep the latency set for this request kind; 503 when it is to fail, else 0."""
        key = f"{method} {resource}"
        delay = self.slow.get(key)
        if delay:
            time.sleep(delay / 1000.0)
        with self._lock:
            left = self.fail.get(key, 0)
            if left > 0:
                self.fail[key] = left - 1
        return 503 if left else 0


def _names(plural: str, group: str, sub: str | None) -> set[str]:
    """The names a fault may give a resource by: `pods`, `pods/log`, `nodeclaims.karpenter.sh`."""
    base = {plural, f"{plural}.{group}"} if group else {plural}
    return {f"{b}/{sub}" for b in base} if sub else base


def normalize_forbid(value: Iterable[str] | str | None) -> tuple[str, ...]:
    """Accept "a,b", ["a", "b"] or None; resource names compare case-insensitively."""
    if not value:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip().lower() for v in value if v and v.strip())
