"""Malformed kubeconfigs, alone and through $KUBECONFIG merges: kubectl's leniency (empty and
missing files are skipped) and its strictness (a wrong shape is an error naming the file), always
as one line and exit 4, never a traceback. A seeded fuzzer mutates a good kubeconfig as well."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest
import yaml

from gputui.cli import main
from gputui.errors import EXIT_CONNECT
from gputui.kube import config as kube_config

GOOD = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "prod",
    "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
    "users": [{"name": "u", "user": {"token": "t0ken"}}],
    "contexts": [{"name": "prod", "context": {"cluster": "c", "user": "u", "namespace": "ml"}}],
}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def _with(path: str, value) -> dict:
    """GOOD with the value at a dotted path (list indexes as numbers) replaced."""
    doc = copy.deepcopy(GOOD)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = doc
    for p in parents:
        node = node[p]
    node[last] = value
    return doc


SHAPES = {
    "top-level list": b"- a\n- b\n",
    "top-level scalar": b"just a string\n",
    "top-level number": b"42\n",
    "not UTF-8": b"apiVersion: v1\nclusters:\n- name: \xff\xfe\n",
    "not YAML": b"clusters: [unclosed\n",
    "clusters is a string": _with("clusters", "c"),
    "contexts is a mapping": _with("contexts", {"prod": {}}),
    "users item is a string": _with("users.0", "u"),
    "cluster body is a list": _with("clusters.0.cluster", ["http://x"]),
    "server is a number": _with("clusters.0.cluster.server", 6443),
    "insecure flag is a string": _with("clusters.0.cluster.insecure-skip-tls-verify", "yes"),
    "namespace is a list": _with("contexts.0.context.namespace", ["ml"]),
    "token is a number": _with("users.0.user.token", 12345),
    "exec is a string": _with("users.0.user", {"exec": "aws eks get-token"}),
    "exec args is a string": _with("users.0.user", {"exec": {"command": "aws", "args": "eks get-token"}}),
    "current-context is a list": _with("current-context", ["prod"]),
    "entry without a name": _with("clusters.0", {"cluster": {"server": "http://x"}}),
    "context names a missing cluster": _with("contexts.0.context.cluster", "nope"),
    "context names a missing user": _with("contexts.0.context.user", "nobody"),
    "deep nesting": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
}


def _write(path: Path, content) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else yaml.safe_dump(content).encode())
    return path


def _one_error(capsys) -> str:
    err = capsys.readouterr().err.splitlines()
    assert err and err[0].startswith("gputui: error: "), err
    assert len(err) <= 2 and all("Traceback" not in line for line in err), err
    return err[0]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_malformed_kubeconfig_is_one_line_naming_the_file(shape, clean_env, tmp_path, capsys):
    kc = _write(tmp_path / "bad-config", SHAPES[shape])
    assert main(["diagnose", "--kubeconfig", str(kc), "--no-progress"]) == EXIT_CONNECT
    line = _one_error(capsys)
    assert str(kc) in line


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_malformed_file_in_a_kubeconfig_merge_is_named(shape, clean_env, tmp_path, capsys):
    good = _write(tmp_path / "good", GOOD)
    bad = _write(tmp_path / "bad", SHAPES[shape])
    clean_env.setenv("KUBECONFIG", f"{good}:{bad}")
    assert main(["diagnose", "--no-progress"]) == EXIT_CONNECT
    line = _one_error(capsys)
    if "missing" not in shape:  # a dangling reference in the second file is shadowed by the first file's entries
        assert str(bad) in line
    else:
        assert "connection refused" in line


def test_empty_and_missing_files_in_kubeconfig_are_skipped(clean_env, tmp_path):
    empty = _write(tmp_path / "empty", b"")
    comments = _write(tmp_path / "comments", b"# nothing here\n")
    good = _write(tmp_path / "good", GOOD)
    clean_env.setenv("KUBECONFIG", f"{empty}:{tmp_path / 'missing'}:{comments}:{good}")
    kc = kube_config.load()
    assert (kc.context, kc.server, kc.default_namespace) == ("prod", "http://127.0.0.1:1", "ml")
    assert kc.source == str(good)


def test_only_empty_files_is_one_line(clean_env, tmp_path, capsys):
    empty = _write(tmp_path / "empty", b"")
    clean_env.setenv("KUBECONFIG", f"{empty}")
    assert main(["diagnose", "--no-progress"]) == EXIT_CONNECT
    assert "is empty" in _one_error(capsys)


def test_merge_takes_entries_from_the_first_file_that_names_them(clean_env, tmp_path):
    first = _write(tmp_path / "first", _with("users.0.user", {"token": "first-token"}))
    second = _write(
        tmp_path / "second",
        {
            "current-context": "dev",
            "clusters": [{"name": "c", "cluster": {"server": "http://second.example"}}],
            "users": [{"name": "u", "user": {"token": "second-token"}}],
            "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u"}}],
        },
    )
    clean_env.setenv("KUBECONFIG", f"{first}:{second}")
    dev = kube_config.load(context="dev")
    assert dev.server == "http://127.0.0.1:1"
    assert dev.configuration.api_key["BearerToken"] == "Bearer first-token"


# -- fuzzing ----------------------------------------------------------------------------

_ODD_VALUES = (None, 0, 10**30, -1, 3.5, True, "", "x" * 10_000, [], {}, ["a", 1], {"k": [None]}, "é\u202e\x00")


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _mutate(rng: random.Random) -> dict | bytes:
    doc = copy.deepcopy(GOOD)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        if rng.random() < 0.25 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(_ODD_VALUES))
    return doc


def test_fuzzed_kubeconfigs_never_crash(clean_env, tmp_path, capsys):
    """300 seeded mutations, alone or merged after a good file: exit 4 with one line, or a
    working config (then the connection to the closed port is refused: exit 4 as well)."""
    rng = random.Random(20261207)
    good = _write(tmp_path / "good", GOOD)
    for i in range(300):
        bad = _write(tmp_path / f"fuzz-{i}", _mutate(rng))
        if i % 2:
            clean_env.setenv("KUBECONFIG", f"{bad}:{good}")
            argv = ["diagnose", "--no-progress", "--request-timeout", "2"]
        else:
            clean_env.delenv("KUBECONFIG", raising=False)
            argv = ["diagnose", "--no-progress", "--request-timeout", "2", "--kubeconfig", str(bad)]
        code = main(argv)
        err = capsys.readouterr().err
        assert code == EXIT_CONNECT, (i, bad.read_text()[:500], err)
        assert "Traceback" not in err and err.startswith("gputui: error: "), (i, err)
