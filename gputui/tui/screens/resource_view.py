"""k9s-style resource views (`:pods`, `:pending`, `:nodes`, `:nodeclaims`, `:nodepools`,
`:events`): the snapshot's objects of one kind with kubectl's usual columns, `/` to filter
(with the filtered count), shift+letter or a header click to sort, enter to open a row.
`d` runs nvidia-smi on a node's row, `E` edits a NodePool's row (both asked for first)."""

from __future__ import annotations

import datetime as _dt
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Static

from checks.findings import age_text
from checks.gpu_nodes import allocatable_gpus
from checks.k8s import is_terminal, pod_gpu_request
from checks.model import ObjectRef
from gputui.tui import fleet_model
from gputui.tui.gather_messages import SnapshotReady
from gputui.tui.screens.app_screen import AppScreen
from gputui.tui.widgets.filter_input import FilterInput
from gputui.tui.widgets.footer import KeyFooter
from gputui.tui.widgets.node_table import common_domain
from gputui.tui.widgets.resource_table import MORE_KEY, Column, ResourceTable


@dataclass(frozen=True)
class View:
    name: str
    title: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]
    records: Callable[[Any], list]  # snapshot -> records
    cells: Callable[[Any, Any], dict]  # (snapshot, record) -> {column key: cell}
    ref: Callable[[Any, Any], ObjectRef]  # (snapshot, record) -> the object enter opens
    sort: str = "name"
    reverse: bool = False
    # The snapshot lists its rows are made from: a live change to none of them leaves the view as it is.
    reads: frozenset[str] = frozenset({"pods"})
    key: Callable[[Any], str] = lambda r: f"{r.metadata.namespace or ''}/{r.metadata.name}"  # a row's lasting key


def _age_key(timestamp: str | None) -> float:
    """Sorts by age, youngest first (a missing time counts as oldest)."""
    try:
        return -_dt.datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("inf")


def _age_cell(snap, timestamp) -> Text:
    return Text(age_text(snap.age_seconds(timestamp)), justify="right")


# -- pods ----------------------------------------------------------------------------------------


def _ready(p) -> tuple[int, int]:
    statuses = p.status.container_statuses
    return sum(1 for c in statuses if c.ready), max(len(p.spec.containers), len(statuses))


def _restarts(p) -> int:
    return sum(c.restart_count for c in p.status.container_statuses)


def _pod_status(p) -> Text:
    from gputui.tui.screens.object_detail import _pod_status as status

    return status(p)


def _pod_cells(snap, p) -> dict:
    ready, total = _ready(p)
    restarts = _restarts(p)
    gpus = pod_gpu_request(p)
    return {
        "namespace": p.metadata.namespace or "",
        "name": Text(p.metadata.name),
        "ready": Text(f"{ready}/{total}", style="" if ready == total or is_terminal(p) else "yellow"),
        "status": _pod_status(p),
        "restarts": Text(str(restarts), justify="right", style="bold red" if restarts else ""),
        "gpus": Text(str(gpus or ""), justify="right"),
        "age": _age_cell(snap, p.metadata.creation_timestamp),
        "node": (p.spec.node_name or "").split(".")[0] or Text("-", style="dim"),
    }


def _pod_ref(_snap, p) -> ObjectRef:
    return ObjectRef("Pod", p.metadata.name, namespace=p.metadata.namespace, api_version="v1")


POD_COLUMNS = (
    Column("namespace", "Namespace", drop=4, sort=lambda p: p.metadata.namespace or "", sort_key="P"),
    Column("name", "Name", shrink=True, min_width=40, sort=lambda p: p.metadata.name, sort_key="N"),
    Column("ready", "Ready", drop=1, sort=lambda p: _ready(p), sort_key="R"),
    Column("status", "Status", shrink=True, sort=lambda p: _pod_status(p).plain, sort_key="S"),
    Column("restarts", "Restarts", drop=2, sort=_restarts, sort_key="T"),
    Column("gpus", "GPUs", drop=5, sort=pod_gpu_request),
    Column("age", "Age", drop=3, sort=lambda p: _age_key(p.metadata.creation_timestamp), sort_key="A"),
    Column("node", "Node", drop=6, sort=lambda p: p.spec.node_name or "", sort_key="O"),
)


def _pending(snap) -> list:
    return [p for p in snap.pods if (p.status.phase or "") == "Pending"]


