"""Run debug pods: create, wait, read the log, delete — a bounded number at a time.

Every pod this runner creates is remembered until its DELETE succeeds (DELETEs are
retried, see cleanup.delete_pod); `cleanup()` deletes what is left (and, by the run-id
label, anything a create whose answer never came may have made after all). Workers are
daemon threads: after `cancel()` `run()` returns at once, abandoning requests in flight,
and the workers stop at their next step. Nothing here touches signals: the CLI turns
Ctrl-C (and SIGTERM, SIGHUP, SIGQUIT) into `cancel()` + `cleanup()`, the app does the same
when its screen closes.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from gputui.debugpod import spec as podspec
from gputui.debugpod.cleanup import delete_pod, delete_pods
from gputui.debugpod.model import SmiReport
from gputui.debugpod.parsers import parse_debug_log
from gputui.kube.errors import KubeApiError, TransportTimeout
from gputui.kube.gather import Failed, get_with_retries

Progress = Callable[[str, str], None]  # (node, status text)

IMAGE_PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
CONTAINER_ERROR_REASONS = (
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "StartError",
    "ContainerCannotRun",
)
PRIVILEGED_LABEL = "pod-security.kubernetes.io/enforce=privileged"


@dataclass
class PodProblem:
    """Why the debug pod gave no nvidia-smi output; `kind` is stable, the rest is for people."""

    kind: str  # forbidden-podsecurity | forbidden | namespace-missing | runtimeclass-missing | image-pull |
    #            container-error | admission | unschedulable | deadline | not-started | node-missing | api-error |
    #            cancelled
    message: str
    hint: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message, "hint": self.hint}


@dataclass
class NodeRun:
    """One node's debug pod and what came of it."""

    node: str
    pod: dict
    mode: str
    mode_reason: str
    driver_pod: str | None = None  # "ns/name" of the GPU Operator driver pod on the node, "" for none
    status: str = "waiting"  # waiting | creating | pending | running | reading | done | failed | cancelled
    phase: str | None = None
    log: str = ""
    report: SmiReport | None = None
    pod_problem: PodProblem | None = None
    started: float | None = None
    finished: float | None = None
    deleted: bool = False
    events: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.pod["metadata"]["name"]

    @property
    def namespace(self) -> str:
        return self.pod["metadata"]["namespace"]


# How long cleanup() waits for creates still in flight to answer before it deletes what exists.
CREATE_GRACE_SECONDS = 3.0
CREATE_TRIES = 3


def read(kube: Any, path: str, query: dict | None = None, *, accept: str = "application/json") -> bytes:
    """GET with diagnose's retries (429/5xx, stalled reads); a read that never completes raises
    TransportTimeout, an error answer KubeApiError."""
    try:
        return get_with_retries(kube, path, dict(query or {}), path, accept=accept)
    except Failed as e:
        raise TransportTimeout(e.incomplete.message) from None


def read_json(kube: Any, path: str, query: dict | None = None) -> Any:
    data = read(kube, path, query)
    return json.loads(data) if data else None


def _pods_path(namespace: str, name: str = "") -> str:
    base = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods"
    return f"{base}/{quote(name, safe='')}" if name else base


def explain_create_error(e: KubeApiError, namespace: str) -> PodProblem:
    msg = e.message or str(e)
    if e.status == 403 and "PodSecurity" in msg:
        return PodProblem(
            "forbidden-podsecurity",
            msg,
            f"namespace {namespace} enforces a PodSecurity level that forbids privileged pods: "
            f"label it `kubectl label namespace {namespace} {PRIVILEGED_LABEL} --overwrite`, pick a "
            "namespace that allows them with --namespace, or use --mode runtime (not privileged)",
        )
    if e.status == 403 and "RuntimeClass" in msg:
        return PodProblem(
            "runtimeclass-missing",
            msg,
            "the cluster has no `nvidia` RuntimeClass (the GPU "
            "Operator creates it): use --mode host or --mode operator-driver",
        )
    if e.status == 403:
        return PodProblem(
            "forbidden",
            msg,
            f"your identity needs create/get/delete on pods and get on pods/log in namespace {namespace} "
            f"(RBAC); check with `kubectl auth can-i create pods -n {namespace}`",
        )
    if e.status == 404:
        return PodProblem(
            "namespace-missing", msg, f"namespace {namespace} does not exist: create it or pass --namespace"
        )
    return PodProblem("api-error", f"{e.status} {e.reason}: {msg}", "the API server refused the pod; see the message")


