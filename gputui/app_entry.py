"""`gputui` with no subcommand, and `gputui demo`."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from gputui.errors import GputuiError

    raise GputuiError(
        "the interactive app is not part of this build yet",
        hint="run `gputui diagnose` for a report, or `gputui demo` to try it on the simulated cluster",
        exit_code=2,
    )


def run_demo(args: argparse.Namespace) -> int:
    """Start the simulator with a built-in scenario in this process and troubleshoot it."""
    from gputui.sim.runtime import start_simulator

    sim = start_simulator([args.scenario])
    try:
        from gputui import diagnose

        ns = argparse.Namespace(**vars(args))
        ns.kubeconfig, ns.context = str(sim.kubeconfig), sim.context
        for k, v in dict(output="text", from_paths=None, checks=None, nodes=None, nodepools=None,
                         min_severity="info", fail_on="none", no_progress=True).items():
            setattr(ns, k, getattr(ns, k, v) if hasattr(ns, k) else v)
        return diagnose.run(ns)
    finally:
        sim.stop()
