"""The app in live mode (Pilot, against the simulator over HTTP): a change in the cluster shows
without `r`, the header says how current the data is, a lost server shows as stale, --no-watch
reads once, and the selected row stays selected as the data moves under it."""

from __future__ import annotations

import argparse
import datetime as dt
import time

import pytest

from checks.model import ObjectRef
from gputui.kube.live import LiveStatus
from gputui.tui.app import GputuiApp
from gputui.tui.freshness import freshness
from gputui.tui.state import AppConfig
from tests.helpers.sim import sim_http
from tests.helpers.tui import drive, loaded, wait_for, widget_text

pytestmark = pytest.mark.timeout(120)

MERGE = {"Content-Type": "application/merge-patch+json"}


def app_on(sim, **config) -> GputuiApp:
    app = GputuiApp(
        AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=True, **config)
    )
    app.animation_level = "none"
    return app


async def watching(pilot) -> None:
    """The first read is on screen and the watches have started."""
    await loaded(pilot)
    await wait_for(pilot, lambda: pilot.app.watching, what="the watches")


def cordon(sim, node: str, on: bool = True) -> None:
    status, _, body = sim_http(sim, "PATCH", f"/api/v1/nodes/{node}", {"spec": {"unschedulable": on or None}}, MERGE)
    assert status == 200, body


def row_text(table, key: str) -> str:
    try:
        return " ".join(str(c) for c in table.get_row(key))
    except Exception:  # noqa: BLE001 - the row is not shown
        return ""


def header(app) -> str:
    return widget_text(app.screen.query_one("#cluster-header"))


def test_a_change_in_the_cluster_shows_without_a_refresh(start_sim):
    sim = start_sim(sources=["incident"])

    async def body(pilot):
        app = pilot.app
        await watching(pilot)
        read_at, first = app.read_at, app.snapshot
        await pilot.press("n")
        table = app.screen.query_one("#nodes-table")
        node = table.shown_names[0]
        assert "SchedulingDisabled" not in row_text(table, node) and "Cordoned" not in row_text(table, node)
        cordon(sim, node)
        await wait_for(
            pilot,
            lambda: "SchedulingDisabled" in row_text(table, node) or "Cordoned" in row_text(table, node),
            what="the cordon on screen",
        )
        # No full read happened: the watches brought the change.
        assert app.read_at == read_at and app.snapshot is not first and not app.gathering
        assert "● live" in header(app)

    drive(app_on(sim), body)


def test_a_new_finding_appears_and_a_fixed_one_goes(start_sim):
    # The simulator's scheduler and Karpenter run: the pod is judged unschedulable as on a cluster.
    sim = start_sim(sources=["healthy"], behaviour=True, delays="fast")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "wants-too-many-gpus", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "cuda", "resources": {"limits": {"nvidia.com/gpu": "64"}}}]},
    }

    def about_the_pod(app) -> list:
        return [f for f in app.findings if f.subject.name == "wants-too-many-gpus"]

    async def body(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.snapshot is not None and app.watching, what="the first read and watches")
        assert not about_the_pod(app)
        status, _, text = sim_http(sim, "POST", "/api/v1/namespaces/default/pods", pod)
        assert status == 201, text
        await wait_for(pilot, lambda: bool(about_the_pod(app)), what="a finding about the pending pod")
        table = app.screen.query_one("#findings-table")
        assert any(f.subject.name == "wants-too-many-gpus" for f in table.findings)
        status, _, text = sim_http(sim, "DELETE", "/api/v1/namespaces/default/pods/wants-too-many-gpus")
        assert status == 200, text
        await wait_for(pilot, lambda: not about_the_pod(app), what="the finding gone with the pod")

    drive(app_on(sim), body)


def test_the_header_turns_stale_when_the_server_goes(start_sim):
    sim = start_sim(sources=["incident"])

    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await wait_for(pilot, lambda: "● live" in header(app), what="live in the header")
        sim.stop()
        await wait_for(pilot, lambda: "◌ stale" in header(app), what="stale in the header")
        await wait_for(pilot, lambda: "reconnecting to the API server" in header(app), what="every watch down")

    drive(app_on(sim), body)


