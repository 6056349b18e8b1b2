"""NodePool evaluation: Karpenter's taint, requirement, instance-type and limit reasoning."""

from __future__ import annotations

from decimal import Decimal

import pytest

from checks.kinds import Object, Pod, to_struct
from checks.nodepool_model import Accelerator, is_nvidia_nodepool, nodepool_accelerator
from checks.nodepools import (
    Requirement,
    allowed_instance_types,
    conflicts,
    daemonset_overhead,
    evaluate_nodepool,
    karpenter_equivalent,
    limit_headroom,
    nodepool_requirements,
    nodes_needed,
    pod_requirement_terms,
    set_after_boot,
    widen_requirements,
)

GI = 1024**3
TOLERATE = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def np_v1(
    name="gpu",
    requirements=None,
    taints=None,
    labels=None,
    limits=None,
    used=None,
    startup_taints=None,
    conditions=None,
):
    spec = {
        "requirements": requirements
        if requirements is not None
        else [{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]}],
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
    }
    if taints is not None:
        spec["taints"] = taints
    if startup_taints is not None:
        spec["startupTaints"] = startup_taints
    obj = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {"template": {"metadata": {"labels": labels or {}}, "spec": spec}},
        "status": {},
    }
    if limits:
        obj["spec"]["limits"] = limits
    if used:
        obj["status"]["resources"] = used
    if conditions:
        obj["status"]["conditions"] = conditions
    return to_struct(obj, Object)


def np_v1beta1(name="gpu-beta"):
    return to_struct(
        {
            "apiVersion": "karpenter.sh/v1beta1",
            "kind": "NodePool",
            "metadata": {"name": name},
            "spec": {
                "template": {
                    "spec": {
                        "requirements": [
                            {"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": ["l4"]},
                            {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Lt", "values": ["2"]},
                        ],
                        "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
                        "nodeClassRef": {
                            "apiVersion": "karpenter.k8s.aws/v1beta1",
                            "kind": "EC2NodeClass",
                            "name": "gpu",
                        },
                        "kubelet": {"maxPods": 110},
                    }
                },
                "limits": {"cpu": "1000"},
                "disruption": {"consolidationPolicy": "WhenUnderutilized"},
            },
        },
        Object,
    )


def pod(gpus=1, cpu="1", memory="4Gi", tolerations=(), node_selector=None, affinity=None):
    spec = {
        "containers": [
            {
                "name": "c",
                "resources": {
                    "requests": {"cpu": cpu, "memory": memory},
                    "limits": {"nvidia.com/gpu": str(gpus)} if gpus else {},
                },
            }
        ]
    }
    if tolerations:
        spec["tolerations"] = list(tolerations)
    if node_selector:
        spec["nodeSelector"] = node_selector
    if affinity:
        spec["affinity"] = affinity
    return to_struct({"metadata": {"name": "p", "namespace": "ml"}, "spec": spec}, Pod)


def required(*terms):
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": list(t)} for t in terms]
            }
        }
    }


GPU_TAINT = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]


# -- requirements model ---------------------------------------------------------------------


def test_nodepool_requirements_include_labels_and_name():
    reqs = nodepool_requirements(np_v1(labels={"team": "ml"}))
    assert [str(r) for r in reqs] == [
        "karpenter.k8s.aws/instance-family In [g5]",
        "team In [ml]",
        "karpenter.sh/nodepool In [gpu]",
    ]
    assert [r.origin for r in reqs] == ["requirement", "label", "nodepool"]


def test_pod_terms_and_node_selector_and_deprecated_labels():
    p = pod(
        node_selector={"beta.kubernetes.io/arch": "amd64"},
        affinity=required(
            [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}],
            [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}],
        ),
    )
    terms = pod_requirement_terms(p)
    assert [[str(r) for r in t] for t in terms] == [
        ["kubernetes.io/arch In [amd64]", "karpenter.sh/capacity-type In [spot]"],
        ["kubernetes.io/arch In [amd64]", "karpenter.sh/capacity-type In [on-demand]"],
    ]


