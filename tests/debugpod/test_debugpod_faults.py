"""`gputui debug` under faults, against the simulator over HTTP: a run killed with -9, stop signals
at each stage, DELETEs answered 503, Forbidden nodes and pods, flaky reads, and `--cleanup`
telling a live run's pods from a dead one's."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from gputui.cli import main
from tests.helpers.debugpod import (
    HOST,
    DebugProcess,
    gpu_fleet,
    namespace,
    node,
    pods_left,
    poll_debug_pods_quickly,
    wait_no_pods,
)
from tests.helpers.wait import wait_until


def run_cli(sim, *args, capsys) -> tuple[int, str, str]:
    code = main(["debug", "--kubeconfig", str(sim.kubeconfig), "--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    """Quick polling, and retry waits of milliseconds (the waits' lengths are not under test)."""
    from gputui.debugpod import cleanup
    from gputui.kube import gather

    poll_debug_pods_quickly(monkeypatch)
    monkeypatch.setattr(cleanup, "DELETE_DELAYS", (0.01, 0.01, 0.01))
    monkeypatch.setattr(gather, "_backoff", lambda attempt: 0.001)


@pytest.fixture
def long_smi(monkeypatch):
    """nvidia-smi in the simulated pods runs for a minute: the pods stay Running until deleted."""
    from gputui.sim import behaviour

    monkeypatch.setattr(behaviour, "RUN_SECONDS", 60.0)


def running(sim) -> int:
    return sum((p.get("status") or {}).get("phase") == "Running" for p in pods_left(sim))


def debug_pod(name: str, *, pid: int, host: str, deadline_in: float, started_ago: float = 5.0) -> dict:
    """A gputui debug pod as a run with this owner would have made it."""
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": {
                "app.kubernetes.io/managed-by": "gputui",
                "gputui.dev/debug": "true",
                "gputui.dev/run-id": name[-6:],
            },
            "annotations": {
                "gputui.dev/deadline": stamp(time.time() + deadline_in),
                "gputui.dev/node": "gpu-0",
                "gputui.dev/owner-pid": str(pid),
                "gputui.dev/owner-host": host,
                "gputui.dev/started": stamp(time.time() - started_ago),
            },
        },
        "spec": {
            "nodeName": "gpu-0",
            "restartPolicy": "Never",
            "activeDeadlineSeconds": 120,
            "containers": [{"name": "nvidia-smi", "image": "busybox"}],
        },
        "status": {"phase": "Running"},
    }


# -- a run that dies without cleaning up ------------------------------------------------------------


def test_kill_9_then_cleanup_deletes_every_pod_at_once(start_sim, long_smi, capsys):
    sim = start_sim(objects=gpu_fleet(8), behaviour=True)
    with DebugProcess(sim, "--all") as run:
        assert wait_until(lambda: running(sim) == 8, timeout=30), run.stderr
        pods = pods_left(sim)
        pid = str(run.proc.pid)
        assert {p["metadata"]["annotations"]["gputui.dev/owner-pid"] for p in pods} == {pid}
        assert {p["metadata"]["annotations"]["gputui.dev/owner-host"] for p in pods} == {socket.gethostname()}
        assert all(p["spec"]["activeDeadlineSeconds"] == 120 for p in pods)
        run.proc.kill()
        assert run.finish() == -signal.SIGKILL
    assert len(pods_left(sim)) == 8  # nobody deleted them
    code, out, err = run_cli(sim, "--cleanup", "--yes", capsys=capsys)
    assert code == 0, err
    assert out.count("deleted default/gputui-smi-gpu-") == 8 and f"pid {pid} on" in out
    assert "may still be running" not in out  # the owner is gone: nothing to ask
    assert wait_no_pods(sim) == []


# -- stop signals at each stage ------------------------------------------------------------------------------


STAGES = {
    # stage: (faults that hold the run there, what says the run is there, then how long to wait)
    "creating": ({"POST pods": 1000.0}, lambda sim, run: run.said("gputui: debugging 2 node(s)"), 0.2),
    "waiting": ({}, lambda sim, run: wait_until(lambda: running(sim) == 2, timeout=30), 0.2),
    "reading logs": (
        {"GET pods/log": 3000.0},
        lambda sim, run: wait_until(
            lambda: [(p.get("status") or {}).get("phase") for p in pods_left(sim)] == ["Succeeded"] * 2, timeout=30
        ),
        1.0,  # the runner notices the finished pods within a poll or two, then reads
    ),
}


