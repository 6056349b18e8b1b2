"""Smoke test in a real terminal: `gputui demo` inside a detached tmux session, driven with
send-keys and read with capture-pane. Its own tmux server (-L) so nothing else is touched."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers.wait import wait_until

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

REPO = Path(__file__).resolve().parents[2]


class Tmux:
    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"gputui-test-{uuid.uuid4().hex[:8]}"
        self.session = "demo"
        self.exit_file = tmp_path / "exit-code"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20, check=check
        )

    def start(self, argv: list[str]) -> None:
        cmd = f"{shlex.join(argv)}; echo $? > {shlex.quote(str(self.exit_file))}"
        env = {"TZ": "UTC", "TERM": "xterm-256color", "PYTHONPATH": str(REPO), "TEXTUAL_ANIMATIONS": "none"}
        env_args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        self.run("new-session", "-d", "-s", self.session, "-x", "120", "-y", "40", *env_args, "sh", "-c", cmd)

    def screen(self) -> str:
        out = self.run("capture-pane", "-p", "-t", self.session, check=False)
        return out.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def wait_for(self, text: str, timeout: float = 30.0, gone: str | None = None) -> str:
        """The screen once it shows `text` (and no longer shows `gone`)."""
        last = [""]

        def shown() -> str:
            last[0] = screen = self.screen()
            return screen if text in screen and (gone is None or gone not in screen) else ""

        if screen := wait_until(shown, timeout=timeout, interval=0.1):
            return screen
        raise AssertionError(f"{text!r} never appeared (or {gone!r} stayed); the screen was:\n{last[0]}")

    def exit_code(self, timeout: float = 20.0):
        def code() -> str:
            return self.exit_file.read_text().strip() if self.exit_file.exists() else ""

        written = wait_until(code, timeout=timeout, interval=0.1)
        return int(written) if written else None

    def kill(self) -> None:
        self.run("kill-server", check=False)


def test_gputui_demo_in_tmux(tmp_path):
    tmux = Tmux(tmp_path)
    try:
        tmux.start([sys.executable, "-m", "gputui", "demo", "incident"])
        screen = tmux.wait_for("GPU302", timeout=60)
        assert "Findings (" in screen and "GPU nodes 33/33 ready" in screen
        first = re.search(r"^\s*error\s+(GPU\d{3})\s", screen, re.M)
        assert first, screen
        assert "Karpenter 1.6.2" in screen

        tmux.keys("?")
        screen = tmux.wait_for("command palette")
        assert "switch kubeconfig context" in screen
        tmux.keys("Escape")
        tmux.wait_for("Findings (", gone="command palette")  # the help is closed

        tmux.keys("Enter")  # the first (worst) finding
        screen = tmux.wait_for("Evidence")
        assert f"ERROR {first.group(1)} " in screen
        tmux.keys("Escape")
        tmux.wait_for("Severity", gone="Evidence")  # back on the fleet

        tmux.keys("q")
        assert tmux.exit_code() == 0
    finally:
        tmux.kill()
    assert tmux.run("has-session", "-t", tmux.session, check=False).returncode != 0


def test_gputui_on_a_kubeconfig_context_read_only_in_tmux(tmp_path, shared_sim):
    sim = shared_sim(sources=("healthy",))
    tmux = Tmux(tmp_path)
    try:
        tmux.start(
            [
                sys.executable,
                "-m",
                "gputui",
                "--kubeconfig",
                str(sim.kubeconfig),
                "--context",
                sim.context,
                "--read-only",
            ]
        )
        screen = tmux.wait_for("0 errors 0 warnings", timeout=60)
        assert sim.url in screen
        assert "Undo" not in screen  # read-only: no mutating key in the footer
        tmux.keys("q")
        assert tmux.exit_code() == 0
    finally:
        tmux.kill()
