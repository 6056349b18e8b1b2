"""The GPU readiness chain on one node, as the deep checks read it.

instance has GPUs → driver → container toolkit → device-plugin pod → allocatable
nvidia.com/gpu. These helpers answer "should this node have GPUs, how many", "which
operand DaemonSet should run here and why does it not", "what exactly is wrong with
this pod" and "which NodePools serve GPUs", so the node, operator, Karpenter and
disruption checks tell one consistent story.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from checks.gpu import (
    GPU_RESOURCE,
    LABEL_GFD_GPU_COUNT,
    LABEL_GFD_GPU_PRESENT,
    LABEL_GFD_GPU_PRODUCT,
    LABEL_INSTANCE_TYPE,
    LABEL_KARPENTER_GPU_COUNT,
    LABEL_KARPENTER_GPU_MANUFACTURER,
    LABEL_KARPENTER_GPU_NAME,
    LABEL_NFD_NVIDIA_PCI,
    OPERANDS,
    Operand,
)
from checks.k8s import (
    format_taint,
    pod_gpu_request,
    quantity_or_zero,
    requirement_matches,
    taint_from_dict,
    tolerates,
    toleration_from_dict,
)
from checks.model import Finding, ObjectRef, Severity
from checks.objects import Node, Object, Pod, Taint

OPERAND_BY_FIELD = {o.field: o for o in OPERANDS}
DRIVER, TOOLKIT, DEVICE_PLUGIN = (
    OPERAND_BY_FIELD["driver"],
    OPERAND_BY_FIELD["toolkit"],
    OPERAND_BY_FIELD["devicePlugin"],
)
LABEL_DEPLOY_OPERANDS = "nvidia.com/gpu.deploy.operands"

# Taints the DaemonSet controller tolerates on its own, and Karpenter's lifecycle taints,
# which come and go by design: blaming an operand for not tolerating them would be noise.
_AUTO_TOLERATED_PREFIXES = ("node.kubernetes.io/",)
_TRANSIENT_TAINTS = {
    "karpenter.sh/unregistered",
    "karpenter.sh/disrupted",
    "node.cloudprovider.kubernetes.io/uninitialized",
}

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
GPU_FAMILY_RE = re.compile(r"^(?:p\d+[a-z]*|g\d+(?!ad)[a-z]*|gr\d+[a-z]*)$")
GPU_INSTANCE_TYPE_RE = re.compile(r"^(?:p\d+[a-z]*|g\d+(?!ad)[a-z]*|gr\d+[a-z]*)\.[a-z0-9-]+$")

YOUNG_NODE_SECONDS = 600
STUCK_SECONDS = 600  # an operand pod still starting after this long is stuck, not starting
# Operands every other operand on a node waits for (their init containers validate them).
UPSTREAM_APPS = ("nvidia-driver-daemonset", "nvidia-container-toolkit-daemonset")


# -- findings ------------------------------------------------------------------


def memo(snapshot, key: str, build):
    """Cache a derived index on the snapshot (as cached_property does) so checks share it."""
    cache = snapshot.__dict__.setdefault("_gpuchain_memo", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def new_finding(code: str, message: str, subject: ObjectRef, severity: Severity | None = None, **kw) -> Finding:
    """A Finding carrying the registered check's name, title and default severity."""
    from checks.registry import REGISTRY

    c = REGISTRY.find(code)
    if c is None:  # only while a module is being imported out of order
        raise LookupError(f"check {code} is not registered")
    return Finding(
        code=code, name=c.name, severity=severity or c.severity, title=c.title, message=message, subject=subject, **kw
    )


