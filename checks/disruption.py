"""Area disruption (GPU5xx): will Karpenter (or spot) pull nodes out from under GPU jobs?"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from checks import fixplans
from checks.budgets import window_end
from checks.cost import LABEL_EKS_NODEGROUP, idle_gpu_node
from checks.findings import age_text, ref
from checks.fix_kinds import FixKind
from checks.gpu import ANNOTATION_DO_NOT_DISRUPT, GPU_RESOURCE, LABEL_CAPACITY_TYPE, LABEL_NODEPOOL
from checks.gpu_nodes import expected_gpus
from checks.gpu_pods import pending_gpu_pods, running_gpu_pods
from checks.k8s import is_terminal, node_is_ready, pod_gpu_request, quantity_or_zero
from checks.kinds import Event, Node, Object, Pod
from checks.model import Finding, ObjectRef, Severity
from checks.nodepool_model import serves_nvidia_gpus, template_spec
from checks.readiness_chain import leaving
from checks.recognise import Recognition, recognise
from checks.registry import check
from checks.snapshot_indexes import nodeclaim_by_name
from checks.workloads import Workload, pod_template_spec, workload_of

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

LONG_RUNNING_KINDS = {
    "Job",
    "StatefulSet",
    "PyTorchJob",
    "TFJob",
    "MPIJob",
    "XGBoostJob",
    "PaddleJob",
    "JAXJob",
    "TrainJob",
    "RayCluster",
    "RayJob",
    "Workflow",
    "PodGroup",
}
_TRAINING_HINT = re.compile(r"train|finetun|fine-tun|pretrain", re.I)
_TRAINING_LABEL_PREFIXES = (
    "training.kubeflow.org/",
    "kubeflow.org/",
    "volcano.sh/job-name",
    "ray.io/",
    "jobset.sigs.k8s.io/",
    "batch.kubernetes.io/job-name",
    "job-name",
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
RECENT_SECONDS = 3 * 3600
DISRUPTION_REASONS = ("DisruptionTerminating", "Evicted", "Disrupted")


def go_duration_seconds(text: str) -> float | None:
    """'30m' -> 1800, '1h30m' -> 5400; None when it is not a Go duration."""
    text = (text or "").strip()
    if not text:
        return None
    pos, total = 0, 0.0
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    return total if pos == len(text) else None


def protection(snapshot: ClusterSnapshot, pod: Pod) -> str | None:
    """Why Karpenter will not voluntarily disrupt this pod's node, or None."""
    value = pod.metadata.annotations.get(ANNOTATION_DO_NOT_DISRUPT)
    if value is not None:
        if value.strip().lower() == "true":
            return f"pod annotation {ANNOTATION_DO_NOT_DISRUPT}=true"
        secs = go_duration_seconds(value)
        if secs is not None:
            started = snapshot.age_seconds(pod.status.start_time or pod.metadata.creation_timestamp)
            if started is None or started < secs:
                return f"pod annotation {ANNOTATION_DO_NOT_DISRUPT}={value} (still within the grace period)"
    node = snapshot.node_by_name.get(pod.spec.node_name or "")
    if node is not None and node.metadata.annotations.get(ANNOTATION_DO_NOT_DISRUPT, "").lower() == "true":
        return f"node annotation {ANNOTATION_DO_NOT_DISRUPT}=true"
    return None


def is_long_running(wl: Workload, pod: Pod) -> str | None:
    if wl.kind in LONG_RUNNING_KINDS:
        return wl.kind
    for owner in pod.metadata.owner_references:
        if owner.kind in LONG_RUNNING_KINDS:
            return owner.kind
    for k, v in pod.metadata.labels.items():
        if k.startswith(_TRAINING_LABEL_PREFIXES):
            return f"label {k}"
        if _TRAINING_HINT.search(k) or _TRAINING_HINT.search(v or ""):
            return f"label {k}={v}"
    return None


def _budget_blocks(budget: dict[str, Any], reason: str) -> bool:
    """A budget of zero nodes, always active, that applies to `reason`."""
    nodes = str(budget.get("nodes", "10%")).strip()
    if nodes not in ("0", "0%"):
        return False
    if budget.get("schedule") or budget.get("duration"):
        return False  # only blocks part of the day
    reasons = budget.get("reasons") or []
    return not reasons or reason in reasons


