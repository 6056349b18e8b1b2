"""The object screen: describe-like summaries of nodes and NodePools, and a pod's log that
follows, wraps, searches and shows timestamps (Pilot at 80x24 and 120x40 on the simulator)."""

from __future__ import annotations

import os
import re
import time

import pytest

os.environ["TZ"] = "UTC"
time.tzset()

from checks.model import ObjectRef  # noqa: E402
from tests.helpers.sim import scenario_snapshot  # noqa: E402
from tests.helpers.tui import DEDICATED_NODE, drive, loaded, make_app, wait_for, widget_text  # noqa: E402

pytestmark = pytest.mark.timeout(120)

SIZES = [(80, 24), (120, 40)]
DRIVER_POD = ("gpu-operator", "nvidia-driver-daemonset-fbxjp")


@pytest.fixture(scope="module")
def snap():
    return scenario_snapshot("incident")


@pytest.fixture
def incident(shared_sim):
    return shared_sim(sources=("incident",))


# -- the pure summaries --------------------------------------------------------------------------


def test_node_summary_has_conditions_taints_resources_gpu_labels_and_pods(snap):
    from gputui.tui.describe import describe_node

    node = snap.node_by_name[DEDICATED_NODE]
    text = describe_node(node, snap).plain
    for section in ("Conditions", "Taints", "Resources", "GPU labels", "Pods ("):
        assert f"\n{section}" in text, section
    assert "example.com/gpu-dedicated" in text  # the taint behind the incident
    # The node's GPU is not advertised (that is the incident): the row says so instead of vanishing.
    gpu_row = next(line for line in text.splitlines() if line.strip().startswith("nvidia.com/gpu "))
    assert gpu_row.split()[1:4] == ["-", "-", "0"], gpu_row
    assert "the instance has 1 GPU(s), the node offers none" in text
    ok = snap.node_by_name[next(n.metadata.name for n in snap.nodes if n.status.capacity.get("nvidia.com/gpu"))]
    ok_row = next(line for line in describe_node(ok, snap).plain.splitlines() if line.startswith("  nvidia.com/gpu "))
    assert ok_row.split()[1:3] == [ok.status.capacity["nvidia.com/gpu"], ok.status.allocatable["nvidia.com/gpu"]]
    assert "karpenter.k8s.aws/instance-gpu-name=l40s" in text
    ok_text = describe_node(ok, snap).plain
    assert "nvidia.com/gpu.product=" in ok_text
    assert "nvidia.com/gfd.timestamp" not in ok_text and "gpu.deploy.driver=true" not in ok_text  # noise left out
    pods = snap.pods_by_node[DEDICATED_NODE]
    assert all(p.metadata.name[:20] in text for p in pods)


def test_node_summary_used_counts_requests_of_running_pods_only(snap):
    from gputui.tui.describe import describe_nodepool

    text = describe_nodepool(snap.nodepool_by_name["gpu-inference"], snap).plain
    # A g5.xlarge has one GPU: a finished validator pod's request does not make it 2/1.
    rows = [line for line in text.splitlines() if " g5.xlarge " in line]
    assert rows and all(re.search(r" [01]/1 ", r) for r in rows), rows


def test_nodepool_summary_has_limits_budgets_requirements_nodes_and_nodeclaims(snap):
    from gputui.tui.describe import describe_nodepool

    pool = snap.nodepool_by_name["gpu-inference"]
    text = describe_nodepool(pool, snap).plain
    for section in ("Limits", "Disruption", "Requirements", "Nodes (", "NodeClaims ("):
        assert f"\n{section}" in text, section
    limit_row = next(line for line in text.splitlines() if line.strip().startswith("nvidia.com/gpu "))
    assert limit_row.split()[1] == str(pool.spec["limits"]["nvidia.com/gpu"])
    assert "budget nodes 0 for Drifted during '0 14 * * mon-fri' for 4h" in text
    assert "karpenter.k8s.aws/instance-family In g5,g6" in text
    claims = snap.nodeclaims_by_nodepool["gpu-inference"]
    assert f"NodeClaims ({len(claims)})" in text
    assert all(c.metadata.name in text for c in claims)
    assert "gpu-inference-4frzj       not Initialized" in text


def test_summaries_keep_their_columns_under_80(snap):
    from gputui.tui.describe import describe_node, describe_nodepool

    for text in (
        describe_node(snap.node_by_name[DEDICATED_NODE], snap).plain,
        describe_nodepool(snap.nodepool_by_name["gpu-inference"], snap).plain,
    ):
        for line in text.splitlines():
            # Values people paste (labels, taints, requirements) and the node's own facts run on.
            pasted = re.match(r"  \S+=|  \S+ (In|NotIn|Exists|Gt|Lt)|  \S+:\S+|ProviderID|Kubelet|OS", line)
            assert pasted or len(line) <= 80, line


