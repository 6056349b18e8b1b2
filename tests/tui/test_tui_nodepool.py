"""Pilot tests of the NodePool editor against the simulator over HTTP (incident scenario)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

os.environ["TZ"] = "UTC"
time.tzset()

from gputui.tui.app import GputuiApp  # noqa: E402
from gputui.tui.state import AppConfig  # noqa: E402
from tests.helpers.tui import wait_for as _wait  # noqa: E402
from tests.helpers.tui import widget_text as _text  # noqa: E402

pytestmark = pytest.mark.timeout(120)

SIZE = (160, 50)
NP = "/apis/karpenter.sh/v1/nodepools"


def _run(app, body, wait_snapshot: bool = True) -> None:
    async def main():
        async with app.run_test(size=SIZE) as pilot:
            if wait_snapshot:
                await _wait(pilot, lambda: app.snapshot is not None, "the first snapshot")
            await body(pilot)

    asyncio.run(main())


@pytest.fixture
def incident(start_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return start_sim(sources=["incident"])


def _config(sim) -> AppConfig:
    return AppConfig(kubeconfig=str(sim.kubeconfig), context=sim.context, namespace=None, read_only=False)


def _kube(sim):
    from gputui.kube.client import connect

    return connect(str(sim.kubeconfig), sim.context)


def _live(sim, name: str) -> dict:
    with _kube(sim) as kube:
        return kube.get_json(f"{NP}/{name}")


async def _open(pilot, app, name: str):
    from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

    app.open_nodepool_editor(name)
    await _wait(
        pilot, lambda: isinstance(app.screen, NodePoolEditScreen) and app.screen.state == "editing", "the editor"
    )
    screen = app.screen
    await _wait(pilot, lambda: screen.preview is not None, "the first preview")
    return screen


async def _review(pilot, app, screen):
    from gputui.tui.screens.nodepool_edit import SaveReviewScreen

    await pilot.press("ctrl+s")
    await _wait(pilot, lambda: isinstance(app.screen, SaveReviewScreen), "the save review")
    return app.screen


def test_edit_limit_taint_and_consolidation_then_save(incident):
    from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

    app = GputuiApp(_config(incident))

    async def body(pilot):
        screen = await _open(pilot, app, "gpu-inference")
        assert screen.query_one("#np-limit_gpu").value == "64"
        assert screen.query_one("#np-taints").value == "nvidia.com/gpu=true:NoSchedule"
        screen.set_field("limit_gpu", "96")
        screen.set_field("taints", "nvidia.com/gpu=true:NoSchedule, team=ml:NoSchedule")
        screen.set_field("consolidation_policy", "WhenEmpty")
        await _wait(pilot, lambda: "nvidia.com/gpu 96:" in _text(screen.query_one("#np-preview")), "the new limit")
        preview = _text(screen.query_one("#np-preview"))
        assert "at most 24-96 nodes" in preview
        assert "Underutilized: not considered (consolidationPolicy WhenEmpty)" in preview
        # The GPU Operator's DaemonSets tolerate only nvidia.com/gpu: the new taint would starve its nodes.
        await _wait(pilot, lambda: "GPU605" in _text(screen.query_one("#np-preview")), "the operand finding")
        review = await _review(pilot, app, screen)
        text = _text(review.query_one("#review-text"))
        assert "+    nvidia.com/gpu: '96'" in text and "+    consolidationPolicy: WhenEmpty" in text
        assert "+        key: team" in text
        assert "✓ the server accepts the change" in text
        assert "checked against gputui's built-in NodePool rules" in text
        await pilot.press("y")
        await _wait(pilot, lambda: isinstance(app.screen, NodePoolEditScreen) and screen.state == "saved", "saving")
        assert "Saved: NodePool/gpu-inference updated" in _text(screen.query_one("#np-prompt"))
        live = _live(incident, "gpu-inference")
        assert live["spec"]["limits"]["nvidia.com/gpu"] == "96"
        assert live["spec"]["disruption"]["consolidationPolicy"] == "WhenEmpty"
        assert {"key": "team", "value": "ml", "effect": "NoSchedule"} in live["spec"]["template"]["spec"]["taints"]
        # The change is in the audit log the undo screen reads.
        from gputui.fixes.audit import AuditLog

        assert AuditLog().entries()[-1].title == "Edit NodePool gpu-inference"

    _run(app, body)


def test_stale_resource_version_is_reviewed_again(incident):
    from gputui.tui.screens.nodepool_edit import NodePoolEditScreen, SaveReviewScreen

    app = GputuiApp(_config(incident))

    async def body(pilot):
        screen = await _open(pilot, app, "gpu-training")
        screen.set_field("limit_gpu", "128")
        await _wait(pilot, lambda: "nvidia.com/gpu 128:" in _text(screen.query_one("#np-preview")), "the new limit")
        first = await _review(pilot, app, screen)
        # Someone else changes the NodePool between the review and the confirmation.
        with _kube(incident) as kube:
            kube.request(
                "PATCH",
                f"{NP}/gpu-training",
                body={"spec": {"weight": 85}},
                content_type="application/merge-patch+json",
            )
        await pilot.press("y")
        await _wait(
            pilot, lambda: isinstance(app.screen, SaveReviewScreen) and app.screen is not first, "the second review"
        )
        text = _text(app.screen.query_one("#review-text"))
        assert "changed while you were reviewing" in text
        assert "resourceVersion" in text and "+    nvidia.com/gpu: '128'" in text
        assert _live(incident, "gpu-training")["spec"]["limits"]["nvidia.com/gpu"] == "64"
        await pilot.press("y")
        await _wait(pilot, lambda: isinstance(app.screen, NodePoolEditScreen) and screen.state == "saved", "saving")
        live = _live(incident, "gpu-training")
        assert (live["spec"]["limits"]["nvidia.com/gpu"], live["spec"]["weight"]) == ("128", 85)

    _run(app, body)


def test_invalid_field_blocks_saving_and_escape_keeps_the_draft(incident):
    from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

    app = GputuiApp(_config(incident))

    async def body(pilot):
        screen = await _open(pilot, app, "gpu-dedicated")
        screen.set_field("budgets", "sometimes")
        await _wait(pilot, lambda: "budgets" in screen.invalid, "the field error")
        assert "must be a count (0, 1, 5) or a percentage" in _text(screen.query_one("#np-err-budgets"))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NodePoolEditScreen) and screen.state == "editing"
        assert "Fix the fields marked in red" in _text(screen.query_one("#np-prompt"))
        screen.set_field("budgets", '0 at "0 9 * * mon-fri" for 8h; 1')
        await _wait(pilot, lambda: "budgets" not in screen.invalid, "the field to clear")
        review = await _review(pilot, app, screen)
        text = _text(review.query_one("#review-text"))
        assert "+    - duration: 8h\n+      nodes: '0'\n+      schedule: 0 9 * * mon-fri\n+    - nodes: '1'" in text
        await pilot.press("escape")
        await _wait(pilot, lambda: isinstance(app.screen, NodePoolEditScreen), "back to the form")
        assert screen.draft.changed and screen.state == "editing"
        assert _live(incident, "gpu-dedicated")["spec"]["disruption"]["budgets"] == [{"nodes": "10%"}]
        # Leaving with unsaved edits takes a second escape.
        await pilot.press("escape")
        assert app.screen is screen and "Unsaved edits" in _text(screen.query_one("#np-prompt"))
        await pilot.press("escape")
        await _wait(pilot, lambda: app.screen is not screen, "leaving the editor")

    _run(app, body)


def test_new_nodepool_from_a_template_opens_in_the_editor_and_is_created(incident):
    from gputui.nodepool import templates
    from gputui.tui.nodepool_editor_app import NodePoolEditorApp
    from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

    draft = templates.get("training").build("research-train")[0]
    app = NodePoolEditorApp(_config(incident), "research-train", draft)

    async def body(pilot):
        await _wait(
            pilot, lambda: isinstance(app.screen, NodePoolEditScreen) and app.screen.state == "editing", "the editor"
        )
        screen = app.screen
        assert screen.creating and screen.query_one("#np-gpu_names").value == "a100, h100, h200"
        await _wait(pilot, lambda: app.kube is not None, "the connection")
        review = await _review(pilot, app, screen)
        text = _text(review.query_one("#review-text"))
        assert "Create NodePool research-train" in text and "the server accepts the new NodePool" in text
        await pilot.press("y")
        await _wait(pilot, lambda: screen.state == "saved", "creation")
        assert _live(incident, "research-train")["spec"]["limits"] == {"nvidia.com/gpu": "32"}

    _run(app, body, wait_snapshot=False)


def test_missing_nodepool_says_so(incident):
    app = GputuiApp(_config(incident))

    async def body(pilot):
        from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

        app.open_nodepool_editor("no-such-pool")
        await _wait(
            pilot, lambda: isinstance(app.screen, NodePoolEditScreen) and app.screen.state == "failed", "the failure"
        )
        assert "NodePool no-such-pool does not exist" in _text(app.screen.query_one("#np-prompt"))

    _run(app, body)


def test_the_nodepool_screen_opens_the_editor(incident):
    from checks.model import ObjectRef
    from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

    app = GputuiApp(_config(incident))

    async def body(pilot):
        app.open_object(ObjectRef("NodePool", "gpu-training"))
        await _wait(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", "the NodePool screen")
        await pilot.press("E")
        await _wait(
            pilot, lambda: isinstance(app.screen, NodePoolEditScreen) and app.screen.state == "editing", "the editor"
        )
        assert app.screen.query_one("#np-budgets").value == '0 at "0 7 * * mon-fri" for 12h; 1'
        await pilot.press("escape")
        await _wait(pilot, lambda: type(app.screen).__name__ == "ObjectScreen", "back")

    _run(app, body)


# -- 80x24, and an API server that does not answer ------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_preview_is_readable_at_80x24_and_beside_the_form_when_wide(incident, size):
    from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

    app = GputuiApp(_config(incident))

    async def body(pilot):
        app.open_nodepool_editor("gpu-inference")
        await _wait(
            pilot, lambda: isinstance(app.screen, NodePoolEditScreen) and app.screen.preview is not None, "the preview"
        )
        await pilot.pause()
        screen = app.screen
        pane, form = screen.query_one("#np-preview-pane"), screen.query_one("#np-form")
        if size[0] < 100:  # stacked: each gets the full width
            assert pane.size.width >= size[0] - 4 and pane.region.y > form.region.y
            assert form.size.height >= 5 and pane.size.height >= 5
        else:  # side by side
            assert pane.region.x > form.region.x and pane.size.width >= 30
        assert "Instance types" in _text(screen.query_one("#np-preview"))
        screen.set_field("weight", "abc")
        await pilot.pause()
        assert screen.query_one("#np-weight").has_class("-invalid")

    async def main():
        async with app.run_test(size=size) as pilot:
            await _wait(pilot, lambda: app.snapshot is not None, "the first snapshot")
            await body(pilot)

    asyncio.run(main())


def test_an_api_server_that_does_not_answer_is_said_in_seconds_with_a_retry(tmp_path, monkeypatch):
    import socket

    import yaml

    from gputui.tui.nodepool_editor_app import NodePoolEditorApp
    from gputui.tui.screens.nodepool_edit import NodePoolEditScreen

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # accepts connections, never answers
    kubeconfig = tmp_path / "kubeconfig"
    server = f"http://127.0.0.1:{listener.getsockname()[1]}"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "down", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "down",
            }
        )
    )
    config = AppConfig(kubeconfig=str(kubeconfig), context="down", namespace=None, read_only=False)
    app = NodePoolEditorApp(config, "gpu-inference")

    async def main():
        async with app.run_test(size=(80, 24)) as pilot:
            await _wait(pilot, lambda: isinstance(app.screen, NodePoolEditScreen), "the editor")
            screen = app.screen
            await _wait(pilot, lambda: screen.state == "unreachable", "cannot reach the API server", timeout=15)
            preview = _text(screen.query_one("#np-preview"))
            assert "cannot reach the API server" in preview and server in preview
            assert "r retries" in _text(screen.query_one("#np-prompt"))
            await pilot.press("r")
            assert screen.state == "loading"
            await _wait(pilot, lambda: screen.state == "unreachable", "the retry's answer", timeout=15)
            await pilot.press("escape")

    try:
        asyncio.run(main())
    finally:
        listener.close()
