"""`gputui sim serve|list`: the options; what they do lives in gputui.sim."""

from __future__ import annotations

import argparse

from gputui.commands.options import print_usage_when_bare


def register(sub) -> None:
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
    q.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME[:GROUP,..]=TOKEN",
        help="a bearer token for a user (and groups) whose requests the served RBAC objects judge (repeatable)",
    )
    q.add_argument(
        "--churn",
        metavar="RATES",
        help="make pods and nodes come and go for benchmarks, e.g. pods=50/s,nodes=1/min (as many deleted as created)",
    )
    q.add_argument("--seed", type=int, default=0, help="seed for --churn: the same seed makes the same changes")
    q.add_argument(
        "--delays",
        choices=("fast", "demo", "realistic"),
        default="demo",
        help="how long the simulated GPU Operator and Karpenter take to react (default: demo, a few seconds)",
    )
    q.add_argument(
        "--no-controllers",
        action="store_true",
        help="no GPU Operator, Karpenter or workload controllers: only the scheduler and kubelet act",
    )
    q.add_argument(
        "--static",
        action="store_true",
        help="nothing acts on the objects (no scheduler, kubelet or controllers): only API writes and --churn change them",
    )
    q.set_defaults(func=run_serve)
    q = ssub.add_parser("list", help="list the built-in scenarios")
    q.set_defaults(func=run_list)
    print_usage_when_bare(p)


def run_serve(args: argparse.Namespace) -> int:
    from gputui.sim import cli

    return cli.run_serve(args)


def run_list(args: argparse.Namespace) -> int:
    from gputui.sim import cli

    return cli.run_list(args)
