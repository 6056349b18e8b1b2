"""The audit log on its own: fresh-line appends, tolerant reading, intents and results,
concurrent writers, permissions, and what it keeps out (credentials)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from gputui.fixes import redact
from gputui.fixes.audit import INTENT, AuditEntry, AuditLog, AuditUnwritable, result_of


def _entry(i: int = 0, **kw) -> AuditEntry:
    d = dict(
        id=f"e{i}",
        time="2026-01-01T00:00:00Z",
        action="apply",
        context="c",
        server="https://k",
        title=f"Cordon node n{i}",
        plan={"id": "cordon-node", "patchType": "merge"},
        target={"kind": "Node", "name": f"n{i}"},
        before={"kind": "Node"},
        after=None,
        ok=True,
    )
    d.update(kw)
    return AuditEntry(**d)


def test_a_torn_last_line_never_swallows_the_next_entry(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(_entry(1))
    with open(log.path, "ab") as f:
        f.write(b'{"id":"e2","time":"2026-01-01T00:00:00Z","act')  # killed mid-write
    log.append(_entry(3))
    assert [e.id for e in log.entries()] == ["e1", "e3"]
    assert log.skipped == 1
    assert log.skipped_note() == f"1 unreadable audit line skipped in {log.path}"
    assert log.path.read_bytes().endswith(
        b'"act\n' + json.dumps(_entry(3).to_json(), separators=(",", ":")).encode() + b"\n"
    )


@pytest.mark.parametrize(
    "line",
    [
        b"\xff\xfe not utf-8 \xc3",
        b"{not json",
        b"[1, 2]",
        b'"a string"',
        b'{"id": 5, "action": "apply"}',
        b'{"id": "x", "before": "text"}',
        b'{"id": "x", "result": {"ok": "yes"}}',
        b'{"id": "x", "result": "ok"}',
        b'{"id": "x", "target": {"kind": 3, "name": "n"}}',
        b'{"id": "x", "plan": ["cordon"]}',
        b'{"id": "x", "pid": "123", "phase": "intent"}',
        b'{"id": "x", "phase": "later"}',
        b'{"id": "x", "action": "explode"}',
        b'{"id": "x", "undoes": 7, "action": "undo"}',
        b"[" * 100000,
    ],
)
def test_unreadable_lines_are_skipped_and_counted(tmp_path, line):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(_entry(1))
    with open(log.path, "ab") as f:
        f.write(line + b"\n")
    log.append(_entry(2))
    assert [e.id for e in log.entries()] == ["e1", "e2"]
    assert log.skipped == 1
    assert [e.id for e in log.undoable("https://k")] == ["e2", "e1"]


def test_an_intent_without_result_is_pending_until_its_result(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    intent = log.append(_entry(1, phase=INTENT, ok=False, op="merge", precondition="7", pid=1))
    assert [e.pending for e in log.entries()] == [True]
    assert log.undoable() == [] and [e.id for e in log.pending()] == ["e1"]
    log.append(result_of(intent, True, {"kind": "Node"}, "done"))
    (e,) = log.entries()
    assert (e.pending, e.ok, e.message, e.precondition) == (False, True, "done", "7")
    assert [x.id for x in log.undoable()] == ["e1"]
    phases = [json.loads(x)["phase"] for x in log.path.read_text().splitlines()]
    assert phases == ["intent", "result"]


def test_a_settled_resolution_is_seen_by_this_process_only_unless_recorded(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    intent = log.append(_entry(1, phase=INTENT, ok=False, pid=1))
    log.settle(result_of(intent, False, None, "not seen", resolved="not applied"), record=False)
    assert log.entries()[0].resolved == "not applied"
    assert AuditLog(log.path).entries()[0].pending
    log.settle(result_of(intent, True, None, "seen", resolved="applied"), record=True)
    assert AuditLog(log.path).entries()[0].resolved == "applied"


def test_the_requests_own_result_beats_a_resolution(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    intent = log.append(_entry(1, phase=INTENT, ok=False, pid=1))
    log.append(result_of(intent, False, None, "guess", resolved="not applied"))
    log.append(result_of(intent, True, None, "the answer"))
    assert log.entries()[0].message == "the answer"


def test_owner_only_file_in_a_created_directory(tmp_path):
    log = AuditLog(tmp_path / "state" / "gputui" / "audit.jsonl")
    log.check_writable()
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(log.path.parent).st_mode) == 0o700


def test_an_unwritable_place_is_one_clear_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    log = AuditLog(blocker / "gputui" / "audit.jsonl")
    with pytest.raises(AuditUnwritable) as e:
        log.check_writable()
    assert e.value.exit_code == 5
    assert e.value.message.startswith(f"refusing to change the cluster: cannot write the audit log {log.path}")
    assert "XDG_STATE_HOME" in (e.value.hint or "")
    with pytest.raises(AuditUnwritable):
        log.append(_entry(1))
    assert log.entries() == [] and log.skipped == 0


_WRITER = textwrap.dedent(
    """
    import sys
    from gputui.fixes.audit import AuditEntry, AuditLog
    log = AuditLog(sys.argv[1])
    big = {"data": {"k": "x" * 20000}}
    for i in range(int(sys.argv[3])):
        log.append(AuditEntry(id=f"{sys.argv[2]}-{i}", time="t", action="apply", context=None, server="s",
                              title="t", plan={}, target={}, before=big, after=None, ok=True))
    """
)


def test_two_processes_appending_at_once_write_only_whole_lines(tmp_path):
    path = tmp_path / "audit.jsonl"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), name, "150"], cwd=os.getcwd())
        for name in ("a", "b")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    log = AuditLog(path)
    ids = [e.id for e in log.entries()]
    assert log.skipped == 0 and len(path.read_bytes().splitlines()) == 300
    assert sorted(ids) == sorted([f"a-{i}" for i in range(150)] + [f"b-{i}" for i in range(150)])
    assert [i for i in ids if i.startswith("a-")] == [f"a-{i}" for i in range(150)]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True),
        ("PGPASSWORD", True),
        ("HF_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("OPENAI_API_KEY", True),
        ("--auth-token", True),
        ("example.com/api-token", True),
        ("TOKENIZERS_PARALLELISM", False),
        ("example.com/author", False),
        ("NVIDIA_VISIBLE_DEVICES", False),
        ("LOG_LEVEL", False),
    ],
)
def test_what_looks_like_a_credential(name, secret):
    assert redact.looks_secret(name) is secret


def test_credentials_are_redacted_and_restored_from_the_live_object():
    obj = {
        "metadata": {
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": '{"spec": {"env": "hunter2"}}',
                "example.com/api-token": "tok-123",
                "example.com/owner": "team-a",
            }
        },
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "args": ["--port=80", "--auth-token=tok-456", "--password", "hunter2", "--verbose"],
                    "env": [
                        {"name": "DB_PASSWORD", "value": "hunter2"},
                        {"name": "LOG_LEVEL", "value": "debug"},
                        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                    ],
                }
            ]
        },
    }
    red = redact.redact(obj)
    text = json.dumps(red)
    assert "hunter2" not in text and "tok-" not in text
    assert "debug" in text and "team-a" in text and "--port=80" in text and "secretKeyRef" in text
    assert red["spec"]["containers"][0]["args"][1] == f"--auth-token={redact.REDACTED}"
    assert redact.restore(red, obj) == obj
    moved = json.loads(json.dumps(obj))
    moved["spec"]["containers"][0]["env"].reverse()  # matched by name, not position
    assert redact.restore(red, moved)["spec"]["containers"][0]["env"][0] == {"name": "DB_PASSWORD", "value": "hunter2"}
    del moved["spec"]["containers"][0]["env"][2]["name"]
    gone = json.loads(json.dumps(obj))
    gone["spec"]["containers"][0]["env"] = []
    with pytest.raises(redact.Unrestorable) as e:
        redact.restore(red, gone)
    assert str(e.value) == "spec.containers[0].env[0].value"
