"""One exception family for everything a user can cause or fix.

The CLI turns these into one line on stderr plus a hint, and a distinct exit code;
`--debug` shows the traceback as well. Exit codes follow DESIGN §3.2:
0 clean, 1 findings at/above --fail-on, 2 usage, 3 cluster read only in part,
4 could not connect or authenticate, 5 bad input (files, manifests, arguments the
parser could not judge), 6 a requested object does not exist, 7 the server refused
a change (dry-run rejection, conflict that the user declined to retry), 70 internal
error (a bug in gputui: one line naming the exception and where, never a traceback
unless --debug), 130 interrupted (Ctrl-C).
`exit_code_for` turns a run's findings into 0, 1 or 3.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterable, Iterator

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_CONNECT = 4
EXIT_INPUT = 5
EXIT_NOT_FOUND = 6
EXIT_REFUSED = 7
# A bug: an exception gputui did not expect (sysexits' EX_SOFTWARE), never 1, which means findings.
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class GputuiError(Exception):
    """A problem with a clear message and, ideally, a next step."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, hint: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class InputError(GputuiError):
    """A file, manifest or argument that cannot be used."""

    exit_code = EXIT_INPUT


class ConnectError(GputuiError):
    """The API server could not be reached or refused our credentials."""

    exit_code = EXIT_CONNECT


class NotFoundError(GputuiError):
    exit_code = EXIT_NOT_FOUND


class RefusedError(GputuiError):
    """The server (or the user) refused a change."""

    exit_code = EXIT_REFUSED


def exit_code_for(findings: Iterable, fail_on: str, partial: bool = False) -> int:
    """1 when a finding is at or above `fail_on` ("none" never fails), else 3 for a partial read, else 0.

    `fail_on` is applied first: findings exit 1 even when the cluster was read only in part.
    A CRD that is not installed (no Karpenter, no GPU Operator) is not a partial read.
    """
    from checks.model import Severity

    if fail_on != "none":
        threshold = Severity.parse(fail_on)
        if any(f.severity >= threshold for f in findings):
            return EXIT_FINDINGS
    return EXIT_PARTIAL if partial else EXIT_OK


# Handled like Ctrl-C by every command that is not a full-screen app: the command stops, cleans
# up what it made (temporary files, debug pods) and gputui exits with 128+N.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name)
)


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; `signum` says which."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.reported = False

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"


@contextlib.contextmanager
def stop_signals_as_interrupt() -> Iterator[None]:
    """SIGINT, SIGTERM, SIGHUP and SIGQUIT raise Interrupted in the main thread (which then
    cleans up as for Ctrl-C); elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    with stop_signals_handled_by(handler):
        yield


@contextlib.contextmanager
def stop_signals_handled_by(handler) -> Iterator[None]:
    """Every stop signal goes to `handler` inside the block; the previous handlers come back after it."""
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