def ref(obj, kind: str | None = None) -> ObjectRef:
    kind = kind or getattr(obj, "kind", "") or ""
    return ObjectRef(
        kind=kind,
        name=obj.metadata.name,
        namespace=obj.metadata.namespace or None,
        api_version=getattr(obj, "api_version", None) or None,
    )


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(max(seconds, 0))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m" if s % 3600 >= 60 else f"{s // 3600}h"
    return f"{s // 86400}d"


def condition(obj, type_: str):
    """A condition as a dict, from a typed object (Node/Pod) or a generic CR."""
    conds = obj.status.get("conditions") if isinstance(obj.status, dict) else obj.status.conditions
    for c in conds or []:
        if isinstance(c, dict):
            if c.get("type") == type_:
                return c
        elif c.type == type_:
            return {
                "type": c.type,
                "status": c.status,
                "reason": c.reason,
                "message": c.message,
                "lastTransitionTime": c.last_transition_time,
            }
    return None


def condition_text(c: dict | None) -> str:
    if not c:
        return "absent"
    text = f"{c.get('type')}={c.get('status')}"
    if c.get("reason"):
        text += f" ({c['reason']})"
    if c.get("message"):
        text += f": {c['message']}"
    return text


# -- should this node have GPUs? ------------------------------------------------


@dataclass
class GpuExpectation:
    count: int | None  # None: a GPU node, but no source says how many
    source: str  # where the count comes from, for evidence
    model: str | None = None
    instance_type: str | None = None

    def describe(self) -> str:
        it = self.instance_type or "unknown instance type"
        if self.count is None:
            return f"{it}, NVIDIA GPU expected"
        model = f" {self.model}" if self.model else ""
        return f"{it}, {self.count}x{model} expected"


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _catalog(labels: dict) -> tuple[int | None, str | None]:
    """(GPU count, model) from the instance-type catalog; (None, None) when it does not know the type."""
    try:
        from checks import instances  # the instance-type catalog, when present
    except ImportError:
        return None, None
    try:
        it = instances.get(labels.get(LABEL_INSTANCE_TYPE))
    except Exception:  # noqa: BLE001 - a catalog gap must not break node checks
        return None, None
    if it is None:
        return None, None  # the labels speak next, each named as the source
    return int(it.gpu_count), (it.gpu_model or None)


def expected_gpus(snapshot, node: Node) -> GpuExpectation | None:
    """How many NVIDIA GPUs this node should expose, or None when it is not a GPU node."""
    labels = node.metadata.labels
    it = labels.get(LABEL_INSTANCE_TYPE)
    manufacturer = labels.get(LABEL_KARPENTER_GPU_MANUFACTURER)
    if manufacturer and manufacturer.lower() != "nvidia":
        return None
    model = labels.get(LABEL_GFD_GPU_PRODUCT) or (labels.get(LABEL_KARPENTER_GPU_NAME) or "").upper() or None
    n, cat_model = _catalog(labels)
    if n:
        return GpuExpectation(n, f"instance type {it}", model or cat_model, it)
    if n == 0 and it and not _int(node.status.capacity.get(GPU_RESOURCE)):
        return None  # a known instance type without NVIDIA GPUs
    n = _int(labels.get(LABEL_KARPENTER_GPU_COUNT))
    if n:
        return GpuExpectation(n, f"label {LABEL_KARPENTER_GPU_COUNT}={n}", model, it)
    nc = snapshot.nodeclaims_by_node.get(node.metadata.name)
    if nc is not None:
        n = _int((nc.status.get("capacity") or {}).get(GPU_RESOURCE))
        if n:
            return GpuExpectation(n, f"NodeClaim {nc.metadata.name} capacity {GPU_RESOURCE}={n}", model, it)
    n = _int(labels.get(LABEL_GFD_GPU_COUNT))
    if n:
        return GpuExpectation(n, f"GFD label {LABEL_GFD_GPU_COUNT}={n}", model, it)
    n = _int(node.status.capacity.get(GPU_RESOURCE))
    if n:
        return GpuExpectation(n, f"capacity {GPU_RESOURCE}={n}", model, it)
    if labels.get(LABEL_NFD_NVIDIA_PCI) == "true":
        return GpuExpectation(None, f"NFD label {LABEL_NFD_NVIDIA_PCI}=true", model, it)
    if labels.get(LABEL_GFD_GPU_PRESENT) == "true":
        return GpuExpectation(None, f"label {LABEL_GFD_GPU_PRESENT}=true", model, it)
    if it and GPU_INSTANCE_TYPE_RE.match(it):
        return GpuExpectation(None, f"instance type {it} is a GPU instance family", model, it)
    return None


def gpu_nodes(snapshot) -> list[tuple[Node, GpuExpectation]]:
    out = []
    for n in snapshot.nodes:
        e = expected_gpus(snapshot, n)
        if e is not None:
            out.append((n, e))
    return out


def allocatable_gpus(node: Node) -> int:
    return int(quantity_or_zero(node.status.allocatable.get(GPU_RESOURCE)))


def capacity_gpus(node: Node) -> int:
    return int(quantity_or_zero(node.status.capacity.get(GPU_RESOURCE)))


def node_age(snapshot, node: Node) -> float | None:
    return snapshot.age_seconds(node.metadata.creation_timestamp)


# -- operand DaemonSets -----------------------------------------------------------


def clusterpolicy(snapshot) -> Object | None:
    return snapshot.clusterpolicies[0] if snapshot.clusterpolicies else None


def _template_spec(ds: Object) -> dict:
    return ((ds.spec.get("template") or {}).get("spec")) or {}


def _template_labels(ds: Object) -> dict:
    return (((ds.spec.get("template") or {}).get("metadata")) or {}).get("labels") or {}


def operand_daemonsets(snapshot, operand: Operand) -> list[Object]:
    """DaemonSets of one operand; the driver may carry a per-OS/kernel suffix, so match on labels first."""
    out = []
    for ds in snapshot.daemonsets:
        name = ds.metadata.name
        # Only the driver gets per-OS/kernel suffixes; a prefix match elsewhere would confuse
        # nvidia-dcgm with nvidia-dcgm-exporter.
        if (
            _template_labels(ds).get("app") == operand.app
            or ds.metadata.labels.get("app") == operand.app
            or name == operand.name
            or (operand.field == "driver" and name.startswith(operand.name + "-"))
        ):
            out.append(ds)
    return out


def device_plugin_daemonsets(snapshot) -> list[Object]:
    """The operator's device plugin plus a standalone NVIDIA device plugin (Helm chart or static manifest)."""
    seen = {id(d) for d in operand_daemonsets(snapshot, DEVICE_PLUGIN)}
    out = list(operand_daemonsets(snapshot, DEVICE_PLUGIN))
    for ds in snapshot.daemonsets:
        if id(ds) in seen:
            continue
        name = ds.metadata.name
        tl = _template_labels(ds)
        if ("nvidia-device-plugin" in name and "mps" not in name and "validator" not in name) or tl.get(
            "app.kubernetes.io/name"
        ) == "nvidia-device-plugin":
            out.append(ds)
    return out


def all_operand_daemonsets(snapshot) -> list[tuple[Operand, Object]]:
    out = []
    for o in OPERANDS:
        for ds in operand_daemonsets(snapshot, o):
            out.append((o, ds))
    return out


def operator_installed(snapshot) -> bool:
    return bool(snapshot.clusterpolicies) or any(True for _ in all_operand_daemonsets(snapshot))


def owned_by_clusterpolicy(ds: Object) -> bool:
    return any(r.kind == "ClusterPolicy" for r in ds.metadata.owner_references)


def daemonset_tolerations(ds: Object):
    return [toleration_from_dict(t) for t in _template_spec(ds).get("tolerations") or []]


def blocking_taint(taint: Taint) -> bool:
    """A taint that would keep a DaemonSet pod off the node for good."""
    if taint.effect not in ("NoSchedule", "NoExecute"):
        return False
    if taint.key.startswith(_AUTO_TOLERATED_PREFIXES) or taint.key in _TRANSIENT_TAINTS:
        return False
    return True


def untolerated_node_taints(ds: Object, node: Node) -> list[Taint]:
    tols = daemonset_tolerations(ds)
    return [t for t in node.spec.taints if blocking_taint(t) and not any(tolerates(tol, t) for tol in tols)]


@dataclass
class Blocker:
    """Why a DaemonSet runs no pod on a node."""

    kind: str  # "taint" | "selector" | "affinity"
    text: str
    taint: Taint | None = None
    label: str | None = None


def daemonset_blockers(ds: Object, node: Node) -> list[Blocker]:
    spec = _template_spec(ds)
    labels = node.metadata.labels
    out: list[Blocker] = []
    for key, want in (spec.get("nodeSelector") or {}).items():
        have = labels.get(key)
        if have != want:
            state = "is missing" if have is None else f"is {have!r}"
            out.append(Blocker("selector", f"nodeSelector {key}={want} but the node's label {state}", label=key))
    terms = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        or {}
    ).get("nodeSelectorTerms") or []
    if terms and not any(
        all(
            requirement_matches(labels, e.get("key", ""), e.get("operator", ""), e.get("values") or ())
            for e in t.get("matchExpressions") or []
        )
        for t in terms
    ):
        out.append(Blocker("affinity", "required node affinity does not match the node's labels"))
    for t in untolerated_node_taints(ds, node):
        out.append(Blocker("taint", f"taint {format_taint(t)} is not tolerated", taint=t))
    return out


