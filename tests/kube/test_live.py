"""Live mode's watches, over HTTP against the simulator: one watch per resource type from the
list's resourceVersion, changes applied as they come, bookmarks, 410 -> re-list, watch refused
-> poll, a lost server -> stale, and stop() ends it all."""

from __future__ import annotations

import threading
import time

import pytest

from gputui.kube import live as live_mod
from gputui.kube.client import connect
from gputui.kube.gather import gather, resource_name
from gputui.kube.live import Live, LogTails
from tests.helpers.sim import identity_kubeconfig, sim_http

MERGE = {"Content-Type": "application/merge-patch+json"}
WAIT_S = 15.0  # generous: a loaded 2-core machine; a working watch answers in milliseconds


class Published:
    """What a Live hands on, for a test to wait for."""

    def __init__(self):
        self.items: list = []
        self.cond = threading.Condition()

    def __call__(self, snapshot, change) -> None:
        with self.cond:
            self.items.append((snapshot, change))
            self.cond.notify_all()

    def wait(self, predicate, what: str):
        deadline = time.monotonic() + WAIT_S
        with self.cond:
            while True:
                for snapshot, change in reversed(self.items):
                    if predicate(snapshot):
                        return snapshot, change
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no published snapshot shows {what} within {WAIT_S:g} s")
                self.cond.wait(left)


def wait_until(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def live_on(start_sim):
    """live_on(sources, **live kwargs) -> (sim, kube, first snapshot, Live, Published), started."""
    made = []

    def make(sources=("incident",), kubeconfig=None, sim=None, **kwargs):
        sim = sim or start_sim(sources=list(sources))
        kube = connect(str(kubeconfig or sim.kubeconfig), None if kubeconfig else sim.context, None, 10)
        first = gather(kube, namespace="")
        published = Published()
        kwargs.setdefault("min_interval", 0.05)
        kwargs.setdefault("debounce", 0.02)
        live = Live(kube, first, published, **kwargs)
        made.append((live, kube))
        live.start()
        wait_until(lambda: live.status().watching + len(live.status().polled) == len(first.listed), "the watches")
        return sim, kube, first, live, published

    yield make
    for live, kube in made:
        live.stop()
        kube.close()


def node_named(snapshot, name):
    return next((n for n in snapshot.nodes if n.metadata.name == name), None)


def test_one_watch_per_resource_type_from_the_lists_resource_version(live_on):
    sim, _, first, live, _ = live_on()
    opened = sim.server.watches_opened
    # Every resource the first read listed is watched, once: never a watch per object.
    expected = {resource_name(g, p) for attr, (g, _, p) in live_mod.RESOURCES.items() if attr in first.listed}
    assert set(opened) == expected
    assert all(n == 1 for n in opened.values()), opened
    assert all(rv for _, rv in first.listed.values()), first.listed


def test_a_change_reaches_a_published_snapshot_and_the_rest_is_not_decoded_again(live_on):
    sim, _, first, live, published = live_on()
    node = first.nodes[0].metadata.name
    status, _, body = sim_http(sim, "PATCH", f"/api/v1/nodes/{node}", {"spec": {"unschedulable": True}}, MERGE)
    assert status == 200, body
    snap, change = published.wait(lambda s: node_named(s, node).spec.unschedulable, "the cordon")
    assert "nodes" in change.resources and change.events >= 1 and change.first_seen > 0
    # Objects that did not change are the very objects of the first read.
    others = [n for n in snap.nodes if n.metadata.name != node]
    assert others and all(n is node_named(first, n.metadata.name) for n in others)
    assert snap.pods and all(a is b for a, b in zip(snap.pods, first.pods))
    assert snap.source == "live" and snap.listed["nodes"][1] != first.listed["nodes"][1]


def test_pods_added_and_deleted_come_and_go(live_on):
    sim, _, first, live, published = live_on()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "late-arrival", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    status, _, body = sim_http(sim, "POST", "/api/v1/namespaces/default/pods", pod)
    assert status == 201, body
    published.wait(lambda s: ("default", "late-arrival") in s.pod_by_key, "the new pod")
    status, _, body = sim_http(sim, "DELETE", "/api/v1/namespaces/default/pods/late-arrival")
    assert status == 200, body
    snap, _ = published.wait(lambda s: ("default", "late-arrival") not in s.pod_by_key, "the pod gone")
    assert len(snap.pods) == len(first.pods)


def test_bookmarks_move_a_quiet_watch_on(live_on, start_sim):
    sim = start_sim(sources=["incident"])
    sim.server.bookmark_seconds = 0.2
    sim, _, first, live, _ = live_on(sim=sim)
    quiet = live._stores["clusterpolicies"]
    before = int(quiet.resource_version)
    # Changes of another kind move the server's resourceVersion; the quiet watch hears of it by bookmark.
    node = first.nodes[0].metadata.name
    sim_http(sim, "PATCH", f"/api/v1/nodes/{node}", {"metadata": {"labels": {"touched": "yes"}}}, MERGE)
    wait_until(lambda: int(quiet.resource_version) > before, "a bookmark on the clusterpolicies watch")
    assert live.relists == 0


def test_an_expired_resource_version_lists_again_and_misses_nothing(live_on):
    sim, _, first, live, published = live_on()
    node = first.nodes[0].metadata.name
    # The server restarts its watches, and every resumed one finds its resourceVersion compacted away.
    sim.server.faults.expire_watches = len(first.listed)
    sim.server.end_watches()
    sim_http(sim, "PATCH", f"/api/v1/nodes/{node}", {"spec": {"unschedulable": True}}, MERGE)
    snap, _ = published.wait(lambda s: node_named(s, node).spec.unschedulable, "the cordon after the re-list")
    wait_until(lambda: live.relists >= 1, "a re-list")
    wait_until(lambda: live.status().watching == len(first.listed), "the watches back")
    assert live.status().stale == ()
    assert len(snap.nodes) == len(first.nodes)


def test_a_resource_that_may_be_listed_but_not_watched_is_polled(live_on, start_sim, tmp_path):
    import yaml

    from gputui.commands.rbac import manifests
    from tests.cli.test_rbac_least_privilege import ALICE, without

    roles = [d for d in yaml.safe_load_all(manifests(["diagnose"], subjects=ALICE)) if d]
    roles = without(roles, "events", "watch")
    sim = start_sim(sources=["incident"], objects=roles)
    kc = identity_kubeconfig(sim, tmp_path / "alice.kubeconfig", "alice")
    sim, _, first, live, published = live_on(sim=sim, kubeconfig=kc, poll_forbidden=0.2)
    status = live.status()
    assert status.polled == ("events",) and status.stale == ()
    assert sim.server.watches_open["events"] == 0 and sim.server.watches_open["pods"] == 1
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "polled-event", "namespace": "default"},
        "involvedObject": {"kind": "Node", "name": first.nodes[0].metadata.name},
        "reason": "PolledIn",
        "message": "seen by a list, not a watch",
        "type": "Normal",
    }
    code, _, body = sim_http(sim, "POST", "/api/v1/namespaces/default/events", event)
    assert code == 201, body
    published.wait(lambda s: any(e.reason == "PolledIn" for e in s.events), "the polled event")


