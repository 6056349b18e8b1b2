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
from pathlib import Path
from typing import Any

from gputui.errors import InputError

LINTED_KINDS = ("NodePool", "EC2NodeClass")
# Cluster checks that need nothing but NodePools and EC2NodeClasses (and judge their status).
LINT_CLUSTER_CHECKS = ("GPU306", "GPU307", "GPU308")
_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Located:
    obj: dict
    where: str  # "path (document 2)"


def _files(paths: Iterable[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.suffix in _SUFFIXES
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"no such file or directory: {raw}", hint="pass NodePool manifest files or directories")
    return out


def read_manifests(paths: Iterable[str]) -> list[Located]:
    import yaml

    out: list[Located] = []
    for f in _files(paths):
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(
                f"cannot read {f}: {getattr(e, 'strerror', None) or e}", hint="check the path and permissions"
            ) from None
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            raise InputError(
                f"{f}{at}: invalid YAML: {problem}", hint="fix the YAML syntax and run lint again"
            ) from None
        for i, doc in enumerate(docs, 1):
            if doc is None:
                continue
            where = f"{f} (document {i})" if len(docs) > 1 else str(f)
            if not isinstance(doc, dict):
                raise InputError(
                    f"{where}: a manifest must be a mapping, not {type(doc).__name__}",
                    hint="each YAML document should be one Kubernetes object",
                )
            items = doc.get("items") if str(doc.get("kind", "")).endswith("List") else None
            for obj in items if isinstance(items, list) else [doc]:
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
        source = where.get((f.subject.kind, f.subject.name))
        if source:
            f.evidence.append(f"in {source}")
    return snap, findings
