"""--node/--nodepool/-n: a node's short name (as the app shows it) works when it is unique, and
a filter that matches nothing is a usage error naming the closest names, not a clean report."""

from __future__ import annotations

import json

import pytest

from gputui.cli import main

NODE = "ip-10-0-39-113.us-west-2.compute.internal"


def _diagnose(capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["diagnose", "--from", "incident", "--no-progress", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_short_node_name_keeps_that_nodes_findings(capsys):
    code, out, _ = _diagnose(capsys, "--node", "ip-10-0-39-113", "-o", "json")
    short_doc, full_doc = json.loads(out), json.loads(_diagnose(capsys, "--node", NODE, "-o", "json")[1])
    assert code == 1
    assert short_doc["findings"] and short_doc["findings"] == full_doc["findings"]
    assert any(f["subject"]["name"] == NODE for f in short_doc["findings"])


@pytest.mark.parametrize(
    ("option", "value", "closest"),
    [
        ("--node", "ip-10-0-39-11", NODE),
        ("--node", "ip-10-0-39-113.us-east-1.compute.internal", NODE),
        ("--nodepool", "gpu-inferenc", "gpu-inference"),
        ("-n", "ml-serv", "ml-serving"),
    ],
)
def test_a_filter_matching_nothing_is_a_usage_error_naming_the_closest(capsys, option, value, closest):
    code, out, err = _diagnose(capsys, option, value)
    assert code == 2
    assert out == "" and "No problems found" not in out
    first, hint = err.splitlines()[:2]
    assert first.startswith("gputui: error: no ") and value in first
    assert hint.startswith("  hint: closest: ") and closest in hint
    assert "Traceback" not in err


def test_a_name_prefix_is_not_a_short_name(capsys):
    code, _, err = _diagnose(capsys, "--node", "ip-10-0")
    # "ip-10-0" is no node's short name: nothing matches rather than everything.
    assert code == 2 and "no node matches --node ip-10-0" in err


def test_debug_takes_the_short_name_and_names_the_closest_when_missing(start_sim, capsys):
    sim = start_sim(sources=["incident"])
    code = main(["debug", "--kubeconfig", str(sim.kubeconfig), "--no-progress", "ip-10-0-39-113", "--print"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"nodeName: {NODE}" in out
    code = main(["debug", "--kubeconfig", str(sim.kubeconfig), "--no-progress", "ip-10-0-39-11", "--print"])
    err = capsys.readouterr().err
    assert code == 6 and "node ip-10-0-39-11 not found" in err and f"closest: {NODE}" in err
    code = main(["debug", "--kubeconfig", str(sim.kubeconfig), "--no-progress", "--nodepool", "gpu-inferenc"])
    err = capsys.readouterr().err
    assert code == 2 and "no NodePool matches --nodepool gpu-inferenc" in err and "closest: gpu-inference" in err


def test_a_short_name_two_nodes_share_is_a_usage_error_naming_both(tmp_path, capsys):
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text(
        "\n---\n".join(
            f"apiVersion: v1\nkind: Node\nmetadata: {{name: gpu-1.{zone}.internal}}" for zone in ("zone-a", "zone-b")
        )
    )
    code = main(["diagnose", "--from", str(nodes), "--no-progress", "--node", "gpu-1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--node gpu-1 matches 2 nodes: gpu-1.zone-a.internal, gpu-1.zone-b.internal" in err
    assert main(["diagnose", "--from", str(nodes), "--no-progress", "--node", "gpu-1.zone-b.internal"]) == 0
