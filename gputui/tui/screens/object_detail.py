"""Drill-down into one object: a describe-like summary (nodes, NodePools), YAML (read fresh),
events, pods (nodes), findings, logs (pods: follow, wrap, search, timestamps), and the
actions that fit its kind (nvidia-smi on a node, edit a NodePool)."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Select, Static, TabbedContent, TabPane, TextArea
from textual.widgets.text_area import Selection

from checks.model import ObjectRef
from gputui.tui import object_reads
from gputui.tui.fleet_model import WORKLOAD_KINDS, findings_about, pods_of
from gputui.tui.gather_messages import SnapshotReady
from gputui.tui.render import ref_text
from gputui.tui.screens.app_screen import AppScreen
from gputui.tui.widgets.findings_table import FindingsTable
from gputui.tui.widgets.footer import KeyFooter

# Kinds with a describe-like summary (gputui.tui.describe); the others open on their YAML.
DESCRIBED_KINDS = ("Node", "NodePool")
LOG_FOLLOW_SECONDS = 2.0  # how often a followed log is read again


class LogView(TextArea):
    """A pod's log: read-only, selectable, wrapping on demand; `lines` is what it shows."""

    @property
    def lines(self) -> list[str]:
        return list(self.document.lines)


class ObjectScreen(AppScreen[None]):
    DEFAULT_CSS = """
    ObjectScreen #object-title {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    ObjectScreen #object-actions {
        height: auto;
        padding: 0 1;
    }
    ObjectScreen #object-actions Button {
        margin-right: 1;
    }
    ObjectScreen #object-tabs {
        height: 1fr;
    }
    ObjectScreen #yaml-scroll, ObjectScreen #describe-scroll {
        height: 1fr;
    }
    ObjectScreen #describe-view {
        width: auto;
    }
    ObjectScreen #log-search {
        display: none;
    }
    ObjectScreen #log-search.-open {
        display: block;
    }
    ObjectScreen #log-bar {
        height: auto;
    }
    ObjectScreen #log-bar Select {
        width: 36;
    }
    ObjectScreen #log-status {
        width: 1fr;
        padding: 0 1;
        content-align: left middle;
        height: 3;
    }
    ObjectScreen #events-table {
        height: 1fr;
    }
    ObjectScreen #event-detail {
        height: auto;
        max-height: 6;
        padding: 0 1;
        background: $boost;
    }
    ObjectScreen LogView, ObjectScreen LogView:focus {
        height: 1fr;
        border: none;
        padding: 0;
    }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("D", "show_tab('describe')", "Describe", id="object-describe"),
        Binding("y", "show_tab('yaml')", "YAML", id="object-yaml"),
        Binding("e", "show_tab('events')", "Events", id="object-events"),
        Binding("p", "show_tab('pods')", "Pods", id="object-pods"),
        Binding("f", "show_tab('findings')", "Findings", id="object-findings"),
        Binding("l", "show_tab('logs')", "Logs", id="object-logs"),
        Binding("P", "toggle_previous", "Previous logs", id="previous-logs"),
        Binding("F", "toggle_follow", "Follow", id="log-follow"),
        Binding("w", "toggle_wrap", "Wrap", id="log-wrap"),
        Binding("t", "toggle_timestamps", "Timestamps", id="log-timestamps"),
        Binding("slash", "search_log", "Search", id="log-search", key_display="/"),
        Binding("n", "next_match", "Next match", id="log-next"),
        Binding("N", "next_match(-1)", "Previous match", id="log-previous-match"),
        Binding("d", "debug_node", "nvidia-smi", id="debug-node"),
        Binding("E", "edit_nodepool", "Edit NodePool", id="edit-nodepool"),
    ]

    def __init__(self, ref: ObjectRef) -> None:
        super().__init__()
        self.ref = ref
        self.has_pods = ref.kind == "Node" or ref.kind in WORKLOAD_KINDS
        self.previous_logs = False
        self.follow_logs = False
        self.wrap_logs = False
        self.log_timestamps = False
        self.search: str = ""
        self._matches: list[tuple[int, int]] = []
        self._match = -1
        self._container: str | None = None
        self._log_head = ""
        self._log_text = ""
        self.describable = ref.kind in DESCRIBED_KINDS

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        ref = self.ref
        yield Static(self._title(), id="object-title")
        with Horizontal(id="object-actions"):
            for label, target in self._links():
                yield Button(label, id=f"link-{target.kind}", compact=True)
            if ref.kind == "Node" and not self.app.read_only:
                yield Button("Run nvidia-smi", id="action-debug", variant="primary", compact=True)
            if ref.kind == "NodePool" and not self.app.read_only:
                yield Button("Edit NodePool", id="action-edit", variant="primary", compact=True)
        with TabbedContent(initial="describe" if self.describable else "yaml", id="object-tabs"):
            if self.describable:
                with TabPane("Describe", id="describe"):
                    with VerticalScroll(id="describe-scroll"):
                        yield Static(Text("loading…", style="dim"), id="describe-view")
            with TabPane("YAML", id="yaml"):
                with VerticalScroll(id="yaml-scroll"):
                    yield Static(Text("loading…", style="dim"), id="yaml-view")
            with TabPane("Events", id="events"):
                with Vertical():
                    yield DataTable(id="events-table", cursor_type="row")
                    yield Static("", id="event-detail")
            if self.has_pods:
                with TabPane("Pods", id="pods"):
                    yield DataTable(id="pods-table", cursor_type="row")
            with TabPane("Findings", id="findings"):
                yield FindingsTable(id="object-findings-table")
            if ref.kind == "Pod":
                with TabPane("Logs", id="logs"):
                    with Vertical():
                        with Horizontal(id="log-bar"):
                            yield Select([], id="log-container", prompt="container", allow_blank=True)
                            yield Static("", id="log-status")
                        yield Input(placeholder="search the log (enter: find, escape: close)", id="log-search")
                        yield LogView(id="log-view", read_only=True, soft_wrap=False, show_cursor=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        events = self.query_one("#events-table", DataTable)
        for key, label in (
            ("type", "Type"),
            ("reason", "Reason"),
            ("when", "Last seen"),
            ("count", "Count"),
            ("from", "From"),
            ("message", "Message"),
        ):
            events.add_column(label, key=key)
        if self.has_pods:
            pods = self.query_one("#pods-table", DataTable)
            for key, label in (
                ("namespace", "Namespace"),
                ("name", "Pod"),
                ("status", "Status"),
                ("node", "Node"),
                ("gpus", "GPUs"),
                ("restarts", "Restarts"),
                ("age", "Age"),
            ):
                pods.add_column(label, key=key)
        self._fill_from_snapshot()
        self._loaded_version = _version_in(getattr(self.app, "snapshot", None), self.ref)
        self.load()
        self.query_one("#object-tabs", TabbedContent).focus()
        if self.ref.kind == "Pod":
            self.set_interval(LOG_FOLLOW_SECONDS, self._follow_tick)

    def _title(self) -> Text:
        t = Text()
        t.append(f"{self.ref.kind} ", style="bold cyan")
        t.append(f"{self.ref.namespace}/" if self.ref.namespace else "", style="dim")
        t.append(self.ref.name, style="bold")
        return t

    def _links(self) -> list[tuple[str, ObjectRef]]:
        """The objects one hop away that troubleshooting goes to next (node <-> NodeClaim -> NodePool)."""
        snap = getattr(self.app, "snapshot", None)
        if snap is None:
            return []
        out: list[tuple[str, ObjectRef]] = []
        karpenter = snap.karpenter_api_version or "karpenter.sh/v1"
        if self.ref.kind == "Node":
            nc = snap.nodeclaims_by_node.get(self.ref.name)
            if nc is not None:
                out.append(
                    (f"NodeClaim {nc.metadata.name}", ObjectRef("NodeClaim", nc.metadata.name, api_version=karpenter))
                )
            node = snap.node_by_name.get(self.ref.name)
            pool = node.metadata.labels.get("karpenter.sh/nodepool") if node else None
            if pool:
                out.append((f"NodePool {pool}", ObjectRef("NodePool", pool, api_version=karpenter)))
        elif self.ref.kind == "NodeClaim":
            nc = next((c for c in snap.nodeclaims if c.metadata.name == self.ref.name), None)
            if nc is not None and nc.status.get("nodeName"):
                out.append((f"Node {nc.status['nodeName']}", ObjectRef("Node", nc.status["nodeName"])))
            pool = nc.metadata.labels.get("karpenter.sh/nodepool") if nc else None
            if pool:
                out.append((f"NodePool {pool}", ObjectRef("NodePool", pool, api_version=karpenter)))
        elif self.ref.kind == "Pod":
            pod = snap.pod_by_key.get((self.ref.namespace or "", self.ref.name))
            if pod is not None and pod.spec.node_name:
                out.append((f"Node {pod.spec.node_name}", ObjectRef("Node", pod.spec.node_name)))
        self._link_targets = {t.kind: t for _, t in out}
        return out

    # -- data ------------------------------------------------------------------------------

    def _fill_from_snapshot(self) -> None:
        app = self.app
        snap = getattr(app, "snapshot", None)
        found = findings_about(snap, getattr(app, "findings", []), self.ref) if snap is not None else []
        self.query_one(FindingsTable).show(found)
        self.query_one("#object-tabs", TabbedContent).get_tab("findings").label = f"Findings ({len(found)})"
        if self.has_pods and snap is not None:
            from checks.findings import age_text
            from checks.k8s import pod_gpu_request

            table = self.query_one("#pods-table", DataTable)
            try:
                selected = (
                    table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
                )
            except Exception:  # noqa: BLE001 - no cursor yet
                selected = None
            table.clear()
            pods = sorted(
                pods_of(snap, self.ref),
                key=lambda p: (-pod_gpu_request(p), p.metadata.namespace or "", p.metadata.name),
            )
            for p in pods:
                restarts = sum(cs.restart_count for cs in p.status.container_statuses)
                table.add_row(
                    p.metadata.namespace or "",
                    Text(p.metadata.name),
                    _pod_status(p),
                    p.spec.node_name or Text("-", style="dim"),
                    Text(str(pod_gpu_request(p) or ""), justify="right"),
                    Text(str(restarts), justify="right", style="bold red" if restarts else ""),
                    age_text(snap.age_seconds(p.metadata.creation_timestamp)),
                    key=f"{p.metadata.namespace}/{p.metadata.name}",
                )
            self.query_one("#object-tabs", TabbedContent).get_tab("pods").label = f"Pods ({len(pods)})"
            if selected is not None and selected in table.rows:
                table.move_cursor(row=table.get_row_index(selected))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self._fill_from_snapshot()
        if message.change is not None:
            # A live change: read the object and its events again only when they changed (the
            # reads would otherwise repeat every second, and reset the log tab's container).
            seen = _version_in(message.snapshot, self.ref)
            if seen == self._loaded_version:
                return
            self._loaded_version = seen
        else:
            self._loaded_version = _version_in(message.snapshot, self.ref)
        self.load()

    def load(self) -> None:
        self._load_object()
        self._load_events()

    @work(thread=True, exclusive=True, group="object", exit_on_error=False)
    def _load_object(self) -> None:
        kube = self.app.kube
        if kube is None:
            self.app.call_from_thread(self._show_yaml_error, "not connected")
            return
        snap = self.app.snapshot
        try:
            obj = object_reads.fetch_object(kube, self.ref, snap.karpenter_api_version if snap else None)
        except Exception as e:  # noqa: BLE001 - shown in place of the YAML
            self.app.call_from_thread(self._show_yaml_error, _error_line(e))
            return
        self.app.call_from_thread(self._show_object, obj)

    def _show_object(self, obj: dict) -> None:
        if not self.is_mounted:
            return
        self.query_one("#yaml-view", Static).update(
            Syntax(object_reads.to_yaml(obj), "yaml", theme="ansi_dark", background_color="default", word_wrap=False)
        )
        if self.describable:
            self._show_describe(obj)
        if self.ref.kind == "Pod":
            names = object_reads.containers_of(obj)
            select = self.query_one("#log-container", Select)
            select.set_options([(n, n) for n in names])
            if names:
                wanted = self._failing_container(obj) or names[-1]
                select.value = wanted

    def _show_describe(self, obj: dict | None) -> None:
        """The summary of the object read fresh, or of the snapshot's copy when the read failed."""
        from checks.kinds import Node, Object, to_struct
        from gputui.tui.describe import describe_node, describe_nodepool

        snap = getattr(self.app, "snapshot", None)
        if obj is None and snap is not None:
            typed = (
                snap.node_by_name.get(self.ref.name)
                if self.ref.kind == "Node"
                else snap.nodepool_by_name.get(self.ref.name)
            )
        elif obj is not None:
            typed = to_struct(obj, Node if self.ref.kind == "Node" else Object)
        else:
            typed = None
        if typed is None:
            return
        text = describe_node(typed, snap) if self.ref.kind == "Node" else describe_nodepool(typed, snap)
        if obj is None:
            text = Text.assemble(("(from the last gathering; the fresh read failed)\n", "yellow"), text)
        text.no_wrap = True
        self.query_one("#describe-view", Static).update(text)

    def _show_yaml_error(self, text: str) -> None:
        self.query_one("#yaml-view", Static).update(Text(f"cannot read {ref_text(self.ref)}: {text}", style="bold red"))
        if self.describable:
            self._show_describe(None)

    @work(thread=True, exclusive=True, group="events", exit_on_error=False)
    def _load_events(self) -> None:
        kube = self.app.kube
        if kube is None:
            return
        try:
            rows = object_reads.fetch_events(kube, self.ref)
        except Exception as e:  # noqa: BLE001 - shown as a row
            rows = [object_reads.EventRow("Error", "CannotList", "", 0, "gputui", _error_line(e))]
        self.app.call_from_thread(self._show_events, rows)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Event messages are long and the table cuts them: the highlighted one is shown whole below.
        if event.data_table.id != "events-table":
            return
        rows = getattr(self, "_event_rows", [])
        try:
            r = rows[int(event.row_key.value or "")]
        except (ValueError, IndexError, TypeError):
            return
        text = Text.assemble((f"{r.reason} ", "bold"), (f"({r.source}, {r.count}x) ", "dim"), r.message)
        self.query_one("#event-detail", Static).update(text)

    def _show_events(self, rows: list) -> None:
        self._event_rows = rows
        import datetime as dt

        from checks.findings import age_text
        from checks.timestamps import parse_time

        now = dt.datetime.now(dt.timezone.utc)
        table = self.query_one("#events-table", DataTable)
        table.clear()
        for i, r in enumerate(rows):
            when = parse_time(r.when)
            ago = Text(f"{age_text((now - when).total_seconds())} ago" if when else "?", justify="right")
            table.add_row(
                Text(r.type, style="yellow" if r.type == "Warning" else ""),
                r.reason,
                ago,
                Text(str(r.count), justify="right"),
                r.source,
                Text(r.message),
                key=str(i),
            )
        self.query_one("#object-tabs", TabbedContent).get_tab("events").label = f"Events ({len(rows)})"

    # -- logs --------------------------------------------------------------------------------

    def _failing_container(self, obj: dict) -> str | None:
        statuses = obj.get("status") or {}
        for cs in (statuses.get("initContainerStatuses") or []) + (statuses.get("containerStatuses") or []):
            if not cs.get("ready") and (cs.get("restartCount") or (cs.get("state") or {}).get("waiting")):
                return cs.get("name")
        return None

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "log-container" and isinstance(event.value, str):
            self._container = event.value
            self._load_log()

    def action_toggle_previous(self) -> None:
        if self.ref.kind != "Pod":
            return
        self.previous_logs = not self.previous_logs
        self._load_log()

    def _log_status(self) -> Text:
        t = Text(style="dim")
        t.append("previous" if self.previous_logs else "current")
        t.append(f" container, last {object_reads.LOG_TAIL_LINES} lines\n")
        for on, word in (
            (self.follow_logs, "F follow"),
            (self.wrap_logs, "w wrap"),
            (self.log_timestamps, "t timestamps"),
            (self.previous_logs, "P previous"),
        ):
            t.append(word + (" on" if on else " off"), style="bold green" if on else "dim")
            t.append("  ")
        if self.search:
            where = f"{self._match + 1}/{len(self._matches)}" if self._matches else "no match"
            t.append(f"\n/{self.search}: {where} (n/N)", style="bold yellow" if self._matches else "red")
        return t

    def _load_log(self) -> None:
        self.query_one("#log-status", Static).update(self._log_status())
        self._fetch_log(self._container, self.previous_logs, self.log_timestamps)

    def _follow_tick(self) -> None:
        tabs = self.query_one("#object-tabs", TabbedContent)
        if self.follow_logs and not self.previous_logs and tabs.active == "logs" and self.app.screen is self:
            self._fetch_log(self._container, False, self.log_timestamps)

    @work(thread=True, exclusive=True, group="logs", exit_on_error=False)
    def _fetch_log(self, container: str | None, previous: bool, timestamps: bool = False) -> None:
        kube = self.app.kube
        if kube is None:
            return
        try:
            text = object_reads.fetch_log(
                kube, self.ref.namespace or "default", self.ref.name, container, previous, timestamps=timestamps
            )
        except Exception as e:  # noqa: BLE001 - "previous terminated container not found" and friends
            text = f"[no log: {_error_line(e)}]"
        which = "previous instance of" if previous else "current"
        head = f"── {which} {container or 'default container'}, last {object_reads.LOG_TAIL_LINES} lines ──"
        self.app.call_from_thread(self._show_log, head, text or "[the log is empty]")

    def _show_log(self, head: str, text: str) -> None:
        if not self.is_mounted:  # a read that finished after the screen was left
            return
        if (head, text) == (self._log_head, self._log_text):
            return  # a followed log that did not move: keep the reader's place and selection
        self._log_head, self._log_text = head, text
        log = self.query_one("#log-view", LogView)
        # The header is a line of its own: the log's first line starts on the next one.
        log.load_text(head + "\n" + text.rstrip("\n"))
        self._find_matches()
        if self.follow_logs:
            log.move_cursor(log.document.end)
            log.scroll_end(animate=False)
        self.query_one("#log-status", Static).update(self._log_status())

    def action_toggle_follow(self) -> None:
        self.follow_logs = not self.follow_logs
        if self.follow_logs:
            self.previous_logs = False  # only a running container's log grows
            self._load_log()
        self.query_one("#log-status", Static).update(self._log_status())

    def action_toggle_wrap(self) -> None:
        self.wrap_logs = not self.wrap_logs
        self.query_one("#log-view", LogView).soft_wrap = self.wrap_logs
        self.query_one("#log-status", Static).update(self._log_status())

    def action_toggle_timestamps(self) -> None:
        self.log_timestamps = not self.log_timestamps
        self._load_log()

    def action_search_log(self) -> None:
        self.action_show_tab("logs")
        box = self.query_one("#log-search", Input)
        box.add_class("-open")
        box.value = self.search
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "log-search":
            return
        event.input.remove_class("-open")
        self.search = event.value.strip()
        self._find_matches()
        log = self.query_one("#log-view", LogView)
        row = log.cursor_location[0]
        self._match = next((i for i, m in enumerate(self._matches) if m[0] >= row), 0) - 1
        log.focus()
        self.action_next_match()

    def on_key(self, event) -> None:
        box = self.query("#log-search")
        if event.key == "escape" and box and box.first().has_class("-open"):
            event.stop()
            event.prevent_default()
            box.first().remove_class("-open")
            self.query_one("#log-view", LogView).focus()

    def _find_matches(self) -> None:
        self._matches = []
        if self.search:
            needle = self.search.lower()
            for row, line in enumerate(self.query_one("#log-view", LogView).document.lines):
                col = line.lower().find(needle)
                while col >= 0:
                    self._matches.append((row, col))
                    col = line.lower().find(needle, col + 1)
        self._match = min(self._match, len(self._matches) - 1)

    def action_next_match(self, step: int = 1) -> None:
        if not self._matches:
            self.query_one("#log-status", Static).update(self._log_status())
            return
        self._match = (self._match + step) % len(self._matches)
        row, col = self._matches[self._match]
        log = self.query_one("#log-view", LogView)
        log.selection = Selection((row, col), (row, col + len(self.search)))
        log.scroll_cursor_visible(center=True, animate=False)
        self.query_one("#log-status", Static).update(self._log_status())

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        read_only = self.app.read_only
        if action == "debug_node":
            return not read_only and self.ref.kind == "Node"
        if action == "edit_nodepool":
            return not read_only and self.ref.kind == "NodePool"
        if action == "toggle_previous":
            return self.ref.kind == "Pod"
        if action in ("toggle_follow", "toggle_wrap", "toggle_timestamps", "search_log"):
            return self.ref.kind == "Pod"
        if action == "next_match":
            return self.ref.kind == "Pod" and bool(self.search)
        if action == "show_tab" and parameters:
            tab = parameters[0]
            if tab == "pods" and not self.has_pods:
                return False
            if tab == "logs" and self.ref.kind != "Pod":
                return False
            if tab == "describe" and not self.describable:
                return False
        return True

    def action_show_tab(self, tab: str) -> None:
        tabs = self.query_one("#object-tabs", TabbedContent)
        tabs.active = tab
        target = next(iter(tabs.get_pane(tab).query("DataTable, LogView, VerticalScroll")), None)
        if target is not None:
            target.focus()

    def action_debug_node(self) -> None:
        self.app.open_debug([self.ref.name])

    def action_edit_nodepool(self) -> None:
        self.app.open_nodepool_editor(self.ref.name)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        bid = event.button.id or ""
        if bid == "action-debug":
            self.action_debug_node()
        elif bid == "action-edit":
            self.action_edit_nodepool()
        elif bid.startswith("link-"):
            target = getattr(self, "_link_targets", {}).get(bid[5:])
            if target is not None:
                self.app.open_object(target)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        if isinstance(table, FindingsTable):
            f = table.finding_at(event.row_key)
            if f is not None:
                self.app.open_finding(f)
        elif table.id == "pods-table":
            ns, _, name = str(event.row_key.value).partition("/")
            self.app.open_object(ObjectRef("Pod", name, namespace=ns, api_version="v1"))


