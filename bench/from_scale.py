"""How `gputui diagnose --from SNAPSHOT` scales, next to the live run on the same cluster.

    python bench/from_scale.py                   # 20k and 100k pods
    python bench/from_scale.py --quick           # 5,000 pods only: a minute on 2 cores
    python bench/from_scale.py --sizes small     # 2,000 nodes / 20,000 pods only
    python bench/from_scale.py --repeat 1        # one run of each diagnose (default: median of 3)
    python bench/from_scale.py --general-loader-max-pods 20000   # also time the whole-document loader

For each size: start `gputui sim serve --synthetic ...` in its own process, then, each as a
fresh process with its time and peak RSS (wait4's rusage):
* `gputui diagnose -o json` against the simulator (the live run),
* `gputui snapshot -o FILE` of the same cluster,
* `gputui diagnose --from FILE -o json` (the file streamed into the checks' structs),
and compare the two reports' findings (code and object; ages may differ). Wall and CPU time
are both shown: on a busy 2-core machine the CPU time is the steadier comparison.
Targets at 100k pods: --from within 3x of the live run's time, peak RSS < 1 GiB.
Sized for 2 cores: one process at a time besides the simulator.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter

from _harness import SIZES, run_child, served

QUICK = "nodes=500,gpu-nodes=100,pods=5000,events=1000"
TARGET_RATIO = 3.0
TARGET_RSS_MB = 1024
DIAGNOSE_EXITS = (0, 1, 3)
# Reads the file the way gputui did before snapshots were streamed (whole document, then dicts).
_GENERAL_LOADER = (
    "import sys; from gputui.kube import snapshot_file; snapshot_file.read_streamed = lambda path: None; "
    "from gputui.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _findings(path) -> Counter:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return Counter((f.get("code"), json.dumps(f.get("object"), sort_keys=True)) for f in doc.get("findings", []))


def _run(argv: list[str], env: dict, ok, out_path) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS MiB, exit code) of one child process. CPU time is
    shown too: on a shared 2-core machine it is the steadier of the two."""
    with open(out_path or os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if code not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {code}: {err.strip()[:400]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def _timed(label: str, argv: list[str], env: dict, out_path=None, ok=DIAGNOSE_EXITS, repeat: int = 1) -> dict:
    runs = [_run(argv, env, ok, out_path) for _ in range(repeat)]
    wall = sorted(r[0] for r in runs)[len(runs) // 2]
    cpu = sorted(r[1] for r in runs)[len(runs) // 2]
    rss = max(r[2] for r in runs)
    print(
        f"  {label:34} {wall:7.2f} s   CPU {cpu:6.2f} s   peak RSS {rss:6.0f} MiB   (exit {runs[-1][3]})",
        flush=True,
    )
    return {"wall": wall, "cpu": cpu, "rss": rss}


def bench(size: str, spec: str, general_max_pods: int, repeat: int) -> dict:
    pods = int(dict(kv.split("=") for kv in spec.split(","))["pods"])
    gputui = [sys.executable, "-m", "gputui"]
    result: dict = {"size": size, "spec": spec, "pods": pods}
    with served(size, spec) as (env, tmp):
        # Warm-up: the simulator's first list and the page cache.
        run_child([*gputui, "diagnose", "-o", "json", "--check", "GPU101"], env, ok=DIAGNOSE_EXITS)
        live_out, from_out, snap = tmp / "live.json", tmp / "from.json", tmp / "snapshot.yaml"
        result["live"] = _timed(
            "gputui diagnose (live)", [*gputui, "diagnose", "-o", "json"], env, live_out, repeat=repeat
        )
        result["snapshot"] = _timed(
            "gputui snapshot -o FILE", [*gputui, "snapshot", "-o", str(snap), "--no-progress"], env, ok=(0, 3)
        )
        result["bytes"] = snap.stat().st_size
        print(f"  {'':34} {result['bytes'] / 2**20:7.1f} MiB snapshot file", flush=True)
        result["from"] = _timed(
            "gputui diagnose --from FILE",
            [*gputui, "diagnose", "--from", str(snap), "-o", "json"],
            env,
            from_out,
            repeat=repeat,
        )
        live, offline = _findings(live_out), _findings(from_out)
        result["same_findings"] = live == offline
        print(
            f"  findings: live {sum(live.values())}, --from {sum(offline.values())}, "
            f"{'the same' if live == offline else 'DIFFERENT'}",
            flush=True,
        )
        if pods <= general_max_pods:
            result["general"] = _timed(
                "  same file, whole-document loader",
                [sys.executable, "-c", _GENERAL_LOADER, "diagnose", "--from", str(snap), "-o", "json"],
                env,
                tmp / "general.json",
            )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="small,large", help="comma-separated: small, large (default: both)")
    ap.add_argument("--quick", action="store_true", help=f"one small cluster only ({QUICK})")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each diagnose; the median is shown (default: 3)")
    ap.add_argument(
        "--general-loader-max-pods",
        type=int,
        default=0,
        help="also time the whole-document loader on the same file up to this many pods (slow; default: never)",
    )
    args = ap.parse_args()
    sizes = {"quick": QUICK} if args.quick else {s: SIZES[s] for s in args.sizes.split(",") if s}
    results = [bench(size, spec, args.general_loader_max_pods, args.repeat) for size, spec in sizes.items()]

    print("\nsummary")
    for r in results:
        live, offline = r["live"], r["from"]
        ratio, cpu_ratio = offline["wall"] / live["wall"], offline["cpu"] / live["cpu"]
        judged = r["pods"] >= 100_000
        verdict_time = ("ok" if ratio <= TARGET_RATIO else "MISSED") if judged else "n/a"
        verdict_rss = ("ok" if offline["rss"] < TARGET_RSS_MB else "MISSED") if judged else "n/a"
        print(f"  [{r['size']}] {r['spec']}   ({r['bytes'] / 2**20:.0f} MiB snapshot file)")
        print(f"    live    {live['wall']:6.2f} s  CPU {live['cpu']:6.2f} s  peak RSS {live['rss']:5.0f} MiB")
        print(f"    --from  {offline['wall']:6.2f} s  CPU {offline['cpu']:6.2f} s  peak RSS {offline['rss']:5.0f} MiB")
        print(
            f"    --from / live = {ratio:4.2f}x wall, {cpu_ratio:4.2f}x CPU "
            f"(target <= {TARGET_RATIO:g}x at 100k pods: {verdict_time})"
        )
        print(
            f"    --from peak RSS < {TARGET_RSS_MB} MiB at 100k pods: {verdict_rss};  same findings: {r['same_findings']}"
        )
        if "general" in r:
            g = r["general"]
            print(
                f"    whole-document loader on the same file: {g['wall']:.2f} s, CPU {g['cpu']:.2f} s, {g['rss']:.0f} MiB"
            )


if __name__ == "__main__":
    main()
