"""YAML diffs of an object before and after a change, for people to read."""

from __future__ import annotations

import difflib
from typing import Any

import yaml

# Noise that changes on every write or is unreadable; it never helps judge a fix.
_DROP_METADATA = ("managedFields", "resourceVersion", "generation")
_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
_TOP_ORDER = ("apiVersion", "kind", "metadata", "spec", "status")


def readable(obj: dict | None) -> dict | None:
    """The object as a diff shows it: noise removed, keys in a stable order."""
    if obj is None:
        return None
    out = _sorted(obj)
    md = dict(out.get("metadata") or {})
    for key in _DROP_METADATA:
        md.pop(key, None)
    ann = {k: v for k, v in (md.get("annotations") or {}).items() if k not in _DROP_ANNOTATIONS}
    if ann:
        md["annotations"] = ann
    else:
        md.pop("annotations", None)
    if "metadata" in out:
        out["metadata"] = md
    ordered = {k: out[k] for k in _TOP_ORDER if k in out}
    ordered.update((k, v) for k, v in out.items() if k not in ordered)
    return ordered


def to_yaml(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)


def yaml_diff(
    before: dict | None,
    after: dict | None,
    *,
    name: str = "object",
    context: int = 3,
    after_label: str = "after the fix",
) -> str:
    """A unified diff of the two objects as YAML; only changed parts with `context` lines around.

    Empty when nothing changes. A deleted object (after=None) diffs every line away.
    """
    a = to_yaml(readable(before)).splitlines(keepends=True) if before is not None else []
    b = to_yaml(readable(after)).splitlines(keepends=True) if after is not None else []
    lines = difflib.unified_diff(
        a,
        b,
        fromfile=f"{name} (now)",
        tofile=f"{name} ({after_label})" if after is not None else f"{name} (deleted)",
        n=context,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def deletion_summary(before: dict, *, name: str = "object") -> str:
    """A deletion as a short diff: the object's identity and labels, not hundreds of spec lines."""
    obj = readable(before) or {}
    head = {k: obj[k] for k in ("apiVersion", "kind") if k in obj}
    md = obj.get("metadata") or {}
    head["metadata"] = {k: md[k] for k in ("name", "namespace", "ownerReferences", "finalizers") if k in md}
    lines = to_yaml(head).splitlines()
    rest = len(to_yaml(obj).splitlines()) - len(lines)
    out = [f"--- {name} (now)", f"+++ {name} (deleted)", "@@ the whole object is removed @@"]
    out += ["-" + line for line in lines]
    if rest > 0:
        out.append(f"-… and {rest} more lines (labels, spec, status)")
    return "\n".join(out) + "\n"


def changed_line_count(diff: str) -> tuple[int, int]:
    """(added, removed) lines of a unified diff, headers excluded."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def diff_renderable(diff: str):
    """The diff as a rich Text: additions green, removals red, hunk headers dim cyan."""
    from rich.text import Text

    text = Text()
    if not diff:
        text.append("(no change)", style="dim")
        return text
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan dim"
        else:
            style = ""
        text.append(line + "\n", style=style)
    text.rstrip()
    return text


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
