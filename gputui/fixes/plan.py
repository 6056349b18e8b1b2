"""What a FixPlan does to an object, computed locally: the patched object, the patch
with a resourceVersion precondition, and the manifest fragment for GitOps users.

The server's dry run is the truth; the local result lets the preview show a diff even
when the dry run is not allowed (RBAC) and is checked against the server's answer.
"""

from __future__ import annotations

import copy
from typing import Any

from checks.fix_kinds import FixKind, fix_kind
from checks.model import FixPlan
from gputui.kube.patch import PatchError, json_patch, merge_patch, pointer

CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}
FIELD_MANAGER = "gputui"
DELETING = ("delete", "evict")
# Plans whose list values only add entries: re-derived from the current object so a
# toleration someone else added since the check ran is kept, not overwritten.
_ADDITIVE_LISTS = (FixKind.ADD_TOLERATION, FixKind.CLUSTERPOLICY_TOLERATIONS)


def is_delete(plan: FixPlan) -> bool:
    return plan.patch_type in DELETING


def rebase(plan: FixPlan, current: dict) -> Any:
    """The plan's patch adapted to the current object (see _ADDITIVE_LISTS)."""
    if plan.patch_type != "merge" or fix_kind(plan.id) not in _ADDITIVE_LISTS or not isinstance(plan.patch, dict):
        return plan.patch
    return _union_lists(plan.patch, current)


def patched(plan: FixPlan, current: dict, patch: Any = None) -> dict | None:
    """The object after the plan (None for deletes), computed locally."""
    if is_delete(plan):
        return None
    patch = plan.patch if patch is None else patch
    if plan.patch_type in ("merge", "strategic", "apply"):
        # Strategic and apply patches merge lists by key on the server; for the plans
        # gputui builds (maps and whole lists) a merge patch gives the same result, and the
        # dry run shows the server's own.
        if not isinstance(patch, dict):
            raise PatchError("a merge patch must be a JSON object")
        return merge_patch(current, patch)
    if plan.patch_type == "json":
        return json_patch(current, patch)
    raise PatchError(f"unknown patch type {plan.patch_type!r}")


def with_precondition(plan: FixPlan, patch: Any, resource_version: str | None) -> Any:
    """The patch body that fails with 409 when the object changed after `resource_version`."""
    if not resource_version:
        return patch
    if plan.patch_type == "json":
        return [{"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}] + list(patch or [])
    body = copy.deepcopy(patch) if isinstance(patch, dict) else {}
    body.setdefault("metadata", {})["resourceVersion"] = resource_version
    return body


def delete_options(resource_version: str | None, dry_run: bool = False) -> dict:
    opts: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if resource_version:
        opts["preconditions"] = {"resourceVersion": resource_version}
    if dry_run:
        opts["dryRun"] = ["All"]
    return opts


def manifest_fragment(plan: FixPlan, after: dict | None) -> dict | None:
    """The part of the manifest to change in Git (or Helm values) so the fix sticks:
    identity plus every field the patch touches, with its value after the patch."""
    if after is None or is_delete(plan):
        return None
    md = after.get("metadata") or {}
    frag: dict[str, Any] = {
        "apiVersion": after.get("apiVersion"),
        "kind": after.get("kind"),
        "metadata": {"name": md.get("name")},
    }
    if md.get("namespace"):
        frag["metadata"]["namespace"] = md["namespace"]
    if plan.patch_type == "json":
        touched = json_paths(plan.patch)
        for path in touched:
            _copy_path(after, frag, path)
    elif isinstance(plan.patch, dict):
        _project(plan.patch, after, frag)
    return frag


def helm_values_fragment(plan: FixPlan, fragment: dict | None) -> dict | None:
    """The GPU Operator chart renders ClusterPolicy.spec from its values, key for key: for a
    Helm-managed ClusterPolicy the values to change are the fragment's spec."""
    if fragment is None or plan.target.kind != "ClusterPolicy" or "Helm" not in (plan.gitops_warning or ""):
        return None
    return fragment.get("spec") or None


# -- helpers ------------------------------------------------------------------------------


def _union_lists(patch: dict, current: Any) -> dict:
    out: dict[str, Any] = {}
    cur = current if isinstance(current, dict) else {}
    for key, value in patch.items():
        if isinstance(value, dict):
            out[key] = _union_lists(value, cur.get(key))
        elif isinstance(value, list) and isinstance(cur.get(key), list):
            have = list(cur[key])
            out[key] = have + [v for v in value if v not in have]
        else:
            out[key] = value
    return out


def _project(patch: dict, after: Any, frag: dict) -> None:
    for key, value in patch.items():
        have = after.get(key) if isinstance(after, dict) else None
        if isinstance(value, dict) and isinstance(have, dict):
            _project(value, have, frag.setdefault(key, {}))
        else:
            frag[key] = copy.deepcopy(have)


def json_paths(ops: Any) -> list[list[str]]:
    out = []
    for op in ops or []:
        if op.get("op") == "test":
            continue
        path = pointer(op.get("path", ""))
        # A list element's index means nothing in a manifest: show the whole list.
        while path and (path[-1].isdigit() or path[-1] == "-"):
            path = path[:-1]
        if path and path not in out:
            out.append(path)
    return out


def _copy_path(src: dict, dst: dict, path: list[str]) -> None:
    cur_src: Any = src
    cur_dst = dst
    for i, p in enumerate(path):
        if not isinstance(cur_src, dict) or p not in cur_src:
            cur_dst[p] = None
            return
        if i == len(path) - 1:
            cur_dst[p] = copy.deepcopy(cur_src[p])
        else:
            cur_src = cur_src[p]
            cur_dst = cur_dst.setdefault(p, {})