def daemonset_pods_on(snapshot, ds: Object, node_name: str) -> list[Pod]:
    ns = ds.metadata.namespace or ""
    return [
        p
        for p in snapshot.pods_by_node.get(node_name, [])
        if (p.metadata.namespace or "") == ns
        and any(r.kind == "DaemonSet" and r.name == ds.metadata.name for r in p.metadata.owner_references)
    ]


def operand_expected_on(node: Node, operand: Operand) -> bool:
    """False when the operator (or an admin) switched this operand off for the node on purpose."""
    labels = node.metadata.labels
    return labels.get(operand.deploy_label) != "false" and labels.get(LABEL_DEPLOY_OPERANDS) != "false"


# -- what is wrong with a pod ------------------------------------------------------


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


def _terminated(state: dict) -> dict | None:
    return (state or {}).get("terminated")


def _waiting(state: dict) -> dict | None:
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


def is_stuck(snapshot, prob: PodProblem) -> bool:
    """Still 'starting' (Init, ContainerCreating, not ready) for longer than anyone should wait."""
    if prob.failing or prob.status == "Terminating":
        return False
    age = snapshot.age_seconds(prob.pod.status.start_time or prob.pod.metadata.creation_timestamp)
    return (
        age is not None
        and age > STUCK_SECONDS
        and (prob.status.startswith("Init:") or prob.status in ("ContainerCreating", "Pending", "Running (not ready)"))
    )


