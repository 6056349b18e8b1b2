"""The fault matrix: every gputui command that talks to a cluster, run for real (a `python -m
gputui` process) against the simulator while it misbehaves, and judged on what an on-call
engineer relies on:

* the exit code says what happened (never a traceback, never 1 for a crash);
* a failure is one line (`gputui: error: ...`, maybe a hint line), not a wall of text;
* the run ends in bounded time, however the server stalls;
* nothing is left behind (no gputui debug pod survives the run, no half-written output file);
* nothing changed without a record (every object whose resourceVersion moved has an audit entry).

`CASES` is the matrix; `run_case` runs one case and returns what it saw; `violations` lists
the rules it broke. tests/cli/test_fault_matrix.py asserts no case breaks a rule, and
bench/fault_matrix.py prints the table (cases tried, survived, exit codes and times).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.debugpod import SEL, gpu_fleet, namespace

REPO = Path(__file__).resolve().parents[2]
DEBUG_NS = "gputui-debug"


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]  # after `gputui`; {kubeconfig} and {tmp} are filled in
    exits: frozenset[int]
    faults: dict[str, Any] = field(default_factory=dict)  # Faults fields set before the run
    during: str = ""  # "kill-server" | "sigint" | "sigterm" | "sighup" | "sigquit" | "sigkill"
    after: float = 0.0  # seconds after start for `during` (after `when` holds, if given)
    when: str = ""  # wait for this before acting: "write" (the server got a write), "pods" (a debug pod finished)
    cleanup_after: bool = False  # then run `gputui debug --cleanup --yes`, as the run's last line says to
    says: str = ""  # a text stderr must contain
    bound: float = 30.0  # seconds the whole run may take
    cluster: str = "gpu"  # "gpu": a healthy GPU scenario; "fleet": debug-pod nodes
    kubeconfig: str = ""  # "" (the simulator's), "exec-hang", "exec-fail"
    seed_audit: bool = False  # make a change first (with gputui's applier) for `undo` to restore


def _c(name: str, *argv: str, exits: set[int] | int, **kw: Any) -> Case:
    codes = frozenset({exits} if isinstance(exits, int) else exits)
    return Case(name, tuple(argv), codes, **kw)


DIAG = ("diagnose", "-o", "json", "--fail-on", "none", "--kubeconfig", "{kubeconfig}")
SNAP = ("snapshot", "-o", "{tmp}/snap.json", "--kubeconfig", "{kubeconfig}")
DEBUG_ALL = ("debug", "--all", "--no-progress", "-n", DEBUG_NS, "--kubeconfig", "{kubeconfig}")
UNDO = ("undo", "--yes", "--kubeconfig", "{kubeconfig}")

CASES: tuple[Case, ...] = (
    # Reads: diagnose and snapshot.
    *(
        case
        for cmd, argv in (("diagnose", DIAG), ("snapshot", SNAP))
        for case in (
            _c(f"{cmd}/clean", *argv, exits=0),
            _c(f"{cmd}/latency-300ms", *argv, exits=0, faults={"latency_ms": 300}),
            _c(f"{cmd}/5xx-30%", *argv, exits={0, 3}, faults={"error_rate": 0.3}),
            _c(f"{cmd}/5xx-100%", *argv, exits={3, 4}, faults={"error_rate": 1.0}, bound=60),
            _c(f"{cmd}/403-events", *argv, exits=3, faults={"forbid": ("events",)}, says="events"),
            _c(f"{cmd}/403-nodeclaims", *argv, exits=3, faults={"forbid": ("nodeclaims.karpenter.sh",)}),
            _c(f"{cmd}/403-pods", *argv, exits=3, faults={"forbid": ("pods",)}, says="pods"),
            _c(f"{cmd}/expired-continue", *argv, exits=0, faults={"expire_continue": True}),
            _c(
                f"{cmd}/stalled-server",
                *argv[:-2],
                "--request-timeout",
                "1s",
                *argv[-2:],
                exits={3, 4},
                faults={"latency_ms": 60_000},
                bound=45,
            ),
            _c(
                f"{cmd}/server-killed", *argv, exits={3, 4}, faults={"latency_ms": 400}, during="kill-server", after=1.0
            ),
            _c(
                f"{cmd}/sigint-while-stalled",
                *argv,
                exits=130,
                faults={"latency_ms": 60_000},
                during="sigint",
                after=1.5,
            ),
            _c(
                f"{cmd}/sigterm-while-stalled",
                *argv,
                exits={130, 143},
                faults={"latency_ms": 60_000},
                during="sigterm",
                after=1.5,
            ),
            _c(
                f"{cmd}/exec-plugin-hangs",
                *argv[:-2],
                "--request-timeout",
                "2s",
                *argv[-2:],
                exits=4,
                kubeconfig="exec-hang",
                bound=20,
            ),
            _c(f"{cmd}/exec-plugin-fails", *argv, exits=4, kubeconfig="exec-fail", says="exec"),
        )
    ),
    # Debug pods on the whole fleet: every stage, every stop signal, failing deletes.
    _c("debug/clean", *DEBUG_ALL, exits={0, 1}, cluster="fleet"),
    _c("debug/5xx-30%-reads", *DEBUG_ALL, exits={0, 1, 3}, cluster="fleet", faults={"error_rate": 0.3}),
    _c("debug/403-nodes", *DEBUG_ALL, exits=4, cluster="fleet", faults={"forbid": ("nodes",)}, says="nodes"),
    _c("debug/403-pods", *DEBUG_ALL, exits=4, cluster="fleet", faults={"forbid": ("pods",)}, says="pods"),
    *(
        _c(
            f"debug/{sig}-while-{stage}",
            *DEBUG_ALL,
            exits={128 + int(getattr(signal, sig.upper()))} | {130},
            cluster="fleet",
            faults={"slow": {kind: 3000}},
            during=sig,
            after=0.3,
            when=when,
        )
        for stage, kind, when in (
            ("creating", "POST pods", "write"),
            ("reading-logs", "GET pods/log", "pods"),
        )
        for sig in ("sigint", "sigterm", "sighup", "sigquit")
    ),
    _c(
        "debug/sigkill-then-cleanup",
        *DEBUG_ALL,
        exits={-9},
        cluster="fleet",
        faults={"slow": {"GET pods/log": 3000}},
        during="sigkill",
        after=1.5,
        cleanup_after=True,
    ),
    _c(
        "debug/delete-503-always",
        *DEBUG_ALL,
        exits=3,
        cluster="fleet",
        faults={"fail": {"DELETE pods": -1}},
        says="kubectl delete pod",
        bound=60,
        cleanup_after=True,
    ),
    # Writes: undo of a recorded change.
    _c("undo/clean", *UNDO, exits=0, seed_audit=True),
    _c("undo/patch-503", *UNDO, exits={5, 7}, seed_audit=True, faults={"fail": {"PUT nodepools": -1}}),
    _c("undo/403-patch", *UNDO, exits={5, 7}, seed_audit=True, faults={"forbid": ("nodepools.karpenter.sh",)}),
    _c(
        "undo/sigkill-mid-write",
        *UNDO,
        exits={-9},
        seed_audit=True,
        faults={"write_latency_ms": 3000},
        during="sigkill",
        after=1.5,
    ),
    _c(
        "undo/server-killed-mid-write",
        *UNDO,
        exits=4,
        seed_audit=True,
        faults={"write_latency_ms": 3000},
        during="kill-server",
        after=1.5,
    ),
)


@dataclass
class Outcome:
    case: Case
    code: int
    seconds: float
    stdout: str
    stderr: str
    debug_pods_left: list[str]
    unrecorded_changes: list[str]
    stray_files: list[str] = field(default_factory=list)


def _kubeconfig(sim, kind: str, tmp: Path) -> str:
    if not kind:
        return str(sim.kubeconfig)
    script = tmp / f"{kind}.sh"
    if kind == "exec-hang":
        script.write_text("#!/bin/sh\nsleep 600\n")
    else:
        script.write_text("#!/bin/sh\necho 'error: the credential plugin failed: token expired' >&2\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "sim",
        "clusters": [{"name": "sim", "cluster": {"server": f"http://{sim.host}:{sim.port}"}}],
        "users": [
            {
                "name": "exec",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": str(script),
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "exec"}}],
    }
    path = tmp / f"{kind}.kubeconfig"
    path.write_text(json.dumps(doc))
    return str(path)


def _versions(sim) -> dict[str, str]:
    """kind/namespace/name -> resourceVersion of every object but events and gputui's debug pods."""
    out = {}
    for obj in _all_objects(sim):
        kind = obj.get("kind")
        meta = obj.get("metadata") or {}
        if kind == "Event" or (meta.get("labels") or {}).get("gputui.dev/debug") == "true":
            continue
        out[f"{kind}/{meta.get('namespace') or ''}/{meta.get('name')}"] = str(meta.get("resourceVersion"))
    return out


