"""A table of findings, worst first and grouped by area; selecting a row opens its detail.
A finding that follows from another one comes right after its root cause, marked ↳.

The columns follow the terminal's width (and are laid out again on resize): the subject is
the column people act on, so on a narrow terminal the area goes first, then node names
lose the domain every node shares, then namespaces go, and last the severity is
abbreviated; what is left over is the problem's title, cut with an ellipsis.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from checks.model import Severity
from gputui.report import grouped
from gputui.tui.render import SEVERITY_STYLE, ref_text
from gputui.tui.widgets.node_table import common_domain

MAX_ROWS = 500
CELL_PADDING = 2  # DataTable pads every cell by one column on each side
SCROLLBAR = 2
PROBLEM_MIN = 22  # below this a title is a guess; shorten the other columns first
FOLLOWS = "↳ "  # marks a finding shown under its cause
SEVERITY_SHORT = {Severity.ERROR: "err", Severity.WARNING: "warn", Severity.INFO: "info"}


@dataclass(frozen=True)
class FindingsLayout:
    show_area: bool = True
    short_severity: bool = False
    node_domain: str = ""  # stripped from node names when not empty
    namespaces: bool = True
    problem_width: int | None = None
    subject_width: int | None = None  # None: as wide as the longest subject

    def severity(self, sev: Severity) -> str:
        return SEVERITY_SHORT[sev] if self.short_severity else sev.label

    def subject(self, ref) -> str:
        name = ref.name
        if ref.kind == "Node" and self.node_domain and name.endswith(self.node_domain):
            name = name[: -len(self.node_domain)]
        ns = f"{ref.namespace}/" if ref.namespace and self.namespaces else ""
        return f"{ref.kind}/{ns}{name}"


def plan_layout(width: int, findings: list) -> FindingsLayout:
    """The widest layout whose title column still gets PROBLEM_MIN (or the longest title, if shorter)."""
    if not findings or width <= 0:
        return FindingsLayout()
    longest_title = max(len(f.title) + (len(FOLLOWS) if getattr(f, "cause", None) else 0) for f in findings)
    domain = common_domain(f.subject.name for f in findings if f.subject.kind == "Node")
    steps = [
        FindingsLayout(),
        FindingsLayout(show_area=False),
        FindingsLayout(show_area=False, node_domain=domain),
        FindingsLayout(show_area=False, node_domain=domain, namespaces=False),
        FindingsLayout(show_area=False, node_domain=domain, namespaces=False, short_severity=True),
    ]
    for layout in steps:
        subject = max(len(layout.subject(f.subject)) for f in findings)
        room = width - _fixed_width(layout, findings) - subject
        if room >= min(PROBLEM_MIN, longest_title) or layout is steps[-1]:
            break
    problem = max(min(longest_title, room), min(12, longest_title))
    # Still too narrow: the subject takes what is left rather than running off the screen.
    subject_room = width - _fixed_width(layout, findings) - problem
    return FindingsLayout(
        layout.show_area,
        layout.short_severity,
        layout.node_domain,
        layout.namespaces,
        problem,
        subject_room if subject_room < subject else None,
    )


def _fixed_width(layout: FindingsLayout, findings: list) -> int:
    severity = max(
        len("Severity") if not layout.short_severity else 4, max(len(layout.severity(f.severity)) for f in findings)
    )
    columns = [severity, max(4, max(len(f.code) for f in findings))]
    if layout.show_area:
        columns.append(10)
    return sum(columns) + CELL_PADDING * (len(columns) + 2)


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
        self.layout_plan = FindingsLayout()
        self._laid_out_for = (0, 0)

    def on_mount(self) -> None:
        self._columns(self.layout_plan)

    def _columns(self, layout: FindingsLayout) -> None:
        self.add_column("Sev" if layout.short_severity else "Severity", key="severity")
        self.add_column("Code", key="code")
        if layout.show_area:
            self.add_column("Area", key="area", width=10)
        self.add_column("Problem", key="title", width=layout.problem_width)
        self.add_column("Subject", key="subject", width=layout.subject_width)

    def _room(self, rows: int) -> int:
        """Columns the cells may use: the width less the vertical scrollbar once the rows overflow."""
        width = self.size.width
        return width - SCROLLBAR if rows + 1 > self.size.height else width

    def show(self, findings: list, text_filter: str = "") -> None:
        """Replace the rows; the area is printed only where it changes, so rows read as groups."""
        self._all, self._text_filter = findings, text_filter
        needle = text_filter.lower().strip()
        matching = [f for f in findings if needle in _haystack(f)] if needle else list(findings)
        # Each cause is followed by what follows from it (whatever their severity).
        led = [(f, lead) for _, group in grouped(matching) for lead, rest in group for f in (lead, *rest)]
        rows = [f for f, _ in led]
        self._findings = rows
        cursor = self.cursor_row
        self.clear(columns=True)
        shown = rows[:MAX_ROWS]
        layout = plan_layout(self._room(len(shown)), shown) if self.size.width else FindingsLayout()
        self.layout_plan, self._laid_out_for = layout, (self.size.width, self.size.height)
        self._columns(layout)
        previous = None
        for i, f in enumerate(shown):
            follows = led[i][1] is not f
            cells = [Text(layout.severity(f.severity), style=SEVERITY_STYLE[f.severity]), f.code]
            if layout.show_area:
                group = (f.severity, f.area)
                shows_area = group != previous and not follows
                cells.append(Text(f.area or "other", style="bold") if shows_area else Text(""))
                previous = group if not follows else previous
            title = Text.assemble((FOLLOWS, "dim"), f.title) if follows else Text(f.title)
            title.overflow, title.no_wrap = "ellipsis", True
            cells += [
                title,
                Text(layout.subject(f.subject), overflow="ellipsis", no_wrap=True),
            ]
            self.add_row(*cells, key=str(i))
        if len(rows) > MAX_ROWS:
            more = Text(f"… {len(rows) - MAX_ROWS} more: press / to filter", style="dim italic")
            self.add_row(*[""] * (len(self.columns) - 2), more, "", key="more")
        if rows:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    def on_resize(self) -> None:
        if (self._findings or self._all) and (self.size.width, self.size.height) != self._laid_out_for:
            self.show(self._all, self._text_filter)

    def finding_at(self, row_key) -> object:
        try:
            return self._findings[int(row_key.value)]
        except (ValueError, IndexError, AttributeError, TypeError):
            return None

    @property
    def findings(self) -> list:
        return list(self._findings)

    def subject_cells(self) -> list[str]:
        """The subject column as shown, one string per finding row."""
        column = len(self.columns) - 1
        return [self.get_row_at(i)[column].plain for i in range(min(self.row_count, len(self._findings)))]


def _haystack(f) -> str:
    return " ".join(
        (
            f.code,
            f.name,
            f.severity.label,
            f.area,
            ref_text(f.subject),
            f.title,
            f.message,
            *(ref_text(r) for r in f.related),
        )
    ).lower()
