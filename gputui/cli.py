"""Command-line entry point: the top parser, built from the command modules, and the dispatch.

Each subcommand is one module in gputui/commands/ holding its parser and its handlers.
Those modules import only the standard library at the top (`gputui --help` must stay
fast); a handler imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from gputui import __version__
from gputui.commands import app, checks, debug, demo, diagnose, nodepool, rbac, sim, snapshot, undo
from gputui.commands.options import add_common_options
from gputui.errors import EXIT_INTERRUPTED, GputuiError

# In the order `gputui --help` lists them.
COMMANDS = (diagnose, snapshot, checks, sim, undo, debug, nodepool, rbac, demo)


def _read_offline(paths: list[str]) -> list[dict]:
    """`diagnose --from` reads what the simulator would serve: built-in scenario names too, and
    hand-written manifests get the fields a server would have set. Only this entry imports the
    simulator, so the choice is made here."""
    from gputui.sim.loader import load_objects

    return load_objects(paths, shift_time=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gputui",
        description="Troubleshoot GPU nodes on Kubernetes: Karpenter NodePools/NodeClaims and the NVIDIA GPU Operator.",
        epilog="Run `gputui demo` to try it on a built-in simulated cluster.",
    )
    parser.add_argument("--version", action="version", version=f"gputui {__version__}")
    add_common_options(parser, top=True)
    parser.set_defaults(read_offline=_read_offline)
    app.register(parser)  # no subcommand: the interactive app
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    show_traceback = args.debug or bool(os.environ.get("GPUTUI_DEBUG"))
    try:
        return int(args.func(args) or 0)
    except GputuiError as e:
        if show_traceback:
            raise
        print(f"gputui: error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"  hint: {e.hint}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("gputui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `gputui diagnose | head`: the reader left; not an error worth a traceback.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
