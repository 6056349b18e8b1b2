"""The CLI's outputs at 80 columns, piped (COLUMNS=80, stdout not a terminal) and in an
80-column terminal: nothing squeezed into narrow columns, nothing wrapped twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gputui.report import catalogue

ROOT = Path(__file__).resolve().parents[2]


def _gputui(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "gputui", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


def test_checks_list_piped_keeps_each_check_on_one_line():
    done = _gputui("checks", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    checks = catalogue.all_checks()
    assert len(lines) == 1 + len(checks)
    assert lines[0].split() == ["CODE", "NAME", "SEVERITY", "AREA", "TITLE"]
    for line, c in zip(lines[1:], checks):
        assert line.split()[:4] == [c.code, c.name, c.severity.label, c.area]
        assert line.endswith(c.title)


def test_checks_list_in_an_80_column_terminal_gives_titles_their_own_line():
    lines = catalogue.list_lines(catalogue.rows(), 80)
    assert all(len(line) <= 80 for line in lines)
    for c in catalogue.all_checks():
        row = next(i for i, line in enumerate(lines) if line.startswith(c.code + " "))
        assert lines[row + 1].strip() == c.title  # whole, not folded into a narrow column
