"""Saving a NodePool draft: diff against the live object, schema validation against the
CRD installed in the cluster, server dry run, then (after the person confirms) apply
with a resourceVersion precondition. A conflict (the NodePool changed meanwhile) comes
back as such: the caller reviews again, which re-reads the live object and re-diffs
the same edits on top of it.

An edit to an existing NodePool is a gputui.fixes plan (a JSON merge patch of spec), so
it goes through the same Applier, audit log and `gputui undo` as every fix. A new
NodePool (from a template) is created with a dry run first and recorded in the same
audit log; undoing that entry deletes it.

Public API:
    NodePoolSaver(kube, read_only=False, audit=None)
    .review(draft) -> Review       (reads, diffs, validates, dry-runs; never writes)
    .save(review) -> SaveResult    (conflict=True: call review() again and show the new diff)
    edit_plan(draft, live) -> FixPlan
    merge_diff(before, after) -> dict  (RFC 7386 merge patch from before to after)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from checks.fix_kinds import FixKind
from checks.model import FixPlan, ObjectRef
from gputui.errors import NotFoundError
from gputui.nodepool.model import NodePoolDraft
from gputui.nodepool.schema import SchemaResult, fetch_crd, validate_manifest

PLAN_ID = FixKind.EDIT_NODEPOOL.value


def merge_diff(before: Any, after: Any) -> Any:
    """The JSON merge patch that turns `before` into `after` (lists are replaced whole)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return copy.deepcopy(after)
    out: dict[str, Any] = {}
    for k in before:
        if k not in after:
            out[k] = None
    for k, v in after.items():
        if k not in before:
            out[k] = copy.deepcopy(v)
        elif before[k] != v:
            out[k] = merge_diff(before[k], v)
    return out


def _ref(draft: NodePoolDraft) -> ObjectRef:
    return ObjectRef(kind="NodePool", name=draft.name, api_version=draft.api_version)


def edit_plan(draft: NodePoolDraft, base: dict) -> FixPlan:
    """The draft's edits (relative to the object it was opened from) as a merge patch of spec."""
    patch = {"spec": merge_diff(draft.original.get("spec") or {}, draft.obj.get("spec") or {})}
    from checks.fixplans import gitops_warning, kubectl_patch
    from checks.kinds import Object, to_struct

    md = to_struct({"metadata": base.get("metadata") or {}}, Object).metadata
    return FixPlan(
        id=PLAN_ID,
        title=f"Edit NodePool {draft.name}",
        target=_ref(draft),
        patch_type="merge",
        patch=patch,
        kubectl=kubectl_patch("NodePool", draft.name, None, "merge", patch),
        description="Changes the NodePool as edited. Template changes (taints, labels, node class, "
        "expireAfter) mark existing nodes Drifted and Karpenter replaces them as the budgets "
        "allow; requirement changes drift only the nodes that no longer satisfy them.",
        # The precondition is the object the diff was computed against (the live one just read),
        # so a NodePool changed after the review is never overwritten: the review runs again.
        resource_version=(base.get("metadata") or {}).get("resourceVersion"),
        gitops_warning=gitops_warning(md, "the NodePool manifest"),
    )


@dataclass
class Review:
    draft: NodePoolDraft
    creating: bool
    diff: str
    after: dict  # the NodePool as it would be stored (the server's dry-run answer when it accepted)
    schema: SchemaResult
    dry_run_ok: bool
    dry_run_message: str
    resource_version: str | None
    gitops_warning: str | None = None
    stale: str | None = None
    plan: FixPlan | None = None
    preview: Any = None  # gputui.fixes.apply.Preview for edits
    notes: list[str] = field(default_factory=list)

    @property
    def can_save(self) -> bool:
        return self.dry_run_ok and self.schema.ok and (self.creating or bool(self.diff))


@dataclass
class SaveResult:
    ok: bool
    conflict: bool
    message: str
    after: dict | None = None
    entry_id: str | None = None


def _applier(kube, read_only: bool, audit=None):
    """The one place the save path meets the fix machinery."""
    from gputui.fixes.apply import Applier

    return Applier(kube, audit=audit, read_only=read_only)


