"""The audit log under faults, against the simulator over HTTP: gputui killed mid-request,
an audit log that cannot be written, a plan gone stale under a colleague's edit, and what
the log keeps out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from checks import fixplans
from checks.kinds import Object, Taint, to_struct
from checks.model import ObjectRef
from checks.registry import run_checks
from gputui.cli import main
from gputui.fixes.apply import Applier
from gputui.fixes.audit import INTENT, AuditEntry, AuditLog, AuditUnwritable
from gputui.fixes.targets import object_path
from gputui.fixes.verify import fresh_plan
from gputui.kube.client import connect
from gputui.kube.gather import gather
from tests.helpers.cluster import GPU_NODE_A, gpu_node, workload
from tests.helpers.sim import sim_http
from tests.helpers.wait import wait_until

NODE = ObjectRef("Node", GPU_NODE_A)
HOLD_MS = 5000  # how long the simulator holds a write before applying it: the kill lands meanwhile

_APPLY_CORDON = textwrap.dedent(
    """
    import sys
    from checks import fixplans
    from checks.kinds import Object, to_struct
    from checks.model import ObjectRef
    from gputui.fixes.apply import Applier
    from gputui.fixes.audit import AuditLog
    from gputui.fixes.targets import object_path
    from gputui.kube.client import connect

    kube = connect(sys.argv[1], sys.argv[2])
    ref = ObjectRef("Node", sys.argv[3])
    plan = fixplans.cordon_node(to_struct(kube.get_json(object_path(ref)), Object))
    applier = Applier(kube, AuditLog())
    preview = applier.preview(plan)
    applier.apply(plan, preview.resource_version, preview)
    """
)


@pytest.fixture
def node_sim(start_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    sim = start_sim(objects=[gpu_node(GPU_NODE_A)])
    kube = connect(str(sim.kubeconfig), sim.context)
    yield sim, kube
    kube.close()


def _node(kube) -> dict:
    return kube.get_json(object_path(NODE))


def _kill_mid_write(sim, argv: list[str]) -> None:
    """Run `argv` with writes held by the simulator; SIGKILL it once its write is in flight."""
    sim.faults.write_latency_ms = HOLD_MS
    seen = sim.faults.writes_received
    proc = subprocess.Popen(argv, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_until(lambda: sim.faults.writes_received > seen or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    sim.faults.write_latency_ms = 0


def _list(sim, capsys) -> list[str]:
    assert main(["undo", "--list", "--kubeconfig", str(sim.kubeconfig), "--context", sim.context]) == 0
    return capsys.readouterr().out.splitlines()


def test_killed_mid_apply_leaves_an_intent_that_list_resolves_and_undo_restores(node_sim, capsys):
    sim, kube = node_sim
    _kill_mid_write(sim, [sys.executable, "-c", _APPLY_CORDON, str(sim.kubeconfig), sim.context, GPU_NODE_A])
    # The held PATCH lands after its client died: nobody saw the answer.
    assert wait_until(lambda: _node(kube)["spec"].get("unschedulable"))
    (pending,) = AuditLog().entries()
    assert pending.pending and pending.title == f"Cordon node {GPU_NODE_A}"
    lines = _list(sim, capsys)
    assert lines[1].startswith(pending.id) and "unconfirmed → applied" in lines[1]
    entry = AuditLog().find(pending.id)
    assert (entry.resolved, entry.ok) == ("applied", True)
    assert main(["undo", "--kubeconfig", str(sim.kubeconfig), "--context", sim.context, "--yes"]) == 0
    assert f"Audit entry {pending.id}" in capsys.readouterr().out
    assert not _node(kube)["spec"].get("unschedulable")
    assert "undone" in _list(sim, capsys)[2]


def test_killed_mid_undo_is_resolved_as_that_undo(node_sim, capsys):
    sim, kube = node_sim
    plan = fixplans.cordon_node(to_struct(_node(kube), Object))
    ap = Applier(kube, AuditLog())
    pv = ap.preview(plan)
    applied = ap.apply(plan, pv.resource_version, pv)
    assert applied.ok
    argv = [sys.executable, "-m", "gputui", "undo", "--kubeconfig", str(sim.kubeconfig), "--context", sim.context]
    _kill_mid_write(sim, [*argv, "--yes"])
    assert wait_until(lambda: not _node(kube)["spec"].get("unschedulable"))
    lines = _list(sim, capsys)
    assert "unconfirmed → applied" in lines[1] and lines[1].endswith(f"Undo: Cordon node {GPU_NODE_A}")
    assert lines[2].startswith(applied.entry_id) and " undone " in lines[2]
    assert main([*argv[3:], "--yes"]) == 6  # nothing left to undo
    assert "nothing to undo" in capsys.readouterr().err


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _intent_never_sent(kube, log: AuditLog, time: str) -> AuditEntry:
    """What a process killed just before its PATCH left: an intent, and an unchanged object."""
    node = _node(kube)
    plan = fixplans.cordon_node(to_struct(node, Object))
    return log.append(
        AuditEntry(
            id=AuditLog.new_id(),
            time=time,
            action="apply",
            context=kube.context,
            server=kube.server,
            title=plan.title,
            plan=plan.to_json(),
            target=dict(plan.target.to_json(), apiVersion=None),
            before=node,
            after={**node, "spec": {**node["spec"], "unschedulable": True}},
            ok=False,
            phase=INTENT,
            op="merge",
            precondition=node["metadata"]["resourceVersion"],
            pid=_dead_pid(),
        )
    )


def test_an_intent_that_never_landed_is_not_applied_and_not_undoable(node_sim, capsys):
    sim, kube = node_sim
    log = AuditLog()
    recent = _intent_never_sent(kube, log, AuditLog.now())
    lines = _list(sim, capsys)
    assert lines[1].startswith(recent.id) and "unconfirmed → not applied" in lines[1]
    # Recent: the request might still land, so it is judged again next time, not recorded.
    assert AuditLog().find(recent.id).pending
    old = _intent_never_sent(kube, log, "2026-01-01T00:00:00Z")
    assert Applier(kube, AuditLog()).undo_candidates() == []
    assert AuditLog().find(old.id).resolved == "not applied"
    assert main(["undo", "--kubeconfig", str(sim.kubeconfig), "--id", old.id, "--yes"]) == 7
    assert "is not an applied fix" in capsys.readouterr().err


def test_an_intent_of_a_running_process_stays_unconfirmed(node_sim, capsys):
    sim, kube = node_sim
    entry = _intent_never_sent(kube, AuditLog(), AuditLog.now())
    AuditLog().append(
        AuditEntry(**{**entry.__dict__, "id": "still-running", "pid": os.getpid(), "extra": {}})  # this process
    )
    lines = _list(sim, capsys)
    assert lines[1].startswith("still-running") and " unconfirmed " in lines[1]


def test_unwritable_audit_log_refuses_before_any_request(node_sim, tmp_path, monkeypatch):
    sim, kube = node_sim
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    plan = fixplans.cordon_node(to_struct(_node(kube), Object))
    ap = Applier(kube, AuditLog())
    pv = ap.preview(plan)
    rv, writes = _node(kube)["metadata"]["resourceVersion"], sim.faults.writes_received
    with pytest.raises(AuditUnwritable):
        ap.apply(plan, pv.resource_version, pv)
    with pytest.raises(AuditUnwritable):
        ap.create(ObjectRef("NodePool", "x", api_version="karpenter.sh/v1"), {}, "Create", {"patchType": "create"})
    assert sim.faults.writes_received == writes
    assert _node(kube)["metadata"]["resourceVersion"] == rv


def test_a_colleagues_edit_between_diagnose_and_apply_is_never_overwritten(start_sim, tmp_path):
    sim = start_sim(sources=["incident"])
    kube = connect(str(sim.kubeconfig), sim.context)
    ap = Applier(kube, AuditLog(tmp_path / "audit.jsonl"))
    finding = next(f for f in run_checks(gather(kube)) if f.code == "GPU302" and f.subject.name == "gpu-training")
    plan = next(p for p in finding.fixes if p.id == "widen-nodepool-requirements")
    # A colleague adds a zone requirement after the diagnosis.
    path = object_path(plan.target)
    reqs = kube.get_json(path)["spec"]["template"]["spec"]["requirements"]
    zone = {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-west-2a"]}
    body = {"spec": {"template": {"spec": {"requirements": [*reqs, zone]}}}}
    status, _, _ = sim_http(sim, "PATCH", path, body, headers={"Content-Type": "application/merge-patch+json"})
    assert status == 200
    writes = sim.faults.writes_received
    pv = ap.preview(plan)  # reads the colleague's version
    res = ap.apply(plan, pv.resource_version, pv)
    assert res.conflict and not res.ok and "changed since the fix was computed" in res.message
    assert sim.faults.writes_received == writes  # refused before sending
    assert zone in kube.get_json(path)["spec"]["template"]["spec"]["requirements"]
    fresh = fresh_plan(kube, finding, plan)
    assert fresh is not None
    fpv = ap.preview(fresh)
    res = ap.apply(fresh, fpv.resource_version, fpv)
    assert res.ok, res.message
    after = kube.get_json(path)["spec"]["template"]["spec"]["requirements"]
    assert zone in after
    types = next(r for r in after if r["key"] == "node.kubernetes.io/instance-type")["values"]
    assert {"p5.48xlarge", "p5e.48xlarge"} <= set(types)
    kube.close()


def test_credentials_stay_out_of_the_log_and_undo_keeps_them(start_sim, tmp_path):
    trainer = workload("Deployment", "trainer")
    trainer["spec"]["selector"] = {"matchLabels": {"app": "trainer"}}
    trainer["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "DB_PASSWORD", "value": "hunter2"},
        {"name": "LOG_LEVEL", "value": "debug"},
    ]
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}
    sim = start_sim(objects=[ns, trainer])
    kube = connect(str(sim.kubeconfig), sim.context)
    log = AuditLog(tmp_path / "audit.jsonl")
    ap = Applier(kube, log)
    ref = ObjectRef("Deployment", "trainer", "ml", "apps/v1")
    obj = kube.get_json(object_path(ref))
    plan = fixplans.add_toleration(
        to_struct(obj, Object), [Taint(key="example.com/dedicated", effect="NoSchedule")], kind="Deployment"
    )
    pv = ap.preview(plan)
    assert ap.apply(plan, pv.resource_version, pv).ok
    text = log.path.read_text()
    assert "hunter2" not in text and "(redacted by gputui)" in text and "debug" in text
    assert ap.undo().ok
    restored = kube.get_json(object_path(ref))["spec"]["template"]["spec"]
    assert restored["containers"][0]["env"] == trainer["spec"]["template"]["spec"]["containers"][0]["env"]
    assert not restored.get("tolerations")
    assert "hunter2" not in log.path.read_text()
    kube.close()
