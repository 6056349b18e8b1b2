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
    p.add_argument(
        "--list",
        action="store_true",
        help="list the recorded changes and exit (reads the log; an unconfirmed change's object is read "
        "to tell whether it landed)",
    )
    p.add_argument("--id", metavar="ID", help="the audit entry to undo (see --list)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gputui.fixes.apply import Applier, ReadOnlyError
    from gputui.fixes.audit import AuditLog

    log = AuditLog()
    if getattr(args, "list", False):
        return _print_list(log, args)
    if getattr(args, "read_only", False):
        raise ReadOnlyError("undo a change")
    log.check_writable()  # before the cluster is touched: no change without its record
    from gputui.kube.client import from_args

    kube = from_args(args)
    kube.version()
    applier = Applier(kube, log)
    up = applier.preview_undo(getattr(args, "id", None))
    _note_skipped(log)
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


def _note_skipped(log) -> None:
    note = log.skipped_note()
    if note:
        print(f"note: {note}", file=sys.stderr)


def _resolve(log, args) -> None:
    """Unconfirmed changes (gputui stopped mid-request) are settled by reading their objects,
    when the current context talks to their cluster; else they stay unconfirmed."""
    from gputui.fixes.apply import Applier

    if not log.pending():
        return
    try:
        from gputui.kube.client import from_args

        kube = from_args(args)
        Applier(kube, log).resolve_pending()
    except GputuiError as e:
        print(f"note: unconfirmed changes not checked: {e.message}", file=sys.stderr)


def _print_list(log, args) -> int:
    _resolve(log, args)
    entries = log.entries()
    _note_skipped(log)
    if not entries:
        print(f"No changes recorded in {log.path}.")
        return EXIT_OK
    undone = log.undone_ids()
    print(f"{'ID':<24} {'TIME':<20} {'STATE':<26} {'CONTEXT':<18} CHANGE")
    for e in reversed(entries):
        print(f"{e.id:<24} {e.time:<20} {_state(e, undone):<26} {(e.context or '-')[:18]:<18} {e.title}")
    return EXIT_OK


def _state(e, undone: set[str]) -> str:
    if e.pending:
        return "unconfirmed"
    if e.resolved:
        if not e.ok:
            return "unconfirmed → not applied"
        return "undone" if e.id in undone else f"unconfirmed → {e.resolved}"
    if e.action == "undo":
        return "undo" if e.ok else "undo failed"
    if not e.ok:
        return "failed"
    if e.id in undone:
        return "undone"
    if not e.restorable:
        return "final"
    return "can undo"
