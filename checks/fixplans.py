"""Fix-plan builders shared by the checks.

Each builder returns a checks.model.FixPlan: the target, the patch as data, the
resourceVersion the check saw (the applier sends it as a precondition, so a plan made
from a stale view fails instead of clobbering someone's change), the equivalent
`kubectl` command for people who prefer to paste, and a GitOps warning when a
controller (Argo CD, Flux, Helm, the GPU Operator itself) will put the old value back.

List fields (tolerations, requirements) are patched with a JSON merge patch that
carries the whole new list, existing entries first: neither tolerations nor NodePool
requirements have a strategic-merge key, so any partial patch would replace the list.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from typing import Any

from checks.fix_kinds import FixKind
from checks.gpu import ANNOTATION_DO_NOT_DISRUPT
from checks.k8s import format_taint, mapping
from checks.kinds import KubeObject, Node, Object, ObjectMeta, Pod, Taint
from checks.model import FixPlan, ObjectRef
from checks.nodepool_model import requirement_dicts

# kind -> (apiVersion, the name kubectl understands without ambiguity)
KINDS: dict[str, tuple[str, str]] = {
    "Pod": ("v1", "pod"),
    "Node": ("v1", "node"),
    "DaemonSet": ("apps/v1", "daemonset"),
    "Deployment": ("apps/v1", "deployment"),
    "StatefulSet": ("apps/v1", "statefulset"),
    "ReplicaSet": ("apps/v1", "replicaset"),
    "Job": ("batch/v1", "job"),
    "NodePool": ("karpenter.sh/v1", "nodepools.karpenter.sh"),
    "NodeClaim": ("karpenter.sh/v1", "nodeclaims.karpenter.sh"),
    "EC2NodeClass": ("karpenter.k8s.aws/v1", "ec2nodeclasses.karpenter.k8s.aws"),
    "ClusterPolicy": ("nvidia.com/v1", "clusterpolicies.nvidia.com"),
}


def _kind(obj: KubeObject, kind: str | None = None) -> str:
    """Objects decoded from a list response carry no kind: callers that know it pass it."""
    k = kind or getattr(obj, "kind", "") or ""
    if not k:
        raise ValueError(f"kind of {obj.metadata.name!r} unknown: pass kind=")
    return k


def target_ref(obj: KubeObject, kind: str | None = None) -> ObjectRef:
    kind = kind or _kind(obj)
    api = getattr(obj, "api_version", None) or KINDS.get(kind, ("", ""))[0] or None
    return ObjectRef(kind=kind, name=obj.metadata.name, namespace=obj.metadata.namespace or None, api_version=api)


def _kubectl_target(kind: str, name: str, namespace: str | None) -> str:
    resource = KINDS.get(kind, ("", kind.lower()))[1]
    ns = f" -n {shlex.quote(namespace)}" if namespace else ""
    return f"{resource} {shlex.quote(name)}{ns}"


def kubectl_patch(kind: str, name: str, namespace: str | None, patch_type: str, body: Any) -> str:
    payload = json.dumps(body, separators=(",", ":"), sort_keys=False)
    return f"kubectl patch {_kubectl_target(kind, name, namespace)} --type {patch_type} -p {shlex.quote(payload)}"


# -- GitOps ------------------------------------------------------------------------


def gitops_manager(metadata: ObjectMeta) -> str | None:
    """Who will revert a direct edit: 'Argo CD application X', 'Flux Kustomization ns/X', 'Helm release X', or None."""
    labels = metadata.labels or {}
    ann = metadata.annotations or {}
    argo_keys = [k for k in list(ann) + list(labels) if k.startswith("argocd.argoproj.io/")]
    if argo_keys:
        app = labels.get("app.kubernetes.io/instance") or labels.get("argocd.argoproj.io/instance")
        tracking = ann.get("argocd.argoproj.io/tracking-id")
        if tracking and ":" in tracking:
            app = tracking.split(":", 1)[0]
        return f"Argo CD application {app!r}" if app else "Argo CD"
    for prefix, what in (
        ("kustomize.toolkit.fluxcd.io/", "Flux Kustomization"),
        ("helm.toolkit.fluxcd.io/", "Flux HelmRelease"),
    ):
        name = labels.get(prefix + "name")
        if name or any(k.startswith(prefix) for k in labels):
            ns = labels.get(prefix + "namespace")
            full = f"{ns}/{name}" if ns and name else (name or "?")
            return f"{what} {full}"
    if labels.get("app.kubernetes.io/managed-by") == "Helm" and ann.get("meta.helm.sh/release-name"):
        rel = ann["meta.helm.sh/release-name"]
        ns = ann.get("meta.helm.sh/release-namespace")
        return f"Helm release {rel!r}" + (f" (namespace {ns})" if ns else "")
    return None


def gitops_warning(metadata: ObjectMeta, where: str = "") -> str | None:
    manager = gitops_manager(metadata)
    if manager is None:
        return None
    if manager.startswith("Helm"):
        how = "the next `helm upgrade` puts the chart's value back"
    elif manager.startswith("Flux"):
        how = "Flux reconciles it back within its interval"
    else:
        how = "the next sync reverts it (or marks the app OutOfSync)"
    where = f" ({where})" if where else ""
    return f"managed by {manager}: {how}; make the same change in the source{where} so it sticks"


def _plan(
    kind_of_fix: FixKind,
    title: str,
    obj: KubeObject,
    patch_type: str,
    patch: Any,
    *,
    kubectl: str,
    disruptive: bool = False,
    description: str = "",
    kind: str | None = None,
    gitops_where: str = "",
    extra_warning: str | None = None,
) -> FixPlan:
    warning = gitops_warning(obj.metadata, gitops_where)
    if extra_warning:
        warning = f"{warning}; {extra_warning}" if warning else extra_warning
    return FixPlan(
        id=kind_of_fix.value,
        title=title,
        target=target_ref(obj, kind),
        patch_type=patch_type,
        patch=patch,
        disruptive=disruptive,
        kubectl=kubectl,
        description=description,
        resource_version=obj.metadata.resource_version or None,
        gitops_warning=warning,
    )


# -- tolerations and node selectors on pod templates ---------------------------------


def toleration_for(taint: Taint) -> dict[str, str]:
    """A toleration that keeps working if the taint's value changes: Exists on key + effect."""
    tol = {"key": taint.key, "operator": "Exists"}
    if taint.effect:
        tol["effect"] = taint.effect
    return tol


