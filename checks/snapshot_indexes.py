"""Indexes derived from a snapshot once and shared by every check (cached on the snapshot)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from checks.kinds import Object

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

T = TypeVar("T")
_MISSING: Any = object()


def memo(snapshot: ClusterSnapshot, key: str, build: Callable[[], T]) -> T:
    """Cache a derived index on the snapshot (as cached_property does) so checks share it."""
    cache = snapshot.__dict__.get("_derived_indexes")
    if cache is None:
        cache = snapshot.__dict__["_derived_indexes"] = {}
    found: T = cache.get(key, _MISSING)
    if found is _MISSING:
        found = cache[key] = build()
    return found


def nodeclaim_by_name(snapshot: ClusterSnapshot) -> dict[str, Object]:
    return memo(snapshot, "nodeclaim_by_name", lambda: {nc.metadata.name: nc for nc in snapshot.nodeclaims})


def objects_by_ns_name(snapshot: ClusterSnapshot, attr: str) -> dict[tuple[str, str], Object]:
    return memo(
        snapshot,
        f"{attr}_by_key",
        lambda: {(o.metadata.namespace or "", o.metadata.name): o for o in getattr(snapshot, attr)},
    )
