"""`gputui debug`: run nvidia-smi debug pods on GPU nodes and report what the GPUs say.

Exit codes: 0 every node answered and nothing at error severity; 1 a finding at error
severity or a node that could not be asked; 2 usage; 3 debug pods that could not be
deleted (their names and the `kubectl delete pod` command are printed), or a read the API
server kept failing after its retries; 4 no cluster, or
your identity may not read nodes or pods or create pods; 6 node not found; 128+N after
signal N — 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT — once every pod created so
far is deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
from collections.abc import Callable, Iterator

from gputui.commands.options import add_common_options
from gputui.errors import (
    EXIT_CONNECT,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    GputuiError,
    Interrupted,
    stop_signals_as_interrupt,
    stop_signals_handled_by,
)

EXIT_CODES_HELP = (
    "exit codes: 0 every node answered, nothing at error severity; 1 a finding at error severity or a node "
    "that could not be asked; 2 usage; 3 debug pods could not be deleted (names and the kubectl command are "
    "printed) or the API server kept failing a read; 4 no cluster, or your identity may not read nodes or pods or create pods; 6 node not found; "
    "128+N after signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT), once the run's pods are deleted"
)


def register(sub) -> None:
    p = sub.add_parser(
        "debug",
        help="run nvidia-smi debug pods on GPU nodes and compare with what they should have",
        description="Create a short-lived pod per node that runs nvidia-smi against the node's driver "
        "(no GPU requested, every taint tolerated), read and explain its output, then "
        "delete it. -n/--namespace picks the pods' namespace (default: gputui-debug if it "
        "exists, else default).",
        epilog=EXIT_CODES_HELP,
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
    p.add_argument(
        "--cleanup",
        action="store_true",
        help="delete gputui debug pods of runs that are over (owner process gone, or past the deadline); "
        "asks before deleting pods of runs that may still be running",
    )
    p.add_argument("--yes", action="store_true", help="with --cleanup: delete those too without asking")
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
    try:
        with stop_signals_as_interrupt(), from_args(args) as kube:
            kube.version()
            if args.cleanup:
                return _cleanup(kube, namespace=getattr(args, "namespace", None), yes=args.yes)
            return _debug(kube, args)
    except Interrupted as e:
        if not e.reported:
            _say(f"gputui: interrupted ({e.name})")
        return e.exit_code


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


def _forbidden(e, verb: str, resource: str, where: str = "") -> GputuiError:
    """One line for an RBAC refusal of a read or write this command cannot do without."""
    scope = f" in namespace {where}" if where else (" in any namespace" if resource == "pods" else "")
    return GputuiError(
        f"not allowed to {verb} {resource}{scope}: {e.message}",
        hint=f"your identity needs `{verb}` on {resource}{scope} (RBAC); check with "
        f"`kubectl auth can-i {verb} {resource}"
        + (f" -n {where}`" if where else ("`" if not scope else " -A`; or pass -n NAMESPACE to look in one")),
        exit_code=EXIT_CONNECT,
    )


def _read(what, call, verb: str, resource: str, where: str = ""):
    """A read this command needs: Forbidden becomes one line (exit 4); 5xx were retried already."""
    from gputui.kube.errors import KubeApiError, TransportTimeout

    try:
        return call()
    except KubeApiError as e:
        if e.status == 403:
            raise _forbidden(e, verb, resource, where) from None
        raise GputuiError(
            f"could not {what}: {e.status} {e.reason}: {e.message}",
            hint="the API server kept failing (retried); try again in a moment",
            exit_code=EXIT_PARTIAL if e.retryable else EXIT_CONNECT,
        ) from None
    except TransportTimeout as e:
        raise GputuiError(
            f"could not {what}: {e}", hint="a slow server needs a larger --request-timeout", exit_code=EXIT_CONNECT
        ) from None


def _cleanup(kube, *, namespace: str | None, yes: bool) -> int:
    from gputui.debugpod import cleanup

    pods = _read(
        "list gputui debug pods",
        lambda: cleanup.survey(kube, namespace=namespace),
        "list",
        "pods",
        namespace or "",
    )
    pods = [p for p in pods if p.state != cleanup.TERMINATING]
    if not pods:
        print("No leftover gputui debug pods.")
        return EXIT_OK
    code = _delete_and_report(kube, [p for p in pods if p.removable])
    maybe_live = [p for p in pods if not p.removable]
    if not maybe_live:
        return code
    print(f"{len(maybe_live)} debug pod(s) of runs that may still be running:")
    for p in maybe_live:
        if p.state == cleanup.LIVE:
            why = "its gputui process still runs"
        else:
            why = f"{'another host' if p.owner else 'no owner recorded'}, before its deadline"
        print(f"  {p}: {why}")
    if not yes:
        if not sys.stdin.isatty():
            print("  left alone: pass --yes to delete them too (their run then loses its pods)")
            return code
        answer = input(f"Delete these {len(maybe_live)} pod(s) too? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("  left alone.")
            return code
    return max(code, _delete_and_report(kube, maybe_live))


def _delete_and_report(kube, pods) -> int:
    from gputui.debugpod import cleanup

    removed, failed = cleanup.remove(kube, pods)
    for l in removed:
        print(f"deleted {l}")
    if failed:
        _report_undeleted([(l.namespace, l.name, why) for l, why in failed])
        return EXIT_PARTIAL
    return EXIT_OK


def _report_undeleted(pods: list[tuple[str, str, str]]) -> None:
    """Debug pods left in the cluster: their names, why, and the command that deletes them."""
    from gputui.debugpod.cleanup import kubectl_delete

    _say(f"gputui: error: could not delete {len(pods)} debug pod(s); they stop at their deadline but stay listed:")
    for ns, name, why in pods:
        _say(f"  {ns}/{name}: {why}")
    for command in kubectl_delete((ns, name) for ns, name, _ in pods):
        _say(f"  hint: delete them with `{command}` (or `gputui debug --cleanup`)")


def _say(text: str) -> None:
    """A line on stderr that cannot fail (after SIGHUP the terminal may be gone)."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _pick_nodes(kube, args: argparse.Namespace) -> list[dict]:
    """The nodes asked for. A node may be given by its short name (up to the first dot) when
    that is unique; one that matches nothing is named with the closest names, and a NodePool
    that does not exist is a usage error that names the closest NodePools."""
    from gputui.debugpod import fleet_run
    from gputui.debugpod.runner import read_json
    from gputui.errors import NotFoundError
    from gputui.kube.errors import KubeApiError, TransportTimeout
    from gputui.report.selection import ambiguous, closest_hint, matching_names

    def select():
        return _read(
            "read the nodes",
            lambda: fleet_run.select_nodes(kube, args.nodes or (), all_gpu=args.all, nodepool=args.nodepool),
            "get" if args.nodes else "list",
            "nodes",
        )

    def names(path: str) -> list[str]:
        try:
            items = (read_json(kube, path) or {}).get("items") or []
        except (KubeApiError, TransportTimeout):
            return []
        return [i["metadata"]["name"] for i in items]

    try:
        return select()
    except NotFoundError:
        if args.nodes:
            known = names("/api/v1/nodes")
            if not known:
                raise
            resolved: list[str] = []
            for name in args.nodes:
                found = matching_names(name, known)
                if not found:
                    raise NotFoundError(f"node {name} not found", hint=closest_hint(name, known, "node")) from None
                if len(found) > 1:
                    raise ambiguous(name, found, "node", "NODE") from None
                resolved += found
            if resolved != args.nodes:
                args.nodes = resolved
                return select()
        elif args.nodepool:
            pools = names("/apis/karpenter.sh/v1/nodepools") or names("/apis/karpenter.sh/v1beta1/nodepools")
            if pools and args.nodepool not in pools:
                raise GputuiError(
                    f"no NodePool matches --nodepool {args.nodepool}",
                    hint=closest_hint(args.nodepool, sorted(pools), "NodePool"),
                    exit_code=EXIT_USAGE,
                ) from None
        raise