def _waiting(pod: dict) -> list[tuple[str, str, str]]:
    """(container, reason, message) of containers that wait or could not start."""
    out = []
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        state = cs.get("state") or {}
        w = state.get("waiting")
        if w and w.get("reason"):
            out.append((cs.get("name", ""), w.get("reason", ""), w.get("message") or ""))
        t = state.get("terminated")
        if t and t.get("reason") in CONTAINER_ERROR_REASONS:
            out.append((cs.get("name", ""), t.get("reason", ""), t.get("message") or ""))
    return out


def explain_pod(pod: dict, *, waited: float, image: str) -> PodProblem | None:
    """A problem that keeps (or kept) this pod from producing output, or None while it may still run."""
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    phase = status.get("phase")
    reason = status.get("reason") or ""
    message = status.get("message") or ""
    for _name, why, text in _waiting(pod):
        if why in IMAGE_PULL_REASONS and (why != "ErrImagePull" or waited > 5):
            return PodProblem(
                "image-pull",
                f"{why}: {text or image}",
                f"the node cannot pull {image}: pass --image with a mirror it can reach "
                "(e.g. in your ECR) and --image-pull-secret if the registry needs credentials",
            )
        if why in CONTAINER_ERROR_REASONS:
            return PodProblem(
                "container-error",
                f"{why}: {text}",
                "the container runtime could not start the command; with --mode runtime check the "
                "NVIDIA container toolkit, else try another --mode",
            )
    if phase == "Failed" and reason == "DeadlineExceeded":
        return PodProblem(
            "deadline",
            f"{reason}: {message}",
            "nvidia-smi hung or the pod could not start in time "
            "(a hung nvidia-smi is itself a sign of a GPU in a bad state); raise --timeout or check "
            "the node",
        )
    if phase == "Failed" and (reason == "UnexpectedAdmissionError" or reason.startswith("OutOf")):
        gpu = "nvidia.com/gpu" in message
        hint = (
            "every GPU on the node is allocated or the device plugin has not registered them: run without "
            "--request-gpu (the default pod needs no GPU)"
            if gpu
            else "the node has no room for another pod; free a slot or try again later"
        )
        return PodProblem("admission", f"{reason}: {message}", hint)
    if phase == "Pending" and not spec.get("nodeName"):
        for c in status.get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("status") == "False":
                return PodProblem(
                    "unschedulable",
                    c.get("message") or c.get("reason") or "Unschedulable",
                    "the scheduler cannot place the pod on the node; see the message",
                )
    return None