def _merge_tolerations(existing: Iterable[dict[str, Any]], taints: Iterable[Taint]) -> list[dict[str, Any]]:
    out = [dict(t) for t in existing]
    for taint in taints:
        tol = toleration_for(taint)
        if tol not in out:
            out.append(tol)
    return out


def _pod_template_path(obj: KubeObject, kind: str) -> tuple[dict[str, Any], list[str]]:
    """The pod spec inside a workload, and the JSON path to it."""
    if kind == "Pod":
        return (obj.spec if isinstance(obj.spec, dict) else {}), ["spec"]
    spec = obj.spec if isinstance(obj.spec, dict) else {}
    tpl: dict[str, Any] = (spec.get("template") or {}).get("spec") or {}
    return tpl, ["spec", "template", "spec"]


def _nest(path: list[str], leaf: Any) -> dict[str, Any]:
    body: dict[str, Any] = {path[-1]: leaf}
    for key in reversed(path[:-1]):
        body = {key: body}
    return body


def add_toleration(workload: KubeObject, taints: Iterable[Taint], kind: str | None = None) -> FixPlan:
    """Let a workload's pods onto nodes carrying `taints` (DaemonSet, Deployment, StatefulSet, Job)."""
    taints = list(taints)
    kind, md = _kind(workload, kind), workload.metadata
    spec, path = _pod_template_path(workload, kind)
    tols = _merge_tolerations(spec.get("tolerations") or [], taints)
    body = _nest(path + ["tolerations"], tols)
    names = ", ".join(format_taint(t) for t in taints)
    operator_owned = any(r.kind == "ClusterPolicy" for r in md.owner_references)
    return _plan(
        FixKind.ADD_TOLERATION,
        f"Tolerate {names} on {kind} {md.name}",
        workload,
        "merge",
        body,
        kind=kind,
        kubectl=kubectl_patch(kind, md.name, md.namespace, "merge", body),
        description=f"Adds {names} to the pod template's tolerations, keeping the {len(tols) - len(taints)} "
        f"existing ones. The {kind} then rolls out pods onto the tainted nodes.",
        gitops_where="the workload's manifest",
        extra_warning=(
            "the GPU Operator owns this DaemonSet and rewrites it from the ClusterPolicy: "
            "prefer the clusterpolicy-tolerations fix"
        )
        if operator_owned
        else None,
    )


