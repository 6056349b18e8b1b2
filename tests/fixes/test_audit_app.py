"""The app's undo screen (`u`) over an audit log with corrupt lines and an unconfirmed change."""

from __future__ import annotations

import asyncio

import pytest

from checks import fixplans
from checks.kinds import Object, to_struct
from checks.model import ObjectRef
from gputui.fixes.apply import Applier
from gputui.fixes.audit import AuditLog
from gputui.fixes.targets import object_path
from gputui.kube.client import connect
from gputui.tui.app import GputuiApp
from gputui.tui.state import AppConfig
from tests.helpers.cluster import GPU_NODE_A, gpu_node
from tests.helpers.tui import wait_for, widget_text

pytestmark = pytest.mark.timeout(120)


def test_u_lists_what_can_be_undone_despite_corrupt_lines(start_sim, tmp_path, monkeypatch):
    from gputui.tui.screens.fix import UndoScreen

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    sim = start_sim(objects=[gpu_node(GPU_NODE_A)])
    ref = ObjectRef("Node", GPU_NODE_A)
    with connect(str(sim.kubeconfig), sim.context) as kube:
        plan = fixplans.cordon_node(to_struct(kube.get_json(object_path(ref)), Object))
        ap = Applier(kube, AuditLog())
        pv = ap.preview(plan)
        entry_id = ap.apply(plan, pv.resource_version, pv).entry_id
    log = AuditLog()
    with open(log.path, "ab") as f:
        f.write(b'{"id": "x", "target": {"kind": ["Node"]}}\n\xff\n{"id": "torn", "ti')
    app = GputuiApp(AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=False))

    async def main():
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.snapshot is not None, "the first snapshot")
            await pilot.press("u")
            await wait_for(pilot, lambda: isinstance(app.screen, UndoScreen), "the undo screen")
            screen = app.screen
            await wait_for(pilot, lambda: screen.state == "listing", "the list")
            assert [e.id for e in screen.entries] == [entry_id]
            assert "3 unreadable audit lines skipped" in widget_text(screen.query_one("#undo-title"))

    asyncio.run(main())


def test_a_fix_gone_stale_before_the_walk_through_is_computed_again(start_sim, tmp_path, monkeypatch):
    from gputui.tui.screens.fix import FixScreen
    from tests.helpers.sim import sim_http

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    sim = start_sim(sources=["incident"])
    app = GputuiApp(AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=False))
    zone = {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-west-2a"]}

    def requirements():
        with connect(str(sim.kubeconfig), sim.context) as kube:
            return kube.get_json("/apis/karpenter.sh/v1/nodepools/gpu-training")["spec"]["template"]["spec"][
                "requirements"
            ]

    async def main():
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.snapshot is not None, "the first snapshot")
            finding = next(f for f in app.findings if f.code == "GPU302" and f.subject.name == "gpu-training")
            plan = next(p for p in finding.fixes if p.id == "widen-nodepool-requirements")
            # A colleague adds a requirement after the findings were computed.
            body = {"spec": {"template": {"spec": {"requirements": [*requirements(), zone]}}}}
            headers = {"Content-Type": "application/merge-patch+json"}
            status, _, _ = sim_http(sim, "PATCH", object_path(plan.target), body, headers=headers)
            assert status == 200
            app.open_fix(finding, plan)
            await wait_for(
                pilot, lambda: isinstance(app.screen, FixScreen) and app.screen.state == "previewed", "the diff", 30
            )
            screen = app.screen
            diff = widget_text(screen.query_one("#step-diff"))
            assert "the fix was computed again from it as it is now" in diff
            assert "us-west-2a" not in "".join(line for line in diff.splitlines() if line.startswith("-"))
            assert screen.plan is not plan and screen.plan.resource_version != plan.resource_version
            await pilot.press("d")
            await wait_for(pilot, lambda: screen.state == "ready", "the dry run")
            await pilot.press("y")
            await wait_for(pilot, lambda: screen.state == "verified", "apply and verification", 30)
            reqs = requirements()
            assert zone in reqs
            types = next(r for r in reqs if r["key"] == "node.kubernetes.io/instance-type")["values"]
            assert {"p5.48xlarge", "p5e.48xlarge"} <= set(types)

    asyncio.run(main())


def test_the_app_settles_a_change_left_unconfirmed_at_start(start_sim, tmp_path, monkeypatch):
    import subprocess
    import sys

    from gputui.fixes.audit import INTENT, AuditEntry
    from gputui.tui.screens.fix import UndoScreen
    from tests.helpers.sim import sim_http

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    sim = start_sim(objects=[gpu_node(GPU_NODE_A)])
    ref = ObjectRef("Node", GPU_NODE_A)
    with connect(str(sim.kubeconfig), sim.context) as kube:
        node = kube.get_json(object_path(ref))
        plan = fixplans.cordon_node(to_struct(node, Object))
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        intent = AuditLog().append(
            AuditEntry(
                id="killed-mid-patch",
                time=AuditLog.now(),
                action="apply",
                context=kube.context,
                server=kube.server,
                title=plan.title,
                plan=plan.to_json(),
                target=plan.target.to_json(),
                before=node,
                after={**node, "spec": {**node["spec"], "unschedulable": True}},
                ok=False,
                phase=INTENT,
                op="merge",
                precondition=node["metadata"]["resourceVersion"],
                pid=dead.pid,
            )
        )
    # The request that process sent landed; its answer was never read.
    status, _, _ = sim_http(
        sim,
        "PATCH",
        object_path(ref),
        {"spec": {"unschedulable": True}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert status == 200
    app = GputuiApp(AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=False))

    async def main():
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.snapshot is not None, "the first snapshot")
            assert AuditLog().find(intent.id).resolved == "applied"
            assert any("1 applied (u to undo)" in str(n.message) for n in app._notifications)
            await pilot.press("u")
            await wait_for(pilot, lambda: isinstance(app.screen, UndoScreen), "the undo screen")
            screen = app.screen
            await wait_for(pilot, lambda: screen.state == "listing", "the list")
            assert [e.id for e in screen.entries] == [intent.id]

    asyncio.run(main())


def test_the_walk_through_stops_before_anything_when_the_log_cannot_be_written(start_sim, tmp_path, monkeypatch):
    from gputui.tui.screens.fix import FixScreen

    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    sim = start_sim(sources=["incident"])
    app = GputuiApp(AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=False))

    async def main():
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.snapshot is not None, "the first snapshot")
            finding = next(f for f in app.findings if f.code == "GPU302" and f.subject.name == "gpu-training")
            app.open_fix(finding, finding.fixes[0])
            await wait_for(pilot, lambda: isinstance(app.screen, FixScreen) and app.screen.state == "stopped", "stop")
            prompt = widget_text(app.screen.query_one("#fix-prompt"))
            assert "cannot write the audit log" in prompt and "nothing was changed" in prompt

    asyncio.run(main())
    assert sim.faults.writes_received == 0  # not even a dry run was sent
