"""`gputui` with no command: the interactive app on the current (or --context) kubeconfig
context. Connection problems show inside the app."""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    """The app is the top parser's own command: its options and handler go on the top parser."""
    parser.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=float,
        default=None,
        help="interactive app: read the cluster again every SECONDS instead of watching it",
    )
    add_watch_option(parser)
    parser.set_defaults(func=run)


def add_watch_option(parser: argparse.ArgumentParser, default=None) -> None:
    """--no-watch: the app reads once (and on `r`); by default watches keep what it shows current.
    A subcommand (demo) passes `default=argparse.SUPPRESS`, so that `gputui --no-watch demo` keeps
    the choice made before it."""
    parser.add_argument(
        "--no-watch",
        dest="watch",
        action="store_false",
        default=True if default is None else default,
        help="interactive app: read the cluster once (r reads again) instead of watching it for changes",
    )


def run(args: argparse.Namespace) -> int:
    """Open the app on the current (or --context) kubeconfig context; connection problems show inside it."""
    return run_app(app_config(args, getattr(args, "kubeconfig", None), getattr(args, "context", None)))


def app_config(args: argparse.Namespace, kubeconfig: str | None, context: str | None, demo_scenario: str | None = None):
    """The app's settings from the command line, for the cluster that `kubeconfig` and `context` name."""
    from gputui.commands.options import request_timeout
    from gputui.tui.state import AppConfig

    refresh = getattr(args, "refresh", None)
    return AppConfig(
        kubeconfig=kubeconfig,
        context=context,
        namespace=getattr(args, "namespace", None),
        read_only=bool(getattr(args, "read_only", False)),
        refresh_seconds=float(refresh) if refresh else None,
        watch=bool(getattr(args, "watch", True)) and not refresh,
        demo_scenario=demo_scenario,
        request_timeout=request_timeout(args),
    )


def run_app(config) -> int:
    from gputui.tui.app import GputuiApp

    GputuiApp(config).run()
    return 0
