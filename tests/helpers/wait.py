"""Waiting on a condition outside Textual (the Pilot tests use `tests.helpers.tui.wait_for`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02) -> T:
    """Poll `predicate()` until it returns something truthy and return that; after `timeout`
    seconds return its last (falsy) value, so the caller's assertion says what was wrong."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
