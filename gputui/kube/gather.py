"""Read the cluster once: every resource the checks need, concurrently, into a ClusterSnapshot.

Lists are paginated (limit=500 bounds memory on big clusters and is what the API
server and etcd prefer) and decoded from raw bytes straight into the slim structs of
`checks.kinds`; no client model is ever built. One resource failing (403, CRD not
installed, timeouts after retries, 5xx) is recorded in `snapshot.incomplete` and the
rest carries on; only "no cluster at all" (connect/auth) aborts, as ConnectError.
"""

from __future__ import annotations

import gc
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from dataclasses import dataclass
from typing import Protocol

import msgspec

from checks.gpu import OPERAND_APPS
from checks.kinds import EventList, ListMeta, NodeList, ObjectList, PodList
from checks.operator import operator_pods
from checks.snapshot import RESOURCES, ClusterSnapshot, Incomplete
from gputui.kube.client import KubeClient
from gputui.kube.compact import Compactor
from gputui.kube.errors import KubeApiError, TransportTimeout

Progress = Callable[[str, int], None]
# waiting(resources, seconds): these lists (or requests) have had no answer for `seconds`.
Waiting = Callable[[list[str], float], None]


class PageSink(Protocol):
    """Takes the full objects of each page as it is read (`gputui snapshot` writes them out
    instead of keeping them). Called from worker threads; pages of one list arrive in order."""

    def page(self, attr: str, objects: Iterator[dict], structs: list) -> None:
        """`objects` (dicts with kind/apiVersion, decoded as they are taken) and `structs` (their
        slim decode) are the same items in the same order."""

    def discard(self, attr: str) -> None:
        """Forget every page of `attr` sent so far: the list failed or is read again from the start."""


PAGE_SIZE = 500
# How often the waiting thread looks up (Ctrl-C is noticed within this), and after how many
# seconds without an answer `waiting` is told (then again every as many seconds).
POLL_S = 0.2
WAIT_NOTICE_S = 5.0
WORKERS = 6
RETRIES = 4
LOG_TAIL_LINES = 40
MAX_LOG_PODS = 40

_LIST_TYPES = {"nodes": NodeList, "pods": PodList, "events": EventList}
# Where --namespace does not apply: these are cluster-scoped.
_CLUSTER_SCOPED = frozenset(
    {
        "nodes",
        "namespaces",
        "nodepools",
        "nodeclaims",
        "ec2nodeclasses",
        "clusterpolicies",
        "nvidiadrivers",
        "customresourcedefinitions",
        "persistentvolumes",
        "storageclasses",
        "priorityclasses",
        "runtimeclasses",
        "csinodes",
        "volumeattachments",
    }
)
# Older API versions to try when a group does not serve the one in RESOURCES.
_FALLBACK_VERSIONS = {"karpenter.sh": ("v1beta1",), "karpenter.k8s.aws": ("v1beta1",)}
_NOT_INSTALLED = {
    "karpenter.sh": "Karpenter not installed",
    "karpenter.k8s.aws": "Karpenter's AWS provider (EC2NodeClass) not installed",
    "nvidia.com": "GPU Operator not installed",
}
# Container states that are part of a normal start, not a failure.
_STARTING = frozenset({"ContainerCreating", "PodInitializing"})


@dataclass
class _Listed:
    attr: str
    items: list
    api_version: str
    resource_version: str = ""  # the list's: a watch goes on from there


class Failed(Exception):
    def __init__(self, incomplete: Incomplete):
        super().__init__(incomplete.message)
        self.incomplete = incomplete


def resource_name(group: str, plural: str) -> str:
    """`pods`, `nodeclaims.karpenter.sh`: the name RBAC (and `kubectl auth can-i`) use."""
    return f"{plural}.{group}" if group else plural


