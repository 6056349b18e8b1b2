"""The layering written down in .importlinter holds: `checks` is pure, and each gputui layer
imports only the layers below it (the CLI and its commands on top, then the TUI, then
fixes/debugpod/nodepool/report, then kube)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("contract", ["checks-pure", "layers"])
def test_import_contract_is_kept(contract):
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--contract",
            contract,
            "--no-cache",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-1000:]
