"""gputui's debug pods still in the cluster: whose they are, which are safe to delete, and deleting
them with retries.

A run deletes its pods itself. A pod stays when the gputui that made it died (kill -9, a
lost terminal, a crash) or its DELETEs failed. Each pod's annotations name its owner run:
process id, host and start time. A pod is a *leftover* (safe to delete at once) when its
owner is known to be gone: same host and that process no longer runs (or the pid now
belongs to a younger process), or its deadline has passed. A pod of another host's run
that has not reached its deadline may belong to a run that still works: `--cleanup` asks
first. The kubelet stops every pod at its activeDeadlineSeconds regardless; only the
object stays until deleted.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from checks.timestamps import parse_time
from gputui.debugpod import spec as podspec
from gputui.errors import ConnectError
from gputui.kube.errors import KubeApiError, TransportTimeout

# Waits between the four tries of a DELETE (about 5 s in all, with jitter).
DELETE_DELAYS = (0.5, 1.5, 3.0)
DELETE_TIMEOUT = 10.0  # seconds per DELETE request
DELETE_WORKERS = 8

# What --cleanup does with a pod, by its owner.
GONE = "owner-gone"  # same host, owner process no longer runs: delete
EXPIRED = "past-deadline"  # delete
LIVE = "owner-running"  # same host, owner still runs: ask
UNKNOWN = "owner-unknown"  # another host (or no owner recorded), deadline not reached: ask
TERMINATING = "terminating"  # already being deleted: nothing to do


@dataclass(frozen=True)
class Leftover:
    namespace: str
    name: str
    node: str
    deadline: str | None
    phase: str
    run_id: str = ""
    owner: str = ""  # "pid 123 on host-a" when recorded
    state: str = EXPIRED

    @property
    def removable(self) -> bool:
        """Safe to delete without asking: its run is over."""
        return self.state in (GONE, EXPIRED)

    def __str__(self) -> str:
        run = f", run {self.run_id}" if self.run_id else ""
        owner = f", {self.owner}" if self.owner else ""
        return (
            f"{self.namespace}/{self.name} (node {self.node or '?'}, {self.phase}, "
            f"deadline {self.deadline or '?'}{run}{owner})"
        )


def _parse_time(text: str | None) -> float | None:
    when = parse_time(text)
    return when.timestamp() if when is not None else None


def deadline_of(pod: dict) -> float | None:
    meta = pod.get("metadata") or {}
    deadline = _parse_time((meta.get("annotations") or {}).get(podspec.ANN_DEADLINE))
    if deadline is None:
        created = _parse_time(meta.get("creationTimestamp"))
        ads = (pod.get("spec") or {}).get("activeDeadlineSeconds") or podspec.DEFAULT_DEADLINE_SECONDS
        deadline = created + ads if created is not None else None
    return deadline


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first); None off Linux."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_started(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), from /proc; None when unknown (not Linux)."""
    fields = _proc_stat(pid)
    try:
        with open("/proc/stat", encoding="ascii") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK") if fields else None
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def process_alive(pid: int, started: float | None) -> bool:
    """Does the process that started the run at `started` still run as `pid` on this host?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except OSError:
        return False
    fields = _proc_stat(pid)
    if fields and fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
        return False
    began = process_started(pid)
    # A process that began after the run started is not the run's: the pid was reused.
    return not (began is not None and started is not None and began > started + 2)


def classify(pod: dict, now: float, host: str | None = None) -> tuple[str, str]:
    """(state, owner text) of one gputui debug pod."""
    meta = pod.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return TERMINATING, ""
    ann = meta.get("annotations") or {}
    try:
        pid = int(ann.get(podspec.ANN_OWNER_PID) or 0)
    except ValueError:
        pid = 0
    owner_host = ann.get(podspec.ANN_OWNER_HOST) or ""
    owner = f"pid {pid} on {owner_host}" if pid and owner_host else ""
    deadline = deadline_of(pod)
    expired = deadline is not None and now > deadline
    if pid and owner_host and owner_host == (host or socket.gethostname()):
        if process_alive(pid, _parse_time(ann.get(podspec.ANN_STARTED))):
            return (EXPIRED if expired else LIVE), owner
        return GONE, owner
    return (EXPIRED if expired else UNKNOWN), owner


def survey(kube: Any, *, namespace: str | None = None, now: float | None = None) -> list[Leftover]:
    """Every gputui debug pod (in `namespace`, else in all namespaces), with what may be done to it."""
    from gputui.debugpod.runner import read_json

    now = time.time() if now is None else now
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods" if namespace else "/api/v1/pods"
    data = read_json(kube, path, {"labelSelector": podspec.SELECTOR}) or {}
    host = socket.gethostname()
    out = []
    for pod in data.get("items") or []:
        meta = pod["metadata"]
        state, owner = classify(pod, now, host)
        ann = meta.get("annotations") or {}
        out.append(
            Leftover(
                namespace=meta.get("namespace", "default"),
                name=meta["name"],
                node=ann.get(podspec.ANN_NODE) or (pod.get("spec") or {}).get("nodeName", ""),
                deadline=ann.get(podspec.ANN_DEADLINE),
                phase=(pod.get("status") or {}).get("phase") or "Unknown",
                run_id=(meta.get("labels") or {}).get(podspec.LABEL_RUN, ""),
                owner=owner,
                state=state,
            )
        )
    return sorted(out, key=lambda l: (l.namespace, l.name))


def find_leftovers(kube: Any, *, namespace: str | None = None, now: float | None = None) -> list[Leftover]:
    """gputui debug pods whose run is over (owner gone or deadline passed): safe to delete."""
    return [l for l in survey(kube, namespace=namespace, now=now) if l.removable]


# -- deleting ------------------------------------------------------------------------------------------


def delete_pod(kube: Any, namespace: str, name: str, *, stop: threading.Event | None = None) -> str | None:
    """DELETE one pod, retried on 429/5xx and lost answers (4 tries over about 5 s); a pod that is
    already gone (404) counts as deleted. None when it is deleted, else why not (the last error).
    `stop` cuts the waits short (the remaining tries are then made at once)."""
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(name, safe='')}"
    why = ""
    for attempt in range(len(DELETE_DELAYS) + 1):
        try:
            kube.request(
                "DELETE",
                path,
                body={"gracePeriodSeconds": 0, "propagationPolicy": "Background"},
                timeout=DELETE_TIMEOUT,
            )
            return None
        except KubeApiError as e:
            if e.status == 404:
                return None
            why = f"{e.status} {e.reason}: {e.message}"
            if not e.retryable:
                return why
            delay = min(e.retry_after, 5.0) if e.retry_after else None
        except (TransportTimeout, ConnectError) as e:
            why = str(e)
            delay = None
        except Exception as e:  # noqa: BLE001 - reported with the pod's name; never lost
            return f"{type(e).__name__}: {e}"
        if attempt < len(DELETE_DELAYS):
            wait = delay if delay is not None else DELETE_DELAYS[attempt] * (0.75 + random.random() / 2)
            if stop is not None:
                stop.wait(wait)
            else:
                time.sleep(wait)
    return f"{why} (after {len(DELETE_DELAYS) + 1} tries)"


def delete_pods(kube: Any, pods: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """delete_pod for each (namespace, name), several at a time: {pod: None or why not}."""
    pods = list(dict.fromkeys(pods))
    if not pods:
        return {}
    with ThreadPoolExecutor(max_workers=min(DELETE_WORKERS, len(pods)), thread_name_prefix="gputui-delete") as pool:
        results = pool.map(lambda p: delete_pod(kube, p[0], p[1]), pods)
        return dict(zip(pods, results, strict=True))


def remove(kube: Any, leftovers: list[Leftover]) -> tuple[list[Leftover], list[tuple[Leftover, str]]]:
    """Delete them: (removed, [(not removed, why)])."""
    results = delete_pods(kube, [(l.namespace, l.name) for l in leftovers])
    removed = [l for l in leftovers if results[(l.namespace, l.name)] is None]
    failed = [(l, why) for l in leftovers if (why := results[(l.namespace, l.name)]) is not None]
    return removed, failed


def kubectl_delete(pods: Iterable[tuple[str, str]]) -> list[str]:
    """The kubectl commands that delete these pods, one per namespace."""
    by_ns: dict[str, list[str]] = {}
    for ns, name in pods:
        by_ns.setdefault(ns, []).append(name)
    return [f"kubectl delete pod -n {ns} {' '.join(sorted(names))}" for ns, names in sorted(by_ns.items())]
