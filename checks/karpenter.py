"""Area karpenter (GPU3xx): can Karpenter launch, register and initialize GPU nodes?"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from checks import fixplans
from checks.conditions import condition, condition_text
from checks.event_messages import parse_nodeclaim_event
from checks.findings import age_text, ref
from checks.fix_kinds import FixKind
from checks.gpu import LABEL_INSTANCE_TYPE, LABEL_ZONE
from checks.gpu_nodes import GPU_INSTANCE_TYPE_RE
from checks.gpu_pods import pending_gpu_pods
from checks.k8s import (
    format_quantity,
    is_terminal,
    pod_gpu_request,
)
from checks.model import Finding, ObjectRef, Severity
from checks.nodeclaims import (
    LAUNCH_FAMILIES,
    condition_age,
    launch_cause,
    launched_after,
    nodeclaim_context,
    nodeclaim_events,
    nodeclaim_is_gpu,
    nodeclaim_nodepool,
    unknown_readiness,
)
from checks.nodepool_capacity import alternative_types, limit_errors_for, limits_state, raised_limit
from checks.nodepool_model import requirement_dicts, serves_nvidia_gpus, template_spec
from checks.nodepools import pods_waiting_on_nodepool
from checks.recognise import recognise
from checks.recognise_karpenter import WIDEN_CAPACITY
from checks.registry import check
from checks.snapshot_indexes import nodeclaim_by_name
from checks.timestamps import parse_time
from checks.transitions import (
    NODECLAIM_INITIALIZATION,
    NODECLAIM_LAUNCH_SECONDS,
    NODECLAIM_REGISTRATION,
    REGISTRATION_TTL_SECONDS,
    deadline_text,
    elapsed_text,
    within,
)
from checks.workloads import pod_names

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

LAUNCH_TIMEOUT = NODECLAIM_LAUNCH_SECONDS
REGISTRATION_TIMEOUT = REGISTRATION_TTL_SECONDS
EC2NODECLASS_PARTS = (
    "SubnetsReady",
    "SecurityGroupsReady",
    "AMIsReady",
    "InstanceProfileReady",
    "CapacityReservationsReady",
    "PlacementGroupReady",
    "ValidationSucceeded",
)
_STARTING_REASONS = {None, "", "AwaitingReconciliation", "Launching"}


@check(
    "GPU301",
    "nodeclaim-launch-failed",
    Severity.ERROR,
    "Karpenter could not launch a NodeClaim",
    reads=("nodeclaims", "ec2nodeclasses", "events"),
)
def nodeclaim_launch_failed(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A NodeClaim whose instance was never launched.

    What it checks:
        NodeClaims with Launched=False/Unknown and a failure reason: LaunchFailed (the
        cloud provider's error, truncated, is the message), InstanceTypeResolutionFailed,
        SubnetResolutionFailed, NodeClassReadinessUnknown, ... It quotes the condition, the
        NodeClaim's warning events and, for NodeClass problems, the EC2NodeClass conditions.
        Karpenter deletes a NodeClaim that has not launched after 5 minutes and retries.

    Why it matters:
        Pending GPU pods wait for this node. A persistent cause (no AMI for the GPU
        instance types, no subnet, bad instance profile) fails every retry the same way.

    How to fix:
        The finding names the cause read from the message or the NodeClaim's events and
        what to change: the controller's IAM role (UnauthorizedOperation), the EC2NodeClass
        role/instanceProfile, AMI, subnet or security-group selector terms (for GPU types an
        NVIDIA AMI), the NodePool for capacity; NodeClassReadinessUnknown: GPU307.

    Severity:
        Always error: the pods waiting for the node stay Pending.
    """
    for nc in snapshot.nodeclaims:
        c = condition(nc, "Launched")
        if c is not None and c.get("status") == "True":
            continue
        age = snapshot.age_seconds(nc.metadata.creation_timestamp)
        reason = (c or {}).get("reason")
        if reason in _STARTING_REASONS and (age is None or age < 120):
            continue
        if nc.metadata.deletion_timestamp and reason in _STARTING_REASONS:
            continue
        related, desc = nodeclaim_context(snapshot, nc)
        ev = [f"condition {condition_text(c)}" if c else "no Launched condition yet"]
        ev.append(
            f"NodeClaim age {age_text(age)}; Karpenter gives up and deletes it after "
            f"{LAUNCH_TIMEOUT // 60} minutes without launch, then retries"
        )
        ev += nodeclaim_events(snapshot, nc)
        for r in related:
            if r.kind == "EC2NodeClass":
                ncls = next((x for x in snapshot.ec2nodeclasses if x.metadata.name == r.name), None)
                if ncls is None:
                    ev.append(f"EC2NodeClass {r.name} does not exist")
                else:
                    bad = [
                        condition_text(x) for x in (ncls.status.get("conditions") or []) if x.get("status") != "True"
                    ]
                    ev += [f"EC2NodeClass {r.name}: {b}" for b in bad]
        msg = (c or {}).get("message") or ""
        rec = launch_cause(snapshot, nc, msg, reason)
        hint = ""
        if rec is not None:
            hint = f"; {rec.headline}. Fix: {rec.remedy_text}"
            ev.append(f"recognised: {rec.family} ({rec.cause}), change {rec.subject}")
        elif "amis" in msg.lower() or "ami" in (reason or "").lower():
            hint = "; the EC2NodeClass AMI selection yields no AMI for these GPU instance types"
        elif reason == "NodeClassReadinessUnknown":
            hint = "; the EC2NodeClass is not ready (see GPU307)"
        gpu = " GPU" if nodeclaim_is_gpu(snapshot, nc) else ""
        yield nodeclaim_launch_failed.finding(
            f"{gpu.strip() + ' ' if gpu else ''}NodeClaim {nc.metadata.name} ({desc}) did not launch: "
            f"{reason or 'no reason'}" + (f": {msg[:200]}" if msg else "") + hint,
            ref(nc, "NodeClaim"),
            related=related,
            evidence=ev,
        )


