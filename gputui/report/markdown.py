"""Markdown for an incident ticket: a summary table, then each finding with its evidence."""

from __future__ import annotations

from typing import TextIO

from checks.model import Finding
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


def write_markdown(snapshot, findings: list[Finding], out: TextIO, title: str = "gputui diagnose") -> None:
    w = out.write
    w(f"## {title}: {snapshot.context or 'cluster'}\n\n")
    when = as_of(snapshot)
    source = "offline snapshot" if snapshot.source == "snapshot" else "live"
    w(f"- **Server:** {_code(snapshot.server or '-')}\n- **Source:** {source}, as of {when}\n")
    w(f"- **Cluster:** {'; '.join(cluster_facts(snapshot))}\n")
    counts = summary(findings)
    w(f"- **Findings:** {counts['error']} error, {counts['warning']} warning, {counts['info']} info\n")
    named = [f"{f.code} {_inline(f.title)} on {_code(_ref(f.subject))} (+{len(rest)})" for f, rest in causes(findings)]
    named += [f"{_inline(cause_words(c, []))}, not shown (+{len(rest)})" for c, rest in hidden_causes(findings)]
    if named:
        w("- **Causes:** " + "; ".join(named) + "\n")
    step = first_step(findings)
    if step:
        w(f"- **First:** {_inline(step)}\n")
    w("\n")
    if snapshot.incomplete:  # first: it changes how everything below reads
        if blocking_incomplete(snapshot):
            w("> **Partial view:** findings that need these resources may be missing.\n\n")
        w("### Could not see\n\n")
        for i in snapshot.incomplete:
            w(f"- {_code(i.resource)}: {i.reason}: {_inline(i.message)}\n")
        w("\n")
    if not findings:
        w("No problems found.\n")
    else:
        w("| Severity | Code | Check | Subject | Title |\n|---|---|---|---|---|\n")
        sections = grouped(findings)
        for _, group in sections:
            for lead, following in group:
                for f in (lead, *following):
                    # A consequence's row follows its cause's, its title marked ↳.
                    title = _cell(f.title) if f is lead else f"↳ {_cell(f.title)}"
                    w(f"| {f.severity.label} | {f.code} | {f.name} | {_cell(_ref(f.subject))} | {title} |\n")
        for sev, group in sections:
            w(f"\n### {sev.label.capitalize()}\n")
            for lead, following in group:
                _finding(w, lead)
                for f in following:
                    _finding(w, f, cause=lead)


def _finding(w, f: Finding, cause: Finding | None = None) -> None:
    marker = "↳ " if cause is not None else ""
    w(f"\n#### {marker}{f.code} {f.name}: {_inline(_ref(f.subject))}\n\n")
    if cause is not None:
        w(f"**Because of {cause.code} on {_inline(ref_words(cause.subject))}.**\n\n")
    elif f.cause:
        w(f"**Because of {_inline(cause_words(f.cause, []))} (not shown).**\n\n")
    w(f"*{_inline(f.title)}*\n\n")
    if f.message:
        w(f"{_inline(f.message)}\n\n")
    if f.evidence:
        w("Evidence:\n\n```text\n")
        for line in f.evidence:
            w(line.replace("```", "'''") + "\n")
        w("```\n\n")
    if f.related:
        w("Related: " + ", ".join(_code(_ref(r)) for r in f.related) + "\n\n")
    for fix in f.fixes:
        note = " (disruptive)" if fix.disruptive else ""
        w(f"- Fix {_code(fix.id)}{note}: {_inline(fix.title)}\n")
        if fix.kubectl:
            w(f"\n  ```sh\n  {fix.kubectl}\n  ```\n")
        if fix.gitops_warning:
            w(f"  - Warning: {_inline(fix.gitops_warning)}\n")


def _ref(r) -> str:
    ns = f"{r.namespace}/" if r.namespace else ""
    return f"{r.kind}/{ns}{r.name}"


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def _inline(text: str) -> str:
    return " ".join(str(text).split())


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")
