"""`gputui sim serve` and `gputui sim list`."""

from __future__ import annotations

import re
import shlex
import signal
import sys
import threading
from argparse import Namespace

from gputui.errors import InputError


def run_serve(args: Namespace) -> int:
    from gputui.sim.faults import Faults, normalize_forbid
    from gputui.sim.runtime import start_simulator

    if args.error_rate < 0 or args.error_rate > 1:
        raise InputError(f"--error-rate {args.error_rate}: must be between 0 and 1", hint="e.g. --error-rate 0.1")
    if args.latency < 0:
        raise InputError(f"--latency {args.latency}: must not be negative", hint="milliseconds, e.g. --latency 200")
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: not a TCP port", hint="0 picks a free port")
    from gputui.sim.rbac import parse_identity, write_kubeconfig

    identities = {}
    for spec in getattr(args, "user", None) or []:
        try:
            token, identity = parse_identity(spec)
        except ValueError as e:
            raise InputError(f"--user {e}", hint="e.g. --user alice=s3cret or --user ci:gputui-readers=t0ken")
        identities[token] = identity
    churn = getattr(args, "churn", None)
    if churn:
        from gputui.sim.churn import parse_churn

        parse_churn(churn)  # a bad rate is the user's error: say so before serving
    sources = list(args.sources or []) or ([] if args.synthetic else ["incident"])
    faults = Faults(
        latency_ms=args.latency,
        error_rate=args.error_rate,
        forbid=normalize_forbid(args.forbid),
        expire_continue=bool(args.expire_continue),
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sim = start_simulator(
        sources=sources,
        synthetic=args.synthetic,
        port=args.port,
        kubeconfig_out=args.kubeconfig_out,
        faults=faults,
        identities=identities,
        behaviour=not getattr(args, "static", False),
        controllers=not getattr(args, "no_controllers", False),
        delays=getattr(args, "delays", None) or "demo",
        churn=churn,
        seed=getattr(args, "seed", 0),
    )
    written: list = []
    try:
        print(f"export KUBECONFIG={shlex.quote(str(sim.kubeconfig))}", flush=True)
        counts = sim.store.counts()
        shown = ", ".join(f"{n} {name}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:8])
        err = sys.stderr
        print(f"gputui sim: serving {' '.join(sources) or 'synthetic'} at {sim.url}", file=err)
        if args.synthetic:
            print(f"  synthetic: {args.synthetic}", file=err)
        print(f"  objects: {sum(counts.values())} ({shown})", file=err)
        if faults.latency_ms or faults.error_rate or faults.forbid or faults.expire_continue:
            print(
                f"  faults: latency {faults.latency_ms:g} ms, error rate {faults.error_rate:g}, "
                f"forbid {','.join(faults.forbid) or '-'}, expire continue {faults.expire_continue}",
                file=err,
            )
        for token, identity in identities.items():
            path = write_kubeconfig(
                sim.kubeconfig.with_name(f"{sim.kubeconfig.name}.{re.sub(r'[^A-Za-z0-9._-]', '_', identity.user)}"),
                sim.url,
                token,
                identity,
            )
            written.append(path)
            groups = f" (groups {', '.join(identity.groups)})" if identity.groups else ""
            print(
                f"  user {identity.user}{groups}, judged by the served RBAC: KUBECONFIG={shlex.quote(str(path))}",
                file=err,
            )
        if churn:
            print(f"  churn: {churn} (seed {getattr(args, 'seed', 0)})", file=err)
        if getattr(args, "static", False):
            print("  static: no scheduler, kubelet or controllers act on the objects", file=err)
        print("  Ctrl-C to stop", file=err, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        for path in written:
            path.unlink(missing_ok=True)
    print("gputui sim: stopped", file=sys.stderr)
    return 0


def run_list(args: Namespace) -> int:
    from gputui.sim.scenario_index import scenario_description, scenario_names

    names = scenario_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        print(f"{name:<{width}}  {scenario_description(name)}")
    return 0
