"""A fixed wall clock for renders that show times and ages.

`frozen_clock(when)` makes `datetime.datetime.now()` / `utcnow()` / `today()` return `when`
for the `datetime` module and for gputui's and checks' modules that imported the class
itself: the simulator shifting a scenario's timestamps and stamping what it creates, the
snapshot's `now`, event ages. Monotonic time (timers, timeouts, Textual's event loop)
keeps running."""

from __future__ import annotations

import datetime as _dt
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

_RealDatetime = _dt.datetime
_PROJECT = ("gputui", "checks")


class _FrozenMeta(type):
    # Values made by the real class (parsers, C extensions) still count as datetimes.
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, _RealDatetime)

    def __subclasscheck__(cls, sub) -> bool:
        return issubclass(sub, _RealDatetime)


@contextmanager
def frozen_clock(when: _dt.datetime) -> Iterator[None]:
    """Pin the wall clock at `when` (timezone-aware) and the local zone at UTC."""
    assert when.tzinfo is not None

    class FrozenDatetime(_RealDatetime, metaclass=_FrozenMeta):
        @classmethod
        def now(cls, tz=None):
            return when.astimezone(tz) if tz is not None else when.astimezone(_dt.timezone.utc).replace(tzinfo=None)

        @classmethod
        def utcnow(cls):
            return when.astimezone(_dt.timezone.utc).replace(tzinfo=None)

        @classmethod
        def today(cls):
            return cls.now()

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "UTC")
        mp.setattr(_dt, "datetime", FrozenDatetime)
        for module in _project_modules():  # `from datetime import datetime` bound the real class
            for name, value in list(vars(module).items()):
                if value is _RealDatetime:
                    mp.setattr(module, name, FrozenDatetime)
        time.tzset()
        try:
            yield
        finally:
            mp.undo()
            time.tzset()
            # Modules first imported while frozen bound the frozen class: give them the real one.
            for module in [m for m in list(sys.modules.values()) if m is not None]:
                for name, value in list(vars(module).items()):
                    if value is FrozenDatetime:
                        setattr(module, name, _RealDatetime)


def _project_modules() -> list:
    return [m for name, m in list(sys.modules.items()) if m is not None and name.split(".")[0] in _PROJECT]


def served_at(when: _dt.datetime, *sources: str) -> Iterator:
    """For a module fixture: the simulator serving `sources` with their timestamps shifted to
    `when`, the wall clock frozen there for as long as it runs."""
    from gputui.sim.runtime import start_simulator

    with frozen_clock(when):
        running = start_simulator(list(sources), behaviour=False)
        try:
            yield running
        finally:
            running.stop()