def gather(
    kube: KubeClient,
    *,
    namespace: str | None = None,
    progress: Progress | None = None,
    sink: PageSink | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ClusterSnapshot:
    """One pass over checks.snapshot.RESOURCES. `progress(resource, items_so_far)` is called from
    worker threads after each page; when `progress` also has a `waiting(resources, seconds)`
    method, that is called every WAIT_NOTICE_S seconds while lists get no answer (a stalled
    server is never silent).

    `namespace` limits namespaced lists to one namespace; None means the client's --namespace,
    "" all namespaces whatever the client says.

    `sink`, when given, also gets every page as full objects (for `gputui snapshot`, which
    writes them out as they come); it costs a second decode of every page.

    Requests run in daemon threads and the calling thread only waits for them, a few times a
    second: Ctrl-C (KeyboardInterrupt) or `cancelled()` turning true abandons the requests in
    flight at once (GatherCancelled for the latter) instead of waiting for their timeouts.
    """
    namespace = namespace if namespace is not None else kube.namespace
    snap = ClusterSnapshot(context=kube.context, server=kube.server, source="live")
    watch = _Watch(progress, cancelled)
    report = watch.report
    compactor = Compactor()
    pool = DaemonPool(WORKERS, "gather")
    gc_was_enabled = gc.isenabled()
    try:
        # Fail fast, with one line, when there is no cluster to talk to.
        watch.wait_all({pool.submit(kube.version): "the API server (/version)"})
        # Building ~10^5 small objects with the cyclic GC on costs 2-4x; the structs hold no cycles.
        gc.disable()
        # Biggest lists first so they overlap with the many small ones.
        order = sorted(RESOURCES, key=lambda a: {"pods": 0, "events": 1, "nodes": 2}.get(a, 3))
        futures: dict[Future, str] = {
            pool.submit(_list_resource, kube, attr, *RESOURCES[attr], namespace, report, sink, compactor): attr
            for attr in order
        }
        _collect(futures, snap, watch)
        if "pods" in RESOURCES and not snap.cannot_see("pods"):
            _fetch_operand_logs(kube, pool, snap, watch)
        snap.incomplete.sort(key=lambda i: i.resource)
    finally:
        pool.shutdown()  # abandons what is still in flight (after an error or Ctrl-C)
        if gc_was_enabled:
            gc.enable()
    # Move the snapshot out of the collector's sight: later full collections skip it (TUI stays smooth).
    gc.freeze()
    return snap


class GatherCancelled(Exception):
    """The caller's `cancelled()` turned true while reading (the app is closing or reading anew)."""


class DaemonPool:
    """A small thread pool whose threads never hold up the process: Ctrl-C or an error leaves
    requests in flight behind (a ThreadPoolExecutor joins its threads at exit, which kept
    gputui alive for the remaining request timeouts and retries)."""

    def __init__(self, workers: int, name: str):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable, *args) -> Future:
        f: Future = Future()
        self._queue.put((f, fn, args))
        return f

    def shutdown(self) -> None:
        """Cancel what has not started; threads end after their current task (nobody waits)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in self._threads:
            self._queue.put(None)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            f, fn, args = item
            if not f.set_running_or_notify_cancel():
                continue
            try:
                f.set_result(fn(*args))
            except BaseException as e:  # noqa: BLE001 - handed to whoever waits for the future
                f.set_exception(e)


class _Watch:
    """The waiting side: polls futures a few times a second, tells `waiting` about silent
    lists, and notices cancellation."""

    def __init__(self, progress: Progress | None, cancelled: Callable[[], bool] | None):
        self._progress = progress
        self._waiting: Waiting | None = getattr(progress, "waiting", None)
        self._cancelled = cancelled
        self._lock = threading.Lock()
        self._last_answer = time.monotonic()
        self._last_notice = 0.0

    def report(self, resource: str, count: int) -> None:
        with self._lock:
            self._last_answer = time.monotonic()
            if self._progress is not None:
                self._progress(resource, count)

    def poll(self, pending: set[Future], names: dict[Future, str]) -> tuple[set[Future], set[Future]]:
        done, still = wait(pending, timeout=POLL_S, return_when=FIRST_EXCEPTION)
        if self._cancelled is not None and self._cancelled():
            raise GatherCancelled("reading the cluster was cancelled")
        now = time.monotonic()
        with self._lock:
            silent = now - self._last_answer
        if self._waiting is not None and still and silent >= WAIT_NOTICE_S and now - self._last_notice >= WAIT_NOTICE_S:
            self._last_notice = now
            self._waiting(sorted({names[f] for f in still if f in names}), silent)
        return done, still

    def answered(self) -> None:
        with self._lock:
            self._last_answer = time.monotonic()

    def wait_all(self, futures: dict[Future, str]) -> list:
        """Wait for every future; the first exception is raised."""
        pending = set(futures)
        while pending:
            done, pending = self.poll(pending, futures)
            for f in done:
                f.result()
                self.answered()
        return [f.result() for f in futures]


def _collect(futures: dict[Future, str], snap: ClusterSnapshot, watch: _Watch) -> None:
    pending = set(futures)
    names = {f: resource_name(RESOURCES[a][0], RESOURCES[a][2]) for f, a in futures.items()}
    while pending:
        done, pending = watch.poll(pending, names)
        for f in done:
            watch.answered()
            try:
                listed: _Listed = f.result()
            except Failed as e:
                snap.incomplete.append(e.incomplete)
                continue
            except BaseException:
                for p in pending:  # ConnectError and bugs: stop queued lists, then surface it
                    p.cancel()
                raise
            if hasattr(snap, listed.attr):
                setattr(snap, listed.attr, listed.items)
                snap.listed[listed.attr] = (listed.api_version, listed.resource_version)
            if listed.attr in ("nodepools", "nodeclaims") and listed.api_version.startswith("karpenter.sh/"):
                if snap.karpenter_api_version is None or listed.attr == "nodepools":
                    snap.karpenter_api_version = listed.api_version


def _list_resource(
    kube: KubeClient,
    attr: str,
    group: str,
    version: str,
    plural: str,
    namespace: str | None,
    progress: Progress,
    sink: PageSink | None = None,
    compactor: Compactor | None = None,
) -> _Listed:
    try:
        return _list_versions(kube, attr, group, version, plural, namespace, progress, sink, compactor)
    except BaseException:
        if sink is not None:
            sink.discard(attr)
        raise


def _list_versions(
    kube: KubeClient,
    attr: str,
    group: str,
    version: str,
    plural: str,
    namespace: str | None,
    progress: Progress,
    sink: PageSink | None,
    compactor: Compactor | None,
) -> _Listed:
    name = resource_name(group, plural)
    decoder = msgspec.json.Decoder(_LIST_TYPES.get(attr, ObjectList))
    ns = None if plural in _CLUSTER_SCOPED else namespace
    versions = (version,) + _FALLBACK_VERSIONS.get(group, ())
    last_404: KubeApiError | None = None
    kind = kind_of(attr, plural)
    for v in versions:
        api_version = f"{group}/{v}" if group else v
        try:
            items, resource_version = _paginate(
                kube,
                _path(group, v, plural, ns),
                decoder,
                name,
                progress,
                _page_to(sink, attr, kind, api_version),
                compact_for(compactor, attr),
            )
        except KubeApiError as e:
            if e.status == 404:
                last_404 = e
                if sink is not None:
                    sink.discard(attr)
                continue
            raise Failed(_incomplete(name, e)) from None
        if decoder.type is ObjectList:
            _fill_kind(items, kind, api_version)
        return _Listed(attr, items, api_version, resource_version)
    what = _NOT_INSTALLED.get(group)
    served = " or ".join(f"{group}/{v}" if group else v for v in versions)
    message = (
        f"{what}: the API serves no {plural} ({served})"
        if what
        else f"the API serves no {plural} ({served}): {last_404.message if last_404 else 'not found'}"
    )
    raise Failed(Incomplete(name, "NotFound", message))


class _SinkPages:
    """One list's pages, as full objects, to the sink."""

    def __init__(self, sink: PageSink, attr: str, kind: str, api_version: str):
        self.sink, self.attr, self.kind, self.api_version = sink, attr, kind, api_version

    def page(self, body: bytes, structs: list) -> None:
        self.sink.page(self.attr, self._objects(_RAW_PAGE.decode(body).items), structs)

    def _objects(self, items: list) -> Iterator[dict]:
        """One item at a time, so that a whole page never exists as dicts."""
        for item in items:
            obj = msgspec.json.decode(item)
            obj.setdefault("apiVersion", self.api_version)  # list items arrive without them
            obj.setdefault("kind", self.kind)
            yield obj

    def restart(self) -> None:
        self.sink.discard(self.attr)


