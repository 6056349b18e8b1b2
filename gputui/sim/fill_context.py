"""What filling one loaded object may look up: the other objects, the served types,
stable ids and the clock.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from gputui.sim.resources import BUILTIN_TYPES, ResourceType
from gputui.sim.timestamps import format_time

_UID_NAMESPACE = uuid.UUID("6f1c2a9e-4b7d-4e0a-9c55-2d0b8f3e7a11")


def types_for(objects: Iterable[dict[str, Any]]) -> dict[tuple[str, str], ResourceType]:
    """(apiVersion, kind) -> type, for built-ins and for every CRD among the objects."""
    objects = list(objects)
    types: dict[tuple[str, str], ResourceType] = {}
    for rt in BUILTIN_TYPES:
        for v in rt.served_versions:
            types[(rt.api_version(v), rt.kind)] = rt
    for obj in objects:
        if obj["kind"] == "CustomResourceDefinition" and isinstance(obj.get("spec"), dict):
            try:
                rt = ResourceType.from_crd(obj)
            except (KeyError, TypeError, AttributeError):
                continue  # _fill_crd reports what is wrong with it
            for v in rt.served_versions:
                types[(rt.api_version(v), rt.kind)] = rt
    return types


def deterministic_uid(*parts: str) -> str:
    """A stable uid, so the same scenario always serves the same uids (and owner refs line up)."""
    return str(uuid.uuid5(_UID_NAMESPACE, "/".join(parts)))


def short_hash(*parts: str, length: int = 5) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


# -- completing objects -----------------------------------------------------------------


# Kinds that references (owners, involved objects) name even when the scenario does not
# load them: (apiVersion, namespaced).
_WELL_KNOWN_KINDS = {
    "NodePool": ("karpenter.sh/v1", False),
    "NodeClaim": ("karpenter.sh/v1", False),
    "EC2NodeClass": ("karpenter.k8s.aws/v1", False),
    "ClusterPolicy": ("nvidia.com/v1", False),
    "NVIDIADriver": ("nvidia.com/v1alpha1", False),
    "ControllerRevision": ("apps/v1", True),
    "CronJob": ("batch/v1", True),
    "PersistentVolume": ("v1", False),
    "PersistentVolumeClaim": ("v1", True),
    "Secret": ("v1", True),
    "PriorityClass": ("scheduling.k8s.io/v1", False),
}


class FillContext:
    """What filling one object may look up: the other objects, types and the clock."""

    def __init__(self, now: _dt.datetime, types: dict[tuple[str, str], ResourceType]):
        self.now = now
        self.now_s = format_time(now)
        self.by_key: dict[tuple[str, str, str], dict[str, Any]] = {}  # (kind, namespace, name)
        self.kind_types: dict[str, ResourceType] = {}
        for rt in types.values():
            self.kind_types.setdefault(rt.kind, rt)

    def api_version_of(self, kind: str) -> str | None:
        rt = self.kind_types.get(kind)
        return rt.api_version() if rt else _WELL_KNOWN_KINDS.get(kind, (None, True))[0]

    def namespaced(self, kind: str) -> bool:
        rt = self.kind_types.get(kind)
        return rt.namespaced if rt else _WELL_KNOWN_KINDS.get(kind, (None, True))[1]

    def uid_of(self, kind: str, namespace: str | None, name: str) -> str:
        target = self.by_key.get((kind, namespace or "", name))
        if target is not None:
            return target["metadata"]["uid"]
        return deterministic_uid(kind, namespace or "", name)
