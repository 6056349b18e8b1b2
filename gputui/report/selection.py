"""Which checks a run asks for (`--check`) and which of their findings it reports
(`--node`, `--nodepool`, `-n`, `--min-severity`)."""

from __future__ import annotations

from gputui.errors import EXIT_USAGE, GputuiError


def select_checks(wanted: list[str] | None):
    """--check CODE|NAME (repeatable, comma-separated too) -> checks; unknown ones are a usage error."""
    if not wanted:
        return None
    import checks  # noqa: F401  (registers every check)
    from checks.registry import REGISTRY

    chosen, unknown = [], []
    for item in wanted:
        for key in filter(None, (k.strip() for k in item.split(","))):
            c = REGISTRY.find(key)
            if c is None:
                unknown.append(key)
            elif c not in chosen:
                chosen.append(c)
    if unknown:
        known = ", ".join(f"{c.code} {c.name}" for c in REGISTRY.all())
        raise GputuiError(
            f"unknown check: {', '.join(unknown)}",
            hint=f"known checks: {known} (see `gputui checks list`)",
            exit_code=EXIT_USAGE,
        )
    return chosen


def filter_findings(
    findings: list,
    snap,
    *,
    nodes: list[str] | None = None,
    nodepools: list[str] | None = None,
    namespace: str | None = None,
    min_severity=None,
) -> list:
    """Keep findings at/above min_severity that concern the given nodes, NodePools and namespace.

    A finding concerns a node when its subject or a related object is that node, a
    NodeClaim or pod on it; a NodePool when it names the pool or a node/NodeClaim of it;
    a namespace when its subject or a related object lives there.
    """
    out = []
    index = _RefIndex(snap) if (nodes or nodepools) else None
    for f in findings:
        if min_severity is not None and f.severity < min_severity:
            continue
        refs = [f.subject, *f.related]
        if index is not None and nodes and not any((index.node_of(r) or "") in nodes for r in refs):
            continue
        if index is not None and nodepools and not any((index.pool_of(r) or "") in nodepools for r in refs):
            continue
        if namespace and not any(r.namespace == namespace for r in refs):
            continue
        out.append(f)
    return out


class _RefIndex:
    """Which node and NodePool an object reference belongs to (built once per filtering)."""

    def __init__(self, snap):
        self.snap = snap
        self.nodeclaims = {c.metadata.name: c for c in snap.nodeclaims}
        self.pod_nodes = {(p.metadata.namespace or "", p.metadata.name): p.spec.node_name for p in snap.pods}

    def node_of(self, r) -> str | None:
        if r.kind == "Node":
            return r.name
        if r.kind == "NodeClaim":
            nc = self.nodeclaims.get(r.name)
            return nc.status.get("nodeName") if nc is not None else None
        if r.kind == "Pod":
            return self.pod_nodes.get((r.namespace or "", r.name))
        return None

    def pool_of(self, r) -> str | None:
        if r.kind == "NodePool":
            return r.name
        if r.kind == "NodeClaim":
            nc = self.nodeclaims.get(r.name)
            return nc.metadata.labels.get("karpenter.sh/nodepool") if nc is not None else None
        node = self.snap.node_by_name.get(self.node_of(r) or "")
        return node.metadata.labels.get("karpenter.sh/nodepool") if node is not None else None
