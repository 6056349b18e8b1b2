"""Screen snapshots of idle GPU spend (pytest-textual-snapshot): the GPU nodes tab with its CPU and
Memory bars and the NodePools tab with its Idle GPUs column, on idle-gpu-node-blocked, at 80x24
and 120x40. Deterministic as tests/tui/test_tui_snapshots.py is: a frozen clock, a pinned server
URL, settled screens. After a deliberate change: `--snapshot-update`, then look at the renders."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers.clock import served_at
from tests.helpers.tui import app_with_pinned_server, loaded, wait_for
from tests.tui.test_tui_snapshots import SMALL, WIDE, settled

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("tui-idle-snapshots")]

NOW = dt.datetime(2026, 11, 30, 1, 30, 0, tzinfo=dt.timezone.utc)  # the scenario's own snapshot time


@pytest.fixture(scope="module")
def sim():
    yield from served_at(NOW, "idle-gpu-node-blocked")


@pytest.fixture
def app(sim, monkeypatch):
    return app_with_pinned_server(sim, monkeypatch)


def _on(tab: str, key: str):
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: pilot.app.screen.query_one("#fleet-tabs").active == tab, what=tab)
        return await settled(pilot)

    return run_before


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "120x40"])
def test_idle_gpu_nodes_tab(app, snap_compare, size):
    async def run_before(pilot):
        text = await _on("nodes", "n")(pilot)
        assert "ip-10-0-0-49" in text and "GPU503" in text
        if size == WIDE:
            assert "CPU" in text and "2%" in text and "81%" in text  # the idle node's and a busy one's CPU bar

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "120x40"])
def test_idle_nodepools_tab(app, snap_compare, size):
    async def run_before(pilot):
        text = await _on("nodepools", "p")(pilot)
        assert "gpu-training" in text
        if size == WIDE:
            assert "Idle GPUs" in text and "4 for 58m, $5.67/h" in text

    assert snap_compare(app, terminal_size=size, run_before=run_before)