@check(
    "GPU302",
    "insufficient-capacity",
    Severity.ERROR,
    "EC2 had no capacity for the GPU instance types",
    reads=("events", "nodepools", "nodeclaims", "pods"),
    fixes=(FixKind.WIDEN_NODEPOOL_REQUIREMENTS,),
)
def insufficient_capacity(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """InsufficientCapacityError events: EC2 could not supply the GPU instances Karpenter asked for.

    What it checks:
        Karpenter's InsufficientCapacityError events ("NodeClaim <name> event:
        insufficient capacity, ..."), grouped per NodePool, with the instance types, the
        zones that had no capacity (EC2's "Availability Zone you requested (x)"), the
        zones EC2 suggests instead ("or choosing y, z") and the EC2 error codes (InsufficientInstanceCapacity, MaxSpotInstanceCountExceeded,
        VcpuLimitExceeded, ...) they name. Karpenter deletes such a NodeClaim at once, so
        the events are the only trace. Error when GPU pods are waiting for that NodePool,
        warning otherwise. It also says whether the NodePool's limits are part of the
        story, since limit exhaustion looks similar from the pod's side but is not fixed
        by waiting for EC2. Info once a later NodeClaim of the NodePool has launched.

    Why it matters:
        GPU instances (p4d, p5, g5, g6e) are scarce per zone. While EC2 has none, GPU pods
        stay Pending and Karpenter keeps retrying; a VcpuLimitExceeded code means your
        account quota for the G/P family is too low and will never succeed.

    How to fix:
        Widen what the NodePool may launch: more instance types with the same GPU count
        (g5 → g6/g6e), more zones/subnets, both spot and on-demand, or an On-Demand
        Capacity Reservation. For VcpuLimitExceeded ask AWS for a higher "Running On-Demand
        G and VT / P instances" quota.

    Severity:
        Error while GPU pods wait for the NodePool. Warning when no GPU pod is waiting
        now: the next scale-up will fail the same way. Info when a later launch from the
        NodePool succeeded: the capacity error is history.
    """
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"events": [], "types": [], "zones": [], "suggested": [], "codes": [], "ncs": [], "why": None}
    )
    for e in snapshot.events_by_reason.get("InsufficientCapacityError", []):
        parsed = parse_nodeclaim_event(e.message or "")
        nc_name = parsed.nodeclaim or e.involved_object.name
        nc = nodeclaim_by_name(snapshot).get(nc_name)
        pool = nodeclaim_nodepool(snapshot, nc_name, nc) or ""
        g = groups[pool]
        g["events"].append(e)
        # EC2 names the zone that failed and the zones it suggests: only the first failed.
        failed = parsed.zones_failed or ([] if parsed.zones_suggested else parsed.zones)
        for key, vals in (("types", parsed.instance_types), ("zones", failed), ("suggested", parsed.zones_suggested)):
            g[key].extend(v for v in vals if v not in g[key])
        if parsed.error_code and parsed.error_code not in g["codes"]:
            g["codes"].append(parsed.error_code)
        rec = recognise(parsed.message)
        if rec is not None and rec.family == "ec2-capacity" and (g["why"] is None or rec.remedy != WIDEN_CAPACITY):
            g["why"] = rec
        if nc_name not in g["ncs"]:
            g["ncs"].append(nc_name)
    for pool, g in sorted(groups.items()):
        np = snapshot.nodepool_by_name.get(pool)
        pool_types = []
        if np is not None:
            for r in requirement_dicts(np):
                if r.get("key") == LABEL_INSTANCE_TYPE and r.get("operator") == "In":
                    pool_types = list(r.get("values") or [])
        types = g["types"] or pool_types
        is_gpu = (np is not None and serves_nvidia_gpus(snapshot, np)) or any(
            GPU_INSTANCE_TYPE_RE.match(t) for t in types
        )
        if not is_gpu:
            continue
        if np is not None:
            waiting = pods_waiting_on_nodepool(snapshot, np)
        else:
            waiting = [
                p
                for p in pending_gpu_pods(snapshot)
                if any(
                    any(n in (x.message or "") for n in g["ncs"])
                    for x in snapshot.events_for("Pod", p.metadata.name, p.metadata.namespace)
                )
            ]
        evs = g["events"]
        total = sum(e.count or 1 for e in evs)
        newest = max((e.when or "" for e in evs), default="")
        ev = []
        for e in evs[-4:]:
            ev.append(
                f"event InsufficientCapacityError on NodeClaim {e.involved_object.name} "
                f"({age_text(snapshot.age_seconds(e.when))} ago"
                + (f", x{e.count}" if e.count and e.count > 1 else "")
                + f"): {e.message}"
            )
        ev.append(f"NodeClaims {', '.join(g['ncs'][:5])} were deleted right after the error; only these events remain")
        if g["codes"]:
            ev.append(f"EC2 error codes: {', '.join(g['codes'])}")
        related = [ref(np, "NodePool")] if np is not None else []
        limit_note = ""
        if np is not None:
            full = [(k, u, lim) for k, u, lim in limits_state(snapshot, np) if u >= lim]
            lim_errs = limit_errors_for(snapshot, pool)
            if full or lim_errs:
                limit_note = (
                    " NodePool limits are exhausted as well (GPU308): raising capacity options alone will not help"
                )
                ev += [f"limit {k}: {format_quantity(u, k)} used of {format_quantity(lim, k)}" for k, u, lim in full]
            elif np.spec.get("limits"):
                ev.append(
                    "NodePool limits are not the cause: "
                    + ", ".join(
                        f"{k} {format_quantity(u, k)}/{format_quantity(lim, k)}"
                        for k, u, lim in limits_state(snapshot, np)
                    )
                )
        if waiting:
            ev.append(f"GPU pods waiting for this NodePool: {pod_names(waiting)}")
            related += [ref(p, "Pod") for p in waiting[:5]]
        # A later successful launch in the same NodePool means EC2 found capacity since: history.
        later = launched_after(snapshot, [pool], newest) if np is not None else None
        if later is not None:
            ev.append(
                f"resolved: NodeClaim {later.metadata.name} of NodePool {pool} launched after the last "
                "InsufficientCapacityError"
            )
        suggested = [z for z in g["suggested"] if z not in g["zones"]]
        if suggested:
            ev.append(f"EC2 had no capacity in {', '.join(g['zones'])} and suggests {', '.join(suggested)}")
        why = g["why"]
        if why is not None:
            ev.append(f"recognised: {why.headline}; remedy: {why.remedy_text}")
        if "VcpuLimitExceeded" in g["codes"]:
            nxt = "raise the EC2 vCPU quota for this instance family (Service Quotas)"
        elif why is not None and why.remedy != WIDEN_CAPACITY:
            nxt = why.remedy_text
        elif suggested:
            nxt = f"allow the zones EC2 suggests ({', '.join(suggested)}), more instance types or capacity types in the NodePool"
        else:
            nxt = "allow more instance types, zones or capacity types in the NodePool"
        fixes = []
        if np is not None and pool_types:
            alts = alternative_types(types, np)
            if alts:
                fixes.append(fixplans.widen_nodepool_requirements(np, LABEL_INSTANCE_TYPE, alts))
        zone_req = next((r for r in requirement_dicts(np) if r.get("key") == LABEL_ZONE), None) if np else None
        if np is not None and suggested and zone_req is not None and zone_req.get("operator") == "In":
            fixes.insert(0, fixplans.widen_nodepool_requirements(np, LABEL_ZONE, suggested))  # the pool pins zones
        subject = ref(np, "NodePool") if np is not None else ObjectRef(kind="NodeClaim", name=g["ncs"][-1])
        what = f"NodePool {pool}" if np is not None else f"NodeClaim {g['ncs'][-1]} (NodePool unknown)"
        types_text = ", ".join(types[:6]) if types else "the requested instance types"
        zones = f" in {', '.join(g['zones'])}" if g["zones"] else ""
        last = f", last {age_text(snapshot.age_seconds(newest))} ago" if newest else ""
        wait_text = f"; {len(waiting)} GPU pod(s) wait for it" if waiting else "; no GPU pod is waiting now"
        yield insufficient_capacity.finding(
            f"{what}: EC2 had no capacity for {types_text}{zones} ({total} failed launch(es){last})"
            f"{wait_text}; {nxt}.{limit_note}".rstrip("."),
            subject,
            severity=Severity.INFO if later is not None else (None if waiting else Severity.WARNING),
            related=related,
            evidence=ev,
            fixes=fixes,
        )


