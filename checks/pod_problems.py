"""What exactly is wrong with a pod, in kubectl's words: its STATUS column, the container,
reason, exit code and restarts, and the log lines and events that explain it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from checks.kinds import Pod
from checks.recognise import Recognition, recognise
from checks.transitions import STUCK_SECONDS

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

FAILING_WAITING_REASONS = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "RunContainerError",
    "CreateContainerError",
    "CreateContainerConfigError",
    "InvalidImageName",
    "ErrImageNeverPull",
    "PreCreateHookError",
    "PostStartHookError",
    "PreStartHookError",
}
_IMPORTANT_LOG = re.compile(
    r"nvml|no devices|not found|error|fail|unable|fatal|panic|unhealthy|mismatch|cannot|could not|xid|"
    r"timed out|waiting|denied|refused|invalid|missing|no such",
    re.I,
)
UPSTREAM_APPS = ("nvidia-driver-daemonset", "nvidia-container-toolkit-daemonset")


@dataclass
class PodProblem:
    pod: Pod
    status: str  # kubectl's STATUS column, e.g. "Init:CrashLoopBackOff", "Init:0/2", "Running"
    failing: bool  # broken now (will not fix itself) vs still starting
    container: str | None = None
    init: bool = False
    reason: str | None = None
    exit_code: int | None = None
    restarts: int = 0
    message: str | None = None

    def describe(self) -> str:
        p = self.pod
        parts = [f"pod {p.metadata.namespace}/{p.metadata.name} is {self.status}"]
        detail = []
        if self.container:
            detail.append(f"{'init container' if self.init else 'container'} {self.container}")
        if self.reason and self.reason not in self.status:
            detail.append(f"reason {self.reason}")
        if self.exit_code is not None:
            detail.append(f"exit code {self.exit_code}")
        if self.restarts:
            detail.append(f"{self.restarts} restarts")
        if detail:
            parts.append("(" + ", ".join(detail) + ")")
        return " ".join(parts)


def _terminated(state: dict[str, Any]) -> dict[str, Any] | None:
    return (state or {}).get("terminated")


def _waiting(state: dict[str, Any]) -> dict[str, Any] | None:
    return (state or {}).get("waiting")


def pod_problem(pod: Pod) -> PodProblem | None:
    """What keeps the pod from running and ready; None when it is fine (or finished fine)."""
    st = pod.status
    if pod.metadata.deletion_timestamp:
        return PodProblem(pod, "Terminating", False)
    if st.phase == "Succeeded":
        return None
    if st.phase == "Failed":
        cs = next((c for c in st.container_statuses if _terminated(c.state)), None)
        term = _terminated(cs.state) if cs else None
        return PodProblem(
            pod,
            st.reason or "Failed",
            True,
            container=cs.name if cs else None,
            reason=st.reason or (term or {}).get("reason"),
            exit_code=(term or {}).get("exitCode"),
            message=st.message,
        )
    n_init = len(pod.spec.init_containers) or len(st.init_container_statuses)
    for i, cs in enumerate(st.init_container_statuses):
        term = _terminated(cs.state)
        if term and term.get("exitCode") == 0:
            continue
        last = _terminated(cs.last_state) or {}
        exit_code = (term or last).get("exitCode")
        waiting = _waiting(cs.state)
        if waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = waiting["reason"]
            return PodProblem(
                pod,
                f"Init:{reason}",
                reason in FAILING_WAITING_REASONS or cs.restart_count >= 3,
                cs.name,
                True,
                reason,
                exit_code,
                cs.restart_count,
                waiting.get("message"),
            )
        if term:
            reason = term.get("reason") or "Error"
            return PodProblem(
                pod, f"Init:{reason}", True, cs.name, True, reason, exit_code, cs.restart_count, term.get("message")
            )
        return PodProblem(
            pod, f"Init:{i}/{n_init}", cs.restart_count >= 3, cs.name, True, None, exit_code, cs.restart_count
        )
    if st.phase == "Pending" and not pod.spec.node_name:
        cond = next((c for c in st.conditions if c.type == "PodScheduled" and c.status == "False"), None)
        return PodProblem(
            pod, "Pending", False, reason=cond.reason if cond else None, message=cond.message if cond else None
        )
    worst: PodProblem | None = None
    for cs in st.container_statuses:
        waiting, term = _waiting(cs.state), _terminated(cs.state)
        last = _terminated(cs.last_state) or {}
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
            failing = reason in FAILING_WAITING_REASONS
            cand = PodProblem(
                pod,
                reason,
                failing,
                cs.name,
                False,
                reason,
                (last or {}).get("exitCode"),
                cs.restart_count,
                waiting.get("message"),
            )
        elif term:
            reason = term.get("reason") or "Error"
            cand = PodProblem(
                pod,
                reason,
                term.get("exitCode") != 0,
                cs.name,
                False,
                reason,
                term.get("exitCode"),
                cs.restart_count,
                term.get("message"),
            )
        elif not cs.ready:
            cand = PodProblem(
                pod,
                "Running (not ready)",
                cs.restart_count >= 3,
                cs.name,
                False,
                last.get("reason"),
                last.get("exitCode"),
                cs.restart_count,
            )
        else:
            continue
        if worst is None or (cand.failing and not worst.failing):
            worst = cand
    if worst is None and st.phase == "Pending":
        return PodProblem(pod, "ContainerCreating" if pod.spec.node_name else "Pending", False)
    return worst


def is_stuck(snapshot: ClusterSnapshot, prob: PodProblem) -> bool:
    """Still 'starting' (Init, ContainerCreating, not ready) for longer than anyone should wait."""
    if prob.failing or prob.status == "Terminating":
        return False
    age = snapshot.age_seconds(prob.pod.status.start_time or prob.pod.metadata.creation_timestamp)
    return (
        age is not None
        and age > STUCK_SECONDS
        and (prob.status.startswith("Init:") or prob.status in ("ContainerCreating", "Pending", "Running (not ready)"))
    )


def upstream_failure(snapshot: ClusterSnapshot, node_name: str | None, app: str | None) -> PodProblem | None:
    """A failing or stuck driver/toolkit pod on the node that an operand pod of `app` waits for."""
    if not node_name:
        return None
    on_node = snapshot.operand_pods_by_node.get(node_name, {})
    for up in UPSTREAM_APPS:
        if up == app:
            return None
        for p in on_node.get(up, []):
            pp = pod_problem(p)
            if pp is not None and (pp.failing or is_stuck(snapshot, pp)):
                return pp
    return None


def pod_events(snapshot: ClusterSnapshot, pod: Pod, reasons: Iterable[str] | None = None, limit: int = 3) -> list[str]:
    wanted = set(reasons) if reasons else None
    evs = [
        e
        for e in snapshot.events_for("Pod", pod.metadata.name, pod.metadata.namespace)
        if e.type == "Warning" and (wanted is None or e.reason in wanted)
    ]
    out = []
    for e in evs[-limit:]:
        count = f" (x{e.count})" if e.count and e.count > 1 else ""
        out.append(f"event {e.reason}{count}: {e.message}")
    return out


def _log_text(snapshot: ClusterSnapshot, pod: Pod, container: str | None) -> tuple[list[str], str]:
    """Non-empty log lines, from the previous run when the container restarted."""
    if not container:
        return [], ""
    ns, name = pod.metadata.namespace or "", pod.metadata.name
    for previous in (True, False):
        t = snapshot.logs.get((ns, name, container, previous))
        if t and t.strip():
            return [ln.rstrip() for ln in t.splitlines() if ln.strip()], "previous " if previous else ""
    return [], ""


def log_excerpt(snapshot: ClusterSnapshot, pod: Pod, container: str | None, max_lines: int = 4) -> list[str]:
    """The last log lines that matter (errors, NVML, waits) plus the very last line, each once."""
    lines, which = _log_text(snapshot, pod, container)
    if not lines:
        return []
    important = [i for i, ln in enumerate(lines) if _IMPORTANT_LOG.search(ln)]
    # Driver installers print harmless WARNINGs that match the same words: prefer real errors.
    errors = [i for i in important if not lines[i].lstrip().startswith("WARNING")]
    candidates = (errors or important) + [len(lines) - 1]
    last_of: dict[str, int] = {}
    for i in candidates:
        last_of[lines[i]] = i  # a retry loop repeats one line: keep its last occurrence only
    picked = sorted(last_of.values())[-max_lines:]
    return [f"{which}log {container}: {lines[i][:300]}" for i in picked]


def key_log_line(snapshot: ClusterSnapshot, pod: Pod, container: str | None) -> str | None:
    """The one line to quote in a message: the last that looks like an error, else the last."""
    lines, _ = _log_text(snapshot, pod, container)
    if not lines:
        return None
    important = [ln for ln in lines if _IMPORTANT_LOG.search(ln) and not ln.lstrip().startswith("WARNING")]
    return (important[-1] if important else lines[-1])[:200]


def pod_evidence(snapshot: ClusterSnapshot, prob: PodProblem) -> list[str]:
    ev = [prob.describe()]
    if prob.message:
        ev.append(f"{prob.container or 'pod'}: {prob.message[:300]}")
    ev.extend(log_excerpt(snapshot, prob.pod, prob.container))
    ev.extend(pod_events(snapshot, prob.pod))
    return ev


def pod_recognition(snapshot: ClusterSnapshot, prob: PodProblem, context: str = "") -> Recognition | None:
    """What `checks.recognise` reads in the pod's own words (see recognised_pod_text)."""
    got = recognised_pod_text(snapshot, prob, context)
    return got[0] if got is not None else None


