"""Command-line entry point: the top parser, built from the command modules, and the dispatch.

Each subcommand is one module in gputui/commands/ holding its parser and its handlers.
Those modules import only the standard library at the top (`gputui --help` must stay
fast); a handler imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from gputui import __version__
from gputui.commands import app, checks, completion, debug, demo, diagnose, nodepool, rbac, sim, snapshot, undo
from gputui.commands.options import add_common_options
from gputui.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, GputuiError, Interrupted, stop_signals_as_interrupt

# In the order `gputui --help` lists them.
COMMANDS = (diagnose, snapshot, checks, sim, undo, debug, nodepool, rbac, demo, completion)


def _read_offline(paths: list[str]) -> list[dict]:
    """`diagnose --from` reads what the simulator would serve: built-in scenario names too, and
    hand-written manifests get the fields a server would have set. Only this entry imports the
    simulator, so the choice is made here."""
    from gputui.sim.loader import load_objects

    return load_objects(paths, shift_time=False)


def _scenario_names() -> list[str]:
    """For completion: the built-in scenarios (only this entry imports the simulator)."""
    from gputui.sim.scenario_index import scenario_names

    return scenario_names()


def kubectl_complete() -> int:
    """`kubectl_complete-gputui`: kubectl (1.26+) runs it to complete `kubectl gputui ...`."""
    return main(["__complete", "--kubectl", "--", *sys.argv[1:]])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        # Run by kubectl as the `kubectl-gputui` plugin, usage lines say what was typed.
        prog="kubectl gputui" if os.path.basename(sys.argv[0]) == "kubectl-gputui" else "gputui",
        description="Troubleshoot GPU nodes on Kubernetes: Karpenter NodePools/NodeClaims and the NVIDIA GPU Operator.",
        epilog="Run `gputui demo` to try it on a built-in simulated cluster.",
    )
    parser.add_argument("--version", action="version", version=f"gputui {__version__}")
    add_common_options(parser, top=True)
    parser.set_defaults(read_offline=_read_offline, build_parser=build_parser, scenario_names=_scenario_names)
    app.register(parser)  # no subcommand: the interactive app
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Whatever happens ends in one line on stderr and a distinct exit code:
    no traceback reaches the user unless --debug (or GPUTUI_DEBUG) asks for it."""
    show_traceback = bool(os.environ.get("GPUTUI_DEBUG")) or "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        show_traceback = show_traceback or bool(args.debug)
        # Full-screen apps take their keys themselves; every other command stops on a signal as on Ctrl-C.
        signals = contextlib.nullcontext() if _full_screen(args) else stop_signals_as_interrupt()
        with signals:
            return int(args.func(args) or 0)
    except GputuiError as e:
        if show_traceback:
            raise
        print(f"gputui: error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"  hint: {e.hint}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        if isinstance(e, Interrupted) and e.signum != signal.SIGINT:
            print(f"gputui: stopped by {e.name}", file=sys.stderr)
            return e.exit_code
        print("gputui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `gputui diagnose | head`: the reader left; not an error worth a traceback.
        _quiet_stdout()
        return 0
    except Exception as e:  # noqa: BLE001 - a bug: one line and EXIT_INTERNAL, never exit 1 (findings)
        if show_traceback:
            raise
        print(f"gputui: internal error: {internal_error_line(e)}", file=sys.stderr)
        print(
            "  hint: this is a bug in gputui; run the same command again with --debug for the traceback and report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _full_screen(args) -> bool:
    """The interactive app, the demo and the NodePool editor run full-screen."""
    command = getattr(args, "command", None)
    return command in (None, "demo") or (
        command == "nodepool" and getattr(args, "nodepool_command", None) in ("edit", "new")
    )


def internal_error_line(e: BaseException) -> str:
    """`ValueError: bad value (at gputui/kube/gather.py:123 in _paginate)`: the exception and the
    innermost frame of gputui's own code (or of the checks) that it passed through."""
    import traceback

    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if _own_code(f.filename)] or frames
    text = " ".join(str(e).split())[:300]
    what = f"{type(e).__name__}: {text}" if text else type(e).__name__
    if not ours:
        return what
    f = ours[-1]
    return f"{what} (at {_short_path(f.filename)}:{f.lineno} in {f.name})"


def _own_code(filename: str) -> bool:
    parts = filename.replace(os.sep, "/").split("/")
    return "gputui" in parts[:-1] or "checks" in parts[:-1]


def _short_path(filename: str) -> str:
    parts = filename.replace(os.sep, "/").split("/")
    for root in ("gputui", "checks"):
        if root in parts[:-1]:
            i = len(parts) - 1 - parts[::-1].index(root)
            return "/".join(parts[i:])
    return parts[-1]


def _quiet_stdout() -> None:
    try:
        sys.stdout = open(os.devnull, "w")
    except OSError:
        pass