def _all_objects(sim) -> list[dict]:
    out: list[dict] = []
    for rt in sim.store.types():
        out.extend(sim.store.list(rt)[0])
    return out


def _alive(sim) -> bool:
    return not getattr(sim, "_stopped", False)


def _audited(state: Path) -> set[str]:
    """kind/namespace/name of every object the audit log has an intent for."""
    from gputui.fixes.audit import AuditLog

    log = AuditLog(state / "gputui" / "audit.jsonl")
    seen = set()
    for entry in log.entries():
        t = entry.target or {}
        seen.add(f"{t.get('kind')}/{t.get('namespace') or ''}/{t.get('name')}")
    return seen


def cluster_objects(kind: str) -> tuple[list[str], list[dict]]:
    if kind == "fleet":
        return [], [namespace(DEBUG_NS), *gpu_fleet(4)]
    return ["healthy"], []


def start(case: Case, state: Path):
    """The simulator for `case`, with the audit log seeded when the case undoes a change."""
    from gputui.sim.faults import Faults
    from gputui.sim.runtime import start_simulator

    sources, objects = cluster_objects(case.cluster)
    sim = start_simulator(sources=sources, objects=objects, behaviour=case.cluster == "fleet", faults=Faults())
    if case.seed_audit:
        _seed_change(sim, state)
    return sim


