"""Values that look like credentials, kept out of the audit log.

The audit log stores objects before and after a change. Values that look like
credentials are replaced by REDACTED before they are written: env values whose variable
name is a secret's (PASSWORD, TOKEN, API_KEY, ...: gputui.redact.secret_name, the one rule
for what a secret is called, shared with snapshots), the value of command-line arguments
named so (`--token=...`, `--password ...`), annotation and ConfigMap `data`
values under such keys, and the kubectl last-applied-configuration annotation (a copy of
the whole object). No fix changes these values, so an undo takes them back from the object
as it is now (`restore`), and refuses when it cannot.
"""

from __future__ import annotations

import copy
from typing import Any

from gputui.redact import secret_name as looks_secret

REDACTED = "(redacted by gputui)"  # the audit log's mark (a snapshot marks its own)

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_ARG_LISTS = ("args", "command")


def redact(obj: dict | None) -> dict | None:
    """A copy of `obj` with values that look like credentials replaced by REDACTED."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    _walk(out, top=True)
    return out


def _walk(node: Any, top: bool = False) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                for item in value:
                    if (
                        isinstance(item, dict)
                        and looks_secret(str(item.get("name", "")))
                        and item.get("value") not in ("", None)
                    ):
                        item["value"] = REDACTED
            elif key in _ARG_LISTS and isinstance(value, list):
                _redact_args(value)
            elif key in ("annotations", "data", "stringData") and isinstance(value, dict):
                for k in list(value):
                    if isinstance(value[k], str) and (k == _LAST_APPLIED or looks_secret(k)):
                        value[k] = REDACTED
            else:
                _walk(value)
    elif isinstance(node, list):
        for item in node:
            _walk(item)


def _redact_args(args: list) -> None:
    secret_next = False
    for i, arg in enumerate(args):
        if not isinstance(arg, str):
            secret_next = False
            continue
        if secret_next and not arg.startswith("-"):
            args[i] = REDACTED
            secret_next = False
            continue
        secret_next = False
        if arg.startswith("-"):
            flag, eq, value = arg.partition("=")
            if looks_secret(flag):
                if eq and value:
                    args[i] = f"{flag}={REDACTED}"
                elif not eq:
                    secret_next = True


class Unrestorable(ValueError):
    """A redacted value the current object no longer holds."""


def restore(recorded: Any, current: Any, path: str = "") -> Any:
    """`recorded` with every REDACTED value taken from `current` at the same place (list
    items matched by their `name` when they have one). Raises Unrestorable naming the
    path when the current object has no value there."""
    if isinstance(recorded, str):
        if REDACTED not in recorded:
            return recorded
        if isinstance(current, str) and REDACTED not in current:
            if recorded == REDACTED:
                return current
            flag = recorded.split("=", 1)[0]
            if current.startswith(flag + "="):
                return current
        raise Unrestorable(path or "(top)")
    if isinstance(recorded, dict):
        cur = current if isinstance(current, dict) else {}
        return {k: restore(v, cur.get(k), f"{path}.{k}" if path else k) for k, v in recorded.items()}
    if isinstance(recorded, list):
        cur_list = current if isinstance(current, list) else []
        by_name = {c.get("name"): c for c in cur_list if isinstance(c, dict) and "name" in c}
        out = []
        for i, item in enumerate(recorded):
            if isinstance(item, dict) and "name" in item:
                match = by_name.get(item["name"])
            else:
                match = cur_list[i] if i < len(cur_list) else None
            out.append(restore(item, match, f"{path}[{i}]"))
        return out
    return recorded


def has_redacted(obj: Any) -> bool:
    if isinstance(obj, str):
        return REDACTED in obj
    if isinstance(obj, dict):
        return any(has_redacted(v) for v in obj.values())
    if isinstance(obj, list):
        return any(has_redacted(v) for v in obj)
    return False
