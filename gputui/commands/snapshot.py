"""`gputui snapshot`: save what a live gathering reads, for offline diagnosis or the simulator.

Exit codes: 0 written; 3 written, but a resource could not be read; 4 no connection or
credentials; 5 the file cannot be written.
"""

from __future__ import annotations

import argparse
import sys

from gputui.commands.gathering import leave_fast_if_big, progress_for
from gputui.commands.options import add_common_options
from gputui.errors import EXIT_OK, EXIT_PARTIAL, GputuiError


def register(sub) -> None:
    p = sub.add_parser("snapshot", help="save what a live gathering reads, for offline diagnosis or the simulator")
    add_common_options(p)
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        required=True,
        help="file to write (YAML kind: List; .json for JSON; - for standard output). An existing regular "
        "file is replaced and keeps its permissions; a new one is created 0600; devices, FIFOs and "
        "directories are refused",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress indicator on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gputui.kube import snapshot_file
    from gputui.kube.client import from_args
    from gputui.kube.gather import gather
    from gputui.report import blocking_incomplete

    target = args.output
    try:
        # Created first so that an unwritable or refused target fails before the cluster is read.
        writer = snapshot_file.SnapshotWriter(target)
    except OSError as e:
        raise _cannot_write(target, e) from None
    with writer:
        with from_args(args) as kube, progress_for(args) as progress:
            snap = gather(kube, progress=progress, sink=writer)
        try:
            written = writer.finish(snap, out=sys.stdout if target == "-" else None)
        except OSError as e:
            raise _cannot_write(target, e) from None
    counts = ", ".join(f"{writer.counts[a]} {a}" for a in ("nodes", "pods", "events") if a in writer.counts)
    print(f"gputui: wrote {written} objects ({counts}, {len(snap.logs)} log tails) to {target}", file=sys.stderr)
    for i in snap.incomplete:
        print(f"gputui: could not read {i.resource}: {i.reason}: {i.message}", file=sys.stderr)
    code = EXIT_PARTIAL if blocking_incomplete(snap) else EXIT_OK
    leave_fast_if_big(snap, code)
    return code


def _cannot_write(target: str, e: OSError) -> GputuiError:
    return GputuiError(f"cannot write {target}: {e.strerror or e}", hint="choose a writable path for -o")
