"""`gputui debug`: run nvidia-smi debug pods on GPU nodes and report what the GPUs say.

Exit codes: 0 every node answered and nothing at error severity; 1 a finding at error
severity or a node that could not be asked; 2 usage; 4 no cluster; 6 node not found;
130 interrupted (every pod created so far is deleted first).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from gputui.commands.options import add_common_options
from gputui.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, GputuiError


def register(sub) -> None:
    p = sub.add_parser(
        "debug",
        help="run nvidia-smi debug pods on GPU nodes and compare with what they should have",
        description="Create a short-lived pod per node that runs nvidia-smi against the node's driver "
        "(no GPU requested, every taint tolerated), read and explain its output, then "
        "delete it. -n/--namespace picks the pods' namespace (default: gputui-debug if it "
        "exists, else default).",
    )
    add_common_options(p)
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gputui.kube.client import from_args

    _check_args(args)
    if getattr(args, "read_only", False) and not args.print_only:
        raise GputuiError(
            "gputui debug creates pods, which --read-only forbids",
            hint="drop --read-only, or use --print to see the manifests",
            exit_code=EXIT_USAGE,
        )
    with from_args(args) as kube:
        kube.version()
        if args.cleanup:
            return _cleanup(kube)
        return _debug(kube, args)


def _check_args(args: argparse.Namespace) -> None:
    picked = sum(bool(x) for x in (args.nodes, args.all, args.nodepool))
    if args.cleanup:
        return
    if picked == 0:
        raise GputuiError(
            "say which nodes to debug", hint="gputui debug NODE..., --all or --nodepool NAME", exit_code=EXIT_USAGE
        )
    if picked > 1:
        raise GputuiError(
            "NODE..., --all and --nodepool exclude each other",
            hint="pick one way to choose nodes",
            exit_code=EXIT_USAGE,
        )
    if args.concurrency < 1:
        raise GputuiError("--concurrency must be at least 1", exit_code=EXIT_USAGE)
    if args.timeout < 10:
        raise GputuiError(
            "--timeout must be at least 10 seconds",
            hint="nvidia-smi -q alone can take seconds on an 8-GPU node",
            exit_code=EXIT_USAGE,
        )


def _cleanup(kube) -> int:
    from gputui.debugpod import cleanup

    leftovers = cleanup.find_leftovers(kube)
    if not leftovers:
        print("No leftover gputui debug pods.")
        return EXIT_OK
    removed, failed = cleanup.remove(kube, leftovers)
    for l in removed:
        print(f"deleted {l}")
    for l, why in failed:
        print(f"could not delete {l}: {why}", file=sys.stderr)
    return EXIT_OK if not failed else EXIT_FINDINGS


def _debug(kube, args: argparse.Namespace) -> int:
    from gputui.debugpod import cleanup, fleet_run, spec
    from gputui.debugpod.runner import DebugRunner

    mode = fleet_run.check_mode(args.mode)
    nodes = fleet_run.select_nodes(kube, args.nodes or (), all_gpu=args.all, nodepool=args.nodepool)
    driver_pods, operator_present = fleet_run.driver_pods_by_node(kube)
    namespace, ns_reason = fleet_run.choose_namespace(kube, getattr(args, "namespace", None))
    opts = fleet_run.RunOptions(
        namespace=namespace,
        run_id=spec.new_run_id(),
        mode=mode,
        image=args.image,
        image_pull_secret=args.image_pull_secret,
        request_gpu=args.request_gpu,
        deadline_seconds=int(args.timeout),
    )
    runs = fleet_run.plan_runs(nodes, opts, driver_pods=driver_pods, operator_present=operator_present)
    if args.print_only:
        return _print_manifests(runs)

    leftovers = []
    try:
        leftovers = cleanup.find_leftovers(kube)
    except Exception:  # noqa: BLE001 - listing leftovers is a courtesy, not a requirement
        pass
    if leftovers:
        print(
            f"gputui: {len(leftovers)} leftover debug pod(s) from earlier runs are past their deadline:",
            file=sys.stderr,
        )
        for l in leftovers[:10]:
            print(f"  {l}", file=sys.stderr)
        print("  hint: remove them with `gputui debug --cleanup`", file=sys.stderr)

    progress = _Progress(enabled=not args.no_progress and sys.stderr.isatty(), total=len(runs))
    runner = DebugRunner(kube, concurrency=args.concurrency, progress=progress.update)
    print(
        f"gputui: debugging {len(runs)} node(s) in namespace {namespace} ({ns_reason}); run {opts.run_id}",
        file=sys.stderr,
    )
    try:
        with _sigterm_as_interrupt():
            runner.run(runs)
    except KeyboardInterrupt:
        progress.clear()
        _interrupted_cleanup(runner)
        raise
    except BaseException:
        runner.cancel()
        runner.cleanup()
        raise
    finally:
        progress.clear()
    observations = fleet_run.observe(runs, nodes)
    findings = fleet_run.fleet_findings(observations)
    _output(args.output, observations, findings, namespace, ns_reason, opts.run_id, leftovers)
    from checks.model import Severity

    failed = any(o.pod_problem is not None for o in observations)
    return EXIT_FINDINGS if failed or any(f.severity >= Severity.ERROR for f in findings) else EXIT_OK


def _interrupted_cleanup(runner) -> None:
    """Ctrl-C: stop the workers, delete what was created; a second Ctrl-C cannot cut this short."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        runner.cancel()
        removed = runner.cleanup()
        print(f"gputui: interrupted; deleted {len(removed)} debug pod(s)", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_manifests(runs) -> int:
    import yaml

    for i, r in enumerate(runs):
        if i:
            print("---")
        print(f"# node {r.node}: mode {r.mode} ({r.mode_reason})")
        sys.stdout.write(yaml.safe_dump(r.pod, sort_keys=False, default_flow_style=False))
    return EXIT_OK


def _output(fmt: str, observations, findings, namespace: str, ns_reason: str, run_id: str, leftovers) -> None:
    if fmt == "json":
        import json

        doc = {
            "apiVersion": "gputui.dev/debug/v1",
            "runId": run_id,
            "namespace": namespace,
            "namespaceReason": ns_reason,
            "nodes": [o.to_json() for o in observations],
            "findings": [f.to_json() for f in findings],
            "leftovers": [str(l) for l in leftovers],
        }
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    from gputui.debugpod.render import findings_block, node_block

    out: list[str] = []
    for o in observations:
        out.extend(node_block(o))
        out.append("")
    out.extend(findings_block(findings))
    sys.stdout.write("\n".join(out) + "\n")


class _Progress:
    """One status line on stderr while pods run (TTY only)."""

    def __init__(self, enabled: bool, total: int):
        self.enabled = enabled
        self.total = total
        self.status: dict[str, str] = {}
        import threading

        self._lock = threading.Lock()

    def update(self, node: str, status: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.status[node] = status
            done = sum(1 for s in self.status.values() if s in ("done", "failed", "cancelled"))
            running = sum(1 for s in self.status.values() if s in ("creating", "pending", "running", "reading"))
            sys.stderr.write(f"\r\033[Knvidia-smi: {done}/{self.total} done, {running} running")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
