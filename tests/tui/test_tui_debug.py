"""The app's debug screen (Pilot) against the simulator over HTTP: progress per node, the per-GPU
table and findings; leaving mid-run deletes the pods; leftovers are offered for removal."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

os.environ["TZ"] = "UTC"
time.tzset()

from gputui.tui.app import GputuiApp  # noqa: E402
from gputui.tui.state import AppConfig  # noqa: E402
from tests.helpers.debugpod import HOST, namespace, node, pods_left, poll_debug_pods_quickly, wait_no_pods  # noqa: E402
from tests.helpers.tui import confirm_debug, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def make_app(sim) -> GputuiApp:
    return GputuiApp(AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=False))


def drive(app, body, size=(140, 45)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: app.snapshot is not None, what="the first snapshot")
            await body(pilot)

    asyncio.run(main())


def cells(table) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.fixture(autouse=True)
def _quick_polling(monkeypatch):
    poll_debug_pods_quickly(monkeypatch)


@pytest.fixture
def small_fleet(start_sim):
    leftover = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "gputui-smi-gpu-ok-old111",
            "namespace": "default",
            "labels": {
                "app.kubernetes.io/managed-by": "gputui",
                "gputui.dev/debug": "true",
                "gputui.dev/run-id": "old111",
            },
            "annotations": {"gputui.dev/deadline": "2026-01-01T00:00:00Z"},
        },
        "spec": {"nodeName": "gpu-ok", "containers": [{"name": "nvidia-smi", "image": "busybox"}]},
        "status": {"phase": "Failed", "reason": "DeadlineExceeded"},
    }
    return start_sim(
        objects=[
            namespace("default"),
            node("gpu-ok", labels=HOST),
            node("gpu-nodriver", labels=HOST, nvidia_smi="driver-not-loaded"),
            node("gpu-xid", "g5.12xlarge", 4, labels=HOST, xid="79"),
            leftover,
        ],
        behaviour=True,
    )


def test_debug_screen_shows_progress_gpus_and_findings(small_fleet):
    from gputui.tui.screens.debug import DebugScreen

    app = make_app(small_fleet)

    async def body(pilot) -> None:
        app.open_debug(["gpu-ok", "gpu-nodriver", "gpu-xid"])
        await confirm_debug(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, DebugScreen) and app.screen.finished, what="the debug run")
        screen = app.screen
        progress = cells(screen.query_one("#debug-progress"))
        assert [(r[0], r[1], r[2], r[3]) for r in progress] == [
            ("gpu-ok", "host", "done", "1/1"),
            ("gpu-nodriver", "host", "done", "-/1"),
            ("gpu-xid", "host", "done", "4/4"),
        ]
        assert progress[0][4] == "ok" and progress[1][4].startswith("NVIDIA-SMI has failed")
        assert str(screen.query_one("#debug-mode-reason").render()).startswith(
            "gpu-ok: mode host because node label nvidia.com/gpu.deploy.driver=false"
        )
        gpus = cells(screen.query_one("#debug-gpus"))
        assert [(r[0], r[1], r[2], r[4]) for r in gpus] == [
            ("gpu-ok", "0", "NVIDIA A10G", "00000000:00:1E.0"),
            ("gpu-xid", "0", "NVIDIA A10G", "00000000:00:1B.0"),
            ("gpu-xid", "1", "NVIDIA A10G", "00000000:00:1C.0"),
            ("gpu-xid", "2", "NVIDIA A10G", "00000000:00:1D.0"),
            ("gpu-xid", "3", "NVIDIA A10G", "00000000:00:1E.0"),
        ]
        assert gpus[0][5] == "0/23028 MiB"
        findings = str(screen.query_one("#debug-findings").render())
        assert "GPU702 nvidia-smi on gpu-nodriver: driver-not-loaded" in findings
        assert "GPU706 gpu-xid: Xid 79 x1" in findings
        assert [(f.code, f.subject.name) for f in screen.findings] == [
            ("GPU702", "gpu-nodriver"),
            ("GPU706", "gpu-xid"),
        ]
        # The leftover from an earlier run is offered; x removes it.
        assert screen.has_class("-leftovers") and "gputui-smi-gpu-ok-old111" in str(
            screen.query_one("#debug-leftovers").render()
        )
        await pilot.press("x")
        await wait_for(pilot, lambda: not screen.leftovers, what="leftover removal")
        assert not screen.has_class("-leftovers")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DebugScreen), what="leaving the debug screen")

    drive(app, body)
    assert wait_no_pods(small_fleet) == []


def test_leaving_mid_run_deletes_the_pods(small_fleet, monkeypatch):
    from gputui.sim import behaviour
    from gputui.tui.screens.debug import DebugScreen

    monkeypatch.setattr(behaviour, "RUN_SECONDS", 60.0)
    app = make_app(small_fleet)

    async def body(pilot) -> None:
        app.open_debug(["gpu-ok", "gpu-xid"])
        await confirm_debug(pilot)
        await wait_for(
            pilot,
            lambda: (
                len(
                    [
                        p
                        for p in pods_left(small_fleet)
                        if p["metadata"]["labels"].get("gputui.dev/run-id") != "old111"
                        and (p.get("status") or {}).get("phase") == "Running"
                    ]
                )
                == 2
            ),
            what="two running debug pods",
        )
        assert isinstance(app.screen, DebugScreen) and not app.screen.finished
        await wait_for(
            pilot,
            lambda: [r[2] for r in cells(app.screen.query_one("#debug-progress"))] == ["running", "running"],
            what="the progress table to show both pods running",
        )
        await pilot.press("escape")
        await wait_for(
            pilot,
            lambda: [p["metadata"]["name"] for p in pods_left(small_fleet)] == ["gputui-smi-gpu-ok-old111"],
            timeout=10,
            what="the debug pods to go",
        )

    drive(app, body)


def test_debug_findings_join_the_fleet_findings_and_survive_a_refresh(small_fleet):
    from gputui.tui.screens.debug import DebugScreen
    from gputui.tui.screens.fleet_overview import FleetScreen

    app = make_app(small_fleet)

    def fleet_gpu702(pilot) -> list:
        table = pilot.app.screen.query_one("#findings-table")
        return [f for f in table.findings if f.code == "GPU702"]

    async def body(pilot) -> None:
        assert not [f for f in app.findings if f.code.startswith("GPU7")]
        app.open_debug(["gpu-nodriver"])
        await confirm_debug(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, DebugScreen) and app.screen.finished, what="the debug run")
        await pilot.press("escape")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, FleetScreen) and fleet_gpu702(pilot),
            what="GPU702 in the fleet Findings tab",
        )
        [finding] = fleet_gpu702(pilot)
        assert finding.subject.kind == "Node" and finding.subject.name == "gpu-nodriver"
        assert "From the nvidia-smi debug run at 20" in finding.message
        assert any(e.startswith("nvidia-smi debug run at 20") for e in finding.evidence)
        table = app.screen.query_one("#findings-table")
        row = table.findings.index(finding)
        assert [c.plain if hasattr(c, "plain") else str(c) for c in table.get_row_at(row)][1] == "GPU702"
        assert "Node/gpu-nodriver" in table.subject_cells()[row]
        label = app.screen.query_one("#fleet-tabs").get_tab("findings").label.plain
        assert label == f"Findings ({len(app.findings)})"
        # The node table's worst finding for the node is the debug one.
        nodes = app.screen.query_one("#nodes-table")
        assert next(r for r in nodes._rows if r.name == "gpu-nodriver").worst.code == "GPU702"

        gathered_before = app.snapshot
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: (
                app.snapshot is not gathered_before
                and not app.gathering
                # the table shows the new findings (the old ones were other objects)
                and {id(f) for f in app.screen.query_one("#findings-table").findings} <= {id(f) for f in app.findings}
            ),
            what="the refresh shown in the Findings tab",
        )
        [kept] = fleet_gpu702(pilot)
        assert kept.message == finding.message  # still says when it was seen, not re-stamped by the refresh

    drive(app, body)
    left = wait_no_pods(small_fleet, but=("gputui-smi-gpu-ok-old111",))
    assert [p["metadata"]["name"] for p in left] == ["gputui-smi-gpu-ok-old111"]


def test_at_80x24_the_progress_and_gpu_tables_fit(small_fleet):
    from gputui.tui.screens.debug import DebugScreen

    app = make_app(small_fleet)

    async def body(pilot) -> None:
        app.open_debug(["gpu-ok", "gpu-nodriver", "gpu-xid"])
        await confirm_debug(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, DebugScreen) and app.screen.finished, what="the debug run")
        screen = app.screen
        progress = screen.query_one("#debug-progress")
        # Node, mode, status and GPU count are on screen; the result starts well inside 80 columns.
        before_result = sum(c.get_render_width(progress) for c in progress.ordered_columns[:4])
        assert before_result <= 60, before_result
        gpus = screen.query_one("#debug-gpus")
        labels = [str(c.label) for c in gpus.ordered_columns]
        assert labels[:4] == ["Node", "GPU", "Model", "Memory"] and "ECC unc" in labels
        assert gpus.virtual_size.width <= 80, gpus.virtual_size.width
        assert cells(gpus)[0][:4] == ["gpu-ok", "0", "NVIDIA A10G", "0/23028 MiB"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DebugScreen), what="leaving the debug screen")

    drive(app, body, size=(80, 24))


@pytest.mark.xdist_group("tui-snapshots")
def test_debug_screen_at_80x24(small_fleet, snap_compare, monkeypatch):
    """The finished debug run at 80x24 (a fixed run id, so the pod names are the same every time)."""
    from gputui.debugpod import spec
    from gputui.tui.screens.debug import DebugScreen

    monkeypatch.setattr(spec, "new_run_id", lambda: "snap01")
    app = make_app(small_fleet)

    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: app.snapshot is not None, what="the first snapshot")
        app.open_debug(["gpu-ok", "gpu-nodriver", "gpu-xid"])
        await confirm_debug(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, DebugScreen) and app.screen.finished, what="the debug run")
        await wait_for(pilot, lambda: not any(w.is_running for w in app.workers), what="the workers")
        app.clear_notifications()
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
