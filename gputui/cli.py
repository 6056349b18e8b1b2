"""Command-line entry point.

Only argparse is imported here: `gputui --help` must stay fast, so every subcommand
names its handler as "module:function" and the module is imported when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from gputui import __version__
from gputui.errors import EXIT_INTERRUPTED, EXIT_USAGE, GputuiError

FORMATS = ("text", "json", "yaml", "markdown")
SEVERITIES = ("info", "warning", "error")


def _add_common_options(p: argparse.ArgumentParser, top: bool = False) -> None:
    """Options accepted before or after the subcommand.

    Subparsers use SUPPRESS defaults so `gputui --context x diagnose` keeps the
    value given before the subcommand (argparse would otherwise reset it).
    """

    def d(value):
        return value if top else argparse.SUPPRESS

    p.add_argument("--debug", action="store_true", default=d(False), help="show tracebacks for errors")
    p.add_argument(
        "--read-only",
        action="store_true",
        default=d(False),
        help="never change the cluster; hide every mutating action",
    )
    g = p.add_argument_group("cluster access (as kubectl)")
    g.add_argument(
        "--kubeconfig",
        metavar="FILE",
        default=d(None),
        help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)",
    )
    g.add_argument("--context", metavar="NAME", default=d(None), help="kubeconfig context (default: current-context)")
    g.add_argument(
        "-n", "--namespace", metavar="NS", default=d(None), help="limit namespaced objects to this namespace"
    )
    g.add_argument(
        "--request-timeout",
        metavar="SECONDS",
        type=float,
        default=d(30.0),
        help="timeout for each API request (default: 30)",
    )


def _handler(target: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        module, _, func = target.partition(":")
        return getattr(importlib.import_module(module), func)(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gputui",
        description="Troubleshoot GPU nodes on Kubernetes: Karpenter NodePools/NodeClaims and the NVIDIA GPU Operator.",
        epilog="Run `gputui demo` to try it on a built-in simulated cluster.",
    )
    parser.add_argument("--version", action="version", version=f"gputui {__version__}")
    _add_common_options(parser, top=True)
    parser.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=float,
        default=None,
        help="interactive app: read the cluster again every SECONDS",
    )
    parser.set_defaults(func=_handler("gputui.app_entry:run"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # -- diagnose ---------------------------------------------------------
    p = sub.add_parser(
        "diagnose",
        help="run the checks once and report (text/json/yaml/markdown)",
        description="Run every check against the cluster (or saved manifests) and report the findings.",
    )
    _add_common_options(p)
    p.add_argument("-o", "--output", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument(
        "--from",
        dest="from_paths",
        metavar="PATH",
        action="append",
        help="analyse saved manifests or a snapshot offline instead of a live cluster (repeatable)",
    )
    p.add_argument(
        "--check", dest="checks", metavar="CODE|NAME", action="append", help="run only these checks (repeatable)"
    )
    p.add_argument(
        "--node", dest="nodes", metavar="NAME", action="append", help="only findings about this node (repeatable)"
    )
    p.add_argument(
        "--nodepool", dest="nodepools", metavar="NAME", action="append", help="only findings about this NodePool"
    )
    p.add_argument("--min-severity", choices=SEVERITIES, default="info", help="hide findings below this severity")
    p.add_argument(
        "--fail-on",
        choices=SEVERITIES + ("none",),
        default="error",
        help="exit 1 when a finding at or above this severity exists (default: error)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress indicator on stderr")
    p.set_defaults(func=_handler("gputui.diagnose:run"))

    # -- snapshot ---------------------------------------------------------
    p = sub.add_parser("snapshot", help="save what a live gathering reads, for offline diagnosis or the simulator")
    _add_common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="file to write (YAML, kind: List)")
    p.add_argument("--no-progress", action="store_true", help="no progress indicator on stderr")
    p.set_defaults(func=_handler("gputui.diagnose:run_snapshot"))

    # -- checks -----------------------------------------------------------
    p = sub.add_parser("checks", help="list the checks or explain one")
    csub = p.add_subparsers(dest="checks_command", metavar="ACTION")
    q = csub.add_parser("list", help="list every check: code, name, severity, title")
    q.add_argument("-o", "--output", choices=("text", "json", "markdown"), default="text")
    q.add_argument("--area", help="only the checks of one area (nodes, operator, karpenter, ...)")
    q.set_defaults(func=_handler("gputui.diagnose:run_checks_list"))
    q = csub.add_parser("explain", help="what a check looks at, why it matters and how to fix it")
    q.add_argument("code", metavar="CODE|NAME")
    q.set_defaults(func=_handler("gputui.diagnose:run_checks_explain"))
    p.set_defaults(func=lambda args, p=p: _usage(p))  # bind this parser, not the last one

    # -- sim --------------------------------------------------------------
    p = sub.add_parser("sim", help="a simulated Kubernetes API server with GPU scenarios")
    ssub = p.add_subparsers(dest="sim_command", metavar="ACTION")
    q = ssub.add_parser(
        "serve",
        help="serve scenarios or manifest files on loopback until interrupted",
        description="Serve a built-in scenario, or YAML/JSON manifests, as a Kubernetes API on loopback.",
    )
    q.add_argument(
        "sources",
        nargs="*",
        metavar="SCENARIO|PATH",
        help="built-in scenario name, or a YAML/JSON file or directory (default: incident)",
    )
    q.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: 0, pick a free one)")
    q.add_argument("--kubeconfig-out", metavar="FILE", help="where to write the kubeconfig (default: a temp file)")
    q.add_argument("--synthetic", metavar="SPEC", help="add a generated cluster: nodes=N,gpu-nodes=M,pods=P,events=E")
    q.add_argument("--latency", type=float, default=0.0, metavar="MS", help="delay every request by MS milliseconds")
    q.add_argument("--error-rate", type=float, default=0.0, metavar="P", help="answer this fraction of reads with 5xx")
    q.add_argument("--forbid", metavar="RESOURCE[,..]", help="answer 403 for these resources (e.g. nodeclaims,events)")
    q.add_argument("--expire-continue", action="store_true", help="answer 410 Expired to every continue token")
    q.set_defaults(func=_handler("gputui.sim.cli:run_serve"))
    q = ssub.add_parser("list", help="list the built-in scenarios")
    q.set_defaults(func=_handler("gputui.sim.cli:run_list"))
    p.set_defaults(func=lambda args, p=p: _usage(p))  # bind this parser, not the last one

    # -- undo -------------------------------------------------------------
    p = sub.add_parser(
        "undo",
        help="restore an object a fix changed, from the audit log",
        description="Restore the object a gputui fix changed, as the audit log recorded it "
        "($XDG_STATE_HOME/gputui/audit.jsonl). Without --id: the newest change not undone "
        "for the current context's server.",
    )
    _add_common_options(p)
    p.add_argument("--list", action="store_true", help="list the recorded changes and exit (reads only the log)")
    p.add_argument("--id", metavar="ID", help="the audit entry to undo (see --list)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=_handler("gputui.fixes.cli:run_undo"))

    # -- debug ------------------------------------------------------------
    p = sub.add_parser(
        "debug",
        help="run nvidia-smi debug pods on GPU nodes and compare with what they should have",
        description="Create a short-lived pod per node that runs nvidia-smi against the node's driver "
        "(no GPU requested, every taint tolerated), read and explain its output, then "
        "delete it. -n/--namespace picks the pods' namespace (default: gputui-debug if it "
        "exists, else default).",
    )
    _add_common_options(p)
    p.add_argument("nodes", nargs="*", metavar="NODE", help="node names")
    p.add_argument("--all", action="store_true", help="every GPU node")
    p.add_argument("--nodepool", metavar="NAME", help="every GPU node of this Karpenter NodePool")
    p.add_argument(
        "--mode",
        default="auto",
        choices=("auto", "operator-driver", "host", "runtime"),
        help="how to reach the driver (default: auto, chosen per node and explained)",
    )
    p.add_argument(
        "--image",
        metavar="IMAGE",
        help="container image (default: busybox for chroot modes, CUDA base for runtime/--request-gpu)",
    )
    p.add_argument("--image-pull-secret", metavar="NAME", help="imagePullSecret for --image")
    p.add_argument(
        "--request-gpu",
        action="store_true",
        help="request nvidia.com/gpu: 1 and run nvidia-smi unprivileged (fails when every GPU is taken)",
    )
    p.add_argument("--print", dest="print_only", action="store_true", help="print the pod manifests; create nothing")
    p.add_argument("--cleanup", action="store_true", help="delete leftover gputui debug pods past their deadline")
    p.add_argument("--concurrency", type=int, default=8, metavar="N", help="pods at a time (default: 8)")
    p.add_argument(
        "--timeout", type=int, default=120, metavar="SECONDS", help="activeDeadlineSeconds of each pod (default: 120)"
    )
    p.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    p.set_defaults(func=_handler("gputui.debugpod.cli:run"))

    # -- nodepool ---------------------------------------------------------
    p = sub.add_parser("nodepool", help="edit GPU NodePools with a live preview, start from templates, lint manifests")
    nsub = p.add_subparsers(dest="nodepool_command", metavar="ACTION")
    q = nsub.add_parser("edit", help="open the guided editor on a NodePool (diff, dry run, confirm, apply)")
    _add_common_options(q)
    q.add_argument("name", metavar="NAME", help="the NodePool to edit")
    q.set_defaults(func=_handler("gputui.nodepool.cli:run_edit"))
    q = nsub.add_parser("templates", help="list the NodePool templates: name, then what it is for")
    q.set_defaults(func=_handler("gputui.nodepool.cli:run_templates"))
    q = nsub.add_parser("new", help="start a NodePool from a template: open it in the editor, or print it (-o yaml)")
    _add_common_options(q)
    q.add_argument("--template", required=True, metavar="NAME", help="template name (see `gputui nodepool templates`)")
    q.add_argument("--name", metavar="N", help="NodePool name (default: the template's)")
    q.add_argument("-o", "--output", choices=("yaml",), help="print the manifest instead of opening the editor")
    q.set_defaults(func=_handler("gputui.nodepool.cli:run_new"))
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
    q.add_argument(
        "--fail-on",
        choices=SEVERITIES + ("none",),
        default="error",
        help="exit 1 when a finding at or above this severity exists (default: error)",
    )
    q.set_defaults(func=_handler("gputui.nodepool.cli:run_lint"))
    p.set_defaults(func=lambda args, p=p: _usage(p))  # bind this parser, not the last one

    # -- demo -------------------------------------------------------------
    p = sub.add_parser("demo", help="start the simulator with a scenario and troubleshoot it")
    _add_common_options(p)
    p.add_argument("scenario", nargs="?", default="incident", help="built-in scenario (default: incident)")
    p.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=float,
        default=argparse.SUPPRESS,
        help="read the simulated cluster again every SECONDS",
    )
    p.set_defaults(func=_handler("gputui.app_entry:run_demo"))

    return parser


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or bool(os.environ.get("GPUTUI_DEBUG"))
    try:
        return int(args.func(args) or 0)
    except GputuiError as e:
        if debug:
            raise
        print(f"gputui: error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"  hint: {e.hint}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("gputui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `gputui diagnose | head`: the reader left; not an error worth a traceback.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
