"""Dumps as users give them: no CRDs, kinds gputui does not know, and input with no objects."""

from __future__ import annotations

import json

import pytest
import yaml

from gputui.cli import main
from gputui.errors import EXIT_INPUT, EXIT_OK
from gputui.sim.loader import load_objects
from tests.helpers.sim import sim_http

WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1", "namespace": "default"}}
EKS_NODECLASS = {
    "apiVersion": "eks.amazonaws.com/v1",
    "kind": "NodeClass",
    "metadata": {"name": "gpu"},
    "spec": {"role": "AmazonEKSAutoNodeRole", "subnetSelectorTerms": [{"tags": {"Name": "private"}}]},
    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
}
NVIDIADRIVER = {
    "apiVersion": "nvidia.com/v1alpha1",
    "kind": "NVIDIADriver",
    "metadata": {"name": "default"},
    "spec": {"driverType": "gpu", "version": "550.90.07"},
}


def _dump(tmp_path, scenario: str, *extra: dict, name: str = "dump.yaml") -> str:
    """The scenario as `kubectl get ... -o yaml` writes it: one `kind: List`, no CRDs."""
    items = [o for o in load_objects([scenario], shift_time=False) if o["kind"] != "CustomResourceDefinition"]
    path = tmp_path / name
    dump = {"apiVersion": "v1", "kind": "List", "items": items + list(extra)}
    path.write_text(json.dumps(dump) if name.endswith(".json") else yaml.safe_dump(dump))
    return str(path)


def _json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["diagnose", *args, "-o", "json"])
    return code, json.loads(capsys.readouterr().out)


def _pairs(doc: dict) -> set:
    return {(f["code"], f["subject"]["kind"], f["subject"]["name"]) for f in doc["findings"]}


@pytest.mark.parametrize(
    ("scenario", "name"),
    [("device-plugin-taint", "dump.yaml"), ("device-plugin-taint", "dump.json"), ("karpenter-v1beta1", "dump.yaml")],
)
def test_a_dump_without_crds_diagnoses_as_the_scenario(capsys, tmp_path, scenario, name):
    code, doc = _json(capsys, "--from", _dump(tmp_path, scenario, name=name))
    want_code, want = _json(capsys, "--from", scenario)
    assert doc["incomplete"] == want["incomplete"] == []
    assert _pairs(doc) == _pairs(want) and _pairs(doc)
    assert code == want_code


def test_eks_auto_mode_nodeclass_and_nvidiadriver_are_known_without_crds(capsys, tmp_path):
    code, doc = _json(capsys, "--from", _dump(tmp_path, "healthy", EKS_NODECLASS, NVIDIADRIVER))
    assert doc["incomplete"] == []
    assert code == EXIT_OK


def test_an_unknown_kind_is_listed_as_not_seen_in_every_format_without_a_partial_exit(capsys, tmp_path):
    dump = _dump(tmp_path, "healthy", WIDGET)
    code, doc = _json(capsys, "--from", dump)
    assert code == EXIT_OK  # a kind no check reads does not make the view partial
    [entry] = doc["incomplete"]
    assert entry["resource"] == "widget.example.com"
    assert entry["reason"] == "UnknownKind"
    assert "1 object of kind Widget (example.com/v1)" in entry["message"]
    assert "not a partial read" in entry["message"]

    assert main(["diagnose", "--from", dump, "-o", "yaml"]) == EXIT_OK
    assert yaml.safe_load(capsys.readouterr().out)["incomplete"] == [entry]
    assert main(["diagnose", "--from", dump, "-o", "markdown"]) == EXIT_OK
    md = capsys.readouterr().out
    assert "### Could not see" in md and "`widget.example.com`: UnknownKind" in md
    assert "Partial view" not in md
    assert main(["diagnose", "--from", dump]) == EXIT_OK
    text = capsys.readouterr().out
    assert "Could not see (kinds no check reads; findings are complete)" in text
    assert "widget.example.com  UnknownKind" in text
    assert "unreadable" not in text


