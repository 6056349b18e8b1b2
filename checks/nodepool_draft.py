"""Area nodepool (GPU6xx): is this NodePool a good GPU NodePool? Run on live NodePools,
on manifest files (`gputui nodepool lint`) and on the editor's draft.

A NodePool that is being edited or linted carries the annotation DRAFT_ANNOTATION in
the snapshot the checks see (never in the cluster). Checks whose question a cluster
check already answers for live objects (schema, operand tolerations, pending pods)
speak only about drafts, so `gputui diagnose` never reports the same thing twice.

Public API (besides the checks):
    DRAFT_ANNOTATION; mark_draft(obj_dict) -> obj_dict; is_draft(obj) -> bool
    allows_spot(nodepool) -> bool; looks_like_training(nodepool) -> bool
    v1_changes(nodepool_dict) -> list[str]; to_v1(nodepool_dict) -> dict
    builtin_schema(kind, api_version) -> dict | None
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from checks import instances
from checks.crd_schema import is_permissive, validate, version_schema
from checks.findings import ref
from checks.gpu import GPU_RESOURCE, LABEL_CAPACITY_TYPE
from checks.gpu_nodes import GPU_FAMILY_RE
from checks.k8s import format_taint, mapping, requirement_matches, tolerates, toleration_from_dict
from checks.kinds import Object, to_dict
from checks.model import Finding, Severity
from checks.nodepool_model import (
    Accelerator,
    is_accelerator_nodepool,
    is_nvidia_nodepool,
    nodepool_accelerator,
    nodepool_taints,
    requirement_dicts,
    template_labels,
    template_spec,
)
from checks.nodepool_schema import V1, V1BETA1, builtin_schema
from checks.nodepools import (
    allowed_instance_types,
    evaluate_nodepool,
    nodepool_requirements,
    pod_aims_at_nodepool,
)
from checks.operands import all_operand_daemonsets, blocking_taint, clusterpolicy, daemonset_tolerations
from checks.registry import check

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

DRAFT_ANNOTATION = "gputui.dev/draft"
_TRAINING = re.compile(r"train|finetun|fine-tun|pretrain", re.I)
# The GPU Operator chart's default for ClusterPolicy spec.daemonsets.tolerations.
DEFAULT_OPERAND_TOLERATIONS = ({"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"},)


def mark_draft(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of a manifest dict marked as a draft for the checks."""
    out = copy.deepcopy(obj)
    md = out.setdefault("metadata", {})
    md["annotations"] = {**(md.get("annotations") or {}), DRAFT_ANNOTATION: "true"}
    return out


def is_draft(obj: Object) -> bool:
    return (obj.metadata.annotations or {}).get(DRAFT_ANNOTATION) == "true"


def allows_spot(np: Object) -> bool:
    """Karpenter launches on-demand unless the capacity-type requirement admits spot."""
    reqs = [r for r in requirement_dicts(np) if r.get("key") == LABEL_CAPACITY_TYPE]
    if not reqs:
        return False
    return all(
        requirement_matches(
            {LABEL_CAPACITY_TYPE: "spot"},
            LABEL_CAPACITY_TYPE,
            r.get("operator", ""),
            [str(v) for v in r.get("values") or []],
        )
        for r in reqs
    )


def looks_like_training(np: Object) -> bool:
    labels = template_labels(np)
    words = [np.metadata.name, *labels.values()]
    return any(_TRAINING.search(str(w)) for w in words)


def _nodepools(snapshot: ClusterSnapshot) -> list[Object]:
    return list(snapshot.nodepools)


# -- GPU601 ------------------------------------------------------------------------------


