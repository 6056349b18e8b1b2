"""SVG snapshots of the main screens at a pinned size, stored under tests/tui/snapshots/ for review
by eye (convert with `rsvg-convert -o x.png x.svg`), asserted on their stable text.

Deterministic render: TZ=UTC, a pinned terminal size, the simulator on a pinned port when it
is free (the server URL is in the header), no toasts, no focused text input (no cursor).
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tests.helpers.tui import DEDICATED_NODE, drive, loaded, make_app, wait_for

pytestmark = pytest.mark.timeout(120)

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
SIZE = (120, 40)
PINNED_PORT = 47613


@pytest.fixture(scope="module")
def sim():
    from gputui.errors import InputError
    from gputui.sim.runtime import start_simulator

    try:
        running = start_simulator(["incident"], behaviour=False, port=PINNED_PORT)
    except InputError:  # the port is taken: the render differs only in the URL
        running = start_simulator(["incident"], behaviour=False)
    yield running
    running.stop()


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


# Timestamps, ages ("40m", "14h05m", "11d") and the port move with the clock and the machine.
_VOLATILE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|127\.0\.0\.1:\d+|\b\d+(?:h\d\dm|[smhd])\b")


def save(app, name: str) -> str:
    """Export the screen; rewrite the stored SVG only when more than times, ages and the port changed,
    so a rerun leaves the checkout clean and a real change shows up in `git diff`."""
    app.clear_notifications()
    SNAPSHOTS.mkdir(exist_ok=True)
    svg = app.export_screenshot(title=f"gputui — {name}")
    path = SNAPSHOTS / f"{name}.svg"
    new_text = "\n".join(svg_lines(svg))
    old_text = "\n".join(svg_lines(path.read_text())) if path.exists() else None
    if old_text is None or _VOLATILE.sub("~", old_text) != _VOLATILE.sub("~", new_text):
        path.write_text(svg)
    return new_text


def test_snapshot_fleet_findings(sim):
    async def body(pilot):
        await loaded(pilot)
        await pilot.pause(0.2)
        text = save(pilot.app, "fleet-findings")
        assert "Karpenter 1.6.2" in text and "GPU Operator v25.3.4 (notReady)" in text
        assert "GPU nodes 33/33 ready" in text
        assert "Findings (" in text and "GPU nodes (33)" in text
        assert "GPU302" in text and "NodePool/gpu-training" in text
        assert "Node/ip-10-0-19-20.us-west-2.compute.internal" in text
        assert "Refresh" in text and "Help" in text  # the footer

    drive(make_app(sim), body, size=SIZE)


def test_snapshot_fleet_nodes_and_nodepools(sim):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("n")
        await pilot.pause(0.2)
        text = save(pilot.app, "fleet-nodes")
        assert "Instance" in text and "Worst" in text
        row = next(line for line in text.splitlines() if " ip-10-0-19-20 " in line)
        assert row.split() == [
            "ip-10-0-19-20",
            "gpu-dedicated",
            "g6e.xlarge",
            "L40S",
            "0",
            "0",
            "0",
            "on-demand",
            row.split()[8],
            "Ready",
            "GPU101",
        ]
        await pilot.press("p")
        await pilot.pause(0.2)
        text = save(pilot.app, "fleet-nodepools")
        assert "gpu-inference" in text and "31/64" in text and "█" in text
        assert "WhenEmptyOrUnderutilized" in text

    drive(make_app(sim), body, size=SIZE)


def test_snapshot_finding_detail(sim):
    async def body(pilot):
        await loaded(pilot)
        app = pilot.app
        f = next(f for f in app.findings if f.code == "GPU101" and f.subject.name == DEDICATED_NODE)
        app.open_finding(f)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FindingScreen", what="finding")
        await pilot.pause(0.2)
        text = save(app, "finding-detail")
        assert "ERROR GPU101 gpu-not-allocatable" in text
        assert f"subject  Node/{DEDICATED_NODE}" in text
        assert "Evidence" in text and "example.com/gpu-dedicated" in text

    drive(make_app(sim), body, size=SIZE)


def test_snapshot_node_drill_down(sim):
    async def body(pilot):
        await loaded(pilot)
        app = pilot.app
        from checks.model import ObjectRef

        app.open_object(ObjectRef("Node", DEDICATED_NODE))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", what="node")
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one("#events-table").row_count > 0, what="events")
        await wait_for(pilot, lambda: "loading" not in str(screen.query_one("#yaml-view").content), what="YAML")
        await pilot.pause(0.2)
        text = save(app, "node-yaml")
        assert f"Node {DEDICATED_NODE}" in text
        assert "NodeClaim gpu-dedicated-" in text and "NodePool gpu-dedicated" in text and "Run nvidia-smi" in text
        assert "kind: Node" in text
        await pilot.press("e")
        await pilot.pause(0.2)
        text = save(app, "node-events")
        assert "Reason" in text and "Message" in text
        await pilot.press("p")
        await pilot.pause(0.2)
        text = save(app, "node-pods")
        assert "gpu-operator-node-feature-discovery-worker" in text and "kube-proxy" in text
        assert "nvidia-device-plugin-daemonset" not in text  # the incident: it never got onto this node

    drive(make_app(sim), body, size=SIZE)


def test_snapshot_fleet_at_80x24(sim):
    async def body(pilot):
        await loaded(pilot)
        await pilot.pause(0.2)
        text = save(pilot.app, "fleet-80x24")
        lines = text.splitlines()
        assert len(lines) == 24
        assert all(len(line) <= 80 for line in lines)
        # Too narrow for every column: the area and namespaces go, the subject stays whole.
        header = next(line for line in lines if "Problem" in line)
        assert header.split() == ["Severity", "Code", "Problem", "Subject"]
        assert any(line.split()[:2] == ["error", "GPU302"] and line.endswith("NodePool/gpu-training") for line in lines)
        assert any(line.endswith(" Node/ip-10-0-19-20") for line in lines)
        assert any(line.endswith(" Pod/nvidia-driver-daemonset-fbxjp") for line in lines)
        assert "Findings (" in text
        await pilot.press("n")
        await pilot.pause(0.2)
        text = save(pilot.app, "fleet-nodes-80x24")
        header = next(line for line in text.splitlines() if "Node" in line and "Status" in line)
        assert header.split() == ["Node", "NodePool", "GPU", "Alloc", "Status", "Worst"]
        row = next(line for line in text.splitlines() if " ip-10-0-19-20 " in line)
        assert row.split() == ["ip-10-0-19-20", "gpu-dedicated", "L40S", "0", "Ready", "GPU101"]

    drive(make_app(sim), body, size=(80, 24))


def _short_subject(ref) -> str:
    name = ref.name.removesuffix(".us-west-2.compute.internal") if ref.kind == "Node" else ref.name
    return f"{ref.kind}/{name}"


def test_every_finding_shows_its_whole_subject_at_80x24(sim):
    """Row by row (the cursor scrolls the table), the rendered line ends with the subject's kind/name."""

    async def body(pilot):
        await loaded(pilot)
        app = pilot.app
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
        await pilot.pause(0.3)
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

    drive(make_app(sim), body, size=(80, 24))
