"""`kubectl gputui`: the package installs a `kubectl-gputui` script beside `gputui`, and kubectl
finds it on PATH as a plugin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
PLUGIN = BIN / "kubectl-gputui"


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "80"}


def test_the_plugin_script_is_installed_and_runs():
    if not PLUGIN.exists():
        pytest.skip(f"gputui is not installed into {BIN} (run `pip install -e .` there)")
    assert os.access(PLUGIN, os.X_OK)
    done = subprocess.run([str(PLUGIN), "--help"], capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: kubectl gputui ")
    done = subprocess.run(
        [str(PLUGIN), "diagnose", "--from", "healthy"], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "No problems found." in done.stdout


def test_kubectl_runs_it_as_kubectl_gputui():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    if not PLUGIN.exists():
        pytest.skip(f"gputui is not installed into {BIN} (run `pip install -e .` there)")
    plugins = subprocess.run([kubectl, "plugin", "list"], capture_output=True, text=True, env=_env(), timeout=60)
    assert str(PLUGIN) in plugins.stdout
    done = subprocess.run(
        [kubectl, "gputui", "diagnose", "--from", "incident", "-o", "json", "--no-progress"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert done.returncode == 1, done.stderr  # the incident has errors
    doc = json.loads(done.stdout)
    assert doc["schema"] == "gputui.dev/diagnose/v1" and doc["cluster"]["context"] == "incident"
