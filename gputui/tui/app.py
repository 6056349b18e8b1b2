"""GputuiApp: connection, gathering and the screen stack. What each screen shows lives in
gputui/tui/screens/; this module only owns the cluster data and the app-wide actions."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from gputui.tui.debug_findings import DebugFindings
from gputui.tui.gather_messages import GatherFailed, GatherProgressed, GatherStarted, SnapshotReady
from gputui.tui.state import AppConfig, GatherError

if TYPE_CHECKING:
    from gputui.kube.client import KubeClient
    from gputui.kube.live import Live

# Actions that change the cluster (or start pods on it); never offered in read-only mode.
MUTATING_ACTIONS = frozenset({"undo", "debug_all", "debug_node", "edit_nodepool", "walk_through"})
_PROGRESS_INTERVAL = 0.1
_SWEEP_SECONDS = 120.0
# Live rounds whose checks take longer than this show the changed objects before their findings.
DATA_FIRST_S = 0.25


def give_back_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's malloc_trim): a read of a big
    cluster frees hundreds of megabytes of page buffers that would otherwise stay counted as
    the app's. Elsewhere (musl, macOS) nothing happens."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class GputuiApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "gputui"
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Read the cluster again"),
        Binding("c", "switch_context", "Context", id="switch-context", tooltip="Switch kubeconfig context"),
        Binding("u", "undo", "Undo", id="undo", tooltip="Undo a change made from gputui"),
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit", "Quit", id="quit"),
        # Shown in the footers of the screens that list resources (they bind it again, shown).
        Binding(
            "colon", "command", "Command", id="command", key_display=":", tooltip="Jump to a resource view", show=False
        ),
        # As in kubectl and k9s; an input with selected text still copies it (its own ctrl+c comes first).
        Binding("ctrl+c", "quit", "Quit", id="ctrl-c-quit", show=False),
    ]

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        self.kube: KubeClient | None = None  # once connected
        self.snapshot = None  # checks.snapshot.ClusterSnapshot after the first gathering
        self.findings: list = []  # the gathered findings plus those kept from debug runs
        self.debug_findings = DebugFindings()
        self._gathered_findings: list = []
        self.kubernetes_version = ""
        self.gather_error: GatherError | None = None
        self.gathering = False
        self._generation = 0  # bumped on context switch: results of older gatherings are dropped
        self._lock = threading.Lock()
        self.live: Live | None = None  # while watches keep the snapshot current
        self.fleet_view = None  # gputui.tui.fleet_view.FleetView of the snapshot, worked out off-screen
        self.read_at: float | None = None  # time.time() of the last full read
        self._caught_up = threading.Event()  # the screens have the last live snapshot
        self._caught_up.set()
        self._last_sweep = time.monotonic()

    # -- the contract other screens rely on ---------------------------------------------

    @property
    def read_only(self) -> bool:
        return bool(self.config.read_only)

    def refresh_data(self) -> None:
        """Re-gather in a worker; SnapshotReady (or GatherFailed) follows."""
        self.gathering = True
        self.gather_error = None
        self._stop_live()  # the new read starts its own watches
        self._broadcast(lambda: GatherStarted(self.config.context or ""))
        self._gather(self._generation)

    def open_fix(self, finding, plan) -> None:
        if self.read_only:
            self.notify("Read-only mode: fixes are not applied.", severity="warning")
            return
        from gputui.tui.screens.fix import FixScreen

        self.push_screen(FixScreen(finding, plan))

    def open_undo(self) -> None:
        if self.read_only:
            self.notify("Read-only mode: nothing can be undone from here.", severity="warning")
            return
        from gputui.tui.screens.fix import UndoScreen

        self.push_screen(UndoScreen())

    def open_debug(self, nodes: list[str]) -> None:
        """Debug pods on `nodes`, once the user has seen where, how and how many, and said yes."""
        if self.read_only:
            self.notify("Read-only mode: debug pods are not started.", severity="warning")
            return
        if not nodes:
            self.notify("No GPU nodes to run nvidia-smi on.", severity="warning")
            return
        self._plan_debug(list(nodes))

    @work(thread=True, exclusive=True, group="debug-plan", exit_on_error=False)
    def _plan_debug(self, nodes: list[str]) -> None:
        """Where and how the debug pods would run (the namespace and each node's mode), read as the
        debug screen will read them, for the confirmation."""
        from gputui.debugpod import fleet_run, spec

        worker = get_current_worker()
        deadline = time.monotonic() + self.config.request_timeout
        while self.kube is None and time.monotonic() < deadline and not worker.is_cancelled:
            time.sleep(0.05)  # asked before the first connection: wait for it
        kube = self.kube
        if kube is None or worker.is_cancelled:
            if not worker.is_cancelled:
                self.call_from_thread(self.notify, "Not connected to a cluster: no debug pods.", severity="warning")
            return
        try:
            namespace, reason = fleet_run.choose_namespace(kube, None)
            wanted = set(nodes)
            if len(nodes) == 1:
                objects = fleet_run.select_nodes(kube, nodes)
            else:
                objects = [n for n in fleet_run.select_nodes(kube, all_gpu=True) if n["metadata"]["name"] in wanted]
            driver_pods, operator_present = fleet_run.driver_pods_by_node(kube)
            opts = fleet_run.RunOptions(namespace=namespace, run_id=spec.new_run_id())
            runs = fleet_run.plan_runs(objects, opts, driver_pods=driver_pods, operator_present=operator_present)
            modes = [r.mode for r in runs]
        except Exception as e:  # noqa: BLE001 - the question is still asked; the debug screen reports the error
            namespace, reason, modes = "?", f"could not be read: {getattr(e, 'message', None) or e}", []
        self.call_from_thread(self._confirm_debug, nodes, namespace, reason, modes)

    def _confirm_debug(self, nodes: list[str], namespace: str, reason: str, modes: list[str]) -> None:
        from gputui.tui.screens.confirm import ConfirmScreen, debug_question
        from gputui.tui.screens.debug import DebugScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.push_screen(DebugScreen(list(nodes)))

        title, body = debug_question(nodes, namespace, reason, modes)
        self.push_screen(ConfirmScreen(title, body, yes="Start"), answered)

    def open_nodepool_editor(self, name: str) -> None:
        if self.read_only:
            self.notify("Read-only mode: NodePools are not edited.", severity="warning")
            return
        from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

        self.push_screen(NodePoolEditScreen(name))

    def record_debug_findings(self, nodes: list[str], findings: list) -> None:
        """A debug run on `nodes` finished: its findings join app.findings (replacing that of earlier runs
        on those nodes) and every screen showing findings is refreshed."""
        self.debug_findings.record(nodes, findings)
        if self.snapshot is None:
            return
        self.findings = self._merged_findings(self.snapshot, self._gathered_findings)
        snapshot, merged = self.snapshot, self.findings
        self._broadcast(lambda: SnapshotReady(snapshot, merged))

    def _merged_findings(self, snapshot, gathered: list) -> list:
        return list(gathered) + self.debug_findings.current(snapshot.node_by_name.keys())

    def switch_context(self, name: str) -> None:
        """Drop the current connection and data, connect to `name` and gather."""
        with self._lock:
            self._generation += 1
            old, self.kube = self.kube, None
        self._stop_live()
        if old is not None:
            old.close()
        self.config.context = name
        self.snapshot, self.findings, self.kubernetes_version = None, [], ""
        self._gathered_findings = []
        self.debug_findings.clear()
        while len(self.screen_stack) > 1:  # back to the fleet screen: the old cluster's objects are gone
            self.pop_screen()
        self.refresh_data()

    def open_object(self, ref) -> None:
        """Drill down into any object (Node, Pod, NodeClaim, NodePool, ...)."""
        from gputui.tui.screens.object_detail import ObjectScreen

        self.push_screen(ObjectScreen(ref))

    def open_finding(self, finding) -> None:
        from gputui.tui.screens.finding_detail import FindingScreen

        self.push_screen(FindingScreen(finding))

    def gpu_node_names(self) -> list[str]:
        if self.snapshot is None:
            return []
        from checks.gpu_nodes import gpu_nodes

        return [n.metadata.name for n, _ in gpu_nodes(self.snapshot)]

    # -- lifecycle -----------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        from gputui.tui.screens.fleet_overview import FleetScreen

        return FleetScreen()

    def on_mount(self) -> None:
        self.sub_title = self.config.context or "current context"
        self.refresh_data()
        if self.config.refresh_seconds:
            self.set_interval(max(1.0, float(self.config.refresh_seconds)), self._refresh_on_timer)

    def _refresh_on_timer(self) -> None:
        if not self.gathering:
            self.refresh_data()

    def on_unmount(self) -> None:
        self._stop_live()
        if self.kube is not None:
            self.kube.close()

    # -- live: watches keep the snapshot current -------------------------------------------

    @property
    def watching(self) -> bool:
        """Whether the data is kept current by watches (else it is as of the last read)."""
        return self.live is not None and not self.live.stopped

    def live_status(self):
        """gputui.kube.live.LiveStatus while watching, else None."""
        return self.live.status() if self.watching else None

    def _start_live(self, snapshot) -> None:
        self._stop_live()
        if (
            not self.config.watch
            or self.config.refresh_seconds
            or self.kube is None
            or snapshot.source != "live"
            or not snapshot.listed
        ):
            return
        from gputui.kube.live import Live, LogTails

        generation = self._generation
        kube = self.kube
        logs = LogTails(kube, snapshot)
        checks_took = [0.0]  # how long the last round of checks took

        def publish(snap, change) -> None:
            from checks.registry import run_checks
            from gputui.report.selection import filter_findings

            def send(findings: list) -> bool:
                """Hand the snapshot to the screens, one at a time (a slow screen is never flooded)."""
                view = self._view(snap, findings)
                self._caught_up.wait(5.0)
                if generation != self._generation or live.stopped:
                    return False
                self._caught_up.clear()
                self.post_message(SnapshotReady(snap, findings, change, view))
                return True

            if change.resources and checks_took[0] > DATA_FIRST_S:
                # On a big cluster the checks take a while: the changed objects go on screen at
                # once, with the findings of the last round, and the new findings follow.
                if not send(self._gathered_findings):
                    return
            logs.fill(snap)
            started = time.monotonic()
            findings = run_checks(snap)
            if self.config.namespace:
                findings = filter_findings(findings, snap, namespace=self.config.namespace)
            checks_took[0] = time.monotonic() - started
            # What this round built lives until the next one: keep it out of the collector's
            # passes (its objects hold no cycles and go by reference counting); a periodic
            # sweep collects whatever cycles froze with it.
            self._sweep()
            gc.freeze()
            send(findings)

        live = Live(kube, snapshot, publish)
        self.live = live
        live.start()

    def _view(self, snapshot, findings: list):
        """What the fleet screen shows, worked out in the calling (worker) thread; with the debug
        runs' findings when there are any for this snapshot's nodes."""
        from gputui.tui.fleet_view import fleet_view

        return fleet_view(snapshot, self._merged_findings(snapshot, findings), self.kubernetes_version)

    def _stop_live(self) -> None:
        live, self.live = self.live, None
        if live is not None:
            live.stop()
        self._caught_up.set()

    # -- gathering -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="gather", exit_on_error=False)
    def _gather(self, generation: int) -> None:
        from checks.registry import run_checks
        from gputui.errors import GputuiError
        from gputui.kube.client import connect
        from gputui.kube.gather import gather
        from gputui.report.selection import filter_findings

        worker = get_current_worker()
        last = [0.0]
        seen: dict[str, int] = {}

        def progress(resource: str, count: int) -> None:
            seen[resource] = count
            now = time.monotonic()
            if now - last[0] >= _PROGRESS_INTERVAL:
                last[0] = now
                self.post_message(GatherProgressed(f"reading {resource} ({count})… {len(seen)} resources so far"))

        try:
            kube = self.kube
            if kube is None:
                self.post_message(GatherProgressed(f"connecting to {self.config.context or 'the current context'}…"))
                kube = connect(
                    self.config.kubeconfig, self.config.context, self.config.namespace, self.config.request_timeout
                )
                with self._lock:
                    if generation != self._generation:
                        kube.close()
                        return
                    self.kube = kube
                if not self.read_only:
                    from gputui.tui.screens.fix import resolve_unconfirmed

                    note = resolve_unconfirmed(kube)
                    if note:
                        self.call_from_thread(self.notify, note, severity="warning", timeout=15)
            version = (kube.version() or {}).get("gitVersion", "")
            snapshot = gather(kube, namespace="", progress=progress, cancelled=lambda: worker.is_cancelled)
            findings = run_checks(snapshot)
            if self.config.namespace:
                findings = filter_findings(findings, snapshot, namespace=self.config.namespace)
        except GputuiError as e:
            if generation == self._generation and not worker.is_cancelled:
                self.post_message(GatherFailed(e.message, e.hint))
            return
        except Exception as e:  # noqa: BLE001 - the app stays up; the user can retry
            if generation == self._generation and not worker.is_cancelled:
                self.post_message(
                    GatherFailed(
                        f"reading the cluster failed: {type(e).__name__}: {e}",
                        "press r to retry; `gputui diagnose --debug` shows the traceback",
                    )
                )
            return
        if generation != self._generation or worker.is_cancelled:
            return
        self.kubernetes_version = version
        self.post_message(SnapshotReady(snapshot, findings, view=self._view(snapshot, findings)))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        if message.change is not None and not self.watching:
            # Sent just before its watches were stopped (`r`, a context switch): what comes next supersedes it.
            self._caught_up.set()
            return
        # A gathering cannot repeat what nvidia-smi saw: keep the debug runs' findings for nodes still there.
        self._gathered_findings = message.findings
        self.snapshot, self.findings = message.snapshot, self._merged_findings(message.snapshot, message.findings)
        findings, change = self.findings, message.change
        self.fleet_view = message.view
        if change is None:  # a full read (not a live update)
            self.gathering = False
            self.gather_error = None
            self.read_at = time.time()
            self.sub_title = message.snapshot.context or self.config.context or ""
            # The old snapshot is garbage now; collect it once, then keep the new one out of every later pass.
            gc.collect()
            gc.freeze()
            give_back_memory()
            self._start_live(message.snapshot)
        self._broadcast(lambda: SnapshotReady(message.snapshot, findings, change, message.view))
        self._caught_up.set()

    def _sweep(self) -> None:
        """Live rounds freeze what they build; now and then (in the publisher's thread, not the
        screen's), collect what the frozen generation kept (cycles that became garbage after a
        freeze) and freeze anew."""
        if time.monotonic() - self._last_sweep < _SWEEP_SECONDS:
            return
        self._last_sweep = time.monotonic()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        give_back_memory()

    def on_gather_failed(self, message: GatherFailed) -> None:
        self.gathering = False
        self.gather_error = GatherError(message.message, message.hint)
        self._broadcast(lambda: GatherFailed(message.message, message.hint))

    def on_gather_progressed(self, message: GatherProgressed) -> None:
        self._broadcast(lambda: GatherProgressed(message.text))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Workers report expected failures as messages; anything else is a bug, shown, not fatal."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.gathering = self.gathering and event.worker.group != "gather"
            self.notify(
                f"{event.worker.name or 'background task'} failed: {type(error).__name__}: {error}",
                title="Internal error",
                severity="error",
                timeout=10,
            )

    def _broadcast(self, make) -> None:
        """Give every screen on the stack its own copy (a message is delivered once)."""
        for screen in self.screen_stack:
            screen.post_message(make())

    # -- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MUTATING_ACTIONS and self.read_only:
            return False  # hidden from the footer and the keyboard
        return True

    def action_refresh(self) -> None:
        self.refresh_data()

    def action_help(self) -> None:
        from gputui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_switch_context(self) -> None:
        from gputui.tui.screens.contexts import ContextScreen

        def chosen(name: str | None) -> None:
            if name and name != self.config.context:
                self.switch_context(name)

        self.push_screen(ContextScreen(self.config.kubeconfig, self.config.context), chosen)

    def action_command(self) -> None:
        from gputui.tui.screens.command import CommandScreen

        def chosen(view: str | None) -> None:
            if view:
                self.open_view(view)

        if not isinstance(self.screen, CommandScreen):
            self.push_screen(CommandScreen(), chosen)

    def open_view(self, view: str) -> None:
        """`:pods`, `:nodes`, ...: the resource view `view` (a key of resource_view.VIEWS)."""
        from gputui.tui.screens.resource_view import ResourceScreen

        if isinstance(self.screen, ResourceScreen) and self.screen.view == view:
            return
        self.push_screen(ResourceScreen(view))

    def action_undo(self) -> None:
        self.open_undo()

    def action_debug_all(self) -> None:
        self.open_debug(self.gpu_node_names())

    def action_show_tab(self, tab: str) -> None:
        from gputui.tui.screens.fleet_overview import FleetScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, FleetScreen):
            self.pop_screen()
        if isinstance(self.screen, FleetScreen):
            self.screen.show_tab(tab)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Refresh", "Read the cluster again and re-run the checks", self.action_refresh)
        yield SystemCommand("Switch context", "Connect to another kubeconfig context", self.action_switch_context)
        yield SystemCommand("Findings", "Show the findings, worst first", lambda: self.action_show_tab("findings"))
        yield SystemCommand("Nodes", "Show the GPU node table", lambda: self.action_show_tab("nodes"))
        yield SystemCommand(
            "NodePools", "Show the NodePools and their GPU limits", lambda: self.action_show_tab("nodepools")
        )
        yield SystemCommand("GPU Operator", "Show the GPU Operator operands", lambda: self.action_show_tab("operator"))
        if not self.read_only:
            yield SystemCommand(
                "Run nvidia-smi on all GPU nodes", "Start a debug pod on every GPU node", self.action_debug_all
            )
            yield SystemCommand("Undo", "Restore an object changed from gputui", self.action_undo)
        yield SystemCommand("Help", "Keys and screens", self.action_help)
        yield from (c for c in super().get_system_commands(screen) if c.title in ("Quit", "Keys", "Theme"))