# -- the screen ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_node_opens_on_its_summary_and_yaml_is_one_key_away(incident, size):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        app.open_object(ObjectRef("Node", DEDICATED_NODE))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", what="object screen")
        screen = app.screen
        assert screen.query_one("#object-tabs").active == "describe"
        view = screen.query_one("#describe-view")
        await wait_for(pilot, lambda: "GPU labels" in widget_text(view), what="the node summary")
        text = widget_text(view)
        assert "Resources" in text and "nvidia.com/gpu" in text and "example.com/gpu-dedicated" in text
        await pilot.press("y")
        assert screen.query_one("#object-tabs").active == "yaml"
        await wait_for(pilot, lambda: "kind: Node" in widget_text(screen.query_one("#yaml-view")), what="YAML")
        await pilot.press("D")
        assert screen.query_one("#object-tabs").active == "describe"

    drive(make_app(incident), body, size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_nodepool_opens_on_its_summary(incident, size):
    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        app.open_object(ObjectRef("NodePool", "gpu-inference", api_version="karpenter.sh/v1"))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", what="object screen")
        view = app.screen.query_one("#describe-view")
        await wait_for(pilot, lambda: "NodeClaims (" in widget_text(view), what="the NodePool summary")
        text = widget_text(view)
        assert "Limits" in text and "budget nodes" in text and "Requirements" in text

    drive(make_app(incident), body, size=size)


async def _open_driver_log(pilot):
    app = pilot.app
    await loaded(pilot)
    app.open_object(ObjectRef("Pod", DRIVER_POD[1], namespace=DRIVER_POD[0]))
    await wait_for(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", what="object screen")
    screen = app.screen
    await pilot.press("l")
    log = screen.query_one("#log-view")
    await wait_for(pilot, lambda: "linux-headers-6.8.0-1040-aws" in "\n".join(log.lines), what="driver log")
    return screen, log


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_first_log_line_is_not_glued_to_the_header(incident, size):
    async def body(pilot):
        screen, log = await _open_driver_log(pilot)
        head = log.lines[0]
        assert head.startswith("── current nvidia-driver-ctr") and head.endswith("lines ──"), head
        assert log.lines[1] and not log.lines[1].startswith("──")

    drive(make_app(incident), body, size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_log_wrap_timestamps_and_search(incident, size):
    async def body(pilot):
        screen, log = await _open_driver_log(pilot)
        assert log.soft_wrap is False
        await pilot.press("w")
        assert log.soft_wrap is True and screen.wrap_logs
        await pilot.press("t")
        await wait_for(
            pilot, lambda: re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", log.lines[1] or ""), what="timestamps"
        )
        await pilot.press("slash")
        assert screen.query_one("#log-search").has_class("-open")
        await pilot.press(*"linux-headers", "enter")
        assert not screen.query_one("#log-search").has_class("-open")
        rows = [i for i, line in enumerate(log.lines) if "linux-headers" in line]
        assert rows and log.selected_text == "linux-headers"
        first = log.selection.start[0]
        assert first in rows
        if len(screen._matches) > 1:
            await pilot.press("n")
            assert screen._match == 1
            await pilot.press("N")
            assert log.selection.start[0] == first
        assert "/linux-headers" in widget_text(screen.query_one("#log-status"))
        await pilot.press("slash")
        await pilot.press("escape")  # closes the search box, stays on the log
        assert not screen.query_one("#log-search").has_class("-open")
        assert pilot.app.screen is screen and screen.search == "linux-headers"

    drive(make_app(incident), body, size=size)


def test_a_followed_log_shows_lines_written_after_it_opened(start_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    sim = start_sim(sources=["incident"])

    async def body(pilot):
        screen, log = await _open_driver_log(pilot)
        await pilot.press("F")
        assert screen.follow_logs
        store = sim.store
        before = store.get_log(*DRIVER_POD, "nvidia-driver-ctr") or ""
        store.set_log(*DRIVER_POD, "nvidia-driver-ctr", before + "a line written after the log opened\n")
        await wait_for(pilot, lambda: log.lines[-1] == "a line written after the log opened", what="the new line")
        assert log.cursor_location[0] == len(log.lines) - 1  # following keeps the end in view
        await pilot.press("F")
        assert not screen.follow_logs

    drive(make_app(sim), body, size=(80, 24))
