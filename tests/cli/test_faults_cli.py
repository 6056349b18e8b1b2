"""gputui under faults, against the simulator over HTTP: credential plugins that hang or fail,
Ctrl-C while a list is stalled, a stalled server that must not be silent, --request-timeout
durations, and evidence (GPU Operator log tails) lost to 5xx listed under could-not-see."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from gputui.cli import main
from gputui.commands.options import duration
from gputui.errors import EXIT_CONNECT, EXIT_INTERRUPTED, EXIT_PARTIAL, EXIT_USAGE
from gputui.kube import gather as gather_mod
from gputui.sim.faults import Faults
from tests.helpers.wait import wait_until

pytestmark = pytest.mark.timeout(120)


def _exec_kubeconfig(tmp_path: Path, server: str, script_body: str) -> tuple[Path, Path]:
    """A kubeconfig whose user runs `script_body` as its exec credential plugin; the script
    writes its own PID and its child's to files beside it."""
    script = tmp_path / "get-token"
    script.write_text("#!/bin/sh\n" + script_body)
    script.chmod(0o755)
    kc = tmp_path / "kubeconfig"
    kc.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "users": [
                    {
                        "name": "u",
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1beta1",
                                "command": str(script),
                                "interactiveMode": "Never",
                            }
                        },
                    }
                ],
            }
        )
    )
    return kc, script


HANGING_PLUGIN = 'sleep 300 &\necho $! > "$(dirname "$0")/child.pid"\necho $$ > "$(dirname "$0")/plugin.pid"\nwait\n'


