"""`gputui diagnose`: run the checks once and report.

Exit codes (DESIGN §3.2): 0 nothing at or above --fail-on; 1 findings at or above it;
3 the cluster could be read only in part (checked after --fail-on: 1 wins); 4 no
connection or credentials; 2 usage; 5 unusable --from input; 70 a bug in gputui (one line,
never a traceback); 130 Ctrl-C. A CRD that is not installed (no Karpenter, no GPU Operator)
is reported but is not a partial read.
"""

from __future__ import annotations

import argparse
import sys

from gputui.commands.gathering import leave_fast_if_big, progress_for
from gputui.commands.options import FORMATS, SEVERITIES, add_common_options, add_fail_on_option


def register(sub) -> None:
    p = sub.add_parser(
        "diagnose",
        help="run the checks once and report (text, json, yaml, markdown; junit, sarif for CI)",
        description="Run every check against the cluster (or saved manifests) and report the findings.",
    )
    add_common_options(p)
    p.add_argument(
        "-o",
        "--output",
        choices=FORMATS + ("junit", "sarif"),
        default="text",
        help="output format (default: text); junit and sarif are for CI systems",
    )
    p.add_argument(
        "--from",
        dest="from_paths",
        metavar="PATH",
        action="append",
        help="analyse saved manifests or a snapshot offline instead of a live cluster (repeatable)",
    )
    p.add_argument(
        "--check", dest="checks", metavar="CODE|NAME", action="append", help="run only these checks (repeatable)"
    )
    p.add_argument(
        "--node", dest="nodes", metavar="NAME", action="append", help="only findings about this node (repeatable)"
    )
    p.add_argument(
        "--nodepool", dest="nodepools", metavar="NAME", action="append", help="only findings about this NodePool"
    )
    p.add_argument("--min-severity", choices=SEVERITIES, default="info", help="hide findings below this severity")
    add_fail_on_option(p)
    p.add_argument("--no-progress", action="store_true", help="no progress indicator on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from checks.model import Severity
    from checks.registry import run_checks
    from gputui.errors import exit_code_for
    from gputui.kube.snapshot_source import load_snapshot
    from gputui.report import blocking_incomplete, render
    from gputui.report.selection import filter_findings, resolve_filters, select_checks

    selected = select_checks(getattr(args, "checks", None))
    with progress_for(args) as progress:
        snap = load_snapshot(args, progress=progress)
    resolve_filters(args, snap)
    findings = run_checks(snap, selected)
    findings = filter_findings(
        findings,
        snap,
        nodes=getattr(args, "nodes", None),
        nodepools=getattr(args, "nodepools", None),
        namespace=getattr(args, "namespace", None),
        min_severity=Severity.parse(getattr(args, "min_severity", None) or "info"),
    )
    fail_on = getattr(args, "fail_on", "error") or "error"
    render(getattr(args, "output", "text") or "text", snap, findings, sys.stdout, fail_on=fail_on, checks_run=selected)
    code = exit_code_for(findings, fail_on, bool(blocking_incomplete(snap)))
    leave_fast_if_big(snap, code)
    return code