@check(
    "GPU303",
    "nodeclaim-not-registered",
    Severity.ERROR,
    "Launched GPU instance never registered as a node",
    reads=("nodeclaims", "nodes", "events"),
    fixes=(FixKind.DELETE_NODECLAIM,),
)
def nodeclaim_not_registered(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A NodeClaim whose instance runs but whose kubelet never joined the cluster.

    What it checks:
        NodeClaims with Launched=True but Registered not True (NodeNotFound: "Node not
        registered with cluster"), with the instance ID and AMI, how long it has waited and
        the time left before Karpenter's 15-minute registration timeout deletes it.

    Why it matters:
        The instance bills while it fails to bootstrap, and Karpenter will replace it with
        another that likely fails the same way: GPU pods wait the whole time. The NodePool
        turns NodeRegistrationHealthy=False after repeated failures.

    How to fix:
        The kubelet could not bootstrap or reach the API server. Check the instance's
        console output or /var/log/cloud-init-output.log (SSM), the EC2NodeClass AMI
        (an AMI family that does not match the user data, or a non-EKS AMI), the node role's
        access entry / aws-auth mapping, and security groups between node and control
        plane.

    Severity:
        Error by default (the instance bills without a node). Info while the instance
        was launched less than 5 minutes ago: a GPU instance normally boots and joins
        within a few minutes.
    """
    for nc in snapshot.nodeclaims:
        launched = condition(nc, "Launched")
        reg = condition(nc, "Registered")
        if not launched or launched.get("status") != "True" or (reg and reg.get("status") == "True"):
            continue
        if nc.metadata.deletion_timestamp:
            continue
        started = parse_time(launched.get("lastTransitionTime") or nc.metadata.creation_timestamp)
        waited = (snapshot.now - started).total_seconds() if started else None
        related, desc = nodeclaim_context(snapshot, nc)
        ev = [
            f"condition {condition_text(reg)}" if reg else "no Registered condition",
            f"condition {condition_text(launched)}",
        ]
        st = nc.status
        if st.get("providerID"):
            ev.append(f"instance {st['providerID']}" + (f", image {st['imageID']}" if st.get("imageID") else ""))
        ev += nodeclaim_events(snapshot, nc)
        if waited is None:
            timing = "waiting"
        elif waited < REGISTRATION_TIMEOUT:
            left = REGISTRATION_TIMEOUT - waited
            timing = f"launched {age_text(waited)} ago; Karpenter deletes it in {age_text(left)} (15-minute registration timeout)"
            if started is not None:
                deadline = started + _dt.timedelta(seconds=REGISTRATION_TIMEOUT)
                ev.append(f"registration deadline {deadline.strftime('%Y-%m-%dT%H:%M:%SZ')}")
            if within(NODECLAIM_REGISTRATION, waited):
                timing += f"; {deadline_text(NODECLAIM_REGISTRATION, waited)}"
        else:
            timing = (
                f"launched {age_text(waited)} ago, past the 15-minute registration timeout: Karpenter is "
                "deleting it and will retry"
            )
        if waited is not None and not within(NODECLAIM_REGISTRATION, waited):
            ev.append(f"launched {elapsed_text(NODECLAIM_REGISTRATION, waited)}")
        # A GPU instance normally boots and joins within a few minutes: not a problem yet.
        severity = Severity.INFO if within(NODECLAIM_REGISTRATION, waited) else None
        yield nodeclaim_not_registered.finding(
            f"NodeClaim {nc.metadata.name} ({desc}) has not registered a node: {timing}; check the "
            "instance's bootstrap (console output), AMI and node role access",
            ref(nc, "NodeClaim"),
            severity=severity,
            related=related,
            evidence=ev,
            fixes=[fixplans.delete_nodeclaim(nc)],
        )


@check(
    "GPU304",
    "nodeclaim-not-initialized",
    Severity.ERROR,
    "GPU node registered but never initialized",
    reads=("nodeclaims", "nodes", "pods", "daemonsets", "clusterpolicies", "logs"),
    fixes=(
        FixKind.CLUSTERPOLICY_TOLERATIONS,
        FixKind.ADD_TOLERATION,
        FixKind.RESTART_OPERAND_POD,
        FixKind.DELETE_NODECLAIM,
    ),
)
def nodeclaim_not_initialized(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A NodeClaim whose node registered but is not initialized.

    What it checks:
        NodeClaims with Registered=True and Initialized not True, by reason:
        ResourceNotRegistered (`Resource "nvidia.com/gpu" was requested but not
        registered`: the device plugin never advertised the GPUs; the broken link on the
        node is named), StartupTaintsExist (a startup taint nobody removes),
        KnownEphemeralTaintsExist, NodeNotReady. Info for the first 10 minutes after
        registration unless a link is broken for good.

    Why it matters:
        Karpenter has no timeout for initialization: the node stays forever, costs money,
        is never consolidated and blocks disruption ("Node isn't initialized"), while the
        pods it was launched for stay Pending.

    How to fix:
        ResourceNotRegistered: fix the GPU chain on the node (see GPU101 for the exact
        link). StartupTaintsExist: the component that should remove the startup taint is
        not running there, or the taint is wrong in the NodePool. NodeNotReady: kubelet or
        CNI on the node. When the node will not recover, delete the NodeClaim.

    Severity:
        Error by default. Info while the node's Initialized condition is younger than 10
        minutes, the reason is ResourceNotRegistered and the GPU chain on the node shows
        nothing that waiting will not resolve; any other reason stays an error.
    """
    from checks.readiness_chain import diagnose_chain

    for nc in snapshot.nodeclaims:
        reg = condition(nc, "Registered")
        init = condition(nc, "Initialized")
        if not reg or reg.get("status") != "True" or (init and init.get("status") == "True"):
            continue
        if nc.metadata.deletion_timestamp:
            continue
        node_name = nc.status.get("nodeName")
        node = snapshot.node_by_name.get(node_name or "")
        related, desc = nodeclaim_context(snapshot, nc)
        if node_name:
            related.insert(0, ObjectRef(kind="Node", name=node_name))
        since = condition_age(snapshot, init, nc.metadata.creation_timestamp)
        reason = (init or {}).get("reason") or "unknown"
        ev = [f"condition {condition_text(init)}" + (f" (for {age_text(since)})" if since is not None else "")]
        ev += nodeclaim_events(snapshot, nc)
        cause = ""
        # Startup taints, NotReady and the GPU chain all settle on first boot: only a broken link is hard.
        hard = reason == "ResourceNotRegistered" and node is None
        timed = False
        fixes = []
        if reason == "ResourceNotRegistered" and node is not None:
            diag = diagnose_chain(snapshot, node)
            cause = f"; on {node_name}: {diag.summary}"
            ev += diag.evidence
            related += [r for r in diag.related if r not in related]
            hard, timed = diag.hard, diag.timed
            fixes += diag.fixes
        elif reason == "StartupTaintsExist":
            cause = (
                "; the startup taint is still on the node: whatever should remove it (a DaemonSet/agent) "
                "is not doing so"
            )
            if node is not None:
                ev.append("node taints: " + ", ".join(f"{t.key}={t.value or ''}:{t.effect}" for t in node.spec.taints))
        elif reason == "NodeNotReady" and node is not None:
            ready = condition(node, "Ready")
            ev.append(f"node condition {condition_text(ready)}")
        severity = None
        progress = ""
        if not hard and within(NODECLAIM_INITIALIZATION, since):
            severity = Severity.INFO
            progress = f"; still in progress: {deadline_text(NODECLAIM_INITIALIZATION, since)}"
        elif not hard or timed:  # an error only because the window passed: say by how much
            ev.append(f"Initialized not True for {elapsed_text(NODECLAIM_INITIALIZATION, since)}")
        msg = (
            f"NodeClaim {nc.metadata.name} ({desc}) is not initialized: {reason}"
            + (f" ({(init or {}).get('message')})" if (init or {}).get("message") else "")
            + cause
            + (progress or "; Karpenter has no initialization timeout, so the node stays until fixed or deleted")
        )
        yield nodeclaim_not_initialized.finding(
            msg,
            ref(nc, "NodeClaim"),
            severity=severity,
            related=related,
            evidence=ev,
            fixes=fixes + [fixplans.delete_nodeclaim(nc)],
        )


@check(
    "GPU305",
    "nodeclaim-disrupting",
    Severity.INFO,
    "GPU NodeClaim drifted or being disrupted",
    reads=("nodeclaims", "pods", "events"),
)
def nodeclaim_disrupting(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A NodeClaim that is drifted or on its way out.

    What it checks:
        NodeClaims with Drifted=True (NodePoolDrifted, AMIDrift, SubnetDrift, ...), a
        DisruptionReason condition (Underutilized, Empty, Drifted) or a deletionTimestamp,
        and the GPU pods running on their nodes that will be evicted.

    Why it matters:
        Karpenter will replace the node; GPU jobs there are evicted (gracefully, within
        budgets, unless they carry karpenter.sh/do-not-disrupt). Drift after an AMI release
        can roll every GPU node in a NodePool.

    How to fix:
        Usually nothing: it is Karpenter doing its job. To protect running jobs annotate
        their pods karpenter.sh/do-not-disrupt: "true" (blocks drift and consolidation, not
        expiration) or limit drift with a NodePool disruption budget for reason Drifted.

    Severity:
        Always info: disruption is Karpenter doing its job.
    """
    for nc in snapshot.nodeclaims:
        drift = condition(nc, "Drifted")
        dr = condition(nc, "DisruptionReason")
        deleting = nc.metadata.deletion_timestamp
        reasons = []
        if drift and drift.get("status") == "True":
            reasons.append(f"drifted ({drift.get('reason') or '?'})")
        if dr and dr.get("status") == "True":
            reasons.append(f"being disrupted: {dr.get('reason') or '?'}")
        if deleting:
            reasons.append(f"being deleted (for {age_text(snapshot.age_seconds(deleting))})")
        if not reasons or not nodeclaim_is_gpu(snapshot, nc):
            continue
        node_name = nc.status.get("nodeName")
        related, desc = nodeclaim_context(snapshot, nc)
        ev = [f"condition {condition_text(c)}" for c in (drift, dr) if c and c.get("status") == "True"]
        pods = [
            p for p in snapshot.pods_by_node.get(node_name or "", []) if pod_gpu_request(p) > 0 and not is_terminal(p)
        ]
        if pods:
            ev.append(f"GPU pods on {node_name}: {pod_names(pods)}")
            related += [ref(p, "Pod") for p in pods[:5]]
        if node_name:
            related.insert(0, ObjectRef(kind="Node", name=node_name))
            for e in snapshot.events_for("Node", node_name)[-2:]:
                ev.append(f"event {e.reason}: {e.message}")
        yield nodeclaim_disrupting.finding(
            f"NodeClaim {nc.metadata.name} ({desc}"
            + (f", node {node_name}" if node_name else "")
            + f") is {' and '.join(reasons)}"
            + (f"; {len(pods)} GPU pod(s) there will be evicted" if pods else ""),
            ref(nc, "NodeClaim"),
            related=related,
            evidence=ev,
        )


@check(
    "GPU306",
    "nodepool-not-ready",
    Severity.ERROR,
    "Karpenter NodePool is not ready",
    reads=("nodepools", "ec2nodeclasses"),
)
def nodepool_not_ready(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A NodePool Karpenter will not provision from.

    What it checks:
        NodePools with Ready=False or Ready=Unknown, and which sub-condition says why:
        NodeClassReady (NodeClassNotFound, NodeClassTerminating, NodeClassReadinessUnknown),
        ValidationSucceeded (NodePoolValidationFailed), NodeRegistrationHealthy
        (RegistrationFailed: nodes launched from it recently failed to register), or
        AwaitingReconciliation ("object is awaiting reconciliation") when no controller has
        reconciled it. The GPU pods waiting for the NodePool are linked.

    Why it matters:
        Karpenter skips a NodePool that is not ready: pods only it can serve (GPU pods
        tolerating its taint) stay Pending with no NodeClaim at all.

    How to fix:
        NodeClassNotFound: the spec.template.spec.nodeClassRef names an EC2NodeClass that
        does not exist (typo, or it was deleted). NodeClassReadinessUnknown: see the
        EC2NodeClass conditions (GPU307). RegistrationFailed: see GPU303 for why nodes do
        not join. Validation: `kubectl describe nodepool` shows the rejected field.

    Severity:
        Error when Ready=False: Karpenter launches nothing from the NodePool. Ready=Unknown
        is info for its first 10 minutes (a new or changed NodePool awaits
        reconciliation), then error while GPU pods wait for it, warning otherwise.
    """
    for np in snapshot.nodepools:
        ready = condition(np, "Ready")
        if not ready or ready.get("status") not in ("False", "Unknown"):
            continue
        unknown = ready.get("status") == "Unknown"
        conds = np.status.get("conditions") or []
        bad = [c for c in conds if c.get("type") != "Ready" and c.get("status") == ready.get("status")]
        ev = [f"condition {condition_text(ready)}"] + [f"condition {condition_text(c)}" for c in bad]
        related = []
        ncr = template_spec(np).get("nodeClassRef") or {}
        if ncr.get("name"):
            exists = any(x.metadata.name == ncr["name"] for x in snapshot.ec2nodeclasses)
            related.append(ObjectRef(kind=ncr.get("kind") or "EC2NodeClass", name=ncr["name"]))
            if (
                not exists
                and snapshot.ec2nodeclasses is not None
                and not snapshot.cannot_see("ec2nodeclasses.karpenter.k8s.aws")
            ):
                ev.append(f"nodeClassRef {ncr.get('kind') or 'EC2NodeClass'}/{ncr['name']} is not in the cluster")
        if ncr.get("name"):
            ncls = next((x for x in snapshot.ec2nodeclasses if x.metadata.name == ncr["name"]), None)
            for c in (ncls.status.get("conditions") or []) if ncls is not None else []:
                if c.get("type") in EC2NODECLASS_PARTS and c.get("status") == "False":
                    ev.append(f"EC2NodeClass {ncr['name']}: {condition_text(c)}")
        waiting = pods_waiting_on_nodepool(snapshot, np) if serves_nvidia_gpus(snapshot, np) else []
        if waiting:
            ev.append(f"GPU pods waiting for it: {pod_names(waiting)}")
            related += [ref(p, "Pod") for p in waiting[:5]]
        why = bad[0] if bad else ready
        severity, fix = None, ""
        if unknown:
            severity, fix = unknown_readiness(snapshot, np, ready, waiting, ev, bad)
        yield nodepool_not_ready.finding(
            f"NodePool {np.metadata.name} is not ready: {why.get('type')} {why.get('status') if unknown else ''} "
            f"{why.get('reason') or ''}".replace("  ", " ").rstrip()
            + (f" ({why.get('message')})" if why.get("message") else "")
            + ("; Karpenter launches nothing from it" + (f" while {len(waiting)} GPU pod(s) wait" if waiting else ""))
            + fix,
            ref(np, "NodePool"),
            severity=severity,
            related=related,
            evidence=ev,
        )


@check(
    "GPU307",
    "ec2nodeclass-not-ready",
    Severity.ERROR,
    "EC2NodeClass is not ready",
    reads=("ec2nodeclasses", "nodepools"),
)
def ec2nodeclass_not_ready(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """An EC2NodeClass whose subnets, security groups, AMIs or instance profile did not resolve.

    What it checks:
        EC2NodeClasses with Ready=False or Ready=Unknown (UnhealthyDependents,
        AwaitingReconciliation), naming each failed or unknown part — SubnetsReady,
        SecurityGroupsReady, AMIsReady, InstanceProfileReady, CapacityReservationsReady,
        ValidationSucceeded — with its reason, message and remedy, the NodePools that use
        it and the GPU pods waiting for them.

    Why it matters:
        Every NodePool referencing it stops launching nodes (NodeClassReadinessUnknown).
        For GPU NodePools, AMIsReady=False usually means the AMI selector finds no
        accelerated AMI for the requested architecture.

    How to fix:
        SubnetsReady / SecurityGroupsReady: the selector tags match nothing in the VPC (check
        `karpenter.sh/discovery` tags). AMIsReady: fix amiSelectorTerms (e.g. alias
        al2023@latest; GPU instances need the NVIDIA variant the alias resolves to).
        InstanceProfileReady: the role does not exist or Karpenter lacks iam:PassRole.

    Severity:
        Error when Ready=False: every NodePool using it stops launching nodes. Ready=Unknown
        is info for its first 10 minutes, then error while GPU pods wait for its NodePools,
        warning otherwise.
    """
    for ncls in snapshot.ec2nodeclasses:
        ready = condition(ncls, "Ready")
        if not ready or ready.get("status") not in ("False", "Unknown"):
            continue
        unknown = ready.get("status") == "Unknown"
        conds = ncls.status.get("conditions") or []
        bad = [c for c in conds if c.get("type") in EC2NODECLASS_PARTS and c.get("status") == "False"]
        bad += [c for c in conds if unknown and c.get("type") in EC2NODECLASS_PARTS and c.get("status") == "Unknown"]
        ev = [f"condition {condition_text(c)}" for c in bad] or [f"condition {condition_text(ready)}"]
        pools = [
            np
            for np in snapshot.nodepools
            if (template_spec(np).get("nodeClassRef") or {}).get("name") == ncls.metadata.name
        ]
        related = [ref(np, "NodePool") for np in pools]
        gpu_pools = [np.metadata.name for np in pools if serves_nvidia_gpus(snapshot, np)]
        if pools:
            ev.append(f"NodePools using it: {', '.join(np.metadata.name for np in pools)}")
        why: dict[tuple[str, str], list[str]] = {}  # parts failing the same way are named once
        for c in bad:
            why.setdefault((c.get("reason") or "False", (c.get("message") or "")[:160]), []).append(c.get("type"))
        parts = ", ".join(f"{', '.join(t)} ({r}" + (f": {m}" if m else "") + ")" for (r, m), t in why.items())
        parts = parts or condition_text(ready)
        impact = (
            f"; GPU NodePool(s) {', '.join(gpu_pools)} cannot launch nodes"
            if gpu_pools
            else (f"; NodePool(s) {', '.join(np.metadata.name for np in pools)} cannot launch nodes" if pools else "")
        )
        waiting = [
            p for np in pools if serves_nvidia_gpus(snapshot, np) for p in pods_waiting_on_nodepool(snapshot, np)
        ]
        waiting = list({(p.metadata.namespace, p.metadata.name): p for p in waiting}.values())
        if waiting:
            ev.append(f"GPU pods waiting for its NodePools: {pod_names(waiting)}")
            related += [ref(p, "Pod") for p in waiting[:5]]
        severity, fix = None, ""
        if unknown:
            severity, fix = unknown_readiness(snapshot, ncls, ready, waiting, ev, bad)
        elif bad:
            rec = recognise(f"{bad[0].get('reason') or ''}: {bad[0].get('message') or ''}")
            if rec is not None and rec.family in LAUNCH_FAMILIES:
                fix = f"; {rec.remedy_text}"
        yield ec2nodeclass_not_ready.finding(
            f"EC2NodeClass {ncls.metadata.name} is not ready"
            + (" (Ready Unknown)" if unknown else "")
            + f": {parts}{impact}{fix}",
            ref(ncls, "EC2NodeClass"),
            severity=severity,
            related=related,
            evidence=ev,
        )


@check(
    "GPU308",
    "nodepool-limit-reached",
    Severity.ERROR,
    "NodePool limit reached",
    reads=("nodepools", "nodes", "pods", "events"),
    fixes=(FixKind.RAISE_NODEPOOL_LIMIT,),
)
def nodepool_limit_reached(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A GPU NodePool at its spec.limits: Karpenter will not launch more nodes from it.

    What it checks:
        For every NodePool with spec.limits (nvidia.com/gpu, cpu, memory): status.resources
        (what its nodes already hold) against the limit, and Karpenter's FailedScheduling
        events on pending pods ("all available instance types exceed limits for nodepool",
        "node limits have been exhausted for nodepool"). Error when GPU pods are pending for
        it, warning when nothing waits yet.

    Why it matters:
        Pods stay Pending even though EC2 has capacity; from the pod's side it looks like
        an insufficient-capacity problem, but waiting will not fix it.

    How to fix:
        Raise the limit (fix raise-nodepool-limit) if the spend is intended, or free
        capacity: delete idle GPU nodes, let consolidation remove underused ones, or move
        workloads to another NodePool.

    Severity:
        Error while GPU pods wait for the NodePool (or Karpenter reported the limit for
        them). Warning when nothing is waiting now: the next GPU pod will stay Pending.
    """
    for np in snapshot.nodepools:
        if not np.spec.get("limits"):
            continue
        pool = np.metadata.name
        state = limits_state(snapshot, np)
        full = [(k, u, lim) for k, u, lim in state if u >= lim]
        lim_errs = limit_errors_for(snapshot, pool)
        is_gpu = serves_nvidia_gpus(snapshot, np)
        waiting = pods_waiting_on_nodepool(snapshot, np) if is_gpu else []
        if not full and lim_errs:
            # Karpenter says the next node would not fit: name the resource with the least headroom.
            full = sorted(state, key=lambda x: (x[2] - x[1]) / x[2] if x[2] else 0)[:1]
        if not full or not (is_gpu or lim_errs):
            continue
        ev = [f"limit {k}: {format_quantity(u, k)} used of {format_quantity(lim, k)}" for k, u, lim in state]
        ev += lim_errs[:3]
        related = []
        if waiting:
            ev.append(f"GPU pods waiting: {pod_names(waiting)}")
            related = [ref(p, "Pod") for p in waiting[:5]]
        ice = [
            e
            for e in snapshot.events_by_reason.get("InsufficientCapacityError", [])
            if nodeclaim_nodepool(snapshot, parse_nodeclaim_event(e.message or "").nodeclaim or e.involved_object.name)
            == pool
        ]
        if not ice:
            ev.append("no InsufficientCapacityError events for this NodePool: this is the limit, not EC2 capacity")
        fixes = [fixplans.raise_nodepool_limit(np, k, raised_limit(k, u, lim, waiting)) for k, u, lim in full[:1]]
        reached = ", ".join(f"{k} {format_quantity(u, k)}/{format_quantity(lim, k)}" for k, u, lim in full)
        waiting_n = len(waiting) or len(lim_errs)
        yield nodepool_limit_reached.finding(
            f"NodePool {pool} has reached its limits ({reached}): Karpenter launches no more nodes from it"
            + (
                f" while {waiting_n} GPU pod(s) wait; raise the limit or free capacity"
                if waiting_n
                else "; the next GPU pod will stay Pending"
            ),
            ref(np, "NodePool"),
            severity=None if waiting_n else Severity.WARNING,
            related=related,
            evidence=ev,
            fixes=fixes,
        )
