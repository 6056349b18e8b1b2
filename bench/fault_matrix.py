"""The fault matrix as a table: every case of tests/helpers/fault_matrix.py run once, with its
exit code, time and the rules it broke (none, when gputui behaved).

    python bench/fault_matrix.py             # every case
    python bench/fault_matrix.py -k debug    # the cases whose name contains "debug"

Exits 0: the table is the result; tests/cli/test_fault_matrix.py asserts every case survives.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _harness import REPO

sys.path.insert(0, str(REPO))

from tests.helpers.fault_matrix import CASES, run_case, violations  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only cases whose name contains this text")
    args = ap.parse_args()
    cases = [c for c in CASES if args.k in c.name]
    t0 = time.perf_counter()
    survived = 0
    print(f"{'case':<42} {'exit':>5} {'seconds':>8}  result")
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="gputui-fault-") as tmp:
            outcome = run_case(case, Path(tmp))
        bad = violations(outcome)
        survived += not bad
        print(f"{case.name:<42} {outcome.code:>5} {outcome.seconds:>8.2f}  {'ok' if not bad else '; '.join(bad)}")
    print(f"\n{len(cases)} cases tried, {survived} survived, in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
