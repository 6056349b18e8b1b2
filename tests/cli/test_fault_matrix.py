"""The fault matrix (tests/helpers/fault_matrix.py): each gputui command that talks to a
cluster, run as a real process against a misbehaving simulator, exits with the right code and
one line, in bounded time, leaves no debug pod behind and changes nothing without an audit
entry. `python bench/fault_matrix.py` prints the same matrix as a table."""

from __future__ import annotations

import pytest

from tests.helpers.fault_matrix import CASES, run_case, violations


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fault_case(case, tmp_path):
    outcome = run_case(case, tmp_path)
    assert violations(outcome) == [], f"exit {outcome.code} in {outcome.seconds:.1f} s\n{outcome.stderr[-2000:]}"


def test_matrix_covers_every_fault_and_command():
    names = {c.name for c in CASES}
    for command in ("diagnose", "snapshot", "debug", "undo"):
        assert any(n.startswith(command + "/") for n in names)
    faults = {n.split("/", 1)[1] for n in names}
    for fault in ("latency-300ms", "5xx-30%", "403-events", "expired-continue", "stalled-server", "server-killed"):
        assert fault in faults
    assert any("exec-plugin-hangs" in n for n in names) and any("sigkill" in n for n in names)
    assert len(CASES) >= 40