def test_a_lost_server_shows_as_stale_since_the_moment_it_went(live_on):
    sim, _, first, live, _ = live_on(silence=2.0)
    assert live.status().stale == () and live.status().stale_since is None
    went = time.time()
    sim.stop()
    wait_until(lambda: live.status().stale, "a stale watch")
    status = live.status()
    assert status.stale_since is not None and status.stale_since.timestamp() >= went - 1
    assert status.error


def test_stop_ends_every_thread(live_on):
    _, _, _, live, _ = live_on()
    threads = list(live._threads)
    assert threads and all(t.is_alive() for t in threads)
    live.stop()
    for t in threads:
        t.join(timeout=WAIT_S)
    assert not any(t.is_alive() for t in threads)


def test_with_nothing_changing_a_snapshot_still_comes_to_move_the_clock_on(live_on):
    _, _, first, live, published = live_on(recheck_every=0.3)
    snap, change = published.wait(lambda s: True, "a re-check")
    assert change.resources == frozenset() and change.events == 0 and change.first_seen == 0.0
    assert snap.now >= first.now


def test_a_full_compactor_is_replaced(live_on, monkeypatch):
    monkeypatch.setattr(live_mod, "COMPACTOR_LIMIT", 1)
    sim, _, first, live, published = live_on()
    old = live._compactor
    node = first.nodes[0].metadata.name
    for _ in range(1001):  # the size is looked at every thousand objects
        live._compact("nodes", node_named(first, node).__copy__())
    assert live._compactor is not old


