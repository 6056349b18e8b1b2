"""App-wide messages. Names are past tense: they report what happened.

They do not bubble: the app forwards each one to every screen itself, and a bubbling
copy would come straight back to it.
"""

from __future__ import annotations

from textual.message import Message


class SnapshotReady(Message, bubble=False):
    """A gathering finished, or the watches brought changes (`change`, a gputui.kube.live.Change):
    the new snapshot and the findings of the checks run on it; `view`, when given, is what the
    fleet screen shows of them (gputui.tui.fleet_view), worked out off the screen's thread."""

    def __init__(self, snapshot, findings: list, change=None, view=None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.findings = findings
        self.change = change
        self.view = view


class GatherProgressed(Message, bubble=False):
    """The gatherer read another page: `resource` now has `count` items; `done` lists finished so far."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class GatherFailed(Message, bubble=False):
    """No snapshot: could not connect, authenticate or read the cluster."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__()
        self.message = message
        self.hint = hint


class GatherStarted(Message, bubble=False):
    """A gathering of `context` began (after `r`, auto-refresh or a context switch)."""

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context
