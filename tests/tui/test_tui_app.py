"""Pilot tests of the interactive app against the simulator over HTTP (the `incident` scenario).

pytest-asyncio is not a dependency: each test drives the app with asyncio.run().
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

os.environ["TZ"] = "UTC"
time.tzset()

from textual.command import CommandList  # noqa: E402

from checks.model import ObjectRef  # noqa: E402
from gputui.tui.app import GputuiApp  # noqa: E402
from gputui.tui.state import AppConfig  # noqa: E402
from tests.helpers.tui import DEDICATED_NODE, drive, loaded, make_app, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)

SCENARIO_INDEX = Path(__file__).resolve().parents[2] / "gputui" / "sim" / "scenarios" / "index.yaml"


def expected_findings(scenario: str) -> set[tuple[str, str, str, str]]:
    """(code, kind, namespace, name) the scenario promises `gputui diagnose` reports."""
    entries = yaml.safe_load(SCENARIO_INDEX.read_text())[scenario]["expect"]
    return {(e["code"], e["kind"], e.get("namespace") or "", e["name"]) for e in entries}


def finding_keys(findings) -> set[tuple[str, str, str, str]]:
    return {(f.code, f.subject.kind, f.subject.namespace or "", f.subject.name) for f in findings}


INCIDENT = expected_findings("incident")
INCIDENT_CODES = {k[0] for k in INCIDENT}
DRIVER_POD = ("gpu-operator", "nvidia-driver-daemonset-fbxjp")


def static_text(widget) -> str:
    """The plain text a Static shows (its renderable, whatever rich type it is)."""
    from rich.console import Console

    console = Console(width=400, record=True, file=open(os.devnull, "w"))
    content = getattr(widget, "content", None)
    console.print(content if content is not None else widget.render())
    return console.export_text()


@pytest.fixture
def incident(shared_sim):
    return shared_sim(sources=("incident",))


@pytest.fixture
def healthy(shared_sim):
    return shared_sim(sources=("healthy",))


# -- the fleet screen ------------------------------------------------------------------


def test_header_counts_match_the_incident_scenario(incident):
    async def body(pilot):
        await loaded(pilot)
        header = static_text(pilot.app.screen.query_one("#cluster-header"))
        assert "gputui-sim" in header and incident.url in header
        assert "Karpenter 1.6.2" in header
        assert "GPU Operator v25.3.4 (notReady)" in header
        assert "GPU nodes 33/33 ready" in header
        assert "GPUs used/allocatable/capacity 66/66/66 (69 expected)" in header
        assert "pending GPU pods 8" in header
        findings = pilot.app.findings
        errors = sum(1 for f in findings if f.severity.label == "error")
        warnings = sum(1 for f in findings if f.severity.label == "warning")
        assert errors >= 15 and warnings >= 5
        assert f"{errors} errors {warnings} warnings" in header

    drive(make_app(incident), body)


def test_node_table_lists_the_gpu_nodes_and_their_worst_finding(incident):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("n")
        table = pilot.app.screen.query_one("#nodes-table")
        names = table.shown_names
        assert len(names) == 33
        assert DEDICATED_NODE in names
        assert not any(n.startswith("ip-10-0-1-") for n in names)  # system nodes stay out
        row = table.get_row(DEDICATED_NODE)
        cells = [getattr(c, "plain", c) for c in row]
        assert cells[1:4] == ["gpu-dedicated", "g6e.xlarge", "L40S"]
        assert table.visible_columns[4:] == ["capacity", "allocatable", "bar", "cost", "status", "worst"]
        assert cells[4:6] == ["0", "0"]
        assert cells[6:8] == ["-", "$1.86/h"]  # no allocatable GPU to draw; g6e.xlarge on demand
        assert cells[8] == "Ready"
        assert cells[0] == "ip-10-0-19-20"  # the domain every node shares is not repeated
        assert cells[9] == "GPU101"

    drive(make_app(incident), body)


def test_findings_of_incident_are_shown_worst_first(incident):
    async def body(pilot):
        await loaded(pilot)
        table = pilot.app.screen.query_one("#findings-table")
        codes = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert set(codes) >= INCIDENT_CODES
        assert finding_keys(table.findings) >= INCIDENT  # every promised finding, on its subject
        assert len(codes) == len(pilot.app.findings)
        # Causes (and findings that follow from none) worst first; each consequence right after its cause.
        titles = [table.get_row_at(i)[-2].plain for i in range(table.row_count)]
        leads = [i for i, title in enumerate(titles) if not title.startswith("↳ ")]
        severities = [table.get_row_at(i)[0].plain for i in leads]
        assert severities == sorted(severities, key=["error", "warning", "info"].index)
        lead = None
        for i, f in enumerate(table.findings):
            if i in leads:
                lead = f
            else:
                assert f.cause == lead.id, (i, f.code, f.cause)
        assert len(leads) < len(codes)  # the incident's causes lead others
        n = len(codes)
        assert pilot.app.screen.query_one("#fleet-tabs").get_tab("findings").label.plain == f"Findings ({n})"

    drive(make_app(incident), body)


def test_open_a_finding_and_see_its_evidence_and_fix(incident):
    async def body(pilot):
        await loaded(pilot)
        table = pilot.app.screen.query_one("#findings-table")
        row = next(i for i, f in enumerate(table.findings) if f.code == "GPU205")
        table.move_cursor(row=row)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "FindingScreen", what="finding screen")
        screen = pilot.app.screen
        assert "example.com/gpu-dedicated" in static_text(screen.query_one("#finding-evidence"))
        explanation = static_text(screen.query_one("#finding-explanation"))
        assert "Why it matters" in explanation and "How to fix" in explanation
        fixes = " ".join(static_text(w) for w in screen.query(".fix-text"))
        assert "kubectl" in fixes and "cluster-policy" in fixes
        assert screen.query("#walk-0")  # offered when not read-only
        await pilot.press("escape")
        assert type(pilot.app.screen).__name__ == "FleetScreen"

    drive(make_app(incident), body)


def test_drill_into_a_node_shows_yaml_events_pods_and_findings(incident):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("n")
        table = pilot.app.screen.query_one("#nodes-table")
        table.move_cursor(row=table.get_row_index(DEDICATED_NODE))
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ObjectScreen", what="object screen")
        screen = pilot.app.screen
        await wait_for(pilot, lambda: "kind: Node" in static_text(screen.query_one("#yaml-view")), what="YAML")
        yaml_text = static_text(screen.query_one("#yaml-view"))
        assert f"name: {DEDICATED_NODE}" in yaml_text and "managedFields" not in yaml_text
        assert "example.com/gpu-dedicated" in yaml_text  # the taint behind the incident
        events = screen.query_one("#events-table")
        await wait_for(pilot, lambda: events.row_count > 0, what="events")
        reasons = {str(events.get_row_at(i)[1]) for i in range(events.row_count)}
        assert reasons  # every row is an event about this node
        pods = screen.query_one("#pods-table")
        assert pods.row_count > 0
        findings = screen.query_one("#object-findings-table")
        assert {f.code for f in findings.findings} >= {"GPU101", "GPU304"}
        assert screen.query("#action-debug") and screen.query("#link-NodeClaim")
        await pilot.press("e")
        assert screen.query_one("#object-tabs").active == "events"
        first = screen._event_rows[0]
        assert first.message
        await wait_for(
            pilot, lambda: first.message in static_text(screen.query_one("#event-detail")), what="the event's detail"
        )

    drive(make_app(incident), body)


def test_pod_logs_tail_and_previous_container(incident):
    async def body(pilot):
        await loaded(pilot)
        pilot.app.open_object(ObjectRef("Pod", DRIVER_POD[1], namespace=DRIVER_POD[0]))
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ObjectScreen", what="object screen")
        screen = pilot.app.screen
        await pilot.press("l")
        log = screen.query_one("#log-view")
        await wait_for(pilot, lambda: "linux-headers-6.8.0-1040-aws" in "\n".join(log.lines), what="driver log")
        assert screen.query_one("#log-container").value == "nvidia-driver-ctr"
        assert log.lines[0].startswith("── current nvidia-driver-ctr")
        await pilot.press("P")
        await wait_for(
            pilot,
            lambda: log.lines and log.lines[0].startswith("── previous instance of nvidia-driver-ctr"),
            what="previous log",
        )
        assert "Could not resolve Linux kernel version" in "\n".join(log.lines)
        assert screen.previous_logs is True
        assert "previous" in static_text(screen.query_one("#log-status"))

    drive(make_app(incident), body)


def test_filter_with_slash_narrows_the_node_table(incident):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("n", "slash")
        box = pilot.app.screen.query_one("#nodes-filter")
        assert box.has_class("-active") and box.has_focus
        await pilot.press(*"gpu-dedicated")
        table = pilot.app.screen.query_one("#nodes-table")
        assert sorted(table.shown_names) == [
            "ip-10-0-19-20.us-west-2.compute.internal",
            "ip-10-0-83-151.us-west-2.compute.internal",
        ]
        await pilot.press("escape")
        assert not box.has_class("-active") and len(table.shown_names) == 33

    drive(make_app(incident), body)


def test_filter_findings_by_code(incident):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("slash", *"GPU304")
        table = pilot.app.screen.query_one("#findings-table")
        assert [f.subject.name for f in table.findings] == [
            "gpu-dedicated-2mdgp",
            "gpu-dedicated-779mx",
            "gpu-inference-4frzj",
        ]

    drive(make_app(incident), body)


def test_sort_nodes_by_key_and_by_header_click(incident):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("n")
        table = pilot.app.screen.query_one("#nodes-table")
        assert table.shown_names[0] in {
            DEDICATED_NODE,
            "ip-10-0-83-151.us-west-2.compute.internal",
            "ip-10-0-39-113.us-west-2.compute.internal",
        }  # worst first
        await pilot.press("s")  # next column after "worst finding" wraps to the node name
        assert table.sort_column == "node"
        assert table.shown_names == sorted(table.shown_names)
        await pilot.press("S")
        assert table.shown_names == sorted(table.shown_names, reverse=True)
        await pilot.click("#nodes-table", offset=(_column_x(table, "instance"), 0))
        assert table.sort_column == "instance" and not table.sort_reverse
        rows = {r.name: r for r in table._rows}
        types = [rows[n].instance_type for n in table.shown_names]
        assert types == sorted(types)
        await pilot.click("#nodes-table", offset=(_column_x(table, "instance"), 0))
        assert table.sort_reverse
        assert [rows[n].instance_type for n in table.shown_names] == sorted(types, reverse=True)

    drive(make_app(incident), body)


def _column_x(table, key: str) -> int:
    x = 0
    for column in table.ordered_columns:
        if column.key.value == key:
            return x + 1
        x += column.get_render_width(table)
    raise KeyError(key)


def test_nodepools_and_operator_tabs(incident):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("p")
        table = pilot.app.screen.query_one("#nodepools-table")
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
        assert set(rows) == {"gpu-spot-training", "gpu-training", "gpu-dedicated", "gpu-inference", "general"}
        assert rows["gpu-inference"][1].plain.endswith(" 30/64")  # GPUs its running pods request
        assert rows["gpu-inference"][3].plain == "Ready"
        assert rows["gpu-inference"][5] == "spot,on-demand"
        await pilot.press("o")
        ops = pilot.app.screen.query_one("#operator-table")
        by_ds = {str(ops.get_row_at(i)[1]): ops.get_row_at(i) for i in range(ops.row_count)}
        assert by_ds["nvidia-driver-daemonset"][2].plain == "31"
        assert by_ds["nvidia-driver-daemonset"][3].plain == "30"
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ObjectScreen", what="daemonset")

    drive(make_app(incident), body)


# -- contexts, read-only, errors ---------------------------------------------------------------


def _two_context_kubeconfig(tmp_path: Path, incident, healthy) -> Path:
    def part(sim, name):
        doc = yaml.safe_load(Path(sim.kubeconfig).read_text())
        cluster, user = doc["clusters"][0]["cluster"], doc["users"][0]["user"]
        return (
            {"name": name, "cluster": cluster},
            {"name": name, "user": user},
            {"name": name, "context": {"cluster": name, "user": name}},
        )

    parts = [part(incident, "incident"), part(healthy, "healthy")]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "incident",
        "clusters": [p[0] for p in parts],
        "users": [p[1] for p in parts],
        "contexts": [p[2] for p in parts],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_switch_context_changes_the_findings(tmp_path, incident, healthy):
    kubeconfig = _two_context_kubeconfig(tmp_path, incident, healthy)

    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        assert finding_keys(app.findings) >= INCIDENT
        await pilot.press("c")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextScreen", what="context picker")
        options = app.screen.query_one("#context-list")
        assert [o.id for o in options.options] == ["incident", "healthy"]
        await pilot.press("down", "enter")
        await wait_for(
            pilot,
            lambda: app.snapshot is not None and app.config.context == "healthy" and app.snapshot.server == healthy.url,
            what="the healthy cluster",
        )
        await wait_for(
            pilot,
            lambda: "0 errors 0 warnings" in static_text(app.screen.query_one("#cluster-header")),
            what="the healthy cluster's header",
        )
        assert app.kube.context == "healthy"
        assert not [f for f in app.findings if f.severity.label in ("error", "warning")]
        header = static_text(app.screen.query_one("#cluster-header"))
        assert "healthy" in header and "0 errors 0 warnings" in header
        table = app.screen.query_one("#findings-table")
        assert all(f.severity.label == "info" for f in table.findings)

    drive(GputuiApp(AppConfig(kubeconfig=str(kubeconfig), context=None, namespace=None, read_only=False)), body)


def test_read_only_hides_fix_edit_debug_and_undo(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        assert app.read_only
        assert not app.check_action("undo", ()) and not app.check_action("debug_all", ())
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Undo" not in titles and "Run nvidia-smi on all GPU nodes" not in titles
        assert "u" not in {
            b.binding.key
            for b in app.screen.active_bindings.values()
            if b.binding.show and app.check_action(b.binding.action, ())
        }
        f = next(f for f in app.findings if f.fixes)
        app.open_finding(f)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FindingScreen", what="finding")
        assert not app.screen.query("Button")  # no walk-through
        assert app.screen.check_action("walk_through", ()) is False
        depth = len(app.screen_stack)
        app.open_fix(f, f.fixes[0])
        app.open_debug([DEDICATED_NODE])
        app.open_nodepool_editor("gpu-inference")
        await pilot.pause()
        assert len(app.screen_stack) == depth
        app.open_object(ObjectRef("Node", DEDICATED_NODE))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", what="node")
        assert not app.screen.query("#action-debug")
        assert app.screen.check_action("debug_node", ()) is False
        app.open_object(ObjectRef("NodePool", "gpu-inference"))
        await wait_for(
            pilot,
            lambda: (
                getattr(app.screen, "ref", None) == ObjectRef("NodePool", "gpu-inference")
                and app.screen.query("#yaml-view")
            ),
            what="the NodePool's screen",
        )
        assert not app.screen.query("#action-edit")

    drive(make_app(incident, read_only=True), body)


def test_nodepool_screen_offers_edit_when_writable(incident):
    async def body(pilot):
        await loaded(pilot)
        pilot.app.open_object(ObjectRef("NodePool", "gpu-inference"))
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ObjectScreen", what="nodepool")
        screen = pilot.app.screen
        assert screen.query("#action-edit")
        await wait_for(pilot, lambda: "kind: NodePool" in static_text(screen.query_one("#yaml-view")), what="YAML")

    drive(make_app(incident), body)


def test_connection_error_is_one_line_with_a_hint(tmp_path):
    async def body(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.gather_error is not None, what="the error")
        status = pilot.app.screen.query_one("#gather-status")
        text = static_text(status)
        assert "does not exist" in text and "hint:" in text
        assert "Traceback" not in text
        assert status.has_class("-error")

    drive(
        GputuiApp(AppConfig(kubeconfig=str(tmp_path / "missing"), context=None, namespace=None, read_only=False)), body
    )


def test_unreachable_server_is_reported_in_the_app(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "gone", "user": {"token": "x"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))

    async def body(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.gather_error is not None, what="the error")
        assert f"127.0.0.1:{port}" in app.gather_error.message
        assert app.gather_error.hint

    drive(GputuiApp(AppConfig(kubeconfig=str(path), context=None, namespace=None, read_only=False)), body)


def test_help_screen_lists_keys(incident):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen", what="help")
        text = static_text(pilot.app.screen.query_one("#help-keys"))
        assert "command palette" in text and "switch kubeconfig context" in text.lower()
        await pilot.press("escape")
        assert type(pilot.app.screen).__name__ == "FleetScreen"

    drive(make_app(incident), body)


def test_refresh_gathers_again_and_posts_snapshot_ready(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        first = app.snapshot
        await pilot.press("r")
        await wait_for(pilot, lambda: app.snapshot is not first, what="a new snapshot")
        assert finding_keys(app.findings) >= INCIDENT

    drive(make_app(incident), body)


def test_layout_at_80x24(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        screen = app.screen
        table = screen.query_one("#findings-table")
        assert table.region.height >= 10 and table.region.width == 80
        header = screen.query_one("#cluster-header")
        assert header.region.height <= 5
        assert header.region.height >= len(static_text(header).rstrip("\n").splitlines())  # nothing cut off
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FindingScreen", what="finding")
        await pilot.press("enter")  # its subject
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", what="object")
        assert app.screen.query_one("#object-tabs").region.height >= 15
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="help")

    drive(make_app(incident), body, size=(80, 24))


# -- responsiveness, partial reads, auto-refresh, palette ------------------------------------------


def test_ui_answers_while_a_slow_gathering_runs(incident, monkeypatch):
    import threading

    from gputui.kube import gather as gather_mod

    # The gathering lasts until the test lets it go, however fast or loaded the machine is.
    release = threading.Event()
    real_gather = gather_mod.gather

    def slow_gather(*args, **kwargs):
        release.wait(30)
        return real_gather(*args, **kwargs)

    monkeypatch.setattr(gather_mod, "gather", slow_gather)

    async def body(pilot):
        app = pilot.app
        status = app.screen.query_one("#gather-status")
        await wait_for(pilot, lambda: status.has_class("-busy"), what="busy status")
        assert "reading" in static_text(status) or "connecting" in static_text(status)
        await pilot.press("question_mark")  # the event loop is free while the worker reads
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", timeout=2, what="help")
        assert app.snapshot is None and status.has_class("-busy")
        release.set()
        await pilot.press("escape")
        await loaded(pilot)
        assert not status.has_class("-busy")

    try:
        drive(make_app(incident), body)
    finally:
        release.set()


def test_unreadable_resources_are_named_in_the_header(start_sim):
    from gputui.sim.faults import Faults

    sim = start_sim(sources=["incident"], faults=Faults(forbid=("nodeclaims",)))

    async def body(pilot):
        await loaded(pilot)
        header = static_text(pilot.app.screen.query_one("#cluster-header"))
        assert "unreadable: nodeclaims.karpenter.sh" in header

    drive(make_app(sim), body)


def test_auto_refresh_gathers_again_by_itself(incident):
    app = GputuiApp(
        AppConfig(
            kubeconfig=str(incident.kubeconfig),
            context=incident.context,
            namespace=None,
            read_only=True,
            refresh_seconds=1,
        )
    )

    async def body(pilot):
        await loaded(pilot)
        first = pilot.app.snapshot
        await wait_for(pilot, lambda: pilot.app.snapshot is not first, timeout=10, what="an automatic refresh")

    drive(app, body)


def test_command_palette_runs_app_actions(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="palette")
        await pilot.press(*"NodePools")
        commands = app.screen.query_one(CommandList)
        await wait_for(
            pilot,
            lambda: (
                commands.highlighted is not None
                and "NodePools" in str(commands.get_option_at_index(commands.highlighted).prompt)
            ),
            what="the NodePools command",
        )
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                type(app.screen).__name__ == "FleetScreen" and app.screen.query_one("#fleet-tabs").active == "nodepools"
            ),
            what="NodePools tab",
        )
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Refresh",
            "Switch context",
            "Findings",
            "Nodes",
            "NodePools",
            "Run nvidia-smi on all GPU nodes",
            "Undo",
            "Quit",
        ):
            assert title in titles

    drive(make_app(incident), body)


def test_workload_drill_down_lists_its_pending_pods(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        app.open_object(ObjectRef("Deployment", "sdxl-image-gen", namespace="ml-serving"))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", what="deployment")
        await pilot.press("p")
        table = app.screen.query_one("#pods-table")
        statuses = [table.get_row_at(i)[2].plain for i in range(table.row_count)]
        assert statuses.count("Pending (Unschedulable)") == 3
        pending = next(i for i, s in enumerate(statuses) if s.startswith("Pending"))
        table.move_cursor(row=pending)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.ref.kind == "Pod", what="the pod")
        assert app.screen.query("#log-view")

    drive(make_app(incident), body)


def test_mouse_clicks_switch_tabs_and_open_rows(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await pilot.click("#fleet-tabs Tab#--content-tab-nodes")
        assert app.screen.query_one("#fleet-tabs").active == "nodes"
        table = app.screen.query_one("#nodes-table")
        await pilot.click("#nodes-table", offset=(3, 2))  # the second data row
        await pilot.click("#nodes-table", offset=(3, 2))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", what="node by mouse")
        assert app.screen.ref.name == table.shown_names[1]
        await pilot.click("#link-NodeClaim")
        await wait_for(pilot, lambda: app.screen.ref.kind == "NodeClaim", what="NodeClaim by mouse")

    drive(make_app(incident), body)


def test_big_tables_show_the_worst_rows_and_offer_the_filter(incident, monkeypatch):
    from gputui.tui.widgets import node_table

    monkeypatch.setattr(node_table, "MAX_ROWS", 10)

    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await pilot.press("n")
        table = app.screen.query_one("#nodes-table")
        assert table.row_count == 11 and len(table.shown_names) == 10
        assert "23 more" in table.get_row_at(10)[0].plain
        table.move_cursor(row=10)
        await pilot.press("enter")
        assert app.screen.query_one("#nodes-filter").has_focus
        await pilot.press(*"gpu-training")
        assert len(table.shown_names) == 5 and table.row_count == 5

    drive(make_app(incident), body)


def test_an_open_finding_says_when_a_refresh_no_longer_reports_it(start_sim):
    from tests.helpers.sim import sim_http

    sim = start_sim(sources=["incident"])

    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        f = next(f for f in app.findings if f.code == "GPU203" and f.subject.name == DRIVER_POD[1])
        app.open_finding(f)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FindingScreen", what="finding")
        screen = app.screen
        assert not screen.has_class("-gone")
        status, _, _ = sim_http(sim, "DELETE", f"/api/v1/namespaces/{DRIVER_POD[0]}/pods/{DRIVER_POD[1]}")
        assert status == 200
        first = app.snapshot
        await pilot.press("r")
        await wait_for(pilot, lambda: app.snapshot is not first, what="the refresh")
        await wait_for(pilot, lambda: screen.has_class("-gone"), timeout=5, what="the gone banner")
        assert screen.query_one("#finding-gone").display

    drive(make_app(sim), body)


def test_debug_findings_are_kept_per_node_until_rerun_or_gone():
    from datetime import datetime, timezone

    from checks.model import Finding, Severity
    from gputui.tui.debug_findings import DebugFindings

    def smi(code: str, node: str) -> Finding:
        return Finding(
            code=code,
            name="x",
            severity=Severity.ERROR,
            title="t",
            message="seen.",
            subject=ObjectRef("Node", node),
            area="debug",
        )

    kept = DebugFindings()
    kept.record(
        ["a", "b"], [smi("GPU702", "a"), smi("GPU706", "b")], at=datetime(2026, 11, 30, 2, 57, 3, tzinfo=timezone.utc)
    )
    [first, _] = kept.current()
    assert first.message == (
        "seen. From the nvidia-smi debug run at 2026-11-30T02:57:03Z; kept until the next debug run on this node."
    )
    assert first.evidence == ["nvidia-smi debug run at 2026-11-30T02:57:03Z"]
    kept.record(["a"], [])  # a clean rerun on a clears a's finding only
    assert [(f.code, f.subject.name) for f in kept.current()] == [("GPU706", "b")]
    assert kept.current(["a"]) == [] and kept.current() == []  # b left the cluster: forgotten


def test_consequences_show_under_their_cause_and_open_it(incident):
    async def body(pilot):
        await loaded(pilot)
        table = pilot.app.screen.query_one("#findings-table")
        rows = table.findings
        taint = next(i for i, f in enumerate(rows) if f.code == "GPU205")
        following = [f for f in rows if f.cause == rows[taint].id]
        assert {f.code for f in following} >= {"GPU101", "GPU304", "GPU401", "GPU402"}
        # They come right after the cause, their titles marked ↳.
        assert rows[taint + 1 : taint + 1 + len(following)] == following
        for i in range(taint + 1, taint + 1 + len(following)):
            assert table.get_row_at(i)[-2].plain.startswith("↳ ")
        assert not table.get_row_at(taint)[-2].plain.startswith("↳ ")
        # The consequence's screen names its cause; enter on it opens the cause.
        table.move_cursor(row=taint + 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "FindingScreen", what="finding screen")
        objects = pilot.app.screen.query_one("#finding-objects")
        assert objects.get_option_at_index(1).id == "cause"
        assert "because of  GPU205 ClusterPolicy/cluster-policy" in str(objects.get_option_at_index(1).prompt)
        objects.highlighted = 1
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: getattr(pilot.app.screen, "finding", None) is rows[taint],
            what="the cause's finding screen",
        )

    drive(make_app(incident), body)