def test_unknown_kinds_are_counted_per_kind(capsys, tmp_path):
    other = dict(WIDGET, metadata={"name": "w2", "namespace": "default"})
    gadget = {"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "g"}}
    _, doc = _json(capsys, "--from", _dump(tmp_path, "healthy", WIDGET, other, gadget))
    assert [(i["resource"], i["message"].split(" left out")[0]) for i in doc["incomplete"]] == [
        ("gadget", "1 object of kind Gadget (v1)"),
        ("widget.example.com", "2 objects of kind Widget (example.com/v1)"),
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.yaml", ""),
        ("comments.yaml", "# kubectl printed nothing\n---\n# nor here\n"),
        ("list.yaml", "apiVersion: v1\nkind: List\nitems: []\n"),
        ("list.json", '{"apiVersion": "v1", "kind": "List", "items": []}'),
        ("array.json", "[]"),
    ],
)
def test_input_without_objects_is_an_input_error(capsys, tmp_path, name, content):
    (tmp_path / name).write_text(content)
    assert main(["diagnose", "--from", str(tmp_path / name)]) == EXIT_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no Kubernetes objects to diagnose" in captured.err
    assert "hint: give a `kubectl get" in captured.err
    assert "No problems found" not in captured.err


def test_a_json_mapping_that_is_no_object_is_an_input_error(capsys, tmp_path):
    (tmp_path / "obj.json").write_text("{}")
    assert main(["diagnose", "--from", str(tmp_path / "obj.json")]) == EXIT_INPUT
    assert "apiVersion is missing" in capsys.readouterr().err


def test_input_with_only_unknown_kinds_is_an_input_error(capsys, tmp_path):
    (tmp_path / "widgets.yaml").write_text(yaml.safe_dump(WIDGET))
    assert main(["diagnose", "--from", str(tmp_path / "widgets.yaml")]) == EXIT_INPUT
    assert (
        "nothing to diagnose: only objects of kinds gputui does not know: Widget (example.com/v1)"
        in capsys.readouterr().err
    )


def test_an_empty_directory_is_an_input_error(capsys, tmp_path):
    assert main(["diagnose", "--from", str(tmp_path)]) == EXIT_INPUT
    assert "no Kubernetes objects to diagnose" in capsys.readouterr().err


def test_the_simulator_serves_a_dump_without_crds(capsys, tmp_path, start_sim):
    dump = _dump(tmp_path, "device-plugin-taint", EKS_NODECLASS, NVIDIADRIVER)
    sim = start_sim(sources=[dump])
    for path, kind in [
        ("/apis/karpenter.sh/v1/nodepools", "NodePool"),
        ("/apis/karpenter.sh/v1/nodeclaims", "NodeClaim"),
        ("/apis/karpenter.k8s.aws/v1/ec2nodeclasses", "EC2NodeClass"),
        ("/apis/nvidia.com/v1/clusterpolicies", "ClusterPolicy"),
        ("/apis/nvidia.com/v1alpha1/nvidiadrivers", "NVIDIADriver"),
        ("/apis/eks.amazonaws.com/v1/nodeclasses", "NodeClass"),
    ]:
        status, _, body = sim_http(sim, "GET", path)
        assert status == 200, path
        items = json.loads(body)["items"]
        assert items and all(o["kind"] == kind for o in items), path
    code = main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "-o", "json", "--no-progress"])
    live = json.loads(capsys.readouterr().out)
    want_code, want = _json(capsys, "--from", "device-plugin-taint")
    assert _pairs(live) == _pairs(want)
    assert code == want_code


def test_both_karpenter_versions_in_one_dump_are_served(tmp_path, start_sim):
    v1 = [o for o in load_objects(["healthy"], shift_time=False) if o["kind"] == "NodePool"][0]
    old = json.loads(json.dumps(v1))
    old["apiVersion"] = "karpenter.sh/v1beta1"
    old["metadata"] = {"name": "older"}
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump_all([v1, old]))
    sim = start_sim(sources=[str(path)])
    for version, name in (("v1", v1["metadata"]["name"]), ("v1beta1", "older")):
        status, _, body = sim_http(sim, "GET", f"/apis/karpenter.sh/{version}/nodepools")
        assert status == 200
        assert name in {o["metadata"]["name"] for o in json.loads(body)["items"]}
