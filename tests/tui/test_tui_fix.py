"""Pilot tests of the fix walk-through and the undo screen against the simulator over HTTP."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

os.environ["TZ"] = "UTC"
time.tzset()

from checks import fixplans  # noqa: E402
from checks.model import ObjectRef  # noqa: E402
from gputui.fixes.targets import object_path  # noqa: E402
from gputui.tui.app import GputuiApp  # noqa: E402
from gputui.tui.state import AppConfig  # noqa: E402
from tests.helpers.tui import wait_for as _wait  # noqa: E402
from tests.helpers.tui import widget_text as _text  # noqa: E402

pytestmark = pytest.mark.timeout(120)

SIZE = (120, 40)
SWEEP = ("GPU501", "Job", "ml-research", "llm-sweep-lr3e5")


def _key(f):
    return (f.code, f.subject.kind, f.subject.namespace or "", f.subject.name)


def _run(app, body) -> None:
    async def main():
        async with app.run_test(size=SIZE) as pilot:
            await _wait(pilot, lambda: app.snapshot is not None, "the first snapshot")
            await body(pilot)

    asyncio.run(main())


@pytest.fixture
def incident(start_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return start_sim(sources=["incident"])


@pytest.fixture
def runtime_missing(start_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return start_sim(sources=["nvidia-runtime-missing"])


def _app(sim, read_only=False) -> GputuiApp:
    return GputuiApp(
        AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=read_only)
    )


def _annotations(sim):
    from gputui.kube.client import connect

    with connect(str(sim.kubeconfig), sim.context) as kube:
        pod = kube.get_json(object_path(ObjectRef("Pod", "llm-sweep-lr3e5-6m8xx", "ml-research")))
    return pod["metadata"].get("annotations") or {}


def test_walk_a_fix_through_and_undo_it(incident):
    from gputui.tui.screens.fix import FixScreen, UndoScreen

    app = _app(incident)

    async def body(pilot):
        finding = next(f for f in app.findings if _key(f) == SWEEP)
        app.open_finding(finding)
        await _wait(pilot, lambda: type(app.screen).__name__ == "FindingScreen", "the finding")
        await pilot.press("w")  # walk through the first fix: annotate the running pod
        await _wait(pilot, lambda: isinstance(app.screen, FixScreen) and app.screen.state == "previewed", "the diff")
        screen = app.screen
        assert screen.plan.id == "add-do-not-disrupt" and screen.plan.target.kind == "Pod"
        steps = _text(screen.query_one("#fix-steps"))
        assert "1 Evidence ▸ 2 Why ▸ 3 Change ▸ 4 Dry run ▸ 5 Confirm ▸ 6 Apply ▸ 7 Verify" in steps
        assert "do-not-disrupt" in _text(screen.query_one("#step-evidence"))
        diff = _text(screen.query_one("#step-diff"))
        assert "+    karpenter.sh/do-not-disrupt: 'true'" in diff
        assert screen.query_one("#step-dryrun").has_class("-hidden")

        await pilot.press("y")  # confirming before the dry run does nothing
        assert screen.state == "previewed" and not _annotations(incident)
        await pilot.press("d")
        await _wait(pilot, lambda: screen.state == "ready", "the dry run")
        assert "✓ the server accepts the change" in _text(screen.query_one("#step-dryrun"))
        assert "Press y to apply" in _text(screen.query_one("#fix-prompt"))
        assert not _annotations(incident)  # a dry run stores nothing

        await pilot.press("y")
        await _wait(pilot, lambda: screen.state == "verified", "apply and verification", timeout=30)
        assert "✓ Pod/ml-research/llm-sweep-lr3e5-6m8xx updated" in _text(screen.query_one("#step-apply"))
        verify_text = _text(screen.query_one("#step-verify"))
        assert "GPU501 no longer reports Job/ml-research/llm-sweep-lr3e5: the problem is fixed" in verify_text
        assert _annotations(incident) == {"karpenter.sh/do-not-disrupt": "true"}
        await _wait(
            pilot,
            lambda: not app.gathering and SWEEP not in {_key(f) for f in app.findings},
            "the refreshed findings without GPU501",
        )

        await pilot.press("u")  # undo the change just made
        await _wait(
            pilot, lambda: isinstance(app.screen, UndoScreen) and app.screen.state == "previewed", "the undo preview"
        )
        undo = app.screen
        detail = _text(undo.query_one("#undo-detail"))
        assert "-    karpenter.sh/do-not-disrupt: 'true'" in detail
        await pilot.press("y")
        await _wait(pilot, lambda: undo.state == "done", "the undo")
        assert "✓ undone: restore Pod/ml-research/llm-sweep-lr3e5-6m8xx" in _text(undo.query_one("#undo-detail"))
        assert _annotations(incident) == {}
        await _wait(
            pilot, lambda: not app.gathering and SWEEP in {_key(f) for f in app.findings}, "GPU501 back after the undo"
        )
        assert undo.entries == []

    _run(app, body)


def test_disruptive_fix_needs_a_second_confirmation(runtime_missing):
    from gputui.tui.screens.fix import FixScreen

    # Restarting the toolkit pod is disruptive (GPU pods on the node lose the runtime meanwhile).
    app = _app(runtime_missing)

    async def body(pilot):
        finding = next(
            f for f in app.findings if f.code == "GPU203" and f.subject.name.startswith("nvidia-container-toolkit")
        )
        plan = next(p for p in finding.fixes if p.id == "restart-operand-pod")
        assert plan.disruptive
        app.open_fix(finding, plan)
        await _wait(pilot, lambda: isinstance(app.screen, FixScreen) and app.screen.state == "previewed", "the diff")
        screen = app.screen
        assert "DISRUPTIVE" in _text(screen.query_one("#fix-title"))
        await pilot.press("d")
        await _wait(pilot, lambda: screen.state == "ready", "the dry run")
        await pilot.press("y", "y")  # a double tap is not enough
        assert screen.state == "confirm-disruptive"
        assert "Second confirmation: press a" in _text(screen.query_one("#fix-prompt"))
        await pilot.press("a")
        await _wait(pilot, lambda: screen.state == "verified", "apply and verification", timeout=30)
        assert "has not started a new pod on ip-10-0-58-31.us-west-2.compute.internal yet" in _text(
            screen.query_one("#step-verify")
        )

    _run(app, body)


def test_dry_run_rejection_stops_the_fix(incident):
    from gputui.tui.screens.fix import FixScreen

    app = _app(incident)

    async def body(pilot):
        from checks.kinds import Object, Taint, to_struct

        job = next(j for j in app.snapshot.jobs if j.metadata.name == "llm-sweep-lr3e5")
        finding = next(f for f in app.findings if _key(f) == SWEEP)
        plan = fixplans.add_toleration(
            to_struct(to_struct_dict(job), Object), [Taint(key="x", effect="NoSchedule")], kind="Job"
        )
        app.open_fix(finding, plan)
        await _wait(pilot, lambda: isinstance(app.screen, FixScreen) and app.screen.state == "previewed", "the diff")
        screen = app.screen
        await pilot.press("d")
        await _wait(pilot, lambda: screen.state == "stopped", "the rejection")
        assert "field is immutable" in _text(screen.query_one("#step-dryrun"))
        assert "rejected the change; nothing was applied" in _text(screen.query_one("#fix-prompt"))
        await pilot.press("y", "a")
        assert screen.state == "stopped"

    _run(app, body)


def to_struct_dict(obj):
    import msgspec

    return msgspec.to_builtins(obj)


def test_read_only_hides_the_walkthrough(incident):
    from gputui.tui.screens.finding_detail import FindingScreen
    from gputui.tui.screens.fix import FixScreen

    app = _app(incident, read_only=True)

    async def body(pilot):
        finding = next(f for f in app.findings if _key(f) == SWEEP)
        app.open_finding(finding)
        await _wait(pilot, lambda: isinstance(app.screen, FindingScreen), "the finding")
        assert not app.screen.query("Button")  # no walk-through buttons
        await pilot.press("w")
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        app.open_fix(finding, finding.fixes[0])
        await pilot.pause()
        assert not isinstance(app.screen, FixScreen)
        assert _annotations(incident) == {}

    _run(app, body)


def test_a_change_between_dry_run_and_apply_is_shown_and_confirmed_again(incident):
    from gputui.tui.screens.fix import FixScreen
    from tests.helpers.sim import sim_http

    app = _app(incident)
    path = object_path(ObjectRef("Pod", "llm-sweep-lr3e5-6m8xx", "ml-research"))

    async def body(pilot):
        finding = next(f for f in app.findings if _key(f) == SWEEP)
        app.open_fix(finding, finding.fixes[0])
        await _wait(pilot, lambda: isinstance(app.screen, FixScreen) and app.screen.state == "previewed", "the diff")
        screen = app.screen
        await pilot.press("d")
        await _wait(pilot, lambda: screen.state == "ready", "the dry run")
        status, _, _ = sim_http(
            incident,
            "PATCH",
            path,
            {"metadata": {"annotations": {"team": "research"}}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert status == 200
        await pilot.press("y")
        await _wait(pilot, lambda: screen.state == "previewed", "the new diff")
        diff = _text(screen.query_one("#step-diff"))
        assert "The object changed before the apply; nothing was written" in diff
        assert "+    karpenter.sh/do-not-disrupt: 'true'" in diff and "     team: research" in diff
        assert _annotations(incident) == {"team": "research"}
        assert screen.query_one("#step-apply").has_class("-hidden")  # later steps start over
        await pilot.press("d")
        await _wait(pilot, lambda: screen.state == "ready", "the second dry run")
        await pilot.press("y")
        await _wait(pilot, lambda: screen.state == "verified", "apply and verification", timeout=30)
        assert _annotations(incident) == {"team": "research", "karpenter.sh/do-not-disrupt": "true"}

    _run(app, body)
