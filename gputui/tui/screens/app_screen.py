"""Screens of GputuiApp, with `self.app` typed as the app they run in."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from textual import getters

    from gputui.tui.app import GputuiApp

ResultT = TypeVar("ResultT")


class AppScreen(Screen[ResultT]):
    if TYPE_CHECKING:
        app = getters.app(GputuiApp)


class AppModalScreen(ModalScreen[ResultT]):
    if TYPE_CHECKING:
        app = getters.app(GputuiApp)