# -- nodes, NodeClaims, NodePools ---------------------------------------------------------------------


_DOMAIN: list = [lambda: None, ""]  # (weak reference to the last snapshot, the domain its node names share)


def _short_node(snap, name: str) -> str:
    """The node's name without the domain every node shares, as in the GPU node table."""
    if _DOMAIN[0]() is not snap:
        _DOMAIN[:] = [weakref.ref(snap), common_domain(n.metadata.name for n in snap.nodes)]
    domain = _DOMAIN[1]
    return name[: -len(domain)] if domain and name.endswith(domain) else name


def _node_cells(snap, n) -> dict:
    status = fleet_model.node_status(n)
    labels = n.metadata.labels
    return {
        "name": Text(_short_node(snap, n.metadata.name)),
        "status": Text(status, style="" if status == "Ready" else "bold red" if "NotReady" in status else "yellow"),
        "nodepool": labels.get("karpenter.sh/nodepool", ""),
        "instance": labels.get("node.kubernetes.io/instance-type", ""),
        "gpus": Text(f"{fleet_model.allocated_gpus(snap, n.metadata.name)}/{allocatable_gpus(n)}", justify="right"),
        "age": _age_cell(snap, n.metadata.creation_timestamp),
    }


NODE_COLUMNS = (
    Column("name", "Name", sort=lambda n: n.metadata.name, sort_key="N"),
    Column("status", "Status", sort=fleet_model.node_status, sort_key="S"),
    Column("nodepool", "NodePool", drop=2, sort=lambda n: n.metadata.labels.get("karpenter.sh/nodepool", "")),
    Column(
        "instance", "Instance", drop=3, sort=lambda n: n.metadata.labels.get("node.kubernetes.io/instance-type", "")
    ),
    Column("gpus", "GPUs used/alloc", drop=1, sort=allocatable_gpus),
    Column("age", "Age", drop=4, sort=lambda n: _age_key(n.metadata.creation_timestamp), sort_key="A"),
)


def _condition(obj, kind: str) -> str:
    status = obj.status if isinstance(obj.status, dict) else {}
    return next((c.get("status", "") for c in status.get("conditions") or [] if c.get("type") == kind), "Unknown")


def _nodeclaim_cells(snap, nc) -> dict:
    labels = nc.metadata.labels
    status = nc.status if isinstance(nc.status, dict) else {}
    ready = _condition(nc, "Ready")
    return {
        "name": Text(nc.metadata.name),
        "type": labels.get("node.kubernetes.io/instance-type", ""),
        "capacity": labels.get("karpenter.sh/capacity-type", ""),
        "zone": labels.get("topology.kubernetes.io/zone", ""),
        "node": (status.get("nodeName") or "").split(".")[0] or Text("-", style="dim"),
        "ready": Text(ready, style="" if ready == "True" else "bold red"),
        "age": _age_cell(snap, nc.metadata.creation_timestamp),
        "nodepool": labels.get("karpenter.sh/nodepool", ""),
    }


NODECLAIM_COLUMNS = (
    Column("name", "Name", sort=lambda nc: nc.metadata.name, sort_key="N"),
    Column("type", "Type", drop=1, sort=lambda nc: nc.metadata.labels.get("node.kubernetes.io/instance-type", "")),
    Column("capacity", "Capacity", drop=5, sort=lambda nc: nc.metadata.labels.get("karpenter.sh/capacity-type", "")),
    Column("zone", "Zone", drop=6, sort=lambda nc: nc.metadata.labels.get("topology.kubernetes.io/zone", "")),
    Column("node", "Node", drop=2, sort=lambda nc: (nc.status or {}).get("nodeName") or "", sort_key="O"),
    Column("ready", "Ready", sort=lambda nc: _condition(nc, "Ready"), sort_key="R"),
    Column("age", "Age", drop=3, sort=lambda nc: _age_key(nc.metadata.creation_timestamp), sort_key="A"),
    Column("nodepool", "NodePool", drop=4, sort=lambda nc: nc.metadata.labels.get("karpenter.sh/nodepool", "")),
)


