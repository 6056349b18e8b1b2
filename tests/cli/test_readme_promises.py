"""What the README promises a newcomer and a k9s user, checked against the project itself."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from gputui.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_first_lines_install_into_a_virtual_environment_and_name_the_python_version():
    block = re.search(r"```\n(.*?)```", README, re.S).group(1)
    install, test = block.strip().splitlines()  # two commands, no more
    steps = [s.strip() for s in install.split("&&")]
    assert re.fullmatch(r"python3\.\d+ -m venv \.venv", steps[0])
    assert steps[1:] == [". .venv/bin/activate", "pip install -e '.[dev]'", "gputui demo"]
    assert test.strip() == "python -m pytest -q"
    # The version named is one pyproject accepts.
    requires = re.search(r'requires-python = "(.*?)"', (ROOT / "pyproject.toml").read_text()).group(1)
    low = tuple(int(x) for x in requires.removeprefix(">=").split("."))
    named = tuple(int(x) for x in steps[0].split()[0].removeprefix("python").split("."))
    assert named >= low
    intro = README[: README.index("## ")]
    assert f"Python {low[0]}.{low[1]} or newer" in intro


def test_the_k9s_plugins_are_valid_and_run_real_gputui_commands():
    block = re.search(r"<!-- k9s-plugins -->\n```yaml\n(.*?)```", README, re.S).group(1)
    plugins = yaml.safe_load(block)["plugins"]
    assert set(plugins) == {"gputui", "gputui-diagnose", "gputui-debug"}
    allowed = {"shortCut", "override", "description", "confirm", "dangerous", "scopes", "command", "background"}
    allowed |= {"overwriteOutput", "args", "inputs"}
    parser = build_parser()
    for name, p in plugins.items():
        assert {"shortCut", "description", "scopes", "command"} <= set(p) <= allowed, name
        assert all(isinstance(a, str) for a in p["args"])
        argv = [p["command"], *p["args"]]
        if argv[:2] == ["bash", "-c"]:
            argv = shlex.split(argv[2].split("2>&1")[0])
        assert argv[0] == "gputui"
        # $NAME is the selected row: a context in the contexts view, a node in the nodes view.
        row = "prod" if p["scopes"] == ["contexts"] else "ip-10-0-1-2"
        filled = [a.replace("$CONTEXT", "prod").replace("$NAME", row) for a in argv[1:]]
        args = parser.parse_args(filled)  # exits (SystemExit) on an option gputui does not have
        assert args.context == "prod"
    assert plugins["gputui-debug"]["confirm"] is True  # a privileged pod is never started by surprise
    shortcuts = [(p["shortCut"], tuple(p["scopes"])) for p in plugins.values()]
    assert len(set(shortcuts)) == len(shortcuts)
