"""Loading objects without their CustomResourceDefinitions (a `kubectl get -o yaml` dump)."""

from __future__ import annotations

import pytest

from gputui.sim.known_kinds import stand_in_crds
from gputui.sim.loader import prepare_objects


def _obj(api_version: str, kind: str, name: str = "x") -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": {}}


def _crds(objects: list[dict]) -> dict[str, list[str]]:
    return {
        o["metadata"]["name"]: [v["name"] for v in o["spec"]["versions"]]
        for o in objects
        if o["kind"] == "CustomResourceDefinition"
    }


@pytest.mark.parametrize(
    ("api_version", "kind", "crd", "version"),
    [
        ("karpenter.sh/v1", "NodePool", "nodepools.karpenter.sh", "v1"),
        ("karpenter.sh/v1beta1", "NodePool", "nodepools.karpenter.sh", "v1beta1"),
        ("karpenter.sh/v1", "NodeClaim", "nodeclaims.karpenter.sh", "v1"),
        ("karpenter.sh/v1beta1", "NodeClaim", "nodeclaims.karpenter.sh", "v1beta1"),
        ("karpenter.k8s.aws/v1", "EC2NodeClass", "ec2nodeclasses.karpenter.k8s.aws", "v1"),
        ("karpenter.k8s.aws/v1beta1", "EC2NodeClass", "ec2nodeclasses.karpenter.k8s.aws", "v1beta1"),
        ("eks.amazonaws.com/v1", "NodeClass", "nodeclasses.eks.amazonaws.com", "v1"),
        ("nvidia.com/v1", "ClusterPolicy", "clusterpolicies.nvidia.com", "v1"),
        ("nvidia.com/v1alpha1", "NVIDIADriver", "nvidiadrivers.nvidia.com", "v1alpha1"),
    ],
)
def test_known_kinds_get_the_shipped_crd_of_their_apiversion(api_version, kind, crd, version):
    loaded = prepare_objects([_obj(api_version, kind)])
    assert loaded.unknown == {}
    assert _crds(loaded) == {crd: [version]}
    assert [o["kind"] for o in loaded] == ["CustomResourceDefinition", kind]  # CRDs first, to create in order


def test_unknown_kinds_are_left_out_and_counted():
    loaded = prepare_objects(
        [_obj("example.com/v1", "Widget", "a"), _obj("example.com/v1", "Widget", "b"), _obj("v1", "Node")]
    )
    assert [o["kind"] for o in loaded] == ["Node"]
    assert loaded.unknown == {("example.com/v1", "Widget"): 2}


def test_an_unserved_version_of_a_known_kind_is_unknown():
    loaded = prepare_objects([_obj("karpenter.sh/v2", "NodePool")])
    assert list(loaded) == []
    assert loaded.unknown == {("karpenter.sh/v2", "NodePool"): 1}


def test_a_crd_in_the_input_wins_over_the_shipped_one():
    mine = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "nodepools.karpenter.sh"},
        "spec": {
            "group": "karpenter.sh",
            "scope": "Cluster",
            "names": {"kind": "NodePool", "plural": "nodepools"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    loaded = prepare_objects([mine, _obj("karpenter.sh/v1", "NodePool"), _obj("karpenter.sh/v1beta1", "NodePool", "y")])
    assert _crds(loaded) == {"nodepools.karpenter.sh": ["v1"]}
    assert loaded.unknown == {("karpenter.sh/v1beta1", "NodePool"): 1}


def test_one_kind_at_two_versions_gets_one_crd_serving_both():
    [crd] = stand_in_crds([("karpenter.sh/v1", "NodePool"), ("karpenter.sh/v1beta1", "NodePool")])
    assert [(v["name"], v["served"], v["storage"]) for v in crd["spec"]["versions"]] == [
        ("v1", True, True),
        ("v1beta1", True, False),
    ]
    assert stand_in_crds([("example.com/v1", "Widget")]) == []
