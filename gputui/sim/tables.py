"""Server-side tables (meta.k8s.io/v1 Table), the way kube-apiserver prints them.

`kubectl get` asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints
whatever columns and cells the server returns, so the simulator must produce the
same columns and the same cell text as the real printers for kubectl's output to
look real. Like the real server, every row carries every column (wide ones
included); kubectl hides columns with priority > 0 unless `-o wide`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from gputui.sim.jsonpath import JsonPathError, jsonpath_text, jsonpath_values
from gputui.sim.pod_printer import POD_COLUMNS, pod_row
from gputui.sim.printer_cells import AGE_DESC, Obj, column, human_duration, lookup, name_column, parse_time
from gputui.sim.printers import PRINTERS
from gputui.sim.resources import ResourceType


def _custom_cell(type_: str, value: Any, now: datetime) -> Any:
    if value is None:
        return None
    if type_ == "string":
        return jsonpath_text(value)
    if type_ == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return int(value)
        return None
    if type_ == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if type_ == "boolean":
        return value if isinstance(value, bool) else None
    if type_ == "date":
        if isinstance(value, str):
            when = parse_time(value)
            return "<invalid>" if when is None else human_duration((now - when).total_seconds())
        return None
    return None


def crd_printer_columns(rt: ResourceType, version: str | None = None) -> list[dict]:
    """The additionalPrinterColumns of the served version, or the server's default (Age)."""
    crd = rt.crd or {}
    spec = crd.get("spec") or {}
    want = version or rt.version
    for v in spec.get("versions") or []:
        if v.get("name") == want:
            columns = v.get("additionalPrinterColumns")
            break
    else:
        columns = spec.get("additionalPrinterColumns")
    if not columns:
        return [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    return list(columns)


def _custom_table(rt: ResourceType, objects: list[Obj], now: datetime) -> tuple[list[dict], list[tuple[list, list]]]:
    columns = crd_printer_columns(rt)
    defs = [name_column()]
    for c in columns:
        desc = c.get("description") or f"Custom resource definition column (in JSONPath format): {c.get('jsonPath')}"
        defs.append(
            column(
                c.get("name", ""),
                c.get("type", "string"),
                desc,
                priority=int(c.get("priority") or 0),
                fmt=c.get("format", ""),
            )
        )
    rows: list[tuple[list, list]] = []
    for o in objects:
        cells: list = [lookup(o, "metadata", "name", default="")]
        for c in columns:
            try:
                found = jsonpath_values(o, c.get("jsonPath", ""))
            except JsonPathError:
                found = []
            cells.append(_custom_cell(c.get("type", "string"), found[0] if found else None, now))
        rows.append((cells, []))
    return defs, rows


def _default_table(objects: list[Obj]) -> tuple[list[dict], list[tuple[list, list]]]:
    defs = [name_column(), column("Created At", "date", AGE_DESC)]
    rows: list[tuple[list, list]] = []
    for o in objects:
        created = parse_time(lookup(o, "metadata", "creationTimestamp"))
        stamp = created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if created else "0001-01-01T00:00:00Z"
        rows.append(([lookup(o, "metadata", "name", default=""), stamp], []))
    return defs, rows


# --------------------------------------------------------------------------- entry point


def _partial_metadata(obj: Obj) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def render_table(
    rt: ResourceType,
    objects: list[Obj],
    *,
    include_object: str = "Metadata",
    now: datetime | None = None,
    resource_version: str = "",
) -> dict:
    """A meta.k8s.io/v1 Table for `objects` of type `rt`.

    include_object: "Metadata" (PartialObjectMetadata per row, kubectl's default), "Object" or "None".
    """
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if rt.crd is not None:
        defs, rows = _custom_table(rt, objects, now)
    elif rt.group == "" and rt.kind == "Pod":
        defs, rows = POD_COLUMNS, [pod_row(o, now) for o in objects]
    elif (rt.group, rt.kind) in PRINTERS:
        defs, cells_of = PRINTERS[(rt.group, rt.kind)]
        rows = [(cells_of(o, now), []) for o in objects]
    else:
        defs, rows = _default_table(objects)
    out_rows = []
    for obj, (cells, conditions) in zip(objects, rows):
        row: dict = {"cells": cells}
        if conditions:
            row["conditions"] = conditions
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = _partial_metadata(obj)
        out_rows.append(row)
    table: dict = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [dict(d) for d in defs],
        "rows": out_rows,
    }
    if resource_version:
        table["metadata"]["resourceVersion"] = resource_version
    return table
