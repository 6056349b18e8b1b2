"""The simulator's moving parts: a scheduler and a kubelet for the pods nobody scripted.

A pod loaded with a `status.phase` is a fixture and keeps exactly the state the
scenario gives it. A pod loaded without status, or created through the API (whose
status is then only the server's `phase: Pending` default), is scheduled and run here:

* scheduling follows kube-scheduler's filters (NodeUnschedulable, TaintToleration,
  NodeAffinity, NodeResourcesFit) and, when no node fits, writes PodScheduled=False /
  Unschedulable and a `FailedScheduling` event in the scheduler's own wording;
  pending pods are tried again whenever nodes change or pods go away;
* a bound pod starts (kubelet events, container statuses, IPs) and keeps running,
  except containers that run `nvidia-smi` (their output comes from `nvsmi` for that
  node and they finish Succeeded or Failed) and, for restartPolicy Never/OnFailure,
  `sleep N`, which finishes after N seconds;
* a pod pinned with spec.nodeName skips the scheduler; the kubelet rejects it when the
  node lacks the resources (Failed, OutOf<resource> / UnexpectedAdmissionError);
* activeDeadlineSeconds fails the pod with reason DeadlineExceeded;
* a pod being deleted (deletionTimestamp, no finalizers left) is removed after a short
  grace period.

The scheduler's filters and the kubelet's admission check are pure functions in
gputui.sim.scheduler. Times are the injected clock's seconds; the pauses between stages
are a fraction of a second so tests and demos move quickly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gputui.sim import nvsmi
from gputui.sim.scheduler import admission_failure, choose_node, is_terminal, node_name_of, node_usage, requests_of

SCHEDULER = "default-scheduler"
KUBELET = "kubelet"
GPU = "nvidia.com/gpu"

START_DELAY = 0.1  # bound -> containers started
RUN_SECONDS = 0.2  # how long an nvidia-smi container runs
DELETE_GRACE = 0.2  # longest wait before a terminating pod is removed

EXIT_ANNOTATION = "sim.gputui.dev/exit."  # + container name: the exit code it fails with

DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"

_SLEEP = re.compile(r"^\s*(?:exec\s+)?sleep\s+(\d+(?:\.\d+)?)s?\s*$")


def rfc3339(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# -- the running simulation ---------------------------------------------------------


@dataclass
class _Container:
    name: str
    image: str
    finish_at: float | None = None  # None: runs until the pod goes away
    log: str = ""
    exit_code: int = 0
    start_error: str | None = None
    container_id: str = ""
    finished: bool = False


@dataclass
class _Run:
    """What the simulated kubelet remembers about one pod."""

    uid: str
    namespace: str
    name: str
    bound_at: float | None = None
    started_at: float | None = None  # status.startTime
    running_at: float | None = None
    containers: list[_Container] = field(default_factory=list)
    init_containers: list[_Container] = field(default_factory=list)
    done: bool = False
    deleting_since: float | None = None
    unschedulable_message: str | None = None
    constraints: tuple | None = None  # what the pod asked for when it last failed to schedule


def constraints_of(pod: Mapping[str, Any]) -> tuple:
    spec = pod.get("spec") or {}
    return tuple(repr(spec.get(k)) for k in ("tolerations", "nodeSelector", "affinity"))


def _api_created_default(status: Mapping[str, Any] | None) -> bool:
    """True when the status is nothing but what the API server fills in on create."""
    if not status:
        return True
    return status.get("phase") in (None, "Pending") and set(status) <= {"phase", "qosClass"}


class TickLoop:
    """A background thread that calls `step()` every `tick_seconds` (sooner when `_wake` is set)
    until stopped; an error in a step is kept in `last_error` and the loop goes on. Subclasses
    set store, tick_seconds, last_error, _wake, _stop, _thread and _on_change."""

    thread_name = "sim-loop"
    store: Any
    tick_seconds: float
    last_error: BaseException | None
    _wake: threading.Event
    _stop: threading.Event
    _thread: threading.Thread | None

    def step(self) -> None:
        raise NotImplementedError

    def _on_change(self, event_type: str, rt: Any, obj: dict) -> None:
        raise NotImplementedError

    def _before_start(self) -> None:
        """Work to do once, in the caller's thread, before the loop starts."""

    def start(self):
        if self._thread is None:
            self._before_start()
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.store.unsubscribe(self._on_change)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.tick_seconds)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.step()
            except Exception as e:  # keep simulating; the error is kept for tests and debugging
                self.last_error = e


