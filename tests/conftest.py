"""Shared fixtures for tests that talk HTTP to the simulator.

* `start_sim(**kwargs)` — function-scoped factory: calls
  `gputui.sim.runtime.start_simulator(**kwargs)` (defaults: no sources, behaviour off) and
  stops every simulator it started at teardown. Pass `sources=[...]`, `objects=[...]`,
  `faults=Faults(...)`, `behaviour=True` as needed.
* `api_client_for(sim)` — a `kubernetes` ApiClient configured from the simulator's own
  kubeconfig (`tests.helpers.sim`, or the fixture of the same name, which returns the function).
* `shared_sim(sources=(...), synthetic=None)` — session-scoped factory for READ-ONLY use: one
  simulator per distinct (sources, synthetic), behaviour off, reused by every test that asks
  for the same thing and stopped at the end of the session. Never change objects through it;
  use `start_sim` for tests that write.
* `sim_http(sim, method, path, body=None, headers=None, token=...)` — raw HTTP to the
  simulator with its bearer token; returns (status, headers, bytes). For paths and headers
  the typed client cannot express (discovery variants, watch streams, gzip).
* `reference` — the path of ../shared/reference (`tests.helpers.reference.REFERENCE`), or a
  skip when it is not there, as on a user's machine.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from tests.helpers.reference import MISSING, REFERENCE, reference_present
from tests.helpers.sim import api_client_for


def pytest_configure(config):
    # pytest-textual-snapshot writes its mismatch report to the working directory by default;
    # a test run never writes into the checkout, so the report goes to the temp dir (its path
    # is printed when there is one).
    if getattr(config.option, "snapshot_report", None) == "snapshot_report.html":
        config.option.snapshot_report = os.path.join(tempfile.gettempdir(), "gputui-snapshot-report.html")


@pytest.fixture
def reference():
    if not reference_present():
        pytest.skip(MISSING)
    return REFERENCE


@pytest.fixture(autouse=True, scope="session")
def _private_user_state(tmp_path_factory):
    """Nothing a test runs may write to the user's real state: the fix audit log
    ($XDG_STATE_HOME) and kubectl's discovery cache (KUBECACHEDIR) go to a temp dir."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("user-state")
    mp.setenv("XDG_STATE_HOME", str(root / "state"))
    mp.setenv("KUBECACHEDIR", str(root / "kube-cache"))
    yield
    mp.undo()


@pytest.fixture
def start_sim():
    from gputui.sim.runtime import start_simulator

    started = []

    def start(**kwargs):
        kwargs.setdefault("sources", [])
        kwargs.setdefault("behaviour", False)
        sim = start_simulator(**kwargs)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture(name="api_client_for")
def _api_client_for_fixture():
    return api_client_for


@pytest.fixture(scope="session")
def shared_sim():
    from gputui.sim.runtime import start_simulator

    cache: dict = {}

    def get(sources=(), synthetic=None):
        key = (tuple(sources), synthetic)
        if key not in cache:
            cache[key] = start_simulator(sources=list(sources), synthetic=synthetic, behaviour=False)
        return cache[key]

    yield get
    for sim in cache.values():
        sim.stop()