@check(
    "GPU601",
    "training-nodepool-on-spot",
    Severity.WARNING,
    "Training NodePool can launch spot instances",
    reads=("nodepools",),
    scope="nodepool-draft",
)
def training_nodepool_on_spot(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A NodePool meant for training allows spot capacity.

    What it checks:
        GPU NodePools whose name or template labels say training (train, finetune,
        pretrain) and whose karpenter.sh/capacity-type requirement admits spot.

    Why it matters:
        EC2 reclaims a spot instance with two minutes' notice. A multi-hour training run
        loses everything since its last checkpoint, and karpenter.sh/do-not-disrupt does
        not stop a spot interruption.

    How to fix:
        Restrict the NodePool to `karpenter.sh/capacity-type In [on-demand]` (or reserved
        capacity). Keep spot for inference, and for short fine-tuning jobs that
        checkpoint often.



    Severity:
        Always warning.
    """
    for np in _nodepools(snapshot):
        if not is_accelerator_nodepool(np) or not looks_like_training(np) or not allows_spot(np):
            continue
        yield training_nodepool_on_spot.finding(
            f"NodePool {np.metadata.name} is for training but may launch spot GPU nodes; a spot "
            "interruption ends a run mid-way: allow only on-demand",
            ref(np, "NodePool"),
            evidence=[f"{LABEL_CAPACITY_TYPE} " + _format_reqs(np, LABEL_CAPACITY_TYPE)],
        )


def _format_reqs(np: Object, key: str) -> str:
    parts = []
    for r in requirement_dicts(np):
        if r.get("key") == key:
            parts.append(f"{r.get('operator')} [{' '.join(str(v) for v in r.get('values') or [])}]")
    return "; ".join(parts) or "not set"


# -- GPU602 ------------------------------------------------------------------------------


@check(
    "GPU602",
    "gpu-nodepool-untainted",
    Severity.WARNING,
    "GPU NodePool does not taint its nodes",
    reads=("nodepools",),
    scope="nodepool-draft",
)
def gpu_nodepool_untainted(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A GPU NodePool launches nodes without a NoSchedule/NoExecute taint.

    What it checks:
        NodePools that select accelerated instances (NVIDIA or AMD GPUs, AWS Neuron) and
        have no NoSchedule or NoExecute taint in spec.template.spec.taints.

    Why it matters:
        Without a taint, any pod (system agents, web apps, batch CPU work) lands on the
        GPU nodes, takes CPU and memory GPU pods need, and keeps expensive nodes from
        consolidating.

    How to fix:
        Add the taint `nvidia.com/gpu=true:NoSchedule` to the NodePool template. The GPU
        Operator's operands tolerate it by default, and pods that request nvidia.com/gpu
        get the toleration automatically on EKS (ExtendedResourceToleration) or from their
        spec. For AMD pools use amd.com/gpu, for Neuron pools aws.amazon.com/neuron.
    Severity:
        Always warning.
    """
    for np in _nodepools(snapshot):
        vendor = nodepool_accelerator(np)
        if vendor is Accelerator.NONE:
            continue
        if any(t.effect in ("NoSchedule", "NoExecute") for t in nodepool_taints(np)):
            continue
        yield gpu_nodepool_untainted.finding(
            f"NodePool {np.metadata.name} launches {'GPU' if vendor is not Accelerator.NEURON else 'Neuron'} nodes "
            f"without a taint: any pod can land on them; add the taint {vendor.resource}=true:NoSchedule",
            ref(np, "NodePool"),
            evidence=[
                "spec.template.spec.taints: " + (", ".join(format_taint(t) for t in nodepool_taints(np)) or "none")
            ],
        )


# -- GPU603 ------------------------------------------------------------------------------


@check(
    "GPU603",
    "gpu-nodepool-no-gpu-limit",
    Severity.WARNING,
    "GPU NodePool has no nvidia.com/gpu limit",
    reads=("nodepools",),
    scope="nodepool-draft",
)
def gpu_nodepool_no_gpu_limit(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A GPU NodePool sets no limit on nvidia.com/gpu.

    What it checks:
        GPU NodePools without spec.limits["nvidia.com/gpu"].

    Why it matters:
        Limits are the spend cap. Without one, a stuck HPA, a runaway job array or pods
        that never schedule can make Karpenter launch GPU instances until EC2 quotas stop
        it, at dollars to tens of dollars per node-hour. A cpu or memory limit caps GPUs
        only loosely: one p5.48xlarge has 8 GPUs but counts as 192 vCPU.

    How to fix:
        Set spec.limits["nvidia.com/gpu"] to the most GPUs the NodePool should run at once
        (`gputui nodepool edit NAME` shows what a limit means in nodes and dollars/hour).

    Severity:
        Always warning: nothing stops the NodePool from launching GPU instances without
        bound.
    """
    for np in _nodepools(snapshot):
        if not is_nvidia_nodepool(np):
            continue
        limits = np.spec.get("limits") or {}
        if GPU_RESOURCE in limits:
            continue
        other = ", ".join(f"{k}={v}" for k, v in limits.items())
        yield gpu_nodepool_no_gpu_limit.finding(
            f"NodePool {np.metadata.name} has no {GPU_RESOURCE} limit"
            + (f" (only {other})" if other else "")
            + f": set spec.limits[{GPU_RESOURCE}] to cap GPU spend",
            ref(np, "NodePool"),
            evidence=[f"spec.limits: {other or 'none'}"],
        )


# -- GPU604 ------------------------------------------------------------------------------


def _unknown_to_catalogue(np: Object) -> list[str]:
    """GPU-looking instance types, families or GPU names the catalogue does not know."""
    families = {it.family for it in instances.INSTANCE_TYPES.values()}
    out = []
    for r in requirement_dicts(np):
        if r.get("operator") != "In":
            continue
        key, values = r.get("key"), [str(v) for v in r.get("values") or []]
        for v in values:
            if (
                key == "node.kubernetes.io/instance-type"
                and v not in instances.INSTANCE_TYPES
                and GPU_FAMILY_RE.match(v.split(".")[0])
            ):
                out.append(v)
            elif key == instances.L_FAMILY and v not in families and GPU_FAMILY_RE.match(v):
                out.append(v)
            elif key == instances.L_GPU_NAME and v not in instances.GPU_MODELS:
                out.append(v)
    return out


@check(
    "GPU604",
    "nodepool-no-gpu-instance-type",
    Severity.ERROR,
    "GPU NodePool requirements admit no NVIDIA GPU instance type",
    reads=("nodepools",),
    scope="nodepool-draft",
)
def nodepool_no_gpu_instance_type(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A GPU NodePool's requirements match no NVIDIA GPU instance type.

    What it checks:
        For NodePools meant for NVIDIA GPUs (GPU requirements or the nvidia.com/gpu
        taint), the instance types their requirements admit, from gputui's catalogue of
        GPU instance types (g4dn, g5, g5g, g6, g6e, gr6, p3, p4d, p5, p5e, p5en, p6).

    Why it matters:
        Karpenter can launch nothing for GPU pods from such a NodePool: they stay Pending
        with "no instance type satisfied resources and requirements". Typical causes: a
        size that the family does not have (g6e.large), an architecture that excludes
        every GPU family (arm64 with g5), a GPU name typo (a10 instead of a10g), or a
        generation bound that is too high.

    How to fix:
        Widen the requirements: `gputui nodepool edit NAME` previews the instance types
        each change admits.

    Severity:
        Error when every instance type the requirements admit is known and none has an
        NVIDIA GPU. Info when the NodePool names an instance type gputui's catalogue
        does not know: it may be a new type and the NodePool fine.
    """
    for np in _nodepools(snapshot):
        if not is_nvidia_nodepool(np):
            continue
        if any(it.is_nvidia for it in allowed_instance_types(np)):
            continue
        unknown = _unknown_to_catalogue(np)
        reqs = [str(r) for r in nodepool_requirements(np) if r.origin == "requirement"]
        if unknown:
            yield nodepool_no_gpu_instance_type.finding(
                f"NodePool {np.metadata.name} asks for {', '.join(unknown)}, which gputui's instance "
                "catalogue does not know: check the spelling; if it is a new type, the NodePool may be fine",
                ref(np, "NodePool"),
                severity=Severity.INFO,
                evidence=reqs,
            )
            continue
        yield nodepool_no_gpu_instance_type.finding(
            f"NodePool {np.metadata.name}'s requirements admit no NVIDIA GPU instance type: Karpenter can "
            "launch nothing for GPU pods; widen the requirements",
            ref(np, "NodePool"),
            evidence=reqs,
        )


# -- GPU605 ------------------------------------------------------------------------------


def _operand_tolerations(snapshot: ClusterSnapshot, draft: bool) -> tuple[str, list[tuple[str, list[Any]]]] | None:
    """(where the tolerations come from, [(operand name, tolerations)]) or None when a
    cluster check already judges this (live NodePool, operand DaemonSets visible)."""
    operands = list(all_operand_daemonsets(snapshot))
    if operands:
        if not draft:
            return None
        return "operand DaemonSets", [(ds.metadata.name, daemonset_tolerations(ds)) for _o, ds in operands]
    cp = clusterpolicy(snapshot)
    if cp is not None:
        tols = mapping(cp.spec.get("daemonsets")).get("tolerations")
        if tols is None:
            tols = list(DEFAULT_OPERAND_TOLERATIONS)
        return (
            f"ClusterPolicy {cp.metadata.name} spec.daemonsets.tolerations",
            [("GPU Operator operands", [toleration_from_dict(t) for t in tols])],
        )
    if not draft:
        return None  # a live cluster without the GPU Operator: nothing of it to starve
    return (
        "the GPU Operator's default tolerations (no ClusterPolicy seen)",
        [("GPU Operator operands", [toleration_from_dict(t) for t in DEFAULT_OPERAND_TOLERATIONS])],
    )


@check(
    "GPU605",
    "nodepool-taint-blocks-operands",
    Severity.ERROR,
    "NodePool taint would keep the GPU Operator off its nodes",
    reads=("nodepools", "daemonsets", "clusterpolicies"),
    scope="nodepool-draft",
)
def nodepool_taint_not_tolerated_by_operands(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A GPU NodePool's taint is not tolerated by the GPU Operator's operands.

    What it checks:
        NoSchedule/NoExecute taints of a GPU NodePool's template against the operands'
        tolerations: the operand DaemonSets when they are visible, else the ClusterPolicy's
        spec.daemonsets.tolerations, else the chart default (nvidia.com/gpu only). For
        live NodePools with operand DaemonSets in view, GPU205 reports this instead.

    Why it matters:
        Every node the NodePool launches would come up without driver, toolkit and device
        plugin: no nvidia.com/gpu, NodeClaims stuck at ResourceNotRegistered, GPU pods
        Pending while the instances bill.

    How to fix:
        Use the taint the operands already tolerate (nvidia.com/gpu=true:NoSchedule), or
        add the new taint to ClusterPolicy spec.daemonsets.tolerations (Helm value
        daemonsets.tolerations) before the NodePool change goes out.

    Severity:
        Error when the ClusterPolicy (or the operand DaemonSets) in the cluster do not
        tolerate the taint. Warning when no ClusterPolicy was seen and the taint is
        judged against the GPU Operator's default tolerations.
    """
    for np in _nodepools(snapshot):
        if not is_nvidia_nodepool(np):
            continue
        draft = is_draft(np)
        source = _operand_tolerations(snapshot, draft)
        if source is None:
            continue
        where, operands = source
        for t in nodepool_taints(np):
            if not blocking_taint(t):
                continue
            missing = [name for name, tols in operands if not any(tolerates(tol, t) for tol in tols)]
            if not missing:
                continue
            no_operator = where.startswith("the GPU Operator's default")
            yield nodepool_taint_not_tolerated_by_operands.finding(
                f"NodePool {np.metadata.name} taints its nodes {format_taint(t)}, which "
                f"{'the GPU Operator would not tolerate by default' if no_operator else where + ' do not tolerate'}"
                ": its nodes would get no driver or device plugin; add the toleration to ClusterPolicy "
                "spec.daemonsets.tolerations or use nvidia.com/gpu",
                ref(np, "NodePool"),
                severity=Severity.WARNING if no_operator else None,
                evidence=[
                    f"taint {format_taint(t)} not tolerated by {', '.join(missing[:6])}"
                    + (f" (+{len(missing) - 6})" if len(missing) > 6 else ""),
                    f"tolerations from {where}",
                ],
            )


# -- GPU606 ------------------------------------------------------------------------------


@check(
    "GPU606",
    "pending-gpu-pod-still-unfit",
    Severity.WARNING,
    "Pending GPU pods still would not fit the edited NodePool",
    reads=("nodepools", "pods"),
    scope="nodepool-draft",
)
def pending_gpu_pod_still_unfit(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """Pending GPU pods aimed at an edited NodePool would still not get a node from it.

    What it checks:
        Only for a NodePool being edited or linted: every pending GPU pod that selects the
        NodePool (karpenter.sh/nodepool or one of its template labels), or selects no
        custom label at all, is evaluated against the edited NodePool as Karpenter would:
        taints, requirements, instance sizes and the limits left.

    Why it matters:
        An edit made to unblock pods that still leaves them Pending costs a change window
        and a drift-triggered node rotation for nothing.

    How to fix:
        The finding names what still blocks each workload: tolerate the taint in the
        workload, widen the instance requirements or raise the limit in the draft.
    Severity:
        Always warning.
    """
    from checks.gpu_pods import unscheduled_gpu_pods
    from checks.nodeclass_kubelet import nodeclass_kubelet
    from checks.workloads import group_by_workload

    drafts = [np for np in _nodepools(snapshot) if is_draft(np)]
    if not drafts:
        return
    pending = unscheduled_gpu_pods(snapshot)
    for np in drafts:
        gpu_pool = is_nvidia_nodepool(np)
        aimed = [p for p in pending if pod_aims_at_nodepool(np, p, gpu_pool)]
        for wl in group_by_workload(snapshot, aimed):
            verdict = evaluate_nodepool(np, wl.pods[0], kubelet=nodeclass_kubelet(snapshot.ec2nodeclasses, np))
            if verdict.fits:
                continue
            yield pending_gpu_pod_still_unfit.finding(
                f"{wl.ref.kind} {wl.ref.namespace}/{wl.ref.name} ({len(wl.pods)} pending pod"
                f"{'s' if len(wl.pods) != 1 else ''}) would still not fit NodePool {np.metadata.name}: "
                + "; ".join(b.detail for b in verdict.blocking),
                ref(np, "NodePool"),
                related=[wl.ref],
                evidence=[b.detail + (f" ({b.fix_hint})" if b.fix_hint else "") for b in verdict.blocking],
            )


# -- GPU607 ------------------------------------------------------------------------------


def v1_changes(np: dict[str, Any]) -> list[str]:
    """What moving a karpenter.sh/v1beta1 NodePool to karpenter.sh/v1 changes, in words."""
    if np.get("apiVersion") != V1BETA1:
        return []
    spec = np.get("spec") or {}
    disruption = spec.get("disruption") or {}
    tspec = ((spec.get("template") or {}).get("spec")) or {}
    out = ["apiVersion: karpenter.sh/v1beta1 → karpenter.sh/v1"]
    policy = disruption.get("consolidationPolicy", "WhenUnderutilized")
    if policy == "WhenUnderutilized":
        out.append("spec.disruption.consolidationPolicy: WhenUnderutilized → WhenEmptyOrUnderutilized")
    if "consolidateAfter" not in disruption:
        out.append(
            "spec.disruption.consolidateAfter: required in v1; conversion sets 0s (consolidate as soon as possible)"
        )
    if "expireAfter" in disruption:
        out.append(f"spec.disruption.expireAfter ({disruption['expireAfter']}) moves to spec.template.spec.expireAfter")
    ref_ = tspec.get("nodeClassRef") or {}
    if "apiVersion" in ref_ or "group" not in ref_:
        group = str(ref_.get("apiVersion", "karpenter.k8s.aws/v1beta1")).split("/")[0]
        out.append(
            f"spec.template.spec.nodeClassRef.apiVersion ({ref_.get('apiVersion', 'unset')}) becomes "
            f"group: {group}; kind and name become required"
        )
    if "kubelet" in tspec:
        out.append(
            "spec.template.spec.kubelet moves to the EC2NodeClass (spec.kubelet); NodePools sharing a node "
            "class must agree on it"
        )
    if "resources" in tspec:
        out.append("spec.template.spec.resources is dropped (v1 has no such field)")
    out.append(
        "budgets may then name reasons (Underutilized, Empty, Drifted); terminationGracePeriod becomes available"
    )
    return out


def to_v1(np: dict[str, Any]) -> dict[str, Any]:
    """The karpenter.sh/v1 form of a v1beta1 NodePool (shown to people; never applied silently)."""
    out = copy.deepcopy(np)
    if out.get("apiVersion") != V1BETA1:
        return out
    out["apiVersion"] = V1
    spec = out.setdefault("spec", {})
    disruption = spec.setdefault("disruption", {})
    tspec = spec.setdefault("template", {}).setdefault("spec", {})
    if disruption.get("consolidationPolicy", "WhenUnderutilized") == "WhenUnderutilized":
        disruption["consolidationPolicy"] = "WhenEmptyOrUnderutilized"
    disruption.setdefault("consolidateAfter", "0s")
    if "expireAfter" in disruption:
        tspec["expireAfter"] = disruption.pop("expireAfter")
    ref_ = tspec.get("nodeClassRef")
    if isinstance(ref_, dict):
        api = ref_.pop("apiVersion", "karpenter.k8s.aws/v1beta1")
        tspec["nodeClassRef"] = {
            "group": str(api).split("/")[0],
            "kind": ref_.get("kind", "EC2NodeClass"),
            "name": ref_.get("name", ""),
        }
    tspec.pop("kubelet", None)
    tspec.pop("resources", None)
    return out


def _api_version(snapshot: ClusterSnapshot, np: Object) -> str:
    return np.api_version or snapshot.karpenter_api_version or V1


@check(
    "GPU607",
    "nodepool-v1beta1",
    Severity.INFO,
    "NodePool uses the karpenter.sh/v1beta1 API",
    reads=("nodepools",),
    scope="nodepool-draft",
)
def nodepool_v1beta1(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A NodePool is written against karpenter.sh/v1beta1.

    What it checks:
        NodePools served or written as karpenter.sh/v1beta1, and what moving them to
        karpenter.sh/v1 changes.

    Why it matters:
        Karpenter v1.0 still converts v1beta1 objects; from v1.1 the v1beta1 API is gone,
        and manifests in Git must be rewritten before the upgrade. Some fields move
        (expireAfter, nodeClassRef.apiVersion → group, kubelet to the EC2NodeClass) and
        one value is renamed (WhenUnderutilized → WhenEmptyOrUnderutilized).

    How to fix:
        Rewrite the manifest as karpenter.sh/v1 with the listed changes (gputui shows the
        v1 form; it never converts an object on its own), upgrade to Karpenter v1.0 first,
        then apply the v1 manifests.

    Severity:
        Always info.
    """
    for np in _nodepools(snapshot):
        api = _api_version(snapshot, np)
        if api != V1BETA1:
            continue
        d = to_dict(np)
        d["apiVersion"] = api
        changes = v1_changes(d)
        yield nodepool_v1beta1.finding(
            f"NodePool {np.metadata.name} is karpenter.sh/v1beta1; moving it to v1 changes "
            f"{len(changes) - 2} field(s) besides the apiVersion",
            ref(np, "NodePool"),
            evidence=changes,
        )


# -- GPU608 ------------------------------------------------------------------------------


def _crd_for(snapshot: ClusterSnapshot, group: str, kind: str) -> Object | None:
    for crd in snapshot.crds:
        names = crd.spec.get("names") or {}
        if crd.spec.get("group") == group and names.get("kind") == kind:
            return crd
    return None


def schema_for(snapshot: ClusterSnapshot, kind: str, api_version: str) -> tuple[dict[str, Any] | None, str]:
    """The schema to judge an object by, and where it came from: the CRD in the snapshot
    when it has a real schema, else gputui's built-in rules."""
    group, _, version = api_version.partition("/")
    crd = _crd_for(snapshot, group, kind)
    if crd is not None:
        schema = version_schema({"spec": crd.spec}, version)
        if schema is not None and not is_permissive(schema):
            return schema, f"the {crd.metadata.name} CRD ({version})"
    builtin = builtin_schema(kind, api_version)
    return builtin, "gputui's built-in " + kind + " rules"


@check(
    "GPU608",
    "karpenter-manifest-invalid",
    Severity.ERROR,
    "NodePool or EC2NodeClass would be rejected by the API server",
    reads=("nodepools", "ec2nodeclasses", "crds"),
    scope="nodepool-draft",
)
def karpenter_manifest_invalid(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A NodePool or EC2NodeClass being edited or linted does not pass its CRD's schema.

    What it checks:
        Only drafts and manifest files (live objects were already accepted): the
        openAPIV3Schema of the installed CRD (or of a CRD file given to `nodepool lint
        --crd`), else gputui's built-in rules for karpenter.sh/v1 NodePools: types,
        required fields, enums, patterns, bounds, unknown fields, and the CEL rules gputui
        can evaluate. Other CEL rules are left to the server's dry run.

    Why it matters:
        The API server refuses the whole object; in GitOps the sync fails and the old
        NodePool stays, often unnoticed.

    How to fix:
        Each finding gives the field path and what the schema wants, e.g.
        spec.template.spec.requirements[2].operator: Unsupported value "Equals".

    Severity:
        Always error: the API server would refuse the object.
    """
    for attr, kind in (("nodepools", "NodePool"), ("ec2nodeclasses", "EC2NodeClass")):
        for obj in getattr(snapshot, attr):
            if not is_draft(obj):
                continue
            api = (
                obj.api_version
                or (snapshot.karpenter_api_version if kind == "NodePool" else "")
                or (V1 if kind == "NodePool" else "karpenter.k8s.aws/v1")
            )
            schema, source = schema_for(snapshot, kind, api)
            if schema is None:
                continue
            d = _wire_form(obj, kind, api)
            report = validate(d, schema)
            if not report.errors:
                continue
            errors = [_moved_hint(str(e)) for e in report.errors]
            yield karpenter_manifest_invalid.finding(
                f"{kind} {obj.metadata.name} would be rejected: {errors[0]}"
                + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""),
                ref(obj, kind),
                evidence=errors + [f"checked against {source}"],
            )


# Fields karpenter.sh/v1 took out of the NodePool: the schema only says "unknown field"; the fix is to move them.
_MOVED_IN_V1 = {"spec.template.spec.kubelet": "the EC2NodeClass's spec.kubelet"}


def _moved_hint(error: str) -> str:
    path = error.partition(":")[0]
    moved = _MOVED_IN_V1.get(path)
    return f"{error}; karpenter.sh/v1 moved it to {moved}" if moved and "unknown field" in error else error


def _wire_form(obj: Object, kind: str, api: str) -> dict[str, Any]:
    d = to_dict(obj)
    d["apiVersion"], d["kind"] = api, kind
    md = dict(d.get("metadata") or {})
    ann = {k: v for k, v in (md.get("annotations") or {}).items() if k != DRAFT_ANNOTATION}
    if ann:
        md["annotations"] = ann
    else:
        md.pop("annotations", None)
    d["metadata"] = md
    d.pop("status", None)
    return d


# -- GPU609 ------------------------------------------------------------------------------


@check(
    "GPU609",
    "nodepool-nodeclass-missing",
    Severity.ERROR,
    "NodePool refers to an EC2NodeClass that does not exist",
    reads=("nodepools", "ec2nodeclasses"),
    scope="nodepool-draft",
)
def nodepool_nodeclass_missing(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A NodePool being edited or linted names an EC2NodeClass that is not there.

    What it checks:
        Drafts and manifest files: spec.template.spec.nodeClassRef against the
        EC2NodeClasses in the cluster (editor) or in the linted files (only when the files
        hold at least one EC2NodeClass). For live NodePools, GPU306 reports Karpenter's
        NodeClassNotFound instead.

    Why it matters:
        Karpenter marks the NodePool not ready (NodeClassReady=False) and launches nothing
        from it.

    How to fix:
        Point nodeClassRef.name at an existing EC2NodeClass, or create the EC2NodeClass
        first.

    Severity:
        Always error: Karpenter launches nothing from the NodePool.
    """
    names = {c.metadata.name for c in snapshot.ec2nodeclasses}
    if not names:
        return
    for np in _nodepools(snapshot):
        if not is_draft(np):
            continue
        ref_ = template_spec(np).get("nodeClassRef") or {}
        if ref_.get("kind", "EC2NodeClass") != "EC2NodeClass" or not ref_.get("name"):
            continue
        if ref_["name"] in names:
            continue
        yield nodepool_nodeclass_missing.finding(
            f"NodePool {np.metadata.name} uses EC2NodeClass {ref_['name']}, which does not exist "
            f"(there are: {', '.join(sorted(names))}); Karpenter would launch nothing from it",
            ref(np, "NodePool"),
            evidence=[f"spec.template.spec.nodeClassRef.name: {ref_['name']}"],
        )


def draft_checks(registry_checks: Iterable[Any]) -> list[Any]:
    """The registered checks that run on drafts."""
    return [c for c in registry_checks if c.scope == "nodepool-draft"]
