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
import sys

from _harness import SIZES, run_child, served

TARGET_RSS_MB = 600


def bench(size: str, spec: str, repeat: int, suffix: str) -> dict:
    result: dict = {"size": size, "spec": spec}
    with served(size, spec) as (env, tmp):
        out = tmp / f"snapshot{suffix}"
        times, rss = [], []
        for _ in range(repeat):
            t, r, code, err = run_child(
                [sys.executable, "-m", "gputui", "snapshot", "-o", str(out), "--no-progress"], env, ok=(0, 3)
            )
            times.append(t)
            rss.append(r)
        result.update(seconds=sorted(times)[len(times) // 2], rss=max(rss), bytes=out.stat().st_size, exit=code)
        summary = next((line for line in err.splitlines() if "wrote" in line), "").strip()
        print(
            f"  gputui snapshot -o {out.name:14} {result['seconds']:7.2f} s   peak RSS {result['rss']:6.0f} MiB"
            f"   {result['bytes'] / 2**20:7.1f} MiB file   (exit {code})",
            flush=True,
        )
        if summary:
            print(f"  {summary}", flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="small,large", help="comma-separated: small, large (default: both)")
    ap.add_argument(
        "--repeat", type=int, default=1, help="runs per size; the median time and the highest RSS are shown"
    )
    ap.add_argument("--json", action="store_true", help="write a .json snapshot instead of YAML")
    args = ap.parse_args()
    suffix = ".json" if args.json else ".yaml"
    results = [bench(s, SIZES[s], args.repeat, suffix) for s in args.sizes.split(",") if s]

    print("\nsummary")
    for r in results:
        ok = r["rss"] < TARGET_RSS_MB
        verdict = ("ok" if ok else "MISSED") if r["size"] == "large" else "n/a"
        print(
            f"  [{r['size']}] {r['seconds']:.2f} s, {r['bytes'] / 2**20:.1f} MiB file, peak RSS {r['rss']:.0f} MiB "
            f"(target < {TARGET_RSS_MB} MiB at 100k pods: {verdict})"
        )


if __name__ == "__main__":
    main()
