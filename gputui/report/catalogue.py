"""The check catalogue as people read it: `gputui checks list` (text, json, markdown),
`gputui checks explain CODE`, the finding screen's explanation, the README's check tables
and checks/INDEX.md. Everything here is derived from checks.registry, so a check is
described in one place: its @check declaration and its docstring.

Regenerate the README tables and the index after adding or changing a check:

    python -m gputui.report.catalogue --write
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.text import Text

from checks import transitions
from checks.check_docs import DOC_SECTIONS, SECTIONS, blocks
from checks.registry import AREAS, REGISTRY, Check

EXPLAIN_WIDTH = 80
ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
INDEX = ROOT / "checks" / "INDEX.md"
_LIST_ITEM = re.compile(r"^([-*•]|\d+[.)])\s+")
# README blocks the catalogue owns: <!-- checks-table AREA --> ... <!-- /checks-table -->
_README_BLOCK = re.compile(r"(<!-- checks-table (\w+) -->\n)(.*?)(<!-- /checks-table -->)", re.S)
# ... and the table of in-between states: <!-- transitions-table --> ... <!-- /transitions-table -->
_TRANSITIONS_BLOCK = re.compile(r"(<!-- transitions-table -->\n)(.*?)(<!-- /transitions-table -->)", re.S)


def all_checks() -> list[Check]:
    import checks  # noqa: F401  (registers every check module)

    return REGISTRY.all()


# -- list ---------------------------------------------------------------------------------


def rows(checks: Iterable[Check] | None = None) -> list[dict[str, Any]]:
    """One dict per check: the `gputui checks list -o json` document."""
    return [
        {
            "code": c.code,
            "name": c.name,
            "severity": c.severity.label,
            "area": c.area,
            "title": c.title,
            "module": c.module,
            "fixes": [k.value for k in c.fix_kinds],
        }
        for c in (all_checks() if checks is None else checks)
    ]


_LIST_COLUMNS: tuple[str, ...] = ("code", "name", "severity", "area", "title")


def list_lines(rows: list[dict[str, Any]], width: int | None = None) -> list[str]:
    """`gputui checks list` as text: one line per check, columns aligned. When that is wider
    than `width`, each check takes two lines, its title indented below the rest."""
    widths = {k: max([len(k), *(len(r[k]) for r in rows)]) for k in _LIST_COLUMNS}
    if width is None or sum(widths.values()) + 2 * (len(_LIST_COLUMNS) - 1) <= width:
        cols = _LIST_COLUMNS
        out = ["  ".join(k.upper().ljust(widths[k]) for k in cols).rstrip()]
        out += ["  ".join(r[k].ljust(widths[k]) for k in cols).rstrip() for r in rows]
        return out
    cols = _LIST_COLUMNS[:-1]
    out = ["  ".join(k.upper().ljust(widths[k]) for k in cols).rstrip(), "    TITLE"]
    for r in rows:
        out.append("  ".join(r[k].ljust(widths[k]) for k in cols).rstrip())
        out.append(textwrap.fill(r["title"], width, initial_indent="    ", subsequent_indent="    "))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(area: str | None = None) -> str:
    """The checks of one area (or all) as a Markdown table."""
    out = ["| code | name | severity | title | module |", "|---|---|---|---|---|"]
    for c in all_checks():
        if area is None or c.area == area:
            out.append(f"| {c.code} | {c.name} | {c.severity.label} | {_cell(c.title)} | `{c.module}` |")
    return "\n".join(out) + "\n"


def markdown(area: str | None = None) -> str:
    """`gputui checks list -o markdown`: one table per area, or the table of one area."""
    if area is not None:
        return markdown_table(area)
    parts = []
    present = {c.area for c in all_checks()}
    for digit, name in sorted(AREAS.items()):
        if name in present:
            parts.append(f"### {name} (GPU{digit}xx)\n\n{markdown_table(name)}")
    return "\n".join(parts)


# -- explain --------------------------------------------------------------------------------


def _wrap_block(block: str, width: int | None) -> str:
    if width is None or "\n" in block or block[:1].isspace():
        return block  # a verbatim block (commands, examples) stays as written
    m = _LIST_ITEM.match(block)
    indent = " " * len(m.group(0)) if m else ""
    return textwrap.fill(block, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def wrap_section(text: str, width: int | None) -> str:
    """A section's blocks, each paragraph wrapped once to `width` (None: left unwrapped,
    for a widget that wraps by itself); list items get a hanging indent."""
    return "\n\n".join(_wrap_block(b, width) for b in blocks(text))


def explanation(
    check: Check,
    width: int | None = EXPLAIN_WIDTH,
    *,
    heading_style: str = "bold",
    keys: tuple[str, ...] = SECTIONS,
) -> Text:
    """The summary and the sections `keys` of a check's docstring (by default the three
    that explain it; `checks explain` adds its Severity section)."""
    sections = check.doc_sections()
    t = Text()
    if sections.get("summary"):
        t.append(wrap_section(sections["summary"], width) + "\n")
    for key in keys:
        if sections.get(key):
            t.append("\n" if len(t) else "")
            t.append(key.capitalize() + "\n", style=heading_style)
            t.append(wrap_section(sections[key], width) + "\n")
    return t


def explain_page(check: Check, width: int = EXPLAIN_WIDTH) -> Text:
    """`gputui checks explain CODE`: heading, explanation with its Severity section, and
    where the check lives."""
    t = Text(f"{check.code} {check.name}", style="bold")
    t.append(f"  ({check.severity.label}, {check.area})", style="dim")
    t.append("\n")
    t.append(check.title + "\n", style="italic")
    t.append("\n")
    t.append_text(explanation(check, width, heading_style="bold underline", keys=DOC_SECTIONS))
    facts = []
    if check.reads:
        facts.append("Reads: " + ", ".join(check.reads))
    if check.fix_kinds:
        facts.append("Fixes: " + ", ".join(k.value for k in check.fix_kinds))
    facts.append(f"Defined in {check.module} ({check.fn.__name__})")
    lines = (textwrap.fill(f, width, subsequent_indent="  ", break_on_hyphens=False) for f in facts)
    t.append("\n" + "\n".join(lines) + "\n", style="dim")
    return t


# -- generated files --------------------------------------------------------------------------


def index_markdown() -> str:
    """checks/INDEX.md: every check, where it lives and what it may fix."""
    out = [
        "# Check index",
        "",
        "Generated by `python -m gputui.report.catalogue --write` from checks.registry; do not edit.",
        "Find a check by code, then open its module (the function is the check).",
        "",
        "| code | name | severity | module | function | fix kinds |",
        "|---|---|---|---|---|---|",
    ]
    for c in all_checks():
        fixes = ", ".join(k.value for k in c.fix_kinds) or "-"
        out.append(f"| {c.code} | {c.name} | {c.severity.label} | `{c.module}` | `{c.fn.__name__}` | {fixes} |")
    return "\n".join(out) + "\n"


def update_readme(text: str) -> str:
    """README text with every checks-table block regenerated from the registry, and the
    in-between states table from checks.transitions."""

    def rep(m: re.Match[str]) -> str:
        area = m.group(2)
        return m.group(1) + (markdown() if area == "all" else markdown_table(area)) + m.group(4)

    text = _README_BLOCK.sub(rep, text)
    return _TRANSITIONS_BLOCK.sub(lambda m: m.group(1) + transitions.markdown_table() + "\n" + m.group(3), text)


def readme_areas(text: str) -> list[str]:
    return [m.group(2) for m in _README_BLOCK.finditer(text)]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["--write"]:
        print("usage: python -m gputui.report.catalogue --write", file=sys.stderr)
        return 2
    README.write_text(update_readme(README.read_text(encoding="utf-8")), encoding="utf-8")
    INDEX.write_text(index_markdown(), encoding="utf-8")
    print(f"wrote {README.relative_to(ROOT)} and {INDEX.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
