"""A client that hangs up mid-response or mid-watch costs the simulator nothing: no
traceback on stderr, and the next client is served."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from tests.helpers.sim import sim_http

TRACEBACK_SIGNS = ("Traceback", "Exception occurred", "Error", "Exception in thread")


@pytest.fixture
def big_sim(start_sim):
    return start_sim(synthetic="nodes=40,gpu-nodes=10,pods=3000,events=200")


def _hang_up(sim, request: bytes, *, read: int, reset: bool, linger: float = 0.0) -> None:
    sock = socket.create_connection((sim.host, sim.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(request)
    got = b""
    while len(got) < read:
        chunk = sock.recv(read - len(got))
        if not chunk:
            break
        got += chunk
    time.sleep(linger)
    if reset:  # abortive close: the server sees ECONNRESET / EPIPE, not a clean EOF
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    assert got.startswith(b"HTTP/1.1 200") or not read


def _get(sim, path: str, *extra: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {sim.host}:{sim.port}", f"Authorization: Bearer {sim.token}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _still_serves(sim) -> None:
    status, _, body = sim_http(sim, "GET", "/api/v1/namespaces")
    assert status == 200 and b"NamespaceList" in body


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "close"])
@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_client_hanging_up_mid_list_is_quiet(big_sim, capsys, reset, gzip):
    extra = ("Accept-Encoding: gzip",) if gzip else ()
    for _ in range(5):
        _hang_up(big_sim, _get(big_sim, "/api/v1/pods", *extra), read=2048, reset=reset)
    # Hang up after a whole response too, while the server waits for the next request.
    _hang_up(big_sim, _get(big_sim, "/api/v1/namespaces/default", *extra), read=12, reset=reset, linger=0.3)
    # And halfway through sending a request.
    _hang_up(big_sim, _get(big_sim, "/api/v1/pods")[:30], read=0, reset=reset, linger=0.1)
    time.sleep(0.5)  # let the handler threads meet the closed sockets
    _still_serves(big_sim)
    err = capsys.readouterr().err  # the server's threads write to sys.stderr, which capsys holds
    assert not any(sign in err for sign in TRACEBACK_SIGNS), err


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "close"])
def test_client_hanging_up_mid_watch_is_quiet(big_sim, capsys, reset):
    for _ in range(3):
        _hang_up(big_sim, _get(big_sim, "/api/v1/pods?watch=1&timeoutSeconds=5"), read=4096, reset=reset)
    time.sleep(1.5)  # the watch loop notices the hang-up on its next poll
    _still_serves(big_sim)
    err = capsys.readouterr().err  # the server's threads write to sys.stderr, which capsys holds
    assert not any(sign in err for sign in TRACEBACK_SIGNS), err
