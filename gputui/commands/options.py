"""Options and choices several commands share: cluster access as kubectl has it, output
formats, severities, and the usage a bare command group prints."""

from __future__ import annotations

import argparse
import re
import sys

from gputui.errors import EXIT_USAGE

FORMATS = ("text", "json", "yaml", "markdown")
DEFAULT_REQUEST_TIMEOUT = 30.0
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
SEVERITIES = ("info", "warning", "error")


def add_common_options(p: argparse.ArgumentParser, top: bool = False) -> None:
    """Options accepted before or after the subcommand.

    Subparsers use SUPPRESS defaults so `gputui --context x diagnose` keeps the
    value given before the subcommand (argparse would otherwise reset it).
    """

    def d(value):
        return value if top else argparse.SUPPRESS

    p.add_argument("--debug", action="store_true", default=d(False), help="show tracebacks for errors")
    p.add_argument(
        "--read-only",
        action="store_true",
        default=d(False),
        help="never change the cluster; hide every mutating action",
    )
    g = p.add_argument_group("cluster access (as kubectl)")
    g.add_argument(
        "--kubeconfig",
        metavar="FILE",
        default=d(None),
        help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)",
    )
    g.add_argument("--context", metavar="NAME", default=d(None), help="kubeconfig context (default: current-context)")
    g.add_argument(
        "-n", "--namespace", metavar="NS", default=d(None), help="limit namespaced objects to this namespace"
    )
    g.add_argument(
        "--request-timeout",
        metavar="DURATION",
        type=duration,
        default=d(DEFAULT_REQUEST_TIMEOUT),
        help="timeout for each API request and credential plugin run, as kubectl takes it: 30s, 1m, "
        "2m30s or plain seconds; 0 waits forever (default: 30s)",
    )


def duration(text: str) -> float:
    """Seconds from kubectl's --request-timeout forms: `30` (seconds), `30s`, `1m`, `2m30s`,
    `1h`, `500ms` (Go durations). 0 means no timeout."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION_PART.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise argparse.ArgumentTypeError(
                f"invalid duration {text!r}: use seconds (30) or a duration such as 30s, 1m or 2m30s"
            ) from None
        seconds = sum(float(n) * _UNIT_S[u] for n, u in parts)
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: it must be 0 (no timeout) or more")
    return seconds


def request_timeout(args: argparse.Namespace) -> float:
    """--request-timeout in seconds; 0 means no timeout."""
    value = getattr(args, "request_timeout", None)
    return DEFAULT_REQUEST_TIMEOUT if value is None else float(value)


def add_fail_on_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fail-on",
        choices=SEVERITIES + ("none",),
        default="error",
        help="exit 1 when a finding at or above this severity exists (default: error)",
    )


def print_usage_when_bare(p: argparse.ArgumentParser) -> None:
    """`gputui GROUP` without an action prints that group's usage on stderr and exits 2."""

    def usage(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return EXIT_USAGE

    p.set_defaults(func=usage)
