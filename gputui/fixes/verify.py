"""After a fix: is the change in place, and does the finding's check still report it?

The answer is in plain words. A fix is often right but not finished: controllers
(Deployment rollout, GPU Operator, Karpenter, the scheduler) still have to act. The
verification names what has not happened yet instead of calling the fix a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checks.fix_kinds import FixKind, fix_kind
from checks.gpu import ANNOTATION_DO_NOT_DISRUPT
from checks.model import Finding, FixPlan
from checks.registry import REGISTRY, run_checks
from gputui.fixes import plan as plans
from gputui.fixes.diff import readable
from gputui.fixes.targets import object_path
from gputui.kube.errors import KubeApiError


@dataclass
class Verification:
    resolved: bool  # the check no longer reports the finding's subject
    change_in_place: bool  # the target shows the change (or is gone, for deletes)
    message: str  # one paragraph for people
    details: list[str] = field(default_factory=list)  # what still blocks, one line each
    remaining: list[Finding] = field(default_factory=list)
    snapshot: Any = None


def same_subject(a: Finding, b: Finding) -> bool:
    return (a.code, a.subject.kind, a.subject.namespace or "", a.subject.name) == (
        b.code,
        b.subject.kind,
        b.subject.namespace or "",
        b.subject.name,
    )


def verify(
    kube,
    finding: Finding,
    plan: FixPlan,
    *,
    before: dict | None = None,
    attempts: int = 1,
    interval: float = 2.0,
    gather_fn: Callable | None = None,
) -> Verification:
    """Re-read the target, re-gather, re-run the finding's check. `attempts` > 1 re-gathers
    until the finding is gone (controllers need a moment on a live cluster)."""
    if gather_fn is None:
        from gputui.kube.gather import gather

        gather_fn = gather
    check = REGISTRY.find(finding.code)
    v: Verification | None = None
    for i in range(max(1, attempts)):
        if i:
            time.sleep(interval)
        current = _read(kube, plan)
        in_place, change_line = _change_state(plan, current, before)
        snapshot = gather_fn(kube)
        found = run_checks(snapshot, [check]) if check is not None else []
        remaining = [f for f in found if same_subject(f, finding)]
        if plan.target.kind == "NodeClaim" and plans.is_delete(plan) and in_place:
            v = _verify_nodeclaim_delete(plan, finding, before, current, snapshot, remaining, change_line)
            if v.resolved:
                return v
            continue
        if plan.target.kind == "Pod" and plans.is_delete(plan) and before is not None:
            v = _verify_replacement(plan, finding, before, snapshot, found, change_line, in_place)
            if v.resolved:
                return v
            continue
        if not remaining:
            if plans.is_delete(plan) and _same_object(finding.subject, plan.target):
                msg = (
                    f"{change_line} {finding.code} no longer reports {finding.subject}: the finding went away "
                    "with the object."
                )
                if plan.target.kind == "NodeClaim":
                    msg += " Karpenter launches a new node if pending pods still need one."
            else:
                msg = f"{change_line} {finding.code} no longer reports {finding.subject}: the problem is fixed."
            return Verification(True, in_place, msg, [], [], snapshot)
        details = explain_remaining(plan, finding, remaining[0], snapshot, current) if in_place else []
        if in_place:
            msg = f"{change_line} {finding.code} still reports {finding.subject}" + (
                ": " + "; ".join(details) + "." if details else f": {remaining[0].message}"
            )
        else:
            msg = f"{change_line} {finding.code} still reports {finding.subject}."
        v = Verification(False, in_place, msg, details, remaining, snapshot)
    assert v is not None  # the loop runs at least once
    return v


def _verify_replacement(
    plan: FixPlan, finding: Finding, before: dict, snapshot, found: list[Finding], change_line: str, in_place: bool
) -> Verification:
    """A restarted pod is fixed when its controller's new pod on the same node is not failing:
    the old pod's finding vanishing with the pod proves nothing."""
    md, spec = before.get("metadata") or {}, before.get("spec") or {}
    ns, node = md.get("namespace") or "", spec.get("nodeName") or ""
    owner = next((o for o in md.get("ownerReferences") or [] if o.get("controller")), None)
    if owner is None:
        return Verification(
            False,
            in_place,
            f"{change_line} The pod had no controller: nothing re-creates it.",
            ["nothing re-creates a pod without a controller"],
            [],
            snapshot,
        )
    new = [
        p
        for p in snapshot.pods_by_owner.get((ns, owner.get("kind", ""), owner.get("name", "")), [])
        if (p.spec.node_name or "") == node and p.metadata.uid != md.get("uid")
    ]
    if not new:
        why = (
            f"{owner.get('kind')} {owner.get('name')} has not started a new pod on {node or 'the node'} yet; "
            "until it does, that node runs without it"
        )
        return Verification(False, in_place, f"{change_line} {why}.", [why], [], snapshot)
    names = {p.metadata.name for p in new}
    still = [
        f for f in found if f.subject.kind == "Pod" and f.subject.name in names and (f.subject.namespace or "") == ns
    ]
    if still:
        why = f"the new pod {still[0].subject.name} fails too: {_short(still[0].message)}"
        return Verification(
            False, in_place, f"{change_line} {finding.code} reports it again: {why}", [why], still, snapshot
        )
    pod = new[0]
    return Verification(
        True,
        in_place,
        f"{change_line} The new pod {pod.metadata.name} ({pod.status.phase or 'Pending'}) "
        f"is not failing; {finding.code} no longer reports the operand.",
        [],
        [],
        snapshot,
    )


