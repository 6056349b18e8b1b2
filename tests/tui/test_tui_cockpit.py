"""Pilot tests of the main cockpit at 80x24 and 120x40: the `/` filter shows what is typed and
the filtered count, the fleet tabs fit their columns, `? Help` and `q Quit` stay in the footer,
a cordoned node keeps its Worst column, the header wraps between fields only, `:` command mode
and the k9s-style resource views, sort marks and keys, `d`/`E` on fleet rows behind a
confirmation, ctrl+c, and a help screen generated from every screen's bindings."""

from __future__ import annotations

import os
import re
import time

import pytest

os.environ["TZ"] = "UTC"
time.tzset()

from gputui.tui.widgets.cluster_header import header_fields, lay_out  # noqa: E402
from tests.helpers.tui import DEDICATED_NODE, drive, loaded, make_app, wait_for  # noqa: E402
from tests.tui.test_tui_snapshots import svg_lines  # noqa: E402

pytestmark = pytest.mark.timeout(180)

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
TAB_KEYS = {"findings": "f", "nodes": "n", "nodepools": "p", "operator": "o"}
POOLS = ("gpu-spot-training", "gpu-training", "gpu-dedicated", "gpu-inference", "general")


@pytest.fixture
def incident(shared_sim):
    return shared_sim(sources=("incident",))


def screen_lines(app) -> list[str]:
    return svg_lines(app.export_screenshot())


def screen_name(app) -> str:
    return type(app.screen).__name__


async def on_tab(pilot, tab: str) -> None:
    await pilot.press(TAB_KEYS[tab])
    await wait_for(pilot, lambda: pilot.app.screen.query_one("#fleet-tabs").active == tab, what=f"the {tab} tab")


def tab_line(app) -> str:
    return next(line for line in screen_lines(app) if "Findings (" in line and "NodePools (" in line)


def footer_line(app) -> str:
    return screen_lines(app)[-1]


def fits(table) -> bool:
    """Every column of the table is inside its width (nothing to scroll sideways to)."""
    return sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width


# -- the `/` filter ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_the_filter_shows_what_is_typed_and_the_filtered_count(incident, size):
    typed = {"findings": "gpu101", "nodes": "ip-10-0-19", "nodepools": "gpu-d", "operator": "driver"}

    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        for tab, text in typed.items():
            await on_tab(pilot, tab)
            await pilot.press("slash")
            box = app.screen.query_one(f"#{tab}-filter")
            assert box.has_focus
            await pilot.press(*text)
            await pilot.pause()
            assert box.content_region.height >= 1, f"{tab}: the filter has no row for its text"
            lines = screen_lines(app)
            assert any(line.strip() == text for line in lines), f"{tab}: {text!r} not on screen"
            assert re.search(r"\(\d+/\d+\)", tab_line(app)), f"{tab}: no filtered count in {tab_line(app)!r}"
            await pilot.press("escape")
        await on_tab(pilot, "nodes")
        await pilot.press("slash", *"ip-10-0-19")
        await pilot.pause()
        assert "GPU nodes (1/33)" in tab_line(app)

    drive(make_app(incident), body, size=size)


# -- columns, footer, header ---------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_nodepools_and_operator_tabs_fit_their_columns(incident, size):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await on_tab(pilot, "nodepools")
        table = app.screen.query_one("#nodepools-table")
        await pilot.pause()
        assert fits(table), [(c.label.plain, c.get_render_width(table)) for c in table.columns.values()]
        assert {"name", "gpus", "ready"} <= set(table.visible_columns)
        text = "\n".join(screen_lines(app))
        assert all(re.search(rf"\b{pool}\b", text) for pool in POOLS)
        assert "30/64" in text  # gpu-inference: GPUs its running pods request / its limit
        await on_tab(pilot, "operator")
        ops = app.screen.query_one("#operator-table")
        await pilot.pause()
        assert fits(ops)
        assert {"operand", "ready", "state"} <= set(ops.visible_columns)
        assert "GPU feature discovery" in "\n".join(screen_lines(app))
        if size[0] >= 120:
            assert table.visible_columns == [
                "name",
                "gpus",
                "nodes",
                "ready",
                "weight",
                "capacity",
                "disruption",
                "cost",
            ]
            assert "daemonset" in ops.visible_columns

    drive(make_app(incident), body, size=size)