@pytest.mark.parametrize("stage", list(STAGES))
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM])
def test_stop_signal_at_each_stage_leaves_no_pods(start_sim, monkeypatch, stage, sig):
    from gputui.sim import behaviour

    slow, there, then = STAGES[stage]
    if stage == "waiting":
        monkeypatch.setattr(behaviour, "RUN_SECONDS", 60.0)
    sim = start_sim(objects=gpu_fleet(2), behaviour=True)
    sim.faults.slow.update(slow)
    with DebugProcess(sim, "--all") as run:
        assert there(sim, run), run.stderr
        time.sleep(then)  # into the slow request
        run.proc.send_signal(sig)
        code = run.finish()
    assert code == 128 + sig, run.stderr
    assert f"gputui: {signal.Signals(sig).name}: stopping" in run.stderr
    assert "Traceback" not in run.stderr
    assert wait_no_pods(sim) == [], run.stderr


@pytest.mark.parametrize("twice", [False, True], ids=["once", "twice"])
def test_ctrl_c_with_requests_in_flight(start_sim, capsys, twice):
    """SIGINT while every create hangs 4 s (longer than cleanup waits for them): the run stops at
    once; a second SIGINT skips the wait for the creates. The creates that land later belong to
    a run that is over, so `--cleanup` deletes them without asking. The times are printed, not
    judged beyond 10 s."""
    sim = start_sim(objects=gpu_fleet(3), behaviour=True)
    sim.faults.slow["POST pods"] = 4000.0
    with DebugProcess(sim, "--all") as run:
        assert run.said("gputui: debugging 3 node(s)"), run.stderr
        time.sleep(0.3)
        sent = time.monotonic()
        run.proc.send_signal(signal.SIGINT)
        assert run.said("SIGINT: stopping", timeout=10)
        acknowledged = time.monotonic() - sent
        if twice:
            run.proc.send_signal(signal.SIGINT)
        code = run.finish()
        exited = time.monotonic() - sent
    with capsys.disabled():
        print(
            f"\nSIGINT{' twice' if twice else ''} with creates in flight: "
            f"stopping after {acknowledged:.2f}s, exit after {exited:.2f}s"
        )
    assert code == 130, run.stderr
    assert exited < 10, run.stderr
    assert "3 create request(s) in flight" in run.stderr
    assert "create request(s) had no answer" in run.stderr and "gputui debug --cleanup" in run.stderr
    assert ("SIGINT again" in run.stderr) == twice
    assert wait_until(lambda: len(pods_left(sim)) == 3, timeout=10)  # the hung creates landed after all
    sim.faults.slow.clear()
    code, out, _ = run_cli(sim, "--cleanup", capsys=capsys)
    assert code == 0 and out.count("deleted default/") == 3
    assert wait_no_pods(sim) == []


# -- DELETEs that fail --------------------------------------------------------------------------------------


def test_delete_answered_503_is_retried(start_sim, capsys):
    sim = start_sim(objects=gpu_fleet(2), behaviour=True)
    sim.faults.fail["DELETE pods"] = 3  # the first three DELETEs fail; each pod gets four tries
    code, out, err = run_cli(sim, "--all", capsys=capsys)
    assert code == 0, err
    assert sim.faults.fail["DELETE pods"] == 0 and "could not delete" not in err
    assert wait_no_pods(sim) == []


def test_delete_failing_for_good_is_reported_with_the_command(start_sim, capsys):
    sim = start_sim(objects=gpu_fleet(2), behaviour=True)
    sim.faults.fail["DELETE pods"] = -1
    code, out, err = run_cli(sim, "--all", "-o", "json", capsys=capsys)
    assert code == 3, err
    names = sorted(p["metadata"]["name"] for p in pods_left(sim))
    assert len(names) == 2
    assert json.loads(out)["undeletedPods"] == [f"default/{n}" for n in names]
    assert "could not delete 2 debug pod(s)" in err
    for name in names:
        assert f"default/{name}: 503 ServiceUnavailable" in err
    assert f"kubectl delete pod -n default {' '.join(names)}" in err
    assert "Traceback" not in err
    # Once the API server deletes again, --cleanup removes them (this process owns them: --yes).
    sim.faults.fail.clear()
    code, out, _ = run_cli(sim, "--cleanup", "--yes", capsys=capsys)
    assert code == 0 and out.count("deleted default/") == 2
    assert wait_no_pods(sim) == []


def test_cleanup_reports_deletes_that_fail(start_sim, capsys):
    sim = start_sim(
        objects=[
            namespace("default"),
            node("gpu-0", labels=HOST),
            debug_pod("gputui-smi-gpu-0-dead01", pid=0, host="elsewhere", deadline_in=-60),
        ]
    )
    sim.faults.fail["DELETE pods"] = -1
    code, out, err = run_cli(sim, "--cleanup", capsys=capsys)
    assert code == 3 and "default/gputui-smi-gpu-0-dead01" in err
    assert "kubectl delete pod -n default gputui-smi-gpu-0-dead01" in err


