"""`gputui diagnose`, `gputui snapshot`, `gputui checks list|explain`.

Exit codes (DESIGN §3.2): 0 nothing at or above --fail-on; 1 findings at or above it;
3 the cluster could be read only in part (checked after --fail-on: 1 wins); 4 no
connection or credentials; 2 usage. A CRD that is not installed (no Karpenter, no GPU
Operator) is reported but is not a partial read.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable
from typing import Any

from gputui.errors import EXIT_FINDINGS, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, GputuiError

# Above this many objects, freeing the heap at exit costs seconds: leave with os._exit.
_FAST_EXIT_OBJECTS = 20_000


def run(args: argparse.Namespace) -> int:
    from checks.model import Severity
    from checks.registry import run_checks
    from gputui.report import blocking_incomplete, render

    selected = select_checks(getattr(args, "checks", None))
    snap = load_snapshot(args)
    findings = run_checks(snap, selected)
    findings = filter_findings(
        findings,
        snap,
        nodes=getattr(args, "nodes", None),
        nodepools=getattr(args, "nodepools", None),
        namespace=getattr(args, "namespace", None),
        min_severity=Severity.parse(getattr(args, "min_severity", None) or "info"),
    )
    render(getattr(args, "output", "text") or "text", snap, findings, sys.stdout)
    code = exit_code(findings, getattr(args, "fail_on", "error") or "error", bool(blocking_incomplete(snap)))
    _leave_fast_if_big(snap, code)
    return code


def exit_code(findings: list, fail_on: str, partial: bool) -> int:
    from checks.model import Severity

    if fail_on != "none":
        threshold = Severity.parse(fail_on)
        if any(f.severity >= threshold for f in findings):
            return EXIT_FINDINGS
    return EXIT_PARTIAL if partial else EXIT_OK


# -- where the snapshot comes from ---------------------------------------------------------


def load_snapshot(args: argparse.Namespace):
    """Live (one gathering pass) or, with --from, the given files/dirs/scenarios."""
    if getattr(args, "from_paths", None):
        return snapshot_from_files(args.from_paths)
    from gputui.kube.client import from_args
    from gputui.kube.gather import gather

    with from_args(args) as kube, _Progress(enabled=_show_progress(args)) as progress:
        # --namespace filters findings; the checks need the operator's and Karpenter's objects too.
        return gather(kube, namespace="", progress=progress.update)


def snapshot_from_files(paths: Iterable[str]):
    from checks.snapshot import ClusterSnapshot
    from gputui.kube import snapshot_file
    from gputui.sim.loader import load_objects

    objects = load_objects(list(paths), shift_time=False)
    snap = ClusterSnapshot.from_manifests(objects, source="snapshot")
    snapshot_file.apply_meta(snap, objects)
    if snap.context is None:
        snap.context = ", ".join(str(p) for p in paths)
    return snap


# -- selection and filters ---------------------------------------------------------------


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
        if nodes and not any(index.node_of(r) in nodes for r in refs):
            continue
        if nodepools and not any(index.pool_of(r) in nodepools for r in refs):
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


# -- gputui snapshot -------------------------------------------------------------------------


def run_snapshot(args: argparse.Namespace) -> int:
    from gputui.kube import snapshot_file
    from gputui.kube.client import from_args
    from gputui.kube.gather import gather
    from gputui.report import blocking_incomplete

    target = args.output
    try:
        # Created first so that an unwritable target fails before the cluster is read.
        writer = snapshot_file.SnapshotWriter(target)
    except OSError as e:
        raise _cannot_write(target, e) from None
    with writer:
        with from_args(args) as kube, _Progress(enabled=_show_progress(args)) as progress:
            snap = gather(kube, progress=progress.update, sink=writer)
        try:
            written = writer.finish(snap, out=sys.stdout if target == "-" else None)
        except OSError as e:
            raise _cannot_write(target, e) from None
    counts = ", ".join(f"{writer.counts[a]} {a}" for a in ("nodes", "pods", "events") if a in writer.counts)
    print(f"gputui: wrote {written} objects ({counts}, {len(snap.logs)} log tails) to {target}", file=sys.stderr)
    for i in snap.incomplete:
        print(f"gputui: could not read {i.resource}: {i.reason}: {i.message}", file=sys.stderr)
    code = EXIT_PARTIAL if blocking_incomplete(snap) else EXIT_OK
    _leave_fast_if_big(snap, code)
    return code


def _cannot_write(target: str, e: OSError) -> GputuiError:
    return GputuiError(f"cannot write {target}: {e.strerror or e}", hint="choose a writable path for -o")


# -- gputui checks list / explain ------------------------------------------------------------


def run_checks_list(args: argparse.Namespace) -> int:
    from gputui.report import catalogue

    area = getattr(args, "area", None)
    checks = [c for c in catalogue.all_checks() if area is None or c.area == area]
    output = getattr(args, "output", "text")
    if output == "json":
        import json

        json.dump(catalogue.rows(checks), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if output == "markdown":
        sys.stdout.write(catalogue.markdown(area))
        return EXIT_OK
    from rich import box
    from rich.table import Table

    from gputui.report.text import make_console

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col in ("code", "name", "severity", "area", "title"):
        table.add_column(col.upper(), no_wrap=col != "title", overflow="fold")
    for r in catalogue.rows(checks):
        table.add_row(r["code"], r["name"], r["severity"], r["area"], r["title"])
    make_console(sys.stdout).print(table)
    return EXIT_OK


def run_checks_explain(args: argparse.Namespace) -> int:
    from checks.registry import REGISTRY
    from gputui.report import catalogue
    from gputui.report.text import make_console

    catalogue.all_checks()
    c = REGISTRY.find(args.code)
    if c is None:
        known = ", ".join(f"{x.code} {x.name}" for x in REGISTRY.all())
        raise GputuiError(f"unknown check: {args.code}", hint=f"known checks: {known}", exit_code=EXIT_USAGE)
    console = make_console(sys.stdout)
    console.print(catalogue.explain_page(c, min(console.width, catalogue.EXPLAIN_WIDTH)), end="")
    return EXIT_OK


# -- helpers -----------------------------------------------------------------------------------


def _show_progress(args: Any) -> bool:
    return not getattr(args, "no_progress", False) and sys.stderr.isatty()


class _Progress:
    """One self-overwriting stderr line while gathering; nothing when stderr is not a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.counts: dict[str, int] = {}
        self._last = 0.0

    def __enter__(self) -> _Progress:
        return self

    def update(self, resource: str, count: int) -> None:
        self.counts[resource] = count
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return
        self._last = now
        total = sum(self.counts.values())
        line = f"gputui: reading {resource} ({count})  {total} objects so far"
        sys.stderr.write("\r" + line[:100].ljust(60) + "\x1b[K")
        sys.stderr.flush()

    def __exit__(self, *exc) -> None:
        if self.enabled and self._last:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _leave_fast_if_big(snap, code: int) -> None:
    """Freeing a big heap object by object at exit takes seconds; the output is already out."""
    size = len(snap.pods) + len(snap.events) + len(snap.nodes)
    if size < _FAST_EXIT_OBJECTS or os.environ.get("GPUTUI_NO_FAST_EXIT"):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or EXIT_OK
    os._exit(code)