@pytest.mark.parametrize("size", SIZES)
def test_help_and_quit_stay_in_the_footer(incident, size):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        for tab in TAB_KEYS:
            await on_tab(pilot, tab)
            await pilot.pause()
            line = footer_line(app)
            assert "? Help" in line and "q Quit" in line, f"{tab}: {line!r}"
        app.open_view("pods")
        await wait_for(pilot, lambda: screen_name(app) == "ResourceScreen", what="the pods view")
        await pilot.pause()
        line = footer_line(app)
        assert "? Help" in line and "q Quit" in line, line

    drive(make_app(incident), body, size=size)


@pytest.mark.parametrize("size", SIZES)
def test_a_cordoned_node_keeps_its_worst_column(start_sim, size):
    from tests.helpers.sim import sim_http

    sim = start_sim(sources=["incident"])

    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        status, _, _ = sim_http(
            sim,
            "PATCH",
            f"/api/v1/nodes/{DEDICATED_NODE}",
            {"spec": {"unschedulable": True}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert status == 200
        # Karpenter disrupting it: cordoned, then deleted (its termination finalizer keeps it while it drains).
        status, _, _ = sim_http(sim, "DELETE", f"/api/v1/nodes/{DEDICATED_NODE}")
        assert status == 200
        first = app.snapshot
        await pilot.press("r")
        await wait_for(pilot, lambda: app.snapshot is not first, what="the refresh")
        await on_tab(pilot, "nodes")
        table = app.screen.query_one("#nodes-table")
        await pilot.pause()
        assert "worst" in table.visible_columns and fits(table)
        row = next(line for line in screen_lines(app) if " ip-10-0-19-20 " in line)
        worst = str(table.get_row(DEDICATED_NODE)[table.visible_columns.index("worst")])
        assert re.fullmatch(r"GPU\d{3}", worst) and row.split()[-1] == worst, row
        assert "Cordoned" in row or "SchedulingDisabled" in row
        assert "Deleting" in row

    drive(make_app(sim), body, size=size)


def test_header_fields_break_between_fields_only():
    from gputui.tui.fleet_model import FleetSummary

    s = FleetSummary(
        context="arn:aws:eks:us-west-2:123456789012:cluster/ml-prod",
        server="https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com",
        kubernetes_version="v1.32.4-eks-2d5f260",
        karpenter_version="1.6.2",
        operator_version="v25.3.4 (notReady)",
        gpu_nodes_ready=30,
        gpu_nodes_total=33,
        gpus_capacity=66,
        gpus_allocatable=64,
        gpus_allocated=60,
        gpus_expected=69,
        pending_gpu_pods=8,
        errors=15,
        warnings=6,
        infos=0,
        unreadable=["nodeclaims.karpenter.sh"],
    )
    import datetime as dt

    groups = header_fields(
        s, namespace="ml", read_only=True, as_of=dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)
    )
    lines = lay_out(groups, 78).plain.splitlines()
    assert all(len(line) <= 78 for line in lines if "amazonaws" not in line), lines
    fields = [f.plain for group in groups for f in group]
    for field in fields:
        assert any(field in line for line in lines), f"{field!r} was split: {lines}"
    assert "ns ml" in fields and "read-only" in fields and "read at 02:00:00" in fields


@pytest.mark.parametrize("size", SIZES)
def test_header_shows_namespace_read_only_and_how_current_the_data_is(incident, size):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        header = app.screen.query_one("#cluster-header")
        await wait_for(pilot, lambda: "● live" in "\n".join(screen_lines(app)[: header.region.height]), what="live")
        lines = screen_lines(app)[: header.region.height]
        text = "\n".join(lines)
        assert "ns all" in text and "read-only" in text
        assert "GPU Operator v25.3.4 (notReady)" in text and "pending GPU pods 8" in text
        assert all(len(line) <= size[0] for line in lines)

    drive(make_app(incident, read_only=True), body, size=size)


# -- `:` command mode and the resource views ----------------------------------------------------------


VIEW_COLUMNS = {
    "pods": ["namespace", "name", "ready", "status", "restarts", "gpus", "age", "node"],
    "nodes": ["name", "status", "nodepool", "instance", "gpus", "age"],
    "events": ["type", "reason", "object", "age", "count", "message", "namespace"],
}


@pytest.mark.parametrize("size", SIZES)
def test_command_mode_opens_every_resource_view_by_alias(incident, size):
    commands = {
        "po": "pods",
        "pending": "pending",
        "no": "nodes",
        "nc": "nodeclaims",
        "np": "nodepools",
        "ev": "events",
    }

    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        for typed, view in commands.items():
            await pilot.press("colon")
            await wait_for(pilot, lambda: screen_name(app) == "CommandScreen", what="the : prompt")
            await pilot.press(*typed, "enter")
            await wait_for(
                pilot,
                lambda v=view: screen_name(app) == "ResourceScreen" and app.screen.view == v,
                what=f":{typed}",
            )
            table = app.screen.query_one("#view-table")
            await pilot.pause()
            assert table.row_count > 0 and fits(table), view
            if size[0] >= 120 and view in VIEW_COLUMNS:
                assert table.visible_columns == VIEW_COLUMNS[view]
            assert "name" in table.visible_columns or "object" in table.visible_columns
            await pilot.press("escape")
            await wait_for(pilot, lambda: screen_name(app) == "FleetScreen", what="back to the fleet")

    drive(make_app(incident), body, size=size)


def test_command_mode_completes_with_tab_and_lists_matches(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await pilot.press("colon", *"nodec")
        screen = app.screen
        options = screen.query_one("#command-options")
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == ["nodeclaims"]
        await pilot.press("tab")
        assert screen.query_one("#command-input").value == "nodeclaims"
        await pilot.press("ctrl+u", *"node")
        assert options.option_count == 3  # nodes, nodeclaims, nodepools
        await pilot.press("down", "down", "tab")
        assert screen.query_one("#command-input").value == "nodepools"
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "view", None) == "nodepools", what=":nodepools")
        rows = app.screen.query_one("#view-table")
        assert {str(rows.get_row_at(i)[0]) for i in range(rows.row_count)} == set(POOLS)

    drive(make_app(incident), body, size=(80, 24))