def add_node_selector(workload: KubeObject, key: str, value: str, kind: str | None = None) -> FixPlan:
    kind, md = _kind(workload, kind), workload.metadata
    _, path = _pod_template_path(workload, kind)
    # A merge patch on a map merges: the other selector keys stay.
    body = _nest(path + ["nodeSelector"], {key: value})
    return _plan(
        FixKind.ADD_NODE_SELECTOR,
        f"Select nodes with {key}={value} for {kind} {md.name}",
        workload,
        "merge",
        body,
        kind=kind,
        kubectl=kubectl_patch(kind, md.name, md.namespace, "merge", body),
        description=f"Sets nodeSelector {key}={value} on the pod template (other selector keys stay).",
        gitops_where="the workload's manifest",
    )


def clusterpolicy_tolerations(cp: Object, taints: Iterable[Taint]) -> FixPlan:
    """Make every operand DaemonSet tolerate `taints` through ClusterPolicy spec.daemonsets.tolerations."""
    taints = list(taints)
    existing = (mapping(cp.spec.get("daemonsets")).get("tolerations")) or []
    tols = _merge_tolerations(existing, taints)
    body = {"spec": {"daemonsets": {"tolerations": tols}}}
    names = ", ".join(format_taint(t) for t in taints)
    return _plan(
        FixKind.CLUSTERPOLICY_TOLERATIONS,
        f"Tolerate {names} in ClusterPolicy {cp.metadata.name}",
        cp,
        "merge",
        body,
        kind="ClusterPolicy",
        kubectl=kubectl_patch("ClusterPolicy", cp.metadata.name, None, "merge", body),
        description=f"Adds {names} to spec.daemonsets.tolerations (the {len(existing)} existing tolerations stay); "
        "the operator re-renders every operand DaemonSet, and driver, toolkit and device plugin "
        "pods start on the tainted GPU nodes.",
        gitops_where="Helm value daemonsets.tolerations",
    )


# -- NodePools -------------------------------------------------------------------------


def raise_nodepool_limit(nodepool: Object, resource: str, new_value: str) -> FixPlan:
    body = {"spec": {"limits": {resource: new_value}}}
    old = mapping(nodepool.spec.get("limits")).get(resource)
    name = nodepool.metadata.name
    return _plan(
        FixKind.RAISE_NODEPOOL_LIMIT,
        f"Raise NodePool {name} limit {resource} {old} → {new_value}",
        nodepool,
        "merge",
        body,
        kind="NodePool",
        kubectl=kubectl_patch("NodePool", name, None, "merge", body),
        description=f"spec.limits.{resource} goes from {old} to {new_value}; Karpenter can launch nodes again. "
        "Limits exist to cap spend: check the budget first.",
        gitops_where="the NodePool manifest",
    )


def widen_nodepool_requirements(nodepool: Object, key: str, add_values: Iterable[str]) -> FixPlan:
    """Add values to the NodePool's `In` requirement on `key` (or add the requirement)."""
    add_values = list(add_values)
    reqs = [dict(r) for r in requirement_dicts(nodepool)]
    for r in reqs:
        if r.get("key") == key and r.get("operator") == "In":
            vals = list(r.get("values") or [])
            r["values"] = vals + [v for v in add_values if v not in vals]
            break
    else:
        reqs.append({"key": key, "operator": "In", "values": add_values})
    body = {"spec": {"template": {"spec": {"requirements": reqs}}}}
    name = nodepool.metadata.name
    return _plan(
        FixKind.WIDEN_NODEPOOL_REQUIREMENTS,
        f"Allow {key} {', '.join(add_values)} in NodePool {name}",
        nodepool,
        "merge",
        body,
        kind="NodePool",
        kubectl=kubectl_patch("NodePool", name, None, "merge", body),
        description=f"Adds {', '.join(add_values)} to the {key} requirement (other requirements stay). Existing "
        "nodes still satisfy the wider requirement, so they are not drifted; Karpenter can launch the "
        "added values for pods that wait.",
        gitops_where="the NodePool manifest",
    )


# -- disruption ------------------------------------------------------------------------


