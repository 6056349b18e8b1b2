"""What a Karpenter NodeClaim is and says: its NodePool, whether it is for GPUs, its
context and events, for the checks that judge launches, registration and disruption."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from checks.event_messages import parse_nominated
from checks.findings import age_text, ref
from checks.gpu import GPU_RESOURCE, LABEL_INSTANCE_TYPE, LABEL_NODEPOOL
from checks.gpu_pods import pending_gpu_pods
from checks.k8s import mapping, quantity_or_zero
from checks.kinds import Event, Object, Pod
from checks.model import Finding, ObjectRef, Severity
from checks.nodepool_model import serves_nvidia_gpus
from checks.recognise import Recognition, recognise
from checks.registry import check
from checks.timestamps import parse_time
from checks.transitions import LAUNCH_PATIENCE_SECONDS, STUCK_SECONDS
from checks.workloads import pod_names

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot


def nodeclaim_nodepool(snapshot: ClusterSnapshot, nc_name: str, nc: Object | None = None) -> str | None:
    """The NodePool a NodeClaim (or an event naming one) belongs to."""
    if nc is not None and nc.metadata.labels.get(LABEL_NODEPOOL):
        return nc.metadata.labels[LABEL_NODEPOOL]
    # NodeClaims are named <nodepool>-<5 random chars>; the event outlives the NodeClaim.
    best = None
    for np in snapshot.nodepools:
        n = np.metadata.name
        if nc_name.startswith(n + "-") and (best is None or len(n) > len(best)):
            best = n
    return best


def nodeclaim_is_gpu(snapshot: ClusterSnapshot, nc: Object) -> bool:
    """It asks for or has nvidia.com/gpu, or its NodePool serves NVIDIA GPUs."""
    if quantity_or_zero(mapping(mapping(nc.spec.get("resources")).get("requests")).get(GPU_RESOURCE)) > 0:
        return True
    if quantity_or_zero((nc.status.get("capacity") or {}).get(GPU_RESOURCE)) > 0:
        return True
    pool = snapshot.nodepool_by_name.get(nc.metadata.labels.get(LABEL_NODEPOOL, ""))
    return pool is not None and serves_nvidia_gpus(snapshot, pool)


def nodeclaim_context(snapshot: ClusterSnapshot, nc: Object) -> tuple[list[ObjectRef], str]:
    """(its NodePool and node class as related objects, "NodePool x, instance types")."""
    related = []
    pool = nc.metadata.labels.get(LABEL_NODEPOOL)
    if pool:
        related.append(ObjectRef(kind="NodePool", name=pool))
    ncr = nc.spec.get("nodeClassRef") or {}
    if ncr.get("name"):
        related.append(ObjectRef(kind=ncr.get("kind") or "EC2NodeClass", name=ncr["name"]))
    it = nc.metadata.labels.get(LABEL_INSTANCE_TYPE)
    if not it:
        for r in nc.spec.get("requirements") or []:
            if r.get("key") == LABEL_INSTANCE_TYPE and r.get("operator") == "In":
                vals = r.get("values") or []
                it = ", ".join(vals[:4]) + (" ..." if len(vals) > 4 else "")
    desc = f"NodePool {pool}" if pool else "no NodePool"
    if it:
        desc += f", {it}"
    return related, desc


def nodeclaim_events(snapshot: ClusterSnapshot, nc: Object, limit: int = 3) -> list[str]:
    """The last Warning events about the NodeClaim, for evidence."""
    evs = [e for e in snapshot.events_for("NodeClaim", nc.metadata.name) if e.type == "Warning"]
    return [f"event {e.reason}: {e.message}" for e in evs[-limit:]]


def condition_age(snapshot: ClusterSnapshot, c: dict[str, Any] | None, fallback: str | None) -> float | None:
    """Seconds since the condition last changed (or since `fallback`)."""
    return snapshot.age_seconds((c or {}).get("lastTransitionTime") or fallback)


def launched_after(snapshot: ClusterSnapshot, nodepools: list[str], when: str | None) -> Object | None:
    """A NodeClaim of these NodePools that launched after `when` (an event's time), if any.

    A launch failure (InsufficientCapacityError, LaunchFailed) older than a later successful
    launch in the same NodePool is history: Karpenter found capacity since.
    """
    since = parse_time(when)
    if since is None:
        return None
    best: tuple[Object, _dt.datetime] | None = None
    for nc in snapshot.nodeclaims:
        if nodeclaim_nodepool(snapshot, nc.metadata.name, nc) not in nodepools:
            continue
        launched = next(
            (c for c in nc.status.get("conditions") or [] if c.get("type") == "Launched" and c.get("status") == "True"),
            None,
        )
        at = parse_time((launched or {}).get("lastTransitionTime")) if launched else None
        if at is not None and at > since and (best is None or at > best[1]):
            best = (nc, at)
    return best[0] if best else None


READINESS_UNKNOWN_SECONDS = STUCK_SECONDS  # Ready=Unknown past this on a NodePool/EC2NodeClass is stuck
LAUNCH_FAMILIES = ("launch-failure", "ec2-capacity", "readiness-unknown")


def launch_cause(snapshot: ClusterSnapshot, nc: Any, message: str, reason: str | None) -> Recognition | None:
    """What the Launched condition, its reason or the NodeClaim's events say went wrong."""
    texts = [message, reason or ""] + [
        e.message or "" for e in snapshot.events_for("NodeClaim", nc.metadata.name) if e.type == "Warning"
    ]
    for text in texts:
        rec = recognise(text) if text else None
        if rec is not None and rec.family in LAUNCH_FAMILIES:
            return rec
    return None


def unknown_readiness(
    snapshot: ClusterSnapshot,
    obj: Any,
    ready: dict[str, Any],
    waiting: list[Any],
    ev: list[str],
    parts: list[dict[str, Any]] | None = None,
) -> tuple[Severity, str]:
    """Severity and remedy of a Ready condition stuck Unknown (read from its unknown parts first).

    Unknown is normal for a moment (a new or changed object awaits reconciliation): info
    within READINESS_UNKNOWN_SECONDS, then error while GPU pods wait, warning otherwise.
    """
    age = condition_age(snapshot, ready, obj.metadata.creation_timestamp)
    fix = ""
    for c in [*(parts or []), ready]:
        rec = recognise(f"{c.get('reason') or ''}: {c.get('message') or ''}")
        if rec is not None and rec.family in LAUNCH_FAMILIES:
            fix = f"; {rec.remedy_text}"
            break
    if age is not None and age < READINESS_UNKNOWN_SECONDS:
        ev.append(f"Ready has been Unknown for {age_text(age)}: still within {READINESS_UNKNOWN_SECONDS // 60} min")
        return Severity.INFO, fix
    ev.append(f"Ready has been Unknown for {age_text(age)}: it blocks launches from the NodePool")
    return (Severity.ERROR if waiting else Severity.WARNING), fix


# -- GPU309 ----------------------------------------------------------------------------------


@check(
    "GPU309",
    "nominated-nodeclaim-vanished",
    Severity.WARNING,
    "GPU pods wait for a NodeClaim that no longer exists",
    reads=("pods", "events", "nodeclaims", "nodepools"),
)
def nominated_nodeclaim_vanished(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """Pending GPU pods whose latest nomination names a NodeClaim that is gone.

    What it checks:
        Pending GPU pods whose latest Nominated event ("Pod should schedule on:
        nodeclaim/x") names a NodeClaim the cluster no longer has, one finding per NodePool.
        The events kept about that NodeClaim are read (checks.recognise) to say why it
        vanished: an EC2 capacity or quota error (deleted at once), a launch failure
        (deleted after 5 minutes), or no trace at all, the usual sign of a GPU node that
        never registered and was deleted at the 15-minute registration TTL.

    Why it matters:
        Karpenter should nominate the pods to a new NodeClaim within seconds. When the
        latest nomination still names a vanished one, nothing is being launched for the
        pods; for GPU nodes that never register, every retry costs another 15 minutes of
        a billed GPU instance.

    How to fix:
        Follow the cause named: widen the NodePool or raise the quota for capacity errors
        (GPU302), fix the EC2NodeClass for launch failures (GPU301). Without a trace, look
        at why GPU nodes do not join: the instance's console output, the EC2NodeClass AMI
        and user data, the node role's access entry (GPU303 while the next NodeClaim waits).

    Severity:
        Warning when the pods were first nominated to it over 10 minutes ago and no
        capacity or launch error explains it. Info when it vanished sooner (Karpenter
        nominates anew when it retries) or when GPU301/GPU302 already report the cause.
    """
    if snapshot.cannot_see("nodeclaims.karpenter.sh"):
        return
    have = {nc.metadata.name for nc in snapshot.nodeclaims}
    groups: dict[str, list[tuple[Pod, Event, str]]] = {}
    for pod in pending_gpu_pods(snapshot):
        noms = [
            e for e in snapshot.events_for("Pod", pod.metadata.name, pod.metadata.namespace) if e.reason == "Nominated"
        ]
        if not noms:
            continue
        latest = max(noms, key=lambda e: e.when or "")
        name = parse_nominated(latest.message or "").nodeclaim
        if name and name not in have:
            # How long the pod has waited for this NodeClaim: its first nomination to it.
            first = min((e.first_timestamp or e.when or "" for e in noms if e.message == latest.message), default="")
            groups.setdefault(name, []).append((pod, latest, first))
    # One finding per NodePool (the NodeClaims are gone, the pool is what to look at).
    by_pool: dict[str, dict[str, list[tuple[Pod, Event, str]]]] = {}
    for name, waiting in groups.items():
        pool = nodeclaim_nodepool(snapshot, name) or ""
        by_pool.setdefault(pool if pool in snapshot.nodepool_by_name else f"NodeClaim/{name}", {})[name] = waiting
    for key, claims in sorted(by_pool.items()):
        name = max(claims, key=lambda n: max(first for _, _, first in claims[n]))
        waiting = [w for ws in claims.values() for w in ws]
        evs = snapshot.events_for("NodeClaim", name)
        recs = [(e, recognise(e.message or "")) for e in evs]
        known = [(e, r) for e, r in recs if r is not None and r.family in (*LAUNCH_FAMILIES, "vanished-nodeclaim")]
        age = snapshot.age_seconds(max((first for _, _, first in claims[name]), default=""))
        pods = [p for p, _, _ in waiting]
        ev = [f"Nominated, first {age_text(age)} ago: {claims[name][-1][1].message}"]
        ev.append(f"GPU pods waiting for it: {pod_names(pods)}")
        if len(claims) > 1:
            ev.append(f"other vanished NodeClaims they were nominated to: {', '.join(sorted(set(claims) - {name}))}")
        ev += [f"event {e.reason} on NodeClaim {name}: {e.message}" for e in evs[-3:]]
        if known:
            e, rec = known[-1]
            why = f"it vanished after {rec.headline}"
            ev.append(f"recognised: {rec.family} ({rec.cause}); {rec.remedy_text}")
            explained = rec.family in ("ec2-capacity", "launch-failure")
        else:
            launched = any(e.reason == "Launched" for e in evs) and not any(e.reason == "Registered" for e in evs)
            why = (
                "it launched but its node never registered, so Karpenter deleted it at the 15-minute registration TTL"
                if launched
                else "no event about it says why: most likely its GPU node never registered and Karpenter "
                "deleted it at the 15-minute registration TTL"
            )
            explained = False
        np = snapshot.nodepool_by_name.get(key)
        related = [ObjectRef(kind="NodeClaim", name=n) for n in sorted(claims)]
        related += [ref(p, "Pod") for p in pods[:5]]
        young = age is not None and age < LAUNCH_PATIENCE_SECONDS
        yield nominated_nodeclaim_vanished.finding(
            f"{len(pods)} GPU pod(s) were nominated to NodeClaim {name}"
            + (f" of NodePool {key}" if np is not None else "")
            + f", which no longer exists: {why}",
            ref(np, "NodePool") if np is not None else ObjectRef(kind="NodeClaim", name=name),
            severity=Severity.INFO if young or explained else None,
            related=related,
            evidence=ev,
        )