def _debug(kube, args: argparse.Namespace) -> int:
    from gputui.debugpod import cleanup, fleet_run, spec
    from gputui.debugpod.runner import DebugRunner

    mode = fleet_run.check_mode(args.mode)
    nodes = _pick_nodes(kube, args)
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
        _say(f"gputui: {len(leftovers)} leftover debug pod(s) from runs that are over:")
        for l in leftovers[:10]:
            _say(f"  {l}")
        _say("  hint: remove them with `gputui debug --cleanup`")

    progress = _Progress(enabled=not args.no_progress and sys.stderr.isatty(), total=len(runs))
    runner = DebugRunner(kube, concurrency=args.concurrency, progress=progress.update)
    _say(f"gputui: debugging {len(runs)} node(s) in namespace {namespace} ({ns_reason}); run {opts.run_id}")
    try:
        runner.run(runs)
    except BaseException as stop:
        progress.clear()
        _stop_and_clean(runner, stop if isinstance(stop, KeyboardInterrupt) else None)
        if isinstance(stop, KeyboardInterrupt):
            _output_finished(args.output, runs, nodes, namespace, ns_reason, opts.run_id, leftovers, runner)
        raise
    finally:
        progress.clear()
    with _signals_held(raise_pending=True):
        runner.cleanup()  # pods whose DELETE failed get their tries again; a straggler of this run is found
    if runner.undeleted:
        _report_undeleted([(ns, name, why) for (ns, name), why in sorted(runner.undeleted.items())])
    observations = fleet_run.observe(runs, nodes)
    if observations and all(o.pod_problem is not None and o.pod_problem.kind == "forbidden" for o in observations):
        problem = observations[0].pod_problem
        message = problem.message if problem else ""
        # The API server's message names what was refused: `cannot get resource "pods/log"`.
        refused = re.search(r'cannot (\w+) resource "([\w./-]+)"', message)
        verb, resource = refused.groups() if refused else ("create", "pods")
        raise GputuiError(
            f"not allowed to {verb} {resource} in namespace {namespace}: {message}",
            hint=problem.hint if problem else None,
            exit_code=EXIT_CONNECT,
        )
    findings = fleet_run.fleet_findings(observations)
    undeleted = [f"{ns}/{name}" for ns, name in sorted(runner.undeleted)]
    _output(args.output, observations, findings, namespace, ns_reason, opts.run_id, leftovers, undeleted)
    from checks.model import Severity

    if runner.undeleted:
        return EXIT_PARTIAL
    failed = any(o.pod_problem is not None for o in observations)
    return EXIT_FINDINGS if failed or any(f.severity >= Severity.ERROR for f in findings) else EXIT_OK


