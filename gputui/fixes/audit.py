"""The audit log: JSON lines recording every change gputui makes (and every undo), with the
object as it was, so a change can be understood later and restored with `gputui undo`.

It is a write-ahead log. Before a request that changes the cluster is sent, an *intent*
line (phase "intent": the plan, the object as read, the object as intended) is appended,
flushed and fsync'd; after the answer, a *result* line with the same id. An intent with
no result (gputui was killed mid-request, or the result could not be written) is resolved
later by reading the object: `resolved` says whether the change landed.

Appends hold an exclusive flock and use O_APPEND, so concurrent gputui processes never
interleave lines, and always start on a fresh line, so a torn last line (a crash
mid-write) never swallows the next entry. Reading skips any line that is not valid UTF-8,
not JSON, or has a field of the wrong type, and counts them in `skipped`.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gputui.errors import EXIT_INPUT, GputuiError

INTENT, RESULT = "intent", "result"
APPLIED, NOT_APPLIED = "applied", "not applied"


def default_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "gputui" / "audit.jsonl"


class AuditUnwritable(GputuiError):
    """The audit log cannot be written: no change is made without its record."""

    exit_code = EXIT_INPUT

    def __init__(self, path: Path, err: OSError):
        super().__init__(
            f"refusing to change the cluster: cannot write the audit log {path} ({err.strerror or err}); nothing was changed",
            hint="make that directory writable, or set XDG_STATE_HOME to a writable directory",
        )


@dataclass
class AuditEntry:
    id: str
    time: str
    action: str  # "apply" | "undo"
    context: str | None
    server: str
    title: str
    plan: dict
    target: dict
    before: dict | None
    after: dict | None  # the answer (result) or the intended object (intent)
    ok: bool
    message: str = ""
    undoes: str | None = None  # for action "undo": the id of the entry it restored
    extra: dict = field(default_factory=dict)
    phase: str = RESULT  # "intent" (written before the request) | "result"
    op: str | None = None  # the request: patch, put, create, delete, evict, unschedulable
    precondition: str | None = None  # the resourceVersion the request was sent with
    pid: int | None = None  # the process that made the request
    resolved: str | None = None  # for an intent resolved later: "applied" | "not applied"

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "time": self.time,
            "phase": self.phase,
            "action": self.action,
            "context": self.context,
            "server": self.server,
            "title": self.title,
            "plan": self.plan,
            "target": self.target,
            "before": self.before,
            "after": self.after,
        }
        if self.phase == RESULT:
            d["result"] = {"ok": self.ok, "message": self.message}
        for key in ("undoes", "op", "precondition", "pid", "resolved"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        if self.extra:
            d.update(self.extra)
        return d

    @classmethod
    def from_json(cls, d: Any) -> AuditEntry:
        """Raises ValueError for anything that is not an entry this module wrote."""
        if not isinstance(d, dict):
            raise ValueError("not an object")
        phase = d.get("phase", RESULT)
        result = d.get("result", {}) if phase == RESULT else {"ok": False, "message": ""}
        _want(isinstance(phase, str) and phase in (INTENT, RESULT), "phase")
        _want(isinstance(d.get("id"), str) and bool(d["id"]), "id")
        _want(d.get("action", "apply") in ("apply", "undo"), "action")
        for key in ("time", "server", "title"):
            _want(isinstance(d.get(key, ""), str), key)
        for key in ("context", "undoes", "op", "precondition", "resolved"):
            _want(d.get(key) is None or isinstance(d[key], str), key)
        _want(d.get("pid") is None or (isinstance(d["pid"], int) and not isinstance(d["pid"], bool)), "pid")
        for key in ("plan", "target"):
            _want(isinstance(d.get(key) or {}, dict), key)
        for key in ("before", "after"):
            _want(d.get(key) is None or isinstance(d[key], dict), key)
        target = d.get("target") or {}
        for key in ("kind", "name", "namespace", "apiVersion"):
            _want(target.get(key) is None or isinstance(target[key], str), f"target.{key}")
        plan = d.get("plan") or {}
        for key in ("id", "patchType"):
            _want(plan.get(key) is None or isinstance(plan[key], str), f"plan.{key}")
        _want(isinstance(result, dict), "result")
        assert isinstance(result, dict)
        _want(isinstance(result.get("ok", False), bool) and isinstance(result.get("message", ""), str), "result")
        known = {"id", "time", "phase", "action", "context", "server", "title", "plan", "target", "before", "after"}
        known |= {"result", "undoes", "op", "precondition", "pid", "resolved"}
        return cls(
            id=d["id"],
            time=d.get("time", ""),
            action=d.get("action", "apply"),
            context=d.get("context"),
            server=d.get("server", ""),
            title=d.get("title", ""),
            plan=plan,
            target=target,
            before=d.get("before"),
            after=d.get("after"),
            ok=bool(result.get("ok", False)),
            message=result.get("message", ""),
            undoes=d.get("undoes"),
            extra={k: v for k, v in d.items() if k not in known},
            phase=phase,
            op=d.get("op"),
            precondition=d.get("precondition"),
            pid=d.get("pid"),
            resolved=d.get("resolved"),
        )

    @property
    def pending(self) -> bool:
        """An intent whose result was never written: did the change land? (see Applier.resolve_pending)"""
        return self.phase == INTENT

    @property
    def restorable(self) -> bool:
        """A deleted pod was replaced by its controller: there is nothing to put back."""
        return not (self.plan.get("patchType") in ("delete", "evict") and self.target.get("kind") == "Pod")

    @property
    def target_text(self) -> str:
        t = self.target
        ns = f"{t.get('namespace')}/" if t.get("namespace") else ""
        return f"{t.get('kind', '?')}/{ns}{t.get('name', '?')}"


def _want(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"bad {what}")


class AuditLog:
    """Append-only JSON lines; see the module docstring. `skipped` counts the unreadable
    lines the last read passed over."""

    def __init__(self, path: os.PathLike | str | None = None):
        self.path = Path(path) if path is not None else default_path()
        self._lock = threading.Lock()
        self.skipped = 0
        self._settled: dict[str, AuditEntry] = {}  # resolutions not (yet) written: see settle()

    @staticmethod
    def new_id() -> str:
        return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)

    @staticmethod
    def now() -> str:
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- writing ------------------------------------------------------------------------

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # The log holds whole objects (env values, annotations): owner-only.
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as e:
            raise AuditUnwritable(self.path, e) from None

    def check_writable(self) -> None:
        """Raise AuditUnwritable unless an entry can be appended now (call before any change)."""
        os.close(self._open())

    def append(self, entry: AuditEntry) -> AuditEntry:
        """Append one line, flushed and fsync'd, under an exclusive lock shared by every gputui process."""
        data = (json.dumps(entry.to_json(), separators=(",", ":")) + "\n").encode("ascii")
        with self._lock:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # a torn last line stays a line of its own, skipped when read
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError as e:
                raise AuditUnwritable(self.path, e) from None
            finally:
                os.close(fd)  # closing releases the lock
        return entry

    def settle(self, resolution: AuditEntry, record: bool) -> None:
        """Take a pending intent's resolution into account; append it when `record` (else it
        holds for this process only: the request may still land, so it is judged again later)."""
        if record:
            self.append(resolution)
        self._settled[resolution.id] = resolution

    # -- reading ------------------------------------------------------------------------

    def records(self) -> list[AuditEntry]:
        """Every readable line in file order, intents and results apart."""
        return list(self._read())

    def _read(self) -> Iterator[AuditEntry]:
        self.skipped = 0
        try:
            with open(self.path, "rb") as f:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH)
                raw = f.read()
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as e:
            raise GputuiError(
                f"cannot read the audit log {self.path} ({e.strerror or e})",
                hint="check its permissions, or set XDG_STATE_HOME to the directory that holds it",
                exit_code=EXIT_INPUT,
            ) from None
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            try:
                yield AuditEntry.from_json(json.loads(line.decode("utf-8")))
            except (ValueError, TypeError, AttributeError, RecursionError):
                self.skipped += 1

    def entries(self) -> list[AuditEntry]:
        """One entry per change, in the order they were started: its result when written,
        else its intent (pending)."""
        merged: dict[str, AuditEntry] = {}
        for e in self._read():
            have = merged.get(e.id)
            if have is None or (have.phase == INTENT and e.phase == RESULT):
                merged[e.id] = e
            elif have.phase == RESULT and e.phase == RESULT and have.resolved and not e.resolved:
                merged[e.id] = e  # the request's own answer beats a later guess
        return [self._settled.get(e.id, e) if e.pending else e for e in merged.values()]

    def skipped_note(self) -> str | None:
        """The one-line note for the last read, or None when every line was readable."""
        if not self.skipped:
            return None
        lines = "line" if self.skipped == 1 else "lines"
        return f"{self.skipped} unreadable audit {lines} skipped in {self.path}"

    def find(self, entry_id: str) -> AuditEntry | None:
        return next((e for e in self.entries() if e.id == entry_id), None)

    def pending(self) -> list[AuditEntry]:
        return [e for e in self.entries() if e.pending]

    def undoable(self, server: str | None = None) -> list[AuditEntry]:
        """Successful, restorable applies not undone yet, newest first (optionally for one server)."""
        entries = self.entries()
        undone = _undone(entries)
        out = [
            e
            for e in entries
            if e.action == "apply"
            and e.phase == RESULT
            and e.ok
            and e.restorable
            and e.id not in undone
            and (server is None or e.server == server)
        ]
        return list(reversed(out))

    def undone_ids(self) -> set[str]:
        return _undone(self.entries())


def _undone(entries: list[AuditEntry]) -> set[str]:
    return {e.undoes for e in entries if e.action == "undo" and e.phase == RESULT and e.ok and e.undoes}


def result_of(
    intent: AuditEntry, ok: bool, after: dict | None, message: str, resolved: str | None = None
) -> AuditEntry:
    """The result line for an intent: same id, the server's answer (or the resolution)."""
    return replace(intent, phase=RESULT, time=AuditLog.now(), ok=ok, after=after, message=message, resolved=resolved)