def test_no_watch_reads_once_and_r_reads_again(start_sim):
    sim = start_sim(sources=["incident"])

    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        assert not app.watching and app.live is None
        assert "read " in header(app) and "ago)" in header(app) and "● live" not in header(app)
        assert sum(sim.server.watches_opened.values()) == 0
        await pilot.press("n")
        table = app.screen.query_one("#nodes-table")
        node = table.shown_names[0]
        cordon(sim, node)
        await pilot.pause(1.0)
        assert "SchedulingDisabled" not in row_text(table, node) and "Cordoned" not in row_text(table, node)
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: "SchedulingDisabled" in row_text(table, node) or "Cordoned" in row_text(table, node),
            what="the cordon after r",
        )
        assert sum(sim.server.watches_opened.values()) == 0

    drive(app_on(sim, watch=False), body)


def test_the_selected_node_stays_selected_as_live_data_moves(start_sim):
    sim = start_sim(sources=["incident"])

    async def body(pilot):
        app = pilot.app
        await watching(pilot)
        await pilot.press("n")
        table = app.screen.query_one("#nodes-table")
        await pilot.press("down", "down", "down")
        chosen = table.selected_node
        other = next(n for n in table.shown_names if n != chosen)
        before = app.snapshot
        cordon(sim, other)
        await wait_for(pilot, lambda: app.snapshot is not before, what="a live update")
        await pilot.pause(0.2)
        assert table.selected_node == chosen

    drive(app_on(sim), body)


def test_a_context_switch_closes_the_old_watches(start_sim, tmp_path):
    from tests.tui.test_tui_app import _two_context_kubeconfig

    first, second = start_sim(sources=["incident"]), start_sim(sources=["healthy"])
    kubeconfig = _two_context_kubeconfig(tmp_path, first, second)

    async def body(pilot):
        app = pilot.app
        await loaded(pilot)
        await wait_for(pilot, lambda: sum(first.server.watches_open.values()) > 0, what="watches on the first")
        old = app.live
        app.switch_context("healthy")
        await wait_for(pilot, lambda: app.watching and app.live is not old, what="watches on the second")
        assert old.stopped
        await wait_for(pilot, lambda: sum(first.server.watches_open.values()) == 0, what="the first's watches closed")
        assert sum(second.server.watches_open.values()) > 0

    drive(GputuiApp(AppConfig(kubeconfig=str(kubeconfig), context=None, namespace=None, read_only=True)), body)


# -- the freshness field and the options, without a cluster ------------------------------------


def _status(**kw) -> LiveStatus:
    base = dict(watching=12, stale=(), stale_since=None, polled=(), last_change=None)
    base.update(kw)
    return LiveStatus(**base)


def test_freshness_reads_live_stale_polled_and_read_at():
    now = float(int(time.time()))  # whole seconds: 42 s ago reads as 42s, not 41s
    assert freshness(_status(), None, now).plain == "● live"
    assert freshness(_status(polled=("events",)), None, now).plain == "● live (polling events)"
    since = dt.datetime.fromtimestamp(now - 42, dt.timezone.utc)
    stale = freshness(_status(stale=("events", "pods"), stale_since=since), None, now).plain
    assert stale == "◌ stale 42s (events, pods reconnecting)"
    many = freshness(_status(stale=("a", "b", "c", "d", "e"), stale_since=since), None, now).plain
    assert many.endswith("(a, b, c +2 reconnecting)")
    gone = freshness(_status(watching=0, stale=("a", "b", "c", "d", "e"), stale_since=since), None, now).plain
    assert gone == "◌ stale 42s (reconnecting to the API server)"
    read = freshness(None, now - 200, now).plain
    assert read.startswith("read ") and read.endswith("(3m ago)")
    assert freshness(None, None, now) is None


def test_no_watch_and_refresh_turn_watching_off():
    from gputui.cli import build_parser
    from gputui.commands.app import app_config

    def config(argv):
        args = build_parser().parse_args(argv)
        assert isinstance(args, argparse.Namespace)
        return app_config(args, None, None)

    assert config([]).watch is True
    assert config(["--no-watch"]).watch is False
    assert config(["--refresh", "30"]).watch is False and config(["--refresh", "30"]).refresh_seconds == 30
    assert config(["--no-watch", "demo"]).watch is False
    assert config(["demo", "--no-watch"]).watch is False
    assert config(["demo"]).watch is True


