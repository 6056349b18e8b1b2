"""Timestamps in loaded objects: find them, and move them all by one offset so the newest
lands at "now" (ages stay realistic whenever a scenario is played).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from typing import Any

from checks import timestamps

# -- time shifting ----------------------------------------------------------------------

_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# Keys under `status` (of any kind, CRs included) whose values are points in time.
_STATUS_TIME_SUFFIXES = ("Time", "Timestamp", "At")
_TOP_TIME_KEYS = ("firstTimestamp", "lastTimestamp", "eventTime")
_SPEC_TIME_KEYS = ("acquireTime", "renewTime")  # Lease


def parse_time(value: Any) -> _dt.datetime | None:
    """A timestamp field's value, when it is one in the API's own form (RFC 3339, date and time)."""
    if not isinstance(value, str) or not _TS_RE.match(value):
        return None
    return timestamps.parse_time(value)


def format_time(when: _dt.datetime, micro: bool = False) -> str:
    when = when.astimezone(_dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def _time_slots(obj: dict[str, Any]) -> Iterable[tuple[Any, Any]]:
    """(container, key) of every timestamp field in an object."""
    md = obj.get("metadata") or {}
    for key in ("creationTimestamp", "deletionTimestamp"):
        if md.get(key):
            yield md, key
    for mf in md.get("managedFields") or []:
        if isinstance(mf, dict) and mf.get("time"):
            yield mf, "time"
    for key in _TOP_TIME_KEYS:
        if obj.get(key):
            yield obj, key
    series = obj.get("series")
    if isinstance(series, dict) and series.get("lastObservedTime"):
        yield series, "lastObservedTime"
    spec = obj.get("spec")
    if isinstance(spec, dict):
        for key in _SPEC_TIME_KEYS:
            if spec.get(key):
                yield spec, key
    status = obj.get("status")
    if isinstance(status, (dict, list)):
        yield from _status_time_slots(status)


def _status_time_slots(node: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key.endswith(_STATUS_TIME_SUFFIXES) and _TS_RE.match(value):
                    yield node, key
            elif isinstance(value, (dict, list)):
                yield from _status_time_slots(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                yield from _status_time_slots(item)


def newest_time(objects: Iterable[dict[str, Any]]) -> _dt.datetime | None:
    """The latest timestamp anywhere in the objects (None when they carry none)."""
    newest: _dt.datetime | None = None
    for obj in objects:
        for container, key in _time_slots(obj):
            when = parse_time(container[key])
            if when is not None and (newest is None or when > newest):
                newest = when
    return newest


def shift_times(objects: Iterable[dict[str, Any]], now: _dt.datetime) -> _dt.timedelta:
    """Move every timestamp by the same whole-second delta so the newest one is `now`."""
    slots = []
    newest: _dt.datetime | None = None
    for obj in objects:
        for container, key in _time_slots(obj):
            when = parse_time(container[key])
            if when is None:
                continue
            slots.append((container, key, when))
            if newest is None or when > newest:
                newest = when
    if newest is None:
        return _dt.timedelta(0)
    delta = _dt.timedelta(seconds=round((now - newest).total_seconds()))
    for container, key, when in slots:
        container[key] = format_time(when + delta, micro="." in container[key])
    return delta


def now_rfc3339() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
