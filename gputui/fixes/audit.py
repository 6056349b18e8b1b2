"""The audit log: one JSON line per change gputui made (and per undo), with the object
as it was, so a change can be understood later and restored with `gputui undo`."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def default_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "gputui" / "audit.jsonl"


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
    after: dict | None
    ok: bool
    message: str = ""
    undoes: str | None = None  # for action "undo": the id of the entry it restored
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = {
            "id": self.id,
            "time": self.time,
            "action": self.action,
            "context": self.context,
            "server": self.server,
            "title": self.title,
            "plan": self.plan,
            "target": self.target,
            "before": self.before,
            "after": self.after,
            "result": {"ok": self.ok, "message": self.message},
        }
        if self.undoes:
            d["undoes"] = self.undoes
        if self.extra:
            d.update(self.extra)
        return d

    @classmethod
    def from_json(cls, d: dict) -> AuditEntry:
        result = d.get("result") or {}
        known = {
            "id",
            "time",
            "action",
            "context",
            "server",
            "title",
            "plan",
            "target",
            "before",
            "after",
            "result",
            "undoes",
        }
        return cls(
            id=str(d.get("id", "")),
            time=str(d.get("time", "")),
            action=str(d.get("action", "apply")),
            context=d.get("context"),
            server=str(d.get("server", "")),
            title=str(d.get("title", "")),
            plan=d.get("plan") or {},
            target=d.get("target") or {},
            before=d.get("before"),
            after=d.get("after"),
            ok=bool(result.get("ok")),
            message=str(result.get("message", "")),
            undoes=d.get("undoes"),
            extra={k: v for k, v in d.items() if k not in known},
        )

    @property
    def restorable(self) -> bool:
        """A deleted pod was replaced by its controller: there is nothing to put back."""
        return not (self.plan.get("patchType") in ("delete", "evict") and self.target.get("kind") == "Pod")

    @property
    def target_text(self) -> str:
        t = self.target
        ns = f"{t.get('namespace')}/" if t.get("namespace") else ""
        return f"{t.get('kind', '?')}/{ns}{t.get('name', '?')}"


class AuditLog:
    """Append-only JSON lines. Lines that do not parse (a crash mid-write) are skipped."""

    def __init__(self, path: os.PathLike | str | None = None):
        self.path = Path(path) if path is not None else default_path()
        self._lock = threading.Lock()

    @staticmethod
    def new_id() -> str:
        return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)

    @staticmethod
    def now() -> str:
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def append(self, entry: AuditEntry) -> AuditEntry:
        line = json.dumps(entry.to_json(), separators=(",", ":"), sort_keys=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The log holds full objects (maybe Secrets' neighbours, env values): owner-only.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        return entry

    def entries(self) -> list[AuditEntry]:
        return list(self._read())

    def _read(self) -> Iterator[AuditEntry]:
        try:
            f = open(self.path, encoding="utf-8")
        except FileNotFoundError:
            return
        with f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield AuditEntry.from_json(json.loads(line))
                except (ValueError, TypeError, AttributeError):
                    continue

    def find(self, entry_id: str) -> AuditEntry | None:
        return next((e for e in self.entries() if e.id == entry_id), None)

    def undoable(self, server: str | None = None) -> list[AuditEntry]:
        """Successful, restorable applies not undone yet, newest first (optionally for one server)."""
        entries = self.entries()
        undone = {e.undoes for e in entries if e.action == "undo" and e.ok and e.undoes}
        out = [
            e
            for e in entries
            if e.action == "apply"
            and e.ok
            and e.restorable
            and e.id not in undone
            and (server is None or e.server == server)
        ]
        return list(reversed(out))

    def undone_ids(self) -> set[str]:
        return {e.undoes for e in self.entries() if e.action == "undo" and e.ok and e.undoes}
