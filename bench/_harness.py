"""What the benchmarks share: the synthetic cluster sizes, a simulator in its own
process, and timing a child process with its peak RSS."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = {
    "small": "nodes=2000,gpu-nodes=400,pods=20000,events=5000",
    "large": "nodes=5000,gpu-nodes=2000,pods=100000,events=20000",
}


def env_for(kubeconfig: Path) -> dict:
    env = dict(
        os.environ, KUBECONFIG=str(kubeconfig), PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    env.pop("GPUTUI_NO_FAST_EXIT", None)
    return env


def run_child(
    argv: list[str], env: dict, ok: Iterable[int] = (0,), stdout=subprocess.DEVNULL
) -> tuple[float, float, int, str]:
    """(seconds, peak RSS MiB, exit code, stderr) of one child process; other exit codes abort."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.PIPE)
    # stderr is a few lines; reading it after wait4 cannot fill the pipe.
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if code not in tuple(ok):
        raise SystemExit(f"{' '.join(argv)} exited {code}: {err.strip()[:400]}")
    return elapsed, usage.ru_maxrss / 1024, code, err


def start_simulator(spec: str, kubeconfig: Path, extra: Iterable[str] = ()) -> subprocess.Popen:
    """`gputui sim serve --synthetic SPEC [EXTRA...]` in its own process, returned once it serves."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gputui",
            "sim",
            "serve",
            "--synthetic",
            spec,
            "--kubeconfig-out",
            str(kubeconfig),
            *extra,
        ],
        cwd=REPO,
        env=env_for(kubeconfig),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()  # printed once every object is loaded
    if not line.startswith("export KUBECONFIG="):
        proc.kill()
        raise SystemExit(f"simulator did not start: {line}{proc.stderr.read()[:2000]}")
    return proc


@contextlib.contextmanager
def served(size: str, spec: str, extra: Iterable[str] = ()) -> Iterator[tuple[dict, Path]]:
    """A synthetic cluster served for the block: yields (environment for clients, scratch dir)."""
    tmp = Path(tempfile.mkdtemp(prefix="gputui-bench-"))
    kubeconfig = tmp / "kubeconfig"
    t0 = time.perf_counter()
    sim = start_simulator(spec, kubeconfig, extra)
    print(f"\n[{size}] {spec}: simulator ready in {time.perf_counter() - t0:.1f} s", flush=True)
    try:
        yield env_for(kubeconfig), tmp
    finally:
        sim.terminate()
        try:
            sim.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sim.kill()
        shutil.rmtree(tmp, ignore_errors=True)