class _RawPage(msgspec.Struct):
    items: list[msgspec.Raw] = []


_RAW_PAGE = msgspec.json.Decoder(_RawPage)


def _page_to(sink: PageSink | None, attr: str, kind: str, api_version: str) -> _SinkPages | None:
    return _SinkPages(sink, attr, kind, api_version) if sink is not None else None


def compact_for(compactor: Compactor | None, attr: str) -> Callable[[list], None]:
    """What shrinks freshly decoded objects of `attr` (nothing without a compactor)."""
    if compactor is None:
        return lambda items: None
    method = {"pods": compactor.pods, "nodes": compactor.nodes, "events": compactor.events}.get(attr)
    return method or (lambda items: compactor.objects(attr, items))


class _PageHead(msgspec.Struct):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)


_HEAD = msgspec.json.Decoder(_PageHead)


def _paginate(
    kube: KubeClient,
    path: str,
    decoder: msgspec.json.Decoder,
    name: str,
    progress: Progress,
    pages: _SinkPages | None = None,
    compact: Callable[[list], None] = lambda items: None,
    version: dict | None = None,
) -> tuple[list, str]:
    """All pages of one list, and the list's resourceVersion. The next page is requested before this one is decoded, so the
    server prepares it while we decode (the decoder holds the GIL; waiting on a socket does not)."""
    items: list = []
    cont: str | None = None
    resource_version = ""
    limit = PAGE_SIZE
    pending: Future | None = None
    prefetch: DaemonPool | None = None

    def fetch(token: str | None, page_limit: int) -> bytes:
        # The version goes with the first page only: a continue token carries its own.
        query = {"limit": page_limit or None, "continue": token, **({} if token else (version or {}))}
        return get_with_retries(kube, path, query, name)

    try:
        while True:
            try:
                body = pending.result() if pending is not None else fetch(cont, limit)
            except KubeApiError as e:
                if e.status == 410 and cont:
                    # The continue token expired (etcd compacted): as client-go's pager does,
                    # fall back to one unpaginated list rather than loop on fresh tokens.
                    items, cont, limit, pending, resource_version = [], None, 0, None, ""
                    if pages is not None:
                        pages.restart()
                    progress(name, 0)
                    continue
                raise
            pending = None
            try:
                head = _HEAD.decode(body).metadata
                cont = head.continue_
                resource_version = resource_version or head.resource_version
                if cont:
                    prefetch = prefetch or DaemonPool(1, "prefetch")
                    pending = prefetch.submit(fetch, cont, limit)
                page = decoder.decode(body)
            except msgspec.DecodeError as e:
                raise Failed(Incomplete(name, "BadResponse", f"could not decode the list: {e}")) from None
            compact(page.items)
            items.extend(page.items)
            if pages is not None:
                pages.page(body, page.items)
            del body, page
            progress(name, len(items))
            if not cont:
                return items, resource_version
    finally:
        if prefetch is not None:
            prefetch.shutdown()


