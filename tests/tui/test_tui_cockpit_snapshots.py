"""Snapshots at 80x24 of the cockpit's screens that tests/tui/test_tui_snapshots.py does not
cover: the NodePools and GPU Operator tabs, `:` command mode, a resource view, the help and
the confirmation asked before debug pods. Same frozen clock, simulator and pinned server URL;
accept a deliberate change with `--snapshot-update` after looking at the render."""

from __future__ import annotations

import pytest

from tests.helpers.tui import wait_for
from tests.tui.test_tui_snapshots import SMALL, app, loaded, settled, sim  # noqa: F401 - fixtures

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("tui-snapshots")]


async def _tab(pilot, key: str, tab: str) -> str:
    await loaded(pilot)
    await pilot.press(key)
    await wait_for(pilot, lambda: pilot.app.screen.query_one("#fleet-tabs").active == tab, what=f"{tab} tab")
    return await settled(pilot)


def _fits(lines: list[str]) -> None:
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
    assert "? Help" in lines[-1] and "q Quit" in lines[-1]


def test_fleet_nodepools_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        text = await _tab(pilot, "p", "nodepools")
        lines = text.splitlines()
        _fits(lines)
        header = next(line for line in lines if "GPUs used/limit" in line)
        assert header.split()[:2] == ["Name", "GPUs"]
        row = next(line for line in lines if " gpu-inference " in line)
        assert "30/64" in row and "spot,on-demand" in row

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_fleet_operator_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        text = await _tab(pilot, "o", "operator")
        lines = text.splitlines()
        _fits(lines)
        row = next(line for line in lines if line.strip().startswith("driver"))
        assert row.split()[-3:] == ["1", "not", "ready"]

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_command_mode_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("colon", "n")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "CommandScreen", what="the : prompt")
        text = await settled(pilot)
        assert ":nodes" in text and ":nodeclaims" in text and ":nodepools" in text and ":pods" not in text

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_pods_view_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("colon", "p", "o", "enter")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ResourceScreen", what="the pods view")
        text = await settled(pilot)
        lines = text.splitlines()
        _fits(lines)
        assert lines[0].startswith(" Pods (461)")
        assert lines[1].split()[:4] == ["Name", "▲", "Ready", "Status"]

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_help_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen", what="help")
        text = await settled(pilot)
        assert "Everywhere" in text and "jump to a resource view" in text

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_debug_confirmation_at_80x24(app, snap_compare):  # noqa: F811
    async def run_before(pilot):
        await loaded(pilot)
        pilot.app.action_debug_all()
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmScreen", what="the confirmation")
        text = await settled(pilot)
        assert "Start 33 debug pods to run nvidia-smi?" in text and "namespace  default" in text
        assert "No (n)" in text

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)
