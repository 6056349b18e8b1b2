"""Content negotiation: request body formats, Table and metadata-only responses."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec

from gputui.sim import tables
from gputui.sim.resources import ResourceType
from gputui.sim.statuses import bad_request

_decode = msgspec.json.decode


PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply",
}


def wants_metadata_only(accept: str) -> bool:
    """The metadata-only form clients like the garbage collector and `kubectl delete` ask for."""
    first = accept.split(",")[0]
    return "as=PartialObjectMetadata" in first and "g=meta.k8s.io" in first


def partial_metadata(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def wants_table(accept: str) -> bool:
    for part in accept.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in part.split(";")[1:])}
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return True
        if part.strip().startswith("application/json") and "as=" not in part:
            return False
    return False


def render_table(rt: ResourceType, objects: list[dict], include_object: str) -> dict:
    table = tables.render_table(rt, objects, include_object=include_object, now=datetime.now(timezone.utc))
    return _decode(table) if isinstance(table, (bytes, str)) else table


def parse_json(body: bytes) -> Any:
    try:
        return _decode(body) if body.strip() else {}
    except msgspec.DecodeError as e:
        raise bad_request(f"error decoding request body: {e}")


def parse_yaml(body: bytes) -> Any:
    import yaml

    try:
        return yaml.load(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise bad_request(f"error decoding YAML: {e}")
