"""`--churn`: pods and nodes come and go at a given rate, repeatably, without the store growing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from gputui.errors import InputError
from gputui.sim.churn import NAMESPACE, Churn, ChurnRates, parse_churn
from tests.helpers.sim import serve_process, sim_http
from tests.helpers.wait import wait_until

pytestmark = pytest.mark.timeout(120)

SMALL = "nodes=12,gpu-nodes=4,pods=120,events=20"


@pytest.mark.parametrize(
    ("text", "pods", "nodes"),
    [
        ("pods=50/s,nodes=1/min", 50.0, 1 / 60),
        ("pods=6/min", 0.1, 0.0),
        ("nodes=2/s", 0.0, 2.0),
        (" pods = 3/h ", 3 / 3600, 0.0),
    ],
)
def test_rates_are_read_per_second(text, pods, nodes):
    rates = parse_churn(text)
    assert rates.pods_per_second == pytest.approx(pods)
    assert rates.nodes_per_second == pytest.approx(nodes)


@pytest.mark.parametrize("text", ["pods=fast", "pods=5/day", "cats=1/s", "pods=0/s", ""])
def test_bad_rates_are_the_users_error(text):
    with pytest.raises(InputError) as e:
        parse_churn(text)
    assert "e.g. --churn pods=50/s,nodes=1/min" in e.value.hint


def _names(store, kind: str, ns: str | None = None) -> list[str]:
    rt = store.type_for("v1", kind)
    return sorted(e.obj["metadata"]["name"] for e in store.select(rt, ns).entries)


def _run(sim, seed: int, seconds: int = 20) -> Churn:
    churn = Churn(
        sim.store, ChurnRates(pods_per_second=10, nodes_per_second=0.5), seed=seed, keep_pods=30, keep_nodes=3
    )
    for t in range(seconds * 10 + 1):  # the injected clock: every 0.1 s for `seconds`
        churn.step(1000.0 + t / 10)
    return churn


def test_creates_and_deletes_at_the_rate_and_stays_the_same_size(start_sim):
    sim = start_sim(synthetic=SMALL)
    nodes_before = len(_names(sim.store, "Node"))
    churn = _run(sim, seed=7)
    assert churn.created == {"pods": 201, "nodes": 11}  # 10/s and 1 per 2 s over 20 s, the first at once
    assert churn.deleted == {"pods": 201 - 30, "nodes": 11 - 3}
    assert len(_names(sim.store, "Pod", NAMESPACE)) == 30
    assert len(_names(sim.store, "Node")) == nodes_before + 3


def test_same_seed_same_changes(start_sim):
    a, b, c = (start_sim(synthetic=SMALL) for _ in range(3))
    _run(a, seed=1)
    _run(b, seed=1)
    _run(c, seed=2)
    pods = [_names(s.store, "Pod", NAMESPACE) for s in (a, b, c)]
    assert pods[0] == pods[1] and pods[0] != pods[2]

    def placed(sim):
        return [
            (e.obj["metadata"]["name"], e.obj["spec"].get("nodeName"))
            for e in sim.store.select(sim.store.type_for("v1", "Pod"), NAMESPACE).entries
        ]

    assert placed(a) == placed(b)


def test_churn_shows_in_a_watch(start_sim):
    """A watcher over HTTP sees the pods come and go while the simulator churns in its own thread."""
    sim = start_sim(synthetic=SMALL, churn="pods=40/s,nodes=2/s", seed=3)
    sim.churn.keep_pods = 20  # deletions start within the watch's two seconds
    _, _, body = sim_http(sim, "GET", f"/api/v1/namespaces/{NAMESPACE}/pods")
    rv = json.loads(body)["metadata"]["resourceVersion"]
    seen: list[str] = []

    def watch():
        import http.client

        conn = http.client.HTTPConnection(sim.host, sim.port, timeout=10)
        conn.request(
            "GET",
            f"/api/v1/namespaces/{NAMESPACE}/pods?watch=1&resourceVersion={rv}&timeoutSeconds=2",
            headers={"Authorization": f"Bearer {sim.token}"},
        )
        resp = conn.getresponse()
        for line in resp:
            if line.strip():
                seen.append(json.loads(line)["type"])
        conn.close()

    t = threading.Thread(target=watch)
    t.start()
    t.join(timeout=15)
    assert "ADDED" in seen and "DELETED" in seen, seen[:10]
    assert wait_until(lambda: sim.churn.deleted["nodes"] > 0, timeout=10)
    sim.stop()
    assert sim.churn.created["pods"] - sim.churn.deleted["pods"] <= sim.churn.keep_pods


def test_serve_with_churn_on_a_synthetic_cluster(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    proc = serve_process("--synthetic", SMALL, "--churn", "pods=20/s,nodes=1/s", "--seed", "5", kubeconfig=kubeconfig)
    try:
        assert proc.stdout.readline().startswith("export KUBECONFIG=")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "churn: pods=20/s,nodes=1/s (seed 5)" in err and "Traceback" not in err


def test_serve_static_leaves_objects_to_api_writes(tmp_path):
    """--static: nothing schedules or runs a new pod (the benchmarks' churn makes the changes)."""
    import json
    import urllib.request

    import yaml

    kubeconfig = tmp_path / "kubeconfig"
    proc = serve_process("healthy", "--static", kubeconfig=kubeconfig)
    try:
        assert proc.stdout.readline().startswith("export KUBECONFIG=")
        doc = yaml.safe_load(kubeconfig.read_text())
        server, token = doc["clusters"][0]["cluster"]["server"], doc["users"][0]["user"]["token"]

        def call(method: str, path: str, body=None) -> dict:
            req = urllib.request.Request(
                server + path,
                data=json.dumps(body).encode() if body is not None else None,
                method=method,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())

        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "waits"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
        call("POST", "/api/v1/namespaces/default/pods", pod)
        time.sleep(2.0)  # the scheduler and kubelet would have bound and started it by now
        got = call("GET", "/api/v1/namespaces/default/pods/waits")
        assert not got["spec"].get("nodeName") and (got.get("status") or {}).get("phase") in (None, "Pending")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and "static: no scheduler" in err


def test_serve_rejects_a_bad_churn_rate():
    proc = subprocess.run(
        [sys.executable, "-m", "gputui", "sim", "serve", "--churn", "pods=lots"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 5
    assert proc.stdout == ""
    assert "--churn 'pods=lots': cannot read 'pods=lots'" in proc.stderr and "Traceback" not in proc.stderr
