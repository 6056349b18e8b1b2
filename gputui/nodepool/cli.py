"""`gputui nodepool edit|templates|new|lint` handlers (argparse lives in gputui/cli.py)."""

from __future__ import annotations

import argparse
import sys

from gputui.errors import EXIT_OK, EXIT_USAGE, GputuiError, InputError


def run_templates(args: argparse.Namespace) -> int:
    from gputui.nodepool.templates import TEMPLATES

    width = max(len(n) for n in TEMPLATES)
    for t in TEMPLATES.values():
        print(f"{t.name:<{width}}  {t.summary}")
    return EXIT_OK


def _yaml(docs: list[dict]) -> str:
    import yaml

    return "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in docs)


def run_new(args: argparse.Namespace) -> int:
    from gputui.nodepool import templates

    t = templates.get(args.template)
    if args.name is not None:
        _check_name(args.name)
    docs = t.build(args.name)
    if args.output == "yaml":
        sys.stdout.write(_yaml(docs))
        return EXIT_OK
    if len(docs) != 1:
        raise InputError(
            f"template {t.name} defines {len(docs)} NodePools; the editor edits one at a time",
            hint=f"write them with `gputui nodepool new --template {t.name} -o yaml` and apply the file",
        )
    return _open_editor(args, docs[0]["metadata"]["name"], docs[0])


def run_edit(args: argparse.Namespace) -> int:
    _check_name(args.name)
    return _open_editor(args, args.name, None)


def _check_name(name: str) -> None:
    import re

    if not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", name) or len(name) > 253:
        raise GputuiError(
            f"{name!r} is not a valid NodePool name",
            hint="use lowercase letters, digits and '-', starting and ending with a letter or digit",
            exit_code=EXIT_USAGE,
        )


def _open_editor(args: argparse.Namespace, name: str, draft: dict | None) -> int:
    if getattr(args, "read_only", False):
        raise GputuiError(
            "the NodePool editor changes the cluster and is not available with --read-only",
            hint="use `gputui nodepool lint FILE` or `gputui diagnose --nodepool NAME` to review "
            "without changing anything",
            exit_code=EXIT_USAGE,
        )
    from gputui.app_entry import _config

    config = _config(args, getattr(args, "kubeconfig", None), getattr(args, "context", None))
    editor_app(config, name, draft).run()
    return EXIT_OK


def editor_app(config, name: str, draft: dict | None = None):
    """The app, opening straight on the editor for `name` (a new NodePool when `draft` is given)."""
    import inspect
    from pathlib import Path

    from gputui.tui.app import GputuiApp

    class NodePoolEditorApp(GputuiApp):
        # Textual resolves a relative CSS_PATH next to the subclass's module: point at the app's own.
        CSS_PATH = str(Path(inspect.getfile(GputuiApp)).parent / GputuiApp.CSS_PATH)

        def on_mount(self) -> None:
            super().on_mount()
            from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

            self.push_screen(NodePoolEditScreen(name, draft=draft))

    return NodePoolEditorApp(config)


def run_lint(args: argparse.Namespace) -> int:
    from gputui.nodepool.lint import run

    return run(args)
