"""In the demo, each scenario's main fix walked through the fix screen ends in "Fixed" once the
simulated GPU Operator and Karpenter have acted (short delays), and a fix that cannot work
(no EC2 capacity for the only type the pod accepts) stays unfinished."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

os.environ["TZ"] = "UTC"
time.tzset()

from gputui.sim.controllers import Delays  # noqa: E402
from gputui.tui.app import GputuiApp  # noqa: E402
from gputui.tui.state import AppConfig  # noqa: E402
from tests.helpers.tui import wait_for as _wait  # noqa: E402
from tests.helpers.tui import widget_text as _text  # noqa: E402

pytestmark = pytest.mark.timeout(180)

SIZE = (120, 40)

# scenario -> (finding code, subject kind, subject name, fix id)
MAIN_FIXES = {
    "device-plugin-taint": ("GPU101", "Node", "ip-10-0-20-38.us-west-2.compute.internal", "clusterpolicy-tolerations"),
    "nodepool-gpu-limit": ("GPU401", "Deployment", "llm-chat", "raise-nodepool-limit"),
    "karpenter-v1beta1": ("GPU401", "Deployment", "llm-chat", "raise-nodepool-limit"),
    "missing-toleration": ("GPU401", "Deployment", "sdxl-image-gen", "add-toleration"),
    "nodeclaim-not-registered": ("GPU303", "NodeClaim", "gpu-inference-al2023-l8l8g", "delete-nodeclaim"),
    "node-initializing": ("GPU304", "NodeClaim", "gpu-inference-q7wzd", "delete-nodeclaim"),
    "spot-training-disruption": ("GPU501", "Job", "llm-sweep-lr3e5", "add-do-not-disrupt"),
}


@pytest.fixture
def demo(start_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    def start(scenario: str):
        return start_sim(sources=[scenario], behaviour=True, delays=Delays.fast())

    return start


def _app(sim) -> GputuiApp:
    return GputuiApp(AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=False))


async def _walk(pilot, app, code: str, kind: str, name: str, fix_id: str):
    """Open the fix, dry-run it, apply it (confirming twice when disruptive); the fix screen."""
    from gputui.tui.screens.fix import FixScreen

    await _wait(pilot, lambda: app.snapshot is not None and not app.gathering, "the first findings")
    finding = next(f for f in app.findings if (f.code, f.subject.kind, f.subject.name) == (code, kind, name))
    plan = next(p for p in finding.fixes if p.id == fix_id)
    app.open_fix(finding, plan)
    await _wait(pilot, lambda: isinstance(app.screen, FixScreen) and app.screen.state == "previewed", "the diff")
    screen = app.screen
    await pilot.press("d")
    await _wait(pilot, lambda: screen.state == "ready", "the dry run")
    await pilot.press("y")
    if plan.disruptive:
        await _wait(pilot, lambda: screen.state == "confirm-disruptive", "the second confirmation")
        await pilot.press("a")
    await _wait(pilot, lambda: screen.state == "verified", "apply and verification", timeout=30)
    return screen


async def _verify_until_fixed(pilot, screen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not screen.verification.resolved and time.monotonic() < deadline:
        await pilot.pause(0.3)
        await pilot.press("v")
        await _wait(pilot, lambda: screen.state == "verified", "verification", timeout=30)


@pytest.mark.parametrize("scenario", sorted(MAIN_FIXES))
def test_main_fix_ends_fixed(demo, scenario):
    sim = demo(scenario)
    app = _app(sim)
    code, kind, name, fix_id = MAIN_FIXES[scenario]

    async def main():
        async with app.run_test(size=SIZE) as pilot:
            screen = await _walk(pilot, app, code, kind, name, fix_id)
            await _verify_until_fixed(pilot, screen)
            verify_text = _text(screen.query_one("#step-verify"))
            assert screen.verification.resolved, verify_text
            assert f"{code} no longer reports" in verify_text
            assert "Fixed." in _text(screen.query_one("#fix-prompt"))

    asyncio.run(main())
    assert sim.controllers.last_error is None and sim.simulation.last_error is None


def test_widening_to_types_the_pod_excludes_stays_unfinished(demo):
    """insufficient-capacity: the pods pin p5.48xlarge, which EC2 has no capacity for; widening
    the NodePool gives Karpenter nothing it can launch, so the loop keeps failing."""
    sim = demo("insufficient-capacity")
    app = _app(sim)
    claims = {
        e.obj["metadata"]["name"]
        for rt in sim.store.types()
        if rt.kind == "NodeClaim"
        for e in sim.store.select(rt).entries
    }

    def new_ice() -> bool:
        ev = sim.store.type_for("v1", "Event")
        return any(
            e.obj.get("reason") == "InsufficientCapacityError"
            and e.obj["involvedObject"]["name"] not in claims
            and "pretrain" not in e.obj["involvedObject"]["name"]
            for e in sim.store.select(ev).entries
        )

    async def main():
        async with app.run_test(size=SIZE) as pilot:
            screen = await _walk(pilot, app, "GPU302", "NodePool", "gpu-training", "widen-nodepool-requirements")
            await _wait(pilot, new_ice, "Karpenter's failed launch", timeout=30)
            await pilot.press("v")
            await _wait(pilot, lambda: screen.state == "verified", "verification", timeout=30)
            assert not screen.verification.resolved
            assert "Applied, not finished yet" in _text(screen.query_one("#fix-prompt"))

    asyncio.run(main())


def test_a_driver_that_cannot_build_for_the_kernel_offers_no_restart(demo):
    """driver-crashloop: the kernel has no driver build, so a restart crashes the same way; the
    finding names the node image as the thing to change and offers no restart to walk through."""
    sim = demo("driver-crashloop")
    app = _app(sim)

    async def main():
        async with app.run_test(size=SIZE) as pilot:
            await _wait(pilot, lambda: bool(app.findings), "the findings", timeout=30)
            finding = next(
                f for f in app.findings if f.code == "GPU203" and f.subject.name == "nvidia-driver-daemonset-9n8dn"
            )
            assert [p.id for p in finding.fixes if p.id == "restart-operand-pod"] == []
            assert "kernel" in finding.message.lower()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("scenario", "pod"),
    [("nvidia-runtime-missing", "nvidia-container-toolkit-daemonset-qt2fv")],
)
def test_restarting_an_operand_whose_cause_remains_is_not_fixed(demo, scenario, pod):
    """The DaemonSet re-creates the pod, and on the same node with the same settings it fails again."""
    sim = demo(scenario)
    app = _app(sim)

    async def main():
        async with app.run_test(size=SIZE) as pilot:
            screen = await _walk(pilot, app, "GPU203", "Pod", pod, "restart-operand-pod")
            deadline = time.monotonic() + 30
            while "fails too" not in screen.verification.message and time.monotonic() < deadline:
                await pilot.pause(0.3)
                await pilot.press("v")
                await _wait(pilot, lambda: screen.state == "verified", "verification", timeout=30)
            assert "fails too" in screen.verification.message, screen.verification.message
            assert not screen.verification.resolved
            assert "Applied, not finished yet" in _text(screen.query_one("#fix-prompt"))

    asyncio.run(main())