class DebugRunner:
    def __init__(
        self,
        kube: Any,
        *,
        concurrency: int = 8,
        timeout: float | None = None,
        progress: Progress | None = None,
        poll_seconds: float = 0.25,
    ):
        self.kube = kube
        self.concurrency = max(1, int(concurrency))
        self.timeout = timeout
        self.progress = progress
        self.poll_seconds = poll_seconds
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._created: dict[tuple[str, str], str] = {}  # (namespace, name) -> run id
        self._creating: set[tuple[str, str]] = set()
        self._settled = threading.Condition(self._lock)
        self._hurry = False
        self._deleted_after_cancel: list[str] = []
        self.runs: list[NodeRun] = []
        self.undeleted: dict[tuple[str, str], str] = {}  # pods whose DELETE failed -> the last error
        self.unanswered: list[tuple[str, str]] = []  # creates still without an answer after cleanup()

    # -- public ------------------------------------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def hurry(self) -> None:
        """cleanup() stops waiting for creates in flight (asked to stop a second time)."""
        with self._lock:
            self._hurry = True
            self._settled.notify_all()

    def created(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._created)

    def run(self, runs: Iterable[NodeRun]) -> list[NodeRun]:
        """Run every pod; returns when all are done or, after cancel(), at once (requests in flight
        are abandoned; their workers stop when those answer). The caller owns cleanup on
        interruption: KeyboardInterrupt propagates from here after the workers were told to stop."""
        self.runs = list(runs)
        for r in self.runs:
            self._report(r, "waiting")
        todo = deque(self.runs)
        workers = [
            threading.Thread(target=self._worker, args=(todo,), name=f"gputui-debug-{i}", daemon=True)
            for i in range(min(self.concurrency, len(self.runs)))
        ]
        try:
            for t in workers:
                t.start()
            while not self.cancelled and any(t.is_alive() for t in workers):
                for t in workers:
                    t.join(timeout=0.1)
                    if self.cancelled:
                        break
        except BaseException:
            self.cancel()
            raise
        for r in self.runs:
            if r.status == "waiting":
                r.pod_problem = PodProblem("cancelled", "interrupted before the pod was created", "")
                self._report(r, "cancelled")
        return self.runs

    def _worker(self, todo: deque[NodeRun]) -> None:
        while not self.cancelled:
            try:
                run = todo.popleft()
            except IndexError:
                return
            self._one(run)

    def in_flight(self) -> list[tuple[str, str]]:
        """Pods whose create was sent but not answered."""
        with self._lock:
            return sorted(self._creating)

    def cleanup(self, grace: float = CREATE_GRACE_SECONDS) -> list[str]:
        """Delete every pod this runner created and has not deleted yet, and any pod of its run a
        create without an answer made; returns the names of the pods deleted since cancel() (by
        the workers as they stopped, or here). Pods that could not be deleted are in
        `undeleted` afterwards, creates that never answered in `unanswered`."""
        deadline = time.monotonic() + grace
        with self._lock:
            while self._creating and not self._hurry and time.monotonic() < deadline:
                self._settled.wait(timeout=max(0.0, deadline - time.monotonic()))
            unanswered = set(self._creating)
        removed: list[str] = list(self._deleted_after_cancel)
        wanted = set(self.created()) | unanswered
        listed: set[tuple[str, str]] = set()
        # A create that was in flight when we were interrupted may have succeeded after all.
        run_ids = {r.pod["metadata"]["labels"][podspec.LABEL_RUN] for r in self.runs}
        for ns in sorted({r.namespace for r in self.runs}):
            for run_id in sorted(run_ids):
                try:
                    data = (
                        read_json(
                            self.kube,
                            _pods_path(ns),
                            {"labelSelector": f"{podspec.SELECTOR},{podspec.LABEL_RUN}={run_id}"},
                        )
                        or {}
                    )
                except Exception:  # noqa: BLE001 - what this runner knows it created is deleted below
                    continue
                for item in data.get("items") or []:
                    if not item["metadata"].get("deletionTimestamp"):
                        listed.add((ns, item["metadata"]["name"]))
        wanted |= listed
        for (ns, name), why in delete_pods(self.kube, sorted(wanted)).items():
            with self._lock:
                if why is not None:
                    self.undeleted[(ns, name)] = why
                    continue
                self.undeleted.pop((ns, name), None)
                known = self._created.pop((ns, name), None) is not None
            # A create that never answered and whose pod is not there made nothing to count.
            made = known or (ns, name) in listed or (ns, name) not in unanswered
            if made and f"{ns}/{name}" not in removed:
                removed.append(f"{ns}/{name}")
        with self._lock:
            self.unanswered = sorted(p for p in unanswered if p in self._creating)
        return removed

    # -- one node ------------------------------------------------------------------------------------

    def _report(self, run: NodeRun, status: str) -> None:
        run.status = status
        if self.progress is not None:
            try:
                self.progress(run.node, status)
            except Exception:  # noqa: BLE001 - a broken progress display must not stop the run
                pass

    def _one(self, run: NodeRun) -> NodeRun:
        if self.cancelled:
            run.pod_problem = PodProblem("cancelled", "interrupted before the pod was created", "")
            self._report(run, "cancelled")
            return run
        run.started = time.monotonic()
        try:
            self._create(run)
            if run.pod_problem is None:
                self._wait(run)
            if run.pod_problem is None or run.phase in ("Succeeded", "Failed"):
                self._read_log(run)
        except KubeApiError as e:
            run.pod_problem = PodProblem(
                "api-error", f"{e.status} {e.reason}: {e.message}", "the API server answered with an error; try again"
            )
        except Exception as e:  # noqa: BLE001 - one node's failure must not stop the others
            run.pod_problem = PodProblem("api-error", str(e) or type(e).__name__, "could not talk to the API server")
        finally:
            if (run.namespace, run.name) in self.created():
                run.deleted = self._delete(run.namespace, run.name)
            run.finished = time.monotonic()
        if self.cancelled and run.report is None and run.pod_problem is None:
            run.pod_problem = PodProblem("cancelled", "interrupted", "")
        if run.pod_problem is not None and run.pod_problem.kind == "cancelled":
            self._report(run, "cancelled")
        elif run.pod_problem is not None or run.report is None:
            self._report(run, "failed")
        else:
            self._report(run, "done")
        return run

    def _create(self, run: NodeRun) -> None:
        """POST the pod; 429/5xx are retried (the name is fixed, so a retry answered 409 means an
        earlier try made it)."""
        self._report(run, "creating")
        key = (run.namespace, run.name)
        with self._lock:
            self._creating.add(key)
        try:
            for attempt in range(CREATE_TRIES):
                try:
                    self.kube.request("POST", _pods_path(run.namespace), body=run.pod)
                    break
                except KubeApiError as e:
                    if e.status == 409 and attempt:
                        break
                    if not e.retryable or attempt == CREATE_TRIES - 1 or self.cancelled:
                        run.pod_problem = explain_create_error(e, run.namespace)
                        return
                self._cancel.wait(0.5 * 2**attempt)
            with self._lock:
                self._created[key] = run.pod["metadata"]["labels"][podspec.LABEL_RUN]
        finally:
            with self._lock:
                self._creating.discard(key)
                self._settled.notify_all()
        if self.cancelled:
            run.pod_problem = PodProblem("cancelled", "interrupted", "")

    def _wait(self, run: NodeRun) -> None:
        deadline_seconds = run.pod["spec"].get("activeDeadlineSeconds") or podspec.DEFAULT_DEADLINE_SECONDS
        limit = self.timeout if self.timeout is not None else deadline_seconds + 30
        start = time.monotonic()
        image = run.pod["spec"]["containers"][0]["image"]
        interval = self.poll_seconds
        pod: dict = {}
        while not self.cancelled:
            waited = time.monotonic() - start
            try:
                pod = read_json(self.kube, _pods_path(run.namespace, run.name)) or {}
            except KubeApiError as e:
                if e.status == 403:
                    run.pod_problem = PodProblem(
                        "forbidden", e.message, f"your identity needs get on pods in namespace {run.namespace}"
                    )
                    return
                if e.status == 404:
                    run.pod_problem = PodProblem(
                        "api-error",
                        "the pod disappeared before it finished",
                        "someone (or something) deleted it; run again",
                    )
                    return
                raise
            status = pod.get("status") or {}
            run.phase = status.get("phase")
            problem = explain_pod(pod, waited=waited, image=image)
            if problem is not None:
                run.pod_problem = problem
                return
            if run.phase in ("Succeeded", "Failed"):
                return
            self._report(run, "running" if run.phase == "Running" else "pending")
            if waited > limit:
                run.pod_problem = self._stuck(pod, waited)
                return
            self._cancel.wait(interval)
            interval = min(interval * 1.5, 2.0)
        run.pod_problem = PodProblem("cancelled", "interrupted while the pod ran", "")

    def _stuck(self, pod: dict, waited: float) -> PodProblem:
        status = pod.get("status") or {}
        if not status.get("startTime"):
            return PodProblem(
                "not-started",
                f"the kubelet on {pod['spec'].get('nodeName')} did not start the pod in {waited:.0f}s",
                "the node may be NotReady or its kubelet unreachable: check `kubectl describe node`",
            )
        return PodProblem(
            "deadline",
            f"nvidia-smi did not finish in {waited:.0f}s",
            "a hung nvidia-smi usually means a GPU in a bad state; check the kernel log for Xids",
        )

    def _read_log(self, run: NodeRun) -> None:
        self._report(run, "reading")
        try:
            raw = read(
                self.kube, _pods_path(run.namespace, run.name) + "/log", {"container": podspec.CONTAINER}, accept="*/*"
            )
        except KubeApiError as e:
            if run.pod_problem is None:
                run.pod_problem = PodProblem(
                    "forbidden" if e.status == 403 else "api-error",
                    f"reading the log failed: {e.status} {e.message}",
                    f"your identity needs get on pods/log in namespace {run.namespace} (RBAC)",
                )
            return
        run.log = raw.decode("utf-8", "replace")
        if run.log.strip():
            run.report = parse_debug_log(run.log)

    def _delete(self, namespace: str, name: str) -> bool:
        why = delete_pod(self.kube, namespace, name, stop=self._cancel)
        with self._lock:
            if why is not None:
                self.undeleted[(namespace, name)] = why
                return False
            self.undeleted.pop((namespace, name), None)
            if self._created.pop((namespace, name), None) is not None and self.cancelled:
                self._deleted_after_cancel.append(f"{namespace}/{name}")
        return True
