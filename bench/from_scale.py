"""How `gputui diagnose --from SNAPSHOT` scales, next to the live run on the same cluster.

    python bench/from_scale.py                   # 20k and 100k pods
    python bench/from_scale.py --quick           # 5,000 pods only: a minute on 2 cores
    python bench/from_scale.py --sizes small     # 2,000 nodes / 20,000 pods only
    python bench/from_scale.py --general-loader-max-pods 20000   # also time the whole-document loader

For each size: start `gputui sim serve --synthetic ...` in its own process, then, each as a
fresh process with its time and peak RSS (wait4's rusage):
* `gputui diagnose -o json` against the simulator (the live run),
* `gputui snapshot -o FILE` of the same cluster,
* `gputui diagnose --from FILE -o json` (the file streamed into the checks' structs),
and compare the two reports' findings (code and object; ages may differ).
Targets at 100k pods: --from within 3x of the live run's time, peak RSS < 1 GiB.
Sized for 2 cores: one process at a time besides the simulator.
"""

from __future__ import annotations

import argparse
import json
import sys
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


def _timed(label: str, argv: list[str], env: dict, out_path=None, ok=DIAGNOSE_EXITS) -> tuple[float, float]:
    if out_path is not None:
        with open(out_path, "wb") as out:
            t, rss, code, _ = run_child(argv, env, ok=ok, stdout=out)
    else:
        t, rss, code, _ = run_child(argv, env, ok=ok)
    print(f"  {label:34} {t:7.2f} s   peak RSS {rss:6.0f} MiB   (exit {code})", flush=True)
    return t, rss


def bench(size: str, spec: str, general_max_pods: int) -> dict:
    pods = int(dict(kv.split("=") for kv in spec.split(","))["pods"])
    gputui = [sys.executable, "-m", "gputui"]
    result: dict = {"size": size, "spec": spec, "pods": pods}
    with served(size, spec) as (env, tmp):
        # Warm-up: the simulator's first list and the page cache.
        run_child([*gputui, "diagnose", "-o", "json", "--check", "GPU101"], env, ok=DIAGNOSE_EXITS)
        live_out, from_out, snap = tmp / "live.json", tmp / "from.json", tmp / "snapshot.yaml"
        result["live"], result["live_rss"] = _timed(
            "gputui diagnose (live)", [*gputui, "diagnose", "-o", "json"], env, live_out
        )
        result["snapshot"], result["snapshot_rss"] = _timed(
            "gputui snapshot -o FILE", [*gputui, "snapshot", "-o", str(snap), "--no-progress"], env, ok=(0, 3)
        )
        result["bytes"] = snap.stat().st_size
        print(f"  {'':34} {result['bytes'] / 2**20:7.1f} MiB snapshot file", flush=True)
        result["from"], result["from_rss"] = _timed(
            "gputui diagnose --from FILE", [*gputui, "diagnose", "--from", str(snap), "-o", "json"], env, from_out
        )
        live, offline = _findings(live_out), _findings(from_out)
        result["same_findings"] = live == offline
        print(
            f"  findings: live {sum(live.values())}, --from {sum(offline.values())}, "
            f"{'the same' if live == offline else 'DIFFERENT'}",
            flush=True,
        )
        if pods <= general_max_pods:
            result["general"], result["general_rss"] = _timed(
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
    ap.add_argument(
        "--general-loader-max-pods",
        type=int,
        default=0,
        help="also time the whole-document loader on the same file up to this many pods (slow; default: never)",
    )
    args = ap.parse_args()
    sizes = {"quick": QUICK} if args.quick else {s: SIZES[s] for s in args.sizes.split(",") if s}
    results = [bench(size, spec, args.general_loader_max_pods) for size, spec in sizes.items()]

    print("\nsummary")
    for r in results:
        ratio = r["from"] / r["live"]
        judged = r["pods"] >= 100_000
        verdict_time = ("ok" if ratio <= TARGET_RATIO else "MISSED") if judged else "n/a"
        verdict_rss = ("ok" if r["from_rss"] < TARGET_RSS_MB else "MISSED") if judged else "n/a"
        print(f"  [{r['size']}] {r['spec']}")
        print(
            f"    live {r['live']:6.2f} s / {r['live_rss']:5.0f} MiB   --from {r['from']:6.2f} s / "
            f"{r['from_rss']:5.0f} MiB   ({r['bytes'] / 2**20:.0f} MiB file)"
        )
        print(f"    --from / live time = {ratio:4.2f}x (target <= {TARGET_RATIO:g}x at 100k pods: {verdict_time})")
        print(
            f"    --from peak RSS    = {r['from_rss']:5.0f} MiB (target < {TARGET_RSS_MB} MiB at 100k pods: {verdict_rss})"
        )
        print(f"    same findings      = {r['same_findings']}")
        if "general" in r:
            print(f"    whole-document loader: {r['general']:.2f} s / {r['general_rss']:.0f} MiB")


if __name__ == "__main__":
    main()
