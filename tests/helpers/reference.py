"""Where the reference material lives: `../shared/reference` beside the repository, read in
place. It is not part of the project, so every test that reads it is skipped without it.

Tests take the `reference` fixture (tests/conftest.py), which is this path or a skip.
For module-level parametrisation, `reference_params(folder, pattern)` lists the names of the
matching files (one skipped parameter when the folder is absent, so the test still shows up
as skipped).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
MISSING = "../shared/reference not present"


def reference_present() -> bool:
    return REFERENCE.is_dir()


def reference_params(folder: str, pattern: str = "*") -> list:
    """pytest parameters: the names of the files in REFERENCE/folder matching the glob `pattern`."""
    d = REFERENCE / folder
    names = sorted(p.name for p in d.glob(pattern)) if d.is_dir() else []
    return names or [pytest.param(None, id="no-reference", marks=pytest.mark.skip(reason=MISSING))]
