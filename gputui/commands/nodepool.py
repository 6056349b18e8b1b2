"""`gputui nodepool edit|templates|new|lint`: the guided NodePool editor, its templates, and
the offline lint for CI.

`lint` exit codes: 0 nothing at or above --fail-on (default error); 1 findings at or above
it; 5 a file cannot be read or parsed, or holds no NodePool or EC2NodeClass; 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys

from gputui.commands.options import (
    FORMATS,
    SEVERITIES,
    add_common_options,
    add_fail_on_option,
    print_usage_when_bare,
)
from gputui.errors import EXIT_OK, EXIT_USAGE, GputuiError, InputError


def register(sub) -> None:
    p = sub.add_parser("nodepool", help="edit GPU NodePools with a live preview, start from templates, lint manifests")
    nsub = p.add_subparsers(dest="nodepool_command", metavar="ACTION")
    q = nsub.add_parser("edit", help="open the guided editor on a NodePool (diff, dry run, confirm, apply)")
    add_common_options(q)
    q.add_argument("name", metavar="NAME", help="the NodePool to edit")
    q.set_defaults(func=run_edit)
    q = nsub.add_parser("templates", help="list the NodePool templates: name, then what it is for")
    q.set_defaults(func=run_templates)
    q = nsub.add_parser("new", help="start a NodePool from a template: open it in the editor, or print it (-o yaml)")
    add_common_options(q)
    q.add_argument("--template", required=True, metavar="NAME", help="template name (see `gputui nodepool templates`)")
    q.add_argument("--name", metavar="N", help="NodePool name (default: the template's)")
    q.add_argument("-o", "--output", choices=("yaml",), help="print the manifest instead of opening the editor")
    q.set_defaults(func=run_new)
    q = nsub.add_parser(
        "lint",
        help="check NodePool/EC2NodeClass manifest files offline (for CI)",
        description="Run the NodePool, EC2NodeClass and draft checks on manifest files. Exit codes: "
        "0 clean, 1 findings at or above --fail-on, 5 unreadable or invalid input.",
    )
    q.add_argument("files", nargs="+", metavar="FILE", help="YAML/JSON files or directories")
    q.add_argument("-o", "--output", choices=FORMATS, default="text", help="output format (default: text)")
    q.add_argument(
        "--crd",
        dest="crds",
        metavar="FILE",
        action="append",
        help="validate against this CRD file (e.g. karpenter.sh_nodepools.yaml) instead of the built-in rules",
    )
    q.add_argument("--min-severity", choices=SEVERITIES, default="info", help="hide findings below this severity")
    add_fail_on_option(q)
    q.set_defaults(func=run_lint)
    print_usage_when_bare(p)


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
    from gputui.commands.app import app_config
    from gputui.tui.nodepool_editor_app import NodePoolEditorApp

    config = app_config(args, getattr(args, "kubeconfig", None), getattr(args, "context", None))
    NodePoolEditorApp(config, name, draft).run()
    return EXIT_OK


def run_lint(args: argparse.Namespace) -> int:
    from checks.model import Severity
    from gputui.errors import exit_code_for
    from gputui.nodepool.lint import lint_objects, read_manifests
    from gputui.nodepool.schema import load_crd_files
    from gputui.report import render

    located = read_manifests(args.files)
    crds = load_crd_files(args.crds or [])
    snap, findings = lint_objects(located, crds)
    snap.context = ", ".join(args.files)
    floor = Severity.parse(getattr(args, "min_severity", None) or "info")
    shown = [f for f in findings if f.severity >= floor]
    render(
        args.output or "text",
        snap,
        shown,
        sys.stdout,
        color=None if sys.stdout.isatty() and not os.environ.get("NO_COLOR") else False,
        title="gputui nodepool lint",
    )
    return exit_code_for(shown, args.fail_on or "error", False)