def get_with_retries(kube: KubeClient, path: str, query: dict, name: str, accept: str = "application/json") -> bytes:
    """GET with exponential backoff on 429/5xx and stalled reads; the last failure is re-raised
    (a read that stalls every time as Failed)."""
    return _with_retries(lambda: kube.request("GET", path, query=query, accept=accept).data, name)


def _with_retries(fetch: Callable[[], bytes], name: str) -> bytes:
    """`fetch()` again, with exponential backoff, after 429/5xx and stalled reads; the last
    KubeApiError is re-raised, a read that stalled every time becomes Failed (Timeout)."""
    for attempt in range(RETRIES + 1):
        try:
            return fetch()
        except KubeApiError as e:
            if not e.retryable or attempt == RETRIES:
                raise
            delay = min(e.retry_after, 5.0) if e.retry_after else _backoff(attempt)
        except TransportTimeout as e:
            if attempt == RETRIES:
                raise Failed(Incomplete(name, "Timeout", f"{e} (after {RETRIES + 1} attempts)")) from None
            delay = _backoff(attempt)
        time.sleep(delay)
    raise AssertionError("unreachable")


def _backoff(attempt: int) -> float:
    return 0.2 * (2**attempt) * (0.5 + random.random())


def _incomplete(name: str, e: KubeApiError) -> Incomplete:
    if e.status == 403:
        reason = "Forbidden"
    elif e.status in (504,) or e.reason == "Timeout":
        reason = "Timeout"
    elif e.status >= 500 or e.status == 429:
        reason = "ServerError"
    else:
        reason = e.reason or f"HTTP{e.status}"
    if e.retryable:
        return Incomplete(name, reason, f"{e.status} {e.reason}: {e.message} (after {RETRIES + 1} attempts)")
    return Incomplete(name, reason, e.message)


