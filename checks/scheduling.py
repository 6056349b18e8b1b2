"""Area 4, scheduling: GPU pods that wait, and why.

One finding per workload (pods of one Deployment/Job/StatefulSet wait for the same
reason), built from what the scheduler and Karpenter said (checks.event_messages) and from
re-doing Karpenter's NodePool reasoning offline (checks.nodepools).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from checks import fixplans, instances
from checks.conditions import condition
from checks.event_messages import (
    KarpenterMessage,
    Nominated,
    SchedulerMessage,
    parse_failed_scheduling,
    parse_nodeclaim_event,
    parse_nominated,
)
from checks.fix_kinds import FixKind
from checks.gpu import GPU_RESOURCE
from checks.gpu_nodes import expected_gpus
from checks.gpu_pods import gpu_requests, unscheduled_gpu_pods
from checks.k8s import format_quantity, pod_gpu_request, pod_requests, quantity_or_zero, taint_from_dict
from checks.kinds import Event, Node, Object, Pod, Taint, to_dict, to_struct
from checks.model import Finding, FixPlan, ObjectRef, Severity
from checks.nodeclaims import launched_after
from checks.nodeclass_kubelet import nodeclass_kubelet
from checks.nodepool_model import is_nvidia_nodepool
from checks.nodepools import (
    Blocker,
    Conflict,
    NodePoolVerdict,
    WidenPlan,
    daemonset_overhead,
    evaluate_nodepool,
    karpenter_equivalent,
    nodes_needed,
    set_after_boot,
    widen_requirements,
)
from checks.readiness_chain import mig_resources, still_initializing
from checks.recognise import recognise
from checks.registry import check
from checks.transitions import (
    LAUNCH_PATIENCE_SECONDS,
    NODECLAIM_REGISTER_SECONDS,
    NOMINATION_PATIENCE_SECONDS,
    POD_NOMINATED,
    deadline_text,
    elapsed_text,
    within,
)
from checks.workloads import Workload, group_by_workload, pod_template_spec

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

MAX_EVIDENCE_TEXTS = 3
# Launched=Unknown reasons that mean "not launched yet" rather than "launch failed".
_LAUNCH_STARTING_REASONS = {None, "", "AwaitingReconciliation", "Launching"}

# -- grouping --------------------------------------------------------------------------


def _request_words(pod: Pod) -> str:
    gpus = pod_gpu_request(pod)
    if gpus:
        return f"{gpus} GPU{'s' if gpus != 1 else ''}"
    return ", ".join(f"{format_quantity(q, r)} {r}" for r, q in sorted(gpu_requests(pod).items()))


# -- what the emitters said ---------------------------------------------------------------


@dataclass
class PodStory:
    scheduler: list[tuple[Event, SchedulerMessage]] = field(default_factory=list)
    karpenter: list[tuple[Event, KarpenterMessage]] = field(default_factory=list)
    nominated: list[Event] = field(default_factory=list)

    @property
    def latest_scheduler(self) -> tuple[Event, SchedulerMessage] | None:
        return max(self.scheduler, key=lambda em: em[0].when or "", default=None)

    @property
    def latest_karpenter(self) -> tuple[Event, KarpenterMessage] | None:
        return max(self.karpenter, key=lambda em: em[0].when or "", default=None)

    @property
    def latest_nominated(self) -> Event | None:
        return max(self.nominated, key=lambda e: e.when or "", default=None)


def pod_story(snapshot: ClusterSnapshot, pods: list[Pod]) -> PodStory:
    story = PodStory()
    for p in pods:
        for e in snapshot.events_for("Pod", p.metadata.name, p.metadata.namespace):
            if e.reason == "FailedScheduling":
                parsed = parse_failed_scheduling(e.message)
                if isinstance(parsed, KarpenterMessage) or e.component == "karpenter":
                    if isinstance(parsed, KarpenterMessage):
                        story.karpenter.append((e, parsed))
                else:
                    story.scheduler.append((e, parsed))
            elif e.reason == "Nominated":
                story.nominated.append(e)
    return story


def ice_events(snapshot: ClusterSnapshot, nodepools: list[str], nodeclaims: Sequence[str] = ()) -> list[Event]:
    """InsufficientCapacityError events of NodeClaims of these NodePools. The NodeClaim is
    deleted right after the error, so only its name (`<nodepool>-<suffix>`) links them."""
    out = []
    for e in snapshot.events_by_reason.get("InsufficientCapacityError", []):
        nc = e.involved_object.name or (parse_nodeclaim_event(e.message).nodeclaim or "")
        if nc in nodeclaims or any(nc.startswith(np + "-") for np in nodepools) or e.involved_object.name in nodepools:
            out.append(e)
    out.sort(key=lambda e: e.when or "")
    return out


# -- GPU401 ---------------------------------------------------------------------------------


@check(
    "GPU401",
    "gpu-pods-pending",
    Severity.ERROR,
    "GPU pods cannot be scheduled",
    reads=(
        "pods",
        "events",
        "nodes",
        "nodepools",
        "nodeclaims",
        "replicasets",
        "deployments",
        "statefulsets",
        "jobs",
        "daemonsets",
    ),
    fixes=(
        FixKind.ADD_NODE_SELECTOR,
        FixKind.ADD_TOLERATION,
        FixKind.RAISE_NODEPOOL_LIMIT,
        FixKind.WIDEN_NODEPOOL_REQUIREMENTS,
    ),
)
def gpu_pods_pending(snapshot: ClusterSnapshot) -> list[Finding]:
    """Pending GPU pods, one finding per workload, with the reason in plain words.

    What it checks:
        Pods that request nvidia.com/gpu (or a MIG slice) and have not been placed on
        a node (older than 30 seconds or already with events). Pods of one Deployment,
        Job or StatefulSet are reported together. The finding quotes the latest FailedScheduling texts of
        kube-scheduler and Karpenter (every known wording is parsed), Karpenter's
        Nominated event and the InsufficientCapacityError events of the NodePools
        involved, and re-does Karpenter's reasoning for every GPU NodePool: taints
        against the pod's tolerations, requirements and template labels against its
        nodeSelector and required node affinity, which instance types can hold its
        GPU/CPU/memory requests plus daemonset overhead (under the EC2NodeClass's kubelet
        maxPods, podsPerCore, kubeReserved, systemReserved and evictionHard),
        and the headroom left under spec.limits. Event texts are read with
        checks.recognise, so a reason taken from them comes with its remedy.

    Why it matters:
        A GPU pod that never schedules is the most common symptom of a GPU cluster
        problem, and the events alone rarely say which of several NodePools was meant
        to take it or which of their constraints got in the way. The scheduler's
        histogram only describes existing nodes; Karpenter's message lists every
        NodePool's objection at once.

    How to fix:
        Follow the NodePool line that matches the intent: add the NodePool's taint as a
        toleration to the pod template (add-toleration), select the NodePool's labels
        (add-node-selector), raise spec.limits (raise-nodepool-limit), or allow larger
        or other instance types (widen-nodepool-requirements), or raise kubelet maxPods /
        podsPerCore (lower its reservations) in the EC2NodeClass when they leave no room. When EC2 reports
        InsufficientInstanceCapacity, allow more instance types, sizes or zones, or
        spot and on-demand both. When a node exists but offers no nvidia.com/gpu, see
        GPU101.

    Severity:
        Error by default: no NodePool fits, EC2 has no capacity, GPU nodes advertise no
        GPUs, the nominated NodeClaim failed or is stuck, or the events give another
        reason. Warning when the nominated NodeClaim was launched 5 to 10 minutes ago,
        has not failed, and its node has not registered yet. Info while Karpenter is
        launching the nominated NodeClaim, it has not failed and is less than 10 minutes
        old.
    """
    pending = unscheduled_gpu_pods(snapshot)
    if not pending:
        return []
    overheads = {
        np.metadata.name: (daemonset_overhead(snapshot.daemonsets, np) if snapshot.daemonsets else None)
        for np in snapshot.nodepools
    }
    findings = []
    for wl in group_by_workload(snapshot, pending):
        findings.append(_pending_finding(snapshot, wl, overheads))
    return findings


def _nodepools_to_judge(snapshot: ClusterSnapshot, story: PodStory) -> list[Object]:
    gpu = [np for np in snapshot.nodepools if is_nvidia_nodepool(np)]
    named = {n for _, k in story.karpenter for n in k.nodepools}
    chosen = gpu + [np for np in snapshot.nodepools if np.metadata.name in named and np not in gpu]
    return chosen or list(snapshot.nodepools)


def _pending_finding(snapshot: ClusterSnapshot, wl: Workload, overheads: dict[str, Any]) -> Finding:
    pod = wl.pods[0]
    story = pod_story(snapshot, wl.pods)
    pools = _nodepools_to_judge(snapshot, story)
    verdicts = [
        evaluate_nodepool(
            np,
            pod,
            daemonset_overhead=overheads.get(np.metadata.name),
            kubelet=nodeclass_kubelet(snapshot.ec2nodeclasses, np),
        )
        for np in pools
    ]
    nominated = parse_nominated(story.latest_nominated.message) if story.latest_nominated else None
    # Capacity errors matter only for the NodePools that could take the pod.
    able = [v.nodepool for v in verdicts if v.fits]
    ice = ice_events(snapshot, able, [nominated.nodeclaim] if nominated and nominated.nodeclaim else [])
    if ice and launched_after(snapshot, able, ice[-1].when) is not None:
        ice = []  # EC2 found capacity for a later launch in the same NodePools: the error is history

    reason, severity = _main_reason(snapshot, story, verdicts, nominated, ice)
    if len(wl.pods) == 1:
        reason = reason.replace(" for them", " for it")
    n = len(wl.pods)
    what = (
        f"{n} pod{'s' if n != 1 else ''} of {wl.ref.kind} {wl.ref.namespace}/{wl.ref.name}"
        if wl.ref.kind != "Pod"
        else f"Pod {wl.ref.namespace}/{wl.ref.name}"
    )
    each = " each" if n != 1 else ""
    message = f"{what} wait{'s' if n == 1 else ''} for {_request_words(pod)}{each}: {reason}"

    evidence = _evidence(story, ice, verdicts, snapshot)
    if nominated and nominated.nodeclaim and reason.startswith(f"nominated NodeClaim {nominated.nodeclaim} is not"):
        # The NodeClaim it waits for is past the time a launch takes: say by how much.
        nc = next((c for c in snapshot.nodeclaims if c.metadata.name == nominated.nodeclaim), None)
        nc_age = snapshot.age_seconds(nc.metadata.creation_timestamp) if nc is not None else None
        if nc_age is not None and not within(POD_NOMINATED, nc_age):
            evidence.append(f"NodeClaim {nominated.nodeclaim} created {elapsed_text(POD_NOMINATED, nc_age)}")
    related = _related(snapshot, pools, nominated, ice)
    fixes = _fixes(wl, verdicts, pools, overheads)
    return gpu_pods_pending.finding(
        message,
        wl.ref,
        severity=severity,
        title=f"{n} GPU pod{'s' if n != 1 else ''} pending"
        + (f" ({wl.ref.kind} {wl.ref.name})" if wl.ref.kind != "Pod" else ""),
        related=related,
        evidence=evidence,
        fixes=fixes,
    )


def _main_reason(
    snapshot: ClusterSnapshot,
    story: PodStory,
    verdicts: list[NodePoolVerdict],
    nominated: Nominated | None,
    ice: list[Event],
) -> tuple[str, Severity]:
    fitting = [v for v in verdicts if v.fits]
    sched = story.latest_scheduler
    if verdicts and not fitting:
        best = min(verdicts, key=_intent_rank)
        others = len(verdicts) - 1
        tail = f" (and {others} other NodePool{'s' if others != 1 else ''} cannot either)" if others else ""
        return f"no NodePool can launch a node for them; {best.summary()}{tail}", Severity.ERROR
    if ice:
        parsed = parse_nodeclaim_event(ice[-1].message)
        types = ", ".join(parsed.instance_types) or "the requested instance types"
        code = f" ({parsed.error_code})" if parsed.error_code else ""
        return (f"EC2 has no capacity for {types}{code}; Karpenter keeps retrying other offerings", Severity.ERROR)
    gpu_less = _gpu_nodes_without_gpus(snapshot, [v.nodepool for v in fitting])
    if gpu_less and (sched is None or sched[1].reasons_of("resources")):
        names = ", ".join(gpu_less[:3]) + (" ..." if len(gpu_less) > 3 else "")
        return (
            f"GPU node(s) {names} offer no allocatable nvidia.com/gpu (device plugin not running there; see GPU101)",
            Severity.ERROR,
        )
    if nominated and nominated.nodeclaim:
        nc = next((c for c in snapshot.nodeclaims if c.metadata.name == nominated.nodeclaim), None)
        if nc is not None:
            state = _nodeclaim_state(nc)
            age = snapshot.age_seconds(nc.metadata.creation_timestamp)
            # Karpenter reports a failed launch as Launched=Unknown with a reason (LaunchFailed, ...).
            launched, registered = condition(nc, "Launched"), condition(nc, "Registered")
            failed = (
                launched is not None
                and launched.get("status") != "True"
                and (launched.get("status") == "False" or launched.get("reason") not in _LAUNCH_STARTING_REASONS)
            )
            unregistered = registered is not None and registered.get("status") != "True"
            if (
                not failed
                and unregistered
                and age is not None
                and NODECLAIM_REGISTER_SECONDS <= age < LAUNCH_PATIENCE_SECONDS
            ):
                return (
                    f"nominated NodeClaim {nc.metadata.name} launched {int(age // 60)} min ago but its node has "
                    f"not registered ({state or 'Registered is not True'}); see GPU303",
                    Severity.WARNING,
                )
            if not failed and (age is None or age < LAUNCH_PATIENCE_SECONDS):
                # A GPU node needs minutes to boot and more for the driver: waiting is normal.
                now = f" ({state})" if state else ""
                return (
                    f"Karpenter is launching NodeClaim {nc.metadata.name} for them{now}; "
                    f"{deadline_text(POD_NOMINATED, age)}",
                    Severity.INFO,
                )
            return f"nominated NodeClaim {nc.metadata.name} is not ready: {state or 'still not ready'}", Severity.ERROR
    if sched is not None and sched[1].recognised:
        if fitting and sched[1].kind == "fit-error":
            pools = ", ".join(v.nodepool for v in fitting)
            return (
                f"existing nodes do not fit ({sched[1].summary()}) and NodePool {pools} could launch one, "
                "but Karpenter has not",
                Severity.ERROR,
            )
        return _with_remedy(sched[1].summary(), sched[0].message), Severity.ERROR
    kp = story.latest_karpenter
    if kp is not None:
        return _with_remedy(kp[1].summary(), kp[0].message), Severity.ERROR
    if sched is not None:
        return _with_remedy(sched[0].message, sched[0].message), Severity.ERROR
    return "no scheduling event explains it yet", Severity.ERROR


def _with_remedy(reason: str, text: str) -> str:
    """The reason, and what to do when the event text says it (checks.recognise); the text stays in the evidence."""
    rec = recognise(text)
    if rec is None or rec.family not in ("scheduling", "nodeclass-settings"):
        return reason
    return f"{reason}. {rec.remedy_text}"


def _intent_rank(v: NodePoolVerdict) -> tuple[int, int]:
    """NodePools the pod's selectors point at come first: a pool it does not even select
    (requirements conflict, no GPU types) is rarely the one to fix."""
    off_target = any(b.kind == "requirements" or (b.kind == "no-instance-type" and not b.data) for b in v.blocking)
    return (1 if off_target else 0, len(v.blocking))


def _nodeclaim_state(nc: Object) -> str | None:
    """'Initialized=Unknown (ResourceNotRegistered: ...)' for the first condition not True."""
    for t in ("Launched", "Registered", "Initialized"):
        c = condition(nc, t)
        if c is not None and c.get("status") != "True" and c.get("reason"):
            msg = f": {c['message']}" if c.get("message") else ""
            return f"{t}={c.get('status')} ({c.get('reason')}{msg})"
    return None


def _gpu_nodes_without_gpus(snapshot: ClusterSnapshot, nodepools: list[str]) -> list[str]:
    out = []
    for node in snapshot.nodes:
        labels = node.metadata.labels
        pool = labels.get("karpenter.sh/nodepool")
        if nodepools and pool is not None and pool not in nodepools:
            continue
        if expected_gpus(snapshot, node) is None or node.spec.unschedulable:
            continue
        if (
            quantity_or_zero(node.status.allocatable.get(GPU_RESOURCE)) == 0
            and not mig_resources(node)  # MIG's mixed strategy advertises nvidia.com/mig-* instead
            and not still_initializing(snapshot, node)  # a new node's driver is still coming up (GPU102)
        ):
            out.append(node.metadata.name)
    return out


def _evidence(
    story: PodStory, ice: list[Event], verdicts: list[NodePoolVerdict], snapshot: ClusterSnapshot
) -> list[str]:
    ev: list[str] = []
    sched = story.latest_scheduler
    if sched:
        ev.append(f"FailedScheduling ({sched[0].component or 'default-scheduler'}): {sched[0].message}")
    kp = story.latest_karpenter
    if kp:
        ev.append(f"FailedScheduling (karpenter): {kp[0].message}")
    nom = story.latest_nominated
    if nom:
        ev.append(f"Nominated ({nom.component or 'karpenter'}): {nom.message}")
    for e in ice[-MAX_EVIDENCE_TEXTS:]:
        ev.append(
            f"InsufficientCapacityError ({e.involved_object.kind or 'NodeClaim'}/{e.involved_object.name}): {e.message}"
        )
    for v in sorted(verdicts, key=lambda v: (not v.fits, _intent_rank(v))):
        ev.append(v.summary())
    return ev


def _related(
    snapshot: ClusterSnapshot, pools: list[Object], nominated: Nominated | None, ice: list[Event]
) -> list[ObjectRef]:
    refs: list[ObjectRef] = [
        ObjectRef("NodePool", np.metadata.name, None, np.api_version or "karpenter.sh/v1") for np in pools
    ]
    claims: list[str] = []
    if nominated:
        if nominated.nodeclaim:
            claims.append(nominated.nodeclaim)
        if nominated.node:
            refs.append(ObjectRef("Node", nominated.node, None, "v1"))
    for e in ice:
        claims.append(e.involved_object.name)
    names = {np.metadata.name for np in pools}
    for nc in snapshot.nodeclaims:
        if nc.metadata.labels.get("karpenter.sh/nodepool") in names and _nodeclaim_state(nc):
            claims.append(nc.metadata.name)
    for c in dict.fromkeys(c for c in claims if c):
        refs.append(ObjectRef("NodeClaim", c, None, "karpenter.sh/v1"))
    return refs


# -- fix plans ----------------------------------------------------------------------------


def _fixes(
    wl: Workload, verdicts: list[NodePoolVerdict], pools: list[Object], overheads: dict[str, Any]
) -> list[FixPlan]:
    """Plans for the NodePool whose objections are all fixable, fewest first. When some
    NodePool matches the pod's selectors, only those are candidates: steering the pod to
    a pool it does not select is a design change, not a fix."""
    if not verdicts or any(v.fits for v in verdicts):
        return []
    by_name = {np.metadata.name: np for np in pools}
    on_target = [v for v in verdicts if _intent_rank(v)[0] == 0]
    for v in sorted(on_target or verdicts, key=_intent_rank):
        plans = _plans_for(wl, v, by_name[v.nodepool], overheads.get(v.nodepool))
        if plans is not None:
            return plans
    return []


def _plans_for(
    wl: Workload, v: NodePoolVerdict, np: Object, overhead: dict[str, Decimal] | None
) -> list[FixPlan] | None:
    """Every plan needed to unblock this NodePool, or None when one objection has no plan."""
    plans: list[FixPlan] = []
    taints = [taint_from_dict(b.data["taint"]) for b in v.blockers_of("taint")]
    if taints:
        plans.extend(_toleration_plans(wl, taints))
    widen_needed = widen_wanted = False
    for b in v.blocking:
        if b.kind == "taint":
            continue
        if b.kind == "limits":
            plans.append(_limit_plan(np, wl, b))
        elif b.kind == "requirements" and "conflict" in b.data and set_after_boot(b.data["conflict"].key):
            sel = _replace_node_agent_selector_plan(wl, b.data["conflict"])
            if sel is None:
                return None
            plans.append(sel)
        elif b.kind == "requirements" and "conflict" in b.data:
            # Either side may be the one to change: offer both when both are possible.
            sel = _node_selector_plan(wl, b.data["conflict"], np)
            if sel is not None:
                plans.append(sel)
                widen_wanted = True
            else:
                widen_needed = True
        elif b.kind in ("requirements", "no-instance-type"):
            widen_needed = True
        else:
            return None
    if widen_needed or widen_wanted:
        w = widen_requirements(np, wl.pods[0], daemonset_overhead=overhead)
        if w is not None:
            plans.append(_widen_plan(np, w))
        elif widen_needed:
            return None
    return plans


def _toleration_plans(wl: Workload, taints: list[Any]) -> list[FixPlan]:
    if wl.ref.kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet") and wl.obj is not None:
        plan = fixplans.add_toleration(wl.obj, taints, kind=wl.ref.kind)
        plan.disruptive = True  # the rollout replaces running replicas too
        return [plan]
    # A Job's pod template is immutable; a pod may gain tolerations in place.
    plans = []
    for p in wl.pods:
        plan = fixplans.add_toleration(to_struct(to_dict(p), Object), taints, kind="Pod")
        plan.disruptive = False
        plan.description = (
            f"Adds the toleration to pending pod {p.metadata.name} in place (a pod accepts added tolerations)."
        )
        if wl.ref.kind == "Job":
            plan.description += (
                f" Job {wl.ref.name}'s template is immutable: recreate the Job with the "
                "toleration so the pods it creates next get it too."
            )
        plans.append(plan)
    return plans


def _limit_plan(np: Object, wl: Workload, b: Blocker) -> FixPlan:
    r = b.data["resource"]
    limit, used, adds = b.data["limit"], b.data["used"], b.data["adds"]
    it = instances.get(b.data.get("instance_type"))
    per_pod = pod_requests(wl.pods[0]).get(r, Decimal(0))
    if r == "nodes":
        count = len(wl.pods)
    else:
        count = nodes_needed(len(wl.pods), per_pod, it.capacity.get(r, Decimal(0)) if it else Decimal(0))
    new = max(limit, used + adds * count)
    plan = fixplans.raise_nodepool_limit(np, r, format_quantity(new, r))
    plan.description = (
        f"{format_quantity(used, r)} of {format_quantity(limit, r)} in use; {len(wl.pods)} pending "
        f"pod(s) need {count} more {it.name if it else 'node'}. " + plan.description
    )
    return plan


def _widen_plan(np: Object, w: WidenPlan) -> FixPlan:
    body = {"spec": {"template": {"spec": {"requirements": w.requirements}}}}
    name = np.metadata.name
    return FixPlan(
        id=FixKind.WIDEN_NODEPOOL_REQUIREMENTS.value,
        title=f"Let NodePool {name} launch {w.instance_type}",
        target=fixplans.target_ref(np, "NodePool"),
        patch_type="merge",
        patch=body,
        disruptive=False,
        kubectl=fixplans.kubectl_patch("NodePool", name, None, "merge", body),
        description="Changes: " + "; ".join(w.changes) + ". The whole requirements list is sent (other entries "
        "unchanged); existing nodes still satisfy the wider requirements, so none drift.",
        resource_version=np.metadata.resource_version or None,
        gitops_warning=fixplans.gitops_warning(np.metadata, "the NodePool manifest"),
    )


def _replace_node_agent_selector_plan(wl: Workload, conflict: Conflict) -> FixPlan | None:
    """Swap a nodeSelector on a label node agents set after boot (nvidia.com/gpu.product)
    for the Karpenter label that describes the same thing, or drop it."""
    if wl.ref.kind not in ("Deployment", "StatefulSet") or wl.obj is None:
        return None  # Pod and Job nodeSelectors are immutable
    selector = pod_template_spec(wl.obj).get("nodeSelector") or {}
    if conflict.key not in selector:
        return None  # an affinity term: left to a human
    alt = karpenter_equivalent(conflict.key, selector[conflict.key])
    change: dict[str, Any] = {conflict.key: None}
    if alt:
        change[alt[0]] = alt[1]
    body = {"spec": {"template": {"spec": {"nodeSelector": change}}}}
    md = wl.obj.metadata
    instead = f"selects {alt[0]}={alt[1]} instead" if alt else "drops it (the GPU request already picks GPU nodes)"
    return FixPlan(
        id=FixKind.ADD_NODE_SELECTOR.value,
        title=(f"Select {alt[0]}={alt[1]} instead of {conflict.key}" if alt else f"Drop nodeSelector {conflict.key}")
        + f" on {wl.ref.kind} {md.name}",
        target=wl.ref,
        patch_type="merge",
        patch=body,
        disruptive=True,
        kubectl=fixplans.kubectl_patch(wl.ref.kind, md.name, md.namespace, "merge", body),
        description=f"{conflict.key} is set by a node agent after the node boots, so Karpenter never launches a "
        f"node for it. The patch removes it and {instead}. Rolls the workload's pods.",
        resource_version=md.resource_version or None,
        gitops_warning=fixplans.gitops_warning(md, "the workload's manifest"),
    )


def _node_selector_plan(wl: Workload, conflict: Conflict, np: Object) -> FixPlan | None:
    """Point the pod's nodeSelector at a value the NodePool offers, when the conflict is a
    plain nodeSelector key (affinity terms are left to a human)."""
    if wl.ref.kind not in ("Deployment", "StatefulSet") or wl.obj is None:
        return None  # Pod and Job nodeSelectors are immutable
    selector = pod_template_spec(wl.obj).get("nodeSelector") or {}
    if conflict.key not in selector or conflict.unknown_label:
        return None
    offered = [val for r in conflict.nodepool if r.operator == "In" for val in r.values]
    if not offered:
        return None
    plan = fixplans.add_node_selector(wl.obj, conflict.key, offered[0], kind=wl.ref.kind)
    plan.disruptive = True
    plan.description = (
        f"The pod asks for {conflict.key}={selector[conflict.key]}, which NodePool "
        f"{np.metadata.name} never offers. " + plan.description + " Rolls the workload's pods."
    )
    return plan


# -- GPU402 ----------------------------------------------------------------------------------


@check(
    "GPU402",
    "gpu-pod-nominated-not-bound",
    Severity.WARNING,
    "GPU pods nominated but not bound",
    reads=("pods", "events", "nodes", "nodeclaims", "replicasets", "deployments", "statefulsets", "jobs"),
)
def gpu_pod_nominated_not_bound(snapshot: ClusterSnapshot) -> list[Finding]:
    """GPU pods that Karpenter nominated for a node long ago but that are still Pending.

    What it checks:
        A pending GPU pod whose first Nominated event ("Pod should schedule on:
        nodeclaim/..., node/...") is more than 15 minutes old. Pods of one workload are
        reported together, with the nominated node's state and kube-scheduler's latest
        FailedScheduling text. A nomination for a NodeClaim that no longer exists (a
        failed launch, reported by GPU301/GPU302) is stale and not reported.

    Why it matters:
        Karpenter nominates a pod when it believes a node (existing or launching) will
        take it; kube-scheduler decides. When they disagree for long, Karpenter keeps
        the node around for the pod while the scheduler keeps rejecting it: typically the
        node never registered its nvidia.com/gpu (device plugin missing), still carries
        a startup or not-ready taint, or the pod asks for something Karpenter does not
        model (a host port, a volume in another zone).

    How to fix:
        Read the scheduler's reason in the evidence. If it says Insufficient
        nvidia.com/gpu, look at the nominated node's allocatable GPUs (GPU101/GPU304).
        If it names a taint, find who should remove it (startup taint, GPU Operator
        validator) or tolerate it. Otherwise compare the pod's volume and affinity
        constraints with the node.

    Severity:
        Always warning.
    """
    findings = []
    for wl in group_by_workload(snapshot, unscheduled_gpu_pods(snapshot)):
        story = pod_story(snapshot, wl.pods)
        if not story.nominated:
            continue
        latest = story.latest_nominated
        if latest is None:
            continue
        # Karpenter nominates again for every new NodeClaim: only the current target counts.
        same = [e for e in story.nominated if e.message == latest.message]
        first = min((e.first_timestamp or e.when or "" for e in same), default="")
        age = snapshot.age_seconds(first)
        if age is None or age < NOMINATION_PATIENCE_SECONDS:
            continue
        nom = parse_nominated(latest.message)
        if _nomination_is_stale(snapshot, nom):
            continue  # GPU301/GPU302 report the failed launch; Karpenter nominates anew when it retries
        target = ", ".join(f"{k}/{n}" for k, n in nom.targets) or latest.message
        sched = story.latest_scheduler
        says = f"; kube-scheduler says: {sched[1].summary()}" if sched else "; kube-scheduler gave no reason yet"
        if _gpu_less(snapshot, snapshot.node_by_name.get(nom.node or "")):
            says += f"; node {nom.node} offers no allocatable nvidia.com/gpu (see GPU101)"
        evidence = [f"Nominated ({latest.component or 'karpenter'}): {latest.message}"]
        if sched:
            evidence.append(f"FailedScheduling ({sched[0].component or 'default-scheduler'}): {sched[0].message}")
        related: list[ObjectRef] = []
        if nom.node:
            related.append(ObjectRef("Node", nom.node, None, "v1"))
            node = snapshot.node_by_name.get(nom.node)
            if node is not None:
                evidence.append(
                    f"node {nom.node}: allocatable nvidia.com/gpu="
                    f"{node.status.allocatable.get(GPU_RESOURCE, '0')}, taints: "
                    f"{', '.join(_taint_str(t) for t in node.spec.taints) or 'none'}"
                )
        if nom.nodeclaim:
            related.append(ObjectRef("NodeClaim", nom.nodeclaim, None, "karpenter.sh/v1"))
            nc = next((c for c in snapshot.nodeclaims if c.metadata.name == nom.nodeclaim), None)
            state = _nodeclaim_state(nc) if nc is not None else "no longer exists"
            if state:
                evidence.append(f"NodeClaim {nom.nodeclaim}: {state}")
        n = len(wl.pods)
        minutes = int(age // 60)
        findings.append(
            gpu_pod_nominated_not_bound.finding(
                f"{n} pod{'s' if n != 1 else ''} of {wl.ref.kind} {wl.ref.namespace}/{wl.ref.name} "
                f"{'were' if n != 1 else 'was'} nominated for {target} {minutes} min ago but "
                f"{'are' if n != 1 else 'is'} still Pending{says}",
                wl.ref,
                title=f"{n} GPU pod{'s' if n != 1 else ''} nominated {minutes} min ago, still pending",
                related=related,
                evidence=evidence,
            )
        )
    return findings


def _nomination_is_stale(snapshot: ClusterSnapshot, nom: Nominated) -> bool:
    """The nominated NodeClaim is gone (deleted after a failed launch)."""
    if not nom.nodeclaim or snapshot.cannot_see("nodeclaims.karpenter.sh"):
        return False
    return not any(c.metadata.name == nom.nodeclaim for c in snapshot.nodeclaims)


def _gpu_less(snapshot: ClusterSnapshot, node: Node | None) -> bool:
    """A node that should have GPUs but offers none to the scheduler."""
    if node is None or expected_gpus(snapshot, node) is None:
        return False
    return quantity_or_zero(node.status.allocatable.get(GPU_RESOURCE)) == 0 and not mig_resources(node)


def _taint_str(t: Taint) -> str:
    return f"{t.key}={t.value}:{t.effect}" if t.value else f"{t.key}:{t.effect}"