# -- Forbidden and flaky reads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forbid, args, line",
    [
        ("nodes", ["--all"], "gputui: error: not allowed to list nodes: "),
        ("nodes", ["gpu-0"], "gputui: error: not allowed to get nodes: "),
        ("pods", ["--all"], "gputui: error: not allowed to create pods in namespace default: "),
        ("pods", ["--cleanup"], "gputui: error: not allowed to list pods in any namespace: "),
    ],
)
def test_forbidden_is_one_line_and_exit_4(start_sim, capsys, forbid, args, line):
    sim = start_sim(objects=gpu_fleet(2), behaviour=True)
    sim.faults.forbid = (forbid,)
    code, out, err = run_cli(sim, *args, capsys=capsys)
    assert code == 4, err
    lines = err.splitlines()
    assert [l for l in lines if l.startswith("gputui: error:")] == [next(l for l in lines if l.startswith(line))]
    [hint] = [l for l in lines if l.startswith("  hint: ")]
    assert "(RBAC)" in hint and f"`kubectl auth can-i {line.split()[5]} {line.split()[6].rstrip(':')}" in hint
    assert "Traceback" not in err
    assert pods_left(sim) == []


def test_transient_server_errors_on_reads_are_retried(start_sim, capsys):
    sim = start_sim(objects=gpu_fleet(2), behaviour=True)
    sim.faults.fail.update({"GET nodes": 2, "GET pods": 4, "GET pods/log": 2, "POST pods": 1})
    code, out, err = run_cli(sim, "--all", capsys=capsys)
    assert code == 0, err
    assert out.count("nvidia-smi sees 1 GPU(s)") == 2
    assert all(v == 0 for v in sim.faults.fail.values())
    assert wait_no_pods(sim) == []


def test_server_errors_that_last_are_one_line(start_sim, capsys):
    sim = start_sim(objects=gpu_fleet(2), behaviour=True)
    sim.faults.fail["GET nodes"] = -1
    code, _, err = run_cli(sim, "--all", capsys=capsys)
    assert code == 3 and "gputui: error: could not read the nodes: 503" in err and "Traceback" not in err


# -- --cleanup and live runs ---------------------------------------------------------------------------------


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture
def owners(start_sim):
    here = socket.gethostname()
    return start_sim(
        objects=[
            namespace("default"),
            node("gpu-0", labels=HOST),
            debug_pod("gputui-smi-gpu-0-live01", pid=os.getpid(), host=here, deadline_in=600),
            debug_pod("gputui-smi-gpu-0-dead02", pid=_dead_pid(), host=here, deadline_in=600),
            debug_pod("gputui-smi-gpu-0-away03", pid=4242, host="another-host", deadline_in=600),
            debug_pod("gputui-smi-gpu-0-old004", pid=4242, host="another-host", deadline_in=-10),
            # This process's pid, but the run started before this process did: the pid was reused.
            debug_pod("gputui-smi-gpu-0-reuse5", pid=os.getpid(), host=here, deadline_in=600, started_ago=10 * 86400),
        ]
    )


def names(sim) -> list[str]:
    return sorted(p["metadata"]["name"] for p in pods_left(sim))


def test_cleanup_deletes_dead_runs_pods_and_leaves_live_ones_without_yes(owners, capsys):
    code, out, err = run_cli(owners, "--cleanup", capsys=capsys)
    assert code == 0, err
    assert "deleted default/gputui-smi-gpu-0-dead02" in out and "deleted default/gputui-smi-gpu-0-old004" in out
    assert "deleted default/gputui-smi-gpu-0-reuse5" in out
    assert "2 debug pod(s) of runs that may still be running" in out
    assert "gputui-smi-gpu-0-live01" in out and "its gputui process still runs" in out
    assert "gputui-smi-gpu-0-away03" in out and "another host, before its deadline" in out
    assert "pass --yes" in out
    assert wait_no_pods(owners, but=("gputui-smi-gpu-0-away03", "gputui-smi-gpu-0-live01")) != []
    assert names(owners) == ["gputui-smi-gpu-0-away03", "gputui-smi-gpu-0-live01"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("answer, left", [("n\n", 2), ("y\n", 0)])
def test_cleanup_asks_before_deleting_a_live_runs_pods(owners, capsys, monkeypatch, answer, left):
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    code, out, err = run_cli(owners, "--cleanup", capsys=capsys)
    assert code == 0, err
    assert "Delete these 2 pod(s) too? [y/N]" in out
    wait_no_pods(owners, but=() if left == 0 else ("gputui-smi-gpu-0-away03", "gputui-smi-gpu-0-live01"))
    assert len(names(owners)) == left


def test_cleanup_yes_deletes_live_runs_pods_too(owners, capsys):
    code, out, _ = run_cli(owners, "--cleanup", "--yes", capsys=capsys)
    assert code == 0 and out.count("deleted default/") == 5
    assert wait_no_pods(owners) == []