def _pod_status(p) -> Text:
    """kubectl's STATUS words, from the one pod-problem reading the checks use."""
    from checks.pod_problems import pod_problem

    prob = pod_problem(p)
    if prob is None:
        phase = p.status.phase or "Unknown"
        return Text(phase, style="" if phase in ("Running", "Succeeded") else "yellow")
    text = prob.status
    if prob.status == "Pending" and prob.reason:
        text += f" ({prob.reason})"
    return Text(text, style="bold red" if prob.failing else "yellow")


def _error_line(e: Exception) -> str:
    message = getattr(e, "message", None) or str(e)
    return f"{type(e).__name__}: {message}" if not getattr(e, "message", None) else message


def _version_in(snapshot, ref: ObjectRef) -> tuple | None:
    """What says the object or its events changed between two snapshots: its resourceVersion and
    the versions of its events. None when the snapshot does not hold it."""
    if snapshot is None:
        return None
    from checks.snapshot import KIND_TO_ATTR

    attr = KIND_TO_ATTR.get(ref.kind)
    obj = None
    if attr is not None:
        ns = ref.namespace or ""
        obj = next(
            (
                o
                for o in getattr(snapshot, attr, [])
                if o.metadata.name == ref.name and (o.metadata.namespace or "") == ns
            ),
            None,
        )
    events = snapshot.events_for(ref.kind, ref.name, ref.namespace)
    return (
        obj.metadata.resource_version if obj is not None else None,
        tuple((e.metadata.name, e.metadata.resource_version) for e in events),
    )
