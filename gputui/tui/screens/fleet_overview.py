"""The main screen: cluster header, findings, GPU nodes, NodePools and GPU Operator operands."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from checks.model import ObjectRef
from gputui.tui import fleet_model
from gputui.tui.gather_messages import GatherFailed, GatherProgressed, GatherStarted, SnapshotReady
from gputui.tui.render import summary_text
from gputui.tui.screens.app_screen import AppScreen
from gputui.tui.widgets.filter_input import FilterInput
from gputui.tui.widgets.findings_table import FindingsTable
from gputui.tui.widgets.node_table import MORE_KEY, NodeTable

TABS = ("findings", "nodes", "nodepools", "operator")


class FleetScreen(AppScreen[None]):
    BINDINGS = [
        Binding("f", "show_tab('findings')", "Findings", id="tab-findings"),
        Binding("n", "show_tab('nodes')", "Nodes", id="tab-nodes"),
        Binding("p", "show_tab('nodepools')", "NodePools", id="tab-nodepools"),
        Binding("o", "show_tab('operator')", "Operator", id="tab-operator"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(Text("gputui — connecting…", style="bold"), id="cluster-header")
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
                yield DataTable(id="nodepools-table", cursor_type="row")
            with TabPane("GPU Operator", id="operator"):
                yield DataTable(id="operator-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        np_table = self.query_one("#nodepools-table", DataTable)
        for key, label in (
            ("name", "NodePool"),
            ("gpus", "GPUs used / limit"),
            ("nodes", "Nodes"),
            ("ready", "Ready"),
            ("weight", "Weight"),
            ("capacity", "Capacity types"),
            ("disruption", "Disruption"),
        ):
            np_table.add_column(label, key=key)
        op_table = self.query_one("#operator-table", DataTable)
        for key, label in (
            ("operand", "Operand"),
            ("daemonset", "DaemonSet"),
            ("desired", "Desired"),
            ("ready", "Ready"),
            ("available", "Available"),
            ("state", "State"),
        ):
            op_table.add_column(label, key=key)
        app = self.app
        if getattr(app, "snapshot", None) is not None:
            self._fill(app.snapshot, app.findings)
        self.query_one(FindingsTable).focus()

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
            self.query_one("#cluster-header", Static).update(Text(f"gputui — connecting to {message.context}…"))
            self.query_one(FindingsTable).show([])
            self.query_one(NodeTable).show([])
            self.query_one("#nodepools-table", DataTable).clear()
            self.query_one("#operator-table", DataTable).clear()

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
        summary = fleet_model.summarize(snapshot, findings, getattr(self.app, "kubernetes_version", ""))
        self.query_one("#cluster-header", Static).update(
            summary_text(summary, demo=getattr(self.app.config, "demo_scenario", None))
        )
        self.query_one(FindingsTable).show(findings, self.query_one("#findings-filter", FilterInput).value)
        self.query_one(NodeTable).show(
            fleet_model.node_rows(snapshot, findings), self.query_one("#nodes-filter", FilterInput).value
        )
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("findings").label = f"Findings ({len(findings)})"
        tabs.get_tab("nodes").label = f"GPU nodes ({summary.gpu_nodes_total})"
        np_table = self.query_one("#nodepools-table", DataTable)
        np_table.clear()
        for r in fleet_model.nodepool_rows(snapshot):
            over = r.gpu_limit is not None and r.gpus_used >= r.gpu_limit
            np_table.add_row(
                Text(r.name, style="bold" if r.is_gpu else "dim"),
                Text(
                    fleet_model.usage_bar(r.gpus_used, r.gpu_limit) if r.is_gpu else "-",
                    style="bold red" if over else "",
                ),
                Text(str(r.nodes), justify="right"),
                Text(r.ready, style="" if r.ready == "Ready" else "bold red"),
                Text(str(r.weight if r.weight is not None else "-"), justify="right"),
                r.capacity_types,
                r.disruption,
                key=r.name,
            )
        op_table = self.query_one("#operator-table", DataTable)
        op_table.clear()
        for op in fleet_model.operand_rows(snapshot):
            op_table.add_row(
                op.title,
                op.name,
                Text(str(op.desired), justify="right"),
                Text(str(op.ready), justify="right", style="" if op.healthy else "bold red"),
                Text(str(op.available), justify="right"),
                Text(
                    "ok" if op.healthy else f"{op.desired - op.ready} not ready",
                    style="green" if op.healthy else "bold red",
                ),
                key=f"{op.namespace}/{op.name}",
            )

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
        tab = self.query_one(TabbedContent).active
        box = next(iter(self.query(f"#{tab}-filter").results(FilterInput)), None)
        if box is None:
            self.show_tab("nodes")
            box = self.query_one("#nodes-filter", FilterInput)
        box.open()

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        if event.input.id == "findings-filter":
            self.query_one(FindingsTable).show(getattr(self.app, "findings", []), event.value)
        elif event.input.id == "nodes-filter":
            self.query_one(NodeTable).show(text_filter=event.value)

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
