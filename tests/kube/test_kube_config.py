"""Cluster access the way kubectl does it, and one clear line for each way it fails."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from gputui.cli import main
from gputui.errors import ConnectError
from gputui.kube import config as kube_config
from gputui.kube.client import connect


def _kubeconfig(
    path: Path, *, contexts: dict, current: str | None, server="http://127.0.0.1:1", users=None, clusters=None
) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters
        if clusters is not None
        else [{"name": c["cluster"], "cluster": {"server": server}} for c in contexts.values()],
        "users": users
        if users is not None
        else [{"name": c["user"], "user": {"token": f"token-of-{c['user']}"}} for c in contexts.values()],
        "contexts": [{"name": n, "context": c} for n, c in contexts.items()],
    }
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_kubeconfig_files_merge_first_wins(clean_env, tmp_path):
    a = _kubeconfig(
        tmp_path / "a",
        contexts={"prod": {"cluster": "shared", "user": "alice", "namespace": "ml"}},
        current="prod",
        server="http://first.example:6443",
    )
    b = _kubeconfig(
        tmp_path / "b",
        contexts={"prod": {"cluster": "other", "user": "bob"}, "dev": {"cluster": "shared", "user": "bob"}},
        current="dev",
        server="http://second.example:6443",
    )
    clean_env.setenv("KUBECONFIG", os.pathsep.join([str(a), str(tmp_path / "missing"), str(b)]))

    kc = kube_config.load()
    # current-context from the first file that sets it; the `prod` entry of the first file wins.
    assert kc.context == "prod"
    assert kc.server == "http://first.example:6443"
    assert kc.user == "alice"
    assert kc.default_namespace == "ml"
    assert kc.configuration.api_key["BearerToken"] == "Bearer token-of-alice"

    # A context only the second file defines is reachable; its cluster name resolves to the first file's entry.
    dev = kube_config.load(context="dev")
    assert dev.user == "bob" and dev.server == "http://first.example:6443"
    assert dev.default_namespace == "default"


def test_explicit_kubeconfig_beats_the_environment(clean_env, tmp_path):
    a = _kubeconfig(
        tmp_path / "a", contexts={"a": {"cluster": "ca", "user": "ua"}}, current="a", server="http://a.example"
    )
    b = _kubeconfig(
        tmp_path / "b", contexts={"b": {"cluster": "cb", "user": "ub"}}, current="b", server="http://b.example"
    )
    clean_env.setenv("KUBECONFIG", str(a))
    kc = kube_config.load(str(b), namespace="team-x")
    assert (kc.context, kc.server, kc.namespace) == ("b", "http://b.example", "team-x")


def test_default_location_is_home_kube_config(clean_env, tmp_path):
    home = tmp_path / "home" / ".kube"
    home.mkdir(parents=True)
    _kubeconfig(home / "config", contexts={"h": {"cluster": "c", "user": "u"}}, current="h", server="http://h.example")
    assert kube_config.load().server == "http://h.example"


def test_unknown_context_lists_the_available_ones(clean_env, tmp_path):
    a = _kubeconfig(
        tmp_path / "a",
        contexts={"prod": {"cluster": "c", "user": "u"}, "staging": {"cluster": "c", "user": "u"}},
        current="prod",
    )
    with pytest.raises(ConnectError) as e:
        kube_config.load(str(a), context="prdo")
    assert "context 'prdo' not found" in e.value.message
    assert "prod, staging" in e.value.hint
    assert e.value.exit_code == 4


def test_no_current_context_and_no_flag(clean_env, tmp_path):
    a = _kubeconfig(tmp_path / "a", contexts={"prod": {"cluster": "c", "user": "u"}}, current=None)
    with pytest.raises(ConnectError) as e:
        kube_config.load(str(a))
    assert "no current-context" in e.value.message and "prod" in e.value.hint


def test_no_kubeconfig_at_all(clean_env, capsys):
    assert main(["diagnose", "--no-progress"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("gputui: error: no kubeconfig found")
    assert err[1].startswith("  hint:") and "aws eks update-kubeconfig" in err[1]
    assert len(err) == 2


def test_missing_explicit_kubeconfig(clean_env, tmp_path):
    with pytest.raises(ConnectError, match="does not exist"):
        kube_config.load(str(tmp_path / "nope"))


def test_in_cluster_service_account(clean_env, tmp_path):
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token-123")
    (sa / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (sa / "namespace").write_text("gpu-tools")
    clean_env.setattr(kube_config, "SERVICE_ACCOUNT_DIR", sa)
    clean_env.setenv("KUBERNETES_SERVICE_HOST", "10.100.0.1")
    clean_env.setenv("KUBERNETES_SERVICE_PORT", "443")
    kc = kube_config.load()
    assert kc.server == "https://10.100.0.1:443"
    assert kc.source == "in-cluster" and kc.default_namespace == "gpu-tools"
    assert kc.configuration.auth_settings()["BearerToken"]["value"] == "bearer sa-token-123"


def test_in_cluster_without_token_explains(clean_env, tmp_path):
    clean_env.setattr(kube_config, "SERVICE_ACCOUNT_DIR", tmp_path / "absent")
    clean_env.setenv("KUBERNETES_SERVICE_HOST", "10.100.0.1")
    clean_env.setenv("KUBERNETES_SERVICE_PORT", "443")
    with pytest.raises(ConnectError, match="in-cluster configuration failed: Service token file does not exist"):
        kube_config.load()


def _exec_user(command: str, args=None) -> list:
    return [
        {
            "name": "eks-user",
            "user": {
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "command": command,
                    "args": args or ["eks", "get-token", "--cluster-name", "gpu-prod"],
                    "interactiveMode": "Never",
                }
            },
        }
    ]


def test_exec_plugin_not_on_path(clean_env, tmp_path, capsys):
    kc = _kubeconfig(
        tmp_path / "kc", contexts={"eks": {"cluster": "c", "user": "eks-user"}}, current="eks", users=_exec_user("aws")
    )
    clean_env.setenv("PATH", str(tmp_path / "empty-bin"))
    assert main(["diagnose", "--kubeconfig", str(kc), "--no-progress"]) == 4
    err = capsys.readouterr().err
    assert "gputui: error: the kubeconfig's credential plugin `aws` (user 'eks-user') is not on PATH" in err
    assert "install the AWS CLI v2" in err
    assert "Traceback" not in err


def test_exec_plugin_that_fails_is_reported_with_its_stderr(clean_env, tmp_path):
    script = tmp_path / "bin" / "get-token"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho 'An error occurred (ExpiredToken): the SSO session has expired' >&2\nexit 255\n")
    script.chmod(0o755)
    kc = _kubeconfig(
        tmp_path / "kc",
        contexts={"eks": {"cluster": "c", "user": "eks-user"}},
        current="eks",
        users=_exec_user(str(script), args=["x"]),
    )
    with pytest.raises(ConnectError) as e:
        kube_config.load(str(kc))
    assert f"credential plugin `{script}` failed" in e.value.message
    assert "exec: process returned 255" in e.value.message
    assert "ExpiredToken" in e.value.message


def test_relative_exec_command_resolves_against_the_kubeconfig(clean_env, tmp_path):
    kc = _kubeconfig(
        tmp_path / "kc",
        contexts={"eks": {"cluster": "c", "user": "eks-user"}},
        current="eks",
        users=_exec_user("./bin/missing-helper"),
    )
    with pytest.raises(ConnectError, match="`./bin/missing-helper`.*is not on PATH"):
        kube_config.load(str(kc))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_one_line_and_a_hint(clean_env, tmp_path, capsys):
    port = _free_port()  # nothing listens there once the socket is closed
    kc = _kubeconfig(
        tmp_path / "kc", contexts={"x": {"cluster": "c", "user": "u"}}, current="x", server=f"http://127.0.0.1:{port}"
    )
    assert main(["diagnose", "--kubeconfig", str(kc), "--no-progress"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gputui: error: cannot reach the API server at http://127.0.0.1:{port}: connection refused", err[1]]
    assert err[1].startswith("  hint: is the cluster")


def test_unreachable_server_as_a_real_process(clean_env, tmp_path):
    port = _free_port()
    kc = _kubeconfig(
        tmp_path / "kc", contexts={"x": {"cluster": "c", "user": "u"}}, current="x", server=f"http://127.0.0.1:{port}"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "gputui", "diagnose", "--kubeconfig", str(kc), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 4
    assert proc.stdout == ""
    assert "connection refused" in proc.stderr and "Traceback" not in proc.stderr


def test_server_that_never_answers_times_out(clean_env, tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    try:
        port = listener.getsockname()[1]
        kc = _kubeconfig(
            tmp_path / "kc",
            contexts={"x": {"cluster": "c", "user": "u"}},
            current="x",
            server=f"http://127.0.0.1:{port}",
        )
        client = connect(str(kc), request_timeout=0.5)
        with pytest.raises(ConnectError) as e:
            client.version()
        assert e.value.message == f"the API server at http://127.0.0.1:{port} did not answer within 0.5s"
        assert "--request-timeout" in e.value.hint
    finally:
        listener.close()


@pytest.fixture
def tls_server(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_untrusted_certificate_is_a_tls_error(clean_env, tmp_path, tls_server, capsys):
    kc = _kubeconfig(tmp_path / "kc", contexts={"x": {"cluster": "c", "user": "u"}}, current="x", server=tls_server)
    assert main(["diagnose", "--kubeconfig", str(kc), "--no-progress"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"gputui: error: TLS handshake with {tls_server} failed: ")
    assert "certificate verify failed" in err[0]
    assert "certificate-authority" in err[1]
    assert len(err) == 2
