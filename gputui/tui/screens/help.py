"""`?`: every key of every screen, in one modal, generated from the bindings themselves (the
app's, each screen's and each table's BINDINGS), so a key added anywhere is listed here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from gputui.tui.screens.app_screen import AppModalScreen

# What each group is called; a screen not named here is listed under its class name.
TITLES = {
    "GputuiApp": "Everywhere",
    "FleetScreen": "Fleet screen (findings, GPU nodes, NodePools, GPU Operator)",
    "ResourceScreen": "Resource views (:pods, :pending, :nodes, :nodeclaims, :nodepools, :events)",
    "CommandScreen": ": command",
    "FindingScreen": "Finding",
    "ObjectScreen": "Object (node, pod, NodeClaim, NodePool, ...)",
    "FixScreen": "Fix",
    "UndoScreen": "Undo",
    "DebugScreen": "nvidia-smi debug pods",
    "NodePoolEditScreen": "NodePool editor",
    "SaveReviewScreen": "NodePool editor: review",
    "ContextScreen": "Contexts",
    "ConfirmScreen": "Confirmation",
    "HelpScreen": "This help",
    "NodeTable": "GPU node table",
    "ResourceTable": "Other tables (shift+letter sorts by that column, again reverses)",
    "FilterInput": "/ filter (the tab or view title shows shown/total)",
}
# Keys no BINDINGS entry carries: Textual's own, and what tables and buttons do.
EXTRA = {
    "GputuiApp": [("ctrl+p", "command palette: every action by name"), ("esc", "back to the previous screen")],
    "ResourceTable": [
        ("enter / click", "open the selected row (clicking a header sorts by it)"),
        ("up / down / pgup / pgdn", "move"),
    ],
    "FindingScreen": [("tab", "move to the text and the fix buttons")],
}
KEY_NAMES = {"question_mark": "?", "slash": "/", "colon": ":", "escape": "esc"}
MUTATING = ("undo", "debug_all", "debug_node", "edit_nodepool", "walk_through")


def key_text(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    return " / ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))


def screen_classes() -> list[type]:
    """Every Screen class defined in gputui.tui.screens that binds keys, in module order."""
    import gputui.tui.screens as pkg

    found: list[type] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__ and own_bindings(cls):
                found.append(cls)
    return found


def table_classes() -> list[type]:
    from gputui.tui.widgets.filter_input import FilterInput
    from gputui.tui.widgets.node_table import NodeTable
    from gputui.tui.widgets.resource_table import ResourceTable

    return [NodeTable, ResourceTable, FilterInput]


def own_bindings(cls: type) -> list[Binding]:
    return [b for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding)]


def key_groups(read_only: bool = False) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group title, [(keys, what they do)]): the app's keys first, then each screen's, then the tables'."""
    from gputui.tui.app import GputuiApp

    order = ["FleetScreen", "ResourceScreen", "CommandScreen", "FindingScreen", "ObjectScreen"]
    screens = sorted(screen_classes(), key=lambda c: order.index(c.__name__) if c.__name__ in order else len(order))
    groups: list[tuple[str, list[Binding], str]] = [("GputuiApp", own_bindings(GputuiApp), "GputuiApp")]
    groups += [(c.__name__, own_bindings(c), c.__name__) for c in screens]
    groups += [(c.__name__, own_bindings(c), c.__name__) for c in table_classes()]
    out = []
    for name, bindings, _ in groups:
        rows: list[tuple[str, str]] = []
        for b in bindings:
            what = _sentence(b.tooltip or b.description or b.action)
            if b.action.split(".")[-1] in MUTATING:
                if read_only:
                    continue
                what += " (not in --read-only)"
            rows.append((key_text(b), what))
        rows += EXTRA.get(name, [])
        if rows:
            out.append((TITLES.get(name, name), rows))
    return out


def _sentence(text: str) -> str:
    """'Read the cluster again' -> 'read the cluster again'; names (NodePools, GPU) keep their case."""
    word = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if word[1:] == word[1:].lower() else text


class HelpScreen(AppModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        overflow: hidden;
    }
    HelpScreen > #help-frame {
        width: 90%;
        max-width: 90;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen VerticalScroll {
        scrollbar-size-vertical: 1;
    }
    """
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-frame"):
            yield Static(Text("gputui — keys (escape closes; arrows scroll)", style="bold"), id="help-title")
            with VerticalScroll():
                yield Static(_keys_table(getattr(self.app, "read_only", False)), id="help-keys")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)


def _keys_table(read_only: bool) -> Group:
    """One titled table per group: the titles take the whole width, the keys a column of their own."""
    parts: list = []
    for section, rows in key_groups(read_only):
        parts.append(Text(section, style="bold underline"))
        table = Table(show_header=False, box=None, pad_edge=False, expand=True)
        table.add_column("key", style="bold cyan", no_wrap=True, width=17)
        table.add_column("what")
        for key, what in rows:
            table.add_row(key, what)
        parts += [table, Text("")]
    if read_only:
        parts.append(Text.assemble(("read-only", "bold yellow"), "  no action that changes the cluster is offered"))
    return Group(*parts)
