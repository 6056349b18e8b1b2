"""`gputui snapshot`: what one gathering read, as a `kind: List` file.

The file holds full objects (not the slim structs the checks use) so that it stays
useful beyond gputui's current checks: a later gputui can check more, and
`gputui sim serve FILE` replays it for kubectl and the TUI. It is meant to be
attached to tickets, so it leaves out what should not travel: Secrets are never
read, container env values are replaced, `managedFields` and the
last-applied-configuration annotation (which can embed both) are dropped. Log tails
of failing GPU Operator pods ride along as `sim.gputui.dev/log.*` annotations, which
both the simulator and `--from` understand.

One extra ConfigMap, `default/gputui-snapshot`, records where and when the snapshot was
taken and what could not be read, so an offline diagnosis reports the same
"could not see" list and judges ages against the moment of gathering.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import Any, TextIO

from checks.snapshot import LOG_ANNOTATION, PREVIOUS_LOG_ANNOTATION, ClusterSnapshot, Incomplete
from checks.timestamps import parse_time

META_NAME = "gputui-snapshot"
META_NAMESPACE = "default"
META_LABEL = "gputui.dev/snapshot"
REDACTED = "(redacted by gputui snapshot)"
_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
# CRDs and namespaces first so a replaying server knows every kind before it meets one.
_ORDER = {"crds": 0, "namespaces": 1}
# Objects serialized at once: the YAML dumper builds a node per value, so whole pages of
# pods, several threads at a time, would cost hundreds of MiB.
_SERIALIZE_BATCH = 50


class SnapshotWriter:
    """Writes the snapshot file while the cluster is read: a PageSink for `gather`.

    Lists arrive concurrently and in any order, but the file wants the meta object first
    (its "could not read" list is known only at the end), then CRDs and namespaces, then
    the rest by name. So each page is cleaned and serialized as it arrives into an unnamed
    spool file beside the target, and `finish` copies the spooled pieces in file order to
    FILE.tmp, which is renamed to FILE only once complete. Only the few pods that may get
    log tails are held as objects until the end (their annotations come after the list).
    """

    def __init__(self, path: str):
        self.path = path
        self.json = path.endswith(".json")
        to_stdout = path == "-"
        self._spool = tempfile.TemporaryFile(
            dir=None if to_stdout else (os.path.dirname(path) or "."), prefix=".gputui-snapshot-"
        )
        self._lock = threading.Lock()
        # attr -> pieces in list order: (offset, length) in the spool, or a pod held as a dict
        self._pieces: dict[str, list[Any]] = {}
        self._spooled = 0
        self.counts: dict[str, int] = {}
        self._log_pods_seen = 0

    # -- PageSink ------------------------------------------------------------------------

    def page(self, attr: str, objects: Iterator[dict], structs: list) -> None:
        pieces: list[Any] = []
        run: list[dict] = []
        count = 0
        for obj, struct in zip(objects, structs):
            count += 1
            _clean(obj)
            if attr == "pods" and self._may_get_log_tails(struct):
                if run:
                    pieces.append(self._serialize(run))
                    run = []
                pieces.append(obj)
            else:
                run.append(obj)
                if len(run) == _SERIALIZE_BATCH:
                    pieces.append(self._serialize(run))
                    run = []
        if run:
            pieces.append(self._serialize(run))
        with self._lock:
            spooled = []
            for piece in pieces:
                if isinstance(piece, bytes):
                    self._spool.write(piece)
                    piece = (self._spooled, len(piece))
                    self._spooled += piece[1]
                spooled.append(piece)
            self._pieces.setdefault(attr, []).extend(spooled)
            self.counts[attr] = self.counts.get(attr, 0) + count

    def discard(self, attr: str) -> None:
        with self._lock:
            self._pieces.pop(attr, None)
            self.counts.pop(attr, None)
            if attr == "pods":
                self._log_pods_seen = 0

    def _may_get_log_tails(self, pod) -> bool:
        """True for the pods `gather` reads log tails of (pods pages come in list order)."""
        from gputui.kube import gather

        if self._log_pods_seen >= gather.MAX_LOG_PODS or not gather.log_tail_containers(pod):
            return False
        self._log_pods_seen += 1
        return True

    # -- the file ------------------------------------------------------------------------

    def finish(self, snap: ClusterSnapshot, out: TextIO | None = None) -> int:
        """Write the file (or `out`); returns how many objects it holds."""
        logs_by_pod: dict[tuple[str, str], dict[str, str]] = {}
        for (ns, pod, container, previous), text in snap.logs.items():
            key = (PREVIOUS_LOG_ANNOTATION if previous else LOG_ANNOTATION) + container
            logs_by_pod.setdefault((ns, pod), {})[key] = text
        if out is not None:
            self._write_to(lambda data: out.write(data.decode("utf-8")), snap, logs_by_pod)
            out.flush()
        else:
            partial = self.path + ".tmp"
            try:
                with open(partial, "wb") as f:
                    self._write_to(f.write, snap, logs_by_pod)
                os.replace(partial, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(partial)
                raise
        return 1 + sum(self.counts.values())

    def _write_to(self, write, snap: ClusterSnapshot, logs_by_pod: dict) -> None:
        write(self._head())
        write(self._serialize([_meta_object(snap)]))
        for attr in sorted(self._pieces, key=lambda a: (_ORDER.get(a, 2), a)):
            for piece in self._pieces[attr]:
                if isinstance(piece, dict):
                    extra = logs_by_pod.get(
                        ((piece.get("metadata") or {}).get("namespace", ""), piece["metadata"].get("name"))
                    )
                    if extra:
                        piece["metadata"].setdefault("annotations", {}).update(extra)
                    data = self._serialize([piece])
                else:
                    self._spool.seek(piece[0])
                    data = self._spool.read(piece[1])
                if self.json:
                    write(b",\n")
                write(data)
        write(b"\n ]\n}\n" if self.json else b"")

    def _head(self) -> bytes:
        head = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}}
        if self.json:
            return (json.dumps(head, indent=1, ensure_ascii=False)[:-2] + ',\n "items": [\n').encode("utf-8")
        return (_yaml_dump(head) + "items:\n").encode("utf-8")

    def _serialize(self, objects: list[dict]) -> bytes:
        """Items as they appear inside the file's `items` (JSON: without the separating commas)."""
        if self.json:
            return ",\n".join(
                "  " + json.dumps(o, indent=1, ensure_ascii=False).replace("\n", "\n  ") for o in objects
            ).encode("utf-8")
        return _yaml_dump(objects).encode("utf-8")

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _yaml_dump(doc: Any) -> str:
    """As `kubectl get -o yaml` writes (block style, keys in the object's order)."""
    import yaml

    return yaml.dump(
        doc,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=120,
    )


