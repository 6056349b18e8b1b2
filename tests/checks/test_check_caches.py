"""What the checks remember between calls: parsed quantities and pod requests (bounded
caches over values), GPU expectations by node facts, and derivations memoized on one
snapshot. Each answer must equal a fresh computation, and a fresh snapshot of the same or
changed objects must never see another snapshot's answers."""

from decimal import Decimal

import pytest

from checks.gpu_nodes import expected_gpus, expected_gpus_of, gpu_nodes
from checks.gpu_pods import pending_gpu_pods, running_gpu_pods, unscheduled_gpu_pods
from checks.k8s import _parse_quantity_text, parse_quantity, pod_gpu_request, pod_requests, quantity_or_zero
from checks.kinds import Container, Node, Object, Pod, PodSpec, ResourceRequirements, to_struct
from checks.operands import daemonset_blockers
from checks.operator import _placement
from checks.registry import run_checks
from checks.snapshot import ClusterSnapshot
from tests.helpers.cluster import (
    GPU_NODE_A,
    GPU_NODE_B,
    GPU_TAINT,
    cpu_node,
    gpu_node,
    gpu_pod,
    healthy_cluster,
    snapshot,
)

DEDICATED = {"key": "dedicated", "value": "ml", "effect": "NoSchedule"}


def _fresh(snap: ClusterSnapshot) -> ClusterSnapshot:
    """What live mode hands the checks: a new snapshot over the same objects."""
    return type(snap)(**{f: getattr(snap, f) for f in snap.__dataclass_fields__})


def _pod(limits: dict, requests: dict | None = None, **spec) -> Pod:
    resources = {"limits": limits, "requests": requests or {}}
    return to_struct({"spec": {"containers": [{"name": "c", "resources": resources}], **spec}}, Pod)


# -- quantities -----------------------------------------------------------------------------


def test_a_repeated_quantity_parses_the_same_and_is_parsed_once():
    first = parse_quantity("37Gi")
    hits = _parse_quantity_text.cache_info().hits
    assert parse_quantity("37Gi") == first == Decimal(37 * 1024**3)
    assert _parse_quantity_text.cache_info().hits == hits + 1


@pytest.mark.parametrize("bad", ["lots", "1.2.3", "", " ", "12Qi", "nan"])
def test_a_bad_quantity_raises_every_time_and_reads_as_zero(bad):
    for _ in range(2):  # the second call must not find a cached answer
        with pytest.raises(ValueError, match=f"not a Kubernetes quantity: {bad!r}"):
            parse_quantity(bad)
        assert quantity_or_zero(bad) == 0


def test_quantities_that_are_not_plain_strings_read_as_before():
    class Text(str):
        pass

    assert parse_quantity(" 2 ") == 2
    assert parse_quantity(Text("500m")) == Decimal("0.5")
    assert parse_quantity(4) == 4
    assert parse_quantity(1.5) == Decimal("1.5")
    assert parse_quantity(Decimal("3")) == 3
    for bad in (True, float("nan"), float("inf"), ["1"], {"a": 1}):
        with pytest.raises(ValueError, match="not a Kubernetes quantity"):
            parse_quantity(bad)
        assert quantity_or_zero(bad) == 0
    assert quantity_or_zero(None) == 0


# -- pod requests -----------------------------------------------------------------------------


def test_pods_with_equal_resources_get_equal_requests_and_each_its_own_dict():
    a, b = _pod({"nvidia.com/gpu": "2"}, {"cpu": "500m"}), _pod({"nvidia.com/gpu": "2"}, {"cpu": "500m"})
    first = pod_requests(a)
    first["nvidia.com/gpu"] = Decimal(99)  # a caller changing its answer changes no other answer
    assert pod_requests(a) == pod_requests(b) == {"cpu": Decimal("0.5"), "nvidia.com/gpu": Decimal(2)}
    assert pod_gpu_request(b) == 2


def test_init_containers_and_overhead_still_count():
    init = [{"name": "i", "resources": {"limits": {"nvidia.com/gpu": "4"}}}]
    pod = _pod({"nvidia.com/gpu": "1"}, {"cpu": "1"}, initContainers=init, overhead={"cpu": "250m"})
    assert pod_requests(pod) == {"nvidia.com/gpu": Decimal(4), "cpu": Decimal("1.25")}
    assert pod_gpu_request(_pod({"nvidia.com/gpu": "1"})) == 1


def test_a_hand_built_pod_with_an_unhashable_quantity_is_computed_not_cached():
    limits = {"nvidia.com/gpu": ["2"], "cpu": "1"}  # what no decoder makes, but a caller could
    odd = Pod(spec=PodSpec(containers=[Container(resources=ResourceRequirements(limits=limits))]))
    assert pod_requests(odd) == {"nvidia.com/gpu": Decimal(0), "cpu": Decimal(1)}


