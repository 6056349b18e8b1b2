"""Which checks a run asks for (`--check`) and which of their findings it reports
(`--node`, `--nodepool`, `-n`, `--min-severity`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

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


def matching_names(name: str, known: Iterable[str]) -> list[str]:
    """The names `name` stands for: itself when known, else the names whose short name (up to
    the first dot, as the app shows a node) it is."""
    known = list(known)
    return [name] if name in known else [k for k in known if k.startswith(name + ".")]


def resolve_names(wanted: list[str], known: Iterable[str], what: str, option: str) -> list[str]:
    """The full names `wanted` stands for among `known` (see matching_names). A name that
    matches nothing, or several, is a usage error naming the closest ones."""
    known = sorted(set(known))
    out: list[str] = []
    for name in wanted:
        found = matching_names(name, known)
        if len(found) == 1:
            out.append(found[0])
        elif found:
            raise ambiguous(name, found, what, option)
        else:
            hint = closest_hint(name, known, what)
            raise GputuiError(f"no {what} matches {option} {name}", hint=hint, exit_code=EXIT_USAGE)
    return out


def ambiguous(name: str, found: list[str], what: str, option: str) -> GputuiError:
    return GputuiError(
        f"{option} {name} matches {len(found)} {what}s: {', '.join(found[:5])}",
        hint=f"give the full {what} name",
        exit_code=EXIT_USAGE,
    )


def closest_hint(name: str, known: list[str], what: str) -> str:
    """ "closest: a, b" (short names count too), or what there is when nothing is close."""
    short = {k.split(".", 1)[0]: k for k in known}
    close = difflib.get_close_matches(name, [*known, *short], n=3, cutoff=0.6)
    names = list(dict.fromkeys(short.get(c, c) for c in close))
    if names:
        return "closest: " + ", ".join(names)
    if not known:
        return f"the cluster has no {what}s"
    more = f", ... ({len(known)} in all)" if len(known) > 5 else ""
    return f"known {what}s: " + ", ".join(known[:5]) + more


def resolve_filters(args, snap) -> None:
    """Turn --node/--nodepool/-n into names the snapshot has (see resolve_names); a kind the
    snapshot could not read is left as given, since nothing says the name is wrong."""
    unread = {i.resource.split(".", 1)[0] for i in snap.incomplete}
    if getattr(args, "nodes", None) and "nodes" not in unread:
        args.nodes = resolve_names(args.nodes, (n.metadata.name for n in snap.nodes), "node", "--node")
    if getattr(args, "nodepools", None) and "nodepools" not in unread:
        pools = {p.metadata.name for p in snap.nodepools}
        pools |= {o.metadata.labels.get("karpenter.sh/nodepool") or "" for o in (*snap.nodes, *snap.nodeclaims)}
        args.nodepools = resolve_names(args.nodepools, pools - {""}, "NodePool", "--nodepool")
    namespace = getattr(args, "namespace", None)
    if namespace and "namespaces" not in unread:
        spaces = {o.metadata.name for o in snap.namespaces} | {
            o.metadata.namespace or "" for o in (*snap.pods, *snap.daemonsets, *snap.deployments, *snap.jobs)
        }
        if namespace not in spaces:
            hint = closest_hint(namespace, sorted(spaces - {""}), "namespace")
            raise GputuiError(f"no namespace matches -n {namespace}", hint=hint, exit_code=EXIT_USAGE)


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
