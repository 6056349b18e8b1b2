"""The simulator's object store: typed collections, resource versions, watch history, logs.

Stored objects are never mutated in place: every change stores a new dict, so the cached
JSON bytes of an entry stay valid and readers may hold entries without copying them.
Callers of get/list/create/update/patch/delete get deep copies (decoded from the cached
bytes, which is fast); `entry()`/`select()` hand out the stored entries for read-only use.

Writes validate as the API server does and raise `ApiError` (rendered as a Status body):
404 NotFound, 409 AlreadyExists/Conflict, 422 Invalid, 400 BadRequest, 410 Expired,
415 UnsupportedMediaType. Subscribers are called after each committed change, outside
the store's lock, so they may write to the store themselves.
"""

from __future__ import annotations

import base64
import bisect
import builtins
import gc
import random
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from checks.snapshot import split_log_annotations
from gputui.kube import patch as patches
from gputui.sim import managed_fields, validation
from gputui.sim.create_defaults import apply_create_defaults
from gputui.sim.managed_fields import FieldOwner, apply_conflict, check_apply_target
from gputui.sim.resources import BUILTIN_TYPES, ResourceType
from gputui.sim.selectors import SelectorError, parse_field_selector, parse_label_selector
from gputui.sim.statuses import (
    CONTINUE_EXPIRED,
    ApiError,
    already_exists,
    bad_request,
    conflict,
    expired,
    invalid,
    not_found,
    unsupported_patch,
)
from gputui.sim.timestamps import now_rfc3339

__all__ = ["Store", "ApiError", "Entry", "Selection", "WatchEvent", "FieldOwner", "now_rfc3339"]

HISTORY_LIMIT = 20_000
_encode = msgspec.json.encode
_decode = msgspec.json.decode


# --- storage -------------------------------------------------------------------------


class Entry:
    """One stored object and its lazily cached JSON encoding."""

    __slots__ = ("obj", "_raw")

    def __init__(self, obj: dict, raw: bytes | None = None):
        self.obj = obj
        self._raw = raw

    @property
    def raw(self) -> bytes:
        raw = self._raw
        if raw is None:
            raw = self._raw = _encode(self.obj)
        return raw

    def copy(self) -> dict:
        return _decode(self.raw)


@dataclass(frozen=True)
class WatchEvent:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    rt: ResourceType
    entry: Entry
    old: Entry | None  # previous state, to tell selector transitions apart


@dataclass
class Selection:
    entries: list[Entry]
    resource_version: str
    continue_token: str | None = None
    remaining: int | None = None


Subscriber = Callable[[str, ResourceType, dict], None]


_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


