"""Schema validation of NodePools (and EC2NodeClasses) for the editor and lint.

The CRD installed in the cluster is the authority; when it carries no real schema for
spec (a CRD that keeps unknown fields), or when linting offline without --crd, gputui's
built-in NodePool rules stand in and the report says so. CEL rules gputui cannot
evaluate are listed as left to the server's dry run. The validator itself is
checks.crd_schema (pure, shared with check GPU608).

Public API:
    SchemaResult(errors, unchecked, source)
    validate_manifest(obj, crd=None, old=None) -> SchemaResult
    fetch_crd(kube, kind, api_version) -> dict | None
    load_crd_files(paths) -> list[dict]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checks.crd_schema import SchemaError, is_permissive, validate, version_schema
from checks.nodepool_schema import builtin_schema

PLURALS = {("karpenter.sh", "NodePool"): "nodepools", ("karpenter.k8s.aws", "EC2NodeClass"): "ec2nodeclasses"}


@dataclass
class SchemaResult:
    errors: list[SchemaError] = field(default_factory=list)
    unchecked: list[tuple[str, str]] = field(default_factory=list)
    source: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        out = [f"checked against {self.source}"]
        out += [f"error: {e}" for e in self.errors]
        if self.unchecked:
            out.append(f"{len(self.unchecked)} CEL rule(s) left to the server's dry run")
        return out


def validate_manifest(obj: dict, crd: dict | None = None, old: dict | None = None) -> SchemaResult:
    kind = obj.get("kind", "")
    api = obj.get("apiVersion", "")
    version = api.partition("/")[2]
    schema, source = None, ""
    if crd is not None:
        schema = version_schema(crd, version)
        name = (crd.get("metadata") or {}).get("name", "the CRD")
        if schema is None:
            return SchemaResult(
                [SchemaError("apiVersion", f"{name} does not serve version {version}")],
                source=f"the installed {name} CRD",
            )
        if is_permissive(schema):
            schema = None
            source = f"gputui's built-in {kind} rules (the installed {name} CRD has no schema for spec)"
        else:
            source = f"the installed {name} CRD ({version})"
    if schema is None:
        schema = builtin_schema(kind, api)
        source = source or f"gputui's built-in {kind} rules"
    if schema is None:
        return SchemaResult(source=f"nothing: no schema known for {api} {kind}")
    body = {k: v for k, v in obj.items() if k != "status"}
    report = validate(body, schema, old=old)
    return SchemaResult(report.errors, report.unchecked, source)


def fetch_crd(kube, kind: str, api_version: str) -> dict | None:
    """The CRD for a Karpenter kind as installed in the cluster, or None when not readable."""
    from gputui.kube.errors import KubeApiError

    group = api_version.partition("/")[0]
    plural = PLURALS.get((group, kind))
    if plural is None:
        return None
    try:
        return kube.get_json(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.{group}")
    except KubeApiError:
        return None


def load_crd_files(paths: list[str]) -> list[dict]:
    import yaml

    from gputui.errors import InputError

    out: list[dict] = []
    for p in paths:
        try:
            with open(p, encoding="utf-8") as fh:
                docs = [d for d in yaml.safe_load_all(fh) if d]
        except OSError as e:
            raise InputError(
                f"cannot read CRD file {p}: {e.strerror or e}", hint="pass a readable CRD YAML file"
            ) from None
        except yaml.YAMLError as e:
            raise InputError(f"{p} is not valid YAML: {e}", hint="pass the CRD YAML as published") from None
        crds = [d for d in docs if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]
        if not crds:
            raise InputError(f"{p} holds no CustomResourceDefinition", hint="pass e.g. karpenter.sh_nodepools.yaml")
        out += crds
    return out


def crd_matches(crd: dict, obj: dict) -> bool:
    spec: Any = crd.get("spec") or {}
    return spec.get("group") == obj.get("apiVersion", "").partition("/")[0] and (spec.get("names") or {}).get(
        "kind"
    ) == obj.get("kind")
