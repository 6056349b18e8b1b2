"""`gputui --help` must stay fast: it may not import textual or the kubernetes client."""

import subprocess
import sys

HEAVY = ("textual", "kubernetes", "rich", "msgspec")


def _imported_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from gputui.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY=")][-1]
    return set(filter(None, line[len("HEAVY=") :].split(",")))


def test_help_imports_nothing_heavy():
    assert _imported_after(["--help"]) == set()


def test_subcommand_help_imports_nothing_heavy():
    for argv in (["diagnose", "--help"], ["sim", "serve", "--help"], ["checks", "--help"]):
        assert _imported_after(argv) == set(), argv


def test_help_loads_only_the_entry_and_the_command_modules():
    """Command modules import what a handler needs when it runs, not when the parser is built."""
    code = (
        "import sys\n"
        "from gputui.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('OURS=' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('gputui', 'checks'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("OURS=")][-1]
    ours = set(line[len("OURS=") :].split(","))
    assert {m for m in ours if not m.startswith("gputui.commands")} == {"gputui", "gputui.cli", "gputui.errors"}
    assert {"gputui.commands.diagnose", "gputui.commands.debug", "gputui.commands.nodepool"} <= ours


def test_options_before_the_subcommand_survive_it():
    from gputui.cli import build_parser

    args = build_parser().parse_args(["--context", "prod", "--read-only", "diagnose", "-o", "json"])
    assert args.context == "prod" and args.read_only is True and args.output == "json"
    args = build_parser().parse_args(["diagnose", "--context", "staging"])
    assert args.context == "staging"


def test_usage_error_exits_2():
    proc = subprocess.run(
        [sys.executable, "-m", "gputui", "diagnose", "-o", "xml"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


def test_a_bare_group_command_prints_its_own_usage():
    for group in ("checks", "sim", "nodepool"):
        proc = subprocess.run([sys.executable, "-m", "gputui", group], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, group
        assert f"usage: gputui {group}" in proc.stderr, (group, proc.stderr[:200])


def test_a_bug_is_one_line_and_exit_70_never_a_traceback(monkeypatch, capsys):
    """A crash must not exit 1 (findings): CI has to tell a bug from a diagnosis."""
    import pytest

    from checks.k8s import parse_quantity
    from gputui.cli import main
    from gputui.commands import diagnose
    from gputui.errors import EXIT_INTERNAL

    monkeypatch.setattr(diagnose, "run", lambda args: parse_quantity(None).sqrt())  # a bug: None is no quantity
    assert main(["diagnose", "--from", "healthy"]) == EXIT_INTERNAL == 70
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("gputui: internal error: ValueError: not a Kubernetes quantity: None (at checks/k8s.py:")
    assert err[0].endswith(" in _parse_text)")  # the innermost frame: where the bug is
    assert err[1].startswith("  hint: this is a bug in gputui; run the same command again with --debug")
    assert len(err) == 2
    with pytest.raises(ValueError):  # --debug shows the traceback instead
        main(["diagnose", "--debug", "--from", "healthy"])


def test_internal_error_names_gputuis_own_frame():
    from checks.k8s import format_taint
    from gputui.cli import internal_error_line

    try:
        format_taint(None)  # type: ignore[arg-type]
        raise AssertionError("format_taint accepted nothing")
    except AttributeError as e:
        line = internal_error_line(e)
    assert line.startswith("AttributeError: ")
    assert "(at checks/k8s.py:" in line and line.endswith(" in format_taint)")
