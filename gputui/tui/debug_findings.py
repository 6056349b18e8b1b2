"""Findings from nvidia-smi debug runs, kept beside the gathered ones.

A gathering cannot see what nvidia-smi saw, so these findings are not re-derived on refresh:
each node keeps the findings of its latest debug run until it is debugged again or leaves the
cluster. Every kept finding says that it came from a debug run, and when. No Textual here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timezone


def stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class DebugFindings:
    def __init__(self) -> None:
        self._by_node: dict[str, list] = {}

    def record(self, nodes: Iterable[str], findings: Iterable, at: datetime | None = None) -> None:
        """The run covered `nodes`: their earlier debug findings are replaced, even by none."""
        when = stamp(at or datetime.now(timezone.utc))
        fresh: dict[str, list] = {node: [] for node in nodes}
        for f in findings:
            fresh.setdefault(f.subject.name, []).append(_labelled(f, when))
        self._by_node.update(fresh)

    def current(self, node_names: Iterable[str] | None = None) -> list:
        """The kept findings; with `node_names` (the nodes the cluster has now), those of other nodes are
        forgotten."""
        if node_names is not None:
            alive = set(node_names)
            self._by_node = {n: fs for n, fs in self._by_node.items() if n in alive}
        return [f for fs in self._by_node.values() for f in fs]

    def clear(self) -> None:
        self._by_node.clear()


def _labelled(f, when: str):
    note = f"From the nvidia-smi debug run at {when}; kept until the next debug run on this node."
    return dataclasses.replace(
        f, message=f"{f.message} {note}".strip(), evidence=[*f.evidence, f"nvidia-smi debug run at {when}"]
    )