def voluntary_risks(np: Object) -> dict[str, str]:
    """Voluntary disruption methods the NodePool allows: method -> explanation."""
    d = np.spec.get("disruption") or {}
    budgets = d.get("budgets") or [{"nodes": "10%"}]
    policy = d.get("consolidationPolicy") or "WhenEmptyOrUnderutilized"
    after = str(d.get("consolidateAfter") or "0s")
    out = {}
    if (
        policy in ("WhenEmptyOrUnderutilized", "WhenUnderutilized")  # v1, v1beta1
        and after != "Never"
        and not any(_budget_blocks(b, "Underutilized") for b in budgets)
    ):
        out["consolidation"] = f"consolidationPolicy {policy}, consolidateAfter {after}, budgets " + ", ".join(
            _budget_text(b) for b in budgets
        )
    if not any(_budget_blocks(b, "Drifted") for b in budgets):
        out["drift"] = "Drifted is not blocked by a budget: an AMI or NodePool change replaces the nodes"
    return out


def _long_running_on(snapshot: ClusterSnapshot, kind: str, name: str) -> list[str]:
    """Long-running GPU pods (Job, StatefulSet, training) on a disrupted node or NodeClaim's node."""
    node = name
    if kind == "NodeClaim":
        claim = nodeclaim_by_name(snapshot).get(name)
        node = ((claim.status or {}).get("nodeName") if claim is not None else None) or ""
    out = []
    for pod in running_gpu_pods(snapshot):
        if node and pod.spec.node_name == node and is_long_running(workload_of(snapshot, pod), pod):
            out.append(f"{pod.metadata.namespace}/{pod.metadata.name}")
    return out


def _budget_text(b: dict[str, Any]) -> str:
    text = f"nodes={b.get('nodes', '10%')}"
    if b.get("reasons"):
        text += f" for {'/'.join(b['reasons'])}"
    if b.get("schedule"):
        text += f" (schedule {b['schedule']} for {b.get('duration', '?')})"
    return text


