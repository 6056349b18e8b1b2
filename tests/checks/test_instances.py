"""The accelerated instance catalogue: facts, Karpenter-style allocatable, labels."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from checks import instances
from checks.gpu_nodes import expected_gpus_of
from checks.instances import INSTANCE_TYPES, get, karpenter_labels
from checks.k8s import parse_quantity

MI = 1024 * 1024


@pytest.mark.parametrize(
    "name,gpu,count,mem,vcpu",
    [
        ("g4dn.xlarge", "t4", 1, 16384, 4),
        ("g5.xlarge", "a10g", 1, 22888, 4),
        ("g5.48xlarge", "a10g", 8, 22888, 192),
        ("g6.12xlarge", "l4", 4, 22888, 48),
        ("g6e.xlarge", "l40s", 1, 45776, 4),
        ("gr6.4xlarge", "l4", 1, 22888, 16),
        ("p3.2xlarge", "v100", 1, 16384, 8),
        ("p3.16xlarge", "v100", 8, 16384, 64),
        ("p3dn.24xlarge", "v100", 8, 32768, 96),
        ("p4d.24xlarge", "a100", 8, 40960, 96),
        ("p4de.24xlarge", "a100", 8, 81920, 96),
        ("p5.48xlarge", "h100", 8, 81920, 192),
        ("p5e.48xlarge", "h200", 8, 144384, 192),
        ("p5en.48xlarge", "h200", 8, 144384, 192),
    ],
)
def test_gpu_facts(name, gpu, count, mem, vcpu):
    it = get(name)
    assert (it.gpu_name, it.gpu_count, it.gpu_memory_mib, it.vcpu) == (gpu, count, mem, vcpu)
    assert it.is_nvidia and it.gpu_manufacturer == "nvidia"
    assert it.family == name.split(".")[0] and it.size == name.split(".")[1]


def test_family_metadata():
    g5 = get("g5.2xlarge")
    assert (g5.category, g5.generation, g5.cpu_manufacturer, g5.arch) == ("g", 5, "amd", "amd64")
    assert get("g5g.xlarge").arch == "arm64"
    assert (get("p4d.24xlarge").category, get("p4d.24xlarge").generation) == ("p", 4)
    assert get("p5.48xlarge").gpu_model == "NVIDIA H100 80GB HBM3"
    assert get("g5.xlarge").gpu_model == "NVIDIA A10G"


def test_allocatable_is_computed_like_karpenter():
    # g5.xlarge: 4 vCPU -> 80m kube-reserved; 16 GiB - 7.5 % VM overhead - (11*58+255) Mi - 100 Mi eviction.
    a = get("g5.xlarge").allocatable
    assert a["cpu"] == Decimal("3.92")
    assert a["memory"] == Decimal(14162 * MI)
    assert a["pods"] == 58 and a["nvidia.com/gpu"] == 1
    assert get("g4dn.12xlarge").allocatable["memory"] == Decimal(178933 * MI)
    assert get("p5.48xlarge").allocatable["cpu"] == Decimal("191.45")


def test_neuron_types_are_not_nvidia():
    inf2 = get("inf2.24xlarge")
    assert not inf2.is_nvidia and inf2.gpu_count == 0
    assert inf2.accelerator_count == 6 and inf2.accelerator_name == "inferentia"
    assert inf2.allocatable["aws.amazon.com/neuron"] == 6 and "nvidia.com/gpu" not in inf2.allocatable
    labels = karpenter_labels(inf2)
    assert labels["karpenter.k8s.aws/instance-accelerator-name"] == "inferentia"
    assert "karpenter.k8s.aws/instance-gpu-count" not in labels
    assert get("trn1.32xlarge").accelerator_count == 16


def test_prices_are_positive_and_spot_is_cheaper():
    for it in INSTANCE_TYPES.values():
        assert 0 < it.spot_usd < it.on_demand_usd, it.name
    assert get("g4dn.xlarge").on_demand_usd == pytest.approx(0.526)
    cheapest = instances.gpu_instance_types()[0]
    assert cheapest.is_nvidia and cheapest.on_demand_usd == min(
        i.on_demand_usd for i in INSTANCE_TYPES.values() if i.is_nvidia
    )


def test_karpenter_labels():
    labels = karpenter_labels(get("g5.xlarge"))
    assert labels == {
        "karpenter.k8s.aws/instance-category": "g",
        "karpenter.k8s.aws/instance-family": "g5",
        "karpenter.k8s.aws/instance-generation": "5",
        "karpenter.k8s.aws/instance-size": "xlarge",
        "karpenter.k8s.aws/instance-cpu": "4",
        "karpenter.k8s.aws/instance-cpu-manufacturer": "amd",
        "karpenter.k8s.aws/instance-memory": "16384",
        "karpenter.k8s.aws/instance-hypervisor": "nitro",
        "karpenter.k8s.aws/instance-gpu-name": "a10g",
        "karpenter.k8s.aws/instance-gpu-count": "1",
        "karpenter.k8s.aws/instance-gpu-memory": "22888",
        "karpenter.k8s.aws/instance-gpu-manufacturer": "nvidia",
        "node.kubernetes.io/instance-type": "g5.xlarge",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
    }
    assert "karpenter.k8s.aws/instance-hypervisor" not in karpenter_labels(get("g4dn.metal"))
    assert set(labels) <= instances.INSTANCE_LABEL_KEYS


@pytest.mark.parametrize(
    "labels,expected",
    [
        ({"node.kubernetes.io/instance-type": "p4d.24xlarge"}, 8),
        ({"node.kubernetes.io/instance-type": "inf2.xlarge"}, None),  # known, and without NVIDIA GPUs
        ({"node.kubernetes.io/instance-type": "x9.huge", "karpenter.k8s.aws/instance-gpu-count": "2"}, 2),
        ({"nvidia.com/gpu.count": "4"}, 4),
        ({"karpenter.k8s.aws/instance-gpu-count": "bogus", "nvidia.com/gpu.count": "1"}, 1),
        ({"node.kubernetes.io/instance-type": "m5.large"}, None),
        ({}, None),
    ],
)
def test_expected_gpus(labels, expected):
    e = expected_gpus_of(labels, {})
    assert (e.count if e is not None else None) == expected


def test_describe():
    assert get("g5.xlarge").describe() == "g5.xlarge (1x NVIDIA A10G 22888 MiB, 4 vCPU, 16 GiB)"
    assert get("inf2.xlarge").describe() == "inf2.xlarge (1x AWS Inferentia2, 4 vCPU, 16 GiB)"


def test_capacity_counts_against_limits():
    cap = get("g5.12xlarge").capacity
    assert cap["nvidia.com/gpu"] == 4 and cap["cpu"] == 48
    assert cap["memory"] == Decimal((196608 - 14746) * MI)


def _catalogue(reference):
    return json.loads((reference / "karpenter" / "instance-types-nvidia-gpu.json").read_text())


def test_agrees_with_reference_catalogue(reference):
    ref = _catalogue(reference)
    common = sorted(set(ref) & set(INSTANCE_TYPES))
    assert len(common) >= 45  # the table covers the reference's g4dn/g5/g5g/g6/g6e/gr6/p3dn/p4/p5 types
    for name in common:
        labels, resources = ref[name]["labels"], ref[name]["resources"]
        it = INSTANCE_TYPES[name]
        assert it.gpu_name == labels["karpenter.k8s.aws/instance-gpu-name"], name
        assert str(it.gpu_count) == labels["karpenter.k8s.aws/instance-gpu-count"], name
        assert str(it.gpu_memory_mib) == labels["karpenter.k8s.aws/instance-gpu-memory"], name
        assert str(it.vcpu) == labels["karpenter.k8s.aws/instance-cpu"], name
        assert str(it.memory_mib) == labels["karpenter.k8s.aws/instance-memory"], name
        mine = karpenter_labels(it)
        for key in set(mine) & set(labels):
            assert mine[key] == labels[key], (name, key)
        alloc = it.allocatable
        assert alloc["cpu"] == parse_quantity(resources["cpu"]), name
        assert alloc["pods"] == parse_quantity(resources["pods"]), name
        assert alloc["nvidia.com/gpu"] == parse_quantity(resources["nvidia.com/gpu"]), name
        # Graviton types lose a little more memory than the generic formula says.
        assert abs(alloc["memory"] - parse_quantity(resources["memory"])) <= 64 * MI, name


def test_reference_gpu_types_the_table_lacks_are_only_newer_or_fractional(reference):
    ref = _catalogue(reference)
    missing = set(ref) - set(INSTANCE_TYPES)
    assert all(n.startswith(("g6f.", "gr6f.", "g7e.", "p6-b300.")) for n in missing), sorted(missing)


@pytest.mark.parametrize(
    "product,name",
    [
        ("NVIDIA-H100-80GB-HBM3", "h100"),
        ("Tesla-T4", "t4"),
        ("NVIDIA-L40S", "l40s"),
        ("NVIDIA-L4", "l4"),
        ("NVIDIA-A10G", "a10g"),
        ("NVIDIA-A100-SXM4-80GB", "a100"),
        ("Tesla-V100-SXM2-16GB", "v100"),
        ("NVIDIA H200", "h200"),
        ("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", "a100"),
        ("Quadro-RTX-6000", None),
    ],
)
def test_gpu_name_for_product(product, name):
    assert instances.gpu_name_for_product(product) == name