def _gone(pid: int) -> bool:
    """No such process, or only a zombie waiting for a parent that will never reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _env() -> dict:
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_hanging_credential_plugin_is_bounded_and_killed(tmp_path, capsys):
    kc, _ = _exec_kubeconfig(tmp_path, "http://127.0.0.1:1", HANGING_PLUGIN)
    code = main(["diagnose", "--kubeconfig", str(kc), "--request-timeout", "1s", "--no-progress"])
    err = capsys.readouterr().err.splitlines()
    assert code == EXIT_CONNECT
    assert err[0].startswith(f"gputui: error: credential plugin `{tmp_path / 'get-token'}` failed: ")
    assert "did not finish within 1s" in err[0]
    assert len(err) == 2 and err[1].startswith("  hint: ")
    for name in ("plugin.pid", "child.pid"):
        pid = int((tmp_path / name).read_text())
        assert wait_until(lambda pid=pid: _gone(pid), timeout=5), f"{name} {pid} still runs"


def test_failing_credential_plugin_is_one_line_exit_4(tmp_path):
    kc, script = _exec_kubeconfig(
        tmp_path, "http://127.0.0.1:1", "echo 'token expired: run aws sso login' >&2\nexit 3\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "gputui", "diagnose", "--kubeconfig", str(kc), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert proc.returncode == EXIT_CONNECT
    lines = proc.stderr.splitlines()
    assert (
        lines[0]
        == f"gputui: error: credential plugin `{script}` failed: exec: process returned 3. token expired: run aws sso login"
    )
    assert len(lines) == 2 and lines[1].startswith("  hint: run ")


def test_ctrl_c_while_a_credential_plugin_hangs(tmp_path):
    kc, _ = _exec_kubeconfig(tmp_path, "http://127.0.0.1:1", HANGING_PLUGIN)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gputui", "diagnose", "--kubeconfig", str(kc), "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert wait_until(lambda: (tmp_path / "child.pid").exists(), timeout=30)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert err.strip() == "gputui: interrupted"
    for name in ("plugin.pid", "child.pid"):
        pid = int((tmp_path / name).read_text())
        assert wait_until(lambda pid=pid: _gone(pid), timeout=5), f"{name} {pid} still runs"


def test_ctrl_c_while_a_list_is_stalled_exits_130_at_once(start_sim):
    faults = Faults(stall=("pods",))
    sim = start_sim(sources=["healthy"], faults=faults)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gputui", "diagnose", "--kubeconfig", str(sim.kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert wait_until(lambda: faults.stalled > 0, timeout=30), "the pods list never reached the server"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)  # generous: the request timeout alone is 30 s
        took = time.monotonic() - sent
    finally:
        proc.kill()
        faults.release()
    print(f"\nexited {took:.2f} s after SIGINT")
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert err.strip().splitlines()[-1] == "gputui: interrupted" and "Traceback" not in err
    assert out == ""


def test_stalled_server_is_never_silent(start_sim, capsys, monkeypatch):
    monkeypatch.setattr(gather_mod, "WAIT_NOTICE_S", 0.5)
    faults = Faults(stall=("nodeclaims",))
    sim = start_sim(sources=["healthy"], faults=faults)
    try:
        # stderr is not a terminal here (captured), as in CI
        code = main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "--request-timeout", "2s", "-o", "json"])
    finally:
        faults.release()
    captured = capsys.readouterr()
    waits = [line for line in captured.err.splitlines() if line.startswith("gputui: still waiting for ")]
    assert waits and "nodeclaims.karpenter.sh" in waits[0] and "s without an answer)" in waits[0]
    doc = json.loads(captured.out)
    assert {(i["resource"], i["reason"]) for i in doc["incomplete"]} == {("nodeclaims.karpenter.sh", "Timeout")}
    assert code in (1, EXIT_PARTIAL)


def test_no_progress_keeps_stderr_quiet_even_when_stalled(start_sim, capsys, monkeypatch):
    monkeypatch.setattr(gather_mod, "WAIT_NOTICE_S", 0.5)
    monkeypatch.setattr(gather_mod, "RETRIES", 0)
    faults = Faults(stall=("nodeclaims",))
    sim = start_sim(sources=["healthy"], faults=faults)
    try:
        main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "--request-timeout", "1", "--no-progress", "-o", "json"])
    finally:
        faults.release()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "text, seconds",
    [("30", 30.0), ("30s", 30.0), ("1m", 60.0), ("2m30s", 150.0), ("1h", 3600.0), ("500ms", 0.5), ("0", 0.0)],
)
def test_request_timeout_takes_kubectl_durations(text, seconds):
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["abc", "-1", "1x", "30s1", "nan"])
def test_bad_request_timeout_is_a_usage_error(text, capsys):
    with pytest.raises(SystemExit) as e:
        main(["diagnose", "--request-timeout", text])
    assert e.value.code == EXIT_USAGE
    assert "invalid duration" in capsys.readouterr().err


def test_request_timeout_duration_bounds_a_stalled_list(start_sim, capsys, monkeypatch):
    monkeypatch.setattr(gather_mod, "RETRIES", 0)
    faults = Faults(stall=("nodeclaims",))
    sim = start_sim(sources=["healthy"], faults=faults)
    try:
        code = main(
            ["diagnose", "--kubeconfig", str(sim.kubeconfig), "--request-timeout", "1s", "--no-progress", "-o", "json"]
        )
    finally:
        faults.release()
    doc = json.loads(capsys.readouterr().out)
    assert [(i["resource"], i["reason"]) for i in doc["incomplete"]] == [("nodeclaims.karpenter.sh", "Timeout")]
    assert "within 1s" in doc["incomplete"][0]["message"]
    assert code in (1, EXIT_PARTIAL)


def test_lost_operator_log_tails_are_listed_and_exit_3(start_sim, capsys, monkeypatch):
    monkeypatch.setattr(gather_mod, "RETRIES", 1)
    sim = start_sim(sources=["driver-crashloop"], faults=Faults(unavailable=("pods/log",)))
    code = main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "--no-progress", "-o", "json", "--fail-on", "none"])
    doc = json.loads(capsys.readouterr().out)
    lost = [i for i in doc["incomplete"] if i["resource"] == "pods/log"]
    assert [i["reason"] for i in lost] == ["ServerError"]
    assert "log tail" in lost[0]["message"] and "503" in lost[0]["message"]
    assert code == EXIT_PARTIAL


def test_ctrl_c_during_a_snapshot_leaves_no_file(start_sim, tmp_path):
    faults = Faults(stall=("events",))
    sim = start_sim(sources=["healthy"], faults=faults)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gputui",
            "snapshot",
            "--kubeconfig",
            str(sim.kubeconfig),
            "-o",
            str(out_dir / "s.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert wait_until(lambda: faults.stalled > 0, timeout=30), "the events list never reached the server"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        faults.release()
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "Traceback" not in err
    assert list(out_dir.iterdir()) == []


def test_request_timeout_zero_means_no_limit(start_sim, capsys):
    sim = start_sim(sources=["healthy"])
    code = main(
        ["diagnose", "--kubeconfig", str(sim.kubeconfig), "--request-timeout", "0", "--no-progress", "-o", "json"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["incomplete"] == [] and code == 0
