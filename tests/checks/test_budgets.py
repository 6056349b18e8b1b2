"""checks.budgets: whether a scheduled Karpenter disruption budget's window is open now."""

from __future__ import annotations

import datetime as dt

import pytest

from checks.budgets import window_end


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.timezone.utc)  # 2026-11-30 is a Monday


H = 3600


@pytest.mark.parametrize(
    ("schedule", "duration", "now", "end"),
    [
        ("0 7 * * mon-fri", 12 * H, at(30, 8), at(30, 19)),  # business hours, Monday morning
        ("0 7 * * mon-fri", 12 * H, at(30, 18, 59), at(30, 19)),
        ("0 7 * * mon-fri", 12 * H, at(30, 19), None),  # closed at 19:00
        ("0 7 * * mon-fri", 12 * H, at(30, 6, 59), None),
        ("0 7 * * mon-fri", 12 * H, at(29, 10), None),  # Sunday
        ("0 7 * * 1-5", 12 * H, at(30, 8), at(30, 19)),
        ("0 22 * * fri", 60 * H, at(29, 9), dt.datetime(2026, 11, 30, 10, tzinfo=dt.timezone.utc)),  # a weekend
        ("@daily", 2 * H, at(30, 1, 30), at(30, 2)),
        ("@daily", 2 * H, at(30, 2), None),
        ("*/15 * * * *", 300, at(30, 10, 17), at(30, 10, 20)),
        ("*/15 * * * *", 300, at(30, 10, 21), None),
        ("0 0 * * 0", 24 * H, at(29, 12), at(30, 0)),  # Sunday
        # Karpenter's cron parser (robfig/cron) takes day-of-week 0-6 only: 7 is an error, so no window.
        ("0 0 * * 7", 24 * H, at(29, 12), None),
        ("0 0 1 * mon", 24 * H, at(30, 12), dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)),  # dom or dow
    ],
)
def test_window_end(schedule, duration, now, end):
    assert window_end(schedule, duration, now) == end


@pytest.mark.parametrize(
    ("schedule", "duration"),
    [("0 7 * * mon-fri", None), ("0 7 * * mon-fri", 0), ("not a cron", H), ("0 25 * * *", H), ("0 7 * *", H)],
)
def test_unreadable_schedules_and_durations_are_no_window(schedule, duration):
    assert window_end(schedule, duration, at(30, 8)) is None
