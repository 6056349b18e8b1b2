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
    q.add_argument("-o", "--output", choices=("text", "json"), default="text")
    q.set_defaults(func=run_checks_list)
    q = csub.add_parser("explain", help="what a check looks at, why it matters and how to fix it")
    q.add_argument("code", metavar="CODE|NAME")
    q.set_defaults(func=run_checks_explain)
    print_usage_when_bare(p)


def run_checks_list(args: argparse.Namespace) -> int:
    import checks  # noqa: F401
    from checks.registry import REGISTRY

    rows = [
        {"code": c.code, "name": c.name, "severity": c.severity.label, "area": c.area, "title": c.title}
        for c in REGISTRY.all()
    ]
    if getattr(args, "output", "text") == "json":
        import json

        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    from rich import box
    from rich.table import Table

    from gputui.report.text import make_console

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col in ("code", "name", "severity", "area", "title"):
        table.add_column(col.upper(), no_wrap=col != "title", overflow="fold")
    for r in rows:
        table.add_row(r["code"], r["name"], r["severity"], r["area"], r["title"])
    make_console(sys.stdout).print(table)
    return EXIT_OK


def run_checks_explain(args: argparse.Namespace) -> int:
    from rich.text import Text

    import checks  # noqa: F401
    from checks.registry import REGISTRY
    from gputui.report.text import make_console

    c = REGISTRY.find(args.code)
    if c is None:
        known = ", ".join(f"{x.code} {x.name}" for x in REGISTRY.all())
        raise GputuiError(f"unknown check: {args.code}", hint=f"known checks: {known}", exit_code=EXIT_USAGE)
    console = make_console(sys.stdout)
    head = Text(f"{c.code} {c.name}", style="bold")
    head.append(f"  ({c.severity.label}, {c.area})", style="dim")
    console.print(head)
    console.print(Text(c.title, style="italic"))
    sections = c.doc_sections()
    if sections.get("summary"):
        console.print()
        console.print(Text(sections["summary"]))
    for title in ("what it checks", "why it matters", "how to fix"):
        if sections.get(title):
            console.print()
            console.print(Text(title.capitalize(), style="bold underline"))
            console.print(Text(sections[title]))
    if c.reads:
        console.print()
        console.print(Text("Reads: " + ", ".join(c.reads), style="dim"))
    return EXIT_OK
