"""Talking to the simulator from tests: a `kubernetes` client from its kubeconfig, and raw HTTP."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from typing import Any

_DEFAULT = object()


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


def scenario_snapshot(*names: str):
    """The snapshot `gputui diagnose --from NAME...` judges: built-in scenarios read by the simulator's loader."""
    from gputui.kube.snapshot_source import snapshot_from_files
    from gputui.sim.loader import load_objects

    return snapshot_from_files(list(names), read=lambda paths: load_objects(paths, shift_time=False))


def identity_kubeconfig(sim, path, user: str, groups: tuple[str, ...] = (), token: str | None = None):
    """A kubeconfig for `user` on a running simulator, whose RBAC objects then judge its requests."""
    from gputui.sim.rbac import Identity, write_kubeconfig

    token = token or f"token-{user}"
    identity = Identity(user, tuple(groups))
    sim.server.identities[token] = identity
    return write_kubeconfig(path, sim.url, token, identity)


def serve_process(*args: str, kubeconfig) -> subprocess.Popen:
    """`gputui sim serve ARGS... --kubeconfig-out KUBECONFIG` in a process of its own, unbuffered,
    its stdout and stderr piped as text: as a user starts it from a shell."""
    return subprocess.Popen(
        [sys.executable, "-m", "gputui", "sim", "serve", *args, "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
