"""A check's docstring, read into its sections.

The sections are *What it checks*, *Why it matters*, *How to fix* and *Severity* (the
check's default severity and exactly when it raises another); the text before them is
the summary. A heading stands on a line of its own (`What it checks:`) or starts
its first paragraph (`What it checks: whether ...`). Inside a section, the blocks keep
the docstring's structure: a paragraph is one line of text (the docstring's hard line
breaks are gone, so a renderer wraps it once, to its own width), a list item is one
line starting with its marker, and lines indented deeper than the paragraph (commands,
examples) stay exactly as written.
"""

from __future__ import annotations

import inspect
import re
import textwrap

SECTIONS = ("what it checks", "why it matters", "how to fix")
SEVERITY = "severity"  # when the check raises which severity (see README, "Severity policy")
DOC_SECTIONS = (*SECTIONS, SEVERITY)
_HEADING = re.compile(r"^(what it checks|why it matters|how to fix|severity(?=\s*:))\s*:?\s*(.*)$", re.I)
_LIST_ITEM = re.compile(r"^([-*•]|\d+[.)])\s+")


def doc_sections(doc: str | None) -> dict[str, str]:
    """{"summary": ..., "what it checks": ..., ...}: each section's blocks joined by blank
    lines; sections the docstring lacks are absent."""
    sections: dict[str, list[str]] = {"summary": []}
    inline: set[str] = set()
    current = "summary"
    for raw in inspect.cleandoc(doc or "").splitlines():
        m = _HEADING.match(raw.strip()) if not raw[:1].isspace() else None
        if m:
            current = m.group(1).lower()
            first = m.group(2)
            sections[current] = [first[:1].upper() + first[1:]] if first else []
            if first:
                inline.add(current)
        else:
            sections.setdefault(current, []).append(raw.rstrip())
    out = {}
    for name, lines in sections.items():
        if name in inline:  # the heading's own line is not indented: dedent the rest alone
            body = lines[0] + "\n" + textwrap.dedent("\n".join(lines[1:]))
        else:
            body = textwrap.dedent("\n".join(lines))
        text = "\n\n".join(blocks(body.strip("\n")))
        if text:
            out[name] = text
    return out


def blocks(text: str) -> list[str]:
    """Paragraphs unwrapped to one line each, list items to one line each, deeper-indented
    lines kept verbatim (as one block)."""
    out: list[str] = []
    para: list[str] = []
    verbatim: list[str] = []

    def flush() -> None:
        if para:
            out.append(" ".join(para))
            para.clear()
        if verbatim:
            out.append("\n".join(verbatim))
            verbatim.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        indented = line[:1].isspace()
        if _LIST_ITEM.match(stripped) and not indented:
            flush()
            para.append(stripped)
        elif indented and not para:
            verbatim.append(line.rstrip())
        elif indented and para and _LIST_ITEM.match(para[0]):
            para.append(stripped)  # a list item's continuation line
        elif indented:
            if para:
                out.append(" ".join(para))
                para.clear()
            verbatim.append(line.rstrip())
        else:
            if verbatim:
                flush()
            para.append(stripped)
    flush()
    return out
