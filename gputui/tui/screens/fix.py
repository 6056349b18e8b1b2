"""The guided fix walk-through and the undo screen.

FixScreen(finding, plan) shows each step as it happens and keeps the earlier ones on
screen: evidence → explanation → what will change (diff) → the server's dry run →
confirmation (a second one for disruptive fixes) → apply → verification. Nothing is
written before the confirmation; every cluster call runs in a thread worker.
UndoScreen() lists the audit log's changes for this cluster and restores one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from gputui.tui.render import ref_text
from gputui.tui.screens.app_screen import AppScreen
from gputui.tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from gputui.fixes.apply import Applier, Preview, UndoPreview

STEPS = (
    ("evidence", "Evidence"),
    ("explain", "Why"),
    ("diff", "Change"),
    ("dryrun", "Dry run"),
    ("confirm", "Confirm"),
    ("apply", "Apply"),
    ("verify", "Verify"),
)

# state -> the step it belongs to
_STEP_OF = {
    "reading": "diff",
    "previewed": "diff",
    "dry-running": "dryrun",
    "ready": "confirm",
    "confirm-disruptive": "confirm",
    "applying": "apply",
    "verifying": "verify",
    "verified": "verify",
    "terminating": "verify",
    "stopped": None,
    "undone": "verify",
}


TERMINATING_POLL_SECONDS = 2.0  # how often a deleted object still Terminating is read again


def _failed(e: Exception, prefix: str = "") -> str:
    from gputui.errors import GputuiError

    text = e.message if isinstance(e, GputuiError) else f"{type(e).__name__}: {e}"
    return f"{prefix}: {text}" if prefix else text


def _applier(app) -> Applier:
    from gputui.fixes.apply import Applier
    from gputui.fixes.audit import AuditLog

    return Applier(app.kube, AuditLog(), read_only=app.read_only)


def resolve_unconfirmed(kube) -> str | None:
    """At start: settle the changes an earlier gputui left unconfirmed (killed mid-request) by
    reading their objects; the note to show, or None. Never raises: the app starts anyway."""
    from gputui.fixes.apply import Applier
    from gputui.fixes.audit import AuditLog

    try:
        log = AuditLog()
        if not log.pending():
            return None
        resolved = Applier(kube, log).resolve_pending()
    except Exception:  # noqa: BLE001 - `u` and `gputui undo --list` say more
        return None
    if not resolved:
        return None
    applied = sum(1 for e in resolved if e.ok)
    return (
        f"{len(resolved)} unconfirmed change(s) from an earlier gputui checked: {applied} applied"
        f"{' (u to undo)' if applied else ''}, {len(resolved) - applied} not applied"
    )


class FixScreen(AppScreen[None]):
    DEFAULT_CSS = """
    FixScreen #fix-steps { height: 1; padding: 0 1; background: $panel; }
    FixScreen #fix-body { padding: 0 1; }
    FixScreen .fix-step { height: auto; margin-bottom: 1; }
    FixScreen .fix-step.-hidden { display: none; }
    FixScreen .step-title { text-style: bold underline; }
    FixScreen #fix-prompt { height: auto; padding: 0 1; background: $primary 20%; }
    FixScreen #fix-prompt.-danger { background: $error 30%; }
    FixScreen #fix-prompt.-ok { background: $success 30%; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back", id="fix-back"),
        Binding("d", "dry_run", "Dry run", id="fix-dry-run"),
        Binding("y", "confirm", "Confirm", id="fix-confirm"),
        Binding("a", "apply_disruptive", "Apply (disruptive)", id="fix-apply-disruptive"),
        Binding("v", "verify", "Verify again", id="fix-verify"),
        Binding("u", "undo_this", "Undo this change", id="fix-undo"),
        Binding("c", "copy_command", "Copy kubectl", id="fix-copy"),
    ]

    def __init__(self, finding, plan) -> None:
        super().__init__()
        self.finding = finding
        self.plan = plan
        self.state = "reading"
        self.preview: Preview | None = None
        self.dry = None
        self.result = None
        self.verification = None
        self._applier: Applier | None = None

    @property
    def applier(self) -> Applier:
        """Made on first use, in the worker that first needs it (it reads the app's client)."""
        if self._applier is None:
            self._applier = _applier(self.app)
        return self._applier

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="fix-steps")
        with VerticalScroll(id="fix-body"):
            yield Static(self._title(), id="fix-title", classes="fix-step")
            yield Static(self._evidence(), id="step-evidence", classes="fix-step")
            yield Static(self._explanation(), id="step-explain", classes="fix-step")
            for step in ("diff", "dryrun", "confirm", "apply", "verify"):
                yield Static(id=f"step-{step}", classes="fix-step -hidden")
        yield Static(id="fix-prompt")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.app.read_only:  # the app never opens this screen read-only; refuse anyway
            self._stop("Read-only mode: fixes are not applied.")
            return
        self._set_state("reading", "Reading the target as it is now…")
        self._read_preview()

    # -- state ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = {
            "dry_run": self.state == "previewed",
            "confirm": self.state == "ready",
            "apply_disruptive": self.state == "confirm-disruptive",
            "verify": self.state == "verified",
            "undo_this": self.state == "verified" and self.result is not None and self.result.entry_id is not None,
        }
        if action in allowed:
            return allowed[action] and not self.app.read_only
        return True

    def _set_state(self, state: str, prompt: str, style: str = "") -> None:
        self.state = state
        self.query_one("#fix-steps", Static).update(self._step_bar())
        p = self.query_one("#fix-prompt", Static)
        p.update(Text(prompt))
        p.set_class(style == "danger", "-danger")
        p.set_class(style == "ok", "-ok")
        self.refresh_bindings()

    def _stop(self, why: str) -> None:
        self._set_state("stopped", why + "  (escape: back)", "danger")

    def _show(self, step: str, renderable: Any) -> None:
        w = self.query_one(f"#step-{step}", Static)
        w.update(renderable)
        w.remove_class("-hidden")
        self.call_after_refresh(w.scroll_visible)

    def _step_bar(self) -> Text:
        current = _STEP_OF.get(self.state)
        order = [s for s, _ in STEPS]
        reached = order.index(current) if current in order else -1
        t = Text()
        for i, (key, label) in enumerate(STEPS):
            if i:
                t.append(" ▸ ", style="dim")
            if key == current:
                style = "bold reverse"
            elif i < reached or key in ("evidence", "explain"):
                style = "green"
            else:
                style = "dim"
            t.append(f"{i + 1} {label}", style=style)
        if self.state == "stopped":
            t.append("   stopped", style="bold red")
        return t

    # -- steps 1-3: evidence, explanation, diff ---------------------------------------------

    def _title(self) -> Text:
        t = Text()
        t.append(f"{self.finding.code} ", style="bold")
        t.append(self.finding.title + "\n", style="bold")
        t.append("Fix: ", style="dim")
        t.append(self.plan.title, style="bold")
        if self.plan.disruptive:
            t.append("  DISRUPTIVE", style="bold red")
        t.append("\ntarget ", style="dim")
        t.append(ref_text(self.plan.target))
        return t

    def _evidence(self) -> Group:
        lines = [Text("1 Evidence", style="bold underline"), Text(self.finding.message)]
        for e in self.finding.evidence:
            lines.append(Text.assemble(("• ", "dim"), e))
        return Group(*lines)

    def _explanation(self) -> Group:
        parts: list = [Text("2 Why this fix", style="bold underline")]
        if self.plan.description:
            parts.append(Text(self.plan.description))
        if self.plan.disruptive:
            parts.append(
                Text(
                    "This fix is disruptive: it restarts or removes running things. It needs a second confirmation.",
                    style="bold red",
                )
            )
        if self.plan.kubectl:
            # Plain and on lines of its own, so a terminal selection takes the command alone.
            parts.append(Text("kubectl equivalent (c copies it):", style="dim"))
            parts.append(Text(self.plan.kubectl, style="bold"))
        return Group(*parts)

    @work(thread=True, exclusive=True, group="fix", exit_on_error=False)
    def _read_preview(self, note: str = "") -> None:
        from gputui.fixes.verify import fresh_plan

        try:
            self.applier.audit.check_writable()  # no walk-through towards a change that cannot be recorded
            preview = self.applier.preview(self.plan)
            if preview.stale:
                # The plan was computed from an older read: compute it again from the object as it is
                # now, so a change someone made meanwhile is never overwritten.
                plan = fresh_plan(self.app.kube, self.finding, self.plan)
                if plan is None:
                    why = (
                        f"{self.plan.target} changed since the check read it, and the check no longer offers this fix."
                    )
                    self.app.call_from_thread(self._stop, why)
                    return
                preview = self.applier.preview(plan)
                note = (note + " " if note else "") + (
                    "The target changed since the check read it: the fix was computed again from it as it is now."
                )
        except Exception as e:  # noqa: BLE001 - the screen says what failed instead of waiting
            self.app.call_from_thread(self._stop, _failed(e, "Cannot prepare the fix"))
            return
        self.app.call_from_thread(self._show_preview, preview, note)

    def _show_preview(self, preview, note: str = "") -> None:
        from gputui.fixes.diff import diff_renderable

        self.preview = preview
        self.plan = preview.plan
        parts: list = [Text("3 What will change", style="bold underline")]
        if note:
            parts.append(Text(note, style="bold yellow"))
        if preview.stale:
            parts.append(Text(preview.stale, style="yellow"))
        parts.append(diff_renderable(preview.diff))
        if preview.gitops_warning:
            parts.append(
                Text(
                    f"⚠ GitOps: {preview.gitops_warning}. A direct change will be reverted; make this "
                    "change in the source instead:",
                    style="bold yellow",
                )
            )
            if preview.manifest:
                parts.append(Syntax(preview.manifest, "yaml", background_color="default"))
        self._show("diff", Group(*parts))
        for later in ("dryrun", "confirm", "apply", "verify"):
            self.query_one(f"#step-{later}", Static).add_class("-hidden")
        if preview.changes_nothing:
            self._stop(f"{self.plan.target} already has this change: nothing to do.")
            return
        self._set_state("previewed", "Press d to send the change to the API server as a dry run (nothing is stored).")

    # -- step 4: dry run --------------------------------------------------------------------

    def action_dry_run(self) -> None:
        if self.state != "previewed":
            return
        self._set_state("dry-running", "Asking the API server (dryRun=All)…")
        self._dry_run()

    @work(thread=True, exclusive=True, group="fix", exit_on_error=False)
    def _dry_run(self) -> None:
        try:
            result = self.applier.dry_run(self.plan, self.preview)
        except Exception as e:  # noqa: BLE001 - the screen says what failed instead of waiting
            self.app.call_from_thread(self._stop, _failed(e, "Dry run failed"))
            return
        self.app.call_from_thread(self._show_dry_run, result)

    def _show_dry_run(self, result) -> None:
        from gputui.fixes.diff import diff_renderable

        self.dry = result
        head = Text("4 Server dry run", style="bold underline")
        if result.conflict:
            self._show("dryrun", Group(head, Text(result.message, style="yellow")))
            self._set_state("reading", "The object changed: reading it again…")
            self._read_preview("The object changed since the preview; this is the new diff.")
            return
        if not result.ok:
            self._show("dryrun", Group(head, Text("✗ " + result.message, style="bold red")))
            self._stop("The API server rejected the change; nothing was applied.")
            return
        parts: list = [head, Text("✓ " + result.message, style="green")]
        if result.diff and (self.preview is None or result.diff != self.preview.diff):
            parts.append(Text("The server's result:", style="dim"))
            parts.append(diff_renderable(result.diff))
        self._show("dryrun", Group(*parts))
        self._ask_first_confirmation()

    # -- step 5: confirm --------------------------------------------------------------------

    def _ask_first_confirmation(self) -> None:
        self._show(
            "confirm",
            Group(
                Text("5 Confirm", style="bold underline"),
                Text(f"Apply “{self.plan.title}” to {self.plan.target} on {self._where()}?"),
            ),
        )
        self._set_state("ready", f"Press y to apply this change to {self.plan.target}, escape to leave it.")

    def action_confirm(self) -> None:
        if self.state != "ready":
            return
        if self.plan.disruptive:
            t = Text()
            t.append("This fix is DISRUPTIVE. ", style="bold red")
            t.append(self.plan.description or "It restarts or removes running things.")
            self._show("confirm", Group(Text("5 Confirm", style="bold underline"), t))
            self._set_state(
                "confirm-disruptive",
                f"Second confirmation: press a to apply the disruptive change to {self.plan.target}, "
                "escape to leave it.",
                "danger",
            )
            return
        self._apply()

    def action_apply_disruptive(self) -> None:
        if self.state == "confirm-disruptive":
            self._apply()

    # -- step 6: apply ----------------------------------------------------------------------

    def _apply(self) -> None:
        if self.preview is None:  # confirm is only offered once the preview is read
            return
        how = "twice (disruptive)" if self.plan.disruptive else "once"
        self._show(
            "confirm",
            Group(
                Text("5 Confirm", style="bold underline"),
                Text(f"✓ confirmed {how}: “{self.plan.title}” on {self._where()}", style="green"),
            ),
        )
        self._set_state("applying", f"Applying to {self.plan.target}…")
        self._apply_worker(self.preview.resource_version)

    @work(thread=True, exclusive=True, group="fix", exit_on_error=False)
    def _apply_worker(self, resource_version: str) -> None:
        try:
            result = self.applier.apply(self.plan, resource_version, self.preview)
        except Exception as e:  # noqa: BLE001 - the screen says what failed instead of waiting
            self.app.call_from_thread(self._stop, _failed(e, "Apply failed"))
            return
        self.app.call_from_thread(self._show_apply, result)

    def _show_apply(self, result) -> None:
        self.result = result
        head = Text("6 Apply", style="bold underline")
        if result.conflict:
            self._show("apply", Group(head, Text(result.message, style="yellow")))
            self._set_state("reading", "The object changed before the apply: reading it again…")
            self._read_preview(
                "The object changed before the apply; nothing was written. Review the new diff and confirm again."
            )
            return
        if not result.ok:
            self._show("apply", Group(head, Text("✗ " + result.message, style="bold red")))
            self._stop("The change was not applied.")
            return
        self._show("apply", Group(head, Text(f"✓ {result.message} (audit entry {result.entry_id})", style="green")))
        self.action_verify(force=True)

    # -- step 7: verify ---------------------------------------------------------------------

    def action_verify(self, force: bool = False) -> None:
        if not force and self.state != "verified":
            return
        self._set_state("verifying", "Reading the cluster again and re-running the check…")
        self._verify()

    @work(thread=True, exclusive=True, group="fix", exit_on_error=False)
    def _verify(self) -> None:
        from gputui.fixes.verify import verify

        try:
            v = verify(self.app.kube, self.finding, self.plan, before=self.preview.before if self.preview else None)
            terminating = self._terminating()
        except Exception as e:  # noqa: BLE001 - the screen says what failed instead of waiting
            self.app.call_from_thread(self._stop, _failed(e, "Verification failed"))
            return
        if terminating is not None:
            self.app.call_from_thread(self._show_terminating, terminating)
            return
        self.app.call_from_thread(self._show_verification, v)

    def _terminating(self) -> str | None:
        """For a delete: the object deleted still there with a deletionTimestamp (finalizers at
        work), as the words that say what it waits for; None once it is gone or replaced.
        (A deleted pod is judged by its replacement instead.)"""
        from gputui.fixes import plan as plans
        from gputui.fixes.targets import object_path
        from gputui.kube.errors import KubeApiError

        kube = self.app.kube
        if kube is None or not plans.is_delete(self.plan) or self.plan.target.kind == "Pod":
            return None
        try:
            current = kube.request("GET", object_path(self.plan.target)).json() or {}
        except KubeApiError as e:
            if e.status == 404:
                return None
            raise
        md = current.get("metadata") or {}
        before = ((self.preview.before if self.preview else None) or {}).get("metadata") or {}
        if not md.get("deletionTimestamp") or (before.get("uid") and md.get("uid") != before.get("uid")):
            return None
        finalizers = ", ".join(md.get("finalizers") or [])
        return f"waiting for finalizers {finalizers}" if finalizers else "waiting for the API server to remove it"

    def _show_terminating(self, waiting: str) -> None:
        self._show(
            "verify",
            Group(
                Text("7 Verify", style="bold underline"),
                Text(f"… {self.plan.target} is deleting (Terminating): {waiting}.", style="yellow"),
                Text(
                    "It is not gone yet: "
                    + (
                        "Karpenter drains the node and terminates the instance first."
                        if self.plan.target.kind == "NodeClaim"
                        else "its controllers finish first."
                    ),
                    style="dim",
                ),
            ),
        )
        self._set_state("terminating", f"deleting (Terminating)… {self.plan.target} is read again every few seconds.")
        self._wait_until_gone()

    @work(thread=True, exclusive=True, group="fix-wait", exit_on_error=False)
    def _wait_until_gone(self) -> None:
        import time

        from textual.worker import get_current_worker

        worker = get_current_worker()
        while not worker.is_cancelled:
            time.sleep(TERMINATING_POLL_SECONDS)
            if worker.is_cancelled:
                return
            try:
                if self._terminating() is None:
                    break
            except Exception:  # noqa: BLE001 - a failed read is retried at the next poll
                continue
        if not worker.is_cancelled:
            self.app.call_from_thread(self.action_verify, True)

    def _show_verification(self, v) -> None:
        self.verification = v
        self._show(
            "verify",
            Group(
                Text("7 Verify", style="bold underline"),
                Text(("✓ " if v.resolved else "… ") + v.message, style="bold green" if v.resolved else "yellow"),
            ),
        )
        if v.resolved:
            self._set_state("verified", "Fixed. escape: back · u: undo this change", "ok")
        else:
            self._set_state("verified", "Applied, not finished yet. v: verify again · u: undo · escape: back")
        self.app.refresh_data()  # the other screens show the cluster as it is now

    # -- undo of the change just made -------------------------------------------------------

    def action_undo_this(self) -> None:
        if self.state != "verified" or self.result is None or not self.result.entry_id:
            return
        self.app.push_screen(UndoScreen(select=self.result.entry_id))

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_copy_command(self) -> None:
        from gputui.tui.render import describe_command

        command = self.plan.kubectl or describe_command(self.plan.target)
        self.app.copy_to_clipboard(command)
        self.notify(command, title="Copied to the clipboard", timeout=4)

    def _where(self) -> str:
        kube = self.app.kube
        return f"context {kube.context}" if kube is not None and kube.context else "the current cluster"