@check(
    "GPU501",
    "gpu-workload-disruptable",
    Severity.WARNING,
    "Long-running GPU workload can be disrupted by Karpenter",
    reads=("pods", "nodes", "nodepools", "jobs", "statefulsets", "replicasets"),
    fixes=(FixKind.ADD_DO_NOT_DISRUPT,),
)
def gpu_workload_disruptable(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """Long-running GPU pods that Karpenter may evict to consolidate, or that run on spot.

    What it checks:
        Running pods that request nvidia.com/gpu and look long-running (owned by a Job,
        StatefulSet or a training operator's kind, or labelled as training), on nodes of a
        NodePool that allows voluntary disruption — consolidationPolicy
        WhenEmptyOrUnderutilized with a consolidateAfter other than Never and no zero-node
        budget for Underutilized — or on spot capacity, and which carry no
        karpenter.sh/do-not-disrupt annotation (nor does their node). Evidence names the
        NodePool's policy and budgets, spot capacity and the node's expiry.

    Why it matters:
        Consolidation evicts pods from underutilized nodes to pack them elsewhere: a
        multi-hour training job restarts from its last checkpoint (or from scratch). GPU
        nodes are expensive, so Karpenter is eager to consolidate them.

    How to fix:
        Annotate the pods (or the Job/StatefulSet pod template) with
        karpenter.sh/do-not-disrupt: "true"; or give the GPU NodePool a budget
        `{nodes: "0", reasons: [Underutilized]}` or consolidationPolicy WhenEmpty. Note:
        do-not-disrupt does NOT stop expiration (expireAfter), spot interruption, node repair
        or a manual delete — checkpoint regularly, and run long jobs on on-demand capacity.

    Severity:
        Always warning: nothing is hurt yet, but Karpenter may interrupt the workload.
    """
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for pod in running_gpu_pods(snapshot):
        if pod.metadata.deletion_timestamp:
            continue
        node = snapshot.node_by_name.get(pod.spec.node_name or "")
        if node is None:
            continue
        pool_name = node.metadata.labels.get(LABEL_NODEPOOL)
        np = snapshot.nodepool_by_name.get(pool_name or "")
        if np is None:
            continue
        if protection(snapshot, pod):
            continue
        wl = workload_of(snapshot, pod)
        why_long = is_long_running(wl, pod)
        if not why_long:
            continue
        risks = voluntary_risks(np)
        spot = node.metadata.labels.get(LABEL_CAPACITY_TYPE) == "spot"
        if "consolidation" not in risks and not spot:
            continue
        key = (wl.kind, wl.namespace, wl.name, np.metadata.name)
        g = groups.setdefault(
            key, {"wl": wl, "np": np, "pods": [], "nodes": [], "spot": False, "why": why_long, "risks": risks}
        )
        g["pods"].append(pod)
        if node not in g["nodes"]:
            g["nodes"].append(node)
        g["spot"] = g["spot"] or spot
    for (kind, ns, name, pool), g in sorted(groups.items(), key=lambda kv: kv[0]):
        np, pods, nodes, risks = g["np"], g["pods"], g["nodes"], g["risks"]
        ev = [
            f"{len(pods)} running GPU pod(s) without {ANNOTATION_DO_NOT_DISRUPT}: "
            + ", ".join(p.metadata.name for p in pods[:5])
            + (f" (+{len(pods) - 5})" if len(pods) > 5 else ""),
            f"long-running because: {g['why']}",
        ]
        methods = []
        if "consolidation" in risks:
            ev.append(f"NodePool {pool}: {risks['consolidation']}")
            methods.append("consolidation")
        if "drift" in risks:
            ev.append(f"NodePool {pool}: {risks['drift']}")
        if g["spot"]:
            ev.append(
                "capacity type spot: an interruption gives 2 minutes' notice, and do-not-disrupt does not stop it"
            )
            methods.append("spot interruption")
        expire = template_spec(np).get("expireAfter")
        if expire and expire != "Never":
            secs = go_duration_seconds(expire)
            for node in nodes[:3]:
                age = snapshot.age_seconds(node.metadata.creation_timestamp)
                if secs is not None and age is not None:
                    ev.append(
                        f"node {node.metadata.name} expires in {age_text(secs - age)} (expireAfter {expire}): "
                        "do-not-disrupt does not stop expiration"
                    )
        subject = ObjectRef(kind=kind, name=name, namespace=ns or None)
        fixes = [fixplans.add_do_not_disrupt(p) for p in pods[:4]]
        if g["wl"].obj is not None and kind != "Job":  # a Job's pod template is immutable
            fixes.append(fixplans.add_do_not_disrupt(g["wl"].obj, kind=kind))
        related = [ref(np, "NodePool")] + [ref(n, "Node") for n in nodes[:5]]
        yield gpu_workload_disruptable.finding(
            f"{kind} {ns}/{name}: {len(pods)} GPU pod(s) on NodePool {pool} can be evicted by "
            f'{" and ".join(methods)}; annotate them {ANNOTATION_DO_NOT_DISRUPT}: "true" '
            "(it does not stop expiration, spot interruption or node repair)",
            subject,
            related=related,
            evidence=ev,
            fixes=fixes,
        )


def _template_gpu(obj: Object) -> bool:
    spec = pod_template_spec(obj)
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        res = c.get("resources") or {}
        for part in ("limits", "requests"):
            if quantity_or_zero((res.get(part) or {}).get(GPU_RESOURCE)) > 0:
                return True
    return False


def _gpu_pod_by_name(snapshot: ClusterSnapshot, namespace: str, name: str) -> tuple[bool | None, Workload | None]:
    """Is the (possibly deleted) pod a GPU pod, and whose is it? A deleted pod is traced to
    the Job/StatefulSet/Deployment whose name prefixes its own."""
    pod = snapshot.pod_by_key.get((namespace, name))
    if pod is not None:
        wl = workload_of(snapshot, pod)
        return pod_gpu_request(pod) > 0, (wl if wl.kind != "Pod" else None)
    best: Workload | None = None
    for attr, kind in (("jobs", "Job"), ("statefulsets", "StatefulSet"), ("deployments", "Deployment")):
        for o in getattr(snapshot, attr):
            if (o.metadata.namespace or "") == namespace and name.startswith(o.metadata.name + "-"):
                if best is None or len(o.metadata.name) > len(best.name):
                    best = Workload(kind, o.metadata.name, namespace, o)
    if best is None or best.obj is None:
        return None, None
    return _template_gpu(best.obj), best


def _node_is_gpu(snapshot: ClusterSnapshot, kind: str, name: str) -> bool:
    if kind == "Node":
        node = snapshot.node_by_name.get(name)
        if node is not None:
            return expected_gpus(snapshot, node) is not None
        nc = snapshot.nodeclaims_by_node.get(name)
    else:
        nc = nodeclaim_by_name(snapshot).get(name)
        if nc is not None and nc.status.get("nodeName") in snapshot.node_by_name:
            node = snapshot.node_by_name[nc.status["nodeName"]]
            if expected_gpus(snapshot, node) is not None:
                return True
    if nc is not None:
        if quantity_or_zero((nc.status.get("capacity") or {}).get(GPU_RESOURCE)) > 0:
            return True
        pool = snapshot.nodepool_by_name.get(nc.metadata.labels.get(LABEL_NODEPOOL, ""))
        return pool is not None and serves_nvidia_gpus(snapshot, pool)
    for np in snapshot.nodepools:
        if kind == "NodeClaim" and name.startswith(np.metadata.name + "-"):
            return serves_nvidia_gpus(snapshot, np)
    return False


@check(
    "GPU502",
    "gpu-pods-disrupted",
    Severity.WARNING,
    "GPU pods or nodes were disrupted recently",
    reads=("events", "pods", "nodes", "nodeclaims", "nodepools", "jobs", "statefulsets", "deployments"),
    fixes=(FixKind.ADD_DO_NOT_DISRUPT,),
)
def gpu_pods_disrupted(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """Recent Karpenter disruptions and evictions that hit GPU nodes or GPU pods.

    What it checks:
        Events of the last 3 hours: DisruptionTerminating ("Disrupting Node: Underutilized /
        Empty / Drifted") on GPU nodes and NodeClaims, Evicted ("Evicted pod: Underutilized",
        or the kubelet's node-pressure eviction) and Disrupted (pods deleted at a node's
        termination deadline, bypassing PDBs and do-not-disrupt) on GPU pods — also pods
        already gone, recognised through their Job/StatefulSet/Deployment. A node drifted,
        expired or emptied with no Job, StatefulSet or training pod on it is info: a routine
        replacement.

    Why it matters:
        Each eviction of a GPU job loses the work since its last checkpoint and another
        round of image pull and warm-up. Repeated "Underutilized" disruptions of GPU nodes
        mean consolidation and your jobs are fighting.

    How to fix:
        For jobs that must not move: karpenter.sh/do-not-disrupt: "true" on the pods, or a
        zero-node budget for Underutilized on the GPU NodePool. For Disrupted events, the
        node's terminationGracePeriod was reached (expiration, drift): checkpoint more often
        or give the NodePool a longer expireAfter.

    Severity:
        Always warning.
    """
    node_groups: dict[str, list[Event]] = defaultdict(list)
    pod_groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for e in _recent_events(snapshot, DISRUPTION_REASONS):
        io = e.involved_object
        if io.kind in ("Node", "NodeClaim"):
            if _node_is_gpu(snapshot, io.kind, io.name):
                node_groups[f"{io.kind}/{io.name}"].append(e)
        elif io.kind == "Pod":
            ns = io.namespace or ""
            is_gpu, owner = _gpu_pod_by_name(snapshot, ns, io.name)
            if not is_gpu:
                continue
            if owner is not None:
                key = (owner.kind, ns, owner.name)
            else:
                key = ("Pod", ns, io.name)
            g = pod_groups.setdefault(key, {"events": [], "owner": owner, "pods": set()})
            g["events"].append(e)
            g["pods"].add(io.name)
    for group, evs in sorted(node_groups.items()):
        kind, name = group.split("/", 1)
        evs.sort(key=lambda e: e.when or "")
        ev = [f"event {e.reason} ({age_text(snapshot.age_seconds(e.when))} ago): {e.message}" for e in evs[-4:]]
        why = next((e.message.split(": ", 1)[1] for e in reversed(evs) if ": " in (e.message or "")), "disrupted")
        jobs = _long_running_on(snapshot, kind, name)
        consolidated = any("Underutilized" in (e.message or "") for e in evs)
        routine = not jobs and not consolidated
        if jobs:
            ev.append("long-running GPU pods on it: " + ", ".join(jobs[:5]))
        elif routine:
            # A replacement (drift, expiry, an empty node) of a node running no job: the pod
            # events, if any, carry the warning for the workloads that were hit.
            ev.append("no Job, StatefulSet or training pod on it in the snapshot: a routine replacement")
        yield gpu_pods_disrupted.finding(
            f"Karpenter disrupted GPU {kind.lower()} {name} ({why}) "
            f"{age_text(snapshot.age_seconds(evs[-1].when))} ago; if jobs ran there, protect them with "
            f"{ANNOTATION_DO_NOT_DISRUPT} or a zero-node budget for this reason",
            ObjectRef(kind=kind, name=name),
            severity=Severity.INFO if routine else None,
            evidence=ev,
        )
    for (kind, ns, name), g in sorted(pod_groups.items()):
        evs = sorted(g["events"], key=lambda e: e.when or "")
        ev = [
            f"event {e.reason} on pod {e.involved_object.name} ({age_text(snapshot.age_seconds(e.when))} ago): "
            f"{e.message}"
            for e in evs[-4:]
        ]
        reasons = sorted({e.reason for e in evs})
        fixes = []
        owner = g["owner"]
        running = [
            p
            for p in running_gpu_pods(snapshot)
            if (p.metadata.namespace or "") == ns
            and ((owner is not None and workload_of(snapshot, p).name == name) or p.metadata.name == name)
        ]
        fixes += [fixplans.add_do_not_disrupt(p) for p in running[:4]]
        if owner is not None and owner.obj is not None and kind != "Job":
            fixes.append(fixplans.add_do_not_disrupt(owner.obj, kind=kind))
        bypass = (
            " (Disrupted bypasses PDBs and do-not-disrupt: the node reached its termination deadline)"
            if "Disrupted" in reasons
            else ""
        )
        yield gpu_pods_disrupted.finding(
            f"{kind} {ns}/{name}: {len(g['pods'])} GPU pod(s) were {'/'.join(reasons)} in the last "
            f"{age_text(snapshot.age_seconds(evs[0].when))}{bypass}; protect the pods with "
            f"{ANNOTATION_DO_NOT_DISRUPT} or stop consolidation on their NodePool",
            ObjectRef(kind=kind, name=name, namespace=ns or None),
            evidence=ev,
            fixes=fixes,
        )


def _recent_events(snapshot: ClusterSnapshot, reasons: Iterable[str]) -> Iterator[Event]:
    """The events of these reasons from the last RECENT_SECONDS (or of no known time)."""
    for reason in reasons:
        for e in snapshot.events_by_reason.get(reason, []):
            age = snapshot.age_seconds(e.when)
            if age is None or age <= RECENT_SECONDS:
                yield e


# -- GPU503, GPU504: idle GPU nodes ------------------------------------------------------------

BLOCK_REASONS = ("DisruptionBlocked", "Unconsolidatable")
IDLE_BLOCKED_SECONDS = 1800  # an idle GPU node Karpenter cannot reclaim for this long is waste
IDLE_GRACE_SECONDS = 1800  # how long past its NodePool's consolidateAfter an idle GPU node may stay
UNMANAGED_IDLE_SECONDS = 3600  # how long a GPU node no NodePool consolidates may stay idle


def _workload_pods(snapshot: ClusterSnapshot, node_name: str) -> list[Pod]:
    """Unfinished pods on the node that are neither DaemonSet pods nor static (mirror) pods:
    what keeps Karpenter from calling the node empty."""
    return [
        p
        for p in snapshot.pods_by_node.get(node_name, [])
        if not is_terminal(p) and not any(o.kind in ("DaemonSet", "Node") for o in p.metadata.owner_references)
    ]


def _pod_names(pods: list[Pod], limit: int = 5) -> str:
    names = [f"{p.metadata.namespace}/{p.metadata.name}" for p in pods]
    return ", ".join(names[:limit]) + (f" (+{len(names) - limit})" if len(names) > limit else "")


def _blocked_idle(snapshot: ClusterSnapshot) -> Iterator[tuple[Node, list[Event], Recognition]]:
    """GPU nodes with no running or pending GPU pod whose recent DisruptionBlocked /
    Unconsolidatable events say why Karpenter keeps them: (node, events oldest first, what
    the newest recognised event says). GPU503 reports them; GPU504 leaves them to it."""
    groups: dict[str, list[Event]] = defaultdict(list)
    ncs = nodeclaim_by_name(snapshot)
    for e in _recent_events(snapshot, BLOCK_REASONS):
        io = e.involved_object
        node_name = io.name
        if io.kind == "NodeClaim":
            nc = ncs.get(io.name)
            node_name = (nc.status.get("nodeName") if nc is not None else None) or ""
        elif io.kind != "Node":
            continue
        if node_name in snapshot.node_by_name:
            groups[node_name].append(e)
    for node_name, evs in sorted(groups.items()):
        node = snapshot.node_by_name[node_name]
        if expected_gpus(snapshot, node) is None:
            continue
        pods = [p for p in snapshot.pods_by_node.get(node_name, []) if p.status.phase in ("Running", "Pending")]
        if any(pod_gpu_request(p) > 0 for p in pods):
            continue
        evs.sort(key=lambda e: e.when or "")
        known = [r for r in (recognise(e.message or "") for e in evs) if r is not None and r.family == "disruption"]
        if not known or known[-1].cause == "not-initialized":
            continue  # GPU304 reports nodes that never initialized
        yield node, evs, known[-1]


@check(
    "GPU503",
    "idle-gpu-node-not-reclaimed",
    Severity.WARNING,
    "Karpenter cannot reclaim an idle GPU node",
    reads=("events", "nodes", "nodeclaims", "pods", "poddisruptionbudgets"),
)
def idle_gpu_node_not_reclaimed(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """An idle GPU node whose DisruptionBlocked / Unconsolidatable events say why it stays.

    What it checks:
        GPU nodes (and their NodeClaims) on which no running pod requests nvidia.com/gpu,
        with Karpenter DisruptionBlocked or Unconsolidatable events of the last 3 hours.
        The latest event's text is read (checks.recognise): a pod's
        karpenter.sh/do-not-disrupt annotation, a PodDisruptionBudget that allows no
        eviction ("PDB ... prevents pod evictions"), the node's own do-not-disrupt
        annotation, a WhenEmpty policy with a non-GPU pod on the node ("node is not
        empty"), a budget that allows no disruption, "Can't replace with a cheaper node",
        "not all pods would schedule". Nodes that never initialized are GPU304's; busy
        GPU nodes are not reported: blocking their disruption is what protects the jobs.
        The message says what the node has cost since it went idle (checks.cost: the
        instance catalogue's on-demand price, or its spot estimate on a spot node; no
        figure for an instance type the catalogue does not know). Idle GPU nodes without
        such events are GPU504's.

    Why it matters:
        An idle GPU node is billed by the hour (a p5.48xlarge costs about $55 an hour on demand)
        and serves nobody; consolidation exists to remove it, and one annotation or PDB
        on a small pod can keep it forever.

    How to fix:
        The finding names the object that blocks and what to change: remove the pod's
        do-not-disrupt annotation (or move that pod off GPU nodes), relax the PDB
        (maxUnavailable >= 1), switch the GPU NodePool to WhenEmptyOrUnderutilized, widen
        the disruption budget, or keep non-GPU pods off GPU nodes with the GPU taint.

    Severity:
        Warning when the node has been idle and blocked for 30 minutes or more (the events
        span that long). Info before: consolidation may still be on its way.
    """
    for node, evs, rec in _blocked_idle(snapshot):
        node_name = node.metadata.name
        gpus = expected_gpus(snapshot, node)
        first = min((e.first_timestamp or e.when or "" for e in evs), default="")
        span = snapshot.age_seconds(first)
        others = _workload_pods(snapshot, node_name)
        ev = [
            f"event {e.reason} on {e.involved_object.kind} ({age_text(snapshot.age_seconds(e.when))} ago"
            + (f", x{e.count}" if e.count and e.count > 1 else "")
            + f"): {e.message}"
            for e in evs[-3:]
        ]
        ev.append(f"recognised: {rec.cause}; change {rec.subject}")
        ev.append(
            f"no running pod requests nvidia.com/gpu on it ({gpus.describe() if gpus else '?'})"
            + (f"; other pods on it: {_pod_names(others)}" if others else "")
        )
        related = []
        nc = snapshot.nodeclaims_by_node.get(node_name)
        if nc is not None:
            related.append(ref(nc, "NodeClaim"))
        kind, _, rest = rec.subject.partition("/")
        if rest:
            ns, _, name = rest.rpartition("/")
            related.append(ObjectRef(kind=kind, name=name, namespace=ns or None))
        long_idle = span is not None and span >= IDLE_BLOCKED_SECONDS
        idle = idle_gpu_node(snapshot, node)
        if idle is not None and idle.cost.usd_per_hour is not None:
            ev.append(idle.cost_evidence)
        spent = idle.spent_text if idle is not None else ""
        yield idle_gpu_node_not_reclaimed.finding(
            f"Idle GPU node {node_name} is not reclaimed"
            + (f" for {age_text(span)}" if span is not None else "")
            + (f" ({spent})" if spent else "")
            + f": {rec.headline}; {rec.remedy_text}",
            ref(node, "Node"),
            severity=None if long_idle else Severity.INFO,
            related=related,
            evidence=ev,
        )


@dataclass(frozen=True)
class Reclaim:
    """What will become of an idle GPU node: who removes it, and when it is overdue."""

    pool: Object | None  # the Karpenter NodePool that manages the node, None when none does
    kept: str  # why the pool keeps idle nodes on purpose ('' when it does not)
    stuck: str  # why the pool's consolidation will not remove this node ('' when it will)
    limit_seconds: float  # idle longer than this is waste
    text: str  # the pool's policy, for the evidence
    undo: str = ""  # how to stop keeping a kept node, if that is not the intent


def _budget_window(snapshot: ClusterSnapshot, budgets: list[dict[str, Any]], reason: str) -> str:
    """The zero-node budget for `reason` whose scheduled window is open now, as text ('' if none)."""
    for b in budgets:
        reasons = b.get("reasons") or []
        if (
            str(b.get("nodes", "10%")).strip() not in ("0", "0%")
            or not b.get("schedule")
            or (reasons and reason not in reasons)
        ):
            continue
        secs = go_duration_seconds(str(b.get("duration") or ""))
        end = window_end(str(b["schedule"]), secs, snapshot.now)
        if end is not None:
            return (
                f"a disruption budget of 0 nodes for {reason} until {end:%a %H:%M} UTC "
                f"(schedule {b['schedule']} for {b.get('duration')})"
            )
    return ""


def reclaim(snapshot: ClusterSnapshot, node: Node, others: list[Pod]) -> Reclaim:
    """How the node's NodePool treats it once idle (others: the non-DaemonSet pods on it).

    Karpenter removes an empty node (only DaemonSet pods) after consolidateAfter unless the
    NodePool says Never, a zero-node budget blocks reason Empty (always, or in a scheduled window
    open now: checks.budgets) or the node carries
    karpenter.sh/do-not-disrupt (kept on purpose); with pods left on it the node is
    Underutilized, which only consolidationPolicy WhenEmptyOrUnderutilized acts on, and a pod
    annotated do-not-disrupt blocks it (stuck).
    """
    pool = snapshot.nodepool_by_name.get(node.metadata.labels.get(LABEL_NODEPOOL, ""))
    if pool is None:
        return Reclaim(None, "", "", UNMANAGED_IDLE_SECONDS, "")
    d = pool.spec.get("disruption") or {}
    policy = d.get("consolidationPolicy") or "WhenEmptyOrUnderutilized"
    after = str(d.get("consolidateAfter") or "0s")
    budgets = d.get("budgets") or [{"nodes": "10%"}]
    reason = "Underutilized" if others else "Empty"
    text = (
        f"NodePool {pool.metadata.name}: consolidationPolicy {policy}, consolidateAfter {after}, budgets "
        + ", ".join(_budget_text(b) for b in budgets)
    )
    limit = (go_duration_seconds(after) or 0.0) + IDLE_GRACE_SECONDS
    kept = stuck = undo = ""
    name = pool.metadata.name
    if after == "Never":
        kept = "consolidateAfter: Never"
        undo = f"""kubectl patch nodepool {name} --type merge -p '{{"spec":{{"disruption":{{"consolidateAfter":"10m"}}}}}}'"""
    elif any(_budget_blocks(b, reason) for b in budgets):
        kept, undo = (
            f"a disruption budget of 0 nodes for {reason}",
            f"kubectl edit nodepool {name} (spec.disruption.budgets)",
        )
    elif scheduled := _budget_window(snapshot, budgets, reason):
        kept, undo = (
            scheduled,
            f"wait for the window to close, or kubectl edit nodepool {name} (spec.disruption.budgets)",
        )
    elif node.metadata.annotations.get(ANNOTATION_DO_NOT_DISRUPT, "").lower() == "true":
        kept = f"node annotation {ANNOTATION_DO_NOT_DISRUPT}=true"
        undo = f"kubectl annotate node {node.metadata.name} {ANNOTATION_DO_NOT_DISRUPT}-"
    elif blocker := next((p for p in others if protection(snapshot, p)), None):
        stuck = f"pod {_pod_names([blocker])} has {protection(snapshot, blocker)}"
    elif others and policy not in ("WhenEmptyOrUnderutilized", "WhenUnderutilized"):
        stuck = f"consolidationPolicy {policy} and pods other than DaemonSets on it ({_pod_names(others, 3)})"
    return Reclaim(pool, kept, stuck, limit, text, undo)


@check(
    "GPU504",
    "idle-gpu-node",
    Severity.WARNING,
    "GPU node idle longer than it should be",
    reads=("nodes", "pods", "nodepools", "nodeclaims", "events"),
    fixes=(FixKind.DELETE_NODECLAIM,),
)
def idle_gpu_node_waste(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A GPU node nobody uses, with how long it has been idle and what that has cost.

    What it checks:
        Ready GPU nodes with allocatable nvidia.com/gpu and no unfinished pod asking for a
        GPU (checks.cost.idle_gpu_node: idle since the newest GPU pod on it ended, or since
        the node was created). Nodes being deleted, drained by Karpenter (karpenter.sh/disrupted,
        a NodeClaim being deleted) or not Ready are left out: they are leaving or broken, not
        idle. Nodes whose DisruptionBlocked / Unconsolidatable events say why they stay are
        GPU503's and not reported again here; a node a pending GPU pod is nominated to is about
        to be used (info). The message names the node, its instance type,
        its hourly price (on-demand, or '~' and a typical spot price on a spot node; none for an
        instance type the price catalogue does not know), how long it has been idle and what
        that has cost so far. Evidence gives the NodePool's consolidation policy, the pods that
        keep the node from being empty, and the way to remove the node.

    Why it matters:
        A GPU node is billed by the hour whether or not anything runs on it: a forgotten
        p5.48xlarge costs about $55 an hour. Karpenter's consolidation should remove an empty
        node soon after consolidateAfter; when it has not (Karpenter is down, its events have
        expired, a stray pod keeps a WhenEmpty node), or when no NodePool manages the node
        (a managed node group, a self-managed node), nobody else will say so.

    How to fix:
        Find out why the node is still there. For a Karpenter node, delete its NodeClaim (the
        offered fix: Karpenter drains and terminates it, and launches a node again only for
        pending pods), move a pod annotated karpenter.sh/do-not-disrupt off it, keep non-GPU
        pods off GPU nodes with the GPU taint, or lower the NodePool's consolidateAfter. For a node no NodePool manages, drain it
        (`kubectl drain NODE --ignore-daemonsets --delete-emptydir-data`) and scale its node
        group down (or let the cluster autoscaler remove it).

    Severity:
        Warning once the node has been idle for 30 minutes beyond its NodePool's
        consolidateAfter (a Karpenter node), or for an hour (a node no NodePool manages).
        Info before that, while consolidation may still be on its way, and when the idle time
        is unknown. A NodePool that keeps idle nodes on purpose (consolidateAfter: Never, a
        budget of 0 nodes for the reason that applies, always or in a scheduled window open
        now, or the node's own
        karpenter.sh/do-not-disrupt annotation) is info at any age: the message says the pool
        keeps it and what it costs, a warm node being a choice. A pod's do-not-disrupt
        annotation or a stray pod on a WhenEmpty node is not a choice about the node: warning.
    """
    blocked = {node.metadata.name for node, _, _ in _blocked_idle(snapshot)}
    nominated = {p.status.nominated_node_name: p for p in pending_gpu_pods(snapshot) if p.status.nominated_node_name}
    for node in snapshot.nodes:
        name = node.metadata.name
        if name in blocked or not node_is_ready(node) or leaving(snapshot, node) is not None:
            continue
        idle = idle_gpu_node(snapshot, node)
        if idle is None:
            continue
        others = _workload_pods(snapshot, name)
        how = reclaim(snapshot, node, others)
        secs = idle.idle_seconds
        waiting = nominated.get(name)  # the scheduler means to bind a GPU pod here: not idle for long
        overdue = not how.kept and not waiting and secs is not None and secs >= how.limit_seconds
        cost = idle.cost
        price = (
            f"{cost.text} ({'spot estimate' if cost.estimate else 'on-demand'})"
            if cost.usd_per_hour is not None
            else "no price for this instance type"
        )
        spent = idle.spent_text
        head = (
            f"GPU node {name} ({cost.instance_type or 'unknown type'}, {idle.gpus} GPU{'s' if idle.gpus != 1 else ''})"
            " has been idle"
            + (f" for {age_text(secs)}" if secs is not None else " for an unknown time")
            + f": {price}"
            + (f", {spent}" if spent else "")
        )
        group = node.metadata.labels.get(LABEL_EKS_NODEGROUP)
        if waiting is not None:
            tail = f"pending GPU pod {_pod_names([waiting])} is nominated to it"
        elif how.pool is None:
            tail = "no Karpenter NodePool manages it: drain it and scale " + (
                f"node group {group} down" if group else "its node group down"
            )
        elif how.kept:
            tail = f"NodePool {how.pool.metadata.name} keeps idle nodes on purpose ({how.kept})"
        elif how.stuck:
            tail = f"Karpenter will not consolidate it: {how.stuck}"
        elif overdue:
            tail = f"NodePool {how.pool.metadata.name} should have consolidated it; find out why it did not"
        else:
            tail = f"NodePool {how.pool.metadata.name} should consolidate it soon"
        ev = [
            f"no unfinished pod asks for nvidia.com/gpu on it ({idle.gpus} allocatable); idle since the "
            f"newest GPU pod on it ended or since it was created, {age_text(secs)} ago",
            idle.cost_evidence,
        ]
        if others:
            ev.append(f"pods other than DaemonSets on it: {_pod_names(others)}")
        nc = snapshot.nodeclaims_by_node.get(name)
        fixes = []
        if how.pool is None:
            ev.append(
                f"not managed by Karpenter: kubectl drain {name} --ignore-daemonsets --delete-emptydir-data, "
                + (f"then scale EKS managed node group {group} down" if group else "then scale its node group down")
                + " (or let the cluster autoscaler remove it)"
            )
        else:
            ev.append(how.text)
            ev.append(
                f"warning after {age_text(how.limit_seconds)} idle (consolidateAfter + {age_text(IDLE_GRACE_SECONDS)})"
                if not how.kept
                else f"a warm GPU node is a choice; if it is not one: {how.undo}"
            )
            if overdue and nc is not None:
                fixes.append(fixplans.delete_nodeclaim(nc))
        yield idle_gpu_node_waste.finding(
            f"{head}; {tail}",
            ref(node, "Node"),
            severity=None if overdue else Severity.INFO,
            related=[ref(nc, "NodeClaim")] if nc is not None else [],
            evidence=ev,
            fixes=fixes,
        )
