"""Options and choices several commands share: cluster access as kubectl has it, output
formats, severities, and the usage a bare command group prints."""

from __future__ import annotations

import argparse
import sys

from gputui.errors import EXIT_USAGE

FORMATS = ("text", "json", "yaml", "markdown")
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
        metavar="SECONDS",
        type=float,
        default=d(30.0),
        help="timeout for each API request (default: 30)",
    )


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
