"""The human report: grouped by severity, then area; fits 80 columns; plain when piped.

User-supplied strings (event messages, log lines) often contain square brackets, so
everything is printed as rich.Text, never parsed as markup.
"""

from __future__ import annotations

import os
import re
from typing import TextIO

from rich.console import Console
from rich.text import Text

from checks.model import Finding, Severity
from gputui.report import (
    as_of,
    blocking_incomplete,
    cause_words,
    causes,
    cluster_facts,
    first_step,
    grouped,
    hidden_causes,
    ref_words,
    summary,
)

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
    # What could not be read changes how everything below reads: it comes first.
    _incomplete(console, snapshot)
    if not findings:
        console.print(Text("No problems found.", style="bold green"))
    else:
        _summary(console, findings)
    for sev, group in grouped(findings):
        console.print()
        console.rule(_section_title(sev, group), align="left", style=_STYLE[sev].split()[-1])
        area = None
        for f, following in group:
            if f.area != area:
                area = f.area
                console.print(Text(area or "other", style="bold underline"))
            _finding(console, f)
            for c in following:
                _finding(console, c, cause=f)


def _section_title(sev: Severity, group: list[tuple[Finding, list[Finding]]]) -> Text:
    """ERROR (12), and the findings of other severities shown under their cause here."""
    shown = [f for lead, following in group for f in (lead, *following)]
    title = Text(f"{sev.label.upper()} ({sum(f.severity == sev for f in shown)}) ", style=_STYLE[sev])
    others = [(s, sum(f.severity == s for f in shown)) for s in Severity if s != sev]
    extra = ", ".join(f"{n} {_plural(s.label, n)}" for s, n in sorted(others, reverse=True) if n)
    if extra:
        title.append(f"and {extra} that follow from them ", style="dim")
    return title


def _follow(n: int) -> str:
    return f" (+{n} that {'follows' if n == 1 else 'follow'})"


def _plural(label: str, n: int) -> str:
    return label if n == 1 or label == "info" else label + "s"


def _summary(console: Console, findings: list[Finding]) -> None:
    """How many problems, which causes lead, what to do first."""
    counts = summary(findings)
    problems = counts["error"] + counts["warning"]
    line = Text(f"{problems} {'problem' if problems == 1 else 'problems'} ", style="bold")
    line.append(f"({counts['error']} {_plural('error', counts['error'])}, ")
    line.append(f"{counts['warning']} {_plural('warning', counts['warning'])})")
    if counts["info"]:
        line.append(f" and {counts['info']} info")
    leading, hidden = causes(findings), hidden_causes(findings)
    line.append("; causes:" if leading or hidden else "; no finding follows from another")
    console.print()
    _indented(console, line, 0, hang=2)
    for f, following in leading:
        t = Text("- ")
        t.append(f.code, style=_STYLE[f.severity])
        t.append(f" {f.title} on {ref_words(f.subject)}")
        t.append(_follow(len(following)), style="dim")
        _indented(console, t, 2, hang=2)
    for cause_id, following in hidden:
        t = Text(f"- {cause_words(cause_id, [])}, not shown")
        t.append(_follow(len(following)), style="dim")
        _indented(console, t, 2, hang=2)
    step = first_step(findings)
    if step:
        t = Text("first: ", style="bold")
        t.append(step)
        _indented(console, t, 0, hang=7)


def _header(console: Console, snapshot, findings: list[Finding], title: str) -> None:
    head = Text(title, style="bold")
    head.append(f"  {snapshot.context or 'cluster'}")
    head.append(" (offline snapshot)" if snapshot.source == "snapshot" else " (live)", style="dim")
    head.append(f" as of {as_of(snapshot)}")
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