def _verify_nodeclaim_delete(
    plan: FixPlan, finding: Finding, before: dict | None, current: dict | None, snapshot, remaining, change_line: str
) -> Verification:
    """A deleted NodeClaim is done when it is gone and Karpenter has launched the NodeClaim that
    replaces it; while its finalizer holds it, it is only deleting."""
    name = plan.target.name
    md = (before or {}).get("metadata") or {}
    if current is not None and ((current.get("metadata") or {}).get("uid") in (None, md.get("uid"))):
        why = (
            f"NodeClaim {name} is deleting (Terminating)…: Karpenter drains the node and terminates the "
            "instance, then launches a replacement if pods need one"
        )
        return Verification(False, True, f"{change_line} {why}.", [why], remaining, snapshot)
    pool, born = (md.get("labels") or {}).get("karpenter.sh/nodepool"), md.get("creationTimestamp") or ""
    new = [
        nc
        for nc in snapshot.nodeclaims
        if nc.metadata.name != name
        and not nc.metadata.deletion_timestamp
        and (pool is None or nc.metadata.labels.get("karpenter.sh/nodepool") == pool)
        and (nc.metadata.creation_timestamp or "") > born
    ]
    if not new:
        why = (
            f"NodeClaim {name} is gone; Karpenter has not launched a replacement yet "
            "(it does when pending pods need a node)"
        )
        return Verification(False, True, f"{change_line} {why}.", [why], remaining, snapshot)
    msg = f"{change_line} NodeClaim {name} is gone, replaced by NodeClaim {new[0].metadata.name}"
    if remaining:
        why = f"{finding.code} still reports {finding.subject}: {_short(remaining[0].message)}"
        return Verification(False, True, f"{msg}; {why}.", [why], remaining, snapshot)
    return Verification(True, True, f"{msg}; {finding.code} no longer reports {finding.subject}.", [], [], snapshot)


def _same_object(a, b) -> bool:
    return (a.kind, a.namespace or "", a.name) == (b.kind, b.namespace or "", b.name)


def _read(kube, plan: FixPlan) -> dict | None:
    try:
        return kube.request("GET", object_path(plan.target)).json()
    except KubeApiError as e:
        if e.status == 404:
            return None
        raise


def _change_state(plan: FixPlan, current: dict | None, before: dict | None) -> tuple[bool, str]:
    t = plan.target
    if plans.is_delete(plan):
        if current is None:
            return True, f"{t} is gone."
        md = current.get("metadata") or {}
        if before and md.get("uid") and md.get("uid") != (before.get("metadata") or {}).get("uid"):
            return True, f"{t} was re-created by its controller."
        if md.get("deletionTimestamp"):
            fin = ", ".join(md.get("finalizers") or [])
            return True, f"{t} is being deleted" + (f" (waiting for finalizers {fin})." if fin else ".")
        return False, f"{t} still exists: the deletion did not happen."
    if current is None:
        return False, f"{t} no longer exists."
    try:
        again = plans.patched(plan, current, plans.rebase(plan, current))
    except plans.PatchError:
        return False, f"{t} no longer has the fields the fix changed."
    if readable(again) == readable(current):
        return True, f"{t} has the change."
    return False, f"{t} does not show the change (someone or something reverted it)."