def upstream_failure(snapshot, node_name: str | None, app: str | None) -> PodProblem | None:
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


def pod_events(snapshot, pod: Pod, reasons: Iterable[str] | None = None, limit: int = 3) -> list[str]:
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


def _log_text(snapshot, pod: Pod, container: str | None) -> tuple[list[str], str]:
    """Non-empty log lines, from the previous run when the container restarted."""
    if not container:
        return [], ""
    ns, name = pod.metadata.namespace or "", pod.metadata.name
    for previous in (True, False):
        t = snapshot.logs.get((ns, name, container, previous))
        if t and t.strip():
            return [ln.rstrip() for ln in t.splitlines() if ln.strip()], "previous " if previous else ""
    return [], ""


def log_excerpt(snapshot, pod: Pod, container: str | None, max_lines: int = 4) -> list[str]:
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


def key_log_line(snapshot, pod: Pod, container: str | None) -> str | None:
    """The one line to quote in a message: the last that looks like an error, else the last."""
    lines, _ = _log_text(snapshot, pod, container)
    if not lines:
        return None
    important = [ln for ln in lines if _IMPORTANT_LOG.search(ln) and not ln.lstrip().startswith("WARNING")]
    return (important[-1] if important else lines[-1])[:200]


def pod_evidence(snapshot, prob: PodProblem) -> list[str]:
    ev = [prob.describe()]
    if prob.message:
        ev.append(f"{prob.container or 'pod'}: {prob.message[:300]}")
    ev.extend(log_excerpt(snapshot, prob.pod, prob.container))
    ev.extend(pod_events(snapshot, prob.pod))
    return ev


# -- NodePools and pending GPU pods ------------------------------------------------


def nodepool_template(np: Object) -> dict:
    return ((np.spec.get("template") or {}).get("spec")) or {}


def nodepool_requirements(np: Object) -> list[dict]:
    return list(nodepool_template(np).get("requirements") or [])


