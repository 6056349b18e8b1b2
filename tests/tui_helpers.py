"""Helpers shared by the Pilot tests of the app's screens."""

from __future__ import annotations

import os
import time
from collections.abc import Callable


async def wait_for(pilot, predicate: Callable[[], bool], what: str = "condition", timeout: float = 20.0) -> None:
    """Let the app run until `predicate()` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def widget_text(widget) -> str:
    """What a Static-like widget shows, as plain text."""
    from rich.console import Console

    console = Console(width=300, record=True, file=open(os.devnull, "w"))
    content = getattr(widget, "content", None)
    console.print(content if content is not None else widget.render())
    return console.export_text()