@pytest.mark.parametrize("size", SIZES)
def test_resource_view_filters_with_a_count_and_sorts_with_marks(incident, size):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        app.open_view("pods")
        await wait_for(pilot, lambda: screen_name(app) == "ResourceScreen", what="the pods view")
        table = app.screen.query_one("#view-table")
        total = len(app.snapshot.pods)
        assert f"Pods ({total})" in screen_lines(app)[0]
        assert "Name ▲" in screen_lines(app)[1]
        await pilot.press("N")
        assert "Name ▼" in "\n".join(screen_lines(app))
        names = [str(table.get_row_at(i)[table.visible_columns.index("name")]) for i in range(table.row_count)]
        assert names == sorted(names, reverse=True)
        await pilot.press("A")
        assert table.sort_column == "age" and "Age ▲" in "\n".join(screen_lines(app))
        await pilot.press("slash", *"nvidia-driver")
        await pilot.pause()
        shown = sum(1 for p in app.snapshot.pods if "nvidia-driver" in p.metadata.name)
        assert f"Pods ({shown}/{total})" in screen_lines(app)[0]
        assert table.row_count == shown
        await pilot.press("enter")  # keep the filter; the table has the focus
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "ObjectScreen", what="the pod")

    drive(make_app(incident), body, size=size)


def test_node_table_marks_its_sort_column(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await on_tab(pilot, "nodes")
        assert "Worst ▲" in "\n".join(screen_lines(app))
        await pilot.press("S")
        assert "Worst ▼" in "\n".join(screen_lines(app))
        await pilot.press("s")  # the next column: Node
        assert "Node ▲" in "\n".join(screen_lines(app))

    drive(make_app(incident), body, size=(120, 40))


# -- d / E on fleet rows; the confirmation before debug pods -------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_d_on_a_node_row_asks_before_starting_a_debug_pod(incident, size):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await on_tab(pilot, "nodes")
        table = app.screen.query_one("#nodes-table")
        table.move_cursor(row=table.get_row_index(DEDICATED_NODE))
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(app) == "ConfirmScreen", what="the confirmation")
        text = "\n".join(screen_lines(app))
        assert "Start 1 debug pod to run nvidia-smi?" in text
        assert re.search(r"namespace +default", text) and "ip-10-0-19-20" in text
        assert re.search(r"mode +(host|operator-driver|runtime) ×1", text)
        assert "privileged" in text
        await pilot.press("enter")  # No has the focus: enter declines
        await wait_for(pilot, lambda: screen_name(app) == "FleetScreen", what="back to the fleet")
        await pilot.pause(0.2)
        assert screen_name(app) == "FleetScreen"

    drive(make_app(incident), body, size=size)