def nodepool_taints(np: Object) -> list[Taint]:
    return [taint_from_dict(t) for t in nodepool_template(np).get("taints") or []]


def nodepool_is_gpu(snapshot, np: Object) -> bool:
    for r in nodepool_requirements(np):
        key, op, values = r.get("key", ""), r.get("operator", ""), r.get("values") or []
        if key in (LABEL_KARPENTER_GPU_COUNT, LABEL_KARPENTER_GPU_NAME, "karpenter.k8s.aws/instance-gpu-memory"):
            if op in ("In", "Exists", "Gt"):
                return True
        if (
            key == LABEL_KARPENTER_GPU_MANUFACTURER
            and op in ("In", "Exists")
            and (op == "Exists" or "nvidia" in values)
        ):
            return True
        if key == "karpenter.k8s.aws/instance-family" and op == "In" and any(GPU_FAMILY_RE.match(v) for v in values):
            return True
        if key == LABEL_INSTANCE_TYPE and op == "In" and any(GPU_INSTANCE_TYPE_RE.match(v) for v in values):
            return True
        if key == "karpenter.k8s.aws/instance-category" and op == "In" and set(values) & {"g", "p"}:
            return True
    if any(t.key == GPU_RESOURCE for t in nodepool_taints(np)):
        return True
    if GPU_RESOURCE in (np.spec.get("limits") or {}):
        return True
    return any(expected_gpus(snapshot, n) is not None for n in snapshot.nodes_by_nodepool.get(np.metadata.name, []))


_WELL_KNOWN_PREFIXES = (
    "karpenter.k8s.aws/",
    "karpenter.sh/",
    "topology.kubernetes.io/",
    "topology.k8s.aws/",
    "kubernetes.io/",
    "node.kubernetes.io/",
    "beta.kubernetes.io/",
    "failure-domain.beta.kubernetes.io/",
)


def _label_allowed(np: Object, key: str, value: str | None, op: str = "In", values=()) -> bool:
    """Can a node of this NodePool satisfy one selector term on `key`?"""
    tpl_labels = (((np.spec.get("template") or {}).get("metadata")) or {}).get("labels") or {}
    if key == "karpenter.sh/nodepool":
        have = np.metadata.name
        return requirement_matches({key: have}, key, op, values or ([value] if value is not None else []))
    if key in tpl_labels:
        return requirement_matches({key: tpl_labels[key]}, key, op, values or ([value] if value is not None else []))
    reqs = [r for r in nodepool_requirements(np) if r.get("key") == key]
    wanted = list(values or ([value] if value is not None else []))
    for r in reqs:
        rop, rvals = r.get("operator", ""), r.get("values") or []
        if op == "In":
            if rop == "In" and not set(wanted) & set(rvals):
                return False
            if rop == "NotIn" and set(wanted) <= set(rvals):
                return False
            if rop == "DoesNotExist":
                return False
        elif op == "Exists" and rop == "DoesNotExist":
            return False
    if reqs:
        return True
    if op in ("NotIn", "DoesNotExist"):
        return True
    return key.startswith(_WELL_KNOWN_PREFIXES)


