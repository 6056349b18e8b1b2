"""The guided NodePool editor: a form on the left, the live preview on the right, and a
save flow that shows the YAML diff, the schema check against the installed CRD and the
server's dry run before asking for confirmation.

NodePoolEditScreen(name) edits the live NodePool; NodePoolEditScreen(name, draft=obj)
starts a new one (from a template). Saving applies with a resourceVersion
precondition: when someone changed the NodePool meanwhile, the review opens again with
the same edits on the new object. Changes land in the audit log shared with the fix
screens (`u` opens undo). Every cluster call runs in a thread worker.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Input, Label, Static

from gputui.kube.errors import TransportTimeout
from gputui.nodepool.model import FIELDS, NodePoolDraft
from gputui.tui.screens.app_screen import AppModalScreen, AppScreen
from gputui.tui.widgets.footer import KeyFooter

_GROUP_TITLES = {
    "general": "NodePool",
    "requirements": "Requirements",
    "limits": "Limits",
    "disruption": "Disruption",
    "lifetime": "Node lifetime",
}


# A read the editor waits for is bounded: an API server that does not answer is said so in
# seconds, not after the client's 30 s per request.
READ_TIMEOUT = 5.0
SAVE_TIMEOUT = 10.0  # each request of a review or a save (schema, dry run, apply)


def _np_path(api_version: str, name: str) -> str:
    return f"/apis/{api_version}/nodepools/{name}"


class SaveReviewScreen(AppModalScreen[bool]):
    """The diff, the schema check and the dry run of one save; y confirms, escape goes back."""

    DEFAULT_CSS = """
    SaveReviewScreen { align: center middle; }
    SaveReviewScreen #review-box { width: 90%; height: 90%; border: thick $primary; background: $surface; }
    SaveReviewScreen #review-body { height: 1fr; padding: 0 1; }
    SaveReviewScreen #review-prompt { height: auto; padding: 0 1; background: $primary 20%; }
    SaveReviewScreen #review-prompt.-danger { background: $error 30%; }
    """
    BINDINGS = [
        Binding("y", "confirm", "Apply", id="review-confirm"),
        Binding("escape", "cancel", "Back to editing", id="review-cancel"),
    ]

    def __init__(self, review, note: str = "") -> None:
        super().__init__()
        self.review = review
        self.note = note

    def compose(self) -> ComposeResult:
        from rich.syntax import Syntax

        r = self.review
        parts: list = []
        title = f"{'Create' if r.creating else 'Save'} NodePool {r.draft.name}"
        parts.append(Text(title, style="bold"))
        if self.note:
            parts.append(Text(self.note, style="bold yellow"))
        if r.stale:
            parts.append(Text(r.stale, style="yellow"))
        parts.append(Text("Change", style="bold underline"))
        # Syntax keeps the YAML indentation of context lines that wrapped Text would drop.
        parts.append(Syntax(r.diff, "diff", background_color="default") if r.diff else Text("(no change)", style="dim"))
        parts.append(Text("Schema", style="bold underline"))
        for line in r.schema.lines():
            parts.append(Text(line, style="red" if line.startswith("error") else ""))
        parts.append(Text("Server dry run", style="bold underline"))
        parts.append(
            Text(("✓ " if r.dry_run_ok else "✗ ") + r.dry_run_message, style="green" if r.dry_run_ok else "bold red")
        )
        if r.gitops_warning:
            parts.append(Text(f"⚠ GitOps: {r.gitops_warning}", style="bold yellow"))
        if not r.creating and r.diff:
            parts.append(
                Text(
                    "Changing the template (requirements, taints, labels, node class, expireAfter) marks "
                    "existing nodes Drifted: Karpenter replaces them as the budgets allow.",
                    style="dim",
                )
            )
        with Vertical(id="review-box"):
            with VerticalScroll(id="review-body"):
                yield Static(Group(*parts), id="review-text")
            prompt = (
                f"Press y to apply to NodePool {r.draft.name}, escape to keep editing."
                if r.can_save
                else "This cannot be saved as it is: escape to keep editing."
            )
            yield Static(prompt, id="review-prompt", classes="" if r.can_save else "-danger")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return self.review.can_save and not self.app.read_only
        return True

    def action_confirm(self) -> None:
        if self.review.can_save:
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


# Live changes that redo the editor's preview: what the pool launches and where. Pods change all
# the time on a big cluster; the preview takes them as they were at the last of these changes.
_PREVIEW_READS = frozenset({"nodepools", "ec2nodeclasses", "nodeclaims", "nodes"})


class NodePoolEditScreen(AppScreen[None]):
    DEFAULT_CSS = """
    NodePoolEditScreen #np-title { height: auto; padding: 0 1; background: $panel; }
    NodePoolEditScreen #np-main { height: 1fr; }
    NodePoolEditScreen #np-form { width: 72; padding: 0 1; border-right: solid $panel-lighten-2; }
    NodePoolEditScreen #np-preview-pane { width: 1fr; padding: 0 1; }
    NodePoolEditScreen .np-group { text-style: bold underline; margin-top: 1; }
    NodePoolEditScreen .np-row { height: 3; }
    NodePoolEditScreen .np-label { width: 19; padding: 1 1 0 0; }
    NodePoolEditScreen .np-input { width: 1fr; }
    NodePoolEditScreen .np-input.-invalid { border: tall $error; }
    NodePoolEditScreen .np-error { color: $error; height: auto; }
    NodePoolEditScreen .np-error.-hidden { display: none; }
    NodePoolEditScreen #np-prompt { height: auto; padding: 0 1; background: $primary 20%; }
    NodePoolEditScreen #np-prompt.-ok { background: $success 30%; }
    NodePoolEditScreen #np-prompt.-danger { background: $error 30%; }
    /* Below 100 columns the preview goes under the form, each with the full width, and the
       fields drop their tall borders so more of them fit. */
    NodePoolEditScreen.-narrow #np-main { layout: vertical; }
    NodePoolEditScreen.-narrow #np-form {
        width: 1fr; height: 1fr; border-right: none; border-bottom: solid $panel-lighten-2;
    }
    NodePoolEditScreen.-narrow #np-preview-pane { width: 1fr; height: 1fr; }
    NodePoolEditScreen.-narrow .np-group { margin-top: 0; }
    NodePoolEditScreen.-narrow .np-row { height: 1; }
    NodePoolEditScreen.-narrow .np-label { padding: 0 1 0 0; }
    NodePoolEditScreen.-narrow .np-input { border: none; height: 1; padding: 0 1; }
    NodePoolEditScreen.-narrow .np-input:focus { background: $primary 30%; }
    NodePoolEditScreen.-narrow .np-input.-invalid { border: none; background: $error 40%; }
    """
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("ctrl+s", "review", "Save…", id="np-save", priority=True),
        Binding("ctrl+r", "revert", "Revert edits", id="np-revert", priority=True),
        Binding("ctrl+u", "undo", "Undo log", id="np-undo", priority=True),
        Binding("escape", "close", "Back", id="np-back"),
        Binding("r", "retry", "Retry", id="np-retry"),
    ]

    def __init__(self, name: str, draft: dict | None = None) -> None:
        super().__init__()
        self.nodepool_name = name
        self.initial = draft
        self.creating = draft is not None
        self.draft: NodePoolDraft | None = None
        self.state = "loading"  # loading | unreachable | editing | reviewing | saving | saved | failed
        self.invalid: dict[str, str] = {}
        self.last_review = None
        self.last_result = None
        self._saver = None
        self._preview_timer: Timer | None = None
        self.preview = None
        self._leave_armed = False  # escape pressed once with unsaved edits

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text(f"NodePool {self.nodepool_name}", style="bold"), id="np-title")
        with Horizontal(id="np-main"):
            with VerticalScroll(id="np-form"):
                group = None
                for f in FIELDS:
                    if f.group != group:
                        group = f.group
                        yield Label(_GROUP_TITLES[group], classes="np-group")
                    with Horizontal(classes="np-row"):
                        yield Label(f.label, classes="np-label")
                        yield Input(
                            id=f"np-{f.id}", classes="np-input", placeholder=f.help, tooltip=f.help, disabled=True
                        )
                    yield Static(id=f"np-err-{f.id}", classes="np-error -hidden")
            with VerticalScroll(id="np-preview-pane"):
                yield Static("Reading the NodePool…", id="np-preview")
        yield Static(id="np-prompt")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.app.read_only:  # the app does not open the editor read-only; refuse anyway
            self._prompt("Read-only mode: NodePools are not edited here.  (escape: back)", "danger")
            self.state = "failed"
            return
        self._prompt("Reading the NodePool…")
        if self.creating:
            self._start(NodePoolDraft(self.initial or {}))
            return
        self._wait_for_connection()

    def _wait_for_connection(self) -> None:
        if self.state != "loading":
            return
        if getattr(self.app, "kube", None) is None:
            error = getattr(self.app, "gather_error", None)
            if error is not None:  # the app could not connect at all
                self._unreachable(getattr(error, "message", str(error)))
                return
            self.set_timer(0.2, self._wait_for_connection)
            return
        self._load()

    def _unreachable(self, message: str) -> None:
        self.state = "unreachable"
        text = Text("cannot reach the API server\n", style="bold red")
        text.append(message + "\n\n")
        text.append("r: retry · escape: back", style="bold")
        self.query_one("#np-preview", Static).update(text)
        self._prompt("Cannot reach the API server: r retries, escape goes back.", "danger")
        self.refresh_bindings()

    def action_retry(self) -> None:
        if self.state != "unreachable":
            return
        self.state = "loading"
        self.query_one("#np-preview", Static).update("Reading the NodePool…")
        self._prompt("Reading the NodePool…")
        self.refresh_bindings()
        if getattr(self.app, "kube", None) is None:
            refresh = getattr(self.app, "refresh_data", None)
            if refresh is not None:
                refresh()  # connect again
            self.set_timer(0.5, self._wait_for_connection)
            return
        self._load()

    # -- loading --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="np-io", exit_on_error=False)
    def _load(self) -> None:
        from gputui.kube.errors import KubeApiError

        kube = self.app.kube
        if kube is None:  # only started once connected
            return
        last_error = None
        for api in self._api_versions():
            try:
                obj = kube.request("GET", _np_path(api, self.nodepool_name), timeout=READ_TIMEOUT).json()
            except KubeApiError as e:
                last_error = e
                continue
            except Exception as e:  # noqa: BLE001 - no answer (refused, timed out): say so, offer a retry
                self.app.call_from_thread(self._unreachable, _no_answer(e))
                return
            obj.setdefault("apiVersion", api)
            obj.setdefault("kind", "NodePool")
            self.app.call_from_thread(self._start, NodePoolDraft(obj))
            return
        why = "does not exist" if getattr(last_error, "status", None) == 404 else f"cannot be read: {last_error}"
        self.app.call_from_thread(self._fail, f"NodePool {self.nodepool_name} {why}.")

    def _api_versions(self) -> list[str]:
        snap = getattr(self.app, "snapshot", None)
        served = getattr(snap, "karpenter_api_version", None) if snap is not None else None
        versions = ["karpenter.sh/v1", "karpenter.sh/v1beta1"]
        if served in versions:
            versions.remove(served)
            versions.insert(0, served)
        return versions

    def _fail(self, message: str) -> None:
        self.state = "failed"
        self.query_one("#np-preview", Static).update(Text(message, style="bold red"))
        self._prompt(message + "  (escape: back)", "danger")
        self.refresh_bindings()

    def _start(self, draft: NodePoolDraft) -> None:
        self.draft = draft
        title = Text()
        title.append(("New NodePool " if self.creating else "Edit NodePool ") + draft.name, style="bold")
        title.append(f"   {draft.api_version}", style="dim")
        if draft.is_v1beta1:
            title.append("   v1beta1: edited as v1beta1; the preview lists what v1 would change", style="yellow")
        self.query_one("#np-title", Static).update(title)
        self._fill_form()
        self.state = "editing"
        self._prompt("Edit the fields; the preview follows. ctrl+s: review (diff, schema, dry run).")
        self.refresh_bindings()
        self._schedule_preview()

    def _fill_form(self) -> None:
        draft = self.draft
        if draft is None:
            return
        for f in FIELDS:
            w = self.query_one(f"#np-{f.id}", Input)
            w.value = draft.get_text(f.id)
            w.disabled = f.id == "termination_grace_period" and draft.is_v1beta1
            w.remove_class("-invalid")
            self.query_one(f"#np-err-{f.id}", Static).add_class("-hidden")
        self.invalid.clear()

    # -- editing ----------------------------------------------------------------------------

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        if self.draft is None or not (event.input.id or "").startswith("np-"):
            return
        field_id = (event.input.id or "")[3:]
        err = self.query_one(f"#np-err-{field_id}", Static)
        if event.value == self.draft.get_text(field_id) and field_id not in self.invalid:
            return  # the form being filled from the draft, or a no-op edit: parsing it could only reshape it
        self._leave_armed = False
        try:
            self.draft.set_text(field_id, event.value)
        except ValueError as e:
            self.invalid[field_id] = str(e)
            event.input.add_class("-invalid")
            err.update(str(e))
            err.remove_class("-hidden")
        else:
            self.invalid.pop(field_id, None)
            event.input.remove_class("-invalid")
            err.add_class("-hidden")
        self._schedule_preview()

    def set_field(self, field_id: str, text: str) -> None:
        """Type into one field (what a person does; tests and the command palette use it)."""
        self.query_one(f"#np-{field_id}", Input).value = text

    def _schedule_preview(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(0.15, self._compute_preview)

    def _compute_preview(self) -> None:
        if self.draft is not None:
            self._preview(dict(self.draft.obj))

    @work(thread=True, exclusive=True, group="np-preview", exit_on_error=False)
    def _preview(self, obj: dict) -> None:
        import copy

        from gputui.nodepool.preview import build_preview

        p = build_preview(copy.deepcopy(obj), getattr(self.app, "snapshot", None))
        self.app.call_from_thread(self._show_preview, p)

    def _show_preview(self, p) -> None:
        from gputui.nodepool.preview import preview_lines

        self.preview = p
        text = Text()
        for line in preview_lines(p, max_types=20):
            style = ""
            if line.lstrip().startswith("ERROR"):
                style = "bold red"
            elif line.lstrip().startswith("WARNING"):
                style = "yellow"
            elif not line.startswith(" "):
                style = "bold"
            text.append(line + "\n", style=style)
        if self.invalid:
            text.append("\nNot applied to the draft (fix these fields):\n", style="bold red")
            for msg in self.invalid.values():
                text.append(f"  {msg}\n", style="red")
        self.query_one("#np-preview", Static).update(text)

    def on_snapshot_ready(self, message) -> None:
        if self.draft is None or self.state not in ("editing", "saved"):
            return
        change = getattr(message, "change", None)
        if change is not None and change.resources and not (change.resources & _PREVIEW_READS):
            return  # a live change the preview does not depend on
        self._schedule_preview()

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return self.state == "unreachable"
        if action in ("review", "revert", "undo"):
            if self.app.read_only:
                return False
            if action == "review":
                return self.state in ("editing", "saved")
            if action == "revert":
                return self.state in ("editing", "saved") and self.draft is not None and self.draft.changed
        return True

    def action_close(self) -> None:
        unsaved = self.draft is not None and self.draft.changed and self.state == "editing"
        if unsaved and not self._leave_armed:
            self._leave_armed = True
            self._prompt("Unsaved edits: escape again to discard them, ctrl+s to review and save.", "danger")
            return
        self.app.pop_screen()

    def action_undo(self) -> None:
        self.app.open_undo()

    def action_revert(self) -> None:
        if self.draft is None:
            return
        self.draft = NodePoolDraft(self.draft.original)
        self._fill_form()
        self._schedule_preview()
        self._prompt("Edits reverted.")
        self.refresh_bindings()

    def action_review(self, note: str = "") -> None:
        if self.draft is None or self.state not in ("editing", "saved"):
            return
        if self.invalid:
            self._prompt("Fix the fields marked in red first: " + "; ".join(self.invalid.values()), "danger")
            return
        self.state = "reviewing"
        self._prompt("Reading the live NodePool, checking the schema and asking the API server (dry run)…")
        self.refresh_bindings()
        self._review(note)

    def _get_saver(self):
        if self._saver is None:
            from gputui.kube.client import KubeClient
            from gputui.nodepool.save import NodePoolSaver

            # Its own client, each request bounded: a save against a server that stopped
            # answering says so in seconds instead of waiting the app's per-request timeout.
            kube = self.app.kube
            timeout = kube.request_timeout if 0 < kube.request_timeout < SAVE_TIMEOUT else SAVE_TIMEOUT
            self._saver = NodePoolSaver(KubeClient(kube.config, timeout), read_only=self.app.read_only)
        return self._saver

    def on_unmount(self) -> None:
        if self._saver is not None:
            self._saver.kube.close()

    @work(thread=True, exclusive=True, group="np-io", exit_on_error=False)
    def _review(self, note: str) -> None:
        from gputui.errors import GputuiError

        try:
            review = self._get_saver().review(self.draft)
        except GputuiError as e:
            self.app.call_from_thread(self._back_to_editing, f"Cannot review the change: {e.message}", "danger")
            return
        except TransportTimeout as e:
            self.app.call_from_thread(self._back_to_editing, f"Cannot review the change: {_no_answer(e)}", "danger")
            return
        self.app.call_from_thread(self._show_review, review, note)

    def _show_review(self, review, note: str) -> None:
        self.last_review = review
        self._prompt("Review the change: y applies it, escape returns to the form.")

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self.state = "saving"
                self._prompt(f"Applying to NodePool {self.draft.name if self.draft else self.nodepool_name}…")
                self.refresh_bindings()
                self._save(review)
            else:
                self._back_to_editing("Not saved. Keep editing, or ctrl+s to review again.")

        self.app.push_screen(SaveReviewScreen(review, note), decided)

    @work(thread=True, exclusive=True, group="np-io", exit_on_error=False)
    def _save(self, review) -> None:
        from gputui.errors import GputuiError

        try:
            result = self._get_saver().save(review)
        except GputuiError as e:
            self.app.call_from_thread(self._back_to_editing, f"Not saved: {e.message}", "danger")
            return
        except TransportTimeout as e:
            self.app.call_from_thread(
                self._back_to_editing, f"Not saved, or not confirmed: {_no_answer(e)} (ctrl+u shows the log)", "danger"
            )
            return
        self.app.call_from_thread(self._saved, result)

    def _saved(self, result) -> None:
        self.last_result = result
        if result.conflict:
            self.state = "editing"
            self.action_review(
                note="The NodePool changed while you were reviewing: this is the new diff, with your "
                "edits on top of the current object."
            )
            return
        if not result.ok:
            self._back_to_editing(f"Not saved: {result.message}", "danger")
            return
        draft = self.draft
        if draft is None:
            return
        after = result.after or draft.obj
        after.setdefault("apiVersion", draft.api_version)
        after.setdefault("kind", "NodePool")
        self.creating = False
        self.draft = NodePoolDraft(after)
        self._fill_form()
        self.state = "saved"
        self._prompt(f"Saved: {result.message}. It is in the audit log (ctrl+u to undo).", "ok")
        self.refresh_bindings()
        refresh = getattr(self.app, "refresh_data", None)
        if refresh is not None:
            refresh()

    def _back_to_editing(self, message: str, style: str = "") -> None:
        self.state = "editing"
        self._prompt(message, style)
        self.refresh_bindings()

    def _prompt(self, text: str, style: str = "") -> None:
        p = self.query_one("#np-prompt", Static)
        p.update(Text(text))
        p.set_class(style == "ok", "-ok")
        p.set_class(style == "danger", "-danger")


def _no_answer(e: Exception) -> str:
    """One line for a request that got no HTTP answer."""
    message = getattr(e, "message", None) or str(e)
    hint = getattr(e, "hint", None)
    return f"{message} ({hint})" if hint else message
