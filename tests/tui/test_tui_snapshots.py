"""Screen snapshots of the main screens (pytest-textual-snapshot): each render is compared with the
SVG stored under tests/tui/__snapshots__/, so a visual change fails the test. After a deliberate
change, look at the report the failing run points to, then accept the new renders with
`python -m pytest tests/tui/test_tui_snapshots.py --snapshot-update` and commit them.

The render is deterministic: the wall clock is frozen (the simulator shifts the scenario's
timestamps to that instant, and the ages and times on screen are measured from it), TZ=UTC, a
pinned terminal size, no animations, no toasts, no focused text input (no cursor), and the
API server URL in the header pinned (the simulator listens on whatever port is free).
The text assertions say what each screen must show, whatever the snapshot holds.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import defaultdict

import pytest

from tests.helpers.clock import served_at
from tests.helpers.tui import DEDICATED_NODE, PINNED_SERVER, app_with_pinned_server, drive, loaded, wait_for

# One simulator for the module: loadgroup keeps these tests on one xdist worker.
pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("tui-snapshots")]

NOW = dt.datetime(2026, 11, 30, 2, 0, 0, tzinfo=dt.timezone.utc)
SERVER = PINNED_SERVER
WIDE = (120, 40)
SMALL = (80, 24)


@pytest.fixture(scope="module")
def sim():
    yield from served_at(NOW, "incident")


@pytest.fixture
def app(sim, monkeypatch):
    return app_with_pinned_server(sim, monkeypatch)


def svg_lines(svg: str) -> list[str]:
    """The terminal's text, one string per screen line, from Textual's SVG export.

    Runs of blanks with a background are drawn as rectangles only, so each text element is
    placed at the column its x coordinate gives rather than simply concatenated."""
    rows: dict[float, list[tuple[int, str]]] = defaultdict(list)
    cell = None
    pattern = (
        r'<text class="([^"]*)"[^>]*\bx="([\d.]+)"[^>]*\by="([\d.]+)"[^>]*textLength="([\d.]+)"[^>]*>([^<]*)</text>'
    )
    for m in re.finditer(pattern, svg):
        if m.group(1).endswith("-title"):
            continue  # the window title the export adds, not the screen
        text = html.unescape(m.group(5)).replace("\xa0", " ").rstrip("\n")
        if cell is None and text:
            cell = float(m.group(4)) / len(text)
        rows[float(m.group(3))].append((round(float(m.group(2)) / (cell or 1)), text))
    lines = []
    for _, parts in sorted(rows.items()):
        line = ""
        for col, text in sorted(parts):
            line = line.ljust(col)[:col] + text
        lines.append(line.rstrip())
    return lines


async def settled(pilot) -> str:
    """Make the screen still (no toasts, no cursor, nothing left to render) and return its text."""
    from textual.widgets import Input

    app = pilot.app
    await wait_for(pilot, lambda: not any(w.is_running for w in app.workers), what="the app's workers to finish")
    app.clear_notifications()
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    if isinstance(app.focused, Input):  # a text cursor; tables keep their focus as a user sees them
        app.set_focus(None)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    return "\n".join(svg_lines(app.export_screenshot()))


def test_fleet_findings(app, snap_compare):
    async def run_before(pilot):
        await loaded(pilot)
        text = await settled(pilot)
        assert "Karpenter 1.6.2" in text and "GPU Operator v25.3.4 (notReady)" in text
        assert "GPU nodes 33/33 ready" in text
        assert "Findings (" in text and "GPU nodes (33)" in text
        assert "GPU302" in text and "NodePool/gpu-training" in text
        assert "Node/ip-10-0-19-20.us-west-2.compute.internal" in text
        assert "Refresh" in text and "Help" in text  # the footer

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_fleet_nodes(app, snap_compare):
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: pilot.app.screen.query_one("#fleet-tabs").active == "nodes", what="nodes tab")
        text = await settled(pilot)
        assert "Instance" in text and "Worst" in text
        row = next(line for line in text.splitlines() if " ip-10-0-19-20 " in line)
        assert row.split() == [
            "ip-10-0-19-20",
            "gpu-dedicated",
            "g6e.xlarge",
            "L40S",
            "0",
            "0",
            "-",  # no allocatable GPU: no allocation bar
            "$1.86/h",  # g6e.xlarge on demand; Used, Type and Age give way to the bar and price
            "Ready",
            "GPU101",
        ]

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_fleet_nodepools(app, snap_compare):
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("p")
        await wait_for(
            pilot, lambda: pilot.app.screen.query_one("#fleet-tabs").active == "nodepools", what="NodePools tab"
        )
        text = await settled(pilot)
        assert "gpu-inference" in text and "30/64" in text and "█" in text  # GPUs its running pods request
        assert "WhenEmptyOrUnderutilized" in text

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_finding_detail(app, snap_compare):
    async def run_before(pilot):
        await loaded(pilot)
        f = next(f for f in app.findings if f.code == "GPU101" and f.subject.name == DEDICATED_NODE)
        app.open_finding(f)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FindingScreen", what="finding")
        text = await settled(pilot)
        assert "ERROR GPU101 gpu-not-allocatable" in text
        assert f"subject  Node/{DEDICATED_NODE}" in text
        assert "Evidence" in text and "example.com/gpu-dedicated" in text

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


async def _node_screen(pilot):
    from checks.model import ObjectRef

    app = pilot.app
    await loaded(pilot)
    app.open_object(ObjectRef("Node", DEDICATED_NODE))
    await wait_for(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", what="node")
    screen = app.screen
    await wait_for(pilot, lambda: screen.query_one("#events-table").row_count > 0, what="events")
    await wait_for(pilot, lambda: "loading" not in str(screen.query_one("#yaml-view").content), what="YAML")
    return screen


def test_node_yaml(app, snap_compare):
    async def run_before(pilot):
        await _node_screen(pilot)
        await pilot.press("y")  # a node opens on its summary; the YAML is one key away
        text = await settled(pilot)
        assert f"Node {DEDICATED_NODE}" in text
        assert "NodeClaim gpu-dedicated-" in text and "NodePool gpu-dedicated" in text and "Run nvidia-smi" in text
        assert "kind: Node" in text

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_node_events(app, snap_compare):
    async def run_before(pilot):
        screen = await _node_screen(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: screen.query_one("#object-tabs").active == "events", what="events tab")
        text = await settled(pilot)
        assert "Reason" in text and "Message" in text and " ago " in text

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_node_pods(app, snap_compare):
    async def run_before(pilot):
        screen = await _node_screen(pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: screen.query_one("#object-tabs").active == "pods", what="pods tab")
        text = await settled(pilot)
        assert "gpu-operator-node-feature-discovery-worker" in text and "kube-proxy" in text
        assert "nvidia-device-plugin-daemonset" not in text  # the incident: it never got onto this node

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_fleet_findings_at_80x24(app, snap_compare):
    async def run_before(pilot):
        await loaded(pilot)
        lines = (await settled(pilot)).splitlines()
        assert len(lines) == 24
        assert all(len(line) <= 80 for line in lines)
        # Too narrow for every column: the area and namespaces go, the subject stays whole.
        header = next(line for line in lines if "Problem" in line)
        assert header.split() == ["Severity", "Code", "Problem", "Subject"]
        assert any(line.split()[:2] == ["error", "GPU302"] and line.endswith("NodePool/gpu-training") for line in lines)
        assert any(line.endswith(" Node/ip-10-0-19-20") for line in lines)
        assert any(line.endswith(" Pod/nvidia-driver-daemonset-fbxjp") for line in lines)
        assert any("Findings (" in line for line in lines)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_fleet_nodes_at_80x24(app, snap_compare):
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: pilot.app.screen.query_one("#fleet-tabs").active == "nodes", what="nodes tab")
        text = await settled(pilot)
        header = next(line for line in text.splitlines() if "Node" in line and "Status" in line)
        assert header.split() == ["Node", "NodePool", "GPU", "Alloc", "Status", "Worst", "▲"]  # sorted by Worst
        row = next(line for line in text.splitlines() if " ip-10-0-19-20 " in line)
        assert row.split() == ["ip-10-0-19-20", "gpu-dedicated", "L40S", "0", "Ready", "GPU101"]

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_nodepool_editor_at_80x24(app, snap_compare):
    async def run_before(pilot):
        from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

        await loaded(pilot)
        app.open_nodepool_editor("gpu-inference")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, NodePoolEditScreen) and app.screen.state == "editing",
            what="the editor",
        )
        screen = app.screen
        await wait_for(pilot, lambda: screen.preview is not None, what="the first preview")
        lines = (await settled(pilot)).splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert any("gpu-inference" in line for line in lines)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def _short_subject(ref) -> str:
    name = ref.name.removesuffix(".us-west-2.compute.internal") if ref.kind == "Node" else ref.name
    return f"{ref.kind}/{name}"


def test_every_finding_shows_its_whole_subject_at_80x24(app):
    """Row by row (the cursor scrolls the table), the rendered line ends with the subject's kind/name."""

    async def body(pilot):
        await loaded(pilot)
        table = app.screen.query_one("#findings-table")
        assert table.row_count == len(app.findings) > 15  # more rows than fit: scrolling is exercised
        for i, finding in enumerate(table.findings):
            table.move_cursor(row=i)
            await pilot.pause()
            lines = svg_lines(app.export_screenshot())
            expected = _short_subject(finding.subject)
            row = [line for line in lines if f" {finding.code} " in line and expected in line]
            assert row, f"row {i}: {finding.code} {expected} not shown whole in:\n" + "\n".join(lines)
            assert row[0].rstrip("▁▂▃▄▅▆▇█▉▊▋▌▍▎▏ ").endswith(expected)
        # Widening the terminal brings back the area and the full names.
        await pilot.resize_terminal(140, 40)
        await wait_for(pilot, lambda: table.region.width == 140, what="the wider table")
        lines = svg_lines(app.export_screenshot())
        assert next(line for line in lines if "Problem" in line).split() == [
            "Severity",
            "Code",
            "Area",
            "Problem",
            "Subject",
        ]
        assert any(line.endswith(f"Node/{DEDICATED_NODE}") for line in lines)
        assert any(line.endswith("Pod/gpu-operator/nvidia-driver-daemonset-fbxjp") for line in lines)

    drive(app, body, size=SMALL)
