"""One finding: what is wrong, the objects involved, the evidence, the check's explanation
and the fixes (each with a walk-through, unless read-only)."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from gputui.tui.gather_messages import SnapshotReady
from gputui.tui.render import SEVERITY_STYLE, describe_command, ref_text
from gputui.tui.screens.app_screen import AppScreen
from gputui.tui.widgets.footer import KeyFooter


class FindingScreen(AppScreen[None]):
    DEFAULT_CSS = """
    FindingScreen #finding-body {
        padding: 0 1;
    }
    FindingScreen .section-title {
        margin-top: 1;
        text-style: bold underline;
    }
    FindingScreen #finding-objects {
        height: auto;
        max-height: 8;
        border: none;
    }
    FindingScreen .fix {
        height: auto;
        margin-bottom: 1;
    }
    FindingScreen .fix-title {
        background: $primary 25%;
    }
    FindingScreen .fix.-disruptive .fix-title {
        background: $error 30%;
    }
    FindingScreen .command {
        padding: 0;
        text-style: bold;
    }
    FindingScreen #finding-gone {
        display: none;
        background: $success 30%;
        padding: 0 1;
    }
    FindingScreen.-gone #finding-gone {
        display: block;
    }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("w", "walk_through", "Walk through fix", id="walk-through"),
        Binding("c,y", "copy_command", "Copy command", id="copy-command"),
    ]

    def __init__(self, finding) -> None:
        super().__init__()
        self.finding = finding
        # Subject first, then each related object once (checks may repeat the subject there).
        self.objects = list(dict.fromkeys([finding.subject, *finding.related]))
        # The finding this one follows from, or those that follow from it (found in compose).
        self.cause = None
        self.following: list = []

    def compose(self) -> ComposeResult:
        f = self.finding
        findings = getattr(self.app, "findings", None) or []
        self.cause = next((x for x in findings if f.cause and x.id == f.cause), None)
        self.following = [x for x in findings if x.cause and x.cause == f.id]
        yield Static(Text("This finding is gone from the latest gathering.", style="bold"), id="finding-gone")
        with VerticalScroll(id="finding-body"):
            head = Text()
            head.append(f"{f.severity.label.upper()} ", style=SEVERITY_STYLE[f.severity])
            head.append(f"{f.code} {f.name}", style="bold")
            head.append(f"  ({f.area})", style="dim")
            yield Static(Group(head, Text(f.title, style="bold italic")), id="finding-title")
            yield Static(Text(f.message), id="finding-message")
            yield Static("Objects (enter opens)", classes="section-title")
            options = [
                Option(
                    Text.assemble(("subject  ", "dim"), ref_text(r))
                    if i == 0
                    else Text.assemble(("related  ", "dim"), ref_text(r)),
                    id=str(i),
                )
                for i, r in enumerate(self.objects)
            ]
            if self.cause is not None:
                label = Text.assemble(("because of  ", "bold"), f"{self.cause.code} ", ref_text(self.cause.subject))
                options.insert(1, Option(label, id="cause"))
            for i, x in enumerate(self.following):
                options.append(
                    Option(Text.assemble(("leads to  ", "dim"), f"{x.code} ", ref_text(x.subject)), id=f"f{i}")
                )
            yield OptionList(*options, id="finding-objects")
            yield Static("Evidence", classes="section-title")
            yield Static(
                _bullets(f.evidence) if f.evidence else Text("none recorded", style="dim"), id="finding-evidence"
            )
            yield Static(f"Fixes ({len(f.fixes)})", classes="section-title")
            if not f.fixes:
                yield Static(Text("No automatic fix; see How to fix above.", style="dim"))
            for i, plan in enumerate(f.fixes):
                with Vertical(classes="fix -disruptive" if plan.disruptive else "fix", id=f"fix-{i}"):
                    yield Static(_fix_title(plan), classes="fix-title")
                    yield Static(_fix_text(plan), classes="fix-text")
                    if plan.kubectl:
                        # Unboxed, on lines of its own: a terminal selection takes the command and nothing else.
                        yield Static(Text(plan.kubectl), classes="command")
                    if not self.app.read_only:
                        yield Button(
                            f"Walk through: {plan.title}",
                            id=f"walk-{i}",
                            variant="error" if plan.disruptive else "primary",
                            compact=True,
                        )
            yield Static("Explanation", classes="section-title")
            yield Static(_explanation(f.code), id="finding-explanation")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#finding-objects", OptionList).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "walk_through":
            return not (self.app.read_only or not self.finding.fixes)
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "cause" and self.cause is not None:
            self.app.open_finding(self.cause)
            return
        if event.option.id and event.option.id.startswith("f"):
            self.app.open_finding(self.following[int(event.option.id[1:])])
            return
        i = int(event.option.id or 0)
        if 0 <= i < len(self.objects):
            self.app.open_object(self.objects[i])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("walk-"):
            self.app.open_fix(self.finding, self.finding.fixes[int(event.button.id[5:])])

    def action_walk_through(self) -> None:
        if self.finding.fixes:
            self.app.open_fix(self.finding, self.finding.fixes[0])

    def command_to_copy(self) -> str:
        """The kubectl equivalent of the fix whose button has focus (else of the first fix), or,
        without fixes, the command that shows the subject."""
        focused = self.focused
        plans = self.finding.fixes
        if focused is not None and (focused.id or "").startswith("walk-"):
            plans = [plans[int((focused.id or "")[5:])], *plans]
        for plan in plans:
            if plan.kubectl:
                return plan.kubectl
        return describe_command(self.finding.subject)

    def action_copy_command(self) -> None:
        command = self.command_to_copy()
        self.app.copy_to_clipboard(command)
        self.notify(command, title="Copied to the clipboard", timeout=4)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        key = _identity(self.finding)
        self.set_class(not any(_identity(f) == key for f in message.findings), "-gone")


def _identity(f) -> tuple:
    return (f.code, f.subject.kind, f.subject.namespace or "", f.subject.name)


def _bullets(lines: list[str]):
    """One bullet per line, wrapped lines indented under their text (not under the bullet)."""
    from rich.table import Table

    grid = Table.grid(padding=0)
    grid.add_column(width=2, style="dim")
    grid.add_column(ratio=1)
    for line in lines:
        grid.add_row("•", Text(line))
    return grid


def _explanation(code: str) -> Text:
    from checks.registry import REGISTRY
    from gputui.report.catalogue import all_checks, explanation

    all_checks()
    c = REGISTRY.find(code)
    if c is None:
        return Text("no documentation for this check", style="dim")
    return explanation(c, width=None)  # the widget wraps the paragraphs to its own width


def _fix_title(plan) -> Text:
    head = Text()
    head.append(plan.title, style="bold")
    if plan.disruptive:
        head.append("  DISRUPTIVE", style="bold red")
    return head


def _fix_text(plan) -> Group:
    parts: list = [Text(f"target {ref_text(plan.target)} ({plan.patch_type})", style="dim")]
    if plan.description:
        parts.append(Text(plan.description))
    if plan.gitops_warning:
        parts.append(Text(f"⚠ {plan.gitops_warning}", style="yellow"))
    if plan.kubectl:
        parts.append(Text("kubectl equivalent (c copies it):", style="dim"))
    return Group(*parts)
