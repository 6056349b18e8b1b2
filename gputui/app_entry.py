"""`gputui` with no subcommand, and `gputui demo`: open the interactive app."""

from __future__ import annotations

import argparse


def _config(args: argparse.Namespace, kubeconfig: str | None, context: str | None, demo_scenario: str | None = None):
    from gputui.tui.state import AppConfig

    refresh = getattr(args, "refresh", None)
    return AppConfig(
        kubeconfig=kubeconfig,
        context=context,
        namespace=getattr(args, "namespace", None),
        read_only=bool(getattr(args, "read_only", False)),
        refresh_seconds=float(refresh) if refresh else None,
        demo_scenario=demo_scenario,
        request_timeout=float(getattr(args, "request_timeout", None) or 30.0),
    )


def _run_app(config) -> int:
    from gputui.tui.app import GputuiApp

    GputuiApp(config).run()
    return 0


def run(args: argparse.Namespace) -> int:
    """Open the app on the current (or --context) kubeconfig context; connection problems show inside it."""
    return _run_app(_config(args, getattr(args, "kubeconfig", None), getattr(args, "context", None)))


def run_demo(args: argparse.Namespace) -> int:
    """Start the simulator with a built-in scenario in this process, troubleshoot it, stop it on exit."""
    from gputui.sim.runtime import start_simulator

    sim = start_simulator([args.scenario])
    try:
        return _run_app(_config(args, str(sim.kubeconfig), sim.context, demo_scenario=args.scenario))
    finally:
        sim.stop()
