"""Reading a whole cluster from the command line (`diagnose`, `snapshot`): the progress line
on stderr while it is read, and a fast exit once a big read's output is out."""

from __future__ import annotations

import argparse
import os
import sys
import time

from gputui.errors import EXIT_OK

# Above this many objects, freeing the heap at exit costs seconds: leave with os._exit.
_FAST_EXIT_OBJECTS = 20_000


def show_progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "no_progress", False) and sys.stderr.isatty()


def progress_for(args: argparse.Namespace) -> GatherProgress:
    """The progress line when stderr is a terminal; the still-waiting notices in any case,
    unless --no-progress."""
    return GatherProgress(enabled=show_progress(args), notices=not getattr(args, "no_progress", False))


class GatherProgress:
    """One self-overwriting stderr line while gathering (only when stderr is a terminal), and a
    "still waiting" line every few seconds while the server does not answer (also in CI logs,
    so that a stalled server is never silent). Pass the object itself as gather's `progress`."""

    def __init__(self, enabled: bool, notices: bool = False):
        self.enabled = enabled
        self.notices = notices
        self.counts: dict[str, int] = {}
        self._last = 0.0

    def __enter__(self) -> GatherProgress:
        return self

    def __call__(self, resource: str, count: int) -> None:
        self.update(resource, count)

    def waiting(self, resources: list[str], seconds: float) -> None:
        """Called by gather while `resources` get no answer."""
        if not self.notices:
            return
        shown = ", ".join(resources[:6]) + (f" and {len(resources) - 6} more" if len(resources) > 6 else "")
        line = f"gputui: still waiting for {shown or 'the API server'} ({seconds:.0f} s without an answer)"
        if self.enabled and self._last:
            sys.stderr.write("\r\x1b[K")
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def update(self, resource: str, count: int) -> None:
        self.counts[resource] = count
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return
        self._last = now
        total = sum(self.counts.values())
        line = f"gputui: reading {resource} ({count})  {total} objects so far"
        sys.stderr.write("\r" + line[:100].ljust(60) + "\x1b[K")
        sys.stderr.flush()

    def __exit__(self, *exc) -> None:
        if self.enabled and self._last:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def leave_fast_if_big(snap, code: int) -> None:
    """Freeing a big heap object by object at exit takes seconds; the output is already out."""
    size = len(snap.pods) + len(snap.events) + len(snap.nodes)
    if size < _FAST_EXIT_OBJECTS or os.environ.get("GPUTUI_NO_FAST_EXIT"):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or EXIT_OK
    os._exit(code)