def nodepool_cells(_snap, r) -> dict:
    return {
        "name": Text(r.name, style="bold" if r.is_gpu else ""),
        "gpus": Text(
            fleet_model.usage_bar(r.gpus_used, r.gpu_limit, width=6) if r.is_gpu else "-",
            style="bold red" if r.gpu_limit is not None and r.gpus_used >= r.gpu_limit else "",
        ),
        "nodes": Text(str(r.nodes), justify="right"),
        "ready": Text(r.ready, style="" if r.ready == "Ready" else "bold red"),
        "weight": Text(str(r.weight if r.weight is not None else "-"), justify="right"),
        "capacity": r.capacity_types,  # plain strings: kubectl's own words
        "disruption": r.disruption,
    }


NODEPOOL_COLUMNS = (
    Column("name", "Name", sort=lambda r: r.name, sort_key="N"),
    Column("gpus", "GPUs used/limit", sort=lambda r: r.gpus_used),
    Column("nodes", "Nodes", drop=1, sort=lambda r: r.nodes),
    Column("ready", "Ready", sort=lambda r: r.ready, sort_key="R"),
    Column("weight", "Weight", drop=2, sort=lambda r: r.weight or 0),
    Column("capacity", "Capacity", drop=3, sort=lambda r: r.capacity_types),
    Column("disruption", "Disruption", drop=4, shrink=True, sort=lambda r: r.disruption),
)


# -- events --------------------------------------------------------------------------------------


def _event_cells(snap, e) -> dict:
    o = e.involved_object
    return {
        "type": Text(e.type or "", style="yellow" if e.type == "Warning" else ""),
        "reason": e.reason,
        "object": Text(f"{o.kind.lower()}/{o.name}"),
        "age": _age_cell(snap, e.when),
        "count": Text(str(e.count or 1), justify="right"),
        "message": Text(" ".join((e.message or "").split())),
        "namespace": e.metadata.namespace or "",
    }


def _event_ref(_snap, e) -> ObjectRef:
    o = e.involved_object
    return ObjectRef(o.kind, o.name, namespace=o.namespace or None, api_version=o.api_version)


EVENT_COLUMNS = (
    Column("type", "Type", drop=3, sort=lambda e: e.type or ""),
    Column("reason", "Reason", shrink=True, sort=lambda e: e.reason),
    Column(
        "object",
        "Object",
        shrink=True,
        min_width=24,
        sort=lambda e: (e.involved_object.kind, e.involved_object.name),
        sort_key="N",
    ),
    Column("age", "Last seen", sort=lambda e: _age_key(e.when), sort_key="A"),
    Column("count", "Count", drop=4, sort=lambda e: e.count or 1),
    Column("message", "Message", shrink=True, min_width=20, sort=lambda e: e.message),
    Column("namespace", "Namespace", drop=5, sort=lambda e: e.metadata.namespace or "", sort_key="P"),
)


def _karpenter(snap) -> str:
    return snap.karpenter_api_version or "karpenter.sh/v1"


VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        View("pods", "Pods", ("po", "pod"), POD_COLUMNS, lambda s: list(s.pods), _pod_cells, _pod_ref),
        View(
            "pending",
            "Pending pods",
            ("pending",),
            POD_COLUMNS,
            _pending,
            _pod_cells,
            _pod_ref,
            "age",
            True,
            reads=frozenset({"pods", "events"}),
        ),
        View(
            "nodes",
            "Nodes",
            ("no", "node"),
            NODE_COLUMNS,
            lambda s: list(s.nodes),
            _node_cells,
            lambda _s, n: ObjectRef("Node", n.metadata.name, api_version="v1"),
            reads=frozenset({"nodes", "pods"}),
        ),
        View(
            "nodeclaims",
            "NodeClaims",
            ("nc", "nodeclaim"),
            NODECLAIM_COLUMNS,
            lambda s: list(s.nodeclaims),
            _nodeclaim_cells,
            lambda s, nc: ObjectRef("NodeClaim", nc.metadata.name, api_version=_karpenter(s)),
            reads=frozenset({"nodeclaims"}),
        ),
        View(
            "nodepools",
            "NodePools",
            ("np", "nodepool"),
            NODEPOOL_COLUMNS,
            fleet_model.nodepool_rows,
            nodepool_cells,
            lambda s, r: ObjectRef("NodePool", r.name, api_version=_karpenter(s)),
            reads=frozenset({"nodepools", "nodes", "pods"}),
            key=lambda r: r.name,
        ),
        View(
            "events",
            "Events",
            ("ev", "event"),
            EVENT_COLUMNS,
            lambda s: list(s.events),
            _event_cells,
            _event_ref,
            "age",
            reads=frozenset({"events"}),
        ),
    )
}
LIVE_REDRAW_S = 1.0  # the shortest time between two redraws of a view for live changes