def _output_finished(fmt: str, runs, nodes, namespace: str, ns_reason: str, run_id: str, leftovers, runner) -> None:
    """After a stop, what the nodes that finished found is still worth having."""
    from gputui.debugpod import fleet_run

    # A run whose log was read (or whose pod failed for its own reasons) is finished, whatever
    # its status says yet: the status is set only after the pod's DELETE.
    finished = [
        r for r in runs if r.report is not None or (r.pod_problem is not None and r.pod_problem.kind != "cancelled")
    ]
    if not finished:
        return
    observations = fleet_run.observe(finished, nodes)
    undeleted = [f"{ns}/{name}" for ns, name in sorted(runner.undeleted)]
    try:
        _output(
            fmt,
            observations,
            fleet_run.fleet_findings(observations),
            namespace,
            ns_reason,
            run_id,
            leftovers,
            undeleted,
            total=len(runs),
        )
        sys.stdout.flush()
    except (OSError, ValueError):
        pass  # the terminal went away with the signal


def _stop_and_clean(runner, interrupted: KeyboardInterrupt | None) -> None:
    """Stop the workers and delete what was created; further stop signals cannot cut this short."""
    with _signals_held(raise_pending=False, then=runner.hurry):
        runner.cancel()
        name = interrupted.name if isinstance(interrupted, Interrupted) else "SIGINT"
        if interrupted is not None:
            from gputui.debugpod.runner import CREATE_GRACE_SECONDS

            waiting = len(runner.in_flight())
            more = (
                f"; waiting up to {CREATE_GRACE_SECONDS:g}s for {waiting} create request(s) in flight "
                "(stop again to skip that)"
                if waiting
                else ""
            )
            _say(f"gputui: {name}: stopping; deleting the debug pods created so far{more}")
        removed = runner.cleanup()
        if interrupted is not None:
            _say(f"gputui: interrupted; deleted {len(removed)} debug pod(s)")
        if isinstance(interrupted, Interrupted):
            interrupted.reported = True
        if runner.undeleted:
            _report_undeleted([(ns, name, why) for (ns, name), why in sorted(runner.undeleted.items())])
        if runner.unanswered:
            names = ", ".join(f"{ns}/{name}" for ns, name in runner.unanswered)
            _say(
                f"gputui: {len(runner.unanswered)} pod create request(s) had no answer: {names}; if the API "
                "server made them, they stop at their deadline and `gputui debug --cleanup` deletes them"
            )


@contextlib.contextmanager
def _signals_held(raise_pending: bool, then: Callable[[], None] | None = None) -> Iterator[None]:
    """Stop signals that arrive now are noted and ignored: the cleanup they would cut short is
    what they ask for (`then` is called, e.g. to stop waiting for creates in flight). With
    `raise_pending` the first one is raised afterwards as Interrupted."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def note(signum, frame):
        if not pending:
            _say(f"gputui: {signal.Signals(signum).name} again: deleting the debug pods still comes first")
        pending.append(signum)
        if then is not None:
            then()

    with stop_signals_handled_by(note):
        yield
    if pending and raise_pending:
        raise Interrupted(pending[0])


def _print_manifests(runs) -> int:
    import yaml

    for i, r in enumerate(runs):
        if i:
            print("---")
        print(f"# node {r.node}: mode {r.mode} ({r.mode_reason})")
        sys.stdout.write(yaml.safe_dump(r.pod, sort_keys=False, default_flow_style=False))
    return EXIT_OK


def _output(
    fmt: str,
    observations,
    findings,
    namespace: str,
    ns_reason: str,
    run_id: str,
    leftovers,
    undeleted: list[str],
    total: int | None = None,
) -> None:
    """The run's report; `total` > len(observations) when the run was stopped before the rest."""
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
            "undeletedPods": undeleted,
            "interrupted": total is not None and total > len(observations),
            "nodesPlanned": total if total is not None else len(observations),
        }
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    from gputui.debugpod.render import findings_block, node_block, summary_block, worst_first

    # The summary (failures first) before the detail: with --all the detail runs to pages.
    out: list[str] = summary_block(observations, total) if len(observations) > 1 or total else []
    if out:
        out.append("")
    for o in worst_first(observations):
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
