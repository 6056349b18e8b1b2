"""The NodePool, EC2NodeClass and draft checks on manifest files, offline, for CI on
GitOps repositories (`gputui nodepool lint FILE...`, in gputui.commands.nodepool).

Every NodePool and EC2NodeClass in the files is judged as a draft (GPU6xx, schema
included), plus the cluster checks that read only NodePools and EC2NodeClasses (their
status, when the files were exported from a cluster). Other objects in the files (a
ClusterPolicy, CRDs, pods) are context: a ClusterPolicy tells GPU605 which taints the
operands tolerate, a CRD gives GPU608 the schema.

Public API:
    read_manifests(paths) -> list[Located]
    lint_objects(located, crds=()) -> (snapshot, findings)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gputui.errors import InputError

LINTED_KINDS = ("NodePool", "EC2NodeClass")
# EKS Auto Mode's node class (eks.amazonaws.com/v1 NodeClass): valid input, read as context (a NodePool may
# name it in nodeClassRef); gputui has no rules of its own for it, so a file with only NodeClasses is clean.
AUTO_MODE_KINDS = ("NodeClass",)
# Kinds Karpenter v0.32 replaced (karpenter.sh/v1alpha5, karpenter.k8s.aws/v1alpha1): no current API serves them.
RETIRED_KINDS = {"Provisioner": "NodePool", "AWSNodeTemplate": "EC2NodeClass", "Machine": "NodeClaim"}
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
    auto_mode = 0
    retired: dict[str, str] = {}
    for loc in located:
        obj = loc.obj
        kind = obj.get("kind")
        name = (obj.get("metadata") or {}).get("name")
        if kind in AUTO_MODE_KINDS and str(obj.get("apiVersion", "")).startswith("eks.amazonaws.com/"):
            auto_mode += 1
        if kind in RETIRED_KINDS and str(obj.get("apiVersion", "")).startswith(("karpenter.sh/", "karpenter.k8s.aws/")):
            retired.setdefault(str(kind), loc.where)
        if kind in LINTED_KINDS:
            if not name:
                raise InputError(f"{loc.where}: {kind} without metadata.name", hint="give every object a name")
            obj = mark_draft(obj)
            where.setdefault((kind, name), loc.where)
        objects.append(obj)
    if not where and retired and not auto_mode:
        first = next(iter(retired.values()))
        raise InputError(
            f"{first}: {', '.join(retired)} belong to the Karpenter API before v0.32; no current Karpenter serves them",
            hint="migrate: "
            + ", ".join(f"{old} -> {RETIRED_KINDS[old]}" for old in retired)
            + " (karpenter.sh/v1), then lint the new manifests",
        )
    if not where and not auto_mode:
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
        source = where.get((f.subject.kind, f.subject.name))
        if source:
            f.evidence.append(f"in {source}")
    return snap, findings
