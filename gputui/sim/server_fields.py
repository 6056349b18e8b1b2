"""Fill in what an API server would have set on loaded objects: names, uids, namespaces,
owner references, and the per-kind defaults and status fields that kubectl and the typed
`kubernetes` client models insist on.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from gputui.errors import InputError
from gputui.kube.manifests import MANIFEST_HINT
from gputui.sim.fill_context import FillContext, deterministic_uid, short_hash, types_for
from gputui.sim.kind_fields import FILLERS, fill_namespace
from gputui.sim.resources import BUILTIN_TYPES, ResourceType


def complete(
    items: list[tuple[str, dict[str, Any], ResourceType]],
    now: _dt.datetime,
    types: dict[tuple[str, str], ResourceType] | None = None,
) -> list[dict[str, Any]]:
    """Fill server-set fields in place; returns the objects plus any namespace they need."""
    if types is None:
        types = types_for(obj for _, obj, _ in items)
    ctx = FillContext(now, types)
    first_seen: dict[tuple[str, str, str, str], str] = {}
    for origin, obj, rt in items:
        md = obj["metadata"]
        if not md.get("name"):
            md["name"] = md["generateName"] + short_hash(origin, md["generateName"])
        if rt.namespaced:
            md["namespace"] = md.get("namespace") or "default"
        else:
            md.pop("namespace", None)
        key = (rt.group, rt.kind, md.get("namespace") or "", md["name"])
        if key in first_seen:
            where = f"{key[2]}/{key[3]}" if key[2] else key[3]
            raise InputError(
                f"{origin}: {rt.kind} {where} is defined twice (first in {first_seen[key]})",
                hint="names must be unique per kind and namespace: rename or remove one of them",
            )
        first_seen[key] = origin
        md["uid"] = md.get("uid") or deterministic_uid(rt.kind, md.get("namespace") or "", md["name"])
        md["creationTimestamp"] = md.get("creationTimestamp") or ctx.now_s
        ctx.by_key[(rt.kind, md.get("namespace") or "", md["name"])] = obj
    for origin, obj, rt in items:

        def bad(reason: str, hint: str = MANIFEST_HINT, _origin: str = origin) -> InputError:
            return InputError(f"{_origin}: {reason}", hint=hint)

        _fill_owner_refs(obj, ctx, bad)
        filler = FILLERS.get(rt.kind) if not rt.group or rt.group in _BUILTIN_GROUPS else None
        if filler is not None:
            filler(obj, ctx, bad)
    objects = [obj for _, obj, _ in items]
    objects.extend(_missing_namespaces(objects, ctx))
    return objects


_BUILTIN_GROUPS = {rt.group for rt in BUILTIN_TYPES}


def _missing_namespaces(objects: list[dict[str, Any]], ctx: FillContext) -> list[dict[str, Any]]:
    """A real server refuses objects in a namespace that does not exist; create the ones used."""
    defined = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    oldest: dict[str, str] = {}
    for o in objects:
        ns = o["metadata"].get("namespace")
        if ns and ns not in defined:
            created = o["metadata"]["creationTimestamp"]
            if ns not in oldest or created < oldest[ns]:
                oldest[ns] = created
    out = []
    for ns in sorted(oldest):
        obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "uid": deterministic_uid("Namespace", "", ns), "creationTimestamp": oldest[ns]},
        }
        fill_namespace(obj, ctx, None)  # type: ignore[arg-type]
        out.append(obj)
    return out


def _fill_owner_refs(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    refs = obj["metadata"].get("ownerReferences")
    if not refs:
        return
    if not isinstance(refs, list):
        raise bad("metadata.ownerReferences must be a list")
    ns = obj["metadata"].get("namespace")
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict) or not ref.get("kind") or not ref.get("name"):
            raise bad(f"metadata.ownerReferences[{i}] needs kind and name")
        owner_ns = ns if ctx.namespaced(ref["kind"]) else None
        owner = ctx.by_key.get((ref["kind"], owner_ns or "", ref["name"]))
        ref.setdefault("apiVersion", owner["apiVersion"] if owner else ctx.api_version_of(ref["kind"]) or "v1")
        ref.setdefault("uid", ctx.uid_of(ref["kind"], owner_ns, ref["name"]))
