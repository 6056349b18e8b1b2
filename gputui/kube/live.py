"""Keep a gathered snapshot current: one watch per resource type, never one per object.

After the first read (gputui.kube.gather), `Live` watches every resource that read could list,
from that list's resourceVersion, with bookmarks, so the server only sends what changes. A
watch the server ends (its timeout) goes on from the last resourceVersion seen; one whose
resourceVersion has expired (410 Gone, etcd compacted) re-lists that resource alone and
watches on from the new list, as client-go's reflector does. A resource that may be listed but
not watched (403 on watch) is re-listed every POLL_FORBIDDEN_S seconds instead.

Changes land in one store per resource. A publisher thread turns each burst of changes into a
new ClusterSnapshot (the objects that did not change are the very objects of the previous one,
so nothing is decoded twice) and hands it to `publish` (which runs the checks). It paces itself:
after a round that took T seconds, the next comes no sooner than max(min_interval, IDLE_SHARE *
T) later, so a big cluster that changes all the time cannot take the whole machine. A round
also comes every `recheck_every` seconds without changes, so findings that depend on the clock
(how long a pod has been Pending) move on. Nothing here mutates an object: a change replaces it.

What the app shows as the age of its data comes from `status()`: live while every watch is
connected, stale since the moment one was lost otherwise.
"""

from __future__ import annotations

import datetime as _dt
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from checks.kinds import Event, Node, Object, Pod
from checks.snapshot import RESOURCES, ClusterSnapshot
from gputui.errors import ConnectError
from gputui.kube.client import KubeClient, Stream
from gputui.kube.compact import Compactor
from gputui.kube.errors import KubeApiError, TransportTimeout
from gputui.kube.gather import compact_for, kind_of, watch_path

# The server ends each watch after a random time in this range (client-go's spread), so the
# watches of one client do not all reconnect at once.
WATCH_SECONDS = (300, 600)
# A watch that has sent nothing (no event, no bookmark) for this long is taken for a dead
# connection and started again from its last resourceVersion.
SILENCE_S = 90.0
RETRY_S = (0.5, 30.0)  # backoff after a failed watch or re-list: first and longest wait
POLL_FORBIDDEN_S = 60.0
SHORT_WATCH_S = 1.0  # a watch that ends sooner than this was cut, not timed out
MIN_INTERVAL_S = 0.25  # the shortest pause between two snapshots, however fast the cluster changes
IDLE_SHARE = 0.5  # after a round of checks taking T seconds, no new one for IDLE_SHARE * T
DEBOUNCE_S = 0.1  # a burst of changes arriving together makes one snapshot
RECHECK_S = 30.0  # a new snapshot this often without changes: ages and deadlines move on
# A compactor's caches grow with every distinct string it has seen; past this many entries the
# session starts a new one (objects keep what they share, the old caches are freed).
COMPACTOR_LIMIT = 200_000

_TYPES = {"nodes": Node, "pods": Pod, "events": Event}

Publish = Callable[[ClusterSnapshot, "Change"], None]


@dataclass(frozen=True)
class Change:
    """What a new snapshot carries that the previous one did not."""

    resources: frozenset[str]  # snapshot attributes that changed ("pods", "nodeclaims", ...)
    events: int  # watch events applied
    first_seen: float  # time.monotonic() when the first of these changes arrived; 0.0: none (a re-check)


@dataclass(frozen=True)
class LiveStatus:
    """How current the data is. `stale_since` (wall clock) is None while every watch is connected."""

    watching: int
    stale: tuple[str, ...]  # resources whose watch is down (reconnecting, re-listing, failing)
    stale_since: _dt.datetime | None
    polled: tuple[str, ...]  # resources re-listed on a timer because watching them is forbidden
    last_change: _dt.datetime | None
    error: str = ""  # the latest reason a watch was lost


class _WatchEvent(msgspec.Struct):
    type: str = ""
    object: msgspec.Raw = msgspec.Raw(b"{}")


class _Meta(msgspec.Struct, rename="camel"):
    name: str = ""
    namespace: str | None = None
    resource_version: str = ""


class _Head(msgspec.Struct):
    metadata: _Meta = msgspec.field(default_factory=_Meta)
    code: int = 0  # a Status (an ERROR event's object)
    message: str = ""
    reason: str = ""