@pytest.mark.parametrize(
    "np_req,pod_req,ok",
    [
        (("k", "In", ("a", "b")), ("k", "In", ("b",)), True),
        (("k", "In", ("a",)), ("k", "In", ("b",)), False),
        (("k", "In", ("a",)), ("k", "NotIn", ("a",)), False),
        (("k", "NotIn", ("a",)), ("k", "NotIn", ("b",)), True),
        (("k", "NotIn", ("a",)), ("k", "DoesNotExist", ()), True),  # both negative: Karpenter lets it pass
        (("k", "Exists", ()), ("k", "In", ("z",)), True),
        (("k", "DoesNotExist", ()), ("k", "In", ("z",)), False),
        (("k", "Gt", ("4",)), ("k", "In", ("8",)), True),
        (("k", "Gt", ("4",)), ("k", "In", ("2",)), False),
        (("k", "Gt", ("4",)), ("k", "Lt", ("5",)), False),
        (("k", "Gt", ("4",)), ("k", "Lt", ("6",)), True),
    ],
)
def test_requirement_intersection(np_req, pod_req, ok):
    np_r = Requirement(*np_req)
    pod_r = Requirement(*pod_req, origin="pod")
    assert (not conflicts([np_r], [pod_r])) is ok


def test_undefined_labels_custom_vs_well_known():
    np_reqs = nodepool_requirements(np_v1())
    assert conflicts(np_reqs, [Requirement("topology.kubernetes.io/zone", "In", ("us-east-1a",))]) == []
    assert conflicts(np_reqs, [Requirement("karpenter.k8s.aws/instance-gpu-name", "In", ("a10g",))]) == []
    assert conflicts(np_reqs, [Requirement("team", "NotIn", ("x",))]) == []
    (c,) = conflicts(np_reqs, [Requirement("team", "In", ("ml",))])
    assert (
        c.unknown_label
        and str(c) == 'the pod needs team In [ml], but label "team" has no known values in this NodePool'
    )


# -- instance types ----------------------------------------------------------------------------


def test_allowed_instance_types_cheapest_first():
    names = [
        it.name
        for it in allowed_instance_types(
            np_v1(
                requirements=[
                    {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]},
                    {"key": "karpenter.k8s.aws/instance-size", "operator": "In", "values": ["xlarge", "12xlarge"]},
                ]
            )
        )
    ]
    assert names == ["g5.xlarge", "g5.12xlarge"]


def test_allowed_with_numeric_gpu_requirements_and_unknown_label_keys():
    names = [
        it.name
        for it in allowed_instance_types(
            np_v1(
                requirements=[
                    {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt", "values": ["4"]},
                    {"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": ["h100", "h200"]},
                    {"key": "karpenter.k8s.aws/instance-ebs-bandwidth", "operator": "Gt", "values": ["1000"]},
                ]
            )
        )
    ]
    assert names == ["p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge"]


def test_general_purpose_pool_has_no_catalogue_types():
    np = np_v1(
        requirements=[{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]}]
    )
    assert allowed_instance_types(np) == []
    assert nodepool_accelerator(np) is Accelerator.NONE


