"""Content negotiation: request body formats, Table and metadata-only responses, and the
optional sibling modules that render them."""

from __future__ import annotations

import importlib
from datetime import datetime, timezone
from typing import Any

import msgspec

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


def optional_module(name: str):
    """A sibling module that may not exist yet; only its own absence is tolerated."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise


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
    now = datetime.now(timezone.utc)
    tables = optional_module("gputui.sim.tables")
    if tables is not None:
        table = tables.render_table(rt, objects, include_object=include_object, now=now)
        return _decode(table) if isinstance(table, (bytes, str)) else table
    # Minimal table until the kubectl-faithful renderer is present.
    rows = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        row: dict[str, Any] = {"cells": [meta.get("name", ""), meta.get("creationTimestamp", "")]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0},
            {"name": "Created At", "type": "date", "format": "", "description": "Creation time", "priority": 0},
        ],
        "rows": rows,
    }


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
