"""What GPUs cost, on screen: the header's cluster and idle GPU $/hour, the GPU nodes tab's
allocation bars and $/h, the NodePools tab's $/h; at 80x24 and 120x40."""

from __future__ import annotations

import pytest

from checks.cost import cluster_cost, money, node_cost
from tests.helpers.tui import drive, loaded, make_app, widget_text


@pytest.fixture
def idle(shared_sim):
    return shared_sim(sources=("idle-gpu-node-blocked",))


def _header(pilot) -> str:
    return widget_text(pilot.app.screen.query_one("#cluster-header"))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_header_shows_cluster_and_idle_gpu_cost(idle, size):
    async def body(pilot):
        await loaded(pilot)
        c = cluster_cost(pilot.app.snapshot)
        assert c.idle_gpus > 0 and c.idle_usd_per_hour > 0
        header = _header(pilot)
        assert f"{money(c.usd_per_hour)}/h" in header, header
        assert f"idle GPUs {c.idle_gpus} {money(c.idle_usd_per_hour)}/h" in header, header
        assert all(len(line) <= size[0] for line in header.splitlines())

    drive(make_app(idle), body, size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_gpu_nodes_tab_has_allocation_bars_and_prices_where_there_is_room(idle, size):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("n")
        await pilot.pause()
        table = pilot.app.screen.query_one("#nodes-table")
        name = table.shown_names[0]
        node = pilot.app.snapshot.node_by_name.get(name) or next(
            n for n in pilot.app.snapshot.nodes if n.metadata.name.startswith(name)
        )
        cells = dict(zip(table.visible_columns, (getattr(c, "plain", c) for c in table.get_row(name))))
        if size[0] >= 120:
            assert cells["cost"] == node_cost(node).text
            assert "░" in cells["bar"] or "█" in cells["bar"]
        assert {"node", "allocatable", "status", "worst"} <= set(cells)

    drive(make_app(idle), body, size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_nodepools_tab_has_a_price_column_dropped_first_when_narrow(idle, size):
    async def body(pilot):
        await loaded(pilot)
        await pilot.press("p")
        await pilot.pause()
        table = pilot.app.screen.query_one("#nodepools-table")
        snap = pilot.app.snapshot
        if size[0] < 120:
            assert "cost" not in table.visible_columns and "name" in table.visible_columns
            return
        row = dict(zip(table.visible_columns, (getattr(c, "plain", c) for c in table.get_row("gpu-training"))))
        costs = [node_cost(n) for n in snap.nodes_by_nodepool["gpu-training"]]
        assert row["cost"] == money(sum(c.usd_per_hour or 0 for c in costs))

    drive(make_app(idle), body, size=size)


def test_fleet_model_costs_of_the_incident():
    from checks.registry import run_checks
    from gputui.tui import fleet_model
    from gputui.tui.widgets.cluster_header import cost_fields
    from tests.helpers.sim import scenario_snapshot

    snap = scenario_snapshot("incident")
    findings = run_checks(snap)
    s = fleet_model.summarize(snap, findings)
    assert s.cost == cluster_cost(snap)
    assert s.cost.estimate and s.cost.unpriced_nodes > 0  # spot nodes, and CPU nodes the catalogue lacks
    [field] = cost_fields(s.cost)
    assert field.plain.startswith(f"~{money(s.cost.usd_per_hour)}/h ({s.cost.unpriced_nodes} unpriced)")
    rows = {r.name: r for r in fleet_model.nodepool_rows(snap)}
    for name, row in rows.items():
        priced = [c for c in map(node_cost, snap.nodes_by_nodepool.get(name, [])) if c.usd_per_hour is not None]
        assert row.usd_per_hour == (pytest.approx(sum(c.usd_per_hour for c in priced)) if priced else None)
    assert rows["general"].cost_text == "-"  # CPU nodes: not in the catalogue
    assert rows["gpu-spot-training"].cost_text.startswith("~$")
    for r in fleet_model.node_rows(snap, findings):
        assert r.cost_text == node_cost(snap.node_by_name[r.name]).text


def test_header_cost_field_without_nodes_or_with_idle_gpus():
    from checks.cost import ClusterCost
    from gputui.tui.widgets.cluster_header import cost_fields

    assert cost_fields(None) == [] and cost_fields(ClusterCost(0.0, 0, 0, False, 0.0, 0, 0)) == []
    [f] = cost_fields(ClusterCost(56.05, 2, 0, False, 55.04, 8, 1))
    assert f.plain == "$56.05/h  idle GPUs 8 $55.04/h"
