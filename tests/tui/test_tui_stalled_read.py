"""Closing the app while its first read of the cluster is stalled: the read is abandoned at
once (the app's gathering worker would otherwise hold the process for the request timeouts
and retries of every list in flight)."""

from __future__ import annotations

import threading

import pytest

from gputui.sim.faults import Faults
from tests.helpers.tui import drive, make_app, wait_for

# Without cancellation the stalled list holds the app for 5 attempts of 30 s: far beyond this.
pytestmark = pytest.mark.timeout(60)


def test_quitting_during_a_stalled_read_abandons_it(start_sim):
    faults = Faults(stall=("pods",))
    sim = start_sim(sources=["healthy"], faults=faults)
    app = make_app(sim)

    async def body(pilot):
        await wait_for(pilot, lambda: faults.stalled > 0, what="the stalled pods list")
        await pilot.press("q")

    try:
        drive(app, body)
        gathering = [t for t in threading.enumerate() if t.name.startswith("gather-") and not t.daemon]
        assert gathering == []  # only daemon threads may be left behind by a read
        assert app.snapshot is None
    finally:
        faults.release()
