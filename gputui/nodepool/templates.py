"""Starting points for GPU NodePools, one per common way of running GPU work on Karpenter.

Every template is a karpenter.sh/v1 NodePool (the tiered one is three) that passes the
NodePool CRD's schema and gputui's own NodePool checks. Zones are left out on purpose:
they are region-specific, and Karpenter uses every zone of the node class's subnets
when none are named; add a topology.kubernetes.io/zone requirement in the editor.

Public API:
    TEMPLATES: dict[str, Template]
    get(name) -> Template            (InputError for an unknown name)
    Template.build(name=None) -> list[dict]
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gputui.errors import InputError

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
NEURON_TAINT = {"key": "aws.amazon.com/neuron", "value": "true", "effect": "NoSchedule"}


def _req(key: str, operator: str, *values: str) -> dict:
    r: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        r["values"] = list(values)
    return r


def _nodepool(
    name: str,
    *,
    labels: dict,
    requirements: list,
    taints: list,
    node_class: str,
    limits: dict,
    disruption: dict,
    weight: int | None = None,
    expire_after: str = "720h",
    termination_grace: str | None = None,
) -> dict:
    tspec: dict = {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class},
        "requirements": requirements,
        "taints": taints,
        "expireAfter": expire_after,
    }
    if termination_grace:
        tspec["terminationGracePeriod"] = termination_grace
    spec: dict = {
        "template": {"metadata": {"labels": labels}, "spec": tspec},
        "limits": limits,
        "disruption": disruption,
    }
    if weight is not None:
        spec["weight"] = weight
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": name}, "spec": spec}


ARCH_AMD64 = _req("kubernetes.io/arch", "In", "amd64")


def _general(name: str) -> list[dict]:
    return [
        _nodepool(
            name,
            labels={"node-type": "gpu", "workload": "general"},
            requirements=[
                _req("karpenter.k8s.aws/instance-gpu-count", "Gt", "0"),
                _req("karpenter.k8s.aws/instance-category", "In", "g", "p"),
                _req("karpenter.sh/capacity-type", "In", "spot", "on-demand"),
                ARCH_AMD64,
            ],
            taints=[GPU_TAINT],
            node_class="gpu",
            limits={"cpu": "512", "memory": "2048Gi", "nvidia.com/gpu": "64"},
            # Idle GPU nodes go after a short wait; busy ones are left alone.
            disruption={"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m", "budgets": [{"nodes": "1"}]},
            weight=40,
            expire_after="336h",
        )
    ]


def _inference(name: str) -> list[dict]:
    return [
        _nodepool(
            name,
            labels={"node-type": "gpu-inference", "workload": "inference"},
            requirements=[
                _req("karpenter.k8s.aws/instance-gpu-name", "In", "t4", "a10g", "l4"),
                _req("karpenter.k8s.aws/instance-size", "In", "xlarge", "2xlarge", "4xlarge"),
                # With both allowed, Karpenter picks spot while it is offered and falls back to on-demand.
                _req("karpenter.sh/capacity-type", "In", "spot", "on-demand"),
                ARCH_AMD64,
            ],
            taints=[GPU_TAINT],
            node_class="gpu",
            limits={"nvidia.com/gpu": "48"},
            disruption={
                "consolidationPolicy": "WhenEmptyOrUnderutilized",
                "consolidateAfter": "2m",
                "budgets": [{"nodes": "20%"}],
            },
            weight=60,
        )
    ]


def _training(name: str) -> list[dict]:
    return [
        _nodepool(
            name,
            labels={"node-type": "gpu-training", "workload": "training"},
            requirements=[
                _req("karpenter.k8s.aws/instance-gpu-name", "In", "a100", "h100", "h200"),
                _req("karpenter.k8s.aws/instance-gpu-count", "Gt", "3"),
                # A reclaimed spot node loses every step since the last checkpoint.
                _req("karpenter.sh/capacity-type", "In", "on-demand"),
                ARCH_AMD64,
            ],
            taints=[GPU_TAINT],
            node_class="gpu-training",
            limits={"nvidia.com/gpu": "32"},
            disruption={
                # Only empty nodes are reclaimed: a node running a job is never consolidated away.
                "consolidationPolicy": "WhenEmpty",
                "consolidateAfter": "30m",
                "budgets": [
                    # No voluntary disruption 06:00-24:00 UTC, when runs are watched; one node at a time at night.
                    {"nodes": "0", "schedule": "0 6 * * *", "duration": "18h"},
                    {"nodes": "1"},
                ],
            },
            weight=90,
            termination_grace="24h",
        )
    ]


def _spot_inference(name: str) -> list[dict]:
    return [
        _nodepool(
            name,
            labels={"node-type": "gpu-spot", "workload": "inference"},
            requirements=[
                _req("karpenter.sh/capacity-type", "In", "spot"),
                _req("karpenter.k8s.aws/instance-gpu-name", "In", "t4", "a10g", "l4"),
                # Many sizes and families: more spot pools to draw from, fewer interruptions.
                _req("karpenter.k8s.aws/instance-size", "In", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge"),
                ARCH_AMD64,
            ],
            taints=[GPU_TAINT],
            node_class="gpu",
            limits={"nvidia.com/gpu": "40"},
            disruption={
                "consolidationPolicy": "WhenEmptyOrUnderutilized",
                "consolidateAfter": "1m",
                "budgets": [{"nodes": "25%"}],
            },
            weight=70,
        )
    ]


def _tier(name: str, capacity: str, gpus: tuple[str, ...], weight: int, limit: str, label: str) -> dict:
    return _nodepool(
        name,
        labels={"node-type": "gpu-inference", "workload": "inference", "gpu-tier": label},
        requirements=[
            _req("karpenter.sh/capacity-type", "In", capacity),
            _req("karpenter.k8s.aws/instance-gpu-name", "In", *gpus),
            _req("karpenter.k8s.aws/instance-category", "In", "g"),
            ARCH_AMD64,
        ],
        taints=[GPU_TAINT],
        node_class="gpu",
        limits={"nvidia.com/gpu": limit},
        disruption={
            "consolidationPolicy": "WhenEmptyOrUnderutilized",
            "consolidateAfter": "5m",
            "budgets": [{"nodes": "20%"}],
        },
        weight=weight,
    )


def _tiered(name: str) -> list[dict]:
    # Karpenter tries the highest weight first and moves down when a tier is at its limit
    # or has no capacity; all three share labels so one pod spec fits every tier.
    return [
        _tier(f"{name}-tier1-spot", "spot", ("a10g", "l4"), 100, "24", "1"),
        _tier(f"{name}-tier2-spot", "spot", ("t4",), 50, "16", "2"),
        _tier(f"{name}-tier3-on-demand", "on-demand", ("a10g", "l4"), 10, "8", "3"),
    ]


def _inferentia(name: str) -> list[dict]:
    return [
        _nodepool(
            name,
            labels={"accelerator": "inferentia", "workload": "inference"},
            requirements=[
                _req("karpenter.k8s.aws/instance-family", "In", "inf2"),
                _req("karpenter.sh/capacity-type", "In", "on-demand"),
                ARCH_AMD64,
            ],
            taints=[NEURON_TAINT],
            node_class="neuron",
            limits={"aws.amazon.com/neuron": "24"},
            disruption={"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m", "budgets": [{"nodes": "1"}]},
            weight=50,
        )
    ]


@dataclass(frozen=True)
class Template:
    name: str
    default_name: str
    summary: str
    _build: Callable[[str], list[dict]]

    def build(self, name: str | None = None) -> list[dict]:
        return copy.deepcopy(self._build(name or self.default_name))


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "general-gpu",
            "gpu-general",
            "any NVIDIA g/p instance, spot or on-demand, tainted nvidia.com/gpu, idle nodes removed after 5m",
            _general,
        ),
        Template(
            "inference",
            "gpu-inference",
            "T4/A10G/L4 xlarge-4xlarge, spot first with on-demand fallback, consolidates underused nodes after 2m",
            _inference,
        ),
        Template(
            "training",
            "gpu-training",
            "A100/H100/H200 with 4+ GPUs, on-demand only, WhenEmpty, no disruption 06:00-24:00 UTC",
            _training,
        ),
        Template(
            "spot-inference",
            "gpu-spot-inference",
            "spot only, T4/A10G/L4 xlarge-12xlarge for many spot pools, consolidates after 1m",
            _spot_inference,
        ),
        Template(
            "tiered-spot",
            "gpu",
            "three NodePools by weight: A10G/L4 spot (100), T4 spot (50), A10G/L4 on-demand (10)",
            _tiered,
        ),
        Template(
            "inferentia",
            "inferentia",
            "AWS Inferentia2 (inf2) on-demand, tainted aws.amazon.com/neuron, limited by neuron devices",
            _inferentia,
        ),
    )
}


def get(name: str) -> Template:
    t = TEMPLATES.get(name)
    if t is None:
        raise InputError(
            f"unknown NodePool template: {name}",
            hint=f"templates: {', '.join(TEMPLATES)} (see `gputui nodepool templates`)",
        )
    return t
