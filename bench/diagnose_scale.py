"""How `gputui diagnose` scales, next to kubectl, on a synthetic cluster served by the simulator.

    python bench/diagnose_scale.py                      # both sizes (20k and 100k pods)
    python bench/diagnose_scale.py --sizes small        # 2,000 nodes / 20,000 pods only
    python bench/diagnose_scale.py --kubectl-max-pods 100000   # also time kubectl's dump at 100k pods

For each size: start `gputui sim serve --synthetic ...` in its own process, then time
* `gputui diagnose -o json` (a fresh process; peak RSS from wait4's rusage),
* `kubectl get nodes,pods,events -A -o json` (what people script against today), and
* `kubectl get --raw` of the same three lists, bytes to /dev/null: the cost of transfer
  alone, which no client can beat.
Targets: >= 10x faster than kubectl's dump, within 3x of raw transfer, peak RSS < 600 MB at
100k pods. kubectl's dump needs ~15 GB and minutes at 100k pods, so by default it runs only
at the small size and the large size reports the raw-transfer comparison.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from _harness import SIZES, run_child, served

TARGET_VS_KUBECTL = 10.0
TARGET_VS_RAW = 3.0
TARGET_RSS_MB = 600
GPUTUI_EXITS = (0, 1, 3)  # clean, findings, partial read: all are a finished run


def _median(values: list[float]) -> float:
    s = sorted(values)
    return s[len(s) // 2]


def bench(size: str, spec: str, repeat: int, kubectl_max_pods: int) -> dict:
    pods = int(dict(kv.split("=") for kv in spec.split(","))["pods"])
    result: dict = {"size": size, "spec": spec}
    with served(size, spec) as (env, tmp):
        kubectl = shutil.which("kubectl")
        # Warm-up: page cache, the kubectl dispatcher's version probe, the simulator's first list.
        if kubectl:
            run_child([kubectl, "get", "--raw", "/version"], env)
        run_child([sys.executable, "-m", "gputui", "diagnose", "-o", "json", "--check", "GPU101"], env, ok=GPUTUI_EXITS)

        times, rss = [], []
        out_file = tmp / "diagnose.json"
        for _ in range(repeat):
            with open(out_file, "wb") as out:
                t, r, code, _ = run_child(
                    [sys.executable, "-m", "gputui", "diagnose", "-o", "json"], env, ok=GPUTUI_EXITS, stdout=out
                )
            times.append(t)
            rss.append(r)
        result.update(
            gputui=_median(times), gputui_rss=max(rss), gputui_exit=code, report_bytes=out_file.stat().st_size
        )
        print(
            f"  gputui diagnose -o json      {result['gputui']:7.2f} s   peak RSS {result['gputui_rss']:6.0f} MiB"
            f"   (exit {code}, {result['report_bytes']:,} bytes of report)",
            flush=True,
        )

        if kubectl:
            raw = []
            for _ in range(repeat):
                t = 0.0
                for path in ("/api/v1/nodes", "/api/v1/pods", "/api/v1/events"):
                    t += run_child([kubectl, "get", "--raw", path], env)[0]
                raw.append(t)
            result["raw"] = _median(raw)
            print(f"  kubectl get --raw (3 lists)  {result['raw']:7.2f} s", flush=True)
            if pods <= kubectl_max_pods:
                t, r, _, _ = run_child([kubectl, "get", "nodes,pods,events", "-A", "-o", "json"], env)
                result.update(kubectl=t, kubectl_rss=r)
                print(f"  kubectl get -A -o json       {t:7.2f} s   peak RSS {r:6.0f} MiB", flush=True)
            else:
                print(
                    f"  kubectl get -A -o json       skipped above {kubectl_max_pods:,} pods (--kubectl-max-pods)",
                    flush=True,
                )
    return result


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="small,large", help="comma-separated: small, large (default: both)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of gputui and raw transfer; the median is shown")
    ap.add_argument(
        "--kubectl-max-pods",
        type=int,
        default=20000,
        help="time kubectl's full dump only up to this many pods (default: 20000)",
    )
    args = ap.parse_args()
    results = [bench(s, SIZES[s], args.repeat, args.kubectl_max_pods) for s in args.sizes.split(",") if s]

    print("\nsummary")
    for r in results:
        print(f"  [{r['size']}] {r['spec']}")
        if "kubectl" in r:
            ratio = r["kubectl"] / r["gputui"]
            print(
                f"    kubectl dump / gputui = {ratio:5.1f}x  (target >= {TARGET_VS_KUBECTL:g}x: "
                f"{_verdict(ratio >= TARGET_VS_KUBECTL)})"
            )
        if "raw" in r:
            ratio = r["gputui"] / r["raw"]
            print(
                f"    gputui / raw transfer = {ratio:5.2f}x  (target <= {TARGET_VS_RAW:g}x: "
                f"{_verdict(ratio <= TARGET_VS_RAW)})"
            )
        ok = r["gputui_rss"] < TARGET_RSS_MB
        print(
            f"    gputui peak RSS       = {r['gputui_rss']:5.0f} MiB (target < {TARGET_RSS_MB} MiB at 100k pods: "
            f"{_verdict(ok) if r['size'] == 'large' else 'n/a'})"
        )


if __name__ == "__main__":
    main()
