"""The human report: grouped by severity, then area; fits 80 columns; plain when piped.

User-supplied strings (event messages, log lines) often contain square brackets, so
everything is printed as rich.Text, never parsed as markup.
"""

from __future__ import annotations

import os
from typing import TextIO

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from checks.model import Finding, Severity
from gputui.report import blocking_incomplete, cluster_facts, severity_order, summary

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold cyan"}
_MAX_EVIDENCE = 8


def make_console(out: TextIO, color: bool | None = None) -> Console:
    if color is None:
        color = bool(getattr(out, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
    return Console(
        file=out,
        no_color=not color,
        force_terminal=color or None,
        color_system="auto" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )


def write_text(
    snapshot, findings: list[Finding], out: TextIO, *, color: bool | None = None, title: str = "gputui diagnose"
) -> None:
    console = make_console(out, color)
    _header(console, snapshot, findings, title)
    if not findings:
        console.print(Text("No problems found.", style="bold green"))
    for sev, group in severity_order(findings):
        console.print()
        rule_title = Text(f"{sev.label.upper()} ({len(group)}) ", style=_STYLE[sev])
        console.rule(rule_title, align="left", style=_STYLE[sev].split()[-1])
        area = None
        for f in group:
            if f.area != area:
                area = f.area
                console.print(Text(area or "other", style="bold underline"))
            _finding(console, f)
    _incomplete(console, snapshot)


def _header(console: Console, snapshot, findings: list[Finding], title: str) -> None:
    head = Text(title, style="bold")
    head.append(f"  {snapshot.context or 'cluster'}")
    head.append(" (offline snapshot)" if snapshot.source == "snapshot" else " (live)", style="dim")
    _indented(console, head, 0, hang=2)
    if snapshot.server:
        _indented(console, Text(f"server {snapshot.server}", style="dim"), 0, hang=2)
    _indented(console, Text(" · ".join(cluster_facts(snapshot)), style="dim"), 0, hang=2)
    counts = summary(findings)
    line = Text()
    for i, (sev, label) in enumerate(
        ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "info"))
    ):
        n = counts[label]
        if i:
            line.append(" · ")
        line.append(f"{n} {label}{'s' if n != 1 and label != 'info' else ''}", style=_STYLE[sev] if n else "")
    if blocking_incomplete(snapshot):
        line.append(" · ")
        line.append(f"{len(blocking_incomplete(snapshot))} resources unreadable", style="bold magenta")
    console.print(line)


def _finding(console: Console, f: Finding) -> None:
    head = Text("  ")
    head.append(f.code, style=_STYLE[f.severity])
    head.append(f" {f.name}  ")
    head.append(_ref(f.subject), style="bold")
    console.print(head)
    _indented(console, Text(f.title, style="italic"), 4)
    if f.message and f.message != f.title:
        _indented(console, Text(f.message), 4)
    if f.evidence:
        _indented(console, Text("evidence:", style="dim"), 4)
        for line in f.evidence[:_MAX_EVIDENCE]:
            _indented(console, Text("- " + line), 6, hang=2)
        if len(f.evidence) > _MAX_EVIDENCE:
            _indented(console, Text(f"... {len(f.evidence) - _MAX_EVIDENCE} more (see -o json)", style="dim"), 6)
    if f.related:
        rel = Text("related: ", style="dim")
        rel.append(", ".join(_ref(r) for r in f.related))
        _indented(console, rel, 4, hang=9)
    for fix in f.fixes:
        t = Text("fix: ", style="dim")
        t.append(fix.id, style="bold green")
        t.append(f"  {fix.title}")
        if fix.disruptive:
            t.append("  (disruptive)", style="bold red")
        _indented(console, t, 4, hang=5)
        if fix.kubectl:
            # One physical line, however long: a command wrapped with hard newlines cannot be pasted.
            console.print(Text(" " * 9 + "$ " + fix.kubectl, style="green"), soft_wrap=True)
        if fix.gitops_warning:
            _indented(console, Text("! " + fix.gitops_warning, style="yellow"), 9, hang=2)


def _incomplete(console: Console, snapshot) -> None:
    if not snapshot.incomplete:
        return
    console.print()
    blocking = blocking_incomplete(snapshot)
    if blocking:
        title = "Could not see (findings that need these may be missing)"
    elif any(i.reason != "NotFound" for i in snapshot.incomplete):
        title = "Could not see (kinds no check reads; findings are complete)"
    else:
        title = "Not installed"
    console.rule(Text(title + " ", style="bold magenta"), align="left", style="magenta")
    for i in snapshot.incomplete:
        t = Text("  ")
        t.append(i.resource, style="bold")
        t.append(f"  {i.reason}: {i.message}")
        _indented(console, t, 0, hang=4)


def _indented(console: Console, text: Text, indent: int, hang: int = 0) -> None:
    """Print text wrapped to the console width; continuation lines indented by `indent + hang`."""
    width = max(20, console.width - indent - hang)
    for n, line in enumerate(text.wrap(console, width, overflow="fold")):
        line.rstrip()
        console.print(Padding(line, (0, 0, 0, indent if n == 0 else indent + hang), expand=False), overflow="fold")


def _ref(r) -> str:
    ns = f"{r.namespace}/" if r.namespace else ""
    return f"{r.kind} {ns}{r.name}"
