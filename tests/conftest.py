"""Shared fixtures for tests that talk HTTP to the simulator.

* `start_sim(**kwargs)` — function-scoped factory: calls
  `gputui.sim.runtime.start_simulator(**kwargs)` (defaults: no sources, behaviour off) and
  stops every simulator it started at teardown. Pass `sources=[...]`, `objects=[...]`,
  `faults=Faults(...)`, `behaviour=True` as needed.
* `api_client_for(sim)` — a `kubernetes` ApiClient configured from the simulator's own
  kubeconfig (importable: `from conftest import api_client_for`, or use the fixture of the
  same name, which returns the function).
* `shared_sim(sources=(...), synthetic=None)` — session-scoped factory for READ-ONLY use: one
  simulator per distinct (sources, synthetic), behaviour off, reused by every test that asks
  for the same thing and stopped at the end of the session. Never change objects through it;
  use `start_sim` for tests that write.
* `sim_http(sim, method, path, body=None, headers=None, token=...)` — raw HTTP to the
  simulator with its bearer token; returns (status, headers, bytes). For paths and headers
  the typed client cannot express (discovery variants, watch streams, gzip).
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

_DEFAULT = object()


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


def api_client_for(sim):
    from kubernetes import config

    return config.new_client_from_config(config_file=str(sim.kubeconfig), context=sim.context)


def sim_http(
    sim,
    method: str,
    path: str,
    body: Any = None,
    headers: dict | None = None,
    token: Any = _DEFAULT,
    timeout: float = 10.0,
) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=timeout)
    hdrs = dict(headers or {})
    tok = sim.token if token is _DEFAULT else token
    if tok:
        hdrs["Authorization"] = f"Bearer {tok}"
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


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
