"""Seeded wrong-shape mutations of Kubernetes objects, for the input fuzzer
(tests/cli/test_fuzz_inputs.py) and its longer run (`GPUTUI_FUZZ_COUNT=50000`).

`mutate(obj, rng)` changes one place of a manifest dict: a value of the wrong type
(str, int, list, mapping, null, bool, float), a missing field, a huge value (10^30,
a 1 MB string, deep nesting), odd text (control characters, right-to-left marks, a lone
surrogate, bytes that are not UTF-8 as YAML's !!binary gives them) or a key that is not a
string. Everything a YAML or JSON manifest can hold, nothing more."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

Path = tuple[Any, ...]

HUGE_STRING = "x" * (1 << 20)


def _deep(depth: int, leaf: Any) -> Any:
    for i in range(depth):
        leaf = [leaf] if i % 2 else {"a": leaf}
    return leaf


def odd_values(rng: random.Random, current: Any) -> Any:
    """A value of another shape than `current`."""
    choices: list[Any] = [
        None,
        "",
        "text",
        "7",
        0,
        -1,
        7,
        10**30,
        -(10**30),
        1e308,
        float("nan"),
        float("inf"),
        2.5,
        True,
        False,
        [],
        ["a", 1, None],
        [{"k": "v"}],
        {},
        {"k": "v"},
        {"nested": {"deeper": [1, "x"]}},
        "é ü 日本 🚀 \u202e\u200b",
        "\x00\x1b[31m\r\n",
        "\ud800",
        b"\xff\xfe\x00",
        {1: 2, None: "x"},
    ]
    if rng.random() < 0.02:
        choices.append(HUGE_STRING)
    if rng.random() < 0.02:
        choices.append(_deep(rng.choice((50, 200)), "leaf"))
    value = rng.choice(choices)
    while type(value) is type(current) and value == current:
        value = rng.choice(choices)
    return copy.deepcopy(value)


def paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every place in the object, the object itself first."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, (*prefix, i))


# Where mutations do most harm: the fields the checks and the loader read.
_FOCUS = ("metadata", "spec", "status", "involvedObject", "reason", "message", "count", "source")


def mutate(obj: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], str]:
    """A mutated copy of `obj`, and a description of what was changed (for failure messages)."""
    out = copy.deepcopy(obj)
    places = [p for p in paths(out) if p and p[0] not in ("kind", "apiVersion")]
    focus = [p for p in places if p[0] in _FOCUS]
    if not places:
        return out, "nothing to mutate"
    path = rng.choice(focus if focus and rng.random() < 0.9 else places)
    parent: Any = out
    for p in path[:-1]:
        parent = parent[p]
    key = path[-1]
    roll = rng.random()
    if roll < 0.2 and isinstance(parent, dict):
        del parent[key]
        return out, f"deleted {_show(path)}"
    if roll < 0.25 and isinstance(parent, dict):
        bad_key = rng.choice((1, None, True, 2.5, ""))
        parent[bad_key] = parent.pop(key)
        return out, f"key of {_show(path)} -> {bad_key!r}"
    value = odd_values(rng, parent[key])
    parent[key] = value
    return out, f"{_show(path)} -> {_short(value)}"


def _show(path: Path) -> str:
    return ".".join(str(p) for p in path)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else f"{text[:40]}... ({len(text)} chars)"