def _path(group: str, version: str, plural: str, namespace: str | None) -> str:
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"


def kind_of(attr: str, plural: str) -> str:
    """The kind of the objects a list of `attr` holds (list items arrive without it)."""
    from checks.snapshot import KIND_TO_ATTR

    return next((k for k, a in KIND_TO_ATTR.items() if a == attr), "") or plural.rstrip("s").capitalize()


def relist(
    kube: KubeClient, attr: str, api_version: str, compactor: Compactor | None = None, not_older_than: str = ""
) -> tuple[list, str]:
    """`attr` listed again, all namespaces, at `api_version` (the one the first read was served):
    its objects and the list's resourceVersion, as the first read decoded them. For live mode,
    after a watch's resourceVersion expired: with `not_older_than` (the last version seen), the
    API server may answer from its watch cache instead of reading etcd. KubeApiError and Failed
    as for any list."""
    group, _, plural = RESOURCES[attr]
    version = api_version.rpartition("/")[2]
    decoder = msgspec.json.Decoder(_LIST_TYPES.get(attr, ObjectList))
    items, resource_version = _paginate(
        kube,
        _path(group, version, plural, None),
        decoder,
        resource_name(group, plural),
        lambda name, count: None,
        compact=compact_for(compactor, attr),
        version=({"resourceVersion": not_older_than, "resourceVersionMatch": "NotOlderThan"} if not_older_than else {}),
    )
    if decoder.type is ObjectList:
        _fill_kind(items, kind_of(attr, plural), api_version)
    return items, resource_version


def watch_path(attr: str, api_version: str) -> str:
    """Where `attr` is watched, all namespaces, at `api_version`."""
    group, _, plural = RESOURCES[attr]
    return _path(group, api_version.rpartition("/")[2], plural, None)


def _fill_kind(items: list, kind: str, api_version: str) -> None:
    """List items arrive without kind/apiVersion; checks and reports want them."""
    for obj in items:
        if not obj.kind:
            obj.kind = kind
        if not obj.api_version:
            obj.api_version = api_version


# -- log tails of failing GPU Operator pods ----------------------------------------


def failing_containers(pod) -> list[tuple[str, bool]]:
    """(container, has a previous instance) for each container of `pod` that is failing."""
    out: list[tuple[str, bool]] = []
    failed_pod = pod.status.phase == "Failed"
    for cs in list(pod.status.init_container_statuses) + list(pod.status.container_statuses):
        waiting = cs.state.get("waiting") or {}
        terminated = cs.state.get("terminated") or {}
        bad = (
            (waiting and waiting.get("reason") not in _STARTING)
            or (terminated and terminated.get("exitCode", 0) != 0)
            or (cs.restart_count > 0 and not cs.ready)
            or (failed_pod and not cs.ready)
        )
        if bad:
            out.append((cs.name, cs.restart_count > 0 or bool(cs.last_state.get("terminated"))))
    return out


def log_tail_containers(pod) -> list[tuple[str, bool]]:
    """failing_containers of a GPU Operator pod; [] for every other pod. The first MAX_LOG_PODS
    pods (in list order) for which this is not empty get their log tails read."""
    if pod.metadata.labels.get("app") not in OPERAND_APPS:
        return []
    return failing_containers(pod)