class Simulation(TickLoop):
    """Schedules and runs unscripted pods in `store`. `step()` does one pass; `start()`
    runs passes in a daemon thread every `tick_seconds` and after every change."""

    def __init__(self, store, *, tick_seconds: float = 0.2, clock: Callable[[], float] = time.time):
        self.store = store
        self.tick_seconds = tick_seconds
        self.clock = clock
        self.last_error: BaseException | None = None
        self._pods = store.type_for("v1", "Pod")
        self._nodes = store.type_for("v1", "Node")
        self._events = store.type_for("v1", "Event")
        self._runs: dict[str, _Run] = {}
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_pending = True
        self._event_names: dict[tuple, str] = {}
        self._event_seq = 0
        self._requests: dict[str, tuple[str, Mapping[str, Decimal]]] = {}  # uid -> (resourceVersion, requests)
        store.subscribe(self._on_change)
        self.adopt_unscripted()

    def adopt_unscripted(self) -> None:
        """Take over the stored pods that have no status.phase (loaded without a status)."""
        with self._lock:
            for e in self.store.select(self._pods).entries:
                if not (e.obj.get("status") or {}).get("phase"):
                    self._adopt(e.obj)

    # -- lifecycle --------------------------------------------------------------------

    thread_name = "sim-behaviour"

    def _before_start(self) -> None:
        self.adopt_unscripted()

    def _on_change(self, event_type: str, rt, obj: dict) -> None:
        kind = rt.kind if not rt.group else ""
        if kind == "Node":
            self._retry_pending = True
        elif kind == "Pod":
            meta = obj.get("metadata") or {}
            uid = meta.get("uid", "")
            if event_type == "ADDED" and _api_created_default(obj.get("status")):
                with self._lock:
                    self._adopt(obj)
            elif event_type == "DELETED":
                with self._lock:
                    self._runs.pop(uid, None)
                    self._requests.pop(uid, None)
                self._retry_pending = True
            elif is_terminal(obj):
                self._retry_pending = True
            elif event_type == "MODIFIED" and not (obj.get("spec") or {}).get("nodeName"):
                # kube-scheduler requeues an unschedulable pod whose constraints changed
                # (a toleration added in place): it may fit now.
                run = self._runs.get(uid)
                if run is not None and run.unschedulable_message and run.constraints != constraints_of(obj):
                    self._retry_pending = True
        else:
            return
        self._wake.set()

    def _adopt(self, pod: Mapping[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        uid = meta.get("uid", "")
        if uid and uid not in self._runs:
            self._runs[uid] = _Run(uid=uid, namespace=meta.get("namespace") or "default", name=meta.get("name", ""))

    def adopt(self, pod: Mapping[str, Any]) -> None:
        """Schedule and run this pod from now on (a controller changed what it waits for)."""
        with self._lock:
            self._adopt(pod)
            self._retry_pending = True
        self._wake.set()

    def managed(self, namespace: str, name: str) -> bool:
        """Whether the simulation drives this pod (false for scripted pods)."""
        return any(r.namespace == namespace and r.name == name for r in list(self._runs.values()))

    # -- one pass ---------------------------------------------------------------------

    def step(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        with self._lock:
            retry, self._retry_pending = self._retry_pending, False
            nodes = {node_name_of(e.obj): e.obj for e in self.store.select(self._nodes).entries}
            usage: dict[str, dict[str, Decimal]] | None = None
            for run in list(self._runs.values()):
                pod = self._read(run)
                if pod is None:
                    self._runs.pop(run.uid, None)
                    continue
                if (pod.get("metadata") or {}).get("deletionTimestamp"):
                    self._terminate(run, pod, now)
                    continue
                if run.done:
                    continue
                spec = pod.get("spec") or {}
                if run.bound_at is None:
                    if usage is None:
                        usage = node_usage((e.obj for e in self.store.select(self._pods).entries), self._requests_of)
                    if spec.get("nodeName"):
                        self._admit(run, pod, nodes, usage, now)
                    elif retry or run.unschedulable_message is None:
                        self._schedule(run, pod, list(nodes.values()), usage, now)
                    continue
                if self._deadline_passed(run, pod, now):
                    self._fail_deadline(run, pod, now)
                    continue
                if run.running_at is None:
                    if now >= run.bound_at + START_DELAY:
                        self._start(run, pod, nodes.get(spec.get("nodeName", "")), now)
                    continue
                self._finish_due(run, pod, now)

    def _requests_of(self, pod: Mapping[str, Any]) -> Mapping[str, Decimal]:
        """Pod requests, remembered per resource version: large clusters are re-read on every retry."""
        meta = pod.get("metadata") or {}
        uid, rv = meta.get("uid", ""), meta.get("resourceVersion", "")
        cached = self._requests.get(uid)
        if cached and cached[0] == rv:
            return cached[1]
        value = requests_of(pod)
        self._requests[uid] = (rv, value)
        return value

    def _read(self, run: _Run) -> dict | None:
        try:
            pod = self.store.entry(self._pods, run.namespace, run.name).obj
        except Exception:
            return None
        return pod if (pod.get("metadata") or {}).get("uid") == run.uid else None

    # -- scheduler ----------------------------------------------------------------------

    def _schedule(self, run: _Run, pod: dict, nodes: list[dict], usage: dict, now: float) -> None:
        chosen, message = choose_node(pod, nodes, usage)
        if chosen is None:
            repeat = run.unschedulable_message == message
            run.unschedulable_message = message
            run.constraints = constraints_of(pod)
            if not repeat:
                self._patch_status(
                    run,
                    {
                        "phase": "Pending",
                        "conditions": [_cond("PodScheduled", "False", now, "Unschedulable", message)],
                    },
                )
            self._event(run, pod, "Warning", "FailedScheduling", message, SCHEDULER, now)
            return
        self.store.patch(self._pods, run.namespace, run.name, "merge", {"spec": {"nodeName": chosen}})
        _take(usage.setdefault(chosen, {"pods": Decimal(0)}), self._requests_of(pod), sign=1)
        run.bound_at = now
        run.unschedulable_message = None
        self._patch_status(run, {"phase": "Pending", "conditions": [_cond("PodScheduled", "True", now)]})
        self._event(
            run,
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {run.namespace}/{run.name} to {chosen}",
            SCHEDULER,
            now,
        )

    def _admit(self, run: _Run, pod: dict, nodes: dict, usage: dict, now: float) -> None:
        """A pod created with spec.nodeName goes straight to the kubelet."""
        node_name = pod["spec"]["nodeName"]
        node = nodes.get(node_name)
        if node is None:
            return  # no kubelet will ever pick it up: it stays Pending, as in a real cluster
        # The kubelet admits pods one at a time: pods on this node that it has not admitted
        # yet (this one included) do not count against it.
        used = dict(usage.get(node_name, {}))
        for other in list(self._runs.values()):
            waiting = self._read(other) if other.bound_at is None else None
            if waiting is not None and (waiting.get("spec") or {}).get("nodeName") == node_name:
                _take(used, self._requests_of(waiting), sign=-1)
        requests = self._requests_of(pod)
        failure = admission_failure(requests, node, used)
        run.bound_at = now
        if failure:
            reason, message = failure
            run.done = True
            _take(usage.setdefault(node_name, {"pods": Decimal(0)}), requests, sign=-1)
            self._patch_status(
                run, {"phase": "Failed", "reason": reason, "message": message, "startTime": rfc3339(now)}
            )
            self._event(run, pod, "Warning", reason, message, KUBELET, now, host=node_name)

    # -- kubelet ------------------------------------------------------------------------

    def _start(self, run: _Run, pod: dict, node: dict | None, now: float) -> None:
        spec = pod.get("spec") or {}
        node_name = spec.get("nodeName", "")
        run.started_at = run.started_at or now
        run.running_at = now
        busy = self._busy_gpus(node_name, exclude=run.uid)
        restart = spec.get("restartPolicy") or "Always"
        for c in spec.get("initContainers") or []:
            run.init_containers.append(self._launch(run, pod, c, node, now, busy, restart, init=True))
        for c in spec.get("containers") or []:
            run.containers.append(self._launch(run, pod, c, node, now, busy, restart, init=False))
        self._write_running(run, pod, now)

    def _launch(
        self, run: _Run, pod: dict, c: dict, node: dict | None, now: float, busy: int, restart: str, *, init: bool
    ) -> _Container:
        name, image = c.get("name", ""), c.get("image", "")
        fc = _Container(name=name, image=image, container_id="containerd://" + _hex(run.uid, name))
        field_path = f"spec.{'initContainers' if init else 'containers'}{{{name}}}"
        if (c.get("imagePullPolicy") or "IfNotPresent") == "Always":
            self._event(run, pod, "Normal", "Pulling", f'Pulling image "{image}"', KUBELET, now, field_path)
            self._event(
                run,
                pod,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{image}" in 812ms (812ms including waiting). '
                f"Image size: {_image_size(image)} bytes.",
                KUBELET,
                now,
                field_path,
            )
        else:
            self._event(
                run,
                pod,
                "Normal",
                "Pulled",
                f'Container image "{image}" already present on machine',
                KUBELET,
                now,
                field_path,
            )
        argv = nvsmi.container_argv(c)
        exit_code = ((pod.get("metadata") or {}).get("annotations") or {}).get(EXIT_ANNOTATION + name)
        if exit_code is not None and not init:
            # A container this simulator was told fails (an operand re-created on a node whose
            # problem remains): it exits after a moment and, restarted, crash-loops.
            fc.exit_code, fc.finish_at = int(exit_code), now + RUN_SECONDS
            fc.log = self.store.get_log(run.namespace, run.name, name) or ""
        elif nvsmi.mentions_nvidia_smi(argv) and node is not None:
            result = nvsmi.run_container(node, argv, now=now, busy_gpus=busy)
            fc.log, fc.exit_code, fc.start_error = result.log, result.exit_code, result.start_error
            fc.finish_at = now + RUN_SECONDS
        elif init:
            fc.finish_at, fc.finished = now, True  # init containers without a known workload complete at once
        elif restart != "Always":
            seconds = _sleep_seconds(argv)
            if seconds is not None:
                fc.finish_at = now + seconds
        if fc.start_error:
            self._event(run, pod, "Warning", "Failed", f"Error: {fc.start_error}", KUBELET, now, field_path)
            return fc
        self._event(run, pod, "Normal", "Created", f"Created container: {name}", KUBELET, now, field_path)
        self._event(run, pod, "Normal", "Started", f"Started container {name}", KUBELET, now, field_path)
        return fc

    def _busy_gpus(self, node_name: str, *, exclude: str) -> int:
        total = Decimal(0)
        for e in self.store.select(self._pods).entries:
            p = e.obj
            if (p.get("spec") or {}).get("nodeName") != node_name or is_terminal(p):
                continue
            if (p.get("metadata") or {}).get("uid") == exclude:
                continue
            if (p.get("status") or {}).get("phase") != "Running":
                continue
            total += self._requests_of(p).get(GPU, Decimal(0))
        return int(total)

    def _finish_due(self, run: _Run, pod: dict, now: float) -> None:
        due = [
            c
            for c in run.init_containers + run.containers
            if c.finish_at is not None and c.finish_at <= now and not c.finished
        ]
        if not due:
            return
        for c in due:
            c.finished = True
            if c.log:
                self.store.set_log(run.namespace, run.name, c.name, c.log)
        self._write_running(run, pod, now)

    def _write_running(self, run: _Run, pod: dict, now: float) -> None:
        """Write the pod status that the containers' current states imply."""
        spec = pod.get("spec") or {}
        restart = spec.get("restartPolicy") or "Always"
        node_name = spec.get("nodeName", "")
        statuses = []
        backoff = []
        for c in run.containers:
            finished = c.finished
            statuses.append(self._container_status(c, run, finished, restart))
            if finished and (restart == "Always" or (restart == "OnFailure" and c.exit_code != 0)):
                backoff.append(c)
        init_statuses = [self._container_status(c, run, c.finished, "Never", init=True) for c in run.init_containers]
        finished_all = all(c.finished for c in run.containers) and run.containers
        failed_start = any(c.start_error for c in run.containers)
        phase = "Running"
        if (finished_all or failed_start) and not backoff:
            ok = all(c.exit_code == 0 and not c.start_error for c in run.containers)
            phase = "Succeeded" if ok else "Failed"
            run.done = True
        ready = phase == "Running" and not backoff and all(s.get("ready") for s in statuses)
        not_ready = [s["name"] for s in statuses if not s.get("ready")]
        start = rfc3339(run.started_at or now)
        terminal_reason = {"Succeeded": "PodCompleted", "Failed": "PodFailed"}.get(phase)
        msg = None if ready or terminal_reason else f"containers with unready status: [{' '.join(not_ready)}]"
        reason = terminal_reason or (None if ready else "ContainersNotReady")
        status: dict[str, Any] = {
            "phase": phase,
            "conditions": [
                _cond("PodReadyToStartContainers", "False" if phase != "Running" else "True", now),
                _cond("Initialized", "True", now),
                _cond("Ready", "True" if ready else "False", now, reason, msg),
                _cond("ContainersReady", "True" if ready else "False", now, reason, msg),
                _cond("PodScheduled", "True", run.bound_at or now),
            ],
            "hostIP": _host_ip(self._node(node_name), node_name),
            "podIP": _pod_ip(run.uid) if not spec.get("hostNetwork") else _host_ip(self._node(node_name), node_name),
            "startTime": start,
            "containerStatuses": statuses,
        }
        status["hostIPs"] = [{"ip": status["hostIP"]}]
        status["podIPs"] = [{"ip": status["podIP"]}]
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        self._patch_status(run, status)
        for c in backoff:
            self.store.set_log(run.namespace, run.name, c.name, c.log, previous=True)
            self._event(
                run,
                pod,
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {c.name} in pod {run.name}_{run.namespace}({run.uid})",
                KUBELET,
                now,
                f"spec.containers{{{c.name}}}",
            )

    def _container_status(self, c: _Container, run: _Run, finished: bool, restart: str, init: bool = False) -> dict:
        started = rfc3339(run.running_at or 0)
        base = {
            "name": c.name,
            "image": c.image,
            "imageID": _image_id(c.image),
            "containerID": c.container_id,
            "restartCount": 0,
        }
        if c.start_error:
            base.pop("containerID")
            return {
                **base,
                "ready": False,
                "started": False,
                "state": {
                    "terminated": {
                        "exitCode": 128,
                        "reason": "StartError",
                        "message": c.start_error,
                        "startedAt": "1970-01-01T00:00:00Z",
                        "finishedAt": rfc3339(run.running_at or 0),
                    }
                },
            }
        if not finished:
            return {**base, "ready": not init, "started": True, "state": {"running": {"startedAt": started}}}
        terminated = {
            "exitCode": c.exit_code,
            "reason": "Completed" if c.exit_code == 0 else "Error",
            "startedAt": started,
            "finishedAt": rfc3339(c.finish_at or 0),
            "containerID": c.container_id,
        }
        if not init and (restart == "Always" or (restart == "OnFailure" and c.exit_code != 0)):
            return {
                **base,
                "ready": False,
                "started": False,
                "restartCount": 1,
                "lastState": {"terminated": terminated},
                "state": {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 10s restarting failed container={c.name} "
                        f"pod={run.name}_{run.namespace}({run.uid})",
                    }
                },
            }
        return {**base, "ready": False, "started": False, "state": {"terminated": terminated}}

    def _deadline_passed(self, run: _Run, pod: dict, now: float) -> bool:
        ads = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        start = run.started_at if run.started_at is not None else run.bound_at
        return isinstance(ads, (int, float)) and start is not None and now >= start + ads

    def _fail_deadline(self, run: _Run, pod: dict, now: float) -> None:
        run.done = True
        statuses = []
        for c in run.containers:
            s = self._container_status(c, run, c.finished, "Never")
            if "running" in s["state"]:
                s["state"] = {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "Error",
                        "startedAt": s["state"]["running"]["startedAt"],
                        "finishedAt": rfc3339(now),
                        "containerID": c.container_id,
                    }
                }
                s["ready"], s["started"] = False, False
            statuses.append(s)
        node_name = (pod.get("spec") or {}).get("nodeName", "")
        status: dict[str, Any] = {
            "phase": "Failed",
            "reason": "DeadlineExceeded",
            "message": DEADLINE_MESSAGE,
            "startTime": rfc3339(run.started_at or run.bound_at or now),
            "hostIP": _host_ip(self._node(node_name), node_name),
            "conditions": [
                _cond("PodReadyToStartContainers", "False", now),
                _cond("Initialized", "True", now),
                _cond("Ready", "False", now, "PodFailed"),
                _cond("ContainersReady", "False", now, "PodFailed"),
                _cond("PodScheduled", "True", run.bound_at or now),
            ],
        }
        if statuses:
            status["containerStatuses"] = statuses
        self._patch_status(run, status)
        self._event(run, pod, "Normal", "DeadlineExceeded", DEADLINE_MESSAGE, KUBELET, now, host=node_name)

    def _terminate(self, run: _Run, pod: dict, now: float) -> None:
        meta = pod.get("metadata") or {}
        if meta.get("finalizers"):
            return
        if run.deleting_since is None:
            run.deleting_since = now
            if run.running_at is not None and not run.done:
                for c in run.containers:
                    self._event(
                        run,
                        pod,
                        "Normal",
                        "Killing",
                        f"Stopping container {c.name}",
                        KUBELET,
                        now,
                        f"spec.containers{{{c.name}}}",
                    )
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        wait = 0.0 if grace == 0 else min(DELETE_GRACE, float(grace if isinstance(grace, (int, float)) else 30))
        if now >= run.deleting_since + wait:
            try:
                self.store.delete(self._pods, run.namespace, run.name)
            except Exception:
                pass
            self._runs.pop(run.uid, None)

    # -- writes ---------------------------------------------------------------------------

    def _node(self, name: str) -> dict | None:
        try:
            return self.store.entry(self._nodes, None, name).obj
        except Exception:
            return None

    def _patch_status(self, run: _Run, status: dict) -> None:
        current = self._read(run)
        if current is None:
            return
        merged = dict(current.get("status") or {})
        merged.update(status)
        for key in [k for k, v in merged.items() if v is None]:
            merged.pop(key)
        if merged == current.get("status"):
            return
        self.store.patch(self._pods, run.namespace, run.name, "merge", {"status": status}, subresource="status")

    def _event(
        self,
        run: _Run,
        pod: dict,
        type_: str,
        reason: str,
        message: str,
        component: str,
        now: float,
        field_path: str | None = None,
        host: str | None = None,
    ) -> None:
        """Record an event, or count a repeat of the same one, as the event recorder does."""
        if component == KUBELET and host is None:
            host = (pod.get("spec") or {}).get("nodeName")
        key = (run.namespace, run.uid, reason, message, field_path, component)
        stamp = rfc3339(now)
        existing = self._event_names.get(key)
        if existing:
            try:
                ev = self.store.entry(self._events, run.namespace, existing).obj
                self.store.patch(
                    self._events,
                    run.namespace,
                    existing,
                    "merge",
                    {"count": int(ev.get("count") or 1) + 1, "lastTimestamp": stamp},
                )
                return
            except Exception:
                pass  # the event expired or was deleted: record it afresh
        self._event_seq += 1
        name = f"{run.name}.{int(now * 1e9) + self._event_seq:x}"[:253]
        involved = {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": run.name,
            "namespace": run.namespace,
            "uid": run.uid,
            "resourceVersion": (pod.get("metadata") or {}).get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        source: dict[str, str] = {"component": component}
        if host:
            source["host"] = host
        self.store.create(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": run.namespace},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "type": type_,
                "source": source,
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
                "count": 1,
                "reportingComponent": component,
                "reportingInstance": host if component == KUBELET and host else component,
            }
        )
        self._event_names[key] = name


# -- small helpers --------------------------------------------------------------------


def _take(used: dict[str, Decimal], requests: Mapping[str, Decimal], *, sign: int) -> None:
    """Add (sign=1) or remove (sign=-1) one pod's requests in a node's usage."""
    used["pods"] = used.get("pods", Decimal(0)) + sign
    for k, v in requests.items():
        used[k] = used.get(k, Decimal(0)) + sign * v


def _cond(type_: str, status: str, now: float, reason: str | None = None, message: str | None = None) -> dict:
    c: dict[str, Any] = {"type": type_, "status": status, "lastProbeTime": None, "lastTransitionTime": rfc3339(now)}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def _hex(*parts: str, n: int = 64) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _image_id(image: str) -> str:
    repo = image.rsplit("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo[: len(repo) - len(last)] + last.split(":", 1)[0]
    if "/" not in repo:
        repo = "docker.io/library/" + repo
    elif "." not in repo.split("/", 1)[0] and ":" not in repo.split("/", 1)[0]:
        repo = "docker.io/" + repo
    return f"{repo}@sha256:{_hex(image)}"


def _image_size(image: str) -> int:
    return 2_000_000 + int(_hex(image, n=8), 16) % 400_000_000


def _sleep_seconds(argv: list[str]) -> float | None:
    if len(argv) >= 2 and argv[0].rsplit("/", 1)[-1] == "sleep":
        text = " ".join(argv)
    elif len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in ("sh", "bash") and argv[1] == "-c":
        text = argv[2]
    else:
        return None
    m = _SLEEP.match(text)
    return float(m.group(1)) if m else None


def _host_ip(node: Mapping[str, Any] | None, name: str) -> str:
    for a in ((node or {}).get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP" and a.get("address"):
            return a["address"]
    n = int(_hex(name, n=4), 16)
    return f"10.0.{n >> 8 & 0xFF}.{n & 0xFF or 1}"


def _pod_ip(uid: str) -> str:
    n = int(_hex(uid, n=6), 16)
    return str(ipaddress.IPv4Address(0x0A000000 | (64 << 16) | (n & 0xFFFF) | 1))
