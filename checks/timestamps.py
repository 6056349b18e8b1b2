"""Timestamps as the Kubernetes API writes them (RFC 3339), read one way everywhere:
the checks, the snapshot file, the TUI, debug-pod cleanup and the simulator."""

from __future__ import annotations

import datetime as _dt
import re

# datetime keeps microseconds; the API may write up to nanoseconds.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: object) -> _dt.datetime | None:
    """RFC 3339 (`Z` or an offset, any fraction of a second) to an aware datetime in UTC.

    None when the value is absent, not a string or unreadable. A time without a zone is
    read as UTC, which is what every Kubernetes component means by it.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    text = _LONG_FRACTION.sub(r"\1", text)
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.astimezone(_dt.timezone.utc)
