"""Injected misbehaviour: slow answers, flaky reads, RBAC holes, expired continue tokens.

A `Faults` instance is read on every request, so tests may change its fields while the
simulator runs (for example to forbid `events` half-way through a gathering).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_rate: float = 0.0  # fraction of reads answered 500/503
    forbid: tuple[str, ...] = ()  # "nodeclaims", "nodeclaims.karpenter.sh", "events"
    expire_continue: bool = False
    # Writes (POST/PUT/PATCH/DELETE) are held this long after their body is read, before they
    # are applied: a client killed meanwhile leaves a change that lands without its answer.
    write_latency_ms: float = 0.0
    writes_received: int = 0  # counted before the hold, so a test knows a write is in flight
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.forbid = normalize_forbid(self.forbid)

    def forbids(self, plural: str, group: str) -> bool:
        names = normalize_forbid(self.forbid)
        return plural in names or (bool(group) and f"{plural}.{group}" in names)

    def fail_read(self) -> int:
        """0 to answer normally, else the 5xx status to answer this read with."""
        if self.error_rate <= 0 or self._rng.random() >= self.error_rate:
            return 0
        return self._rng.choice((500, 503))


def normalize_forbid(value: Iterable[str] | str | None) -> tuple[str, ...]:
    """Accept "a,b", ["a", "b"] or None; resource names compare case-insensitively."""
    if not value:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip().lower() for v in value if v and v.strip())
