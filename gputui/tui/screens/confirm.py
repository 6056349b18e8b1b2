"""A yes/no question before the app changes the cluster (privileged debug pods first among
them). The answer defaults to No: enter on the dialog as it opens, escape and `n` all decline."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from gputui.tui.screens.app_screen import AppModalScreen


class ConfirmScreen(AppModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > #confirm-frame {
        width: 90%;
        max-width: 76;
        height: auto;
        max-height: 90%;
        border: round $warning;
        background: $surface;
        padding: 0 1;
    }
    ConfirmScreen #confirm-title {
        text-style: bold;
        margin-bottom: 1;
    }
    ConfirmScreen #confirm-body {
        height: auto;
    }
    ConfirmScreen #confirm-buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    ConfirmScreen Button {
        margin-left: 2;
        min-width: 10;
    }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(self, title: str, body: Text | str, yes: str = "Yes") -> None:
        super().__init__()
        self.question, self.body, self.yes = title, body, yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-frame"):
            yield Static(Text(self.question), id="confirm-title")
            yield Static(self.body, id="confirm-body")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", id="confirm-yes", variant="warning")
                yield Button("No (n)", id="confirm-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def debug_question(nodes: list[str], namespace: str, reason: str, modes: list[str]) -> tuple[str, Text]:
    """The question asked before debug pods start: how many, on which nodes, in which namespace,
    in which modes (all but `runtime` run privileged, with the host's driver mounted)."""
    count = len(nodes)
    privileged = sum(1 for m in modes if m != "runtime") if modes else count
    title = f"Start {count} debug pod{'s' if count != 1 else ''} to run nvidia-smi?"
    body = Text()
    body.append("nodes      ", style="dim")
    shown = ", ".join(n.split(".")[0] for n in nodes[:4])
    body.append(shown + (f" and {count - 4} more" if count > 4 else "") + "\n")
    body.append("namespace  ", style="dim")
    body.append(namespace, style="bold")
    body.append(f" ({reason})\n", style="dim")
    body.append("mode       ", style="dim")
    if modes:
        counts = {m: modes.count(m) for m in dict.fromkeys(modes)}
        body.append(", ".join(f"{m} ×{n}" for m, n in counts.items()))
    else:
        body.append("chosen per node when the pods start")
    body.append("\n")
    body.append("privileged ", style="dim")
    body.append(f"{privileged} of {count}", style="bold red" if privileged else "")
    body.append(" (hostPath mount of the driver, chroot)\n" if privileged else "\n", style="dim")
    body.append("\nEach pod is deleted when its run ends; its deadline removes it even if gputui dies.", style="dim")
    return title, body
