"""The JSONPath subset CRD printer columns use, evaluated as the API server does.

Supported: `.a.b`, `.a[0].b`, `.a[*]`, `.a['x.y']`, `.conditions[?(@.type=="Ready")].status` (== and !=),
escaped dots in keys (`.metadata.labels.karpenter\\.sh/nodepool`) and an optional `{...}` wrapper.
"""

from __future__ import annotations

import json
import re
from typing import Any


class JsonPathError(ValueError):
    pass


def _split_jsonpath(path: str) -> list[tuple]:
    """`.a.b`, `.a[0].b`, `.a[*]`, `.c[?(@.type=="Ready")].status`, `.labels.karpenter\\.sh/nodepool`."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if text.startswith("$"):
        text = text[1:]
    steps: list[tuple] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == ".":
            i += 1
            name = []
            while i < len(text) and text[i] not in ".[":
                if text[i] == "\\" and i + 1 < len(text):
                    name.append(text[i + 1])
                    i += 2
                    continue
                name.append(text[i])
                i += 1
            if name:
                steps.append(("field", "".join(name)))
        elif ch == "[":
            end = _closing_bracket(text, i)
            inner = text[i + 1 : end].strip()
            i = end + 1
            if inner == "*":
                steps.append(("all",))
            elif inner.startswith("?(") and inner.endswith(")"):
                steps.append(("filter",) + _parse_filter(inner[2:-1]))
            elif re.fullmatch(r"-?\d+", inner):
                steps.append(("index", int(inner)))
            elif inner[:1] in "'\"" and inner[-1:] == inner[:1]:
                steps.append(("field", inner[1:-1]))
            else:
                raise JsonPathError(f"unsupported JSONPath segment [{inner}] in {path}")
        else:
            raise JsonPathError(f"unexpected {ch!r} in JSONPath {path}")
    return steps


def _closing_bracket(text: str, start: int) -> int:
    depth, quote = 0, ""
    for j in range(start, len(text)):
        c = text[j]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return j
    raise JsonPathError(f"unclosed [ in JSONPath {text}")


def _parse_filter(expr: str) -> tuple:
    match = re.fullmatch(r"\s*@((?:\.[^=!<>\s]+)+)\s*(==|!=)\s*(.+?)\s*", expr)
    if not match:
        raise JsonPathError(f"unsupported JSONPath filter ?({expr})")
    raw = match.group(3)
    if raw[:1] in "'\"" and raw[-1:] == raw[:1]:
        value: Any = raw[1:-1]
    else:
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
    return (_split_jsonpath(match.group(1)), match.group(2), value)


def jsonpath_values(obj: Any, path: str) -> list:
    """Every value the path selects (a filter may select several)."""
    current = [obj]
    for step in _split_jsonpath(path):
        nxt = []
        for value in current:
            if step[0] == "field":
                if isinstance(value, dict) and step[1] in value:
                    nxt.append(value[step[1]])
            elif step[0] == "index":
                if isinstance(value, list) and -len(value) <= step[1] < len(value):
                    nxt.append(value[step[1]])
            elif step[0] == "all":
                if isinstance(value, list):
                    nxt.extend(value)
                elif isinstance(value, dict):
                    nxt.extend(value.values())
            elif step[0] == "filter":
                _, sub, op, want = step
                for item in value if isinstance(value, list) else []:
                    got = _eval_steps(item, sub)
                    hit = any(g == want or (isinstance(g, (int, float)) and str(g) == str(want)) for g in got)
                    if (op == "==" and hit) or (op == "!=" and got and not hit):
                        nxt.append(item)
        current = nxt
    return current


def _eval_steps(obj: Any, steps: list[tuple]) -> list:
    current = [obj]
    for step in steps:
        current = [v[step[1]] for v in current if step[0] == "field" and isinstance(v, dict) and step[1] in v]
    return current


def jsonpath_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