class Store:
    def __init__(self, types: Iterable[ResourceType] = BUILTIN_TYPES):
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._types: dict[tuple[str, str], ResourceType] = {}
        self._by_kind: dict[tuple[str, str], ResourceType] = {}
        self._objects: dict[tuple[str, str], dict[tuple[str, str], Entry]] = {}
        self._keys: dict[tuple[str, str], list[tuple[str, str]]] = {}  # sorted (namespace, name)
        self._rv = 1
        self._compacted = 0
        self._history: deque[WatchEvent] = deque()
        self._logs: dict[tuple[str, str, str, bool], str] = {}
        self._subscribers: list[Subscriber] = []
        # (group, plural, namespace, name) -> field path -> FieldOwner, for server-side apply.
        self._owners: dict[tuple, dict[tuple, FieldOwner]] = {}
        self.closed = False
        for rt in types:
            self.register(rt)

    # -- types --------------------------------------------------------------------------

    def register(self, rt: ResourceType) -> None:
        with self._lock:
            old = self._types.get(rt.key)
            if old is not None:
                for v in old.served_versions:
                    self._by_kind.pop((old.api_version(v), old.kind), None)
            self._types[rt.key] = rt
            for v in rt.served_versions:
                self._by_kind[(rt.api_version(v), rt.kind)] = rt
            self._objects.setdefault(rt.key, {})
            self._keys.setdefault(rt.key, [])

    def unregister(self, rt: ResourceType) -> None:
        with self._lock:
            self._types.pop(rt.key, None)
            for v in rt.served_versions:
                self._by_kind.pop((rt.api_version(v), rt.kind), None)
            self._objects.pop(rt.key, None)
            self._keys.pop(rt.key, None)

    def types(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def type_for(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((api_version, kind))

    def type_for_resource(self, group: str, plural: str) -> ResourceType | None:
        return self._types.get((group, plural))

    def _type_of(self, obj: dict) -> ResourceType:
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        rt = self.type_for(api_version, kind)
        if rt is None:
            raise ApiError(404, "NotFound", f'no matches for kind "{kind}" in version "{api_version}"')
        return rt

    # -- reads --------------------------------------------------------------------------

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def entry(self, rt: ResourceType, namespace: str | None, name: str) -> Entry:
        key = (namespace or "" if rt.namespaced else "", name)
        e = self._objects.get(rt.key, {}).get(key)
        if e is None:
            raise not_found(rt, name)
        return e

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict:
        return self.entry(rt, namespace, name).copy()

    def count(self, rt: ResourceType) -> int:
        return len(self._objects.get(rt.key, {}))

    def select(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> Selection:
        """Matching entries in namespace/name order, one page at a time when `limit` is given."""
        try:
            by_label = parse_label_selector(label_selector)
            by_field = parse_field_selector(field_selector)
        except SelectorError as e:
            raise bad_request(str(e))
        start: tuple[str, str] | None = None
        if continue_token:
            start = self._decode_continue(continue_token)
        with self._lock:
            keys = self._keys.get(rt.key, [])
            objects = self._objects.get(rt.key, {})
            ns = namespace if rt.namespaced and namespace else None
            lo, hi = 0, len(keys)
            if ns is not None:
                lo = bisect.bisect_left(keys, (ns, ""))
                hi = bisect.bisect_left(keys, (ns + "\x00", ""))
            if start is not None:
                lo = max(lo, bisect.bisect_right(keys, start))
            out: list[Entry] = []
            token = None
            remaining = None
            i = lo
            while i < hi:
                entry = objects[keys[i]]
                i += 1
                if (by_label is None or by_label(entry.obj)) and (by_field is None or by_field(entry.obj)):
                    out.append(entry)
                    if limit and len(out) >= limit:
                        break
            if limit and len(out) >= limit and i < hi:
                if by_label is None and by_field is None:
                    remaining = hi - i
                    more = remaining > 0
                else:
                    more = any(
                        (by_label is None or by_label(objects[k].obj))
                        and (by_field is None or by_field(objects[k].obj))
                        for k in keys[i:hi]
                    )
                if more:
                    token = self._encode_continue(keys[i - 1])
            return Selection(out, str(self._rv), token, remaining)

    def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[dict], str]:
        sel = self.select(rt, namespace, label_selector, field_selector)
        return [e.copy() for e in sel.entries], sel.resource_version

    def _encode_continue(self, key: tuple[str, str]) -> str:
        start = f"{key[0]}/{key[1]}" if key[0] else key[1]
        raw = _encode({"v": "meta.k8s.io/v1", "rv": self._rv, "start": start, "ns": key[0], "name": key[1]})
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode_continue(self, token: str) -> tuple[str, str]:
        try:
            data = _decode(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            rv, key = int(data["rv"]), (str(data["ns"]), str(data["name"]))
        except Exception:
            raise bad_request(
                "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
            )
        if rv <= self._compacted:
            raise expired(CONTINUE_EXPIRED)
        return key

    # -- watch support -------------------------------------------------------------------

    def check_watch_from(self, rv: int) -> None:
        if rv < self._compacted:
            raise expired(f"too old resource version: {rv} ({self._compacted + 1})")

    def events_after(self, rv: int, timeout: float) -> builtins.list[WatchEvent]:
        """History events newer than `rv`, waiting up to `timeout` seconds for one to arrive."""
        with self._lock:
            self.check_watch_from(rv)
            if self._rv <= rv and not self.closed:
                self._changed.wait(timeout)
                self.check_watch_from(rv)
            out: list[WatchEvent] = []
            for ev in reversed(self._history):
                if ev.rv <= rv:
                    break
                out.append(ev)
            out.reverse()
            return out

    def compact(self) -> None:
        """Forget history: watches and continue tokens from before now answer 410 Expired."""
        with self._lock:
            self._compacted = self._rv
            self._history.clear()
            self._changed.notify_all()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._changed.notify_all()

    # -- logs ---------------------------------------------------------------------------

    def set_log(self, namespace: str, pod: str, container: str, text: str, previous: bool = False) -> None:
        self._logs[(namespace, pod, container, previous)] = text

    def get_log(self, namespace: str, pod: str, container: str, previous: bool = False) -> str | None:
        return self._logs.get((namespace, pod, container, previous))

    def _take_log_annotations(self, obj: dict) -> None:
        if obj.get("kind") != "Pod":
            return
        meta = obj.get("metadata") or {}
        if not meta.get("annotations"):
            return
        for (container, previous), text in split_log_annotations(obj, remove=True).items():
            self.set_log(meta.get("namespace") or "default", meta.get("name", ""), container, text, previous)
        if not meta["annotations"]:
            meta.pop("annotations", None)

    # -- subscribers ----------------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def _notify(self, events: builtins.list[WatchEvent]) -> None:
        for ev in events:
            for cb in list(self._subscribers):
                cb(ev.type, ev.rt, ev.entry.copy())

    # -- writes -------------------------------------------------------------------------

    def _commit(
        self,
        rt: ResourceType,
        key: tuple[str, str],
        obj: dict | None,
        kind: str,
        events: builtins.list[WatchEvent],
        final: dict | None = None,
    ) -> dict:
        """Store `obj` (None: remove) under a new resource version and record the event."""
        self._rv += 1
        coll = self._objects[rt.key]
        old = coll.get(key)
        shown = obj if obj is not None else final
        assert shown is not None
        shown.setdefault("metadata", {})["resourceVersion"] = str(self._rv)
        entry = Entry(shown)
        keys = self._keys[rt.key]
        if obj is None:
            coll.pop(key, None)
            self._owners.pop(rt.key + key, None)
            i = bisect.bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                keys.pop(i)
        else:
            if old is None:
                bisect.insort(keys, key)
            coll[key] = entry
        ev = WatchEvent(self._rv, kind, rt, entry, old)
        self._history.append(ev)
        if len(self._history) > HISTORY_LIMIT:
            dropped = self._history.popleft()
            self._compacted = dropped.rv
        events.append(ev)
        self._changed.notify_all()
        return shown

    def _key(self, rt: ResourceType, obj: dict) -> tuple[str, str]:
        meta = obj["metadata"]
        return (meta.get("namespace", "") if rt.namespaced else "", meta.get("name", ""))

    def _prepare_new(self, rt: ResourceType, obj: dict) -> dict:
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(random.choice(_GENERATE_ALPHABET) for _ in range(5))
        name = meta.get("name") or ""
        if not name:
            raise invalid(
                rt, "", [("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]
            )
        if len(name) > 253 or not _NAME_RE.match(name):
            raise invalid(
                rt,
                name,
                [
                    (
                        "FieldValueInvalid",
                        "metadata.name",
                        (
                            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                            "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
                            "'example.com', regex used for validation is "
                            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
                        ),
                    )
                ],
            )
        if rt.namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        obj["apiVersion"] = rt.api_version()
        meta["uid"] = meta.get("uid") or str(uuid.uuid4())
        meta["creationTimestamp"] = meta.get("creationTimestamp") or now_rfc3339()
        meta.setdefault("generation", 1)
        for server_owned in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(server_owned, None)
        return obj

    def _validate(self, rt: ResourceType, obj: dict, old: dict | None = None, subresource: str | None = None) -> None:
        if old is None:
            causes = validation.validate_object(rt, obj)
        else:
            causes = validation.validate_update(rt, old, obj, subresource)
        if causes:
            raise invalid(rt, obj["metadata"].get("name", ""), causes)

    def _on_written(self, rt: ResourceType, obj: dict, events: builtins.list[WatchEvent]) -> None:
        if rt.kind == "CustomResourceDefinition" and rt.group == "apiextensions.k8s.io":
            self.register(ResourceType.from_crd(obj))

    def bulk_load(self, objects: Iterable[dict]) -> int:
        """Load many objects at once: no validation, no events, no subscriber calls.

        CustomResourceDefinitions are registered first so their resources load in any order.
        """
        objs = list(objects)
        crd_first = sorted(objs, key=lambda o: o.get("kind") != "CustomResourceDefinition")
        # Cyclic GC passes over a heap this size would cost more than the load itself.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            with self._lock:
                touched: set[tuple[str, str]] = set()
                created = now_rfc3339()
                for obj in crd_first:
                    rt = self._type_of(obj)
                    self._take_log_annotations(obj)
                    meta = obj.setdefault("metadata", {})
                    if rt.namespaced:
                        meta["namespace"] = meta.get("namespace") or "default"
                    else:
                        meta.pop("namespace", None)
                    if not meta.get("uid"):
                        meta["uid"] = str(uuid.uuid4())
                    if not meta.get("creationTimestamp"):
                        meta["creationTimestamp"] = created
                    self._rv += 1
                    meta["resourceVersion"] = str(self._rv)
                    obj["apiVersion"] = rt.api_version()
                    # Encoded now so that the first list is as fast as every later one.
                    self._objects[rt.key][self._key(rt, obj)] = Entry(obj, _encode(obj))
                    touched.add(rt.key)
                    if rt.kind == "CustomResourceDefinition":
                        self.register(ResourceType.from_crd(obj))
                for key in touched:
                    self._keys[key] = sorted(self._objects[key])
                self._changed.notify_all()
        finally:
            if gc_was_enabled:
                gc.enable()
        if len(objs) > 10_000:
            gc.freeze()  # the loaded objects live as long as the store; keep later GC passes short
        return len(objs)

    def create(self, obj: dict, *, dry_run: bool = False, field_manager: str | None = None) -> dict:
        events: list[WatchEvent] = []
        with self._lock:
            obj = _decode(_encode(obj))
            rt = self._type_of(obj)
            self._prepare_new(rt, obj)
            self._validate(rt, obj)
            key = self._key(rt, obj)
            if key in self._objects[rt.key]:
                raise already_exists(rt, key[1])
            apply_create_defaults(rt, obj)
            if dry_run:
                return obj
            self._take_log_annotations(obj)
            out = self._commit(rt, key, obj, "ADDED", events)
            self._record_update(rt, key, None, out, field_manager)
            self._on_written(rt, out, events)
            result = _decode(_encode(out))
        self._notify(events)
        return result

    def update(
        self, obj: dict, *, dry_run: bool = False, subresource: str | None = None, field_manager: str | None = None
    ) -> dict:
        events: list[WatchEvent] = []
        with self._lock:
            obj = _decode(_encode(obj))
            rt = self._type_of(obj)
            meta = obj.get("metadata") or {}
            current = self.entry(
                rt, meta.get("namespace") or ("default" if rt.namespaced else ""), meta.get("name", "")
            )
            rv = meta.get("resourceVersion")
            if rv and rv != current.obj["metadata"]["resourceVersion"]:
                raise conflict(rt, meta["name"])
            result = self._replace(rt, current, obj, subresource, dry_run, events, field_manager)
        self._notify(events)
        return result

    def _record_update(
        self, rt: ResourceType, key: tuple[str, str], old: dict | None, new: dict, manager: str | None
    ) -> None:
        """A non-apply write makes its manager the owner of every field it changed."""
        if not manager:
            return
        builtin = rt.crd is None
        before = managed_fields.leaf_values(old, builtin=builtin, kind=rt.kind) if old else {}
        owner = FieldOwner(manager, "Update", rt.api_version(), now_rfc3339())
        owners = self._owners.setdefault(rt.key + key, {})
        for path, value in managed_fields.leaf_values(new, builtin=builtin, kind=rt.kind).items():
            if path not in before or before[path] != value:
                owners[path] = owner

    def _replace(
        self,
        rt: ResourceType,
        current: Entry,
        new: dict,
        subresource: str | None,
        dry_run: bool,
        events: builtins.list[WatchEvent],
        field_manager: str | None = None,
    ) -> dict:
        """Write `new` over `current`, keeping the fields clients cannot change."""
        old = current.obj
        old_meta = old["metadata"]
        if subresource == "status":
            status = new.get("status")
            new = _decode(current.raw)
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        elif subresource in (None, ""):
            if "status" in rt.subresources:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
        meta = new.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != old_meta["name"]:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({old_meta['name']})"
            )
        for field in (
            "name",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        if rt.namespaced:
            meta["namespace"] = old_meta["namespace"]
        new["apiVersion"] = rt.api_version()
        new["kind"] = rt.kind
        if any(
            new.get(k) != old.get(k)
            for k in set(new) | set(old)
            if k not in ("metadata", "status", "apiVersion", "kind")
        ):
            meta["generation"] = int(old_meta.get("generation") or 1) + 1
        self._validate(rt, new, old, subresource)
        key = self._key(rt, old)
        if dry_run:
            meta["resourceVersion"] = old_meta["resourceVersion"]
            return new
        if old_meta.get("deletionTimestamp") and not meta.get("finalizers"):
            out = self._commit(rt, key, None, "DELETED", events, final=new)
            self._after_delete(rt, out, events)
            return _decode(_encode(out))
        out = self._commit(rt, key, new, "MODIFIED", events)
        self._record_update(rt, key, old, out, field_manager)
        self._on_written(rt, out, events)
        return _decode(_encode(out))

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        patch_type: str,
        body: Any,
        *,
        dry_run: bool = False,
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool = False,
    ) -> dict:
        if patch_type == "strategic" and rt.crd is not None:
            raise unsupported_patch()
        if patch_type not in ("merge", "json", "strategic", "apply"):
            raise unsupported_patch()
        if isinstance(body, (bytes, str)):
            body = _parse_patch_body(body, patch_type)
        if patch_type == "apply" and not field_manager:
            raise bad_request("PATCH /apply requires fieldManager to be set")
        if patch_type != "json" and not isinstance(body, dict):
            raise bad_request("the body of the request was in an unknown format")
        ns = (namespace or "default") if rt.namespaced else ""
        if patch_type == "apply" and (ns, name) not in self._objects.get(rt.key, {}):
            return self._apply_create(rt, ns, name, body, field_manager or "", dry_run)
        events: list[WatchEvent] = []
        with self._lock:
            current = self.entry(rt, ns, name)
            doc = current.copy()
            try:
                if patch_type == "merge":
                    new = patches.merge_patch(doc, body)
                elif patch_type == "json":
                    new = patches.json_patch(doc, body)
                elif patch_type == "strategic":
                    new = patches.strategic_merge(doc, body, rt.kind)
                else:
                    check_apply_target(rt, body, name)
                    dropped = self._check_apply(rt, current, body, field_manager or "", force)
                    new = patches.apply_patch(doc, body, builtin=rt.crd is None)
                    for path in dropped:
                        managed_fields.remove_path(new, path)
            except patches.PatchError as e:
                if e.code == 400:
                    raise bad_request(e.message)
                raise ApiError(422, "Invalid", e.message)
            if not isinstance(new, dict):
                raise bad_request("the patched object is not a JSON object")
            rv = (new.get("metadata") or {}).get("resourceVersion")
            if rv and rv != current.obj["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            if patch_type == "apply":
                result = self._replace(rt, current, new, subresource, dry_run, events)
                if not dry_run:
                    self._record_apply(rt, self._key(rt, current.obj), body, field_manager or "")
            else:
                result = self._replace(rt, current, new, subresource, dry_run, events, field_manager)
        self._notify(events)
        return result

    def _apply_create(self, rt: ResourceType, ns: str, name: str, body: dict, manager: str, dry_run: bool) -> dict:
        """Server-side apply of an object that does not exist yet creates it."""
        check_apply_target(rt, body, name)
        obj = _decode(_encode(body))
        meta = obj.setdefault("metadata", {})
        meta["name"] = name
        if rt.namespaced:
            meta["namespace"] = ns
        obj["apiVersion"], obj["kind"] = obj.get("apiVersion") or rt.api_version(), rt.kind
        created = self.create(obj, dry_run=dry_run)
        if not dry_run:
            with self._lock:
                self._record_apply(rt, (ns, name), body, manager)
        return created

    def _check_apply(
        self, rt: ResourceType, current: Entry, body: dict, manager: str, force: bool
    ) -> builtins.list[tuple]:
        """Conflicts with other managers (409 unless forced); returns the fields this manager
        applied before and leaves out now, which apply removes."""
        builtin = rt.crd is None
        owners = self._owners.get(rt.key + self._key(rt, current.obj), {})
        have = managed_fields.leaf_values(current.obj, builtin=builtin, kind=rt.kind)
        applied = managed_fields.leaf_values(body, builtin=builtin, kind=rt.kind)
        conflicts: dict[FieldOwner, list[tuple]] = {}
        for path, value in applied.items():
            owner = owners.get(path)
            if owner is None or owner.manager == manager or path not in have or have[path] == value:
                continue
            # kubectl hands client-side-apply fields over to itself before a server-side apply.
            if not (manager == "kubectl" and owner.manager == "kubectl-client-side-apply"):
                conflicts.setdefault(owner, []).append(path)
        if conflicts and not force:
            raise apply_conflict(conflicts)
        return [
            path
            for path, owner in owners.items()
            if owner.manager == manager and owner.operation == "Apply" and path not in applied
        ]

    def _record_apply(self, rt: ResourceType, key: tuple[str, str], body: dict, manager: str) -> None:
        owners = self._owners.setdefault(rt.key + key, {})
        for path in [p for p, o in owners.items() if o.manager == manager and o.operation == "Apply"]:
            del owners[path]
        owner = FieldOwner(manager, "Apply", rt.api_version(), now_rfc3339())
        for path in managed_fields.leaf_values(body, builtin=rt.crd is None, kind=rt.kind):
            owners[path] = owner

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        dry_run: bool = False,
        propagation: str | None = None,
    ) -> dict:
        events: list[WatchEvent] = []
        with self._lock:
            current = self.entry(rt, namespace or ("default" if rt.namespaced else ""), name)
            obj = current.copy()
            key = self._key(rt, obj)
            meta = obj["metadata"]
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = now_rfc3339()
                    meta["deletionGracePeriodSeconds"] = 0
                    if not dry_run:
                        obj = self._commit(rt, key, obj, "MODIFIED", events)
                result = _decode(_encode(obj))
            elif dry_run:
                result = obj
            else:
                out = self._commit(rt, key, None, "DELETED", events, final=obj)
                self._after_delete(rt, out, events, orphan=propagation == "Orphan")
                result = _decode(_encode(out))
        self._notify(events)
        return result

    def _after_delete(
        self, rt: ResourceType, obj: dict, events: builtins.list[WatchEvent], orphan: bool = False
    ) -> None:
        """What the garbage collector and namespace controller would do, done at once."""
        if rt.kind == "CustomResourceDefinition" and rt.group == "apiextensions.k8s.io":
            gone = ResourceType.from_crd(obj)
            for key in list(self._objects.get(gone.key, {})):
                self._commit(gone, key, None, "DELETED", events, final=self._objects[gone.key][key].copy())
            self.unregister(gone)
            return
        if rt.kind == "Namespace" and not rt.group:
            ns = obj["metadata"]["name"]
            for other in list(self._types.values()):
                if not other.namespaced:
                    continue
                for key in [k for k in self._keys.get(other.key, []) if k[0] == ns]:
                    self._commit(other, key, None, "DELETED", events, final=self._objects[other.key][key].copy())
            return
        if orphan or rt.kind in ("Pod", "Event"):
            return
        uid = obj["metadata"].get("uid")
        for other in list(self._types.values()):
            coll = self._objects.get(other.key, {})
            for key, e in list(coll.items()):
                owners = e.obj.get("metadata", {}).get("ownerReferences") or ()
                if any(o.get("uid") == uid for o in owners):
                    self._commit(other, key, None, "DELETED", events, final=e.copy())
                    self._after_delete(other, e.obj, events)

    def counts(self) -> dict[str, int]:
        """Object counts per resource name, for summaries."""
        with self._lock:
            return {
                rt.resource_name: len(self._objects.get(rt.key, {}))
                for rt in self._types.values()
                if self._objects.get(rt.key)
            }


def _parse_patch_body(body: bytes | str, patch_type: str) -> Any:
    try:
        return _decode(body)
    except msgspec.DecodeError:
        if patch_type != "apply":
            raise bad_request("error decoding patch: invalid JSON")
    import yaml

    try:
        return yaml.load(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise bad_request(f"error decoding YAML: {e}")
