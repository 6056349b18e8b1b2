"""Cron schedules and durations as Karpenter reads them for disruption budgets.

Karpenter parses a budget's `schedule` with the standard five-field cron syntax
(minute hour day-of-month month day-of-week; `*`, lists, ranges, steps, month and
weekday names, the @yearly/@monthly/@weekly/@daily/@hourly macros), always in UTC. A
budget is active at time t when some schedule hit s satisfies s <= t < s + duration.

Day matching follows the usual cron rule: when both day-of-month and day-of-week are
restricted, a day matching either one counts; when either field starts with `*`, both
must match.

Public API:
    Cron.parse(text) -> Cron            (ValueError with a readable message on bad input)
    Cron.matches(dt) -> bool
    Cron.last_hit(at, within) -> datetime | None
    Cron.next_hit(after, within) -> datetime | None
    parse_duration(text) -> timedelta   ("10h5m", "30m", "1h0m0s", "Never" is not a duration)
    format_duration(td) -> str
    budget_active(schedule, duration, at) -> bool
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (name, low, high, names)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _DAYS),
)


def _value(token: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    t = token.lower()
    if t in names:
        return names[t]
    if not t.isdigit():
        raise ValueError(f"{name}: {token!r} is not a number" + (f" or a name ({', '.join(names)})" if names else ""))
    n = int(t)
    if not low <= n <= high:
        raise ValueError(f"{name}: {n} is outside {low}-{high}")
    return n


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    """The set of values a field allows, and whether it starts with * (unrestricted for day matching)."""
    out: set[int] = set()
    star = text.startswith("*") or text.startswith("?")
    for part in text.split(","):
        if not part:
            raise ValueError(f"{name}: empty list item in {text!r}")
        rng, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{name}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if rng in ("*", "?"):
            start, end = low, high
        elif "-" in rng:
            a, _, b = rng.partition("-")
            start, end = _value(a, name, low, high, names), _value(b, name, low, high, names)
            if start > end:
                raise ValueError(f"{name}: range {rng!r} runs backwards")
        else:
            start = _value(rng, name, low, high, names)
            end = high if step_text else start
        out.update(range(start, end + 1, step))
    return frozenset(out), star


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    day_star: bool
    weekday_star: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        raw = (text or "").strip()
        expr = MACROS.get(raw.lower(), raw)
        if expr.startswith("@"):
            raise ValueError(f"unknown macro {raw!r} (use {', '.join(MACROS)})")
        parts = expr.split()
        if len(parts) != 5:
            raise ValueError(
                f"{raw!r} has {len(parts)} fields; a schedule has 5: minute hour day-of-month month day-of-week"
            )
        sets = [_field(p, *spec) for p, spec in zip(parts, _FIELDS)]
        return cls(raw, sets[0][0], sets[1][0], sets[2][0], sets[3][0], sets[4][0], sets[2][1], sets[4][1])

    def matches(self, t: dt.datetime) -> bool:
        if t.minute not in self.minutes or t.hour not in self.hours or t.month not in self.months:
            return False
        dom = t.day in self.days
        dow = (t.isoweekday() % 7) in self.weekdays
        if self.day_star or self.weekday_star:
            return dom and dow
        return dom or dow

    def last_hit(self, at: dt.datetime, within: dt.timedelta) -> dt.datetime | None:
        """The latest hit in (at - within, at], or None."""
        t = at.replace(second=0, microsecond=0)
        stop = at - within
        while t > stop:
            # Step back over whole days and hours that cannot match, so long durations stay cheap.
            if t.month not in self.months or not self._day_ok(t):
                t = t.replace(hour=0, minute=0) - _MINUTE
            elif t.hour not in self.hours:
                t = t.replace(minute=0) - _MINUTE
            elif t.minute in self.minutes:
                return t
            else:
                t -= _MINUTE
        return None

    def next_hit(self, after: dt.datetime, within: dt.timedelta = dt.timedelta(days=366)) -> dt.datetime | None:
        """The first hit strictly after `after`, searched up to `within` ahead."""
        t = after.replace(second=0, microsecond=0) + _MINUTE
        stop = after + within
        while t <= stop:
            if t.minute in self.minutes and t.hour in self.hours and self.matches(t):
                return t
            # Skip whole hours/days that cannot match, so a year ahead stays cheap.
            if t.month not in self.months or not self._day_ok(t):
                t = (t + dt.timedelta(days=1)).replace(hour=0, minute=0)
            elif t.hour not in self.hours:
                t = (t + dt.timedelta(hours=1)).replace(minute=0)
            else:
                t += _MINUTE
        return None

    def _day_ok(self, t: dt.datetime) -> bool:
        dom = t.day in self.days
        dow = (t.isoweekday() % 7) in self.weekdays
        return (dom and dow) if (self.day_star or self.weekday_star) else (dom or dow)


_MINUTE = dt.timedelta(minutes=1)
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str) -> dt.timedelta:
    """Go-style durations with h, m and s parts ("10h5m", "30m", "90s", "1h0m0s")."""
    m = _DURATION.match((text or "").strip())
    if not text or not m or not any(m.groups()):
        raise ValueError(f"{text!r} is not a duration (examples: 30m, 4h, 10h30m)")
    h, mins, s = (int(g or 0) for g in m.groups())
    return dt.timedelta(hours=h, minutes=mins, seconds=s)


def format_duration(td: dt.timedelta) -> str:
    total = int(td.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes or not parts:
        parts.append(f"{minutes}m")
    return "".join(parts)


def budget_active(schedule: str | None, duration: str | None, at: dt.datetime) -> bool:
    """Whether a budget applies at `at` (UTC). No schedule: always active."""
    if not schedule:
        return True
    cron = Cron.parse(schedule)
    return cron.last_hit(at, parse_duration(duration or "0m")) is not None
