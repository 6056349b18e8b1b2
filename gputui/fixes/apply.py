"""Applying a FixPlan safely: fresh read, local and server (dryRun=All) previews, apply
with the plan's own resourceVersion as precondition, write-ahead audit entries; and undo
from the audit log.

Every request that changes the cluster is framed by `_intent` and `_finish`: an intent
line is in the audit log (fsync'd) before the request is sent, and a result line after its
answer. When the log cannot be written, nothing is sent (AuditUnwritable). An intent left without a
result (the process was killed mid-request) is resolved by `resolve_pending`, which reads
the object and records whether the change landed.

Nothing here writes when the Applier is read-only: every mutating method raises
ReadOnlyError before a request is built.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from checks.model import FixPlan, ObjectRef
from gputui.errors import EXIT_USAGE, ConnectError, GputuiError, NotFoundError, RefusedError
from gputui.fixes import plan as plans
from gputui.fixes import redact
from gputui.fixes.audit import APPLIED, INTENT, NOT_APPLIED, AuditEntry, AuditLog, AuditUnwritable, result_of
from gputui.fixes.diff import deletion_summary, readable, to_yaml, yaml_diff
from gputui.fixes.targets import collection_path, object_path
from gputui.kube.errors import KubeApiError, TransportTimeout

_REJECTED = (400, 403, 422)


class ReadOnlyError(GputuiError):
    """A change was asked for while gputui runs with --read-only."""

    exit_code = EXIT_USAGE

    def __init__(self, what: str = "change the cluster"):
        super().__init__(
            f"refusing to {what}: gputui is running with --read-only",
            hint="run without --read-only to apply fixes or undo them",
        )


@dataclass
class Preview:
    plan: FixPlan
    before: dict  # the target as read just now
    after: dict | None  # computed locally; None when the plan deletes the target
    diff: str
    gitops_warning: str | None
    resource_version: str  # of `before`; the apply's precondition is the plan's own (see Applier.apply)
    patch: Any = None  # the body to send (list values re-based on `before`)
    stale: str | None = None  # said when the target changed after the check read it: compute the plan again
    manifest: str | None = None  # YAML fragment to change in Git/Helm instead (GitOps targets)

    @property
    def disruptive(self) -> bool:
        return self.plan.disruptive

    @property
    def changes_nothing(self) -> bool:
        return not plans.is_delete(self.plan) and not self.diff


@dataclass
class DryRunResult:
    ok: bool
    after: dict | None
    message: str
    diff: str = ""
    status: int | None = None  # HTTP status of a refusal
    conflict: bool = False


@dataclass
class ApplyResult:
    ok: bool
    after: dict | None
    conflict: bool
    message: str
    entry_id: str | None = None
    status: int | None = None


@dataclass
class UndoPreview:
    entry: AuditEntry
    current: dict | None
    restored: dict | None
    diff: str
    action: str  # "put" | "patch" | "create"
    message: str
    resource_version: str | None = None
    warnings: list[str] = field(default_factory=list)


class Applier:
    def __init__(self, kube, audit: AuditLog | None = None, read_only: bool = False):
        self.kube = kube
        self.audit = audit if audit is not None else AuditLog()
        self.read_only = read_only

    # -- reading ------------------------------------------------------------------------

    def read(self, ref: ObjectRef) -> dict:
        try:
            return self.kube.request("GET", object_path(ref)).json()
        except KubeApiError as e:
            if e.status == 404:
                raise NotFoundError(
                    f"{ref} does not exist (any more)", hint="refresh the findings: the object was deleted or renamed"
                ) from None
            raise RefusedError(f"cannot read {ref}: {e.message}") from None

    def preview(self, plan: FixPlan) -> Preview:
        """Read the target now and compute what the plan does to it. Never writes."""
        before = self.read(plan.target)
        rv = (before.get("metadata") or {}).get("resourceVersion") or ""
        patch = plans.rebase(plan, before)
        try:
            after = plans.patched(plan, before, patch)
        except plans.PatchError as e:
            raise RefusedError(
                f"the fix does not fit {plan.target} as it is now: {e}", hint="refresh the findings and try again"
            ) from None
        stale = None
        if plan.resource_version and rv and plan.resource_version != rv:
            stale = (
                f"{plan.target} changed after the check read it (resourceVersion {plan.resource_version} → {rv}); "
                "the diff is against the object as it is now"
            )
        manifest = None
        if plan.gitops_warning:
            frag = plans.manifest_fragment(plan, after)
            values = plans.helm_values_fragment(plan, frag)
            if values:
                manifest = "# values.yaml of the gpu-operator Helm release\n" + to_yaml(values)
            elif frag:
                manifest = to_yaml(frag)
        if plans.is_delete(plan):
            diff = deletion_summary(before, name=str(plan.target))
        else:
            diff = yaml_diff(before, after, name=str(plan.target))
        return Preview(
            plan=plan,
            before=before,
            after=after,
            diff=diff,
            gitops_warning=plan.gitops_warning,
            resource_version=rv,
            patch=patch,
            stale=stale,
            manifest=manifest,
        )

    # -- the server's opinion -------------------------------------------------------------

    def dry_run(self, plan: FixPlan, preview: Preview | None = None) -> DryRunResult:
        """Send the change with dryRun=All: admission, schema and immutability rules run, nothing is stored."""
        if self.read_only:
            raise ReadOnlyError("send a dry-run change")
        preview = preview or self.preview(plan)
        try:
            after = self._send(plan, preview.patch, plan.resource_version or preview.resource_version, dry_run=True)
        except KubeApiError as e:
            conflict = _is_conflict(plan, e)
            return DryRunResult(
                ok=False,
                after=None,
                message=_refusal(plan.target, e, dry_run=True, conflict=conflict),
                status=e.status,
                conflict=conflict,
            )
        if plans.is_delete(plan):
            md = (after or {}).get("metadata") or {}
            if md.get("deletionTimestamp") and md.get("finalizers"):
                msg = (
                    f"the server accepts it: {plan.target} is marked for deletion and goes away once its "
                    f"finalizers ({', '.join(md['finalizers'])}) finish"
                )
            else:
                msg = f"the server accepts it: {plan.target} would be deleted"
            return DryRunResult(ok=True, after=None, message=msg, diff=preview.diff)
        diff = yaml_diff(preview.before, after, name=str(plan.target))
        msg = "the server accepts the change"
        if readable(after) != readable(_with_generation(preview.after, after)):
            msg += " (its result differs from the local preview: the server's is shown)"
        return DryRunResult(ok=True, after=after, message=msg, diff=diff)

    # -- writing ----------------------------------------------------------------------------

    def apply(
        self, plan: FixPlan, expected_resource_version: str | None, preview: Preview | None = None
    ) -> ApplyResult:
        """Apply the plan if the target is still at the resourceVersion the plan was computed
        from (`plan.resource_version`; `expected_resource_version`, the one the preview read,
        when the plan carries none). A newer object answers conflict=True and nothing is
        written: recompute the plan from the object as it is now and show it again."""
        if self.read_only:
            raise ReadOnlyError("apply a fix")
        self.audit.check_writable()
        try:
            current = self.read(plan.target)
        except NotFoundError as e:
            return ApplyResult(ok=False, after=None, conflict=False, message=e.message, status=404)
        rv = (current.get("metadata") or {}).get("resourceVersion")
        precondition = plan.resource_version or expected_resource_version or rv
        if rv != precondition:
            return ApplyResult(
                ok=False,
                after=None,
                conflict=True,
                status=409,
                message=f"{plan.target} changed since the fix was computed (resourceVersion "
                f"{precondition} → {rv}); nothing was written: the fix must be computed again from the object as it is now",
            )
        patch = plans.rebase(plan, current)
        intended = None
        if not plans.is_delete(plan):
            try:
                intended = plans.patched(plan, current, patch)
            except plans.PatchError as e:
                raise RefusedError(
                    f"the fix does not fit {plan.target} as it is now: {e}", hint="refresh the findings and try again"
                ) from None
        plan_json = dict(plan.to_json(), resourceVersion=plan.resource_version)
        target = dict(plan.target.to_json(), apiVersion=plan.target.api_version)
        intent = self._intent(
            "apply", plan.title, plan_json, target, current, intended, op=plan.patch_type, precondition=precondition
        )
        try:
            after = self._send(plan, patch, precondition, dry_run=False)
        except KubeApiError as e:
            conflict = _is_conflict(plan, e)
            message = _refusal(plan.target, e, dry_run=False, conflict=conflict)
            self._finish(intent, False, None, message)
            return ApplyResult(ok=False, after=None, conflict=conflict, status=e.status, message=message)
        if plans.is_delete(plan):
            after = after if (after or {}).get("metadata", {}).get("deletionTimestamp") else None
            msg = f"{plan.target} deleted" if after is None else f"{plan.target} is being deleted"
        else:
            msg = f"{plan.target} updated (resourceVersion {rv} → {(after or {}).get('metadata', {}).get('resourceVersion')})"
        msg += self._finish(intent, True, after, msg)
        return ApplyResult(ok=True, after=after, conflict=False, message=msg, entry_id=intent.id)

    def create(self, ref: ObjectRef, body: dict, title: str, plan_json: dict) -> ApplyResult:
        """Create an object (a new NodePool), recorded like every change; undo deletes it."""
        if self.read_only:
            raise ReadOnlyError(f"create {ref}")
        self.audit.check_writable()
        target = {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name, "apiVersion": ref.api_version}
        intent = self._intent("apply", title, plan_json, target, None, body, op="create", precondition=None)
        try:
            after = self._write(
                ref, "POST", collection_path(ref), query={"fieldManager": plans.FIELD_MANAGER}, body=body
            ).json()
        except KubeApiError as e:
            message = f"the API server rejected it ({e.status} {e.reason}): {e.message}"
            self._finish(intent, False, None, message)
            return ApplyResult(ok=False, after=None, conflict=e.status == 409, message=message, status=e.status)
        msg = f"{ref} created"
        note = self._finish(intent, True, after, msg)
        return ApplyResult(ok=True, after=after, conflict=False, message=msg + note, entry_id=intent.id)

    def _send(self, plan: FixPlan, patch: Any, rv: str | None, dry_run: bool) -> dict | None:
        ref = plan.target
        q: dict[str, str | bool | None] = {
            "dryRun": "All" if dry_run else None,
            "fieldManager": None if plans.is_delete(plan) else plans.FIELD_MANAGER,
        }
        if plan.patch_type == "delete":
            return self._write(ref, "DELETE", object_path(ref), query=q, body=plans.delete_options(rv, dry_run)).json()
        if plan.patch_type == "evict":
            body = {
                "apiVersion": "policy/v1",
                "kind": "Eviction",
                "metadata": {"name": ref.name, "namespace": ref.namespace},
                "deleteOptions": plans.delete_options(rv, dry_run),
            }
            self._write(ref, "POST", object_path(ref, "eviction"), query=q, body=body)
            return None
        body = plans.with_precondition(plan, patch, rv)
        if plan.patch_type == "apply":
            q["force"] = True
        return self._write(
            ref, "PATCH", object_path(ref), query=q, body=body, content_type=plans.CONTENT_TYPES[plan.patch_type]
        ).json()

    def _write(self, ref: ObjectRef, method: str, path: str, **kw: Any) -> Any:
        """Send one write. No answer at all (a timeout, a dropped connection) is not a refusal:
        the change may have landed, so the intent stays open for `gputui undo --list` to settle."""
        try:
            return self.kube.request(method, path, **kw)
        except TransportTimeout as e:
            dry = (kw.get("query") or {}).get("dryRun")
            raise ConnectError(
                f"no answer from the API server to {method} {ref} ({e})"
                + ("; nothing was changed (dry run)" if dry else "; the change may or may not have landed"),
                hint="check the connection; `gputui undo --list` reads the object and records whether it landed",
            ) from None

    # -- undo ---------------------------------------------------------------------------------

    def undo_candidates(self) -> list[AuditEntry]:
        self.resolve_pending()
        return self.audit.undoable(self.kube.server)

    def preview_undo(self, entry_id: str | None = None) -> UndoPreview:
        entry = self._entry_to_undo(entry_id)
        ref = _ref(entry.target)
        try:
            current = self.kube.request("GET", object_path(ref)).json()
        except KubeApiError as e:
            if e.status != 404:
                raise RefusedError(f"cannot read {ref}: {e.message}") from None
            current = None
        plan_id = entry.plan.get("id", "")
        before = entry.before or {}
        warnings = []
        cur_rv = ((current or {}).get("metadata") or {}).get("resourceVersion")
        after_rv = ((entry.after or {}).get("metadata") or {}).get("resourceVersion")
        if entry.plan.get("patchType") == "create":
            if current is None:
                raise RefusedError(f"{ref} no longer exists; there is nothing to undo")
            if after_rv and cur_rv != after_rv:
                warnings.append(
                    f"{ref} changed after it was created (resourceVersion {after_rv} → {cur_rv}); "
                    "deleting it also removes those later changes"
                )
            return UndoPreview(
                entry,
                current,
                None,
                deletion_summary(current, name=str(ref)),
                "delete",
                f"delete {ref}, which “{entry.title}” created",
                cur_rv,
                warnings,
            )
        if entry.plan.get("patchType") in plans.DELETING:
            if ref.kind == "Pod":
                raise RefusedError(
                    f"{ref} was deleted so that its controller starts a fresh one; there is nothing to restore",
                    hint="the controller's new pod replaced it",
                )
            if current is not None:
                raise RefusedError(f"{ref} still exists (its deletion has not finished); nothing to re-create yet")
            if not entry.before:
                raise RefusedError(f"the audit entry does not hold {ref} as it was; it cannot be re-created")
            if redact.has_redacted(before):
                raise RefusedError(
                    f"{ref} cannot be re-created from the audit log: values that look like credentials were "
                    "not recorded and the object is gone",
                    hint="re-create it from your manifests",
                )
            restored = _for_create(before)
            msg = f"re-create {ref} as it was recorded"
            if ref.kind == "NodeClaim":
                msg += "; Karpenter launches a new instance for it (the old one was terminated)"
            return UndoPreview(
                entry, None, restored, yaml_diff(None, restored, name=str(ref), after_label="re-created"), "create", msg
            )
        if current is None:
            raise RefusedError(
                f"{ref} no longer exists; the recorded object is not re-created",
                hint="re-create it from your manifests",
            )
        if after_rv and cur_rv != after_rv:
            warnings.append(
                f"{ref} changed after the fix (resourceVersion {after_rv} → {cur_rv}); restoring the "
                "recorded object also reverts those later changes (see the diff)"
            )
        if plan_id in ("cordon-node", "uncordon-node"):
            was = bool((before.get("spec") or {}).get("unschedulable"))
            body = {"spec": {"unschedulable": True if was else None}}
            restored = plans.merge_patch(current, body)
            msg = f"{'cordon' if was else 'uncordon'} {ref.name} again"
            warnings = []  # only unschedulable is touched: later changes stay
            return UndoPreview(
                entry,
                current,
                restored,
                yaml_diff(current, restored, name=str(ref), after_label="after the undo"),
                "patch",
                msg,
                cur_rv,
                warnings,
            )
        try:
            restored = redact.restore(_for_put(before, current), current)
        except redact.Unrestorable as e:
            raise RefusedError(
                f"{ref} cannot be restored: the audit log did not record the value at {e} (it looks like a "
                "credential) and the object no longer holds it",
                hint="restore it from your manifests",
            ) from None
        return UndoPreview(
            entry,
            current,
            restored,
            yaml_diff(current, restored, name=str(ref), after_label="after the undo"),
            "put",
            f"restore {ref} as it was before “{entry.title}”",
            cur_rv,
            warnings,
        )

    def undo(self, entry_id: str | None = None, expected_resource_version: str | None = None) -> ApplyResult:
        """Restore the object recorded by an audit entry (the newest undoable one by default)."""
        if self.read_only:
            raise ReadOnlyError("undo a change")
        self.audit.check_writable()
        up = self.preview_undo(entry_id)
        ref = _ref(up.entry.target)
        if expected_resource_version and up.resource_version != expected_resource_version:
            return ApplyResult(
                ok=False,
                after=None,
                conflict=True,
                status=409,
                message=f"{ref} changed since the undo preview: review the new diff",
            )
        op = "unschedulable" if up.action == "patch" else up.action
        intent = self._intent(
            "undo",
            f"Undo: {up.entry.title}",
            up.entry.plan,
            up.entry.target,
            up.current,
            up.restored,
            op=op,
            precondition=up.resource_version,
            undoes=up.entry.id,
        )
        q = {"fieldManager": plans.FIELD_MANAGER}
        try:
            if up.action == "create":
                after = self._write(ref, "POST", collection_path(ref), query=q, body=up.restored).json()
            elif up.action == "delete":
                answer = self._write(
                    ref, "DELETE", object_path(ref), body=plans.delete_options(up.resource_version)
                ).json()
                after = answer if ((answer or {}).get("metadata") or {}).get("deletionTimestamp") else None
            elif up.action == "patch":
                body = {
                    "metadata": {"resourceVersion": up.resource_version},
                    "spec": {"unschedulable": ((up.restored or {}).get("spec") or {}).get("unschedulable") or None},
                }
                after = self._write(
                    ref, "PATCH", object_path(ref), query=q, body=body, content_type=plans.CONTENT_TYPES["merge"]
                ).json()
            else:
                after = self._write(ref, "PUT", object_path(ref), query=q, body=up.restored).json()
        except KubeApiError as e:
            msg = _refusal(ref, e, dry_run=False)
            if up.action == "create" and e.status == 409:
                msg = f"{ref} cannot be re-created: an object of that name exists again ({e.message})"
            self._finish(intent, False, None, msg)
            conflict = e.status == 409 and up.action != "create"
            return ApplyResult(ok=False, after=None, conflict=conflict, message=msg, status=e.status)
        msg = f"undone: {up.message}"
        msg += self._finish(intent, True, after, msg)
        return ApplyResult(ok=True, after=after, conflict=False, message=msg, entry_id=intent.id)

    def _entry_to_undo(self, entry_id: str | None) -> AuditEntry:
        if entry_id:
            self.resolve_pending()
            entry = self.audit.find(entry_id)
            if entry is None:
                raise NotFoundError(
                    f"no audit entry {entry_id!r} in {self.audit.path}", hint="`gputui undo --list` shows the entries"
                )
            if entry.pending:
                raise RefusedError(
                    f"audit entry {entry_id} is unconfirmed: it is still running, or its cluster could not "
                    "be read to see whether it landed",
                    hint="`gputui undo --list` against its context resolves it",
                )
            if entry.action != "apply" or not entry.ok:
                raise RefusedError(f"audit entry {entry_id} is not an applied fix; only applied fixes can be undone")
            if entry_id in self.audit.undone_ids():
                raise RefusedError(f"audit entry {entry_id} ({entry.title}) was already undone")
            if entry.server != self.kube.server:
                raise RefusedError(
                    f"audit entry {entry_id} was recorded for {entry.server}, but the current "
                    f"context talks to {self.kube.server}",
                    hint=f"use --context {entry.context}" if entry.context else None,
                )
            return entry
        candidates = self.undo_candidates()
        if not candidates:
            raise NotFoundError(f"nothing to undo for {self.kube.server} in {self.audit.path}")
        return candidates[0]

    # -- audit --------------------------------------------------------------------------------

    def _intent(
        self,
        action: str,
        title: str,
        plan_json: dict,
        target: dict,
        before: dict | None,
        intended: dict | None,
        *,
        op: str,
        precondition: str | None,
        undoes: str | None = None,
    ) -> AuditEntry:
        """Record the change about to be sent (fsync'd); AuditUnwritable means: do not send it."""
        entry = AuditEntry(
            id=AuditLog.new_id(),
            time=AuditLog.now(),
            action=action,
            context=self.kube.context,
            server=self.kube.server,
            title=title,
            plan=plan_json,
            target=target,
            before=redact.redact(before),
            after=redact.redact(intended),
            ok=False,
            undoes=undoes,
            phase=INTENT,
            op=op,
            precondition=precondition,
            pid=os.getpid(),
        )
        return self.audit.append(entry)

    def _finish(self, intent: AuditEntry, ok: bool, after: dict | None, message: str) -> str:
        """Record the answer; the change is made either way, so a failure to write is said, not raised."""
        try:
            self.audit.append(result_of(intent, ok, redact.redact(after), message))
        except AuditUnwritable as e:
            return f" (but its result could not be recorded: {e.message}; `gputui undo --list` resolves it later)"
        return ""

    def resolve_pending(self) -> list[AuditEntry]:
        """Settle intents left without a result by a process that is gone: read the object, tell
        whether the change landed, and record that. Entries of other clusters, of processes still
        running, and objects that cannot be read stay pending."""
        out = []
        for entry in self.audit.pending():
            if entry.server != self.kube.server or _running(entry.pid):
                continue
            ref = _ref(entry.target)
            try:
                current = self.kube.request("GET", object_path(ref)).json()
            except KubeApiError as e:
                if e.status != 404:
                    continue
                current = None
            except Exception:  # noqa: BLE001 - unreachable now: it stays pending, shown as such
                continue
            landed = _landed(entry, current)
            state = APPLIED if landed else NOT_APPLIED
            message = f"unconfirmed → {state}: gputui stopped before the answer; the object read at {AuditLog.now()} "
            message += "shows the change" if landed else "does not show the change"
            resolved = result_of(entry, landed, redact.redact(current) if landed else None, message, resolved=state)
            # A change seen in the object is final. One not seen may still be on its way (the server
            # can finish a request after its client died), so "not applied" is recorded only for
            # intents older than any request can take.
            record = landed or _age_seconds(entry.time) > SETTLE_AFTER_SECONDS
            try:
                self.audit.settle(resolved, record)
            except AuditUnwritable:
                self.audit.settle(resolved, False)  # shown as resolved now; judged again next time
            out.append(resolved)
        return out


SETTLE_AFTER_SECONDS = 120


def _age_seconds(stamp: str) -> float:
    try:
        t = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return float("inf")
    return (datetime.now(timezone.utc) - t).total_seconds()


def _running(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _landed(entry: AuditEntry, current: dict | None) -> bool:
    """Did the change an intent describes reach the object as it is now?"""
    md = (current or {}).get("metadata") or {}
    before_md = (entry.before or {}).get("metadata") or {}
    if entry.op == "create":
        return current is not None
    if entry.op in plans.DELETING:
        return current is None or bool(md.get("deletionTimestamp")) or md.get("uid") != before_md.get("uid")
    if current is None:
        return False
    if entry.precondition and md.get("resourceVersion") == entry.precondition:
        return False  # the precondition still holds: nothing was written
    try:
        intended = redact.restore(entry.after, current)
    except redact.Unrestorable:
        return False
    if entry.op == "unschedulable":
        return bool((intended.get("spec") or {}).get("unschedulable")) == bool(
            (current.get("spec") or {}).get("unschedulable")
        )
    if entry.op == "put":
        keep = ("spec", "data", "metadata")
        a, b = readable(intended) or {}, readable(current) or {}
        for part in (a, b):
            part["metadata"] = {k: v for k, v in (part.get("metadata") or {}).items() if k in ("labels", "annotations")}
        return all(a.get(k) == b.get(k) for k in keep)
    patch = entry.plan.get("patch")
    if entry.op == "json":
        paths = plans.json_paths(patch)
    elif isinstance(patch, dict):
        paths = _leaves(patch)
    else:
        return False
    return all(_at(intended, p) == _at(current, p) for p in paths if p[:2] != ["metadata", "resourceVersion"])


def _leaves(patch: dict, prefix: list[str] | None = None) -> list[list[str]]:
    out = []
    for key, value in patch.items():
        path = [*(prefix or []), key]
        if isinstance(value, dict) and value:
            out.extend(_leaves(value, path))
        else:
            out.append(path)
    return out


def _at(obj: Any, path: list[str]) -> Any:
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def _ref(target: dict) -> ObjectRef:
    return ObjectRef(
        kind=target.get("kind", ""),
        name=target.get("name", ""),
        namespace=target.get("namespace") or None,
        api_version=target.get("apiVersion"),
    )


def _is_conflict(plan: FixPlan, e: KubeApiError) -> bool:
    # A JSON patch's precondition is a `test` op: its failure is a 422 naming the path.
    return e.status == 409 or (
        plan.patch_type == "json" and e.status == 422 and "/metadata/resourceVersion" in (e.message or "")
    )


def _refusal(ref: ObjectRef, e: KubeApiError, dry_run: bool, conflict: bool = False) -> str:
    who = "the API server" + (" (dry run)" if dry_run else "")
    if e.status == 409 or conflict:
        return f"{ref} changed since it was read ({e.message}): re-read and review the new diff"
    if e.status == 404:
        return f"{ref} does not exist any more"
    if e.status == 403:
        return f"{who} does not allow it: {e.message}"
    if e.status in _REJECTED:
        return f"{who} rejected the change ({e.status} {e.reason}): {e.message}"
    return f"{who} answered {e.status} {e.reason}: {e.message}"


def _with_generation(local: dict | None, server: dict | None) -> dict | None:
    """The local result with the server-owned metadata the server fills in, for comparing."""
    if local is None or server is None:
        return local
    out = copy.deepcopy(local)
    smd, md = server.get("metadata") or {}, out.setdefault("metadata", {})
    for key in ("generation", "resourceVersion", "managedFields"):
        if key in smd:
            md[key] = smd[key]
        else:
            md.pop(key, None)
    return out


def _for_put(before: dict, current: dict) -> dict:
    out = copy.deepcopy(before)
    md = out.setdefault("metadata", {})
    md.pop("managedFields", None)
    md["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
    # Status belongs to controllers; the server ignores it on PUT for most kinds anyway.
    if "status" in current:
        out["status"] = copy.deepcopy(current["status"])
    else:
        out.pop("status", None)
    return out


def _for_create(before: dict) -> dict:
    out = copy.deepcopy(before)
    md = out.setdefault("metadata", {})
    for key in (
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "generation",
        "selfLink",
    ):
        md.pop(key, None)
    out.pop("status", None)
    return out
