"""What a Karpenter NodeClaim is and says: its NodePool, whether it is for GPUs, its
context and events, for the checks that judge launches, registration and disruption."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from checks.findings import age_text
from checks.gpu import GPU_RESOURCE, LABEL_INSTANCE_TYPE, LABEL_NODEPOOL
from checks.k8s import quantity_or_zero
from checks.kinds import Object
from checks.model import ObjectRef, Severity
from checks.nodepool_model import serves_nvidia_gpus
from checks.recognise import Recognition, recognise
from checks.timestamps import parse_time
from checks.transitions import STUCK_SECONDS

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
    if quantity_or_zero(((nc.spec.get("resources") or {}).get("requests") or {}).get(GPU_RESOURCE)) > 0:
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
    snapshot: ClusterSnapshot, obj: Any, ready: dict[str, Any], waiting: list[Any], ev: list[str]
) -> tuple[Severity, str]:
    """Severity and remedy of a Ready condition stuck Unknown.

    Unknown is normal for a moment (a new or changed object awaits reconciliation): info
    within READINESS_UNKNOWN_SECONDS, then error while GPU pods wait, warning otherwise.
    """
    age = condition_age(snapshot, ready, obj.metadata.creation_timestamp)
    rec = recognise(f"{ready.get('reason') or ''}: {ready.get('message') or ''}")
    fix = f"; {rec.remedy_text}" if rec is not None and rec.family == "readiness-unknown" else ""
    if age is not None and age < READINESS_UNKNOWN_SECONDS:
        ev.append(f"Ready has been Unknown for {age_text(age)}: still within {READINESS_UNKNOWN_SECONDS // 60} min")
        return Severity.INFO, fix
    ev.append(f"Ready has been Unknown for {age_text(age)}: it blocks launches from the NodePool")
    return (Severity.ERROR if waiting else Severity.WARNING), fix
