"""The app opened straight on the NodePool editor (`gputui nodepool edit|new`)."""

from __future__ import annotations

from gputui.tui.app import GputuiApp
from gputui.tui.screens.nodepool_edit import NodePoolEditScreen
from gputui.tui.state import AppConfig


class NodePoolEditorApp(GputuiApp):
    """GputuiApp with the editor for `name` on top of the fleet screen (a new NodePool when `draft` is given).

    Escape from the editor leaves the user on the fleet screen of the same cluster."""

    def __init__(self, config: AppConfig, name: str, draft: dict | None = None) -> None:
        super().__init__(config)
        self._editor_name = name
        self._editor_draft = draft

    def on_mount(self) -> None:
        super().on_mount()
        self.push_screen(NodePoolEditScreen(self._editor_name, draft=self._editor_draft))