def _seed_change(sim, state: Path) -> None:
    """Raise one NodePool's GPU limit through gputui's own applier, so `undo` has something to restore."""
    from checks.model import FixPlan, ObjectRef
    from gputui.fixes.apply import Applier
    from gputui.kube.client import connect

    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    try:
        kube = connect(str(sim.kubeconfig))
        pool = next(o for o in _all_objects(sim) if o.get("kind") == "NodePool")
        name = pool["metadata"]["name"]
        plan = FixPlan(
            id="raise-nodepool-limit",
            title=f"raise the GPU limit of NodePool {name}",
            target=ObjectRef(kind="NodePool", name=name, api_version="karpenter.sh/v1"),
            patch_type="merge",
            patch={"spec": {"limits": {"nvidia.com/gpu": "977"}}},
            resource_version=str(pool["metadata"]["resourceVersion"]),
        )
        result = Applier(kube).apply(plan, None)
        assert result.ok, result
    finally:
        if old is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = old


def run_case(case: Case, tmp: Path) -> Outcome:
    state = tmp / "state"
    state.mkdir(parents=True, exist_ok=True)
    sim = start(case, state)
    try:
        for key, value in case.faults.items():
            setattr(sim.faults, key, value)
        before = _versions(sim)
        kc = _kubeconfig(sim, case.kubeconfig, tmp)
        argv = [a.replace("{kubeconfig}", kc).replace("{tmp}", str(tmp)) for a in case.argv]
        env = {**os.environ, "XDG_STATE_HOME": str(state), "COLUMNS": "100", "PYTHONUNBUFFERED": "1"}
        t0 = time.monotonic()
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gputui", *argv],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=tmp,
            )
            if case.during:
                _act(case, proc, sim, err, t0)
            try:
                code = proc.wait(timeout=case.bound + 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            seconds = time.monotonic() - t0
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        if _alive(sim):
            sim.faults.slow, sim.faults.fail = {}, {}
        if case.cleanup_after and _alive(sim):
            # What the engineer does next: `gputui debug --cleanup` removes the dead run's pods at once.
            subprocess.run(
                [sys.executable, "-m", "gputui", "debug", "--cleanup", "--yes", "--kubeconfig", kc],
                capture_output=True,
                timeout=60,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        left: list[str] = []
        unrecorded: list[str] = []
        if _alive(sim):
            time.sleep(sim.faults.write_latency_ms / 1000.0)  # a held write lands after its client is gone
            left = _wait_pods_gone(sim)
            audited = _audited(state)
            unrecorded = [k for k, v in _versions(sim).items() if before.get(k, v) != v and k not in audited]
        stray = sorted(p.name for p in tmp.iterdir() if p.name.endswith(".tmp"))  # half-written output
        return Outcome(case, code, seconds, stdout, stderr, left, unrecorded, stray)
    finally:
        sim.stop()


def _act(case: Case, proc: subprocess.Popen, sim, err, t0: float) -> None:
    deadline = t0 + case.bound
    if case.when:

        def ready() -> bool:
            if case.when == "write":
                return sim.faults.writes_received > 0
            # a debug pod has run nvidia-smi: gputui reads its log next
            return any((p.get("status") or {}).get("phase") in ("Succeeded", "Failed") for p in _debug_pods(sim))

        while time.monotonic() < deadline and proc.poll() is None and not ready():
            time.sleep(0.02)
        time.sleep(case.after)
    else:
        time.sleep(max(0.0, case.after - (time.monotonic() - t0)))
    if proc.poll() is not None:
        return
    if case.during == "kill-server":
        sim.stop()
        return
    sig = {
        "sigint": signal.SIGINT,
        "sigterm": signal.SIGTERM,
        "sighup": signal.SIGHUP,
        "sigquit": signal.SIGQUIT,
        "sigkill": signal.SIGKILL,
    }[case.during]
    proc.send_signal(sig)


def _debug_pods(sim) -> list[dict]:
    return sim.store.list(sim.store.type_for("v1", "Pod"), label_selector=SEL)[0]


def _wait_pods_gone(sim, seconds: float = 8.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        left = sorted(p["metadata"]["name"] for p in _debug_pods(sim))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


ERROR_PREFIX = "gputui: error:"


def violations(o: Outcome) -> list[str]:
    """The rules the run broke (empty when it behaved)."""
    bad = []
    text = o.stdout + o.stderr
    if "Traceback" in text:
        bad.append("printed a traceback")
    if o.code not in o.case.exits:
        bad.append(f"exit {o.code}, expected {sorted(o.case.exits)}")
    if o.code == 1 and o.case.exits.isdisjoint({1}):
        bad.append("exit 1 (findings) for a failure")
    errors = [line for line in o.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
    if len(errors) > 1:
        bad.append(f"{len(errors)} error lines")
    if o.code not in (0, 1, 3, -9, 130, 129, 131, 143) and not errors:
        bad.append("failed without a `gputui: error:` line")
    if o.case.says and o.case.says not in text:
        bad.append(f"did not mention {o.case.says!r}")
    if o.seconds > o.case.bound:
        bad.append(f"took {o.seconds:.1f} s, bound {o.case.bound:.0f} s")
    if o.debug_pods_left:
        bad.append(f"left debug pods {o.debug_pods_left}")
    if o.stray_files:
        bad.append(f"left partial files {o.stray_files}")
    if o.unrecorded_changes:
        bad.append(f"changed without an audit entry: {o.unrecorded_changes}")
    return bad


Runner = Callable[[Case, Path], Outcome]
