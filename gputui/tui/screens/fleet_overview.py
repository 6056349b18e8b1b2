"""The main screen: cluster header, findings, GPU nodes, NodePools and GPU Operator operands."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from checks.model import ObjectRef
from gputui.tui.freshness import freshness
from gputui.tui.gather_messages import GatherFailed, GatherProgressed, GatherStarted, SnapshotReady
from gputui.tui.screens.app_screen import AppScreen
from gputui.tui.screens.resource_view import NODEPOOL_COLUMNS, nodepool_cells
from gputui.tui.widgets.cluster_header import ClusterHeader, header_fields
from gputui.tui.widgets.filter_input import FilterInput
from gputui.tui.widgets.findings_table import FindingsTable
from gputui.tui.widgets.footer import KeyFooter
from gputui.tui.widgets.node_table import MORE_KEY, NodeTable
from gputui.tui.widgets.resource_table import Column, ResourceTable

TABS = ("findings", "nodes", "nodepools", "operator")
TAB_TITLES = {"findings": "Findings", "nodes": "GPU nodes", "nodepools": "NodePools", "operator": "GPU Operator"}


def _operand_cells(op) -> dict:
    return {
        "operand": op.title,
        "daemonset": op.name,
        "desired": Text(str(op.desired), justify="right"),
        "ready": Text(str(op.ready), justify="right", style="" if op.healthy else "bold red"),
        "available": Text(str(op.available), justify="right"),
        "state": Text(
            "ok" if op.healthy else f"{op.desired - op.ready} not ready", style="green" if op.healthy else "bold red"
        ),
    }


OPERAND_COLUMNS = (
    Column("operand", "Operand", sort=lambda op: op.title, sort_key="N"),
    Column("daemonset", "DaemonSet", drop=3, sort=lambda op: op.name),
    Column("desired", "Desired", drop=2, sort=lambda op: op.desired),
    Column("ready", "Ready", sort=lambda op: op.ready, sort_key="R"),
    Column("available", "Avail", drop=1, sort=lambda op: op.available),
    Column("state", "State", sort=lambda op: op.healthy, sort_key="S"),
)


def _nodepool_cells(snapshot, r) -> dict:
    cells = nodepool_cells(snapshot, r)
    cells["cost"] = Text(r.cost_text, justify="right", style="dim" if r.cost_text.startswith("~") else "")
    cells["idle"] = Text(r.idle_text, style="yellow" if r.idle_gpus else "")
    return cells


# The NodePools tab also says what each pool's nodes cost, and its idle GPUs: how many, for how long
# the longest-idle node has been, what they cost an hour. A narrow terminal drops these first.
FLEET_NODEPOOL_COLUMNS = (
    *NODEPOOL_COLUMNS,
    Column("cost", "$/h", drop=9, sort=lambda r: r.usd_per_hour if r.usd_per_hour is not None else -1.0),
)
IDLE_COLUMN = Column(
    "idle", "Idle GPUs", drop=10, sort=lambda r: (r.idle_usd_per_hour or 0.0, r.idle_gpus, r.idle_seconds or 0.0)
)


def fleet_nodepool_columns(rows) -> tuple[Column, ...]:
    """The NodePools tab's columns: Idle GPUs only while some pool has an idle GPU node, so a
    column of dashes does not take the room the Disruption text needs."""
    return (*FLEET_NODEPOOL_COLUMNS, IDLE_COLUMN) if any(r.idle_gpus for r in rows) else FLEET_NODEPOOL_COLUMNS


class FleetScreen(AppScreen[None]):
    BINDINGS = [
        Binding("f", "show_tab('findings')", "Findings", id="tab-findings", tooltip="the Findings tab"),
        Binding("n", "show_tab('nodes')", "Nodes", id="tab-nodes", tooltip="the GPU nodes tab"),
        Binding("p", "show_tab('nodepools')", "NodePools", id="tab-nodepools", tooltip="the NodePools tab"),
        Binding("o", "show_tab('operator')", "Operator", id="tab-operator", tooltip="the GPU Operator tab"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter", tooltip="filter the table of this tab"),
        Binding("colon", "app.command", "View", key_display=":", id="fleet-command", tooltip="Jump to a resource view"),
        Binding("d", "debug_node", "nvidia-smi", id="fleet-debug-node", tooltip="Run nvidia-smi on the selected node"),
        Binding("E", "edit_nodepool", "Edit", id="fleet-edit-nodepool", tooltip="Edit the selected NodePool"),
    ]

    def compose(self) -> ComposeResult:
        yield ClusterHeader(Text("gputui — connecting…", style="bold"), id="cluster-header")
        yield Static("", id="gather-status")
        with TabbedContent(initial="findings", id="fleet-tabs"):
            with TabPane("Findings", id="findings"):
                with Vertical():
                    yield FilterInput(id="findings-filter")
                    yield FindingsTable(id="findings-table")
            with TabPane("GPU nodes", id="nodes"):
                with Vertical():
                    yield FilterInput(id="nodes-filter")
                    yield NodeTable(id="nodes-table")
            with TabPane("NodePools", id="nodepools"):
                with Vertical():
                    yield FilterInput(id="nodepools-filter")
                    yield ResourceTable(id="nodepools-table")
            with TabPane("GPU Operator", id="operator"):
                with Vertical():
                    yield FilterInput(id="operator-filter")
                    yield ResourceTable(id="operator-table")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#nodepools-table", ResourceTable).configure(
            FLEET_NODEPOOL_COLUMNS, lambda r: _nodepool_cells(self.app.snapshot, r), lambda r: r.name
        )
        self.query_one("#operator-table", ResourceTable).configure(
            OPERAND_COLUMNS, _operand_cells, lambda op: f"{op.namespace}/{op.name}"
        )
        app = self.app
        self._summary: tuple | None = None  # (snapshot, fleet_model.FleetSummary) once read
        self._freshness_shown = ""
        if getattr(app, "snapshot", None) is not None:
            self._fill(app.snapshot, app.findings)
        self.query_one(FindingsTable).focus()
        # The age of the data moves on by itself: say so every second (only redrawn when it changed).
        self.set_interval(1.0, self._tick_freshness)

    # -- data ----------------------------------------------------------------------------

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self._fill(message.snapshot, message.findings)
        status = self.query_one("#gather-status", Static)
        status.update("")
        status.remove_class("-error", "-busy")

    def on_gather_started(self, message: GatherStarted) -> None:
        status = self.query_one("#gather-status", Static)
        status.update(Text(f"reading {message.context or 'the cluster'}…"))
        status.remove_class("-error")
        status.add_class("-busy")
        if getattr(self.app, "snapshot", None) is None:
            # After a context switch nothing of the old cluster may stay on screen.
            self.query_one(ClusterHeader).show_text(Text(f"gputui — connecting to {message.context}…"))
            self.query_one(FindingsTable).show([])
            self.query_one(NodeTable).show([])
            self.query_one("#nodepools-table", ResourceTable).show([])
            self.query_one("#operator-table", ResourceTable).show([])
            self._label_tabs()

    def on_gather_progressed(self, message: GatherProgressed) -> None:
        self.query_one("#gather-status", Static).update(Text(message.text))

    def on_gather_failed(self, message: GatherFailed) -> None:
        status = self.query_one("#gather-status", Static)
        text = Text("✗ ", style="bold red")
        text.append(message.message, style="bold")
        if message.hint:
            text.append(f"  hint: {message.hint}", style="dim")
        status.update(text)
        status.remove_class("-busy")
        status.add_class("-error")

    def _fill(self, snapshot, findings: list) -> None:
        from gputui.tui.fleet_view import fleet_view

        app = self.app
        view = getattr(app, "fleet_view", None)
        if view is None or not view.fits(snapshot, findings):
            view = fleet_view(snapshot, findings, getattr(app, "kubernetes_version", ""))
        self._summary = (snapshot, view.summary)
        self._show_header()
        self.query_one(FindingsTable).show(findings, self._filter_text("findings"))
        self.query_one(NodeTable).show(view.nodes, self._filter_text("nodes"))
        pool_table = self.query_one("#nodepools-table", ResourceTable)
        pool_table.all_columns = list(fleet_nodepool_columns(view.nodepools))
        pool_table.show(view.nodepools, self._filter_text("nodepools"))
        self.query_one("#operator-table", ResourceTable).show(view.operands, self._filter_text("operator"))
        self._label_tabs()

    def _freshness(self):
        app = self.app
        status = app.live_status() if hasattr(app, "live_status") else None
        return freshness(status, getattr(app, "read_at", None), time.time())

    def _show_header(self) -> None:
        if self._summary is None:
            return
        snapshot, summary = self._summary
        app = self.app
        fresh = self._freshness()
        self._freshness_shown = fresh.plain if fresh is not None else ""
        self.query_one(ClusterHeader).show_summary(
            header_fields(
                summary,
                demo=app.config.demo_scenario,
                namespace=app.config.namespace,
                read_only=app.read_only,
                as_of=snapshot.now,
                freshness=fresh,
            )
        )

    def _tick_freshness(self) -> None:
        fresh = self._freshness()
        if self._summary is not None and (fresh.plain if fresh is not None else "") != self._freshness_shown:
            self._show_header()

    def _filter_text(self, tab: str) -> str:
        return self.query_one(f"#{tab}-filter", FilterInput).value

    def _label_tabs(self) -> None:
        """Each tab's title with its row count, '12/340' while its filter hides rows."""
        tabs = self.query_one(TabbedContent)
        findings = self.query_one(FindingsTable)
        nodes = self.query_one(NodeTable)
        counts = {
            "findings": (len(findings.findings), len(getattr(self.app, "findings", []) or [])),
            "nodes": (len(nodes.shown_names), nodes.total),
            "nodepools": self._counts(self.query_one("#nodepools-table", ResourceTable)),
            "operator": self._counts(self.query_one("#operator-table", ResourceTable)),
        }
        for tab, (shown, total) in counts.items():
            count = f"{shown}/{total}" if self._filter_text(tab).strip() else str(total)
            tabs.get_tab(tab).label = f"{TAB_TITLES[tab]} ({count})"

    @staticmethod
    def _counts(table: ResourceTable) -> tuple[int, int]:
        return table.shown, table.total

    # -- navigation ----------------------------------------------------------------------

    def show_tab(self, tab: str) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = tab
        table = next(iter(tabs.get_pane(tab).query(DataTable)), None)
        if table is not None:
            table.focus()

    def action_show_tab(self, tab: str) -> None:
        self.show_tab(tab)

    def action_filter(self) -> None:
        tab = self.query_one(TabbedContent).active or "findings"
        self.query_one(f"#{tab}-filter", FilterInput).open()

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        if event.input.id == "findings-filter":
            self.query_one(FindingsTable).show(getattr(self.app, "findings", []), event.value)
        elif event.input.id == "nodes-filter":
            self.query_one(NodeTable).show(text_filter=event.value)
        elif event.input.id in ("nodepools-filter", "operator-filter"):
            table = self.query_one(f"#{event.input.id.replace('-filter', '-table')}", ResourceTable)
            table.show(text_filter=event.value)
        self._label_tabs()

    # -- d / E on the selected row --------------------------------------------------------

    def _selected_node(self) -> str | None:
        if self.query_one(TabbedContent).active != "nodes":
            return None
        return self.query_one(NodeTable).selected_node

    def _selected_nodepool(self) -> str | None:
        if self.query_one(TabbedContent).active != "nodepools":
            return None
        return self.query_one("#nodepools-table", ResourceTable).selected_key

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("debug_node", "edit_nodepool"):
            if self.app.read_only:
                return False
            tab = self.query_one(TabbedContent).active
            return tab == ("nodes" if action == "debug_node" else "nodepools")
        return True

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()

    def action_debug_node(self) -> None:
        node = self._selected_node()
        if node and node != MORE_KEY:
            self.app.open_debug([node])

    def action_edit_nodepool(self) -> None:
        pool = self._selected_nodepool()
        if pool:
            self.app.open_nodepool_editor(pool)

    def on_input_submitted(self, event: FilterInput.Submitted) -> None:
        table = next(iter(event.input.parent.query(DataTable)), None) if event.input.parent else None
        if table is not None:
            table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        key = str(event.row_key.value)
        if isinstance(table, FindingsTable):
            finding = table.finding_at(event.row_key)
            if finding is not None:
                self.app.open_finding(finding)
        elif isinstance(table, NodeTable):
            if key == MORE_KEY:
                self.action_filter()
            else:
                self.app.open_object(ObjectRef("Node", key))
        elif table.id == "nodepools-table":
            self.app.open_object(ObjectRef("NodePool", key, api_version=_karpenter_api(self.app)))
        elif table.id == "operator-table":
            ns, _, name = key.partition("/")
            self.app.open_object(ObjectRef("DaemonSet", name, namespace=ns, api_version="apps/v1"))


def _karpenter_api(app) -> str:
    snap = getattr(app, "snapshot", None)
    return (snap.karpenter_api_version if snap is not None else None) or "karpenter.sh/v1"