@pytest.mark.parametrize(
    "requirements,taints,expected",
    [
        ([{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]}], None, "nvidia"),
        ([{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["g"]}], None, "nvidia"),
        ([{"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt", "values": ["0"]}], None, "nvidia"),
        ([{"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "Exists"}], None, "nvidia"),
        (
            [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m5.large", "p4d.24xlarge"]}],
            None,
            "nvidia",
        ),
        (
            [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p6-b200.48xlarge"]}],
            None,
            "nvidia",
        ),
        ([{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["inf2"]}], None, "neuron"),
        (
            [{"key": "karpenter.k8s.aws/instance-accelerator-name", "operator": "In", "values": ["trainium"]}],
            None,
            "neuron",
        ),
        ([{"key": "karpenter.k8s.aws/instance-gpu-manufacturer", "operator": "In", "values": ["amd"]}], None, "amd"),
        (
            [
                {"key": "karpenter.k8s.aws/instance-gpu-manufacturer", "operator": "In", "values": ["amd"]},
                {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt", "values": ["0"]},
                {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["g"]},
            ],
            None,
            "amd",
        ),
        ([{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g4ad"]}], None, "amd"),
        (
            [{"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": ["radeon-pro-v520"]}],
            None,
            "amd",
        ),
        ([], GPU_TAINT, "nvidia"),
        ([], [{"key": "amd.com/gpu", "value": "true", "effect": "NoSchedule"}], "amd"),
        ([], [{"key": "aws.amazon.com/neuron", "value": "true", "effect": "NoSchedule"}], "neuron"),
        ([{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m"]}], None, "none"),
        ([{"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "DoesNotExist"}], None, "none"),
    ],
)
def test_nodepool_accelerator(requirements, taints, expected):
    assert nodepool_accelerator(np_v1(requirements=requirements, taints=taints)).value == expected


@pytest.mark.parametrize(
    "limits,expected",
    [({"nvidia.com/gpu": "8"}, "nvidia"), ({"amd.com/gpu": "8"}, "amd"), ({"aws.amazon.com/neuron": "4"}, "neuron")],
)
def test_nodepool_accelerator_from_limits(limits, expected):
    np = np_v1(requirements=[], limits=limits)
    assert nodepool_accelerator(np).value == expected


# -- verdicts -----------------------------------------------------------------------------------


def test_fits_with_toleration_and_lists_candidates():
    v = evaluate_nodepool(np_v1(taints=GPU_TAINT), pod(tolerations=[TOLERATE]))
    assert v.fits and v.blocking == []
    assert v.candidate_types[:3] == ["g5.xlarge", "g5.2xlarge", "g5.4xlarge"]
    assert v.reasons == ["NodePool gpu can take it (g5.xlarge, g5.2xlarge, g5.4xlarge, ...)"]


def test_untolerated_taint_blocks_but_startup_taint_does_not():
    v = evaluate_nodepool(np_v1(taints=GPU_TAINT, startup_taints=[{"key": "x", "effect": "NoSchedule"}]), pod())
    (b,) = v.blocking
    assert (b.kind, b.detail) == ("taint", "taint nvidia.com/gpu=true:NoSchedule is not tolerated")
    assert b.data["taint"] == {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    assert not v.fits
    assert evaluate_nodepool(np_v1(startup_taints=[{"key": "x", "effect": "NoSchedule"}]), pod()).fits


def test_prefer_no_schedule_never_blocks():
    v = evaluate_nodepool(np_v1(taints=[{"key": "soft", "effect": "PreferNoSchedule"}]), pod())
    assert v.fits


def test_gpu_name_conflict():
    v = evaluate_nodepool(
        np_v1(requirements=[{"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": ["a10g"]}]),
        pod(node_selector={"karpenter.k8s.aws/instance-gpu-name": "h100"}),
    )
    (b,) = v.blocking
    assert b.kind == "requirements"
    assert b.detail == (
        "the pod needs karpenter.k8s.aws/instance-gpu-name In [h100]; the NodePool allows "
        "karpenter.k8s.aws/instance-gpu-name In [a10g]"
    )
    assert b.data["conflict"].key == "karpenter.k8s.aws/instance-gpu-name"


def test_pod_selector_excludes_every_allowed_instance_type():
    v = evaluate_nodepool(np_v1(), pod(node_selector={"karpenter.k8s.aws/instance-gpu-name": "h100"}))
    (b,) = v.blocking
    assert b.kind == "requirements"
    assert b.detail.startswith(
        "the pod's karpenter.k8s.aws/instance-gpu-name In [h100] excludes every instance "
        "type the NodePool allows (g5.xlarge, g5.2xlarge, g5.4xlarge, g5.8xlarge and 4 more)"
    )


def test_second_affinity_term_can_satisfy():
    p = pod(
        affinity=required(
            [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}],
            [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}],
        )
    )
    np = np_v1(
        requirements=[
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        ]
    )
    assert evaluate_nodepool(np, p).fits


def test_offering_conflict_still_reports_instance_problems():
    np = np_v1(
        requirements=[
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]},
            {"key": "karpenter.k8s.aws/instance-size", "operator": "In", "values": ["xlarge"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        ]
    )
    v = evaluate_nodepool(np, pod(gpus=4, node_selector={"karpenter.sh/capacity-type": "spot"}))
    assert [b.kind for b in v.blocking] == ["requirements", "no-instance-type"]


def test_no_instance_type_big_enough():
    np = np_v1(
        requirements=[
            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g4dn.2xlarge", "g4dn.4xlarge"]}
        ]
    )
    v = evaluate_nodepool(np, pod(gpus=2))
    (b,) = v.blocking
    assert b.kind == "no-instance-type"
    assert b.detail == (
        "no allowed instance type has room for nvidia.com/gpu=2, cpu=1, memory=4Gi plus daemonset "
        "overhead (largest: g4dn.4xlarge (1x NVIDIA Tesla T4 16384 MiB, 16 vCPU, 64 GiB); short of "
        "nvidia.com/gpu)"
    )
    assert b.data == {"largest": "g4dn.4xlarge", "short": ["nvidia.com/gpu"]}


def test_memory_plus_overhead_decides_fit():
    np = np_v1(requirements=[{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g5.xlarge"]}])
    # g5.xlarge allocatable memory is 14162Mi.
    assert evaluate_nodepool(np, pod(memory="13Gi"), daemonset_overhead={}).fits
    v = evaluate_nodepool(np, pod(memory="13Gi"), daemonset_overhead={"memory": Decimal(2 * GI)})
    assert v.blocking[0].data["short"] == ["memory"]


def test_gpu_pod_on_pool_without_gpu_types():
    np = np_v1(requirements=[{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m"]}])
    (b,) = evaluate_nodepool(np, pod()).blocking
    assert (b.kind, b.detail) == ("no-instance-type", "the NodePool's requirements admit no GPU instance type")
    assert evaluate_nodepool(np, pod(gpus=0)).fits  # cannot judge CPU-only types: no false alarm


def test_limits_reached_and_headroom():
    np = np_v1(limits={"nvidia.com/gpu": "8", "cpu": "1000"}, used={"nvidia.com/gpu": "8", "cpu": "32"})
    assert limit_headroom(np) == {"nvidia.com/gpu": (Decimal(8), Decimal(8)), "cpu": (Decimal(1000), Decimal(32))}
    (b,) = evaluate_nodepool(np, pod()).blocking
    assert b.kind == "limits"
    assert b.detail == "limit nvidia.com/gpu=8 with 8 in use; one more g5.xlarge adds 1"
    assert b.fix_hint == "raise spec.limits.nvidia.com/gpu to at least 9"
    assert (b.data["resource"], b.data["instance_type"]) == ("nvidia.com/gpu", "g5.xlarge")


def test_limit_room_for_small_types_only():
    np = np_v1(limits={"cpu": "20"}, used={"cpu": "8"})
    v = evaluate_nodepool(np, pod())
    assert v.fits
    assert v.candidate_types == ["g5.xlarge", "g5.2xlarge"]  # 16+ vCPU types would pass 20 cores


def test_nodepool_not_ready():
    np = np_v1(
        conditions=[
            {
                "type": "NodeClassReady",
                "status": "False",
                "reason": "NodeClassNotFound",
                "message": "NodeClass not found on cluster",
            }
        ]
    )
    (b,) = evaluate_nodepool(np, pod()).blocking
    assert b.kind == "nodeclass"
    assert b.detail == "NodePool is not ready (NodeClassReady=False, NodeClassNotFound: NodeClass not found on cluster)"
    assert "EC2NodeClass/gpu" in b.fix_hint


def test_v1beta1_shape():
    np = np_v1beta1()
    assert is_nvidia_nodepool(np)
    assert [it.name for it in allowed_instance_types(np)][:2] == ["g6.xlarge", "g6.2xlarge"]
    v = evaluate_nodepool(np, pod(tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}]))
    assert v.fits
    (b,) = evaluate_nodepool(np, pod(gpus=2, tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}])).blocking
    assert b.kind == "no-instance-type"


# -- daemonset overhead, widening ------------------------------------------------------------------


def ds(name, cpu, tolerations=(), node_selector=None):
    spec = {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "100Mi"}}}]}
    if tolerations:
        spec["tolerations"] = list(tolerations)
    if node_selector:
        spec["nodeSelector"] = node_selector
    return to_struct({"kind": "DaemonSet", "metadata": {"name": name}, "spec": {"template": {"spec": spec}}}, Object)


def test_daemonset_overhead_counts_only_daemonsets_karpenter_expects():
    np = np_v1(taints=GPU_TAINT)
    sets = [
        ds("aws-node", "25m", tolerations=[{"operator": "Exists"}]),
        ds("kube-proxy", "100m", tolerations=[{"operator": "Exists"}]),
        ds("logging", "50m"),  # does not tolerate the GPU taint
        ds(
            "nvidia-device-plugin",
            "10m",
            tolerations=[TOLERATE],
            node_selector={"nvidia.com/gpu.deploy.device-plugin": "true"},
        ),
    ]  # label unknown to the NodePool
    overhead = daemonset_overhead(sets, np)
    assert overhead["cpu"] == Decimal("0.125")
    assert overhead["memory"] == Decimal(200 * 1024 * 1024)
    assert overhead["pods"] == 2


def test_widen_sizes_within_family():
    np = np_v1(
        requirements=[
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]},
            {"key": "karpenter.k8s.aws/instance-size", "operator": "In", "values": ["xlarge"]},
        ]
    )
    w = widen_requirements(np, pod(gpus=4))
    assert w.instance_type == "g5.12xlarge"
    assert w.changes == ["karpenter.k8s.aws/instance-size: add 12xlarge"]
    assert w.requirements[1] == {
        "key": "karpenter.k8s.aws/instance-size",
        "operator": "In",
        "values": ["xlarge", "12xlarge"],
    }
    assert w.requirements[0] == {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]}


def test_widen_numeric_bound_and_offering_conflict():
    np = np_v1(
        requirements=[
            {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Lt", "values": ["2"]},
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g6"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        ]
    )
    w = widen_requirements(np, pod(gpus=4, node_selector={"karpenter.sh/capacity-type": "spot"}))
    assert w.instance_type == "g6.12xlarge"
    assert w.changes == ["karpenter.sh/capacity-type: add spot", "karpenter.k8s.aws/instance-gpu-count: Lt 5"]


def test_widen_gives_up_on_template_label_conflicts():
    assert widen_requirements(np_v1(labels={"team": "ml"}), pod(node_selector={"team": "x"})) is None


def test_widen_nothing_to_do():
    assert widen_requirements(np_v1(), pod()) is None


def test_nodes_needed():
    assert nodes_needed(3, Decimal(1), Decimal(4)) == 1
    assert nodes_needed(5, Decimal(2), Decimal(4)) == 3
    assert nodes_needed(2, Decimal(0), Decimal(4)) == 1


def test_node_agent_labels_cannot_be_provisioned_for():
    p = pod(node_selector={"nvidia.com/gpu.product": "NVIDIA-A10G"})
    (b,) = evaluate_nodepool(np_v1(), p).blocking
    assert b.kind == "requirements"
    assert b.detail == (
        "the pod needs nvidia.com/gpu.product In [NVIDIA-A10G]; nvidia.com/gpu.product is set on the "
        "node after it boots, so Karpenter cannot launch a node for it: select "
        "karpenter.k8s.aws/instance-gpu-name=a10g instead"
    )
    # Promising the label in the NodePool would mislabel every other instance type it launches.
    assert widen_requirements(np_v1(), p) is None
    assert set_after_boot("feature.node.kubernetes.io/pci-10de.present") and not set_after_boot("team")
    assert karpenter_equivalent("nvidia.com/gpu.count", "4") == ("karpenter.k8s.aws/instance-gpu-count", "4")
    assert karpenter_equivalent("nvidia.com/gpu.present", "true") is None


@pytest.mark.parametrize(
    "operator,values,label,expected",
    [
        ("Gt", ["3"], "4", True),
        ("Gte", ["4"], "4", True),
        ("Lte", ["4"], "5", False),
        ("Lt", ["4"], "3", True),
        ("Sometimes", ["4"], "4", False),
    ],
)
def test_requirement_semantics_agree(operator, values, label, expected):
    """requirement_matches (labels) and the NodePool value sets (conflicts) say the same."""
    from checks.k8s import requirement_matches
    from checks.nodepools import Requirement, conflicts

    key = "karpenter.k8s.aws/instance-gpu-count"
    assert requirement_matches({key: label}, key, operator, values) is expected
    pool = [Requirement(key, operator, tuple(values))]
    pod = [Requirement(key, "In", (label,), "pod")]
    assert (not conflicts(pool, pod)) is expected