def test_log_tails_are_read_once_per_restart_and_lost_ones_are_not_seen(live_on):
    sim, kube, first, live, published = live_on(sources=["driver-crashloop"])
    tails = LogTails(kube, first, retry_after=3600)
    snap = live._take()[0]
    tails.fill(snap)
    assert snap.logs, "the failing driver's log tail"
    assert set(snap.logs) == set(first.logs)
    # Nothing new to read: the next snapshot gets the same text without a request.
    sim.server.faults.unavailable = ("pods/log",)
    again = live._take()[0]
    tails.fill(again)
    assert again.logs == snap.logs and not again.cannot_see("pods/log")


def test_a_relist_may_be_served_from_the_watch_cache_and_the_server_judges_the_version(start_sim):
    from gputui.kube.gather import relist

    sim = start_sim(sources=["incident"])
    kube = connect(str(sim.kubeconfig), sim.context, None, 10)
    first = gather(kube, namespace="")
    items, rv = relist(kube, "nodes", "v1", not_older_than=first.listed["nodes"][1])
    assert {n.metadata.name for n in items} == {n.metadata.name for n in first.nodes} and int(rv) >= 1
    # As an API server answers: the match needs a version, and only two matches exist.
    assert sim_http(sim, "GET", "/api/v1/nodes?resourceVersionMatch=NotOlderThan")[0] == 400
    assert sim_http(sim, "GET", "/api/v1/nodes?resourceVersion=1&resourceVersionMatch=Newest")[0] == 400
    sim.store.compact()
    assert sim_http(sim, "GET", "/api/v1/nodes?resourceVersion=1&resourceVersionMatch=Exact")[0] == 410
    assert sim_http(sim, "GET", "/api/v1/nodes?resourceVersion=1&resourceVersionMatch=NotOlderThan")[0] == 200
    kube.close()


def test_a_watch_cut_as_soon_as_it_begins_backs_off_and_shows_stale(live_on, monkeypatch):
    sim, _, first, live, _ = live_on()
    calls = []

    def cut(self, store):  # a proxy that ends every watch stream at once
        calls.append(store.attr)

    live.stop()
    for t in live._threads:
        t.join(timeout=WAIT_S)
    monkeypatch.setattr(Live, "_watch_once", cut)
    again = Live(live.kube, first, lambda s, c: None)
    again.start()
    try:
        time.sleep(1.5)
        status = again.status()
    finally:
        again.stop()
    # Backing off from 0.25-0.75 s upwards: a few tries per resource, not a busy loop of thousands.
    assert 0 < len(calls) <= 4 * len(first.listed), len(calls)
    assert set(status.stale) == set(first.listed) and "ended as soon as it began" in status.error


def test_an_object_the_structs_cannot_hold_is_skipped_and_the_watch_goes_on(live_on):
    sim, _, first, live, published = live_on()
    store = live._stores["nodes"]
    live._apply(store, b'{"type":"MODIFIED","object":{"metadata":{"name":5,"resourceVersion":"9"}}}')
    assert live.skipped == 1 and len(store.objects) == len(first.nodes)
    node = first.nodes[0].metadata.name
    sim_http(sim, "PATCH", f"/api/v1/nodes/{node}", {"spec": {"unschedulable": True}}, MERGE)
    published.wait(lambda s: node_named(s, node).spec.unschedulable, "the next change")


def test_an_http_410_on_the_watch_lists_again(live_on, monkeypatch):
    from gputui.kube.errors import KubeApiError

    sim, kube, first, live, published = live_on()
    live.stop()
    for t in live._threads:
        t.join(timeout=WAIT_S)
    real = kube.open_stream
    answered = []

    def gone_once(path, query=None, **kw):
        if not answered:
            answered.append(path)
            raise KubeApiError(410, "Gone", "too old resource version")
        return real(path, query, **kw)

    monkeypatch.setattr(kube, "open_stream", gone_once)
    again = Live(kube, first, published, min_interval=0.05, debounce=0.02)
    again.start()
    try:
        wait_until(lambda: again.relists == 1, "a re-list after the 410")
        wait_until(lambda: again.status().watching == len(first.listed), "every watch running")
    finally:
        again.stop()
