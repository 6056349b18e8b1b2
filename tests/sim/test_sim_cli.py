"""`gputui sim serve` / `gputui sim list` as a user runs them: a subprocess, stdout, signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from tests.helpers.sim import serve_process

MANIFEST = """
apiVersion: v1
kind: Node
metadata: {name: gpu-node-1, labels: {nvidia.com/gpu.present: "true"}}
status:
  capacity: {nvidia.com/gpu: "4"}
---
apiVersion: v1
kind: Pod
metadata: {name: trainer, namespace: ml}
spec:
  nodeName: gpu-node-1
  containers: [{name: main, image: "cuda:12.4"}]
status: {phase: Running}
"""


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    manifest = tmp_path / "cluster.yaml"
    manifest.write_text(MANIFEST)
    kubeconfig = tmp_path / "out" / "kubeconfig"
    proc = serve_process(str(manifest), "--port", "0", *extra, kubeconfig=kubeconfig)
    return proc, kubeconfig


def _get(url: str, token: str) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_serve_prints_export_line_serves_and_stops_on_sigint(tmp_path):
    proc, kubeconfig = _serve(tmp_path, "--forbid", "events")
    try:
        line = proc.stdout.readline().strip()
        assert line == f"export KUBECONFIG={kubeconfig}"
        assert kubeconfig.stat().st_mode & 0o777 == 0o600
        cfg = yaml.safe_load(kubeconfig.read_text())
        server = cfg["clusters"][0]["cluster"]["server"]
        token = cfg["users"][0]["user"]["token"]
        assert server.startswith("http://127.0.0.1:") and not server.endswith(":0")
        code, pods = _get(f"{server}/api/v1/namespaces/ml/pods", token)
        assert code == 200 and [p["metadata"]["name"] for p in pods["items"]] == ["trainer"]
        code, nodes = _get(f"{server}/api/v1/nodes", token)
        assert [n["metadata"]["name"] for n in nodes["items"]] == ["gpu-node-1"]
        code, status = _get(f"{server}/api/v1/events", token)
        assert (code, status["reason"]) == (403, "Forbidden")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert server in err and "Ctrl-C to stop" in err and "Traceback" not in err
    assert "1 pods" in err and "1 nodes" in err


def test_serve_stops_on_sigterm(tmp_path):
    proc, kubeconfig = _serve(tmp_path)
    try:
        assert proc.stdout.readline().startswith("export KUBECONFIG=")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_serve_bad_source_is_one_line_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "gputui", "sim", "serve", str(tmp_path / "missing.yaml")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 5
    assert proc.stdout == ""
    assert proc.stderr.startswith("gputui: error: ") and "Traceback" not in proc.stderr


def test_serve_rejects_bad_error_rate(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "gputui", "sim", "serve", "--error-rate", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 5
    assert "--error-rate 2.0: must be between 0 and 1" in proc.stderr


def test_list_names_every_builtin_scenario():
    from gputui.sim.scenario_index import scenario_description, scenario_names

    names = scenario_names()
    assert names, "no built-in scenarios"
    proc = subprocess.run([sys.executable, "-m", "gputui", "sim", "list"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == names
    for line, name in zip(lines, names):
        assert line.split(None, 1)[1] == scenario_description(name)