def test_when_the_checks_are_slow_the_changed_objects_come_before_their_findings(start_sim, monkeypatch):
    from pathlib import Path

    import gputui.tui.app as app_mod

    monkeypatch.setattr(app_mod, "DATA_FIRST_S", -1.0)  # as if every round of checks were slow
    sim = start_sim(sources=["incident"])
    seen: list[tuple[object, object, object]] = []  # (snapshot, findings list, change) as they arrive

    class Recording(GputuiApp):
        CSS_PATH = str(Path(app_mod.__file__).with_name("app.tcss"))

        def on_snapshot_ready(self, message) -> None:
            seen.append((message.snapshot, message.findings, message.change))
            super().on_snapshot_ready(message)

    async def body(pilot):
        app = pilot.app
        await watching(pilot)
        await pilot.pause(0.3)
        node = app.gpu_node_names()[0]
        before = len(seen)
        last_findings = seen[-1][1]
        cordon(sim, node)

        def cordoned(snapshot) -> bool:
            return bool(snapshot.node_by_name[node].spec.unschedulable)

        await wait_for(
            pilot, lambda: sum(1 for s, _, _ in seen[before:] if cordoned(s)) >= 2, what="both rounds of the change"
        )
        first, second = [(f, c) for s, f, c in seen[before:] if cordoned(s)][:2]
        assert first[0] is last_findings  # the objects first, with the findings already on screen
        assert second[0] is not last_findings  # then the checks' own findings of the new snapshot
        assert first[1] is second[1] and "nodes" in first[1].resources

    app = Recording(AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=True))
    app.animation_level = "none"
    drive(app, body)


def test_a_live_snapshot_sent_before_its_watches_stopped_is_dropped(start_sim):
    from checks.snapshot import ClusterSnapshot
    from gputui.kube.live import Change
    from gputui.tui.gather_messages import SnapshotReady

    sim = start_sim(sources=["incident"])

    async def body(pilot):
        app = pilot.app
        await watching(pilot)
        current = app.snapshot
        app._stop_live()  # as `r` or a context switch does
        late = ClusterSnapshot(context="the-old-cluster")
        app.post_message(SnapshotReady(late, [], Change(frozenset({"nodes"}), 1, time.monotonic())))
        await pilot.pause(0.3)
        assert app.snapshot is current and app._caught_up.is_set()

    drive(app_on(sim), body)


def test_resource_views_and_the_object_screen_redraw_only_for_what_they_show(start_sim, monkeypatch):
    from gputui.tui.screens.object_detail import ObjectScreen
    from gputui.tui.screens.resource_view import ResourceScreen

    sim = start_sim(sources=["incident"])
    loads: list[str] = []
    real_load = ObjectScreen.load

    def counting_load(self):
        loads.append(self.ref.name)
        real_load(self)

    monkeypatch.setattr(ObjectScreen, "load", counting_load)

    async def body(pilot):
        app = pilot.app
        await watching(pilot)
        nodes = app.gpu_node_names()
        app.open_view("pods")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="the pods view")
        table = app.screen.query_one("#view-table")
        await pilot.press("down", "down")
        chosen, made = table.selected_key, table._made
        before = app.snapshot
        cordon(sim, nodes[0])  # nodes only: the pods view shows nothing of it
        await wait_for(pilot, lambda: app.snapshot is not before, what="the live change")
        await pilot.pause(1.2)
        assert table._made is made
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "aaa-first-by-name", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
        status, _, text = sim_http(sim, "POST", "/api/v1/namespaces/default/pods", pod)
        assert status == 201, text
        await wait_for(pilot, lambda: table._made is not made, what="the pods view redrawn")
        assert table.selected_key == chosen  # the same pod stays selected though a row came before it
        # The object screen reads its object again only when that object changed.
        await pilot.press("escape")
        app.open_object(ObjectRef("Node", nodes[1]))
        await wait_for(pilot, lambda: isinstance(app.screen, ObjectScreen), what="the node screen")
        loads.clear()
        before = app.snapshot
        cordon(sim, nodes[2])
        await wait_for(pilot, lambda: app.snapshot is not before, what="another node's change")
        await pilot.pause(0.5)
        assert loads == []
        cordon(sim, nodes[1])
        await wait_for(pilot, lambda: loads == [nodes[1]], what="the node read again after its own change")

    drive(app_on(sim), body)
