"""`gputui demo [SCENARIO]`: start the simulator with a built-in scenario in this process,
open the app on it, and stop the simulator when the app exits."""

from __future__ import annotations

import argparse

from gputui.commands.app import add_watch_option, app_config, run_app
from gputui.commands.options import add_common_options


def register(sub) -> None:
    p = sub.add_parser("demo", help="start the simulator with a scenario and troubleshoot it")
    add_common_options(p)
    p.add_argument("scenario", nargs="?", default="incident", help="built-in scenario (default: incident)")
    p.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=float,
        default=argparse.SUPPRESS,
        help="read the simulated cluster again every SECONDS instead of watching it",
    )
    add_watch_option(p, argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the simulator with a built-in scenario in this process, troubleshoot it, stop it on exit."""
    from gputui.sim.runtime import start_simulator

    sim = start_simulator([args.scenario])
    try:
        return run_app(app_config(args, str(sim.kubeconfig), sim.context, demo_scenario=args.scenario))
    finally:
        sim.stop()
