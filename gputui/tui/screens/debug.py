"""nvidia-smi debug pods from the app: progress per node, the per-GPU table and the findings.

The pods run in a thread worker (gputui.debugpod.runner); leaving the screen while they
run cancels the run and deletes every pod it created. Leftovers from earlier runs (past
their deadline) are shown and can be removed with `x`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from gputui.debugpod.render import gpu_row
from gputui.tui.render import SEVERITY_STYLE
from gputui.tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from gputui.debugpod.runner import DebugRunner
from gputui.tui.screens.app_screen import AppScreen

RUN_STATUSES = ("waiting", "creating", "pending", "running", "reading", "done", "failed", "cancelled")
_STATUS_STYLE = {"done": "green", "failed": "bold red", "cancelled": "yellow"}
GPU_COLUMNS = (
    "Node",
    "GPU",
    "Model",
    "UUID",
    "Bus ID",
    "Memory",
    "Util",
    "Temp",
    "Power",
    "ECC unc vol/agg",
    "Retired/remapped",
    "MIG",
    "Processes",
)
# Below 120 columns the GPU table keeps what tells a broken GPU (memory, utilisation,
# temperature, ECC) and drops the identifiers; `gputui debug` prints them all.
NARROW_WIDTH = 120
NARROW_GPU_COLUMNS = ("Node", "GPU", "Model", "Memory", "Util", "Temp", "ECC unc", "Processes")
_NARROW_GPU_CELLS = (0, 1, 4, 5, 6, 8)  # positions in gputui.debugpod.render.gpu_row


class DebugScreen(AppScreen[None]):
    DEFAULT_CSS = """
    DebugScreen #debug-header {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    DebugScreen #debug-leftovers {
        display: none;
        height: auto;
        padding: 0 1;
        background: $warning 20%;
    }
    DebugScreen.-leftovers #debug-leftovers {
        display: block;
    }
    DebugScreen #debug-progress {
        height: auto;
        max-height: 12;
    }
    DebugScreen #debug-gpus {
        height: auto;
        max-height: 16;
    }
    DebugScreen #debug-mode-reason {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    DebugScreen .section-title {
        margin-top: 1;
        padding: 0 1;
        text-style: bold underline;
    }
    DebugScreen #debug-findings {
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape", "leave", "Back (stops the run)", id="back"),
        Binding("x", "remove_leftovers", "Remove leftovers", id="remove-leftovers"),
    ]

    class NodeProgressed(Message, bubble=False):
        def __init__(self, node: str, status: str) -> None:
            super().__init__()
            self.node, self.status = node, status

    class RunPlanned(Message, bubble=False):
        def __init__(self, runs: list, namespace: str, reason: str, run_id: str, leftovers: list) -> None:
            super().__init__()
            # `namespace` is Message's own class variable (its handler prefix): this one is pod_namespace.
            self.runs, self.pod_namespace, self.reason, self.run_id, self.leftovers = (
                runs,
                namespace,
                reason,
                run_id,
                leftovers,
            )

    class RunFinished(Message, bubble=False):
        def __init__(self, observations: list, findings: list, error: str | None = None) -> None:
            super().__init__()
            self.observations, self.findings, self.error = observations, findings, error

    class LeftoversRemoved(Message, bubble=False):
        def __init__(self, removed: list, failed: list) -> None:
            super().__init__()
            self.removed, self.failed = removed, failed

    def __init__(self, nodes: list[str]) -> None:
        super().__init__()
        self.nodes = list(nodes)
        self.runner: DebugRunner | None = None
        self.finished = False
        self.observations: list = []
        self.findings: list = []
        self.leftovers: list = []
        self._rows: dict[str, int] = {}
        self._reasons: dict[str, str] = {}
        self._domain = ""  # the domain every node name shares, left out of the tables
        self.narrow = False

    def compose(self) -> ComposeResult:
        yield Static(Text(f"nvidia-smi on {len(self.nodes)} node(s): preparing…"), id="debug-header")
        yield Static("", id="debug-leftovers")
        with VerticalScroll():
            yield Static("Progress", classes="section-title")
            yield DataTable(id="debug-progress", cursor_type="row", zebra_stripes=True)
            yield Static("", id="debug-mode-reason")
            yield Static("GPUs", classes="section-title")
            yield DataTable(id="debug-gpus", cursor_type="row", zebra_stripes=True)
            yield Static("Findings", classes="section-title")
            yield Static(Text("waiting for the pods…", style="dim"), id="debug-findings")
        yield KeyFooter()

    def on_mount(self) -> None:
        progress = self.query_one("#debug-progress", DataTable)
        progress.add_columns("Node", "Mode")
        # As wide as the longest status (cancelled), so the columns do not shift as a run moves on.
        progress.add_column("Status", width=max(len(s) for s in RUN_STATUSES))
        progress.add_columns("GPUs seen/exp", "Result")
        self.narrow = self.app.size.width < NARROW_WIDTH
        self.query_one("#debug-gpus", DataTable).add_columns(*(NARROW_GPU_COLUMNS if self.narrow else GPU_COLUMNS))
        self._run()

    # -- the run (thread worker) ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="debug-pods", exit_on_error=False)
    def _run(self) -> None:
        from gputui.debugpod import cleanup, fleet_run, spec
        from gputui.debugpod.runner import DebugRunner

        kube = getattr(self.app, "kube", None)
        if kube is None:
            self.post_message(self.RunFinished([], [], "not connected to a cluster yet"))
            return
        try:
            nodes = fleet_run.select_nodes(kube, self.nodes)
            driver_pods, operator_present = fleet_run.driver_pods_by_node(kube)
            namespace, reason = fleet_run.choose_namespace(kube, None)
            opts = fleet_run.RunOptions(namespace=namespace, run_id=spec.new_run_id())
            runs = fleet_run.plan_runs(nodes, opts, driver_pods=driver_pods, operator_present=operator_present)
            try:
                leftovers = cleanup.find_leftovers(kube)
            except Exception:  # noqa: BLE001 - leftovers are a courtesy
                leftovers = []

            def progress(node: str, status: str) -> None:
                self.post_message(self.NodeProgressed(node, status))

            runner = DebugRunner(kube, progress=progress)
            self.runner = runner
            self.post_message(self.RunPlanned(runs, namespace, reason, opts.run_id, leftovers))
            try:
                runner.run(runs)
            finally:
                if runner.cancelled:
                    runner.cleanup()
            observations = fleet_run.observe(runs, nodes)
            self.post_message(self.RunFinished(observations, fleet_run.fleet_findings(observations)))
        except Exception as e:  # noqa: BLE001 - shown on the screen; the app stays up
            message = getattr(e, "message", None) or f"{type(e).__name__}: {e}"
            self.post_message(self.RunFinished([], [], message))

    # -- messages --------------------------------------------------------------------------------------

    def on_debug_screen_run_planned(self, message: RunPlanned) -> None:
        from gputui.tui.widgets.node_table import common_domain

        progress = self.query_one("#debug-progress", DataTable)
        self._domain = common_domain(r.node for r in message.runs)
        for r in message.runs:
            self._rows[r.node] = len(self._rows)
            self._reasons[r.node] = f"{r.node}: mode {r.mode} because {r.mode_reason}"
            progress.add_row(
                self._short(r.node),
                Text(r.mode, style="bold"),
                "waiting",
                "",
                Text(r.mode_reason, style="dim"),
                key=r.node,
            )
        header = Text()
        header.append(f"nvidia-smi on {len(message.runs)} node(s)", style="bold")
        header.append(f"  namespace {message.pod_namespace} ({message.reason}), run {message.run_id}", style="dim")
        self.query_one("#debug-header", Static).update(header)
        self.leftovers = list(message.leftovers)
        self._show_leftovers()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "debug-progress" and event.row_key is not None:
            self.query_one("#debug-mode-reason", Static).update(self._reasons.get(str(event.row_key.value), ""))

    def on_debug_screen_node_progressed(self, message: NodeProgressed) -> None:
        table = self.query_one("#debug-progress", DataTable)
        if message.node in self._rows:
            table.update_cell(
                message.node,
                table.ordered_columns[2].key,
                Text(message.status, style=_STATUS_STYLE.get(message.status, "")),
            )

    def on_debug_screen_run_finished(self, message: RunFinished) -> None:
        self.finished = True
        self.runner = None
        self.observations, self.findings = message.observations, message.findings
        if message.error:
            self.query_one("#debug-header", Static).update(Text(f"nvidia-smi: {message.error}", style="bold red"))
            self.query_one("#debug-findings", Static).update("")
            return
        progress = self.query_one("#debug-progress", DataTable)
        gpus = self.query_one("#debug-gpus", DataTable)
        cols = progress.ordered_columns
        for o in message.observations:
            seen = "-" if o.seen_gpus is None else str(o.seen_gpus)
            expected = "?" if o.expected_gpus is None else str(o.expected_gpus)
            progress.update_cell(o.node, cols[3].key, f"{seen}/{expected}")
            progress.update_cell(o.node, cols[4].key, self._result(o))
            for g in o.report.gpus if o.report else []:
                procs = ", ".join(f"{p.pid} {p.name}" for p in g.processes) or "-"
                cells = gpu_row(g)
                if self.narrow:
                    cells = tuple(cells[i] for i in _NARROW_GPU_CELLS)
                gpus.add_row(self._short(o.node), *cells, procs)
        self.query_one("#debug-findings", Static).update(self._findings_text(message.findings))
        record = getattr(self.app, "record_debug_findings", None)
        if record is not None:
            record([o.node for o in message.observations], message.findings)

    def on_debug_screen_leftovers_removed(self, message: LeftoversRemoved) -> None:
        self.leftovers = [l for l in self.leftovers if l not in message.removed]
        self._show_leftovers()
        text = f"Removed {len(message.removed)} leftover debug pod(s)."
        if message.failed:
            text += f" {len(message.failed)} could not be removed."
        self.notify(text, severity="warning" if message.failed else "information")

    # -- actions -----------------------------------------------------------------------------------------

    def action_leave(self) -> None:
        self._stop()
        self.app.pop_screen()

    def action_remove_leftovers(self) -> None:
        if self.leftovers:
            self._remove_leftovers(list(self.leftovers))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_leftovers":
            return bool(self.leftovers)
        return True

    @work(thread=True, group="debug-leftovers", exit_on_error=False)
    def _remove_leftovers(self, leftovers: list) -> None:
        from gputui.debugpod import cleanup

        kube = getattr(self.app, "kube", None)
        if kube is None:
            return
        removed, failed = cleanup.remove(kube, leftovers)
        self.post_message(self.LeftoversRemoved(removed, failed))

    def on_unmount(self) -> None:
        self._stop()

    def _stop(self) -> None:
        """Cancel a running run and delete what it created (the worker's own cleanup runs as well)."""
        runner = self.runner
        if runner is not None and not self.finished:
            runner.cancel()
            runner.cleanup(grace=0)  # the worker's own cleanup waits for creates in flight

    # -- rendering -----------------------------------------------------------------------------------------

    def _show_leftovers(self) -> None:
        box = self.query_one("#debug-leftovers", Static)
        if self.leftovers:
            names = ", ".join(f"{l.namespace}/{l.name}" for l in self.leftovers[:3])
            more = f" and {len(self.leftovers) - 3} more" if len(self.leftovers) > 3 else ""
            box.update(
                Text(
                    f"{len(self.leftovers)} leftover debug pod(s) past their deadline: {names}{more}. "
                    "Press x to remove them."
                )
            )
        self.set_class(bool(self.leftovers), "-leftovers")
        self.refresh_bindings()

    def _short(self, node: str) -> str:
        return node.removesuffix(self._domain) if self._domain else node

    @staticmethod
    def _result(o) -> Text:
        if o.pod_problem is not None:
            return Text(f"{o.pod_problem.kind}: {o.pod_problem.message}", style="red")
        if o.report is not None and o.report.failure is not None:
            return Text(o.report.failure.message, style="red")
        worst = max((f.severity for f in o.findings), default=None)
        if worst is None:
            return Text("ok", style="green")
        return Text(f"{len(o.findings)} finding(s)", style=SEVERITY_STYLE[worst])

    @staticmethod
    def _findings_text(findings: list) -> Text:
        if not findings:
            return Text("No problems found.", style="green")
        text = Text()
        for i, f in enumerate(findings):
            if i:
                text.append("\n")
            text.append(f"{f.severity.label.upper():<8}", style=SEVERITY_STYLE[f.severity])
            text.append(f"{f.code} ", style="bold")
            text.append(f.title + "\n")
            text.append(f"        {f.message}", style="dim")
        return text
