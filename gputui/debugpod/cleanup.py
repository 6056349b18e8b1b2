"""Leftover debug pods: gputui-labelled pods still there after their deadline.

A run deletes its pods itself; a pod outlives its deadline annotation only when the
gputui that made it died (or lost the cluster) before deleting it. The kubelet has
killed such a pod by then (activeDeadlineSeconds), but the object stays until deleted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from checks.timestamps import parse_time
from gputui.debugpod import spec as podspec
from gputui.kube.errors import KubeApiError


@dataclass(frozen=True)
class Leftover:
    namespace: str
    name: str
    node: str
    deadline: str | None
    phase: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} (node {self.node or '?'}, {self.phase}, deadline {self.deadline or '?'})"


def _parse_time(text: str | None) -> float | None:
    when = parse_time(text)
    return when.timestamp() if when is not None else None


def is_leftover(pod: dict, now: float) -> bool:
    meta = pod.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return False
    deadline = _parse_time((meta.get("annotations") or {}).get(podspec.ANN_DEADLINE))
    if deadline is None:
        created = _parse_time(meta.get("creationTimestamp"))
        ads = (pod.get("spec") or {}).get("activeDeadlineSeconds") or podspec.DEFAULT_DEADLINE_SECONDS
        deadline = created + ads if created is not None else None
    return deadline is not None and now > deadline


def find_leftovers(kube: Any, *, now: float | None = None) -> list[Leftover]:
    """gputui debug pods in any namespace whose deadline has passed."""
    now = time.time() if now is None else now
    data = kube.request("GET", "/api/v1/pods", query={"labelSelector": podspec.SELECTOR}).json() or {}
    out = []
    for pod in data.get("items") or []:
        if not is_leftover(pod, now):
            continue
        meta = pod["metadata"]
        out.append(
            Leftover(
                namespace=meta.get("namespace", "default"),
                name=meta["name"],
                node=(meta.get("annotations") or {}).get(podspec.ANN_NODE)
                or (pod.get("spec") or {}).get("nodeName", ""),
                deadline=(meta.get("annotations") or {}).get(podspec.ANN_DEADLINE),
                phase=(pod.get("status") or {}).get("phase") or "Unknown",
            )
        )
    return sorted(out, key=lambda l: (l.namespace, l.name))


def remove(kube: Any, leftovers: list[Leftover]) -> tuple[list[Leftover], list[tuple[Leftover, str]]]:
    """Delete them: (removed, [(not removed, why)])."""
    removed, failed = [], []
    for l in leftovers:
        try:
            kube.request(
                "DELETE",
                f"/api/v1/namespaces/{l.namespace}/pods/{l.name}",
                body={"gracePeriodSeconds": 0, "propagationPolicy": "Background"},
            )
            removed.append(l)
        except KubeApiError as e:
            if e.status == 404:
                removed.append(l)
            else:
                failed.append((l, f"{e.status} {e.message}"))
    return removed, failed