def add_do_not_disrupt(obj: KubeObject, value: str = "true", kind: str | None = None) -> FixPlan:
    """Protect pods from voluntary disruption (consolidation, drift).

    A Pod gets the annotation directly (takes effect at once, nothing restarts). A
    workload gets it on its pod template; for Deployments and StatefulSets that rolls
    the pods, so the plan is marked disruptive. Jobs have immutable templates: annotate
    their pods instead.
    """
    kind, md = _kind(obj, kind), obj.metadata
    if kind == "Pod":
        body: dict[str, Any] = {"metadata": {"annotations": {ANNOTATION_DO_NOT_DISRUPT: value}}}
        return _plan(
            FixKind.ADD_DO_NOT_DISRUPT,
            f"Annotate pod {md.name} {ANNOTATION_DO_NOT_DISRUPT}={value}",
            obj,
            "merge",
            body,
            kubectl=f"kubectl annotate pod {shlex.quote(md.name)} -n {shlex.quote(md.namespace or 'default')} "
            f"{ANNOTATION_DO_NOT_DISRUPT}={value} --overwrite",
            description="Karpenter will not consolidate or drift-replace the node while this pod runs. It does not "
            "stop expiration (expireAfter), spot interruption or node repair.",
        )
    body = {"spec": {"template": {"metadata": {"annotations": {ANNOTATION_DO_NOT_DISRUPT: value}}}}}
    rolls = kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
    return _plan(
        FixKind.ADD_DO_NOT_DISRUPT,
        f"Set {ANNOTATION_DO_NOT_DISRUPT}={value} on {kind} {md.name}'s pod template",
        obj,
        "merge",
        body,
        kind=kind,
        kubectl=kubectl_patch(kind, md.name, md.namespace, "merge", body),
        disruptive=rolls,
        description=(
            "Changing the pod template restarts the pods (rolling update); annotate the running pods "
            "instead if they must not restart now. "
            if rolls
            else ""
        )
        + "Protects future pods from consolidation and drift; not from expiration, interruption or node repair.",
        gitops_where="the workload's manifest",
    )


def restart_operand_pod(pod: Pod, disruptive: bool | None = None) -> FixPlan:
    """Delete an operand pod so its DaemonSet recreates it (after the cause is fixed)."""
    md = pod.metadata
    app = md.labels.get("app", "")
    # Restarting the driver or toolkit pulls the GPU stack out from under running GPU pods.
    if disruptive is None:
        disruptive = app in ("nvidia-driver-daemonset", "nvidia-container-toolkit-daemonset")
    return _plan(
        FixKind.RESTART_OPERAND_POD,
        f"Restart pod {md.name}",
        pod,
        "delete",
        None,
        kind="Pod",
        disruptive=disruptive,
        kubectl=f"kubectl delete pod {shlex.quote(md.name)} -n {shlex.quote(md.namespace or 'default')}",
        description="Deletes the pod; its DaemonSet starts a fresh one on the same node. Helps after the cause "
        "(config, image, driver) is fixed, or to clear a stale state; a crash with the same cause "
        "comes back." + (" GPU workloads on the node lose the driver/runtime while it restarts." if disruptive else ""),
    )


def delete_nodeclaim(nodeclaim: Object) -> FixPlan:
    md = nodeclaim.metadata
    node = (nodeclaim.status or {}).get("nodeName")
    return _plan(
        FixKind.DELETE_NODECLAIM,
        f"Delete NodeClaim {md.name}" + (f" (node {node})" if node else ""),
        nodeclaim,
        "delete",
        None,
        kind="NodeClaim",
        disruptive=True,
        kubectl=f"kubectl delete nodeclaims.karpenter.sh {shlex.quote(md.name)}",
        description="Karpenter drains and terminates the instance; pending pods get a fresh node. Pods on the "
        "node are evicted. Use it when the node will not recover on its own.",
    )


def cordon_node(node: Node) -> FixPlan:
    md = node.metadata
    body = {"spec": {"unschedulable": True}}
    return _plan(
        FixKind.CORDON_NODE,
        f"Cordon node {md.name}",
        node,
        "merge",
        body,
        kind="Node",
        kubectl=f"kubectl cordon {shlex.quote(md.name)}",
        description="No new pods land on the node; running pods stay. Undo with uncordon.",
    )


def uncordon_node(node: Node) -> FixPlan:
    md = node.metadata
    body = {"spec": {"unschedulable": False}}
    return _plan(
        FixKind.UNCORDON_NODE,
        f"Uncordon node {md.name}",
        node,
        "merge",
        body,
        kind="Node",
        kubectl=f"kubectl uncordon {shlex.quote(md.name)}",
        description="The scheduler may place pods on the node again.",
    )