class NodePoolSaver:
    def __init__(self, kube, read_only: bool = False, audit=None):
        self.kube = kube
        self.read_only = read_only
        self.applier = _applier(kube, read_only, audit)
        self._crd_cache: dict[tuple[str, str], dict | None] = {}

    def _crd(self, api_version: str) -> dict | None:
        key = ("NodePool", api_version)
        if key not in self._crd_cache:
            self._crd_cache[key] = fetch_crd(self.kube, "NodePool", api_version)
        return self._crd_cache[key]

    def live(self, draft: NodePoolDraft) -> dict | None:
        try:
            return self.applier.read(_ref(draft))
        except NotFoundError:
            return None

    def review(self, draft: NodePoolDraft) -> Review:
        live = self.live(draft)
        if live is None:
            return self._review_create(draft)
        if not (draft.original.get("metadata") or {}).get("resourceVersion"):
            # A new NodePool (from a template) whose name is taken: never merge it into the existing one.
            return Review(
                draft,
                True,
                "",
                live,
                SchemaResult(source="not checked"),
                False,
                f"NodePool {draft.name} already exists: choose another name, or edit it with "
                f"`gputui nodepool edit {draft.name}`",
                None,
            )
        plan = edit_plan(draft, live)
        preview = self.applier.preview(plan)
        opened_rv = (draft.original.get("metadata") or {}).get("resourceVersion")
        stale = preview.stale
        if stale is None and opened_rv != preview.resource_version:
            stale = (
                f"NodePool {draft.name} changed after the editor opened it (resourceVersion {opened_rv} → "
                f"{preview.resource_version}); the diff is your edits on top of it as it is now"
            )
        after = preview.after or {}
        schema = validate_manifest(_without_status(after), self._crd(draft.api_version), old=_without_status(live))
        if not preview.diff:
            return Review(
                draft,
                False,
                "",
                after,
                schema,
                False,
                "nothing to save: the NodePool already reads so",
                preview.resource_version,
                plan.gitops_warning,
                stale,
                plan,
                preview,
            )
        if not schema.ok:
            return Review(
                draft,
                False,
                preview.diff,
                after,
                schema,
                False,
                "not sent for a dry run: the schema check failed",
                preview.resource_version,
                plan.gitops_warning,
                stale,
                plan,
                preview,
            )
        if self.read_only:
            return Review(
                draft,
                False,
                preview.diff,
                after,
                schema,
                False,
                "read-only: nothing is sent",
                preview.resource_version,
                plan.gitops_warning,
                stale,
                plan,
                preview,
            )
        dry = self.applier.dry_run(plan, preview)
        return Review(
            draft,
            False,
            dry.diff or preview.diff,
            dry.after or after,
            schema,
            dry.ok,
            dry.message,
            preview.resource_version,
            plan.gitops_warning,
            stale,
            plan,
            preview,
        )

    def _review_create(self, draft: NodePoolDraft) -> Review:
        from gputui.fixes.diff import yaml_diff
        from gputui.kube.errors import KubeApiError

        body = _for_create(draft.obj)
        schema = validate_manifest(body, self._crd(draft.api_version))
        diff = yaml_diff(None, body, name=f"NodePool/{draft.name}", after_label="new")
        if not schema.ok or self.read_only:
            why = "read-only: nothing is sent" if self.read_only else "not sent for a dry run: the schema check failed"
            return Review(draft, True, diff, body, schema, False, why, None)
        try:
            after = self.kube.request(
                "POST", _collection(draft), query={"dryRun": "All", "fieldManager": "gputui"}, body=body
            ).json()
        except KubeApiError as e:
            return Review(
                draft,
                True,
                diff,
                body,
                schema,
                False,
                f"the API server (dry run) rejected it ({e.status} {e.reason}): {e.message}",
                None,
            )
        return Review(draft, True, diff, after or body, schema, True, "the server accepts the new NodePool", None)

    def save(self, review: Review) -> SaveResult:
        if not review.can_save:
            return SaveResult(False, False, f"not saved: {review.dry_run_message}")
        if review.creating:
            return self._create(review)
        result = self.applier.apply(review.plan, review.resource_version, review.preview)
        return SaveResult(result.ok, result.conflict, result.message, result.after, result.entry_id)

    def _create(self, review: Review) -> SaveResult:
        from gputui.fixes.apply import ReadOnlyError

        if self.read_only:
            raise ReadOnlyError("create a NodePool")
        ref = _ref(review.draft)
        target = {"kind": "NodePool", "namespace": None, "name": ref.name, "apiVersion": ref.api_version}
        result = self.applier.create(
            ref,
            _for_create(review.draft.obj),
            f"Create NodePool {review.draft.name}",
            {"id": FixKind.CREATE_NODEPOOL.value, "patchType": "create", "target": target},
        )
        return SaveResult(result.ok, result.conflict, result.message, result.after, result.entry_id)


def _without_status(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k != "status"}


def _for_create(obj: dict) -> dict:
    out = _without_status(copy.deepcopy(obj))
    md = out.setdefault("metadata", {})
    for key in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
        md.pop(key, None)
    return out


def _collection(draft: NodePoolDraft) -> str:
    return f"/apis/{draft.api_version}/nodepools"
