"""One notion of "which accelerator is this NodePool for", so `gputui nodepool lint` and
diagnose agree: the NVIDIA-only checks (GPU603 no nvidia.com/gpu limit, GPU604 no NVIDIA
instance type, GPU605 taint the GPU Operator does not tolerate) leave AMD and Neuron pools
alone and still catch a broken NVIDIA pool."""

from __future__ import annotations

import pytest

from checks.nodepool_draft import mark_draft
from checks.registry import REGISTRY, run_checks
from checks.snapshot import ClusterSnapshot
from gputui.nodepool.lint import Located, lint_objects

NVIDIA_ONLY = {"GPU603", "GPU604", "GPU605"}


def _pool(name: str, requirements: list[dict], taint: str, limits: dict) -> dict:
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                    "requirements": requirements,
                    "taints": [{"key": taint, "value": "true", "effect": "NoSchedule"}],
                }
            },
            "limits": limits,
        },
    }


def _req(key: str, *values: str) -> dict:
    return {"key": f"karpenter.k8s.aws/{key}", "operator": "In", "values": list(values)}


POOLS = [
    _pool(
        "amd",
        [_req("instance-gpu-manufacturer", "amd"), _req("instance-family", "g4ad")],
        "amd.com/gpu",
        {"amd.com/gpu": "8"},
    ),
    _pool(
        "neuron", [_req("instance-family", "inf2", "trn1")], "aws.amazon.com/neuron", {"aws.amazon.com/neuron": "16"}
    ),
    _pool("nvidia-ok", [_req("instance-family", "g5", "g6")], "nvidia.com/gpu", {"nvidia.com/gpu": "8"}),
    # A size g6e does not come in, a taint the operands do not tolerate, and only a cpu limit.
    _pool(
        "nvidia-broken",
        [_req("instance-family", "g6e"), _req("instance-size", "large")],
        "example.com/gpu",
        {"cpu": "1000"},
    ),
]
CLUSTERPOLICY = {
    "apiVersion": "nvidia.com/v1",
    "kind": "ClusterPolicy",
    "metadata": {"name": "cluster-policy"},
    "spec": {"daemonsets": {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}},
}


def _nvidia_only(findings) -> set[tuple[str, str]]:
    return {(f.code, f.subject.name) for f in findings if f.code in NVIDIA_ONLY}


def _lint() -> set[tuple[str, str]]:
    _, findings = lint_objects(
        [Located(obj, f"pools.yaml (document {i})") for i, obj in enumerate(POOLS)]
        + [Located(CLUSTERPOLICY, "clusterpolicy.yaml")]
    )
    return _nvidia_only(findings)


def _diagnose(draft: bool) -> set[tuple[str, str]]:
    pools = [mark_draft(p) if draft else p for p in POOLS]
    snapshot = ClusterSnapshot.from_manifests([*pools, CLUSTERPOLICY], source="snapshot")
    return _nvidia_only(run_checks(snapshot))


EXPECTED = {("GPU603", "nvidia-broken"), ("GPU604", "nvidia-broken"), ("GPU605", "nvidia-broken")}


def test_lint_judges_only_the_nvidia_pools():
    assert _lint() == EXPECTED


@pytest.mark.parametrize("draft", [False, True], ids=["live", "draft"])
def test_diagnose_agrees_with_lint(draft):
    assert _diagnose(draft) == EXPECTED == _lint()


def test_the_nvidia_only_checks_are_draft_checks():
    # lint runs the draft-scope checks; diagnose runs them too, so both see the same pools.
    assert all(REGISTRY.find(code).scope == "nodepool-draft" for code in NVIDIA_ONLY)
