"""`gputui snapshot`: what one gathering read, as a `kind: List` file.

The file holds full objects (not the slim structs the checks use) so that it stays
useful beyond gputui's current checks: a later gputui can check more, and
`gputui sim serve FILE` replays it for kubectl and the TUI. It is meant to be
attached to tickets, so it leaves out what should not travel: Secrets are never
read; container env values, credentials in commands and arguments and credential-like
annotation values are replaced (gputui.redact); `managedFields` and the
last-applied-configuration annotation (which can embed all of these) are dropped. Log tails
of failing GPU Operator pods ride along as `sim.gputui.dev/log.*` annotations, which
both the simulator and `--from` understand.

One extra ConfigMap, `default/gputui-snapshot`, records where and when the snapshot was
taken and what could not be read, so an offline diagnosis reports the same
"could not see" list and judges ages against the moment of gathering.

Layout: a `kind: List` whose items are one line each. In YAML each item is written as a
JSON flow mapping (`- {"apiVersion":"v1","kind":"Pod",...}`), which every YAML reader
(kubectl, PyYAML) takes as it is, and which `--from` reads item by item straight into the
checks' slim structs, as live gathering does (a 100k-pod snapshot in seconds and a few
hundred MiB, where parsing block YAML takes minutes and gigabytes). The rare item that
JSON cannot say the way YAML 1.1 reads it (an exponent float such as 1e-05) is written as
block YAML instead. A `.json` file is the same List with one item per line. Older
snapshots (block YAML, indented JSON) still read, by the general manifest loader.

The target is written as gputui.files.safe_output writes any file the user names.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from typing import Any, TextIO

import msgspec

from checks.snapshot import LOG_ANNOTATION, PREVIOUS_LOG_ANNOTATION, ClusterSnapshot, Incomplete
from checks.timestamps import parse_time
from gputui import files
from gputui.redact import redact_object, redact_text

META_NAME = "gputui-snapshot"
META_NAMESPACE = "default"
META_LABEL = "gputui.dev/snapshot"
REDACTED = "(redacted by gputui snapshot)"
_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
# CRDs and namespaces first so a replaying server knows every kind before it meets one.
_ORDER = {"crds": 0, "namespaces": 1}
# Objects serialized at once (bytes held per spool write).
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
        # Refuses devices, FIFOs, directories (InputError) before the cluster is read.
        target = files.output_target(path)
        self._spool = tempfile.TemporaryFile(
            dir=None if target == files.STDOUT else (os.path.dirname(target) or "."), prefix=".gputui-snapshot-"
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
            with files.safe_output(self.path) as f:
                self._write_to(f.write, snap, logs_by_pod)
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
                        piece["metadata"].setdefault("annotations", {}).update(
                            {key: redact_text(text, REDACTED) for key, text in extra.items()}
                        )
                    data = self._serialize([piece])
                else:
                    self._spool.seek(piece[0])
                    data = self._spool.read(piece[1])
                if self.json:
                    write(b",\n")
                write(data)
        write(b"\n]}\n" if self.json else b"")

    def _head(self) -> bytes:
        return JSON_HEAD if self.json else YAML_HEAD

    def _serialize(self, objects: list[dict]) -> bytes:
        """Items as they appear inside the file's `items`, one a line (JSON: without the
        separating commas)."""
        if self.json:
            return b",\n".join(item_line(o) for o in objects)
        out = []
        for o in objects:
            line = item_line(o)
            out.append(_yaml_dump([o]).encode("utf-8") if _YAML_FLOAT.search(line) else b"- " + line + b"\n")
        return b"".join(out)

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


YAML_HEAD = b'apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: ""\nitems:\n'
_OLD_YAML_HEAD = YAML_HEAD.replace(b'""', b"''")  # block-YAML snapshots: item by item too, slowly
JSON_HEAD = b'{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n'
# Characters JSON leaves raw that YAML reads differently (line breaks U+0085/2028/2029) or refuses.
_YAML_UNSAFE = re.compile(rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]|\xef\xbf[\xbe\xbf]")
# A JSON number with an exponent (1e-05, 1.5e16): YAML 1.1 reads it as a string. Matches
# inside strings too (rarely: `"x":"1e5,"`), which only costs that item a block-YAML line.
_YAML_FLOAT = re.compile(rb"[:,\[]-?[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+[,}\]]")


def item_line(obj: dict) -> bytes:
    """One object as one line of JSON, apiVersion and kind first (as kubectl shows them),
    with the few characters YAML would misread escaped."""
    if "apiVersion" in obj and "kind" in obj:
        obj = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), **obj}
    line = msgspec.json.encode(obj)
    if _YAML_UNSAFE.search(line):
        line = _YAML_UNSAFE.sub(lambda m: b"\\u%04x" % ord(m[0].decode("utf-8")), line)
    return line


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
    redact_object(obj, REDACTED)


# -- reading, item by item ------------------------------------------------------------


class NotStreamable(Exception):
    """The file is not a gputui snapshot the streaming reader takes as it is (another
    layout, a kind it does not know, something a server would have filled in missing);
    the general loader reads it instead."""


# `{"apiVersion":"v1","kind":"Pod",` as item_line starts every item.
_ITEM_PREFIX = re.compile(rb'\{"apiVersion":"([^"\\]*)","kind":"([^"\\]*)"')
_LOG_MARK = b"sim.gputui.dev/"
# The apiVersion each built-in kind is read at (checks.snapshot.RESOURCES); custom
# resources need a CRD in the file that serves theirs.
_CLUSTER_SCOPED_KINDS = frozenset(
    {"Node", "Namespace", "NodePool", "NodeClaim", "EC2NodeClass", "ClusterPolicy", "CustomResourceDefinition"}
)
_BATCH = 500


class _StreamReader:
    def __init__(self) -> None:
        from checks.kinds import Event, Node, Object, Pod
        from checks.snapshot import KIND_TO_ATTR, RESOURCES
        from gputui.kube.compact import Compactor

        self.snap = ClusterSnapshot(source="snapshot")
        self.kind_to_attr = KIND_TO_ATTR
        self.types = {"nodes": Node, "pods": Pod, "events": Event}
        self.object_type = Object
        self.decoders: dict[str, msgspec.json.Decoder] = {}
        self.builtin = {
            attr: (f"{group}/{version}" if group else version)
            for attr, (group, version, _plural) in RESOURCES.items()
            if "." not in group or group.endswith(".k8s.io")
        }
        self.compactor = Compactor()
        self.pending: dict[str, list] = {}
        self.meta: dict | None = None
        self.namespaces_used: set[str] = set()
        self.custom_used: set[tuple[str, str]] = set()

    def decoder(self, attr: str) -> msgspec.json.Decoder:
        d = self.decoders.get(attr)
        if d is None:
            d = self.decoders[attr] = msgspec.json.Decoder(self.types.get(attr, self.object_type), strict=False)
        return d

    # -- items ---------------------------------------------------------------------------

    def json_item(self, data: bytes) -> None:
        m = _ITEM_PREFIX.match(data)
        if self.meta is None or m is None:
            try:
                obj = msgspec.json.decode(data)
            except msgspec.DecodeError:
                raise NotStreamable from None
            self.dict_item(obj)
            return
        api_version, kind = m.group(1).decode(), m.group(2).decode()
        attr = self.kind_to_attr.get(kind)
        if attr is None:
            raise NotStreamable
        try:
            struct = self.decoder(attr).decode(data)
        except msgspec.DecodeError:
            raise NotStreamable from None
        self.add(attr, api_version, kind, struct, _LOG_MARK in data)

    def dict_item(self, obj: Any) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            raise NotStreamable
        if self.meta is None:
            data = obj.get("data") or {}
            if (
                obj.get("kind") != "ConfigMap"
                or obj["metadata"].get("name") != META_NAME
                or META_LABEL not in (obj["metadata"].get("labels") or {})
                or parse_time(data.get("gatheredAt")) is None
            ):
                raise NotStreamable
            self.meta = obj
            return
        from checks.kinds import to_struct

        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if not isinstance(kind, str) or not isinstance(api_version, str):
            raise NotStreamable
        attr = self.kind_to_attr.get(kind)
        if attr is None:
            raise NotStreamable
        try:
            struct = to_struct(obj, self.types.get(attr, self.object_type))
        except msgspec.ValidationError:
            raise NotStreamable from None
        annotations = obj["metadata"].get("annotations") or {}
        self.add(attr, api_version, kind, struct, any(k.startswith("sim.gputui.dev/") for k in annotations))

    def add(self, attr: str, api_version: str, kind: str, struct: Any, has_logs: bool) -> None:
        md = struct.metadata
        if not md.name:
            raise NotStreamable  # the general loader says what is wrong with it
        if kind in _CLUSTER_SCOPED_KINDS:
            if md.namespace:
                raise NotStreamable
        elif not md.namespace:
            raise NotStreamable
        else:
            self.namespaces_used.add(md.namespace)
        builtin = self.builtin.get(attr)
        if builtin is not None:
            if api_version != builtin:
                raise NotStreamable
        else:
            self.custom_used.add((api_version, kind))
        if attr == "nodepools" and "karpenter.sh/" in api_version:
            self.snap.karpenter_api_version = self.snap.karpenter_api_version or api_version
        if has_logs:
            from checks.snapshot import split_log_annotations

            for (container, previous), text in split_log_annotations(
                {"metadata": {"annotations": md.annotations}}
            ).items():
                self.snap.logs[(md.namespace or "default", md.name, container, previous)] = text
        batch = self.pending.setdefault(attr, [])
        batch.append(struct)
        if len(batch) >= _BATCH:
            self.flush(attr)

    def flush(self, attr: str) -> None:
        batch = self.pending.pop(attr, [])
        if not batch:
            return
        method = {"pods": self.compactor.pods, "nodes": self.compactor.nodes, "events": self.compactor.events}.get(attr)
        if method is not None:
            method(batch)
        else:
            self.compactor.objects(attr, batch)
        getattr(self.snap, attr).extend(batch)

    # -- the end ---------------------------------------------------------------------------

    def finish(self) -> ClusterSnapshot:
        if self.meta is None:
            raise NotStreamable
        for attr in list(self.pending):
            self.flush(attr)
        snap = self.snap
        # What the general loader would add: namespaces that objects use, CRDs for custom resources.
        if self.namespaces_used - {ns.metadata.name for ns in snap.namespaces}:
            raise NotStreamable
        served = set()
        for crd in snap.crds:
            spec = crd.spec
            group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind", "")
            for v in spec.get("versions") or []:
                if isinstance(v, dict) and v.get("served", True):
                    served.add((f"{group}/{v.get('name')}", kind))
        if self.custom_used - served:
            raise NotStreamable
        for pod in snap.pods:
            for ref in pod.metadata.owner_references:
                if not ref.uid or not ref.api_version:
                    raise NotStreamable
        apply_meta(snap, [self.meta])
        return snap


def read_streamed(path: str) -> ClusterSnapshot | None:
    """A snapshot file gputui wrote, read item by item into the checks' structs (compacted as
    live gathering does); None when the file is anything else (the caller then uses the
    general loader, which also gives the precise error for a broken file)."""
    import gc

    try:
        f = open(path, "rb")
    except OSError:
        return None
    reader = _StreamReader()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # ~10^5 small acyclic structs: the cyclic GC would only slow their building
    try:
        with f:
            head = f.read(len(YAML_HEAD))
            if head == JSON_HEAD[: len(head)] and f.read(len(JSON_HEAD) - len(head)) == JSON_HEAD[len(head) :]:
                _read_json_lines(f, reader)
            elif head in (YAML_HEAD, _OLD_YAML_HEAD):
                _read_yaml_lines(f, reader)
            else:
                return None
        snap = reader.finish()
    except (NotStreamable, UnicodeDecodeError, OSError):
        return None
    finally:
        if gc_was_enabled:
            gc.enable()
    gc.freeze()
    return snap


def _read_json_lines(f, reader: _StreamReader) -> None:
    for line in f:
        if line.startswith(b"]}"):
            return
        line = line.rstrip(b"\r\n")
        if line.endswith(b","):
            line = line[:-1]
        if not line.startswith(b"{"):
            raise NotStreamable
        reader.json_item(line)
    raise NotStreamable  # no end of the list: cut short


def _read_yaml_lines(f, reader: _StreamReader) -> None:
    block: list[bytes] = []

    def block_item() -> None:
        import yaml

        from gputui.kube.manifests import ManifestLoader

        try:
            items = yaml.load(b"".join(block), Loader=ManifestLoader)
        except yaml.YAMLError:
            raise NotStreamable from None
        block.clear()
        if not isinstance(items, list) or len(items) != 1:
            raise NotStreamable
        reader.dict_item(items[0])

    for line in f:
        if line.startswith(b"- {") and line.rstrip().endswith(b"}"):
            if block:
                block_item()
            reader.json_item(line[2:].rstrip(b"\r\n"))
        elif line.startswith(b"- "):
            if block:
                block_item()
            block.append(line)
        elif block and (line.startswith(b" ") or not line.strip()):
            block.append(line)
        elif not line.strip():
            continue
        else:
            raise NotStreamable
    if block:
        block_item()