def wanted_log_tails(snap: ClusterSnapshot) -> list[tuple[str, str, str, bool]]:
    """(namespace, pod, container, previous) of the log tails worth reading: those of the first
    MAX_LOG_PODS failing GPU Operator pods, the previous instance's too where there was one."""
    wanted: list[tuple[str, str, str, bool]] = []
    pods_with_logs = 0
    for pod in [p for p in operator_pods(snap) if p.metadata.labels.get("app") in OPERAND_APPS]:
        containers = log_tail_containers(pod)
        if not containers:
            continue
        for container, has_previous in containers:
            wanted.append((pod.metadata.namespace or "", pod.metadata.name, container, False))
            if has_previous:
                wanted.append((pod.metadata.namespace or "", pod.metadata.name, container, True))
        pods_with_logs += 1
        if pods_with_logs >= MAX_LOG_PODS:
            break
    return wanted


def read_log_tails(
    kube: KubeClient, snap: ClusterSnapshot, wanted: list[tuple[str, str, str, bool]]
) -> dict[tuple[str, str, str, bool], tuple[str, str]]:
    """Read the `wanted` log tails into `snap.logs`; returns those that could not be read, with
    (reason, message). A tail that does not exist (400, 404) is neither read nor lost."""
    pool = DaemonPool(WORKERS, "logs")
    try:
        return _read_log_tails(kube, pool, snap, _Watch(None, None), wanted)
    finally:
        pool.shutdown()


def lost_log_tails(lost: dict[tuple[str, str, str, bool], tuple[str, str]]) -> list[Incomplete]:
    """What `read_log_tails` could not read, as could-not-see entries: one per reason."""
    by_reason: dict[str, list[tuple[str, str]]] = {}  # reason -> (which tail, why)
    for key, (reason, message) in lost.items():
        which = f"{key[0]}/{key[1]} {key[2]}" + (" (previous)" if key[3] else "")
        by_reason.setdefault(reason, []).append((which, message))
    out = []
    for reason, tails in sorted(by_reason.items()):
        shown = ", ".join(w for w, _ in tails[:5]) + (f" and {len(tails) - 5} more" if len(tails) > 5 else "")
        n = len(tails)
        out.append(
            Incomplete(
                "pods/log",
                reason,
                f"{n} log tail{'s' if n != 1 else ''} of failing GPU Operator pods could not be read "
                f"({shown}): {tails[0][1]}",
            )
        )
    return out


def _fetch_operand_logs(kube: KubeClient, pool: DaemonPool, snap: ClusterSnapshot, watch: _Watch) -> None:
    """The log tails of failing GPU Operator pods: root-cause evidence, so a tail that could not
    be read (403, 5xx or a timeout after retries) is listed under could-not-see, with its reason.
    A 400 or 404 (no previous instance, the pod just went away) is nothing to show, not a loss."""
    snap.incomplete.extend(lost_log_tails(_read_log_tails(kube, pool, snap, watch, wanted_log_tails(snap))))


def _read_log_tails(
    kube: KubeClient, pool: DaemonPool, snap: ClusterSnapshot, watch: _Watch, wanted: list[tuple[str, str, str, bool]]
) -> dict[tuple[str, str, str, bool], tuple[str, str]]:
    futures = {pool.submit(_log_tail, kube, *key): key for key in wanted}
    names = {f: "pods/log" for f in futures}
    pending = set(futures)
    while pending:
        _, pending = watch.poll(pending, names)
    lost: dict[tuple[str, str, str, bool], tuple[str, str]] = {}
    for f, key in futures.items():
        try:
            text = f.result()
        except KubeApiError as e:
            if e.status in (400, 404):
                continue
            incomplete = _incomplete("pods/log", e)
            lost[key] = (incomplete.reason, incomplete.message)
            continue
        except Failed as e:
            lost[key] = (e.incomplete.reason, e.incomplete.message)
            continue
        if text:
            snap.logs[key] = text
    return lost


def _log_tail(kube: KubeClient, namespace: str, pod: str, container: str, previous: bool) -> str:
    query = {"container": container, "tailLines": LOG_TAIL_LINES, "previous": previous or None}
    path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
    data = get_with_retries(kube, path, query, "pods/log", accept="*/*")
    return data.decode("utf-8", "replace")
