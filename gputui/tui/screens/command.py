"""`:` command mode, as in k9s: type a resource view's name or alias (`:po`, `:no`, `:nc`,
`:np`, `:ev`, `:pending`); the views that match are listed as you type, tab completes to
the highlighted one, up/down move through them, enter opens, escape cancels."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from gputui.tui.screens.app_screen import AppModalScreen
from gputui.tui.screens.resource_view import ALIASES, VIEWS, resolve


def matching(text: str) -> list[str]:
    """The views whose name or an alias starts with `text` (all of them for nothing typed)."""
    word = text.strip().lstrip(":").lower()
    return [name for name, v in VIEWS.items() if any(a.startswith(word) for a in (name, *v.aliases))]


class CommandScreen(AppModalScreen[str | None]):
    DEFAULT_CSS = """
    CommandScreen {
        align: center top;
        background: $background 50%;
    }
    CommandScreen > #command-frame {
        width: 100%;
        max-width: 60;
        height: auto;
        margin-top: 1;
        border: round $accent;
        background: $surface;
    }
    CommandScreen Input, CommandScreen Input:focus {
        border: none;
        height: 1;
        padding: 0 1;
    }
    CommandScreen OptionList {
        height: auto;
        max-height: 8;
        border: none;
    }
    CommandScreen #command-hint {
        color: $text-muted;
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="command-cancel"),
        Binding("tab", "complete", "Complete", id="command-complete", priority=True),
        Binding("down", "move(1)", "Next", show=False, id="command-next", priority=True),
        Binding("up", "move(-1)", "Previous", show=False, id="command-previous", priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="command-frame"):
            yield Input(
                placeholder="pods, pending, nodes, nodeclaims, nodepools, events",
                suggester=SuggestFromList(sorted(ALIASES, key=len), case_sensitive=False),
                compact=True,
                id="command-input",
            )
            yield OptionList(id="command-options")
            yield Static("tab: complete  enter: open  esc: cancel", id="command-hint")

    def on_mount(self) -> None:
        self._list("")
        self.query_one(Input).focus()

    def _list(self, text: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        for name in matching(text):
            v = VIEWS[name]
            label = Text.assemble((f":{name}", "bold"), (f"  {', '.join(a for a in v.aliases if a != name)}", "dim"))
            label.append(f"  {v.title}", style="italic")
            options.add_option(Option(label, id=name))
        if options.option_count:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self._list(event.value)

    def _highlighted(self) -> str | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not options.option_count:
            return None
        return options.get_option_at_index(options.highlighted).id

    def action_complete(self) -> None:
        name = self._highlighted()
        if name:
            box = self.query_one(Input)
            box.value = name
            box.cursor_position = len(name)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = ((options.highlighted or 0) + step) % options.option_count

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        view = resolve(event.value) or (self._highlighted() if event.value.strip() == "" else None)
        if view is None and matching(event.value):
            view = self._highlighted()
        if view is None:
            self.notify(f"no resource view named {event.value.strip()!r}", severity="warning", timeout=4)
            return
        self.dismiss(view)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
