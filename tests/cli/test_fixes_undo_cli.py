"""`gputui undo` through the real CLI entry point against the simulator."""

from __future__ import annotations

import pytest

from checks import fixplans
from checks.kinds import Object, to_struct
from checks.model import ObjectRef
from gputui.cli import main
from gputui.fixes.apply import Applier
from gputui.fixes.audit import AuditLog
from gputui.fixes.targets import object_path
from gputui.kube.client import connect
from tests.helpers.cluster import GPU_NODE_A, gpu_node


@pytest.fixture
def cordoned(start_sim, tmp_path, monkeypatch):
    """A simulator with one node that a fix cordoned, recorded in $XDG_STATE_HOME's audit log."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    sim = start_sim(objects=[gpu_node(GPU_NODE_A)])
    kube = connect(str(sim.kubeconfig), sim.context)
    ref = ObjectRef("Node", GPU_NODE_A)
    plan = fixplans.cordon_node(to_struct(kube.get_json(object_path(ref)), Object))
    ap = Applier(kube, AuditLog())
    pv = ap.preview(plan)
    res = ap.apply(plan, pv.resource_version, pv)
    assert res.ok
    return sim, kube, res.entry_id


def _unschedulable(kube):
    return bool(kube.get_json(object_path(ObjectRef("Node", GPU_NODE_A)))["spec"].get("unschedulable"))


def test_list_shows_the_change(cordoned, capsys):
    _, _, entry_id = cordoned
    assert main(["undo", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "TIME", "STATE", "CONTEXT", "CHANGE"]
    assert out[1].startswith(entry_id) and "can undo" in out[1] and out[1].endswith(f"Cordon node {GPU_NODE_A}")


def test_undo_with_yes_restores_and_logs(cordoned, capsys):
    sim, kube, entry_id = cordoned
    assert _unschedulable(kube)
    assert main(["undo", "--kubeconfig", str(sim.kubeconfig), "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"Audit entry {entry_id}" in out and f"Undo will uncordon {GPU_NODE_A} again." in out
    assert "-  unschedulable: true" in out
    assert not _unschedulable(kube)
    assert main(["undo", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "undo" in lines[1] and "undone" in lines[2]
    # Nothing left: a distinct exit code and one line, no traceback.
    assert main(["undo", "--kubeconfig", str(sim.kubeconfig), "--yes"]) == 6
    assert capsys.readouterr().err.startswith("gputui: error: nothing to undo for ")


def test_undo_needs_confirmation_when_not_interactive(cordoned, capsys, monkeypatch):
    sim, kube, entry_id = cordoned
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["undo", "--kubeconfig", str(sim.kubeconfig), "--id", entry_id]) == 2
    err = capsys.readouterr().err
    assert "not undoing without confirmation" in err and "--yes" in err
    assert _unschedulable(kube)


def test_read_only_refuses_undo(cordoned, capsys):
    sim, kube, _ = cordoned
    assert main(["--read-only", "undo", "--kubeconfig", str(sim.kubeconfig), "--yes"]) == 2
    assert "refusing to undo a change: gputui is running with --read-only" in capsys.readouterr().err
    assert _unschedulable(kube)


def test_unknown_id(cordoned, capsys):
    sim, _, _ = cordoned
    assert main(["undo", "--kubeconfig", str(sim.kubeconfig), "--id", "nope", "--yes"]) == 6
    assert "no audit entry 'nope'" in capsys.readouterr().err


def test_unwritable_audit_log_refuses_before_touching_the_cluster(cordoned, capsys, tmp_path, monkeypatch):
    sim, kube, _ = cordoned
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    writes = sim.faults.writes_received
    assert main(["undo", "--kubeconfig", str(sim.kubeconfig), "--yes"]) == 5
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("gputui: error: refusing to change the cluster: cannot write the audit log ")
    assert "XDG_STATE_HOME" in err[1] and not any("Traceback" in line for line in err)
    assert sim.faults.writes_received == writes
    assert _unschedulable(kube)


def test_corrupt_lines_are_skipped_with_a_note(cordoned, capsys):
    sim, kube, entry_id = cordoned
    log = AuditLog()
    with open(log.path, "ab") as f:
        f.write(b'{"id": "x", "before": 3}\n\xff\xfe\x00garbage\n{"id":"torn","act')
    assert main(["undo", "--list"]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"note: 3 unreadable audit lines skipped in {log.path}\n"
    assert captured.out.splitlines()[1].startswith(entry_id)
    assert main(["undo", "--kubeconfig", str(sim.kubeconfig), "--yes"]) == 0
    assert "note: 3 unreadable audit lines skipped" in capsys.readouterr().err
    assert not _unschedulable(kube)
    # The torn line did not swallow the undo's entries.
    assert main(["undo", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert " undo " in lines[1] and " undone " in lines[2]