def pod_may_use_nodepool(pod: Pod, np: Object) -> bool:
    """A quick compatibility test: taints tolerated, nodeSelector and required affinity satisfiable."""
    for t in nodepool_taints(np):
        if t.effect in ("NoSchedule", "NoExecute") and not any(tolerates(tol, t) for tol in pod.spec.tolerations):
            return False
    for k, v in pod.spec.node_selector.items():
        if not _label_allowed(np, k, v):
            return False
    terms = (
        ((pod.spec.affinity or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        or {}
    ).get("nodeSelectorTerms") or []
    if terms:
        ok_any = False
        for term in terms:
            if all(
                _label_allowed(np, e.get("key", ""), None, e.get("operator", ""), e.get("values") or ())
                for e in term.get("matchExpressions") or []
            ):
                ok_any = True
                break
        if not ok_any:
            return False
    return True


def pending_gpu_pods(snapshot) -> list[Pod]:
    return memo(
        snapshot,
        "pending_gpu_pods",
        lambda: [
            p
            for p in snapshot.pods
            if p.status.phase == "Pending"
            and not p.spec.node_name
            and not p.metadata.deletion_timestamp
            and pod_gpu_request(p) > 0
        ],
    )


def running_gpu_pods(snapshot) -> list[Pod]:
    return memo(
        snapshot,
        "running_gpu_pods",
        lambda: [
            p for p in snapshot.pods if p.status.phase == "Running" and p.spec.node_name and pod_gpu_request(p) > 0
        ],
    )


def nodeclaim_by_name(snapshot) -> dict[str, Object]:
    return memo(snapshot, "nodeclaim_by_name", lambda: {nc.metadata.name: nc for nc in snapshot.nodeclaims})


def _by_ns_name(snapshot, attr: str) -> dict[tuple[str, str], Object]:
    return memo(
        snapshot,
        f"{attr}_by_key",
        lambda: {(o.metadata.namespace or "", o.metadata.name): o for o in getattr(snapshot, attr)},
    )


def _karpenter_points_at(events, pool: str) -> bool:
    """Karpenter nominated the pod to one of the pool's NodeClaims, or said only the pool's
    limits stand in the way. Merely being named (as incompatible) does not count."""
    from checks.messages import KarpenterMessage, parse_failed_scheduling

    for e in events:
        msg = e.message or ""
        if e.reason == "Nominated" and f"nodeclaim/{pool}-" in msg:
            return True
        if e.reason == "FailedScheduling" and pool in msg:
            parsed = parse_failed_scheduling(msg)
            if isinstance(parsed, KarpenterMessage) and any(
                x.kind == "limits" and x.nodepool == pool for x in parsed.errors
            ):
                return True
    return False


def pods_waiting_on_nodepool(snapshot, np: Object) -> list[Pod]:
    """Pending GPU pods this NodePool could serve, or that Karpenter ties to it."""
    name = np.metadata.name
    out = []
    for p in pending_gpu_pods(snapshot):
        if pod_may_use_nodepool(p, np) or _karpenter_points_at(
            snapshot.events_for("Pod", p.metadata.name, p.metadata.namespace), name
        ):
            out.append(p)
    return out


def pod_names(pods: Iterable[Pod], limit: int = 5) -> str:
    names = [f"{p.metadata.namespace}/{p.metadata.name}" for p in pods]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


@dataclass
class Workload:
    """The controller a pod belongs to, resolved through ReplicaSets to Deployments."""

    kind: str
    name: str
    namespace: str
    obj: Object | None = None
    pods: list[Pod] = field(default_factory=list)

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.name, self.namespace, WORKLOAD_API_VERSIONS.get(self.kind))


WORKLOAD_API_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "DaemonSet": "apps/v1",
    "Pod": "v1",
}


def workload_of(snapshot, pod: Pod) -> Workload:
    """The object that owns the pod's template: Deployment (via its ReplicaSet), Job,
    StatefulSet, ... or the Pod itself when nothing controls it."""
    ns = pod.metadata.namespace or ""
    owner = next((r for r in pod.metadata.owner_references if r.controller), None)
    if owner is None:
        return Workload("Pod", pod.metadata.name, ns, None)
    kind, name = owner.kind, owner.name
    if kind == "ReplicaSet":
        rs = _by_ns_name(snapshot, "replicasets").get((ns, name))
        dep = next((o for o in (rs.metadata.owner_references if rs else []) if o.controller), None)
        if dep is not None:
            kind, name = dep.kind, dep.name
        elif rs is None:
            # The ReplicaSet was not read (or is gone): its name is the Deployment's plus the template hash.
            hash_ = pod.metadata.labels.get("pod-template-hash")
            if (
                hash_
                and name.endswith("-" + hash_)
                and (ns, name[: -len(hash_) - 1]) in _by_ns_name(snapshot, "deployments")
            ):
                kind, name = "Deployment", name[: -len(hash_) - 1]
    attr = {
        "Job": "jobs",
        "StatefulSet": "statefulsets",
        "Deployment": "deployments",
        "ReplicaSet": "replicasets",
        "DaemonSet": "daemonsets",
    }.get(kind)
    obj = _by_ns_name(snapshot, attr).get((ns, name)) if attr else None
    return Workload(kind, name, ns, obj)
