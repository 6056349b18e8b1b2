"""A table of findings, worst first and grouped by area; selecting a row opens its detail."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from gputui.tui.render import SEVERITY_STYLE, ref_text


MAX_ROWS = 500


class FindingsTable(DataTable):
    DEFAULT_CSS = """
    FindingsTable {
        height: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._findings: list = []
        self._all: list = []
        self._text_filter = ""

    def on_mount(self) -> None:
        self._columns(None)

    def _columns(self, problem_width) -> None:
        self.add_column("Severity", key="severity", width=8)
        self.add_column("Code", key="code", width=6)
        self.add_column("Area", key="area", width=10)
        # The problem before the subject: on a narrow terminal the long object names are what gets cut.
        self.add_column("Problem", key="title", width=problem_width)
        self.add_column("Subject", key="subject")

    def _problem_width(self, rows: list) -> int | None:
        """Room for the whole subject when the terminal allows, at least 30 columns for the problem."""
        if not rows or not self.size.width:
            return None
        longest_title = max(len(f.title) for f in rows)
        longest_subject = max(len(ref_text(f.subject)) for f in rows)
        room = self.size.width - (8 + 6 + 10) - 2 * 5 - 1
        return max(min(30, longest_title), min(longest_title, room - longest_subject))

    def show(self, findings: list, text_filter: str = "") -> None:
        """Replace the rows; the area is printed only where it changes, so rows read as groups."""
        self._all, self._text_filter = findings, text_filter
        needle = text_filter.lower().strip()
        rows = sorted(findings, key=lambda f: f.sort_key)
        if needle:
            rows = [f for f in rows if needle in _haystack(f)]
        self._findings = rows
        cursor = self.cursor_row
        self.clear(columns=True)
        self._columns(self._problem_width(rows))
        previous = None
        for i, f in enumerate(rows[:MAX_ROWS]):
            group = (f.severity, f.area)
            area = Text(f.area or "other", style="bold") if group != previous else Text("")
            previous = group
            self.add_row(Text(f.severity.label, style=SEVERITY_STYLE[f.severity]), f.code, area,
                         Text(f.title, overflow="ellipsis", no_wrap=True), Text(ref_text(f.subject)), key=str(i))
        if len(rows) > MAX_ROWS:
            self.add_row("", "", "", Text(f"… {len(rows) - MAX_ROWS} more: press / to filter", style="dim italic"), "",
                         key="more")
        if rows:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    def on_resize(self) -> None:
        if self._findings or self._all:
            self.show(self._all, self._text_filter)

    def finding_at(self, row_key) -> object:
        try:
            return self._findings[int(row_key.value)]
        except (ValueError, IndexError, AttributeError, TypeError):
            return None

    @property
    def findings(self) -> list:
        return list(self._findings)


def _haystack(f) -> str:
    return " ".join((f.code, f.name, f.severity.label, f.area, ref_text(f.subject), f.title, f.message,
                     *(ref_text(r) for r in f.related))).lower()
