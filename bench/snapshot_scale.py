"""How `gputui snapshot -o FILE` scales on a synthetic cluster served by the simulator.

    python bench/snapshot_scale.py                  # both sizes (20k and 100k pods)
    python bench/snapshot_scale.py --sizes small    # 2,000 nodes / 20,000 pods only
    python bench/snapshot_scale.py --json           # write FILE.json instead of YAML

For each size: start `gputui sim serve --synthetic ...` in its own process, then run
`gputui snapshot -o FILE` as a fresh process and print its time, the file's size and the
peak RSS (wait4's rusage). The snapshot is written while the lists are read, so peak
memory should stay bounded whatever the cluster's size. Target: peak RSS < 600 MiB at
100k pods.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = {
    "small": "nodes=2000,gpu-nodes=400,pods=20000,events=5000",
    "large": "nodes=5000,gpu-nodes=2000,pods=100000,events=20000",
}
TARGET_RSS_MB = 600


def _env(kubeconfig: Path) -> dict:
    env = dict(os.environ, KUBECONFIG=str(kubeconfig), PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("GPUTUI_NO_FAST_EXIT", None)
    return env


def _run(argv: list[str], env: dict) -> tuple[float, float, int, str]:
    """(seconds, peak RSS MiB, exit code, stderr) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # stderr is a few lines; reading it after wait4 cannot fill the pipe.
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if code not in (0, 3):
        raise SystemExit(f"{' '.join(argv)} exited {code}: {err.strip()[:400]}")
    return elapsed, usage.ru_maxrss / 1024, code, err


def _start_sim(spec: str, kubeconfig: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "gputui", "sim", "serve", "--synthetic", spec,
                             "--kubeconfig-out", str(kubeconfig)], cwd=REPO, env=_env(kubeconfig),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # printed once every object is loaded
    if not line.startswith("export KUBECONFIG="):
        proc.kill()
        raise SystemExit(f"simulator did not start: {line}{proc.stderr.read()[:2000]}")
    return proc


def bench(size: str, spec: str, repeat: int, suffix: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="gputui-bench-"))
    kubeconfig = tmp / "kubeconfig"
    t0 = time.perf_counter()
    sim = _start_sim(spec, kubeconfig)
    print(f"\n[{size}] {spec}: simulator ready in {time.perf_counter() - t0:.1f} s", flush=True)
    env = _env(kubeconfig)
    out = tmp / f"snapshot{suffix}"
    result: dict = {"size": size, "spec": spec}
    try:
        times, rss = [], []
        for _ in range(repeat):
            t, r, code, err = _run([sys.executable, "-m", "gputui", "snapshot", "-o", str(out), "--no-progress"], env)
            times.append(t)
            rss.append(r)
        result.update(seconds=sorted(times)[len(times) // 2], rss=max(rss), bytes=out.stat().st_size, exit=code)
        summary = next((line for line in err.splitlines() if "wrote" in line), "").strip()
        print(f"  gputui snapshot -o {out.name:14} {result['seconds']:7.2f} s   peak RSS {result['rss']:6.0f} MiB"
              f"   {result['bytes'] / 2**20:7.1f} MiB file   (exit {code})", flush=True)
        if summary:
            print(f"  {summary}", flush=True)
    finally:
        sim.terminate()
        try:
            sim.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sim.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="small,large", help="comma-separated: small, large (default: both)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; the median time and the highest RSS are shown")
    ap.add_argument("--json", action="store_true", help="write a .json snapshot instead of YAML")
    args = ap.parse_args()
    suffix = ".json" if args.json else ".yaml"
    results = [bench(s, SIZES[s], args.repeat, suffix) for s in args.sizes.split(",") if s]

    print("\nsummary")
    for r in results:
        ok = r["rss"] < TARGET_RSS_MB
        verdict = ("ok" if ok else "MISSED") if r["size"] == "large" else "n/a"
        print(f"  [{r['size']}] {r['seconds']:.2f} s, {r['bytes'] / 2**20:.1f} MiB file, peak RSS {r['rss']:.0f} MiB "
              f"(target < {TARGET_RSS_MB} MiB at 100k pods: {verdict})")


if __name__ == "__main__":
    main()