def _finding(console: Console, f: Finding, cause: Finding | None = None) -> None:
    """One finding; one that follows from `cause` is indented under it and marked ↳."""
    d = 2 if cause is not None else 0
    head = Text("  ↳ " if cause is not None else "  ")
    head.append(f.code, style=_STYLE[f.severity])
    head.append(f" {f.name}  ")
    head.append(_ref(f.subject), style="bold")
    if cause is not None and f.severity != cause.severity:
        head.append(f"  ({f.severity.label})", style=_STYLE[f.severity])
    _indented(console, head, 0, hang=4 + d)
    if cause is not None:
        _indented(console, Text(f"because of {cause.code} on {ref_words(cause.subject)}", style="bold"), 4 + d, 2)
    elif f.cause:  # the cause was filtered out of this report
        _indented(console, Text(f"because of {cause_words(f.cause, [])} (not shown)", style="bold"), 4, 2)
    _indented(console, Text(f.title, style="italic"), 4 + d)
    if f.message and f.message != f.title:
        _indented(console, Text(f.message), 4 + d)
    if f.evidence:
        _indented(console, Text("evidence:", style="dim"), 4 + d)
        for line in f.evidence[:_MAX_EVIDENCE]:
            _indented(console, Text("- " + line), 6 + d, hang=2)
        if len(f.evidence) > _MAX_EVIDENCE:
            more = Text(f"... {len(f.evidence) - _MAX_EVIDENCE} more (see -o json)", style="dim")
            _indented(console, more, 6 + d)
    if f.related:
        rel = Text("related: ", style="dim")
        rel.append(", ".join(_ref(r) for r in f.related))
        _indented(console, rel, 4 + d, hang=9)
    for fix in f.fixes:
        t = Text("fix: ", style="dim")
        t.append(fix.id, style="bold green")
        t.append(f"  {fix.title}")
        if fix.disruptive:
            t.append("  (disruptive)", style="bold red")
        if cause is not None and any(_same_fix(fix, c) for c in cause.fixes):
            t.append(f"  (the fix of {cause.code} above)", style="dim")
            _indented(console, t, 4 + d, hang=5)
            continue
        _indented(console, t, 4 + d, hang=5)
        if fix.kubectl:
            # One physical line, however long: a command wrapped with hard newlines cannot be pasted.
            console.print(Text(" " * (9 + d) + "$ " + fix.kubectl, style="green"), soft_wrap=True)
        if fix.gitops_warning:
            _indented(console, Text("! " + fix.gitops_warning, style="yellow"), 9 + d, hang=2)


def _same_fix(a, b) -> bool:
    return a.id == b.id and a.target.to_json() == b.target.to_json() and a.patch == b.patch


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
    """Print text wrapped to the console width; continuation lines indented by `indent + hang`.
    Words break only between words, never inside a `Kind name` pair or a name (see line_spans)."""
    first = max(20, console.width - indent)
    for n, (start, end) in enumerate(line_spans(text.plain, first, max(20, first - hang))):
        line = Text(" " * (indent if n == 0 else indent + hang))
        line.append_text(text[start:end])
        line.rstrip()
        console.print(line, soft_wrap=True)  # wrapped here already; a quoted command stays whole


# A kind followed by its object's name is one unit: "Pod gpu-operator/x" is never split.
_KIND = re.compile(
    r"(Pod|Node|NodeClaim|NodePool|DaemonSet|Deployment|StatefulSet|ReplicaSet|Job|ClusterPolicy|"
    r"EC2NodeClass|NodeClass|NVIDIADriver|Namespace|pod|node|nodeclaim|daemonset|NodePool)"
)
# A word too long for a line breaks after one of these (or before "("), so uids stay whole.
_BREAK_AFTER = ",;_/=:"


def line_spans(plain: str, first: int, rest: int) -> list[tuple[int, int]]:
    """(start, end) of each line of `plain` wrapped to `first` columns, then `rest`."""
    # A `command` quoted in a message is one word: pasted, it must be whole on one line.
    words = [(m.start(), m.end()) for m in re.finditer(r"(?:`[^`]*`|\S)+", plain)]
    quoted = {(s, e) for s, e in words if "`" in plain[s:e] and " " in plain[s:e]}
    atoms: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        s, e = words[i]
        if i + 1 < len(words) and _KIND.fullmatch(plain[s:e]):
            atoms.append((s, words[i + 1][1]))
            i += 2
        else:
            atoms.append((s, e))
            i += 1
    if atoms:  # leading spaces are the caller's indent
        atoms[0] = (0, atoms[0][1])
    lines: list[tuple[int, int]] = []
    width = first
    cur: list[int] | None = None
    queue = list(reversed(atoms))
    while queue:
        s, e = queue.pop()
        if (s, e) in quoted:
            space = -1
            if cur is not None and e - cur[0] > width:
                lines.append((cur[0], cur[1]))
                width, cur = rest, None
            if cur is None and e - s > width:
                lines.append((s, e))
                width = rest
                continue
        else:
            space = plain.find(" ", s, e)
        if space != -1 and e - s > rest:  # a Kind name pair too long for any line may break after all
            queue += [(space + 1, e), (s, space)]
            continue
        if cur is not None:
            if e - cur[0] <= width:
                cur[1] = e
                continue
            lines.append((cur[0], cur[1]))
            width, cur = rest, None
        if e - s <= width:
            cur = [s, e]
            continue
        if space != -1:  # the first line is narrower than the rest
            queue += [(space + 1, e), (s, space)]
            continue
        cut = max(
            (p for p in range(s + 1, s + width + 1) if plain[p - 1] in _BREAK_AFTER or plain[p] == "("), default=0
        )
        cut = cut or s + width
        lines.append((s, cut))
        width = rest
        queue.append((cut, e))
    if cur is not None:
        lines.append((cur[0], cur[1]))
    return lines or [(0, 0)]


def _ref(r) -> str:
    ns = f"{r.namespace}/" if r.namespace else ""
    return f"{r.kind} {ns}{r.name}"
