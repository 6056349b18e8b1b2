"""Idle GPUs and node allocation on screen: the GPU nodes tab's CPU and Memory bars (what the
node's unfinished pods request of its allocatable, as eks-node-viewer shows them) and the NodePools
tab's Idle GPUs column, on the idle-gpu-node-blocked scenario at 80x24, 120x40 and 200x50."""

from __future__ import annotations

import pytest

from checks.findings import age_text
from gputui.tui.widgets.node_table import DROP_ORDER
from tests.helpers.tui import drive, loaded, make_app

IDLE_NODE = "ip-10-0-0-49"  # g5.12xlarge: 48 vCPU, 4 A10G; only the nccl-debug pod and DaemonSets left on it
BUSY_NODE = "ip-10-0-49-151"  # g6.xlarge: 4 vCPU, one inference pod


@pytest.fixture
def idle(shared_sim):
    return shared_sim(sources=("idle-gpu-node-blocked",))


def _row(table, short_name: str) -> dict[str, str]:
    name = next(n for n in table.shown_names if n.startswith(short_name + "."))
    return dict(zip(table.visible_columns, (getattr(c, "plain", str(c)) for c in table.get_row(name))))


async def _tab(pilot, key: str, table_id: str):
    await loaded(pilot)
    await pilot.press(key)
    await pilot.pause()
    return pilot.app.screen.query_one(table_id)


def test_cpu_and_memory_bars_of_known_nodes_on_a_wide_terminal(idle):
    async def body(pilot):
        table = await _tab(pilot, "n", "#nodes-table")
        assert {"bar", "cpu", "memory"} <= set(table.visible_columns)
        # nccl-debug asks 1 CPU and 2Gi; the DaemonSets 0.185 CPU and 184Mi; the finished Job pod nothing.
        # Allocatable 47810m and 173900Mi: 2% and 1%.
        idle_row = _row(table, IDLE_NODE)
        assert (idle_row["bar"], idle_row["cpu"], idle_row["memory"]) == ("░░░░░░ 0/4", "░░░░░░ 2%", "░░░░░░ 1%")
        # 3185m of 3920m CPU, 12472Mi of 14662Mi memory.
        busy = _row(table, BUSY_NODE)
        assert (busy["bar"], busy["cpu"], busy["memory"]) == ("██████ 1/1", "█████░ 81%", "█████░ 85%")

    drive(make_app(idle), body, size=(200, 50))


def test_the_cpu_and_memory_bars_sort_the_table(idle):
    async def body(pilot):
        table = await _tab(pilot, "n", "#nodes-table")
        for column in ("cpu", "memory"):
            table.sort_by(column)
            await pilot.pause()
            assert table.sort_column == column and not table.sort_reverse
            names = table.shown_names
            assert names.index(next(n for n in names if n.startswith(IDLE_NODE))) < names.index(
                next(n for n in names if n.startswith(BUSY_NODE))
            )
            table.sort_by(column)  # again: the other way round
            await pilot.pause()
            names = table.shown_names
            assert table.sort_reverse
            assert names.index(next(n for n in names if n.startswith(BUSY_NODE))) < names.index(
                next(n for n in names if n.startswith(IDLE_NODE))
            )

    drive(make_app(idle), body, size=(200, 50))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_narrow_terminals_drop_the_cpu_and_memory_bars_before_the_gpu_bar(idle, size):
    async def body(pilot):
        table = await _tab(pilot, "n", "#nodes-table")
        shown = set(table.visible_columns)
        assert {"node", "allocatable", "status", "worst"} <= shown
        if "cpu" in shown or "memory" in shown:
            assert "bar" in shown, table.visible_columns
        assert table.size.width <= size[0]

    drive(make_app(idle), body, size=size)


def test_drop_order_puts_the_new_bars_before_the_gpu_bar():
    assert DROP_ORDER.index("memory") < DROP_ORDER.index("bar")
    assert DROP_ORDER.index("cpu") < DROP_ORDER.index("bar")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_nodepools_tab_says_idle_gpus_for_how_long_and_their_cost(idle, size):
    async def body(pilot):
        table = await _tab(pilot, "p", "#nodepools-table")
        if "idle" not in table.visible_columns:
            assert size[0] < 120, table.visible_columns  # dropped first on a narrow terminal
            return
        rows = {
            key: dict(zip(table.visible_columns, (getattr(c, "plain", str(c)) for c in table.get_row(key))))
            for key in ("gpu-training", "gpu-inference")
        }
        # 4 idle A10Gs of a g5.12xlarge, idle since its fine-tuning Job's pod ended (58 minutes
        # before the scenario's snapshot; the simulator's clock runs on, so measured as the app read it).
        snap = pilot.app.snapshot
        pod = snap.pod_by_key[("ml-training", "llama-ft-support-2611-hmzmv")]
        ended = pod.status.container_statuses[0].state["terminated"]["finishedAt"]
        assert rows["gpu-training"]["idle"] == f"4 for {age_text(snap.age_seconds(ended))}, $5.67/h"
        assert rows["gpu-inference"]["idle"] == "-"

    drive(make_app(idle), body, size=size)
