"""Karpenter disruption budgets with a schedule: is the window open now?

A budget with `schedule` (a cron expression, in UTC, as robfig/cron reads it: five fields or
a macro such as @daily) and `duration` applies from each time the schedule fires until that
time plus the duration. Day-of-month and day-of-week are both honoured when both are
restricted (either matches), as in cron.
"""

from __future__ import annotations

import datetime as _dt
import functools

from checks.cron import Cron

_MAX_LOOKBACK_MINUTES = 31 * 24 * 60  # a window longer than a month is read as unknown


@functools.lru_cache(maxsize=256)
def window_end(schedule: str, duration_seconds: float | None, now: _dt.datetime) -> _dt.datetime | None:
    """When the budget's current window closes, or None when no window is open now (or the
    schedule or duration cannot be read, or the window is longer than a month)."""
    if not duration_seconds or duration_seconds <= 0 or duration_seconds > _MAX_LOOKBACK_MINUTES * 60:
        return None
    try:
        cron = Cron.parse(schedule)
    except ValueError:
        return None
    duration = _dt.timedelta(seconds=duration_seconds)
    hit = cron.last_hit(now.astimezone(_dt.timezone.utc), duration)
    return hit + duration if hit is not None else None
