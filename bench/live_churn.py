"""The app in live mode on a cluster that keeps changing: how long a change takes to reach the
screen, and what staying current costs in CPU and memory over time.

    python bench/live_churn.py                        # 100k pods, 5 minutes, pods=20/s,nodes=2/min
    python bench/live_churn.py --minutes 60           # the hour the memory target is about
    python bench/live_churn.py --size small --minutes 2
    python bench/live_churn.py --quick                # 5,000 pods for one minute

The simulator runs in its own process (`gputui sim serve --synthetic ... --churn RATE`): pods
and nodes come and go at RATE all along. This process runs the app itself, headless (Textual's
test driver, a 120x40 screen), as a user would have it open: after the first read, watches keep
it current. Every --probe-every seconds a probe cordons (or uncordons) one GPU node through the
API, and the time until the GPU nodes tab shows the new status is the change-to-screen latency
(the tab is filtered to that node, so its row is on screen whatever the sort).

The baseline, measured in the same run: one full read and check of the same cluster (what `r`
costs, and what every change cost before watches). Every --report-every seconds a line gives the
probes' latencies, the process's CPU use (all its threads, as a share of one core), its RSS and
peak RSS, and what the watches brought in. Targets: latency within 2 s, memory under 600 MB at
100k pods over an hour. Sized for 2 cores: the simulator and this process only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path

from _harness import REPO, SIZES, served

sys.path.insert(0, str(REPO))

QUICK = "nodes=500,gpu-nodes=100,pods=5000,events=1000"
CHURN = "pods=20/s,nodes=2/min"
TARGET_LATENCY_S = 2.0
TARGET_RSS_MB = 600


def _rss_mb() -> tuple[float, float]:
    """(RSS, peak RSS) of this process in MiB, from /proc."""
    fields = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class Api:
    """The probe's own connection: plain HTTP with the kubeconfig's token (kept apart from the app's)."""

    def __init__(self, kubeconfig: Path):
        import yaml

        doc = yaml.safe_load(kubeconfig.read_text())
        self.server = doc["clusters"][0]["cluster"]["server"]
        self.token = doc["users"][0]["user"]["token"]

    def cordon(self, node: str, on: bool) -> None:
        body = json.dumps({"spec": {"unschedulable": on or None}}).encode()
        req = urllib.request.Request(
            f"{self.server}/api/v1/nodes/{node}",
            data=body,
            method="PATCH",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/merge-patch+json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()


def _baseline(env: dict) -> tuple[float, float]:
    """One full read and check of the cluster (`gputui diagnose`, a process of its own): what a
    change cost to see before watches. (seconds, peak RSS MiB)"""
    from _harness import run_child

    elapsed, rss, _, _ = run_child(
        [sys.executable, "-m", "gputui", "diagnose", "-o", "json", "--no-progress"], env, ok=(0, 1, 3)
    )
    return elapsed, rss


async def _drive(kubeconfig: Path, minutes: float, probe_every: float, report_every: float) -> dict:
    from gputui.tui.app import GputuiApp
    from gputui.tui.state import AppConfig

    # When each snapshot reached the app (before its screens drew it) and what it said of the
    # probed node, to split the latency. Only that is kept: holding snapshots would grow memory.
    arrivals: list[tuple[float, bool | None]] = []
    probed: list[str] = []

    class App(GputuiApp):
        CSS_PATH = str(Path(sys.modules[GputuiApp.__module__].__file__).with_name("app.tcss"))

        def on_snapshot_ready(self, message) -> None:
            if probed:
                arrivals.append((time.monotonic(), _unschedulable(message.snapshot, probed[0])))
                del arrivals[:-50]
            super().on_snapshot_ready(message)

    app = App(AppConfig(kubeconfig=str(kubeconfig), context=None, namespace=None, read_only=True))
    app.animation_level = "none"
    api = Api(kubeconfig)
    latencies: list[float] = []
    parts: list[tuple[float, float, float]] = []  # (API write, to the app, to the screen) of each probe
    rows: list[dict] = []
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        while app.snapshot is None or not app.watching:
            if app.gather_error is not None:
                raise SystemExit(f"the app could not read the cluster: {app.gather_error}")
            await pilot.pause(0.05)
        first = time.perf_counter() - started
        while app.live is not None and app.live.status().watching < len(app.snapshot.listed):
            await pilot.pause(0.05)
        print(
            f"  first read and findings on screen after {first:.1f} s; watching {app.live.status().watching} resources"
        )
        node = sorted(app.gpu_node_names())[0]
        probed.append(node)
        await pilot.press("n")
        await pilot.press("slash")
        for ch in node:
            await pilot.press(ch)
        await pilot.press("enter")
        table = app.screen.query_one("#nodes-table")

        def cordoned() -> bool | None:
            try:
                cells = table.get_row(node)
            except Exception:  # noqa: BLE001 - not on screen (yet)
                return None
            text = " ".join(str(c) for c in cells)
            return "SchedulingDisabled" in text or "Cordoned" in text

        t_end = time.monotonic() + minutes * 60
        cpu0, wall0 = _cpu_seconds(), time.monotonic()
        interval_lat: list[float] = []
        applied0 = app.live.applied if app.live else 0
        state = bool(cordoned())
        next_probe = time.monotonic() + 1.0
        next_report = time.monotonic() + report_every
        while time.monotonic() < t_end:
            if time.monotonic() >= next_probe:
                state = not state
                t0 = time.monotonic()
                await asyncio.to_thread(api.cordon, node, state)
                written = time.monotonic()
                while cordoned() is not state:
                    await pilot.pause(0.05)
                    if time.monotonic() - t0 > 60:
                        raise SystemExit(f"the change to {node} did not reach the screen within 60 s")
                lat = time.monotonic() - t0
                arrived = next((t for t, seen in arrivals if t >= written and seen is state), time.monotonic())
                parts.append((written - t0, arrived - written, t0 + lat - arrived))
                latencies.append(lat)
                interval_lat.append(lat)
                next_probe = time.monotonic() + probe_every
            await pilot.pause(0.05)
            if time.monotonic() >= next_report:
                cpu1, wall1 = _cpu_seconds(), time.monotonic()
                rss, peak = _rss_mb()
                applied = app.live.applied if app.live else 0
                row = {
                    "t": wall1 - (t_end - minutes * 60),
                    "cpu": (cpu1 - cpu0) / (wall1 - wall0) * 100,
                    "rss": rss,
                    "peak": peak,
                    "events": applied - applied0,
                    "p50": statistics.median(interval_lat) if interval_lat else float("nan"),
                    "max": max(interval_lat) if interval_lat else float("nan"),
                    "pods": len(app.snapshot.pods) if app.snapshot else 0,
                    "stale": ",".join(app.live.status().stale) if app.live else "not watching",
                }
                rows.append(row)
                print(
                    f"  {row['t'] / 60:5.1f} min  latency p50 {row['p50']:.2f} s max {row['max']:.2f} s"
                    f"  CPU {row['cpu']:5.1f}%  RSS {rss:5.0f} MiB (peak {peak:5.0f})"
                    f"  {row['events'] / (wall1 - wall0):6.1f} changes/s  pods {row['pods']}"
                    + (f"  STALE {row['stale']}" if row["stale"] else ""),
                    flush=True,
                )
                cpu0, wall0, applied0, interval_lat = cpu1, wall1, applied, []
                next_report = time.monotonic() + report_every
        relists = app.live.relists if app.live else 0
    return {"first": first, "latencies": latencies, "parts": parts, "rows": rows, "relists": relists}


def _unschedulable(snapshot, node: str) -> bool | None:
    found = snapshot.node_by_name.get(node)
    return None if found is None else bool(found.spec.unschedulable)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="large")
    ap.add_argument("--quick", action="store_true", help="5,000 pods for one minute")
    ap.add_argument("--minutes", type=float, default=None, help="how long to churn (default 5; --quick: 1)")
    ap.add_argument("--churn", default=CHURN, help=f"the simulator's --churn rate (default {CHURN})")
    ap.add_argument("--probe-every", type=float, default=2.0, help="seconds between two probes")
    ap.add_argument("--report-every", type=float, default=30.0, help="seconds between two report lines")
    args = ap.parse_args()
    spec = QUICK if args.quick else SIZES[args.size]
    minutes = args.minutes if args.minutes is not None else (1.0 if args.quick else 5.0)
    label = "quick" if args.quick else args.size
    # --static: the simulator's own scheduler and controllers would re-read 100,000 pods on every
    # change and become the bottleneck; an API server does not. Churn makes the changes.
    with served(label, spec, ["--churn", args.churn, "--static"]) as (env, tmp):
        kubeconfig = tmp / "kubeconfig"
        os.environ["KUBECONFIG"] = str(kubeconfig)
        base, base_rss = _baseline(env)
        print(
            f"  baseline: one full read and check (`gputui diagnose`, what `r` costs) {base:.2f} s,"
            f" peak RSS {base_rss:.0f} MiB",
            flush=True,
        )
        print(f"  churn {args.churn} for {minutes:g} min, a probe every {args.probe_every:g} s", flush=True)
        result = asyncio.run(_drive(kubeconfig, minutes, args.probe_every, args.report_every))
    lat = sorted(result["latencies"])
    if not lat:
        print("no probe finished")
        return 1
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
    peak = max((r["peak"] for r in result["rows"]), default=_rss_mb()[1])
    cpu = statistics.mean(r["cpu"] for r in result["rows"]) if result["rows"] else float("nan")
    print(
        f"\n  change-to-screen: {len(lat)} probes, p50 {p50:.2f} s, p95 {p95:.2f} s, max {lat[-1]:.2f} s"
        f"  ({p50 / base:.2f}x the full read's {base:.2f} s)"
    )
    parts = result["parts"]
    if parts:
        write, to_app, to_screen = (statistics.median(p[i] for p in parts) for i in range(3))
        print(
            f"  of which (medians): the API write {write:.2f} s, watch + checks until the app has it {to_app:.2f} s,"
            f" drawing it {to_screen:.2f} s"
        )
    print(f"  CPU {cpu:.1f}% of a core on average; peak RSS {peak:.0f} MiB; re-lists after 410: {result['relists']}")
    ok = lat[-1] <= TARGET_LATENCY_S and peak < TARGET_RSS_MB
    print(
        f"  targets (latency <= {TARGET_LATENCY_S:g} s, peak RSS < {TARGET_RSS_MB} MiB): {'met' if ok else 'NOT met'}"
    )
    sys.stdout.flush()  # watch threads are daemons: leaving at once skips freeing the heap
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
