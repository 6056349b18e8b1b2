"""How long the checks take on a large cluster, first and on fresh snapshots of the same objects.

    python bench/checks_scale.py                  # 20k and 100k pods
    python bench/checks_scale.py --quick          # 5,000 pods only
    python bench/checks_scale.py --sizes large    # 5,000 nodes / 100,000 pods only
    python bench/checks_scale.py --fresh 5        # five fresh snapshots after the first (default 3)

Live mode reads the cluster once, then keeps the snapshot current from watches and runs the
checks again on every batch of changes: each run gets a fresh ClusterSnapshot (its indexes
rebuilt) over mostly the same objects. For each size: start `gputui sim serve --synthetic ...`
in its own process, then in one fresh process gather once (the baseline: reading and decoding
every list) and time checks.registry.run_checks on that snapshot and on --fresh new snapshots
of the same lists, as live mode makes them. Each run is shown with its wall and CPU time, the
garbage collector's share, and its ratio to the gather; the findings of every run must be the
same. Peak RSS is the child's (wait4's rusage). Targets at 100k pods: a run under 0.5 s
(CPU), peak RSS < 600 MiB. On a busy 2-core machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

from _harness import SIZES, run_child, served

QUICK = "nodes=500,gpu-nodes=100,pods=5000,events=1000"
TARGET_RUN_S = 0.5
TARGET_RSS_MB = 600


def _child(fresh: int) -> None:
    """In the measured process: gather, then run the checks 1 + fresh times; JSON on stdout."""
    from checks.registry import run_checks
    from gputui.kube.client import connect
    from gputui.kube.gather import gather

    gc_seconds = [0.0]
    started = [0.0]
    full = [0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            gc_seconds[0] += time.perf_counter() - started[0]
            full[0] += info["generation"] == 2

    kube = connect(os.environ["KUBECONFIG"], None, None, 30)
    w0, c0 = time.perf_counter(), time.process_time()
    snap = gather(kube, namespace="")
    out = {"gather": {"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0}, "runs": []}
    lists = {f: getattr(snap, f) for f in snap.__dataclass_fields__}
    gc.callbacks.append(on_gc)
    first = None
    for i in range(1 + fresh):
        # What live mode hands the checks: a new snapshot (no cached indexes) of the same objects.
        s = snap if i == 0 else type(snap)(**lists)
        gc_seconds[0], full[0] = 0.0, 0
        w0, c0 = time.perf_counter(), time.process_time()
        findings = run_checks(s)
        run = {
            "wall": time.perf_counter() - w0,
            "cpu": time.process_time() - c0,
            "gc": gc_seconds[0],
            "full_gc": full[0],
        }
        seen = [(f.code, f.subject.to_json(), f.severity.label, f.message) for f in findings]
        first = seen if first is None else first
        run["findings"] = len(seen)
        run["same"] = seen == first
        out["runs"].append(run)
        del s, findings
    gc.callbacks.remove(on_gc)
    out["objects"] = {"pods": len(snap.pods), "nodes": len(snap.nodes), "events": len(snap.events)}
    print(json.dumps(out))


def bench(size: str, spec: str, fresh: int) -> dict:
    with served(size, spec) as (env, tmp):
        out_path = tmp / "checks.json"
        with open(out_path, "wb") as out:
            _, rss, _, _ = run_child([sys.executable, __file__, "--child", "--fresh", str(fresh)], env, stdout=out)
        result = json.loads(out_path.read_text())
    result.update(size=size, spec=spec, rss=rss)
    g = result["gather"]
    print(f"  gather (baseline)              {g['wall']:6.2f} s   CPU {g['cpu']:6.2f} s", flush=True)
    for i, r in enumerate(result["runs"]):
        label = "run_checks, gathered snapshot" if i == 0 else f"run_checks, fresh snapshot {i}"
        print(
            f"  {label:30} {r['wall']:6.3f} s   CPU {r['cpu']:6.3f} s (GC {r['gc']:5.3f} s, {r['full_gc']} full)"
            f"   {r['cpu'] / g['cpu']:6.1%} of the gather's CPU   {r['findings']} findings"
            + ("" if r["same"] else "   FINDINGS DIFFER from the first run"),
            flush=True,
        )
    print(f"  peak RSS                       {rss:6.0f} MiB", flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="small,large", help="comma-separated: small, large (default: both)")
    ap.add_argument("--quick", action="store_true", help=f"one small cluster only ({QUICK})")
    ap.add_argument("--fresh", type=int, default=3, help="fresh snapshots of the same objects after the first")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.fresh)
        return
    sizes = {"quick": QUICK} if args.quick else {s: SIZES[s] for s in args.sizes.split(",") if s}
    results = [bench(size, spec, args.fresh) for size, spec in sizes.items()]

    print("\nsummary")
    for r in results:
        runs = r["runs"]
        later = min(x["cpu"] for x in runs[1:]) if len(runs) > 1 else float("nan")
        large = r["size"] == "large"
        ok_time = max(x["cpu"] for x in runs) < TARGET_RUN_S
        ok_rss = r["rss"] < TARGET_RSS_MB
        same = all(x["same"] for x in runs)
        print(
            f"  [{r['size']}] {r['spec']}: run_checks CPU first {runs[0]['cpu']:.3f} s, fresh {later:.3f} s "
            f"({runs[0]['cpu'] / r['gather']['cpu']:.1%} / {later / r['gather']['cpu']:.1%} of a gather); "
            f"findings {'identical' if same else 'DIFFER'} across runs"
        )
        print(
            f"    every run < {TARGET_RUN_S:g} s CPU at 100k pods: {('ok' if ok_time else 'MISSED') if large else 'n/a'};"
            f" peak RSS {r['rss']:.0f} MiB (target < {TARGET_RSS_MB} MiB at 100k pods: "
            f"{('ok' if ok_rss else 'MISSED') if large else 'n/a'})"
        )
    if not all(x["same"] for r in results for x in r["runs"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
