"""Custom resource kinds gputui knows without their CustomResourceDefinitions in the input.

`kubectl get nodepools,nodeclaims,... -A -o yaml` writes the objects but not the CRDs that
define them, so a dump alone would leave Karpenter's and the GPU Operator's objects
unservable. For the kinds below the CRDs shipped in gputui/sim/crds stand in: each
object's apiVersion picks the version (Karpenter v1 or v1beta1), as the cluster it came
from served it. EKS Auto Mode's NodeClass has no published CRD; a minimal permissive one
stands in (crds/eks).

Everything else without a CRD stays unknown: the loader reports it, it is never guessed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CRD_DIR = Path(__file__).resolve().parent / "crds"


@cache
def _shipped() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the shipped CRD (one served version per file) that serves it."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRD_DIR.rglob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd["spec"]
        for version in spec.get("versions") or []:
            out.setdefault((f"{spec['group']}/{version['name']}", spec["names"]["kind"]), crd)
    return out


def is_known(api_version: str, kind: str) -> bool:
    return (api_version, kind) in _shipped()


def stand_in_crds(wanted: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """Fresh CRD objects that serve every wanted (apiVersion, kind) gputui knows.

    One CRD per resource; when the input holds the same kind at two versions (a Karpenter
    upgrade half done), that CRD serves both and stores the first one asked for.
    """
    by_name: dict[str, dict[str, Any]] = {}
    for key in wanted:
        crd = _shipped().get(key)
        if crd is None:
            continue
        name = crd["metadata"]["name"]
        version = copy.deepcopy(crd["spec"]["versions"][0])
        have = by_name.get(name)
        if have is None:
            by_name[name] = copy.deepcopy(crd)
        elif all(v["name"] != version["name"] for v in have["spec"]["versions"]):
            version["storage"] = False
            have["spec"]["versions"].append(version)
    return list(by_name.values())