def apply_meta(snap: ClusterSnapshot, objects: list[dict]) -> bool:
    """Restore context/server/time/incomplete from a snapshot file's meta object; False when absent."""
    meta = next(
        (
            o
            for o in objects
            if o.get("kind") == "ConfigMap"
            and (o.get("metadata") or {}).get("name") == META_NAME
            and META_LABEL in ((o.get("metadata") or {}).get("labels") or {})
        ),
        None,
    )
    if meta is None:
        return False
    data = meta.get("data") or {}
    snap.context = data.get("context") or snap.context
    snap.server = data.get("server") or snap.server
    gathered = parse_time(data.get("gatheredAt"))
    if gathered is not None:
        snap.now = gathered
    try:
        items = json.loads(data.get("incomplete") or "[]")
    except ValueError:
        items = []
    for i in items:
        if isinstance(i, dict) and not snap.cannot_see(i.get("resource", "")):
            snap.incomplete.append(Incomplete(i.get("resource", ""), i.get("reason", ""), i.get("message", "")))
    snap.karpenter_api_version = snap.karpenter_api_version or data.get("karpenterApiVersion") or None
    return True


def _meta_object(snap: ClusterSnapshot) -> dict:
    now = snap.now.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": META_NAME,
            "namespace": META_NAMESPACE,
            "labels": {META_LABEL: "meta"},
            "creationTimestamp": now,
        },
        "data": {
            "context": snap.context or "",
            "server": snap.server or "",
            "gatheredAt": now,
            "karpenterApiVersion": snap.karpenter_api_version or "",
            "incomplete": json.dumps([i.to_json() for i in snap.incomplete]),
        },
    }


def _clean(obj: dict) -> None:
    md = obj.get("metadata")
    if isinstance(md, dict):
        md.pop("managedFields", None)
        ann = md.get("annotations")
        if isinstance(ann, dict):
            for key in _DROP_ANNOTATIONS:
                ann.pop(key, None)
    _redact_env(obj)


def _redact_env(node: Any) -> None:
    """Every `env: [{name, value}]` list anywhere (pods, workload templates, ClusterPolicy)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and "value" in item and item["value"] not in ("", None):
                        item["value"] = REDACTED
            else:
                _redact_env(value)
    elif isinstance(node, list):
        for item in node:
            _redact_env(item)
