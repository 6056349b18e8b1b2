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


def _run(app, body, size=SIZE) -> None:
    async def main():
        async with app.run_test(size=size) as pilot:
            await _wait(pilot, lambda: app.snapshot is not None, "the first snapshot")
            await body(pilot)

    asyncio.run(main())


@pytest.fixture
def incident(start_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return start_sim(sources=["incident"])


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


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_disruptive_fix_needs_a_second_confirmation_and_a_terminating_nodeclaim_is_not_fixed(incident, size):
    from gputui.kube.client import connect
    from gputui.tui.screens.fix import FixScreen

    app = _app(incident)

    async def body(pilot):
        finding = next(f for f in app.findings if _key(f) == ("GPU304", "NodeClaim", "", "gpu-inference-4frzj"))
        plan = next(p for p in finding.fixes if p.id == "delete-nodeclaim")
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
        # Karpenter's finalizer holds the NodeClaim: deleted, not gone, so not fixed.
        await _wait(pilot, lambda: screen.state == "terminating", "the NodeClaim Terminating", timeout=30)
        prompt = _text(screen.query_one("#fix-prompt"))
        assert "deleting (Terminating)" in prompt and "Fixed" not in prompt
        assert "waiting for finalizers karpenter.sh/termination" in _text(screen.query_one("#step-verify"))
        with connect(str(incident.kubeconfig), incident.context) as kube:  # Karpenter finishes
            kube.request(
                "PATCH",
                object_path(plan.target),
                body={"metadata": {"finalizers": None}},
                content_type="application/merge-patch+json",
            )
        await _wait(pilot, lambda: screen.state == "verified", "the verification once it is gone", timeout=30)
        assert "Terminating" not in _text(screen.query_one("#step-verify"))

    _run(app, body, size)


def test_the_finding_offers_the_checks_plans_and_nothing_else(incident):
    """The screens add no fix of their own (no "restart the pod" a check did not offer)."""
    from textual.widgets import Button

    app = _app(incident)

    async def body(pilot):
        for finding in app.findings:
            app.open_finding(finding)
            await _wait(pilot, lambda: type(app.screen).__name__ == "FindingScreen", "the finding")
            labels = [str(b.label) for b in app.screen.query(Button) if (b.id or "").startswith("walk-")]
            assert labels == [f"Walk through: {p.title}" for p in finding.fixes], finding.id
            if not finding.fixes:
                await pilot.press("w")
                assert type(app.screen).__name__ == "FindingScreen"
            await pilot.press("escape")

    _run(app, body)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_kubectl_equivalent_is_unboxed_and_c_copies_it(incident, size):
    from textual.widgets import Static

    from gputui.tui.screens.fix import FixScreen

    app = _app(incident)

    async def body(pilot):
        finding = next(f for f in app.findings if _key(f) == SWEEP)
        plan = finding.fixes[0]
        app.open_finding(finding)
        await _wait(pilot, lambda: type(app.screen).__name__ == "FindingScreen", "the finding")
        screen = app.screen
        command = next(w for w in screen.query(Static) if w.has_class("command"))
        assert _text(command).strip().replace("\n", " ").startswith(plan.kubectl[:40])
        # Nothing around the command draws a border: a terminal selection gets the command alone.
        for node in command.ancestors_with_self:
            if hasattr(node, "styles") and node is not screen:
                assert not any(edge[0] for edge in node.styles.border), node
        await pilot.press("c")
        assert app.clipboard == plan.kubectl
        app.copy_to_clipboard("")
        await pilot.press("y")  # the other copy key on this screen
        assert app.clipboard == plan.kubectl

        app.open_fix(finding, plan)
        await _wait(pilot, lambda: isinstance(app.screen, FixScreen) and app.screen.state == "previewed", "the diff")
        app.copy_to_clipboard("")
        await pilot.press("c")
        assert app.clipboard == plan.kubectl
        assert "│" not in _text(app.screen.query_one("#step-explain"))

    async def main():
        async with app.run_test(size=size) as pilot:
            await _wait(pilot, lambda: app.snapshot is not None, "the first snapshot")
            await body(pilot)

    asyncio.run(main())


def test_a_finding_without_fixes_copies_the_describe_command(incident):
    app = _app(incident)

    async def body(pilot):
        finding = next(f for f in app.findings if f.code == "GPU601")
        app.open_finding(finding)
        await _wait(pilot, lambda: type(app.screen).__name__ == "FindingScreen", "the finding")
        await pilot.press("c")
        assert app.clipboard == "kubectl describe nodepools.karpenter.sh gpu-spot-training"

    _run(app, body)


def test_the_explanation_is_not_wrapped_twice(incident):
    from checks.registry import REGISTRY

    app = _app(incident)

    async def body(pilot):
        finding = next(f for f in app.findings if f.code == "GPU101")
        app.open_finding(finding)
        await _wait(pilot, lambda: type(app.screen).__name__ == "FindingScreen", "the finding")
        shown = app.screen.query_one("#finding-explanation").content.plain
        # Each paragraph of the docstring is one line here: the widget alone wraps it to its width.
        what = " ".join(REGISTRY.find("GPU101").doc_sections()["what it checks"].split())
        assert what in shown.splitlines()

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


def test_evidence_lines_wrap_under_their_text_not_under_the_bullet():
    from rich.console import Console

    from gputui.tui.screens.finding_detail import _bullets

    console = Console(width=30, record=True, file=open(os.devnull, "w"))
    console.print(_bullets(["taint example.com/gpu-dedicated=true:NoSchedule is not tolerated", "short"]))
    lines = console.export_text().splitlines()
    assert lines[0].startswith("• taint") and lines[1].startswith("  ") and lines[1].strip()
    assert lines[-1].rstrip() == "• short"
