"""Helpers shared by the Pilot tests of the app's screens: building the app on a simulator,
driving it at a pinned size, and waiting for what it shows."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

from gputui.tui.app import GputuiApp
from gputui.tui.state import AppConfig


async def wait_for(pilot, predicate: Callable[[], bool], what: str = "condition", timeout: float = 20.0) -> None:
    """Let the app run until `predicate()` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def widget_text(widget) -> str:
    """What a Static-like widget shows, as plain text."""
    from rich.console import Console

    console = Console(width=300, record=True, file=open(os.devnull, "w"))
    content = getattr(widget, "content", None)
    console.print(content if content is not None else widget.render())
    return console.export_text()


SIZE = (120, 40)


DEDICATED_NODE = "ip-10-0-19-20.us-west-2.compute.internal"


def make_app(
    sim=None, *, read_only: bool = False, kubeconfig: str | None = None, context: str | None = None
) -> GputuiApp:
    app = GputuiApp(
        AppConfig(
            kubeconfig=kubeconfig or str(sim.kubeconfig),
            context=context or sim.context,
            namespace=None,
            read_only=read_only,
        )
    )
    app.animation_level = "none"  # a tab underline caught mid-slide makes renders differ
    return app


async def loaded(pilot) -> None:
    app = pilot.app
    await wait_for(
        pilot,
        lambda: (
            app.snapshot is not None
            and app.screen.query("#findings-table")
            and app.screen.query_one("#findings-table").row_count > 0
        ),
        what="the first snapshot",
    )


async def confirm_debug(pilot) -> None:
    """Say yes to the question the app asks before it starts debug pods."""
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmScreen", what="the debug confirmation")
    await pilot.press("y")


def drive(app: GputuiApp, body: Callable[..., Awaitable[None]], size=SIZE) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await body(pilot)

    asyncio.run(main())


PINNED_SERVER = "http://127.0.0.1:6443"  # shown in screen snapshots in place of the simulator's own port


def app_with_pinned_server(sim, monkeypatch) -> GputuiApp:
    """The app on the simulator, with the API server URL of every snapshot it reads pinned, so
    a screen snapshot does not change with the port the simulator happened to get."""
    from gputui.kube import gather as gather_mod

    real_gather = gather_mod.gather

    def gather(*args, **kwargs):
        snap = real_gather(*args, **kwargs)
        snap.server = PINNED_SERVER
        return snap

    monkeypatch.setattr(gather_mod, "gather", gather)
    return make_app(sim)
