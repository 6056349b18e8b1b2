"""The check package stays navigable: small modules, names that say what they hold."""

from pathlib import Path

import checks

PACKAGE = Path(checks.__file__).parent
MAX_LINES = 800


def test_no_module_over_800_lines():
    long = {
        p.name: n for p in PACKAGE.glob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules by what they hold: {long}"


def test_no_grab_bag_or_ambiguous_module_names():
    # messages/objects/fleet mean other things in gputui; gpuchain was a grab bag.
    assert not {p.stem for p in PACKAGE.glob("*.py")} & {"messages", "objects", "fleet", "gpuchain", "utils", "helpers"}
