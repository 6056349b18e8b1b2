"""What a synthetic cluster is made of: the size spec, the instance types and images it draws
from, and the seeded generator state every builder shares.
"""

from __future__ import annotations

import datetime as _dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

from gputui.errors import InputError

SPEC_FORM = "nodes=N,gpu-nodes=M,pods=P,events=E"
_DEFAULTS = {"nodes": 20, "gpu-nodes": 8, "pods": 200, "events": 100}

REGION = "us-west-2"
ZONES = (("us-west-2a", "usw2-az2"), ("us-west-2b", "usw2-az1"), ("us-west-2c", "usw2-az3"))
GPU_OPERATOR_NS = "gpu-operator"
DRIVER_VERSION = "570.172.08"
CUDA_VERSION = "12.8"


@dataclass(frozen=True)
class SyntheticSpec:
    nodes: int
    gpu_nodes: int
    pods: int
    events: int


def parse_spec(spec: str) -> SyntheticSpec:
    """ "nodes=5000,gpu-nodes=2000,pods=100000,events=20000"; missing keys take small defaults."""
    values = dict(_DEFAULTS)
    for part in (p.strip() for p in (spec or "").split(",")):
        if not part:
            continue
        key, eq, raw = part.partition("=")
        key = key.strip()
        if not eq or key not in values:
            raise InputError(
                f"bad synthetic cluster spec {spec!r}: cannot read {part!r}",
                hint=f"use {SPEC_FORM}, e.g. nodes=50,gpu-nodes=20,pods=1000,events=500",
            )
        try:
            values[key] = int(raw.strip())
        except ValueError:
            raise InputError(
                f"bad synthetic cluster spec {spec!r}: {key} must be a whole number, got {raw!r}",
                hint=f"use {SPEC_FORM}",
            ) from None
        if values[key] < 0:
            raise InputError(f"bad synthetic cluster spec {spec!r}: {key} cannot be negative", hint=f"use {SPEC_FORM}")
    if values["gpu-nodes"] > values["nodes"]:
        raise InputError(
            f"bad synthetic cluster spec {spec!r}: gpu-nodes ({values['gpu-nodes']}) is more than "
            f"nodes ({values['nodes']})",
            hint=f"nodes counts all nodes, GPU nodes included: use {SPEC_FORM} with M <= N",
        )
    return SyntheticSpec(values["nodes"], values["gpu-nodes"], values["pods"], values["events"])


# -- instance facts (allocatable as Karpenter computes it for EKS AL2023) ---------------


@dataclass(frozen=True)
class _Instance:
    name: str
    cpu: int
    memory_mib: int
    alloc_cpu: str
    alloc_memory: str
    pods: int
    gpus: int = 0
    gpu_name: str = ""  # Karpenter's instance-gpu-name
    gpu_product: str = ""  # GFD's nvidia.com/gpu.product
    gpu_family: str = ""
    gpu_memory: int = 0  # MiB as GFD reports it
    compute: tuple[int, int] = (0, 0)
    cpu_vendor: str = "intel"
    weight: int = 1


GPU_INSTANCES = (
    _Instance(
        "g5.xlarge", 4, 16384, "3920m", "14162Mi", 58, 1, "a10g", "NVIDIA-A10G", "ampere", 23028, (8, 6), "amd", 30
    ),
    _Instance(
        "g5.12xlarge",
        48,
        196608,
        "47810m",
        "173400Mi",
        737,
        4,
        "a10g",
        "NVIDIA-A10G",
        "ampere",
        23028,
        (8, 6),
        "amd",
        10,
    ),
    _Instance(
        "g6.xlarge", 4, 16384, "3920m", "14162Mi", 58, 1, "l4", "NVIDIA-L4", "ada-lovelace", 23034, (8, 9), "amd", 25
    ),
    _Instance(
        "g6e.2xlarge",
        8,
        65536,
        "7910m",
        "59627Mi",
        58,
        1,
        "l40s",
        "NVIDIA-L40S",
        "ada-lovelace",
        46068,
        (8, 9),
        "amd",
        15,
    ),
    _Instance(
        "p4d.24xlarge",
        96,
        1179648,
        "95690m",
        "1082712Mi",
        737,
        8,
        "a100",
        "NVIDIA-A100-SXM4-40GB",
        "ampere",
        40960,
        (8, 0),
        "intel",
        5,
    ),
    _Instance(
        "p5.48xlarge",
        192,
        2097152,
        "191450m",
        "1938410Mi",
        100,
        8,
        "h100",
        "NVIDIA-H100-80GB-HBM3",
        "hopper",
        81559,
        (9, 0),
        "amd",
        3,
    ),
)
CPU_INSTANCES = (
    _Instance("m6i.2xlarge", 8, 32768, "7910m", "29317Mi", 58, weight=30),
    _Instance("m6i.4xlarge", 16, 65536, "15890m", "57691Mi", 234, weight=30),
    _Instance("c6i.4xlarge", 16, 32768, "15890m", "27896Mi", 234, weight=20),
    _Instance("r6i.2xlarge", 8, 65536, "7910m", "59627Mi", 58, weight=20),
)

