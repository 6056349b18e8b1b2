"""Label and field selectors, parsed once per request into predicates over object dicts.

Parse errors raise `SelectorError`; the store turns them into 400 BadRequest as the API
server does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[dict], bool]
LabelTest = Callable[[Mapping[str, str]], bool]

_KEY = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


class SelectorError(ValueError):
    pass


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses (`a in (x,y),b` is two requirements)."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _check_key(key: str, whole: str) -> str:
    if not _KEY.match(key):
        raise SelectorError(f"unable to parse requirement: invalid label key {key!r} in {whole!r}")
    return key


_SET_RE = re.compile(r"^(?P<key>[^\s!=<>]+)\s+(?P<op>in|notin)\s*\((?P<vals>[^)]*)\)$")
_CMP_RE = re.compile(r"^(?P<key>[^\s!=<>]+)\s*(?P<op>==|=|!=|>|<)\s*(?P<val>[^\s]*)$")


def parse_label_selector(text: str | None) -> Predicate | None:
    if not text or not text.strip():
        return None
    reqs: list[LabelTest] = []
    for part in _split_top(text):
        m = _SET_RE.match(part)
        if m:
            key = _check_key(m["key"], text)
            vals = frozenset(v.strip() for v in m["vals"].split(",") if v.strip())
            reqs.append(_in_set(key, vals) if m["op"] == "in" else _not_in_set(key, vals))
            continue
        m = _CMP_RE.match(part)
        if m:
            key, op, val = _check_key(m["key"], text), m["op"], m["val"]
            if op in ("=", "=="):
                reqs.append(_equals(key, val))
            elif op == "!=":
                reqs.append(_not_equals(key, val))
            else:
                try:
                    num = int(val)
                except ValueError:
                    raise SelectorError(
                        "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer"
                    )
                reqs.append(_numeric(key, op, num))
            continue
        if part.startswith("!"):
            key = _check_key(part[1:].strip(), text)
            reqs.append(_absent(key))
            continue
        key = _check_key(part, text)
        reqs.append(_present(key))

    def match(obj: dict) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r(labels) for r in reqs)

    return match


def _in_set(key: str, values: frozenset[str]) -> LabelTest:
    return lambda labels: key in labels and labels[key] in values


def _not_in_set(key: str, values: frozenset[str]) -> LabelTest:
    return lambda labels: key not in labels or labels[key] not in values


def _equals(key: str, value: str) -> LabelTest:
    return lambda labels: labels.get(key) == value


def _not_equals(key: str, value: str) -> LabelTest:
    return lambda labels: labels.get(key) != value


def _present(key: str) -> LabelTest:
    return lambda labels: key in labels


def _absent(key: str) -> LabelTest:
    return lambda labels: key not in labels


def _numeric(key: str, op: str, num: int) -> LabelTest:
    def req(labels: Mapping[str, str]) -> bool:
        try:
            have = int(labels[key])
        except (KeyError, ValueError, TypeError):
            return False
        return have > num if op == ">" else have < num

    return req


# Field names that do not map one-to-one to a JSON path.
_FIELD_ALIASES = {"source": "source.component"}


def field_value(obj: dict, path: str) -> str:
    """The string form the API server compares a field selector against."""
    cur: Any = obj
    for piece in _FIELD_ALIASES.get(path, path).split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(piece)
        if cur is None:
            return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, (dict, list)):
        return ""
    return str(cur)


_FIELD_RE = re.compile(r"^(?P<path>[A-Za-z0-9_.\-]+)\s*(?P<op>==|=|!=)(?P<val>.*)$")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_field_selector(text: str | None) -> Predicate | None:
    if not text or not text.strip():
        return None
    reqs: list[tuple[str, bool, str]] = []
    for part in re.split(r"(?<!\\),", text):
        part = part.strip()
        if not part:
            continue
        m = _FIELD_RE.match(part)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        reqs.append((m["path"], m["op"] != "!=", _unescape(m["val"].strip())))

    def match(obj: dict) -> bool:
        for path, equal, val in reqs:
            if (field_value(obj, path) == val) != equal:
                return False
        return True

    return match


def field_equals(text: str | None, path: str) -> str | None:
    """The value of a plain `path=value` requirement in a field selector (watch on one name)."""
    if not text:
        return None
    for part in re.split(r"(?<!\\),", text):
        m = _FIELD_RE.match(part.strip())
        if m and m["path"] == path and m["op"] != "!=":
            return _unescape(m["val"].strip())
    return None
