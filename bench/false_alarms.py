"""False alarms on healthy clusters: thousands of generated clusters, every finding above info counted.

    python bench/false_alarms.py                    # 2,000 clusters from seed 0
    python bench/false_alarms.py --clusters 5000 --start 10000
    python bench/false_alarms.py --examples 3       # also print the first few clusters per code

Each cluster comes from tests/helpers/healthy_clusters.py: GPU families (T4, A10G, L4, L40S,
A100 whole or MIG single/mixed, H100, H200), Neuron and AMD pools, AL2023 / Bottlerocket /
Ubuntu nodes, GPU Operator and Karpenter API versions, spot and on-demand, time-slicing,
scale-to-zero pools and in-between states inside their windows. Each is judged the way
`gputui diagnose --from` judges a dump. Prints clusters tried, false alarms (findings above
info) by code, and time. Exits 0: the figures are the result; the test suite asserts zero on
a few hundred clusters.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from _harness import REPO

sys.path.insert(0, str(REPO))

from checks.model import Severity  # noqa: E402
from checks.registry import run_checks  # noqa: E402
from tests.helpers import healthy_clusters as hc  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clusters", type=int, default=2000, help="how many clusters (default 2000)")
    ap.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("--examples", type=int, default=1, help="clusters to show per code (default 1)")
    args = ap.parse_args()

    by_code: Counter[str] = Counter()
    clusters_by_code: Counter[str] = Counter()
    states: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    loud_clusters = findings = 0
    t_gen = t_check = 0.0
    t0 = time.perf_counter()
    for seed in range(args.start, args.start + args.clusters):
        t = time.perf_counter()
        cluster = hc.generate(seed)
        snap = hc.snapshot(cluster)
        t_gen += time.perf_counter() - t
        t = time.perf_counter()
        result = run_checks(snap)
        t_check += time.perf_counter() - t
        findings += len(result)
        states.update(cluster.variation.states)
        loud = [f for f in result if f.severity > Severity.INFO]
        if not loud:
            continue
        loud_clusters += 1
        by_code.update(f.code for f in loud)
        clusters_by_code.update({f.code for f in loud})
        for f in loud:
            shown = examples.setdefault(f.code, [])
            if len(shown) < args.examples:
                shown.append(f"{cluster.variation.describe()}\n      {f.severity.label}: {f.message[:300]}")
    elapsed = time.perf_counter() - t0

    print(f"clusters tried:        {args.clusters:,} (seeds {args.start}..{args.start + args.clusters - 1})")
    print(f"findings (all):        {findings:,}")
    print(f"clusters with alarms:  {loud_clusters:,}")
    print(f"false alarms (> info): {sum(by_code.values()):,}")
    for code, n in sorted(by_code.items()):
        print(f"  {code}  {n:6,} findings in {clusters_by_code[code]:,} clusters")
    print("in-between states generated: " + ", ".join(f"{s} {n:,}" for s, n in sorted(states.items())))
    print(
        f"time:                  {elapsed:.1f} s ({1000 * elapsed / max(args.clusters, 1):.1f} ms a cluster: "
        f"generate+snapshot {t_gen:.1f} s, checks {t_check:.1f} s)"
    )
    for code, shown in sorted(examples.items()):
        print(f"\n{code}:")
        for text in shown:
            print(f"  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
