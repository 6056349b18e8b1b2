"""How much of the real world gputui reads right: the corpus of real texts (tests/corpus/real_world),
each judged on family, subject, remedy and facts.

    python bench/recognition.py            # the figure, per family, and every miss with why
    python bench/recognition.py --quiet    # the figure only

Exits 0: the figure is the result; tests/checks/test_real_world_corpus.py asserts at least 95%.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from _harness import REPO

sys.path.insert(0, str(REPO))

from tests.helpers.corpus import judge, load_corpus  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quiet", action="store_true", help="print the overall figure only")
    args = ap.parse_args()
    t0 = time.perf_counter()
    corpus = load_corpus()
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    misses = []
    for t in corpus:
        total[t.family] += 1
        wrong = judge(t)
        if wrong:
            misses.append((t, wrong))
        else:
            right[t.family] += 1
    elapsed = time.perf_counter() - t0
    n, ok = len(corpus), sum(right.values())
    print(f"real-world corpus: {ok}/{n} texts recognised right ({100 * ok / max(n, 1):.1f}%) in {elapsed:.2f} s")
    if args.quiet:
        return 0
    print()
    print(f"{'family':<20} {'texts':>6} {'right':>6}")
    for fam in sorted(total):
        print(f"{fam:<20} {total[fam]:>6} {right[fam]:>6}")
    if misses:
        print("\nmissed:")
        for t, wrong in misses:
            why = t.missed or "; ".join(wrong)
            print(f"  {t.id:<14} {t.source}\n      {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