class UndoScreen(AppScreen[None]):
    """The audit log's changes for this cluster, newest first; enter previews, y restores."""

    DEFAULT_CSS = """
    UndoScreen #undo-list { height: auto; max-height: 12; }
    UndoScreen #undo-body { padding: 0 1; }
    UndoScreen #undo-prompt { height: auto; padding: 0 1; background: $primary 20%; }
    UndoScreen #undo-prompt.-ok { background: $success 30%; }
    UndoScreen #undo-prompt.-danger { background: $error 30%; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="undo-back"),
        Binding("y", "confirm", "Undo it", id="undo-confirm"),
    ]

    def __init__(self, select: str | None = None) -> None:
        super().__init__()
        self.select = select
        self.entries: list = []
        self.undo_preview: UndoPreview | None = None
        self.state = "loading"
        self._applier: Applier | None = None

    @property
    def applier(self) -> Applier:
        """Made on first use, in the worker that first needs it (it reads the app's client)."""
        if self._applier is None:
            self._applier = _applier(self.app)
        return self._applier

    def compose(self) -> ComposeResult:
        yield Static(Text("Undo a change made from gputui", style="bold"), id="undo-title")
        yield OptionList(id="undo-list")
        with VerticalScroll(id="undo-body"):
            yield Static(id="undo-detail")
        yield Static(id="undo-prompt")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.app.read_only:
            self._prompt("Read-only mode: nothing can be undone.", "danger")
            return
        self._applier = _applier(self.app)
        self._load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return self.state == "previewed" and not self.app.read_only
        return True

    def _prompt(self, text: str, style: str = "") -> None:
        p = self.query_one("#undo-prompt", Static)
        p.update(Text(text))
        p.set_class(style == "ok", "-ok")
        p.set_class(style == "danger", "-danger")
        self.refresh_bindings()

    def _fill_list(self) -> None:
        self.entries = self.applier.undo_candidates() if self.applier.kube is not None else []
        note = self.applier.audit.skipped_note()
        if note:
            self.query_one("#undo-title", Static).update(
                Text.assemble(("Undo a change made from gputui", "bold"), (f"  ({note})", "yellow"))
            )
        ol = self.query_one("#undo-list", OptionList)
        ol.clear_options()
        for e in self.entries:
            ol.add_option(
                Option(Text.assemble((f"{e.time}  ", "dim"), e.title, (f"  {e.target_text}  [{e.id}]", "dim")), id=e.id)
            )

    def _load(self) -> None:
        self._fill_list()
        self.state = "listing"
        if not self.entries:
            self._prompt("Nothing to undo for this cluster.")
            return
        ol = self.query_one("#undo-list", OptionList)
        ol.focus()
        index = next((i for i, e in enumerate(self.entries) if e.id == self.select), 0)
        ol.highlighted = index
        self._prompt("enter: preview the undo of the highlighted change · escape: back")
        if self.select and self.entries[index].id == self.select:
            self._preview(self.select)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._preview(event.option.id)

    def _preview(self, entry_id: str) -> None:
        self.state = "loading"
        self._prompt("Reading the object as it is now…")
        self._preview_worker(entry_id)

    @work(thread=True, exclusive=True, group="undo", exit_on_error=False)
    def _preview_worker(self, entry_id: str) -> None:
        try:
            up = self.applier.preview_undo(entry_id)
        except Exception as e:  # noqa: BLE001 - the screen says what failed instead of waiting
            self.app.call_from_thread(self._refused, _failed(e))
            return
        self.app.call_from_thread(self._show_preview, up)

    def _refused(self, message: str) -> None:
        self.state = "listing"
        self.query_one("#undo-detail", Static).update(Text("✗ " + message, style="bold red"))
        self._prompt("This change cannot be undone from here. escape: back", "danger")

    def _show_preview(self, up) -> None:
        from gputui.fixes.diff import diff_renderable

        self.undo_preview = up
        parts: list = [
            Text(f"{up.entry.title}  ({up.entry.time}, audit entry {up.entry.id})", style="bold"),
            Text(f"Undo will {up.message}."),
        ]
        for w in up.warnings:
            parts.append(Text("⚠ " + w, style="yellow"))
        parts.append(diff_renderable(up.diff))
        self.query_one("#undo-detail", Static).update(Group(*parts))
        self.state = "previewed"
        self._prompt(f"Press y to {up.message}, escape to leave it.")

    def action_confirm(self) -> None:
        if self.state != "previewed" or self.undo_preview is None:
            return
        self.state = "undoing"
        self._prompt("Restoring…")
        self._undo_worker(self.undo_preview.entry.id, self.undo_preview.resource_version)

    @work(thread=True, exclusive=True, group="undo", exit_on_error=False)
    def _undo_worker(self, entry_id: str, resource_version: str | None) -> None:
        try:
            result = self.applier.undo(entry_id, expected_resource_version=resource_version)
        except Exception as e:  # noqa: BLE001 - the screen says what failed instead of waiting
            self.app.call_from_thread(self._refused, _failed(e))
            return
        self.app.call_from_thread(self._show_result, result)

    def _show_result(self, result) -> None:
        detail = self.query_one("#undo-detail", Static)
        if result.ok:
            detail.update(Text("✓ " + result.message, style="bold green"))
            self.state = "done"
            self._prompt("Undone. escape: back", "ok")
            self.app.refresh_data()
            self._fill_list()
        elif result.conflict:
            detail.update(Text(result.message, style="yellow"))
            if self.undo_preview is not None:
                self._preview(self.undo_preview.entry.id)
        else:
            self._refused(result.message)
