"""`gputui nodepool lint FILE...`: the NodePool, EC2NodeClass and draft checks on
manifest files, offline, for CI on GitOps repositories.

Every NodePool and EC2NodeClass in the files is judged as a draft (GPU6xx, schema
included), plus the cluster checks that read only NodePools and EC2NodeClasses (their
status, when the files were exported from a cluster). Other objects in the files (a
ClusterPolicy, CRDs, pods) are context: a ClusterPolicy tells GPU605 which taints the
operands tolerate, a CRD gives GPU608 the schema.

Exit codes: 0 nothing at or above --fail-on (default error); 1 findings at or above it;
5 a file cannot be read or parsed, or holds no NodePool or EC2NodeClass; 2 usage.

Public API:
    read_manifests(paths) -> list[Located]
    lint_objects(located, crds=()) -> (snapshot, findings)
    run(args) -> int
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gputui.errors import InputError

LINTED_KINDS = ("NodePool", "EC2NodeClass")
# Cluster checks that need nothing but NodePools and EC2NodeClasses (and judge their status).
LINT_CLUSTER_CHECKS = ("GPU306", "GPU307", "GPU308")


@dataclass
class Located:
    obj: dict
    where: str  # "path (document 2)"


def read_manifests(paths: Iterable[str]) -> list[Located]:
    """Every object with a kind in the files and directories; lint judges the rest itself."""
    from gputui.kube.manifests import Origin, existing_paths, flatten, manifest_files, read_documents, shown_path

    out: list[Located] = []
    for root in existing_paths(paths):
        for f in manifest_files(root):
            shown = shown_path(f)
            docs = read_documents(f, shown)
            for i, doc in docs:
                where = f"{shown} (document {i})" if len(docs) > 1 or i > 1 else shown
                if not isinstance(doc, dict):
                    raise InputError(
                        f"{where}: a manifest must be a mapping, not {type(doc).__name__}",
                        hint="each YAML document should be one Kubernetes object",
                    )
                for _, obj in flatten(doc, Origin(shown, i)):
                    if isinstance(obj, dict) and obj.get("kind"):
                        out.append(Located(obj, where))
    return out


def lint_objects(located: list[Located], crds: Iterable[dict] = ()):
    import checks  # noqa: F401  (registers every check)
    from checks.nodepool_draft import mark_draft
    from checks.registry import REGISTRY, run_checks
    from checks.snapshot import ClusterSnapshot

    objects: list[dict[str, Any]] = []
    where: dict[tuple[str, str], str] = {}
    for loc in located:
        obj = loc.obj
        kind = obj.get("kind")
        name = (obj.get("metadata") or {}).get("name")
        if kind in LINTED_KINDS:
            if not name:
                raise InputError(f"{loc.where}: {kind} without metadata.name", hint="give every object a name")
            obj = mark_draft(obj)
            where.setdefault((kind, name), loc.where)
        objects.append(obj)
    if not where:
        raise InputError(
            "no NodePool or EC2NodeClass in the given files",
            hint="pass the manifests that define your Karpenter NodePools",
        )
    objects += list(crds)
    try:
        snap = ClusterSnapshot.from_manifests(objects, source="snapshot")
    except Exception as e:  # noqa: BLE001 - a manifest with the wrong shape (spec: [] ...) fails decoding
        raise InputError(f"a manifest has the wrong shape: {e}", hint="check that spec/metadata are mappings") from None
    snap.context = "lint"
    selected = [c for c in REGISTRY.all() if c.scope == "nodepool-draft" or c.code in LINT_CLUSTER_CHECKS]
    findings = run_checks(snap, selected)
    for f in findings:
        loc = where.get((f.subject.kind, f.subject.name))
        if loc:
            f.evidence.append(f"in {loc}")
    return snap, findings


def run(args: argparse.Namespace) -> int:
    from gputui.diagnose import exit_code
    from gputui.nodepool.schema import load_crd_files
    from gputui.report import render

    located = read_manifests(args.files)
    crds = load_crd_files(args.crds or [])
    snap, findings = lint_objects(located, crds)
    snap.context = ", ".join(args.files)
    from checks.model import Severity

    floor = Severity.parse(getattr(args, "min_severity", None) or "info")
    shown = [f for f in findings if f.severity >= floor]
    render(
        args.output or "text",
        snap,
        shown,
        sys.stdout,
        color=None if sys.stdout.isatty() and not os.environ.get("NO_COLOR") else False,
        title="gputui nodepool lint",
    )
    return exit_code(shown, args.fail_on or "error", False)
