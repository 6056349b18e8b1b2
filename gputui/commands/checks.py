"""`gputui checks list|explain`: the check catalogue, and what one check looks at."""

from __future__ import annotations

import argparse
import sys

from gputui.commands.options import print_usage_when_bare
from gputui.errors import EXIT_OK, EXIT_USAGE, GputuiError


def register(sub) -> None:
    p = sub.add_parser("checks", help="list the checks or explain one")
    csub = p.add_subparsers(dest="checks_command", metavar="ACTION")
    q = csub.add_parser("list", help="list every check: code, name, severity, title")
    q.add_argument("-o", "--output", choices=("text", "json", "markdown"), default="text")
    q.add_argument("--area", help="only the checks of one area (nodes, operator, karpenter, ...)")
    q.set_defaults(func=run_checks_list)
    q = csub.add_parser("explain", help="what a check looks at, why it matters and how to fix it")
    q.add_argument("code", metavar="CODE|NAME")
    q.set_defaults(func=run_checks_explain)
    print_usage_when_bare(p)


def run_checks_list(args: argparse.Namespace) -> int:
    from gputui.report import catalogue

    area = getattr(args, "area", None)
    checks = [c for c in catalogue.all_checks() if area is None or c.area == area]
    output = getattr(args, "output", "text")
    if output == "json":
        import json

        json.dump(catalogue.rows(checks), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if output == "markdown":
        sys.stdout.write(catalogue.markdown(area))
        return EXIT_OK
    from gputui.report.text import make_console

    console = make_console(sys.stdout)
    # Piped, a row is never wrapped (grep and awk see whole titles); a terminal too narrow
    # for one line per check gets the title on its own line.
    width = console.width if console.is_terminal else None
    for line in catalogue.list_lines(catalogue.rows(checks), width):
        console.print(line, soft_wrap=True)
    return EXIT_OK


def run_checks_explain(args: argparse.Namespace) -> int:
    from checks.registry import REGISTRY
    from gputui.report import catalogue
    from gputui.report.text import make_console

    catalogue.all_checks()
    c = REGISTRY.find(args.code)
    if c is None:
        known = ", ".join(f"{x.code} {x.name}" for x in REGISTRY.all())
        raise GputuiError(f"unknown check: {args.code}", hint=f"known checks: {known}", exit_code=EXIT_USAGE)
    console = make_console(sys.stdout)
    console.print(catalogue.explain_page(c, min(console.width, catalogue.EXPLAIN_WIDTH)), end="")
    return EXIT_OK


# -- helpers -----------------------------------------------------------------------------------
