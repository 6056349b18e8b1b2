"""`?`: the keys and screens, in one modal."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Everywhere",
        [
            ("r", "read the cluster again and re-run the checks"),
            ("c", "switch kubeconfig context"),
            ("ctrl+p", "command palette: every action by name"),
            ("u", "undo a change made from gputui (not in --read-only)"),
            ("escape", "back to the previous screen"),
            ("?", "this help"),
            ("q", "quit"),
        ],
    ),
    (
        "Fleet screen",
        [
            ("f / n / p / o", "Findings, GPU nodes, NodePools, GPU Operator tabs"),
            ("/", "filter the findings or nodes (escape clears)"),
            ("s / S", "nodes: sort by the next column / reverse (or click a header)"),
            ("enter", "open the selected finding or object"),
        ],
    ),
    (
        "Finding",
        [
            ("enter / click", "open the subject or a related object"),
            ("tab", "move to the text and the fix buttons (arrows and page keys scroll)"),
            ("w", "walk through the first fix (not in --read-only)"),
        ],
    ),
    (
        "Object (node, pod, NodeClaim, NodePool, ...)",
        [
            (
                "y / e / p / f / l",
                "YAML, events, pods, findings, logs tabs (events: the highlighted one in full below)",
            ),
            ("P", "pod logs: toggle the previous container"),
            ("d", "node: run nvidia-smi in a debug pod (not in --read-only)"),
            ("E", "NodePool: edit (not in --read-only)"),
        ],
    ),
]


class HelpScreen(ModalScreen[None]):
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
            yield Static(Text("gputui — keys (escape closes)", style="bold"), id="help-title")
            with VerticalScroll():
                yield Static(_keys_table(getattr(self.app, "read_only", False)), id="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)


def _keys_table(read_only: bool) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False, expand=True)
    table.add_column("key", style="bold cyan", no_wrap=True, width=17)
    table.add_column("what")
    for section, rows in KEYS:
        table.add_row(Text(section, style="bold underline"), "")
        for key, what in rows:
            if read_only and "not in --read-only" in what:
                continue
            table.add_row(key, what)
        table.add_row("", "")
    if read_only:
        table.add_row(Text("read-only", style="bold yellow"), "no action that changes the cluster is offered")
    return table
