"""nvidia-smi's value spellings: `81559 MiB`, `[N/A]`, `N/A`, `432.21 W`, `52C`, `100 %`, `Yes`."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?")
_MISSING = {
    "",
    "n/a",
    "[n/a]",
    "[not supported]",
    "not supported",
    "[unknown error]",
    "unknown error",
    "[insufficient permissions]",
    "requested functionality has been deprecated",
    "[gpu is lost]",
    "[gpu requires reset]",
    "none",
}


def missing(text: str | None) -> bool:
    return text is None or text.strip().lower() in _MISSING


def to_float(text: str | None) -> float | None:
    if text is None or missing(text):
        return None
    m = _NUMBER.match(text.strip())
    return float(m.group(0)) if m else None


def to_int(text: str | None) -> int | None:
    value = to_float(text)
    return int(value) if value is not None else None


def to_bool(text: str | None) -> bool | None:
    if text is None or missing(text):
        return None
    low = text.strip().lower()
    if low in ("yes", "true", "enabled", "active"):
        return True
    if low in ("no", "false", "disabled", "not active"):
        return False
    return None


def to_text(text: str | None) -> str | None:
    return None if text is None or missing(text) else text.strip()


def state_problem(text: str | None) -> str | None:
    """nvidia-smi prints `[GPU is lost]` / `[GPU requires reset]` / `[Unknown Error]` in place of values
    of a GPU in a bad state; return that marker, else None."""
    if text is None:
        return None
    low = text.strip().lower()
    for marker in ("gpu is lost", "gpu requires reset", "unknown error"):
        if marker in low:
            return marker
    return None