_EVENT = msgspec.json.Decoder(_WatchEvent)
_HEAD = msgspec.json.Decoder(_Head)


@dataclass
class _Store:
    attr: str
    api_version: str
    resource_version: str
    objects: dict[tuple[str, str], object]
    connected: bool = False
    down_since: float | None = None  # time.time() the watch was lost; None while it runs
    polled: bool = False
    error: str = ""
    decoder: msgspec.json.Decoder = field(default_factory=lambda: msgspec.json.Decoder(Object))


def _key(obj) -> tuple[str, str]:
    md = obj.metadata
    return (md.namespace or "", md.name)


class Live:
    """Watches for one connection and snapshot. `start()` once; `stop()` ends every thread."""

    def __init__(
        self,
        kube: KubeClient,
        snapshot: ClusterSnapshot,
        publish: Publish,
        *,
        min_interval: float = MIN_INTERVAL_S,
        debounce: float = DEBOUNCE_S,
        recheck_every: float = RECHECK_S,
        silence: float = SILENCE_S,
        watch_seconds: tuple[int, int] = WATCH_SECONDS,
        poll_forbidden: float = POLL_FORBIDDEN_S,
    ):
        self.kube = kube
        self._publish = publish
        self._min_interval, self._debounce, self._recheck = min_interval, debounce, recheck_every
        self._silence, self._watch_seconds, self._poll_forbidden = silence, watch_seconds, poll_forbidden
        self._base = snapshot
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._changed: set[str] = set()
        self._events = 0
        self._first_seen = 0.0
        self._last_change: _dt.datetime | None = None
        self._compactor = Compactor()
        self._compacted = 0
        self._streams: dict[str, Stream] = {}
        self._threads: list[threading.Thread] = []
        self._stores: dict[str, _Store] = {}
        for attr, (api_version, resource_version) in snapshot.listed.items():
            if attr not in RESOURCES:
                continue
            store = _Store(attr, api_version, resource_version, {_key(o): o for o in getattr(snapshot, attr)})
            store.decoder = msgspec.json.Decoder(_TYPES.get(attr, Object))
            self._stores[attr] = store
        self.relists = 0  # resources listed again after their resourceVersion expired (for tests and benches)
        self.applied = 0  # watch events applied in all
        self.skipped = 0  # watch events whose object could not be decoded

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        for attr in self._stores:
            self._spawn(f"watch-{attr}", self._watch_loop, attr)
        self._spawn("live-publish", self._publish_loop)

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        with self._lock:
            streams = list(self._streams.values())
        for s in streams:
            s.close()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _spawn(self, name: str, fn: Callable, *args) -> None:
        t = threading.Thread(target=fn, args=args, name=name, daemon=True)
        self._threads.append(t)
        t.start()

    # -- what the app shows ------------------------------------------------------------

    def status(self) -> LiveStatus:
        with self._lock:
            stores = list(self._stores.values())
            last_change = self._last_change
        down = [s for s in stores if s.down_since is not None]
        since = min((s.down_since for s in down if s.down_since is not None), default=None)
        errors = [s.error for s in down if s.error]
        return LiveStatus(
            watching=sum(1 for s in stores if s.connected),
            stale=tuple(sorted(s.attr for s in down)),
            stale_since=_dt.datetime.fromtimestamp(since, _dt.timezone.utc) if since is not None else None,
            polled=tuple(sorted(s.attr for s in stores if s.polled)),
            last_change=last_change,
            error=errors[0] if errors else "",
        )

    # -- watching ----------------------------------------------------------------------

    def _watch_loop(self, attr: str) -> None:
        store = self._stores[attr]
        failures = 0
        while not self._stop.is_set():
            try:
                if store.polled:
                    self._relist(store)
                    self._stop.wait(self._poll_forbidden)
                    continue
                began = time.monotonic()
                self._watch_once(store)
                if time.monotonic() - began < SHORT_WATCH_S:
                    # Ended as soon as it began (a proxy that cuts streams): back off, not a busy loop.
                    failures = self._lost(store, TransportTimeout("the watch ended as soon as it began"), failures)
                else:
                    failures = 0  # the server ended the watch: go on from where it left off
            except _Expired:
                try:
                    self._relist(store)
                    failures = 0
                except Exception as e:  # noqa: BLE001 - retried below, and shown as stale
                    failures = self._lost(store, e, failures)
            except KubeApiError as e:
                if e.status == 410:  # some servers and proxies answer an expired version with HTTP 410
                    try:
                        self._relist(store)
                        failures = 0
                    except Exception as again:  # noqa: BLE001 - retried, and shown as stale
                        failures = self._lost(store, again, failures)
                    continue
                if e.status == 403 and not store.polled:
                    store.polled = True  # list yes, watch no: poll instead, and say so
                    store.down_since = None
                    continue
                failures = self._lost(store, e, failures)
            except (TransportTimeout, ConnectError, OSError) as e:
                failures = self._lost(store, e, failures)
            except Exception as e:  # noqa: BLE001 - a bad answer must not end live mode for good
                failures = self._lost(store, e, failures)

    def _lost(self, store: _Store, error: BaseException, failures: int) -> int:
        store.connected = False
        if store.down_since is None:
            store.down_since = time.time()
        store.error = f"{store.attr}: {getattr(error, 'message', None) or error}"
        low, high = RETRY_S
        self._stop.wait(min(high, low * (2**failures)) * (0.5 + random.random()))
        return failures + 1

    def _watch_once(self, store: _Store) -> None:
        seconds = random.randint(*self._watch_seconds)
        query = {
            "watch": "true",
            "resourceVersion": store.resource_version or None,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": seconds,
        }
        stream = self.kube.open_stream(watch_path(store.attr, store.api_version), query, read_timeout=self._silence)
        with self._lock:
            self._streams[store.attr] = stream
        if self._stop.is_set():
            stream.close()
        store.connected, store.down_since, store.error = True, None, ""
        try:
            for line in stream.lines():
                self._apply(store, line)
        finally:
            stream.close()
            with self._lock:
                self._streams.pop(store.attr, None)
            store.connected = False

    def _apply(self, store: _Store, line: bytes) -> None:
        event = _EVENT.decode(line)
        kind = event.type
        if kind == "BOOKMARK":
            rv = _HEAD.decode(event.object).metadata.resource_version
            store.resource_version = rv or store.resource_version
            return
        if kind == "ERROR":
            status = _HEAD.decode(event.object)
            if status.code == 410:
                raise _Expired(status.message)
            raise KubeApiError(status.code or 500, status.reason or "Error", status.message or "watch error")
        try:
            obj = store.decoder.decode(event.object)
        except msgspec.DecodeError:
            # One object the slim structs cannot hold (a field of the wrong type): skip it, as the
            # loader refuses such an object, and keep the watch going rather than replaying it forever.
            self.skipped += 1
            return
        if store.attr not in _TYPES and not obj.kind:
            obj.kind, obj.api_version = kind_of(store.attr, RESOURCES[store.attr][2]), store.api_version
        key = _key(obj)
        with self._lock:
            if kind == "DELETED":
                store.objects.pop(key, None)
            elif kind in ("ADDED", "MODIFIED"):
                self._compact(store.attr, obj)
                store.objects[key] = obj
            else:
                return
            store.resource_version = obj.metadata.resource_version or store.resource_version
            self._changed_locked(store.attr, 1)

    def _relist(self, store: _Store) -> None:
        from gputui.kube.gather import relist

        items, resource_version = relist(
            self.kube, store.attr, store.api_version, Compactor(), not_older_than=store.resource_version
        )
        with self._lock:
            store.objects = {_key(o): o for o in items}
            store.resource_version = resource_version
            store.down_since, store.error = None, ""
            self.relists += 1
            self._changed_locked(store.attr, 0)

    def _compact(self, attr: str, obj) -> None:
        compact_for(self._compactor, attr)([obj])
        self._compacted += 1
        if self._compacted % 1000 == 0 and self._compactor.size() > COMPACTOR_LIMIT:
            self._compactor = Compactor()

    def _changed_locked(self, attr: str, events: int) -> None:
        if not self._changed:
            self._first_seen = time.monotonic()
        self._changed.add(attr)
        self._events += events
        self.applied += events
        self._last_change = _dt.datetime.now(_dt.timezone.utc)
        self._dirty.set()

    # -- publishing --------------------------------------------------------------------

    def _publish_loop(self) -> None:
        allowed = last = time.monotonic()  # no new snapshot before `allowed`; the last one at `last`
        while not self._stop.is_set():
            changed = self._dirty.wait(timeout=max(0.05, last + self._recheck - time.monotonic()))
            if self._stop.is_set():
                return
            if changed:
                # Let a burst finish together, and keep to the pace set after the last snapshot.
                self._stop.wait(max(self._debounce, allowed - time.monotonic()))
                if self._stop.is_set():
                    return
            snapshot, change = self._take()
            started = time.monotonic()
            try:
                self._publish(snapshot, change)
            except Exception:  # noqa: BLE001 - the receiver reports its own failures; keep watching
                pass
            last = time.monotonic()
            # However long the receiver took (the checks), the machine gets half as long again to
            # itself: on a big cluster that changes all the time, live mode keeps to about two
            # thirds of a core, and a change still reaches the screen within two rounds.
            allowed = last + max(self._min_interval, IDLE_SHARE * (last - started))

    def _take(self) -> tuple[ClusterSnapshot, Change]:
        base = self._base
        with self._lock:
            self._dirty.clear()
            change = Change(frozenset(self._changed), self._events, self._first_seen if self._changed else 0.0)
            self._changed.clear()
            self._events = 0
            lists = {attr: list(store.objects.values()) for attr, store in self._stores.items()}
            listed = {attr: (store.api_version, store.resource_version) for attr, store in self._stores.items()}
        # What the first read could not list stays unseen; log tails are read for each snapshot (LogTails).
        snap = ClusterSnapshot(
            context=base.context,
            server=base.server,
            source="live",
            karpenter_api_version=base.karpenter_api_version,
            incomplete=[i for i in base.incomplete if i.resource != "pods/log"],
            listed=listed,
        )
        for attr, objects in lists.items():
            setattr(snap, attr, objects)
        return snap, change


