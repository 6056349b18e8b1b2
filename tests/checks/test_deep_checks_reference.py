"""The deep checks on the reference Node/NodeClaim manifests, read in place (skipped when
../shared/reference is not there, as on a user's machine)."""

import yaml

from checks.registry import REGISTRY, run_checks
from checks.snapshot import ClusterSnapshot


def _snap(reference, *files):
    objs = [d for f in files for d in yaml.safe_load_all((reference / "k8s-objects" / f).read_text()) if d]
    return ClusterSnapshot.from_manifests(objs)


def _run(snap, code):
    return run_checks(snap, [REGISTRY.find(code)])


def test_gpu_not_registered_node_and_its_nodeclaim(reference):
    snap = _snap(
        reference,
        "synthetic-eks-gpu-node-g5.xlarge.gpu-not-registered.yaml",
        "synthetic-nodeclaim-gpu.resource-not-registered.yaml",
    )
    [node_f] = _run(snap, "GPU101")
    assert node_f.subject.kind == "Node" and node_f.subject.name.startswith("ip-10-0-12-34")
    assert "g5.xlarge, 1x" in node_f.message and "no NVIDIA device plugin is installed" in node_f.message
    assert any(
        'Initialized=Unknown (ResourceNotRegistered): Resource "nvidia.com/gpu" was requested but not registered' in e
        for e in node_f.evidence
    )
    [nc_f] = _run(snap, "GPU304")
    assert nc_f.subject.name == "gpu-x7k2p" and "ResourceNotRegistered" in nc_f.message


def test_ready_node_and_nodeclaim_are_quiet(reference):
    snap = _snap(reference, "synthetic-eks-gpu-node-g5.xlarge.ready.yaml", "synthetic-nodeclaim-gpu.ready.yaml")
    for code in ("GPU101", "GPU102", "GPU103", "GPU104", "GPU301", "GPU303", "GPU304"):
        assert _run(snap, code) == [], code


def test_launch_failed_nodeclaim(reference):
    snap = _snap(reference, "synthetic-nodeclaim-gpu.launch-failed.yaml")
    [f] = _run(snap, "GPU301")
    assert f.subject.name == "gpu-x7k2p" and "did not launch: LaunchFailed" in f.message
    assert "condition Launched=Unknown (LaunchFailed): <truncated cloud-provider error>" in f.evidence
