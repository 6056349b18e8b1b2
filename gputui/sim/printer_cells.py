"""What the table printers share: ages and durations as kubectl prints them, column
definitions, and the text of labels, selectors and container lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from checks.timestamps import parse_time

Obj = dict[str, Any]

NAME_DESC = "Name must be unique within a namespace."
AGE_DESC = "CreationTimestamp is a timestamp representing the server time when this object was created."
CONTAINERS_DESC = "Names of each container in the template."
IMAGES_DESC = "Images referenced by each container in the template."


# --------------------------------------------------------------------------- time


def human_duration(seconds: float) -> str:
    """kubectl's HumanDuration: 5s, 119s, 3m2s, 15m, 5h3m, 2d3h, 40d, 2y3d."""
    sec = int(seconds)
    if sec < -1:
        return "<invalid>"
    if sec < 0:
        return "0s"
    if sec < 120:
        return f"{sec}s"
    minutes = sec // 60
    if minutes < 10:
        rest = sec % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = sec // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def age_since(value: Any, now: datetime) -> str:
    when = parse_time(value)
    if when is None:
        return "<unknown>"
    return human_duration((now - when).total_seconds())


# --------------------------------------------------------------------------- helpers


def lookup(obj: Any, *path: Any, default: Any = None) -> Any:
    cur = obj
    for key in path:
        if isinstance(cur, dict):
            cur = cur.get(key)
        elif isinstance(cur, list) and isinstance(key, int) and -len(cur) <= key < len(cur):
            cur = cur[key]
        else:
            return default
        if cur is None:
            return default
    return cur


def column(name: str, type_: str = "string", description: str = "", *, priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": type_, "format": fmt, "description": description, "priority": priority}


def name_column() -> dict:
    return column("Name", "string", NAME_DESC, fmt="name")


def age_column() -> dict:
    return column("Age", "string", AGE_DESC)


def format_labels(labels: dict | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def selector_string(selector: dict | None) -> str:
    """A LabelSelector the way labels.Selector.String() writes it (requirements sorted by key)."""
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        reqs.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = sorted(set(expr.get("values") or []))
        if op == "In":
            reqs.append((key, f"{key} in ({','.join(values)})"))
        elif op == "NotIn":
            reqs.append((key, f"{key} notin ({','.join(values)})"))
        elif op == "Exists":
            reqs.append((key, key))
        elif op == "DoesNotExist":
            reqs.append((key, f"!{key}"))
    reqs.sort(key=lambda r: r[0])
    return ",".join(text for _, text in reqs)


def format_label_selector(selector: dict | None) -> str:
    text = selector_string(selector)
    return text or "<none>"


def container_cells(template_spec: dict | None) -> tuple[str, str]:
    containers = (template_spec or {}).get("containers") or []
    return (",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers))


def int_or_string(value: Any) -> str:
    return str(value)
