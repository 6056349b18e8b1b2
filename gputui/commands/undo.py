"""`gputui undo`: list the audit log, or restore the object a fix changed."""

from __future__ import annotations

import argparse
import sys

from gputui.commands.options import add_common_options
from gputui.errors import EXIT_OK, EXIT_USAGE, GputuiError, RefusedError


def register(sub) -> None:
    p = sub.add_parser(
        "undo",
        help="restore an object a fix changed, from the audit log",
        description="Restore the object a gputui fix changed, as the audit log recorded it "
        "($XDG_STATE_HOME/gputui/audit.jsonl). Without --id: the newest change not undone "
        "for the current context's server.",
    )
    add_common_options(p)
    p.add_argument("--list", action="store_true", help="list the recorded changes and exit (reads only the log)")
    p.add_argument("--id", metavar="ID", help="the audit entry to undo (see --list)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gputui.fixes.apply import Applier, ReadOnlyError
    from gputui.fixes.audit import AuditLog

    log = AuditLog()
    if getattr(args, "list", False):
        return _print_list(log)
    if getattr(args, "read_only", False):
        raise ReadOnlyError("undo a change")
    from gputui.kube.client import from_args

    kube = from_args(args)
    kube.version()
    applier = Applier(kube, log)
    up = applier.preview_undo(getattr(args, "id", None))
    out = sys.stdout
    print(f"Audit entry {up.entry.id} ({up.entry.time}, context {up.entry.context or '-'}): {up.entry.title}", file=out)
    print(f"Undo will {up.message}.", file=out)
    for w in up.warnings:
        print(f"warning: {w}", file=out)
    if up.diff:
        print(up.diff.rstrip("\n"), file=out)
    if not getattr(args, "yes", False):
        if not sys.stdin.isatty():
            raise GputuiError(
                "not undoing without confirmation", hint="pass --yes to undo non-interactively", exit_code=EXIT_USAGE
            )
        answer = input("Undo this change? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Nothing changed.", file=out)
            return EXIT_OK
    result = applier.undo(up.entry.id, expected_resource_version=up.resource_version)
    if not result.ok:
        raise RefusedError(
            result.message, hint="run `gputui undo` again to see the current diff" if result.conflict else None
        )
    print(result.message, file=out)
    return EXIT_OK


def _print_list(log) -> int:
    entries = log.entries()
    if not entries:
        print(f"No changes recorded in {log.path}.")
        return EXIT_OK
    undone = log.undone_ids()
    print(f"{'ID':<24} {'TIME':<20} {'STATE':<14} {'CONTEXT':<18} CHANGE")
    for e in reversed(entries):
        print(f"{e.id:<24} {e.time:<20} {_state(e, undone):<14} {(e.context or '-')[:18]:<18} {e.title}")
    return EXIT_OK


def _state(e, undone: set[str]) -> str:
    if e.action == "undo":
        return "undo" if e.ok else "undo failed"
    if not e.ok:
        return "failed"
    if e.id in undone:
        return "undone"
    if not e.restorable:
        return "final"
    return "can undo"