def test_running_nvidia_smi_on_all_gpu_nodes_asks_first(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        app.action_debug_all()
        await wait_for(pilot, lambda: screen_name(app) == "ConfirmScreen", what="the confirmation")
        text = "\n".join(screen_lines(app))
        assert "Start 33 debug pods to run nvidia-smi?" in text and "and 29 more" in text
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(app) == "FleetScreen", what="declined")

    drive(make_app(incident), body, size=(80, 24))


def test_e_on_a_nodepool_row_opens_its_editor_and_read_only_offers_neither(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await on_tab(pilot, "nodepools")
        table = app.screen.query_one("#nodepools-table")
        table.move_cursor(row=table.get_row_index("gpu-inference"))
        await pilot.press("E")
        await wait_for(pilot, lambda: screen_name(app) == "NodePoolEditScreen", what="the editor")

    drive(make_app(incident), body, size=(80, 24))

    async def read_only(pilot):
        app = pilot.app
        await loaded(pilot)
        await on_tab(pilot, "nodes")
        await pilot.press("d")
        await on_tab(pilot, "nodepools")
        await pilot.press("E")
        await pilot.pause(0.2)
        assert screen_name(app) == "FleetScreen"
        assert "nvidia-smi" not in footer_line(app) and "E Edit" not in footer_line(app)

    drive(make_app(incident, read_only=True), read_only, size=(80, 24))


def test_d_and_e_in_the_nodes_and_nodepools_views(incident):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        app.open_view("nodes")
        await wait_for(pilot, lambda: screen_name(app) == "ResourceScreen", what=":nodes")
        assert "d nvidia-smi" in footer_line(app) and "E Edit" not in footer_line(app)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(app) == "ConfirmScreen", what="the confirmation")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "ResourceScreen", what="declined")
        await pilot.press("escape")
        app.open_view("nodepools")
        await wait_for(pilot, lambda: getattr(app.screen, "view", None) == "nodepools", what=":nodepools")
        assert "E Edit" in footer_line(app) and "nvidia-smi" not in footer_line(app)
        await pilot.press("E")
        await wait_for(pilot, lambda: screen_name(app) == "NodePoolEditScreen", what="the editor")

    drive(make_app(incident), body, size=(120, 40))


def test_ctrl_c_quits(incident):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert pilot.app.return_code == 0

    drive(make_app(incident), body, size=(80, 24))


# -- help -----------------------------------------------------------------------------------------


def test_help_lists_every_binding_of_every_screen():
    from gputui.tui.app import GputuiApp
    from gputui.tui.screens.help import TITLES, key_groups, key_text, own_bindings, screen_classes

    groups = dict(key_groups())
    classes = [GputuiApp, *screen_classes()]
    assert {c.__name__ for c in classes} >= {"FleetScreen", "ResourceScreen", "ObjectScreen", "DebugScreen"}
    for cls in classes:
        rows = groups[TITLES.get(cls.__name__, cls.__name__)]
        for b in own_bindings(cls):
            assert any(key == key_text(b) for key, _ in rows), f"{cls.__name__}: {b.key} missing from the help"


@pytest.mark.parametrize("size", SIZES)
def test_help_screen_shows_the_generated_keys(incident, size):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: screen_name(app) == "HelpScreen", what="help")
        from tests.tui.test_tui_app import static_text

        text = static_text(app.screen.query_one("#help-keys"))
        for words in ("jump to a resource view", "Resource views", "NodePool editor", "run nvidia-smi on the selected"):
            assert words in text
        await pilot.press("escape")
        assert screen_name(app) == "FleetScreen"

    drive(make_app(incident), body, size=size)
