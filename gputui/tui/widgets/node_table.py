"""The GPU node table: sortable by any column (click its header, or `s` to cycle; the sort
column's header carries ▲ or ▼) and filterable.

Columns the terminal has no room for are left out, least useful first (DROP_ORDER), and put
back when it grows: the node, its allocatable GPUs, its status and its worst finding stay.
A cordoned node's status is long (Ready,SchedulingDisabled): on a narrow terminal it reads
Ready,Cordoned, so the Worst column keeps its place."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from gputui.tui.fleet_model import usage_bar
from gputui.tui.render import SEVERITY_STYLE
from gputui.tui.widgets.resource_table import DOWN, UP

# column key, header, sort key
COLUMNS: list[tuple[str, str, Callable]] = [
    ("node", "Node", lambda r: r.name),
    ("nodepool", "NodePool", lambda r: r.nodepool),
    ("instance", "Instance", lambda r: r.instance_type),
    ("gpu", "GPU", lambda r: r.gpu_model),
    ("capacity", "Cap", lambda r: r.capacity),
    ("allocatable", "Alloc", lambda r: r.allocatable),
    ("allocated", "Used", lambda r: r.allocated),
    ("bar", "GPU use", lambda r: (r.allocated / r.allocatable) if r.allocatable else -1.0),
    ("cpu", "CPU", lambda r: r.cpu_share if r.cpu_share is not None else -1.0),
    ("memory", "Memory", lambda r: r.memory_share if r.memory_share is not None else -1.0),
    ("cost", "$/h", lambda r: r.usd_per_hour if r.usd_per_hour is not None else -1.0),
    ("type", "Type", lambda r: r.capacity_type),
    ("age", "Age", lambda r: r.age_seconds),
    ("status", "Status", lambda r: r.status),
    ("worst", "Worst", lambda r: (-(int(r.worst.severity)) if r.worst else 0, r.worst.code if r.worst else "")),
]
_SORT = {key: fn for key, _, fn in COLUMNS}
# What a narrow terminal gives up first: the GPU use bar repeats Used/Alloc, ages, prices and capacity
# types are detail, the GPU model and pool are not. The CPU and memory bars (what pods request of
# the node, as eks-node-viewer shows it) go before the GPU bar: on a GPU node the GPUs are the point.
DROP_ORDER = ("age", "type", "allocated", "capacity", "memory", "cpu", "bar", "cost", "instance", "nodepool", "gpu")
# kubectl's long status words, in the few columns a narrow terminal has.
SHORT_STATUS = (("SchedulingDisabled", "Cordoned"),)
CELL_PADDING = 2
SCROLLBAR = 2
MAX_ROWS = 300
MORE_KEY = "__more__"


class NodeTable(DataTable):
    DEFAULT_CSS = """
    NodeTable {
        height: 1fr;
    }
    """
    BINDINGS = [
        Binding("s", "cycle_sort", "Sort", id="sort-nodes", tooltip="Sort by the next column"),
        Binding("S", "reverse_sort", "Reverse", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self._rows: list = []
        self._filter = ""
        self.sort_column = "worst"
        self.sort_reverse = False
        self.visible_columns = [key for key, _, _ in COLUMNS]
        self._sorted_as = (self.sort_column, self.sort_reverse)

    def on_mount(self) -> None:
        for key, header, _ in COLUMNS:
            self.add_column(self._header(key, header), key=key)

    def _header(self, key: str, header: str) -> Text:
        if key != self.sort_column:
            return Text(header)
        return Text.assemble(header, " ", (DOWN if self.sort_reverse else UP, "bold"))

    @property
    def total(self) -> int:
        return len(self._rows)

    def on_resize(self) -> None:
        if self._rows:
            self.show()

    def show(self, rows: list | None = None, text_filter: str | None = None) -> None:
        if rows is not None:
            self._rows = rows
        if text_filter is not None:
            self._filter = text_filter.lower().strip()
        selected = self.selected_node
        shown = [r for r in self._rows if not self._filter or self._filter in r.text()]
        shown.sort(key=lambda r: (_SORT[self.sort_column](r), r.name), reverse=self.sort_reverse)
        suffix = common_domain(r.name for r in self._rows)
        rows = [_cells(r, suffix) for r in shown[:MAX_ROWS]]
        room = self._room(len(rows) + (len(shown) > MAX_ROWS))
        keys = fit_columns(room, rows, self.sort_column)
        if len(keys) < len(COLUMNS):  # narrow: the short status words first, then what still does not fit
            rows = [_cells(r, suffix, short_status=True) for r in shown[:MAX_ROWS]]
            keys = fit_columns(room, rows, self.sort_column)
        self._lay_out(keys)
        self.clear()
        picked = [i for i, (key, _, _) in enumerate(COLUMNS) if key in self.visible_columns]
        for r, cells in zip(shown, rows):
            self.add_row(*(cells[i] for i in picked), key=r.name)
        if len(shown) > MAX_ROWS:
            # Thousands of rows make every sort and keystroke slow; nobody reads past the worst few hundred.
            more = Text(f"… {len(shown) - MAX_ROWS} more: press / to filter", style="dim italic")
            self.add_row(more, *[""] * (len(picked) - 1), key=MORE_KEY)
        if selected is not None and selected in {r.name for r in shown}:
            self.move_cursor(row=self.get_row_index(selected))

    def _room(self, rows: int) -> int:
        width = self.size.width
        if not width:
            return 10**6  # not laid out yet: every column
        return width - SCROLLBAR if rows + 1 > self.size.height else width

    def _lay_out(self, keys: list[str]) -> None:
        if keys == self.visible_columns and self._sorted_as == (self.sort_column, self.sort_reverse):
            return
        self.visible_columns = keys
        self._sorted_as = (self.sort_column, self.sort_reverse)
        self.clear(columns=True)
        headers = {key: header for key, header, _ in COLUMNS}
        for key in keys:
            self.add_column(self._header(key, headers[key]), key=key)

    @property
    def shown_names(self) -> list[str]:
        return [str(k.value) for k in self.rows if k.value != MORE_KEY]

    @property
    def selected_node(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:  # noqa: BLE001 - no cursor yet
            return None

    def sort_by(self, column: str) -> None:
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self.show()

    def action_cycle_sort(self) -> None:
        keys = [k for k, _, _ in COLUMNS if k in self.visible_columns]
        if self.sort_column not in keys:
            keys.append(self.sort_column)
        self.sort_column = keys[(keys.index(self.sort_column) + 1) % len(keys)]
        self.sort_reverse = False
        self.show()
        self.notify(f"sorted by {dict((k, h) for k, h, _ in COLUMNS)[self.sort_column]}", timeout=2)

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.show()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))


def fit_columns(width: int, rows: list[list], sort_column: str | None = None) -> list[str]:
    """The column keys that fit `width`, dropping DROP_ORDER's columns one by one until they do;
    then the room left takes back what it can of the dropped ones, most useful first (a narrow
    column dropped before a wide one may fit once the wide one is gone)."""
    widths = []
    for i, (key, header, _) in enumerate(COLUMNS):
        content = max((len(str(cells[i])) for cells in rows), default=0)
        widths.append(max(len(header) + 2 * (key == sort_column), content) + CELL_PADDING)  # + the sort mark
    keys = [key for key, _, _ in COLUMNS]
    need = dict(zip(keys, widths))
    dropped = []
    for key in DROP_ORDER:
        if sum(need[k] for k in keys) <= width:
            break
        keys.remove(key)
        dropped.append(key)
    for key in reversed(dropped):
        if sum(need[k] for k in keys) + need[key] <= width:
            keys.append(key)
    order = [key for key, _, _ in COLUMNS]
    return sorted(keys, key=order.index)


def common_domain(names) -> str:
    """'.us-west-2.compute.internal' when every node shares it: 27 columns of the table back."""
    domains = {n.partition(".")[2] for n in names}
    if len(domains) == 1:
        domain = domains.pop()
        return f".{domain}" if domain else ""
    return ""


def _cells(r, suffix: str = "", short_status: bool = False) -> list:
    short = r.expected is not None and r.allocatable < r.expected
    worst = Text("")
    if r.worst is not None:
        # The code alone keeps the table inside 120 columns; the name is one keypress away.
        worst = Text(r.worst.code, style=SEVERITY_STYLE[r.worst.severity])
    status_style = "" if r.status == "Ready" else "bold red" if "NotReady" in r.status else "yellow"
    status = r.status
    if short_status:
        for long, short in SHORT_STATUS:
            status = status.replace(long, short)
    return [
        Text(r.name[: -len(suffix)] if suffix and r.name.endswith(suffix) else r.name),
        r.nodepool,
        r.instance_type,
        r.gpu_model,
        Text(str(r.capacity), justify="right"),
        Text(str(r.allocatable), style="bold red" if short else "", justify="right"),
        Text(str(r.allocated), justify="right"),
        Text(usage_bar(r.allocated, r.allocatable, width=6) if r.allocatable else "-"),
        _share_bar(r.cpu_requested, r.cpu_allocatable),
        _share_bar(r.memory_requested, r.memory_allocatable),
        Text(r.cost_text, justify="right", style="dim" if r.cost_text.startswith("~") else ""),
        r.capacity_type,
        Text(r.age, justify="right"),
        Text(status, style=status_style),
        worst,
    ]


def _share_bar(requested: float, allocatable: float) -> Text:
    """'██░░░░ 31%' of what the node can give; red when the pods ask for all of it."""
    if not allocatable:
        return Text("-")
    return Text(
        usage_bar(requested, allocatable, width=6, percent=True), style="red" if requested >= allocatable else ""
    )
