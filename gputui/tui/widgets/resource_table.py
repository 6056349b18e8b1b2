"""A table of records (pods, events, NodePools, ...) that fits the terminal, sorts and filters.

Each column says how soon a narrow terminal drops it (`drop`: 0 never, the highest first) and
whether it may be cut to the room left (`shrink`, for free text such as messages); the subject
columns (names) are never dropped, and cut only where a name alone is wider than the terminal
allows (pod names run to 60 characters). The sort column is never dropped. The sort column's header carries ▲ or ▼; a header
click, or the column's k9s key (shift+letter, `sort_key`), sorts by it and again reverses it.
`shown`/`total` are the counts a `/` filter leaves, for the "12/340" next to the table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

CELL_PADDING = 2
SCROLLBAR = 2
MAX_ROWS = 1000
MORE_KEY = "__more__"
UP, DOWN = "▲", "▼"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    drop: int = 0  # 0: always shown; on a narrow terminal the highest goes first
    sort: Callable[[Any], Any] | None = None  # None: not sortable
    shrink: bool = False  # free text: cut with an ellipsis to the room left
    min_width: int = 12  # a cut column keeps at least this much
    sort_key: str = ""  # the k9s shift+letter that sorts by this column


# k9s's sort keys (shift+letter); a view binds those of its columns.
SORT_KEYS = {
    "N": "name",
    "P": "namespace",
    "A": "age",
    "S": "status",
    "R": "ready",
    "T": "restarts",
    "O": "node",
}


def plain(cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def fit(
    width: int, columns: Sequence[Column], rows: list[dict], sort_column: str | None = None
) -> tuple[list[Column], dict[str, int]]:
    """(the columns that fit `width`, widths of the cut ones): drop by rank until the rest fits
    with its free-text columns cut to their min_width, then cut those to the room left."""
    need = {
        c.key: max([len(c.header) + 2 * (c.key == sort_column), *(len(plain(r.get(c.key, ""))) for r in rows)])
        + CELL_PADDING
        for c in columns
    }

    def least(kept: list[Column]) -> int:
        return sum(min(need[c.key], c.min_width + CELL_PADDING) if c.shrink else need[c.key] for c in kept)

    kept = list(columns)
    for c in sorted((c for c in columns if c.drop and c.key != sort_column), key=lambda c: -c.drop):
        if least(kept) <= width:
            break
        kept.remove(c)
    # Cut the free-text columns, the one with the most to spare first, until the rest fits.
    widths = {c.key: need[c.key] for c in kept}
    floor = {c.key: min(need[c.key], c.min_width + CELL_PADDING) for c in kept if c.shrink}
    over = sum(widths.values()) - width
    while over > 0 and floor:
        key = max(floor, key=lambda k: widths[k] - floor[k])
        if widths[key] <= floor[key]:
            break
        widths[key] -= 1
        over -= 1
    cut = {k: widths[k] - CELL_PADDING for k in floor if widths[k] < need[k]}
    return kept, cut


class ResourceTable(DataTable):
    DEFAULT_CSS = """
    ResourceTable {
        height: 1fr;
    }
    """
    BINDINGS = [
        Binding(key, f"sort_column('{column}')", f"Sort by {column}", show=False, id=f"sort-{column}")
        for key, column in SORT_KEYS.items()
    ]

    def __init__(self, columns: Sequence[Column] = (), **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.all_columns = list(columns)
        self._records: list = []
        self._made: list[tuple[Any, dict, str]] = []
        self._cells: Callable[[Any], dict] = lambda r: {}
        self._row_key: Callable[[Any], str] = str
        self._filter = ""
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.visible_columns: list[str] = []
        self.shown = 0
        self.total = 0
        self._laid_out: tuple = ()

    def configure(
        self,
        columns: Sequence[Column],
        cells: Callable[[Any], dict],
        row_key: Callable[[Any], str],
        sort_column: str | None = None,
        sort_reverse: bool = False,
    ) -> None:
        self.all_columns, self._cells, self._row_key = list(columns), cells, row_key
        self.sort_column, self.sort_reverse = sort_column, sort_reverse

    def show(self, records: list | None = None, text_filter: str | None = None) -> None:
        if records is not None:
            # Cells and their text are made once per set of records, not on every keystroke of a filter.
            self._records = list(records)
            self._made = [
                (r, cells, " ".join(plain(v) for v in cells.values()).lower())
                for r in self._records
                for cells in (self._cells(r),)
            ]
        if text_filter is not None:
            self._filter = text_filter.lower().strip()
        selected = self.selected_key
        self.total = len(self._made)
        rows = [(r, c) for r, c, text in self._made if not self._filter or self._filter in text]
        column = next((c for c in self.all_columns if c.key == self.sort_column and c.sort), None)
        if column is not None and column.sort is not None:
            by = column.sort
            rows.sort(key=lambda rc: by(rc[0]), reverse=self.sort_reverse)
        self.shown = len(rows)
        shown = rows[:MAX_ROWS]
        room = self._room(len(shown) + (len(rows) > MAX_ROWS))
        kept, cut = fit(room, self.all_columns, [c for _, c in shown], self.sort_column)
        self.clear(columns=True)
        self.visible_columns = [c.key for c in kept]
        for c in kept:
            self.add_column(self._header(c), key=c.key, width=cut.get(c.key))
        for r, cells in shown:
            values = []
            for c in kept:
                value = cells.get(c.key, "")
                if c.key in cut:
                    value = value.copy() if isinstance(value, Text) else Text(str(value))
                    value.no_wrap, value.overflow = True, "ellipsis"
                    value.truncate(cut[c.key], overflow="ellipsis")
                values.append(value)
            self.add_row(*values, key=self._row_key(r))
        if len(rows) > MAX_ROWS:
            more = Text(f"… {len(rows) - MAX_ROWS} more: press / to filter", style="dim italic")
            self.add_row(more, *[""] * (len(kept) - 1), key=MORE_KEY)
        self._laid_out = (self.size.width, self.size.height)
        if selected is not None and selected in {self._row_key(r) for r, _ in shown}:
            self.move_cursor(row=self.get_row_index(selected))

    def _header(self, c: Column) -> Text:
        if c.key != self.sort_column:
            return Text(c.header)
        return Text.assemble(c.header, " ", (DOWN if self.sort_reverse else UP, "bold"))

    def _room(self, rows: int) -> int:
        width = self.size.width
        if not width:
            return 10**6  # not laid out yet: every column
        return width - SCROLLBAR if rows + 1 > self.size.height else width

    def on_resize(self) -> None:
        if self._records and (self.size.width, self.size.height) != self._laid_out:
            self.show()

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - no cursor yet
            return None
        return None if key == MORE_KEY else str(key)

    @property
    def counts(self) -> str:
        """'12/340' while a filter hides rows, else '340'."""
        return f"{self.shown}/{self.total}" if self._filter else str(self.total)

    def sort_by(self, key: str) -> None:
        if key == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = key, False
        self.show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sort_column":
            return any(c.key == parameters[0] and c.sort for c in self.all_columns)
        return True

    def action_sort_column(self, key: str) -> None:
        self.sort_by(key)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = str(event.column_key.value)
        if any(c.key == key and c.sort for c in self.all_columns):
            self.sort_by(key)