def recognised_pod_text(
    snapshot: ClusterSnapshot, prob: PodProblem, context: str = ""
) -> tuple[Recognition, str] | None:
    """The first of the pod's own texts `checks.recognise` reads, with that text: its status message, the log lines that
    matter (newest first), its containers' termination messages and its warning events. `context` (the node's OS image, the pod's name)
    is appended to each text so that rules which depend on where the text was seen can tell."""
    pod = prob.pod
    texts = [prob.message or "", pod.status.message or ""]
    # A container's termination message (with FallbackToLogsOnError, the tail of its log).
    for cs in [*pod.status.init_container_statuses, *pod.status.container_statuses]:
        if cs.name == prob.container:
            for state in (cs.state, cs.last_state):
                texts.append(str((_terminated(state) or {}).get("message") or ""))
    lines, _ = _log_text(snapshot, pod, prob.container)
    texts += [ln for ln in reversed(lines[-40:]) if _IMPORTANT_LOG.search(ln)]
    texts += [
        e.message or ""
        for e in reversed(snapshot.events_for("Pod", pod.metadata.name, pod.metadata.namespace))
        if e.type == "Warning"
    ][:5]
    seen: set[str] = set()
    for t in texts:
        if not t or t in seen:
            continue
        seen.add(t)
        got = recognise(f"{t}\n{context}" if context else t)
        if got is not None:
            return got, t
    return None


def node_context(snapshot: ClusterSnapshot, pod: Pod) -> str:
    """Where the pod runs, for the recognition rules: its name, and the node's OS image and kernel
    (a Bottlerocket image or an Amazon Linux kernel changes what an operand's failure means)."""
    node = snapshot.node_by_name.get(pod.spec.node_name or "")
    info = node.status.node_info if node is not None else None
    if info is None:
        return f"pod {pod.metadata.name}"
    return f"pod {pod.metadata.name} on a node with osImage {info.os_image}, kernel {info.kernel_version}"


# Failures no restart (and no new node from the same NodeClass) cures: the image or its kernel is the
# cause (no driver image for the OS, no headers for the kernel, the operator's driver on Bottlerocket).
IMAGE_LEVEL_FAMILIES = frozenset({"operator-driver", "bottlerocket"})


def image_level_cause(snapshot: ClusterSnapshot, prob: PodProblem) -> Recognition | None:
    """The recognised cause of a failing operand pod when it lies in the node image; else None."""
    if not prob.failing:
        return None
    rec = pod_recognition(snapshot, prob, node_context(snapshot, prob.pod))
    return rec if rec is not None and rec.family in IMAGE_LEVEL_FAMILIES else None
