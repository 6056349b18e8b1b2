"""Which findings follow from which: one root cause leads, its consequences follow.

After every check ran, `link_causes` sets `Finding.cause` to the id of the root cause
of each finding that follows from another one. Every rule below is explicit and links
only when the findings themselves tie the two together (the same failing pod, the same
node or NodeClaim, the same fix, the NodePool the pods wait for): a wrong link is worse
than none, so anything ambiguous stays unlinked.

Rules, consequence <- cause:
* operand pod crashing (GPU203 on pod P): GPU101/GPU102/GPU304 whose broken link is P
  (P among their related objects); GPU204 whose fix restarts P; GPU202 whose only
  failing pods are P.
* operand taint (GPU205): GPU101/GPU102/GPU304 whose fix is a toleration of the same
  target (ClusterPolicy or DaemonSet) that GPU205's fix already adds.
* ClusterPolicy not ready (GPU201) <- the one root every unavailable operand DaemonSet
  (GPU202 on a DaemonSet GPU201 names) follows from.
* EC2NodeClass not ready (GPU307): GPU306 on a NodePool that uses it (each names the other).
* GPU node without GPUs (GPU101/GPU102 on node N): GPU304 on N's NodeClaim (each names
  the other); GPU401/GPU402 whose pods Karpenter nominated for N. NodeClaim problems
  (GPU301/GPU303/GPU304 on NodeClaim C): GPU402 whose pods were nominated for C.
* NodePool that cannot launch (GPU306 not ready, GPU308 limit reached, GPU302 no EC2
  capacity on pool P): GPU401 whose pods only P could take (every NodePool that would
  take them is blocked, and all for the same root cause).

The links always name the root: a GPU401 waiting for a node whose driver crashes names
the GPU203 of that driver pod, not the GPU101 of the node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from checks.fix_kinds import FixKind
from checks.model import Finding, FixPlan, ObjectRef

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

# NodePool blockers that say "the pool cannot launch now", not "the pool never fits the pod".
POOL_LEVEL_BLOCKERS = frozenset({"nodeclass", "limits"})
NODE_NO_GPUS = ("GPU101", "GPU102")
TOLERATION_FIXES = (FixKind.CLUSTERPOLICY_TOLERATIONS, FixKind.ADD_TOLERATION)

# workload (Deployment, Job, Pod, ...) -> {NodePool: its pool-level blocker kinds} for every
# NodePool that would take the workload's pending pods but for those blockers.
PoolsWaitedFor = Callable[[ObjectRef], Mapping[str, frozenset[str]]]


def _key(r: ObjectRef) -> tuple[str, str, str]:
    return (r.kind, r.namespace or "", r.name)


def _names(refs: Iterable[ObjectRef], ref: ObjectRef) -> bool:
    """Is ref among refs (by kind, namespace and name; API versions may or may not be filled in)?"""
    return any(_key(r) == _key(ref) for r in refs)


class _Index:
    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.by_subject: dict[tuple[str, tuple[str, str, str]], Finding] = {}
        for f in findings:
            self.by_subject.setdefault((f.code, _key(f.subject)), f)
        self.edges: dict[int, Finding] = {}  # id(consequence) -> its direct cause

    def on(self, codes: Iterable[str], ref: ObjectRef) -> Finding | None:
        for code in codes:
            f = self.by_subject.get((code, _key(ref)))
            if f is not None:
                return f
        return None

    def of(self, *codes: str) -> list[Finding]:
        return [f for f in self.findings if f.code in codes]

    def link(self, consequence: Finding, cause: Finding | None) -> None:
        if cause is None or cause is consequence or id(consequence) in self.edges:
            return
        if self.root(cause) is consequence:
            return  # never a cycle
        self.edges[id(consequence)] = cause

    def root(self, f: Finding) -> Finding:
        seen = {id(f)}
        while id(f) in self.edges:
            f = self.edges[id(f)]
            if id(f) in seen:
                break
            seen.add(id(f))
        return f


def _tolerations(patch: Any) -> list[Any] | None:
    """The tolerations list a patch sets, wherever it nests (ClusterPolicy or pod template)."""
    if isinstance(patch, dict):
        if isinstance(patch.get("tolerations"), list):
            return list(patch["tolerations"])
        for v in patch.values():
            found = _tolerations(v)
            if found is not None:
                return found
    return None


def _subsumed(plan: FixPlan, by: FixPlan) -> bool:
    """Applying `by` also does what `plan` does: same kind, same target, no toleration missing."""
    if plan.id != by.id or _key(plan.target) != _key(by.target):
        return False
    mine, theirs = _tolerations(plan.patch), _tolerations(by.patch)
    return mine is not None and theirs is not None and all(t in theirs for t in mine)


def _operand_crash(ix: _Index) -> None:
    for crash in ix.of("GPU203"):
        pod = _key(crash.subject)
        for f in ix.of("GPU101", "GPU102", "GPU304"):
            if _names(f.related, crash.subject):
                ix.link(f, crash)
        for f in ix.of("GPU204"):
            if any(p.id == FixKind.RESTART_OPERAND_POD and _key(p.target) == pod for p in f.fixes):
                ix.link(f, crash)
    for f in ix.of("GPU202"):
        if not f.related or any(r.kind != "Pod" for r in f.related):
            continue  # nodes kept off by selectors or taints are not a crash's doing
        crashes = {id(c): c for c in (ix.on(["GPU203"], r) for r in f.related) if c is not None}
        if len(crashes) == 1 and len([r for r in f.related if ix.on(["GPU203"], r)]) == len(f.related):
            ix.link(f, next(iter(crashes.values())))


def _operand_taint(ix: _Index) -> None:
    for taint in ix.of("GPU205"):
        cures = [p for p in taint.fixes if p.id in TOLERATION_FIXES]
        for f in ix.of("GPU101", "GPU102", "GPU304"):
            mine = [p for p in f.fixes if p.id in TOLERATION_FIXES]
            if mine and all(any(_subsumed(p, c) for c in cures) for p in mine):
                ix.link(f, taint)


def _nodeclass(ix: _Index) -> None:
    for nodeclass in ix.of("GPU307"):
        for f in ix.of("GPU306"):
            if _names(f.related, nodeclass.subject) and _names(nodeclass.related, f.subject):
                ix.link(f, nodeclass)


def _clusterpolicy(ix: _Index) -> None:
    for f in ix.of("GPU201"):
        unavailable = [d for d in (ix.on(["GPU202"], r) for r in f.related if r.kind == "DaemonSet") if d is not None]
        roots = {id(ix.root(d)): ix.root(d) for d in unavailable}
        if unavailable and len(roots) == 1 and all(id(d) in ix.edges for d in unavailable):
            ix.link(f, next(iter(roots.values())))


def _nodeclaims(ix: _Index) -> None:
    for f in ix.of("GPU304"):
        node = next((r for r in f.related if r.kind == "Node"), None)
        gpuless = ix.on(NODE_NO_GPUS, node) if node is not None else None
        if gpuless is None or not _names(gpuless.related, f.subject):
            continue
        # Both name the same broken link (driver pod, DaemonSet, ClusterPolicy) on the node.
        chain = [r for r in gpuless.related if r.kind != "NodeClaim"]
        if all(_names(f.related, r) for r in chain):
            ix.link(f, gpuless)


def _pending_on_nodes(ix: _Index) -> None:
    for f in ix.of("GPU401", "GPU402"):
        # The only Node a pending-pod finding names is the one Karpenter nominated its pods for.
        for r in f.related:
            if r.kind == "Node":
                ix.link(f, ix.on(NODE_NO_GPUS, r))
            elif r.kind == "NodeClaim" and f.code == "GPU402":
                ix.link(f, ix.on(("GPU304", "GPU303", "GPU301"), r))


def _pending_on_nodepools(ix: _Index, pools_waited_for: PoolsWaitedFor | None) -> None:
    if pools_waited_for is None:
        return
    for f in ix.of("GPU401"):
        if id(f) in ix.edges:
            continue
        pools = pools_waited_for(f.subject)
        if not pools:
            continue
        roots: dict[int, Finding] = {}
        for pool, kinds in pools.items():
            ref = ObjectRef("NodePool", pool)
            if "nodeclass" in kinds:
                blocker = ix.on(["GPU306"], ref)
            elif "limits" in kinds:
                blocker = ix.on(["GPU308"], ref)
            else:
                blocker = ix.on(["GPU302"], ref)  # the pool fits: EC2 had no capacity for it
            if blocker is None:
                roots = {}
                break
            roots[id(ix.root(blocker))] = ix.root(blocker)
        if len(roots) == 1:
            ix.link(f, next(iter(roots.values())))


def link_causes(findings: list[Finding], pools_waited_for: PoolsWaitedFor | None = None) -> list[Finding]:
    """Set `cause` on every finding that follows from another one (to the root's id); returns findings."""
    ix = _Index(findings)
    for rule in (_operand_crash, _operand_taint, _nodeclass, _clusterpolicy, _nodeclaims, _pending_on_nodes):
        rule(ix)
    _pending_on_nodepools(ix, pools_waited_for)
    for f in findings:
        root = ix.root(f)
        f.cause = root.id if root is not f else None
    return findings


def pools_waited_for(snapshot: ClusterSnapshot) -> PoolsWaitedFor:
    """For a pending workload, the NodePools that would take its pods but cannot launch now."""
    from checks.gpu_pods import pending_gpu_pods
    from checks.nodepools import evaluate_nodepool
    from checks.workloads import group_by_workload

    cache: dict[tuple[str, str, str], dict[str, frozenset[str]]] = {}
    built: list[bool] = []

    def lookup(workload: ObjectRef) -> Mapping[str, frozenset[str]]:
        if not built:
            built.append(True)
            for wl in group_by_workload(snapshot, pending_gpu_pods(snapshot)):
                cache[(wl.kind, wl.namespace, wl.name)] = {}
                pod = wl.pods[0]
                for np in snapshot.nodepools:
                    kinds = frozenset(b.kind for b in evaluate_nodepool(np, pod).blocking)
                    if kinds <= POOL_LEVEL_BLOCKERS:
                        cache[(wl.kind, wl.namespace, wl.name)][np.metadata.name] = kinds
        return cache.get(_key(workload), {})

    return lookup


def consequences(findings: list[Finding]) -> dict[str, list[Finding]]:
    """Root cause id -> the findings that follow from it, in the order given."""
    out: dict[str, list[Finding]] = {}
    for f in findings:
        if f.cause:
            out.setdefault(f.cause, []).append(f)
    return out