LogKey = tuple[str, str, str, bool]  # namespace, pod, container, previous instance


class LogTails:
    """The log tails of failing GPU Operator pods, for each live snapshot: a tail is read once
    per restart of its container (a new crash is read anew), one that could not be read is tried
    again at most every `retry_after` seconds and listed as not seen meanwhile."""

    def __init__(self, kube: KubeClient, first: ClusterSnapshot, retry_after: float = 60.0):
        self.kube = kube
        self.retry_after = retry_after
        self._read: dict[LogKey, tuple[int, str]] = {}  # key -> (restarts when read, text or "")
        self._lost: dict[LogKey, tuple[float, tuple[str, str]]] = {}  # key -> (when, (reason, message))
        for key, text in first.logs.items():
            self._read[key] = (_restarts(first, key), text)

    def fill(self, snap: ClusterSnapshot) -> None:
        from gputui.kube.gather import lost_log_tails, read_log_tails, wanted_log_tails

        wanted = wanted_log_tails(snap)
        now = time.monotonic()
        to_read = []
        for key in wanted:
            seen = self._read.get(key)
            if seen is not None and seen[0] == _restarts(snap, key):
                continue
            lost = self._lost.get(key)
            if lost is not None and now - lost[0] < self.retry_after:
                continue
            to_read.append(key)
        if to_read:
            lost_now = read_log_tails(self.kube, snap, to_read)
            for key in to_read:
                if key in lost_now:
                    self._lost[key] = (now, lost_now[key])
                else:
                    self._lost.pop(key, None)
                    self._read[key] = (_restarts(snap, key), snap.logs.get(key, ""))
        wanted_set = set(wanted)
        for key in wanted:
            seen = self._read.get(key)
            if seen is not None and seen[1]:
                snap.logs[key] = seen[1]
        # Forget what is no longer wanted (the pod recovered or went away): memory stays bounded.
        for key in [k for k in self._read if k not in wanted_set]:
            del self._read[key]
        for key in [k for k in self._lost if k not in wanted_set]:
            del self._lost[key]
        snap.incomplete.extend(lost_log_tails({k: v[1] for k, v in self._lost.items()}))


def _restarts(snap: ClusterSnapshot, key: LogKey) -> int:
    pod = snap.pod_by_key.get((key[0], key[1]))
    if pod is None:
        return -1
    for cs in list(pod.status.init_container_statuses) + list(pod.status.container_statuses):
        if cs.name == key[2]:
            return cs.restart_count
    return -1


class _Expired(Exception):
    """The watch's resourceVersion is gone (410): list again."""
