"""Diagnose output formats: text (Rich), json and yaml (the diagnose/v1 document), markdown.

`render(fmt, snapshot, findings, out)` is the single entry point; every format reads
the same `document()` so they never disagree about counts or order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TextIO

from checks.model import Finding, Severity

SCHEMA = "gputui.dev/diagnose/v1"


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        counts[f.severity.label] += 1
    return counts


def document(snapshot, findings: list[Finding]) -> dict[str, Any]:
    """The stable `gputui diagnose -o json` document (DESIGN §3.2); fields are only ever added."""
    return {
        "schema": SCHEMA,
        "cluster": {"context": snapshot.context, "server": snapshot.server, "source": snapshot.source},
        "summary": summary(findings),
        "incomplete": [i.to_json() for i in snapshot.incomplete],
        "findings": [f.to_json() for _, group in severity_order(findings) for f in group],
    }


def render(
    fmt: str,
    snapshot,
    findings: list[Finding],
    out: TextIO,
    *,
    color: bool | None = None,
    title: str = "gputui diagnose",
    fail_on: str = "error",
    checks_run=None,
) -> None:
    """`fail_on` and `checks_run` (None: all) matter to the CI formats, junit and sarif."""
    if fmt == "junit":
        from gputui.report.ci import write_junit

        write_junit(snapshot, findings, out, fail_on=fail_on, checks_run=checks_run)
    elif fmt == "sarif":
        from gputui.report.ci import write_sarif

        write_sarif(snapshot, findings, out, checks_run=checks_run)
    elif fmt == "json":
        from gputui.report.serialize import write_json

        write_json(document(snapshot, findings), out)
    elif fmt == "yaml":
        from gputui.report.serialize import write_yaml

        write_yaml(document(snapshot, findings), out)
    elif fmt == "markdown":
        from gputui.report.markdown import write_markdown

        write_markdown(snapshot, findings, out, title=title)
    else:
        from gputui.report.text import write_text

        write_text(snapshot, findings, out, color=color, title=title)


def as_of(snapshot) -> str:
    """When the cluster was read (or, offline, the newest moment in the data), in UTC."""
    return snapshot.now.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ") if snapshot.now else "?"


def cluster_facts(snapshot) -> list[str]:
    """Short facts for report headers: what was looked at."""
    facts = [f"{len(snapshot.nodes)} nodes"]
    gpu = _gpu_node_count(snapshot)
    if gpu is not None:
        facts[0] += f" ({gpu} GPU)"
    facts.append(f"{len(snapshot.pods)} pods")
    if snapshot.nodepools or snapshot.nodeclaims:
        facts.append(f"{len(snapshot.nodepools)} NodePools, {len(snapshot.nodeclaims)} NodeClaims")
    for cp in snapshot.clusterpolicies[:1]:
        state = cp.status.get("state") if isinstance(cp.status, dict) else None
        facts.append(f"ClusterPolicy {state or 'state unknown'}")
    return facts


def _gpu_node_count(snapshot) -> int | None:
    try:
        from checks.gpu_nodes import gpu_nodes

        return len(gpu_nodes(snapshot))
    except Exception:  # noqa: BLE001 - a header fact must never break the report
        return None


def severity_order(findings: list[Finding]) -> list[tuple[Severity, list[Finding]]]:
    """Findings grouped by severity (worst first), then by area in catalogue order (nodes,
    operator, karpenter, scheduling, disruption: the order a GPU node becomes usable), code, subject."""
    groups: list[tuple[Severity, list[Finding]]] = []
    for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        group = sorted((f for f in findings if f.severity == sev), key=lambda f: f.sort_key)
        if group:
            groups.append((sev, group))
    return groups


def grouped(findings: list[Finding]) -> list[tuple[Severity, list[tuple[Finding, list[Finding]]]]]:
    """Like severity_order, but each finding that follows from another one comes right after
    its root cause (whatever its own severity), and the sections hold only the leaders."""
    present = {f.id for f in findings}
    follows: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: f.sort_key):
        if f.cause and f.cause in present:
            follows.setdefault(f.cause, []).append(f)
    leaders = [f for f in findings if not (f.cause and f.cause in present)]
    return [(sev, [(f, follows.get(f.id, [])) for f in group]) for sev, group in severity_order(leaders)]


def causes(findings: list[Finding]) -> list[tuple[Finding, list[Finding]]]:
    """Root causes with what follows from them: worst first, then the one explaining most."""
    rows = [(f, rest) for _, group in grouped(findings) for f, rest in group if rest]
    # Among equals, a cause with a safe fix to apply leads.
    return sorted(rows, key=lambda x: (-int(x[0].severity), -len(x[1]), not _safe_fix(x[0]), x[0].sort_key))


def hidden_causes(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """Causes left out of these findings (by a filter) with the findings that follow from them."""
    present = {f.id for f in findings}
    out: dict[str, list[Finding]] = {}
    for f in findings:
        if f.cause and f.cause not in present:
            out.setdefault(f.cause, []).append(f)
    return sorted(out.items(), key=lambda x: -len(x[1]))


def _safe_fix(f: Finding) -> bool:
    return bool(f.fixes) and not f.fixes[0].disruptive


def first_step(findings: list[Finding]) -> str | None:
    """What to do first: the leading cause's (else the worst finding's) first fix, or where to look."""
    lead = next(iter(causes(findings)), None)
    f = lead[0] if lead else min(findings, key=lambda f: f.sort_key, default=None)
    if f is None:
        return None
    if _safe_fix(f):
        return f.fixes[0].title
    look = f"read {f.code} on {ref_words(f.subject)} ({f.title})"
    return look + (f", then: {f.fixes[0].title}" if f.fixes else "")


def ref_words(r) -> str:
    ns = f"{r.namespace}/" if r.namespace else ""
    return f"{r.kind} {ns}{r.name}"


def cause_words(cause_id: str, findings: list[Finding]) -> str:
    """ "GPU205 on ClusterPolicy cluster-policy" for a cause id, also when that finding was filtered out."""
    f = next((x for x in findings if x.id == cause_id), None)
    if f is not None:
        return f"{f.code} on {ref_words(f.subject)}"
    code, _, where = cause_id.partition(":")
    kind, ns, name = (where.split("/", 2) + ["", ""])[:3]
    return f"{code} on {kind} {ns + '/' if ns else ''}{name}"


def blocking_incomplete(snapshot) -> list:
    """Resources that exist but could not be read; a CRD that is not installed, or a kind gputui
    does not know and no check reads, is not a partial read."""
    from checks.snapshot import NOT_PARTIAL_REASONS

    return [i for i in snapshot.incomplete if i.reason not in NOT_PARTIAL_REASONS]
