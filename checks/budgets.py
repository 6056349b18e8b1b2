"""Karpenter disruption budgets with a schedule: is the window open now?

A budget with `schedule` (a cron expression, in UTC, as robfig/cron reads it: five fields or
a macro such as @daily) and `duration` applies from each time the schedule fires until that
time plus the duration. Day-of-month and day-of-week are both honoured when both are
restricted (either matches), as in cron.
"""

from __future__ import annotations

import datetime as _dt
import functools

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_NAMES = {
    **{m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
    **{d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())},
}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MAX_LOOKBACK_MINUTES = 31 * 24 * 60  # a window longer than a month is read as unknown


def _value(text: str) -> int:
    return _NAMES[text] if text in _NAMES else int(text)


def _field(text: str, lo: int, hi: int) -> set[int]:
    out: set[int] = set()
    for part in text.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span in ("*", "?"):
            first, last = lo, hi
        else:
            a, _, b = span.partition("-")
            first = _value(a)
            last = _value(b) if b else (hi if step_text else first)
        if not lo <= first <= last <= hi or step < 1:
            raise ValueError(part)
        out.update(range(first, last + 1, step))
    return out


def _parse(schedule: str) -> tuple[list[set[int]], bool, bool]:
    """The five fields' values, and whether day-of-month / day-of-week are restricted."""
    text = _MACROS.get(schedule.strip().lower(), schedule.strip())
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(schedule)
    fields = [_field(p, lo, hi) for p, (lo, hi) in zip(parts, _BOUNDS)]
    if 7 in fields[4]:
        fields[4] = (fields[4] - {7}) | {0}
    return fields, parts[2] not in ("*", "?"), parts[4] not in ("*", "?")


def _fires(fields: list[set[int]], dom_set: bool, dow_set: bool, t: _dt.datetime) -> bool:
    minute, hour, dom, month, dow = fields
    if t.minute not in minute or t.hour not in hour or t.month not in month:
        return False
    day_ok = t.day in dom
    weekday_ok = (t.isoweekday() % 7) in dow
    if dom_set and dow_set:
        return day_ok or weekday_ok
    return day_ok and weekday_ok


@functools.lru_cache(maxsize=256)
def window_end(schedule: str, duration_seconds: float | None, now: _dt.datetime) -> _dt.datetime | None:
    """When the budget's current window closes, or None when no window is open now (or the
    schedule or duration cannot be read, or the window is longer than a month)."""
    if not duration_seconds or duration_seconds <= 0 or duration_seconds > _MAX_LOOKBACK_MINUTES * 60:
        return None
    try:
        fields, dom_set, dow_set = _parse(schedule)
    except (ValueError, KeyError):
        return None
    now = now.astimezone(_dt.timezone.utc)
    t = now.replace(second=0, microsecond=0)
    duration = _dt.timedelta(seconds=duration_seconds)
    while now - t < duration:
        if _fires(fields, dom_set, dow_set, t):
            return t + duration
        t -= _dt.timedelta(minutes=1)
    return None
