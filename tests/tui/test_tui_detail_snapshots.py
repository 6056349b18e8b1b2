"""Screen snapshots at 80x24 of the detail screens: a node's and a NodePool's summary, a pod's
log, a finding, the fix walk-through. Same frozen clock, simulator and pinned server URL as
test_tui_snapshots (its fixtures are reused); accept deliberate changes with
`python -m pytest tests/tui/test_tui_detail_snapshots.py --snapshot-update` after looking at them.
"""

from __future__ import annotations

import pytest

from checks.model import ObjectRef
from tests.helpers.tui import DEDICATED_NODE, loaded, wait_for
from tests.tui.test_tui_snapshots import SMALL, app, settled, sim  # noqa: F401 - fixtures

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("tui-snapshots")]


def _fits(text: str) -> list[str]:
    lines = text.splitlines()
    assert len(lines) == SMALL[1] and all(len(line) <= SMALL[0] for line in lines)
    return lines


async def _object(pilot, ref: ObjectRef):
    await loaded(pilot)
    pilot.app.open_object(ref)
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ObjectScreen", what="the object screen")
    return pilot.app.screen


def test_node_describe_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        screen = await _object(pilot, ObjectRef("Node", DEDICATED_NODE))
        view = screen.query_one("#describe-view")
        await wait_for(pilot, lambda: "loading" not in str(view.content), what="the summary")
        text = "\n".join(_fits(await settled(pilot)))
        assert "Describe" in text and "Status:" in text and "Conditions" in text

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_nodepool_describe_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        screen = await _object(pilot, ObjectRef("NodePool", "gpu-inference", api_version="karpenter.sh/v1"))
        view = screen.query_one("#describe-view")
        await wait_for(pilot, lambda: "loading" not in str(view.content), what="the summary")
        text = "\n".join(_fits(await settled(pilot)))
        assert "gpu-inference" in text and "Limits" in text

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_pod_logs_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        screen = await _object(pilot, ObjectRef("Pod", "nvidia-driver-daemonset-fbxjp", namespace="gpu-operator"))
        await pilot.press("l")
        log = screen.query_one("#log-view")
        log.cursor_blink = False
        await wait_for(pilot, lambda: len(log.lines) > 2, what="the log")
        text = "\n".join(_fits(await settled(pilot)))
        assert "── current nvidia-driver-ctr" in text and "F follow off" in text

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_finding_detail_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        await loaded(pilot)
        f = next(f for f in app.findings if f.code == "GPU101" and f.subject.name == DEDICATED_NODE)
        app.open_finding(f)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FindingScreen", what="finding")
        text = "\n".join(_fits(await settled(pilot)))
        assert "ERROR GPU101 gpu-not-allocatable" in text

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_fix_screen_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        from gputui.tui.screens.fix import FixScreen

        await loaded(pilot)
        f = next(f for f in app.findings if f.code == "GPU501")
        app.open_fix(f, f.fixes[0])
        await wait_for(
            pilot, lambda: isinstance(app.screen, FixScreen) and app.screen.state == "previewed", what="the diff"
        )
        app.screen.query_one("#fix-body").scroll_home(animate=False)
        text = "\n".join(_fits(await settled(pilot)))
        assert "1 Evidence" in text

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_context_switcher_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ContextScreen", what="the context list")
        text = "\n".join(_fits(await settled(pilot)))
        assert "gputui-sim" in text

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_undo_screen_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("u")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "UndoScreen", what="the undo screen")
        text = "\n".join(_fits(await settled(pilot)))
        assert "?Help" in text.replace(" ", "") and "qQuit" in text.replace(" ", "")

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)
