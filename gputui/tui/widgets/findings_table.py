"""A table of findings, worst first and grouped by area; selecting a row opens its detail."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from gputui.tui.render import SEVERITY_STYLE, ref_text


class FindingsTable(DataTable):
    DEFAULT_CSS = """
    FindingsTable {
        height: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._findings: list = []

    def on_mount(self) -> None:
        self.add_column("Severity", key="severity", width=8)
        self.add_column("Code", key="code", width=6)
        self.add_column("Area", key="area", width=10)
        self.add_column("Subject", key="subject")
        self.add_column("Problem", key="title")

    def show(self, findings: list, text_filter: str = "") -> None:
        """Replace the rows; the area is printed only where it changes, so rows read as groups."""
        needle = text_filter.lower().strip()
        rows = sorted(findings, key=lambda f: f.sort_key)
        if needle:
            rows = [f for f in rows if needle in _haystack(f)]
        self._findings = rows
        self.clear()
        previous = None
        for i, f in enumerate(rows):
            group = (f.severity, f.area)
            area = Text(f.area or "other", style="bold") if group != previous else Text("")
            previous = group
            self.add_row(Text(f.severity.label, style=SEVERITY_STYLE[f.severity]), f.code, area,
                         Text(ref_text(f.subject)), Text(f.title), key=str(i))

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