# NFD reports only the CPUID flags that are not baseline x86-64.
_NFD_CPU_FLAGS = (
    "ADX",
    "AESNI",
    "AVX",
    "AVX2",
    "AVX512BW",
    "AVX512CD",
    "AVX512DQ",
    "AVX512F",
    "AVX512VL",
    "AVX512VNNI",
    "FMA3",
    "GFNI",
    "HYPERVISOR",
    "IBPB",
    "SHA",
    "STIBP",
    "VAES",
    "VPCLMULQDQ",
    "XSAVEC",
    "XSAVES",
)
_NODE_IMAGES = (
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni", "v1.19.2-eksbuild.1", 57_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init", "v1.19.2-eksbuild.1", 61_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent", "v1.1.6-eksbuild.1", 34_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy", "v1.32.0-minimal-eksbuild.2", 37_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause", "3.10", 299_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-ebs-csi-driver", "v1.38.1", 83_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/csi-node-driver-registrar", "v2.12.0-eks-1-32-3", 16_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/livenessprobe", "v2.14.0-eks-1-32-3", 15_000_000),
    ("registry.k8s.io/nfd/node-feature-discovery", "v0.17.2", 72_000_000),
    ("quay.io/prometheus/node-exporter", "v1.8.2", 12_000_000),
)
_GPU_IMAGES = (
    ("nvcr.io/nvidia/k8s-device-plugin", "v0.17.1", 143_000_000),
    ("nvcr.io/nvidia/k8s/dcgm-exporter", "4.2.3-4.1.1-ubuntu22.04", 412_000_000),
    ("nvcr.io/nvidia/cloud-native/gpu-operator-validator", "v25.3.0", 252_000_000),
    ("nvcr.io/nvidia/cuda", "12.8.1-base-ubi9", 104_000_000),
)


_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for generated names


class _Gen:
    def __init__(self, spec: SyntheticSpec, now: _dt.datetime, seed: int):
        self.spec = spec
        self.now = now
        self.rng = random.Random(seed)
        self.out: list[dict[str, Any]] = []
        self.nodes: list[tuple[str, _Instance, str, str]] = []  # (name, instance, created, zone)
        self.claims: list[tuple[str, str, str]] = []  # (name, uid, created)
        self.ip_serial = 0
        self.pools: dict[str, dict[str, Any]] = {}
        # GPU nodes with free GPUs: [name, free]; CPU node names
        self.gpu_slots: list[list[Any]] = []
        self.cpu_nodes: list[str] = []
        self.running: list[Any] = []  # _PodRef of every Running workload pod, for events
        self.pending: list[Any] = []  # and of every Pending one

    # -- small helpers ---------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ts(self, seconds_ago: float) -> str:
        return (self.now - _dt.timedelta(seconds=int(seconds_ago))).strftime("%Y-%m-%dT%H:%M:%SZ")

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choices(_SUFFIX_ALPHABET, k=n))

    def hexid(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def next_ip(self) -> str:
        self.ip_serial += 1
        s = self.ip_serial
        return f"10.{(s >> 16) % 256 + 16}.{(s >> 8) % 256}.{s % 256}"

    def pick(self, table: tuple[_Instance, ...]) -> _Instance:
        return self.rng.choices(table, weights=[t.weight for t in table])[0]