# `:po`, `:no`, ... as in k9s; every name and alias, longest first for completion.
ALIASES: dict[str, str] = {alias: v.name for v in VIEWS.values() for alias in (v.name, *v.aliases)}


def resolve(command: str) -> str | None:
    """The view a `:` command names (a view, an alias, or a unique prefix of a view's name)."""
    word = command.strip().lstrip(":").strip().lower()
    if not word:
        return None
    if word in ALIASES:
        return ALIASES[word]
    matches = {v for a, v in ALIASES.items() if a.startswith(word)}
    return matches.pop() if len(matches) == 1 else None


class ResourceScreen(AppScreen[None]):
    DEFAULT_CSS = """
    ResourceScreen #view-title {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="view-back"),
        Binding("slash", "filter", "Filter", key_display="/", id="view-filter", tooltip="filter the rows"),
        Binding("colon", "app.command", "View", key_display=":", id="view-command", tooltip="Jump to another view"),
        Binding("d", "debug_node", "nvidia-smi", id="view-debug-node", tooltip="run nvidia-smi on the selected node"),
        Binding("E", "edit_nodepool", "Edit", id="view-edit-nodepool", tooltip="edit the selected NodePool"),
    ]

    def __init__(self, view: str) -> None:
        super().__init__()
        self.view = view
        self.spec = VIEWS[view]
        self._records: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="view-title")
        with Vertical():
            yield FilterInput(id="view-filter-input")
            yield ResourceTable(id="view-table")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(ResourceTable)
        table.configure(
            self.spec.columns,
            self._cells,
            self.spec.key,
            sort_column=self.spec.sort,
            sort_reverse=self.spec.reverse,
        )
        self._next_fill = 0.0
        self._deferred: Timer | None = None
        self._fill()
        table.focus()

    def _cells(self, record) -> dict:
        return self.spec.cells(self.app.snapshot, record)

    def _fill(self) -> None:
        started = time.monotonic()
        self._deferred = None
        snap = self.app.snapshot
        records: list = self.spec.records(snap) if snap is not None else []
        self._records = {self.spec.key(r): r for r in records}
        table = self.query_one(ResourceTable)
        table.show(records)
        self._title()
        # A view of 100,000 pods takes a while to make: live changes redraw it only so often.
        self._next_fill = time.monotonic() + max(LIVE_REDRAW_S, 4 * (time.monotonic() - started))

    def _title(self) -> None:
        table = self.query_one(ResourceTable)
        text = Text.assemble((f"{self.spec.title} ", "bold"), f"({table.counts})")
        if self.app.snapshot is None:
            text.append("  not read yet", style="dim")
        text.append("  enter open · / filter · shift+letter sort · esc back", style="dim")
        self.query_one("#view-title", Static).update(text)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        change = message.change
        if change is None:  # a full read
            self._fill()
            return
        if change.resources and not (change.resources & self.spec.reads):
            return  # nothing this view shows changed
        wait = self._next_fill - time.monotonic()
        if wait <= 0:
            self._fill()
        elif self._deferred is None:
            self._deferred = self.set_timer(wait, self._fill)

    @property
    def selected(self) -> Any:
        key = self.query_one(ResourceTable).selected_key
        return self._records.get(key) if key else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "debug_node":
            return self.view == "nodes" and not self.app.read_only
        if action == "edit_nodepool":
            return self.view == "nodepools" and not self.app.read_only
        return True

    def action_filter(self) -> None:
        self.query_one(FilterInput).open()

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        self.query_one(ResourceTable).show(text_filter=event.value)
        self._title()

    def on_input_submitted(self, event: FilterInput.Submitted) -> None:
        self.query_one(ResourceTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value == MORE_KEY:
            self.action_filter()
            return
        record = self._records.get(str(event.row_key.value))
        if record is not None and self.app.snapshot is not None:
            self.app.open_object(self.spec.ref(self.app.snapshot, record))

    def action_debug_node(self) -> None:
        if self.selected is not None:
            self.app.open_debug([self.selected.metadata.name])

    def action_edit_nodepool(self) -> None:
        if self.selected is not None:
            self.app.open_nodepool_editor(self.selected.name)
