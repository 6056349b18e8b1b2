"""How long a large synthetic cluster takes to generate and to load into the simulator's store.

    python bench/sim_load.py [nodes=5000,gpu-nodes=2000,pods=100000,events=20000]

Prints seconds per phase, object counts, serialized sizes (sampled) and peak memory.
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gputui.sim.store import Store
from gputui.sim.synthetic import generate

DEFAULT_SPEC = "nodes=5000,gpu-nodes=2000,pods=100000,events=20000"


def main() -> None:
    spec = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SPEC
    t0 = time.perf_counter()
    objects = generate(spec)
    t1 = time.perf_counter()
    kinds = Counter(o["kind"] for o in objects)
    sample = {k: [o for o in objects if o["kind"] == k] for k in ("Node", "Pod", "Event")}
    sample = {k: v[:: max(1, len(v) // 500)] for k, v in sample.items()}
    sizes = {k: sum(len(msgspec.json.encode(o)) for o in v) // max(1, len(v)) for k, v in sample.items()}
    t2 = time.perf_counter()
    store = Store()
    loaded = store.bulk_load(objects)
    t3 = time.perf_counter()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"spec:      {spec}")
    print(f"objects:   {len(objects):,} ({', '.join(f'{k} {n:,}' for k, n in kinds.most_common())})")
    print("avg bytes: " + ", ".join(f"{k} {n:,}" for k, n in sizes.items()))
    print(f"generate:  {t1 - t0:6.2f} s")
    print(f"bulk_load: {t3 - t2:6.2f} s ({loaded:,} objects)")
    print(f"total:     {t1 - t0 + t3 - t2:6.2f} s   peak RSS {peak_mib:,.0f} MiB")
    del objects, store, sample
    gc.collect()
    from gputui.sim.runtime import start_simulator

    t4 = time.perf_counter()
    with start_simulator(sources=[], synthetic=spec, behaviour=False) as sim:
        t5 = time.perf_counter()
        print(f"start_simulator(synthetic=...) until serving: {t5 - t4:6.2f} s ({sim.url})")


if __name__ == "__main__":
    main()