def test_gpu_pod_lists_follow_each_snapshots_own_containers():
    objs = healthy_cluster() + [gpu_pod("train-0", node=GPU_NODE_A, gpus=2), gpu_pod("wait-0")]
    snap = snapshot(objs)
    running, pending = running_gpu_pods(snap), pending_gpu_pods(snap)
    assert "train-0" in {p.metadata.name for p in running}
    assert [p.metadata.name for p in pending] == ["wait-0"]
    assert running_gpu_pods(snap) is running  # memoized on the snapshot

    # The next snapshot: the running pod now asks for no GPU (a new object, as a watch makes it).
    changed = _fresh(snap)
    changed.pods = [
        to_struct({**gpu_pod("train-0", node=GPU_NODE_A, gpus=0)}, Pod) if p.metadata.name == "train-0" else p
        for p in snap.pods
    ]
    assert "train-0" not in {p.metadata.name for p in running_gpu_pods(changed)}
    assert "train-0" in {p.metadata.name for p in running_gpu_pods(_fresh(snap))}
    assert running_gpu_pods(_fresh(snap)) is not running
    assert [p.metadata.name for p in unscheduled_gpu_pods(_fresh(snap))] == [
        p.metadata.name for p in unscheduled_gpu_pods(snap)
    ]


# -- GPU nodes --------------------------------------------------------------------------------


def _node(**kw) -> Node:
    return to_struct(gpu_node("ip-10-0-9-9.ec2.internal", **kw), Node)


def test_nodes_alike_share_an_answer_but_a_nodeclaim_still_speaks_for_its_own_node():
    labels = {"nvidia.com/gpu.present": "true"}
    capacity = {"cpu": "4"}
    nodeclaim = to_struct(
        {"metadata": {"name": "gpu-abc"}, "status": {"capacity": {"nvidia.com/gpu": "8"}}},
        Object,
    )
    plain = expected_gpus_of(labels, capacity)
    assert plain is not None and plain.count is None and "gpu.present" in plain.source
    claimed = expected_gpus_of(labels, capacity, nodeclaim)
    assert claimed is not None and claimed.count == 8 and "NodeClaim gpu-abc" in claimed.source
    assert expected_gpus_of(labels, capacity) == plain
    assert expected_gpus_of({"karpenter.k8s.aws/instance-gpu-manufacturer": "amd"}, capacity) is None
    assert expected_gpus_of({**labels, "unrelated": "x"}, capacity) == plain


def test_gpu_nodes_are_memoized_per_snapshot_and_follow_replaced_nodes():
    snap = snapshot(healthy_cluster() + [cpu_node()])
    nodes = gpu_nodes(snap)
    assert gpu_nodes(snap) is nodes
    assert {n.metadata.name for n, _ in nodes} == {GPU_NODE_A, GPU_NODE_B}

    later = _fresh(snap)
    assert gpu_nodes(later) is not nodes and gpu_nodes(later) == nodes
    # A node object of the same name but other facts is worked out on its own, even in the
    # snapshot that already answered for its namesake.
    name = nodes[0][0].metadata.name
    swapped = to_struct(gpu_node(name, instance_type="p4d.24xlarge", gpus=8), Node)
    answer = expected_gpus(snap, swapped)
    assert answer is not None and answer.count == 8
    assert expected_gpus(snap, nodes[0][0]) == nodes[0][1]


def test_operand_placement_is_per_snapshot_and_per_node_object():
    snap = snapshot(healthy_cluster())
    ds = next(d for d in snap.daemonsets if d.metadata.name == "nvidia-device-plugin-daemonset")
    node = snap.node_by_name[GPU_NODE_A]
    assert list(_placement(snap, ds, node, None)[1]) == daemonset_blockers(ds, node) == []
    tainted = to_struct(gpu_node(node.metadata.name, taints=[GPU_TAINT, DEDICATED]), Node)
    blockers = list(_placement(snap, ds, tainted, None)[1])
    assert [b.kind for b in blockers] == ["taint"] and blockers == daemonset_blockers(ds, tainted)
    assert not _placement(snap, ds, node, None)[1]


def test_fresh_snapshots_of_a_cluster_give_the_same_findings():
    objs = healthy_cluster() + [gpu_pod("wait-0"), gpu_node("ip-10-0-3-9.ec2.internal", taints=[GPU_TAINT, DEDICATED])]
    snap = snapshot(objs)
    expected = [f.to_json() for f in run_checks(snap)]
    assert expected
    for _ in range(2):
        assert [f.to_json() for f in run_checks(_fresh(snap))] == expected


def test_a_recycled_id_never_brings_back_another_nodes_answer():
    # Short-lived nodes asked about one after another: CPython reuses their addresses, so a
    # cache keyed by id that did not hold on to its nodes would answer for a previous one.
    snap = snapshot(healthy_cluster())
    for instance_type, gpus in [("g5.xlarge", 1), ("p4d.24xlarge", 8), ("g5.12xlarge", 4)] * 5:
        node = to_struct(gpu_node("ip-10-0-7-7.ec2.internal", instance_type=instance_type, gpus=gpus), Node)
        answer = expected_gpus(snap, node)
        assert answer is not None and answer.count == gpus
        del node