# -- what still blocks ------------------------------------------------------------------------


def explain_remaining(plan: FixPlan, finding: Finding, still: Finding, snapshot, current: dict | None) -> list[str]:
    kind = fix_kind(plan.id)
    explain = _EXPLAIN.get(kind) if kind is not None else None
    out = explain(plan, still, snapshot, current) if explain else []
    return out or [_short(still.message)]


def _tolerations_of(spec: dict | None) -> list[dict]:
    return list((spec or {}).get("tolerations") or [])


def _find_key(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for v in value.values():
            found = _find_key(v, key)
            if found is not None:
                return found
    return None


def _wanted_tolerations(plan: FixPlan) -> list[dict]:
    found = _find_key(plan.patch, "tolerations")
    return found if isinstance(found, list) else []


def _pods_of(snapshot, kind: str, namespace: str, name: str) -> list:
    if kind == "Pod":
        p = snapshot.pod_by_key.get((namespace, name))
        return [p] if p else []
    if kind == "Deployment":
        rs_names = [
            rs.metadata.name
            for rs in snapshot.replicasets
            if (rs.metadata.namespace or "") == namespace
            and any(o.controller and o.kind == "Deployment" and o.name == name for o in rs.metadata.owner_references)
        ]
        return [p for r in rs_names for p in snapshot.pods_by_owner.get((namespace, "ReplicaSet", r), [])]
    return list(snapshot.pods_by_owner.get((namespace, kind, name), []))


def _explain_toleration(plan: FixPlan, still: Finding, snapshot, current) -> list[str]:
    t = plan.target
    pods = _pods_of(snapshot, t.kind, t.namespace or "", t.name)
    if fix_kind(plan.id) is FixKind.ADD_NODE_SELECTOR:
        wanted_sel = _find_key(plan.patch, "nodeSelector") or {}
        old = [p for p in pods if any(p.spec.node_selector.get(k) != v for k, v in wanted_sel.items())]
    else:
        wanted = _wanted_tolerations(plan)
        old = [p for p in pods if any(w not in [_tol_dict(x) for x in (p.spec.tolerations or [])] for w in wanted)]
    pending = [p for p in pods if (p.status.phase or "") == "Pending"]
    out = []
    if t.kind == "Pod":
        if pending:
            out.append(f"pod {t.name} has the change but is still Pending: the scheduler has not placed it yet")
        return out
    if old:
        out.append(
            f"the {t.kind}'s pod template has the change now, but {len(old)} of its pod(s) were created "
            f"before the change and the {t.kind} controller has not replaced them yet"
        )
    elif pending:
        out.append(
            f"{len(pending)} pod(s) of the {t.kind} have the change but are still Pending: no node has taken them yet"
        )
    return out


def _tol_dict(t) -> dict:
    if isinstance(t, dict):
        return t
    d = {k: getattr(t, k, None) for k in ("key", "operator", "value", "effect")}
    return {k: v for k, v in d.items() if v}


def _explain_clusterpolicy(plan: FixPlan, still: Finding, snapshot, current) -> list[str]:
    wanted = _wanted_tolerations(plan)
    lagging = []
    for ds in snapshot.daemonsets:
        if not any(o.kind == "ClusterPolicy" for o in ds.metadata.owner_references):
            continue
        have = _tolerations_of(((ds.spec or {}).get("template") or {}).get("spec"))
        if any(w not in have for w in wanted):
            lagging.append(ds.metadata.name)
    if lagging:
        names = ", ".join(lagging[:4]) + (f" (+{len(lagging) - 4})" if len(lagging) > 4 else "")
        return [
            f"the ClusterPolicy tolerates it now, but the GPU Operator has not re-rendered the operand "
            f"DaemonSets yet ({names} still lack the toleration), so no operand pod runs on those nodes"
        ]
    return ["the operand DaemonSets tolerate it now, but their pods have not started on the tainted nodes yet"]


def _pending_gpu_pods(snapshot) -> int:
    from checks.k8s import pod_requests  # noqa: PLC0415 - only needed here

    n = 0
    for p in snapshot.pods:
        if (p.status.phase or "") == "Pending" and not p.spec.node_name:
            if any(k.startswith("nvidia.com/") for k in pod_requests(p)):
                n += 1
    return n


def _explain_nodepool(plan: FixPlan, still: Finding, snapshot, current) -> list[str]:
    what = "limit" if fix_kind(plan.id) is FixKind.RAISE_NODEPOOL_LIMIT else "requirements"
    waiting = _pending_gpu_pods(snapshot)
    tail = f" ({waiting} GPU pod(s) still Pending)" if waiting else ""
    return [f"NodePool {plan.target.name} now has the new {what}; Karpenter has not launched a node yet{tail}"]


def _explain_do_not_disrupt(plan: FixPlan, still: Finding, snapshot, current) -> list[str]:
    t = plan.target
    if t.kind == "Pod":
        return []
    pods = _pods_of(snapshot, t.kind, t.namespace or "", t.name)
    bare = [p for p in pods if ANNOTATION_DO_NOT_DISRUPT not in (p.metadata.annotations or {})]
    if bare:
        return [
            f"the pod template carries {ANNOTATION_DO_NOT_DISRUPT} now, but {len(bare)} running pod(s) were "
            f"created before and lack it until the {t.kind} replaces them"
        ]
    return []


def _explain_restart(plan: FixPlan, still: Finding, snapshot, current) -> list[str]:
    if current is None:
        return ["the old pod is gone and its DaemonSet has not created a replacement yet"]
    st = current.get("status") or {}
    phase = st.get("phase") or "Pending"
    return [
        f"the new pod {plan.target.name} is {phase}; if it fails the same way, the cause (image, driver, "
        "kernel, config) is still there"
    ]


def _explain_nodeclaim(plan: FixPlan, still: Finding, snapshot, current) -> list[str]:
    if current is not None:
        return [f"NodeClaim {plan.target.name} is still terminating: Karpenter drains and terminates the instance"]
    return ["the NodeClaim is gone; Karpenter has not launched a replacement yet"]


def _explain_cordon(plan: FixPlan, still: Finding, snapshot, current) -> list[str]:
    state = "cordoned" if ((current or {}).get("spec") or {}).get("unschedulable") else "schedulable"
    return [f"node {plan.target.name} is {state}; the node's own problem remains until it is repaired or replaced"]


_EXPLAIN: dict[FixKind, Callable[..., list[str]]] = {
    FixKind.ADD_TOLERATION: _explain_toleration,
    FixKind.ADD_NODE_SELECTOR: _explain_toleration,
    FixKind.CLUSTERPOLICY_TOLERATIONS: _explain_clusterpolicy,
    FixKind.RAISE_NODEPOOL_LIMIT: _explain_nodepool,
    FixKind.WIDEN_NODEPOOL_REQUIREMENTS: _explain_nodepool,
    FixKind.ADD_DO_NOT_DISRUPT: _explain_do_not_disrupt,
    FixKind.RESTART_OPERAND_POD: _explain_restart,
    FixKind.DELETE_NODECLAIM: _explain_nodeclaim,
    FixKind.CORDON_NODE: _explain_cordon,
    FixKind.UNCORDON_NODE: _explain_cordon,
}


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fresh_plan(kube, finding: Finding, plan: FixPlan, gather_fn: Callable | None = None) -> FixPlan | None:
    """The same fix computed again from the cluster as it is now (its resourceVersion is the
    one just read), or None when the check no longer offers it for the finding's subject."""
    if gather_fn is None:
        from gputui.kube.gather import gather

        gather_fn = gather
    check = REGISTRY.find(finding.code)
    if check is None:
        return None
    for f in run_checks(gather_fn(kube), [check]):
        if not same_subject(f, finding):
            continue
        for p in f.fixes:
            if p.id == plan.id and _same_object(p.target, plan.target):
                return p
    return None
