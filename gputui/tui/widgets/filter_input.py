"""The `/` filter: an Input hidden until asked for, that hides itself again on escape.

It is one line high and borderless, focused or not (Input's own focus style draws a tall
border, which inside one line leaves no row for the text typed)."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class FilterInput(Input):
    DEFAULT_CSS = """
    FilterInput, FilterInput:focus {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    FilterInput.-active, FilterInput.-active:focus {
        display: block;
    }
    """
    BINDINGS = [Binding("escape", "close", "Clear filter", show=True)]

    def __init__(self, **kwargs) -> None:
        super().__init__(
            placeholder="filter (text matches any column) — enter: keep, escape: clear", compact=True, **kwargs
        )

    def open(self) -> None:
        self.add_class("-active")
        self.focus()

    def action_close(self) -> None:
        self.value = ""
        self.remove_class("-active")
        if self.parent is not None:
            table = next(iter(self.parent.query("DataTable")), None) if hasattr(self.parent, "query") else None
            if table is not None:
                table.focus()
