"""The project's own catalogue of accelerated EC2 instance types (NVIDIA GPUs, plus AWS
Inferentia/Trainium for the Neuron templates).

Used to answer "how many GPUs should this node have", "which instance types can a
NodePool launch" and "does any of them hold this pod". Hardware figures are AWS facts;
allocatable is derived the way Karpenter derives it (kube-reserved CPU/memory, the VM
memory overhead, eviction threshold, ENI-limited max pods). Prices are us-east-1
ballpark figures in USD/hour and are estimates only: they vary by region and, for spot,
by the hour.

Public API:
    INSTANCE_TYPES: dict[str, InstanceType]
    get(name) -> InstanceType | None
    karpenter_labels(it) -> dict[str, str]
    gpu_instance_types() -> list[InstanceType]
    gpu_name_for_product(product) -> str | None   ('NVIDIA-H100-80GB-HBM3' -> 'h100')
    INSTANCE_LABEL_KEYS: frozenset[str]   (labels this catalogue can answer for)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from checks.gpu import (
    GPU_RESOURCE,
    LABEL_INSTANCE_TYPE,
)

NEURON_RESOURCE = "aws.amazon.com/neuron"
MIB = Decimal(1024 * 1024)

# Karpenter's default: 7.5 % of instance memory is assumed lost to the hypervisor.
VM_MEMORY_OVERHEAD_PERCENT = 0.075
EVICTION_HARD_MEMORY_MIB = 100

# Karpenter well-known instance labels (AWS provider).
L_CATEGORY = "karpenter.k8s.aws/instance-category"
L_FAMILY = "karpenter.k8s.aws/instance-family"
L_GENERATION = "karpenter.k8s.aws/instance-generation"
L_SIZE = "karpenter.k8s.aws/instance-size"
L_CPU = "karpenter.k8s.aws/instance-cpu"
L_CPU_MANUFACTURER = "karpenter.k8s.aws/instance-cpu-manufacturer"
L_MEMORY = "karpenter.k8s.aws/instance-memory"
L_HYPERVISOR = "karpenter.k8s.aws/instance-hypervisor"
L_GPU_NAME = "karpenter.k8s.aws/instance-gpu-name"
L_GPU_COUNT = "karpenter.k8s.aws/instance-gpu-count"
L_GPU_MEMORY = "karpenter.k8s.aws/instance-gpu-memory"
L_GPU_MANUFACTURER = "karpenter.k8s.aws/instance-gpu-manufacturer"
L_ACC_NAME = "karpenter.k8s.aws/instance-accelerator-name"
L_ACC_COUNT = "karpenter.k8s.aws/instance-accelerator-count"
L_ACC_MANUFACTURER = "karpenter.k8s.aws/instance-accelerator-manufacturer"
L_ARCH = "kubernetes.io/arch"
L_OS = "kubernetes.io/os"

# Every label karpenter_labels() may set: requirements on other instance labels
# (ebs bandwidth, clock speed, ...) cannot be judged from this catalogue.
INSTANCE_LABEL_KEYS = frozenset(
    {
        L_CATEGORY,
        L_FAMILY,
        L_GENERATION,
        L_SIZE,
        L_CPU,
        L_CPU_MANUFACTURER,
        L_MEMORY,
        L_HYPERVISOR,
        L_GPU_NAME,
        L_GPU_COUNT,
        L_GPU_MEMORY,
        L_GPU_MANUFACTURER,
        L_ACC_NAME,
        L_ACC_COUNT,
        L_ACC_MANUFACTURER,
        L_ARCH,
        L_OS,
        LABEL_INSTANCE_TYPE,
    }
)


@dataclass(frozen=True)
class InstanceType:
    name: str
    family: str
    size: str
    category: str
    generation: int
    vcpu: int
    memory_mib: int
    max_pods: int
    # karpenter.k8s.aws/instance-gpu-name value ("a10g"), "" for non-NVIDIA accelerators
    gpu_name: str
    # what nvidia-smi / GFD call it ("NVIDIA A10G"), or the accelerator's name
    gpu_model: str
    gpu_count: int
    gpu_memory_mib: int  # per GPU
    arch: str = "amd64"
    cpu_manufacturer: str = "intel"
    # Non-NVIDIA accelerators (Inferentia, Trainium): device count and resource name.
    accelerator_name: str = ""
    accelerator_count: int = 0
    on_demand_usd: float = 0.0  # estimate, us-east-1
    spot_usd: float = 0.0  # estimate, typical
    allocatable: dict[str, Decimal] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_nvidia(self) -> bool:
        return self.gpu_count > 0

    @property
    def gpu_manufacturer(self) -> str:
        return "nvidia" if self.is_nvidia else ""

    @property
    def capacity(self) -> dict[str, Decimal]:
        """Node capacity as Karpenter counts it against NodePool limits."""
        cap = {
            "cpu": Decimal(self.vcpu),
            "memory": Decimal(self.memory_mib - _vm_overhead_mib(self.memory_mib)) * MIB,
            "pods": Decimal(self.max_pods),
        }
        if self.gpu_count:
            cap[GPU_RESOURCE] = Decimal(self.gpu_count)
        if self.accelerator_count:
            cap[NEURON_RESOURCE] = Decimal(self.accelerator_count)
        return cap

    @property
    def total_gpu_memory_mib(self) -> int:
        return self.gpu_count * self.gpu_memory_mib

    def describe(self) -> str:
        """'g5.xlarge (1x NVIDIA A10G 22888 MiB, 4 vCPU, 16 GiB)'"""
        if self.gpu_count:
            acc = f"{self.gpu_count}x {self.gpu_model} {self.gpu_memory_mib} MiB"
        elif self.accelerator_count:
            acc = f"{self.accelerator_count}x {self.gpu_model}"
        else:
            acc = "no accelerator"
        return f"{self.name} ({acc}, {self.vcpu} vCPU, {self.memory_mib // 1024} GiB)"


def _vm_overhead_mib(memory_mib: int) -> int:
    return math.ceil(memory_mib * VM_MEMORY_OVERHEAD_PERCENT)


def _kube_reserved_cpu_millis(vcpu: int) -> Decimal:
    # EKS/Karpenter: 6 % of the first core, 1 % of the second, 0.5 % of cores 3-4, 0.25 % above.
    millis = Decimal(0)
    for core in range(1, vcpu + 1):
        if core == 1:
            millis += Decimal(60)
        elif core == 2:
            millis += Decimal(10)
        elif core <= 4:
            millis += Decimal(5)
        else:
            millis += Decimal("2.5")
    return millis


def _allocatable(vcpu: int, memory_mib: int, max_pods: int, gpus: int, neuron: int) -> dict[str, Decimal]:
    cpu = (Decimal(vcpu * 1000) - _kube_reserved_cpu_millis(vcpu)) / 1000
    kube_reserved_mem = 11 * max_pods + 255
    mem = memory_mib - _vm_overhead_mib(memory_mib) - kube_reserved_mem - EVICTION_HARD_MEMORY_MIB
    out = {"cpu": cpu, "memory": Decimal(mem) * MIB, "pods": Decimal(max_pods)}
    if gpus:
        out[GPU_RESOURCE] = Decimal(gpus)
    if neuron:
        out[NEURON_RESOURCE] = Decimal(neuron)
    return out


# GPU name (Karpenter label) -> (display model, memory MiB per GPU as Karpenter reports it)
GPU_MODELS: dict[str, tuple[str, int]] = {
    "t4": ("NVIDIA Tesla T4", 16384),
    "t4g": ("NVIDIA T4G", 16384),
    "a10g": ("NVIDIA A10G", 22888),
    "l4": ("NVIDIA L4", 22888),
    "l40s": ("NVIDIA L40S", 45776),
    "v100": ("NVIDIA Tesla V100-SXM2-16GB", 16384),
    "a100": ("NVIDIA A100-SXM4-40GB", 40960),
    "h100": ("NVIDIA H100 80GB HBM3", 81920),
    "h200": ("NVIDIA H200", 144384),
    "b200": ("NVIDIA B200", 183359),
}

# Families: (gpu name, category, generation, cpu manufacturer, arch, spot/on-demand ratio estimate)
_FAMILIES = {
    "g4dn": ("t4", "g", 4, "intel", "amd64", 0.30),
    "g5": ("a10g", "g", 5, "amd", "amd64", 0.30),
    "g5g": ("t4g", "g", 5, "aws", "arm64", 0.35),
    "g6": ("l4", "g", 6, "amd", "amd64", 0.35),
    "g6e": ("l40s", "g", 6, "amd", "amd64", 0.40),
    "gr6": ("l4", "gr", 6, "amd", "amd64", 0.40),
    "p3": ("v100", "p", 3, "intel", "amd64", 0.30),
    "p3dn": ("v100", "p", 3, "intel", "amd64", 0.35),
    "p4d": ("a100", "p", 4, "intel", "amd64", 0.45),
    "p4de": ("a100", "p", 4, "intel", "amd64", 0.50),
    "p5": ("h100", "p", 5, "amd", "amd64", 0.50),
    "p5e": ("h200", "p", 5, "amd", "amd64", 0.55),
    "p5en": ("h200", "p", 5, "intel", "amd64", 0.55),
    "p6-b200": ("b200", "p", 6, "intel", "amd64", 0.60),
    "inf2": ("", "inf", 2, "amd", "amd64", 0.35),
    "trn1": ("", "trn", 1, "intel", "amd64", 0.35),
}

# Per-type GPU memory where it differs from the family's model.
_GPU_MEMORY_OVERRIDE = {"p3dn.24xlarge": 32768, "p4de.24xlarge": 81920, "p5e.48xlarge": 144384}
_GPU_MODEL_OVERRIDE = {
    "p3dn.24xlarge": "NVIDIA Tesla V100-SXM2-32GB",
    "p4de.24xlarge": "NVIDIA A100-SXM4-80GB",
}

# name: (GPUs or accelerators, vCPU, memory GiB, max pods, on-demand USD/h estimate)
_TYPES: dict[str, tuple[int, int, int, int, float]] = {
    "g4dn.xlarge": (1, 4, 16, 29, 0.526),
    "g4dn.2xlarge": (1, 8, 32, 29, 0.752),
    "g4dn.4xlarge": (1, 16, 64, 29, 1.204),
    "g4dn.8xlarge": (1, 32, 128, 58, 2.176),
    "g4dn.12xlarge": (4, 48, 192, 234, 3.912),
    "g4dn.16xlarge": (1, 64, 256, 58, 4.352),
    "g4dn.metal": (8, 96, 384, 737, 7.824),
    "g5.xlarge": (1, 4, 16, 58, 1.006),
    "g5.2xlarge": (1, 8, 32, 58, 1.212),
    "g5.4xlarge": (1, 16, 64, 234, 1.624),
    "g5.8xlarge": (1, 32, 128, 234, 2.448),
    "g5.12xlarge": (4, 48, 192, 737, 5.672),
    "g5.16xlarge": (1, 64, 256, 234, 4.096),
    "g5.24xlarge": (4, 96, 384, 737, 8.144),
    "g5.48xlarge": (8, 192, 768, 345, 16.288),
    "g5g.xlarge": (1, 4, 8, 58, 0.420),
    "g5g.2xlarge": (1, 8, 16, 58, 0.556),
    "g5g.4xlarge": (1, 16, 32, 234, 0.828),
    "g5g.8xlarge": (1, 32, 64, 234, 1.372),
    "g5g.16xlarge": (2, 64, 128, 737, 2.744),
    "g5g.metal": (2, 64, 128, 737, 2.744),
    "g6.xlarge": (1, 4, 16, 58, 0.805),
    "g6.2xlarge": (1, 8, 32, 58, 0.978),
    "g6.4xlarge": (1, 16, 64, 234, 1.323),
    "g6.8xlarge": (1, 32, 128, 234, 2.014),
    "g6.12xlarge": (4, 48, 192, 234, 4.602),
    "g6.16xlarge": (1, 64, 256, 737, 3.397),
    "g6.24xlarge": (4, 96, 384, 737, 6.675),
    "g6.48xlarge": (8, 192, 768, 737, 13.350),
    "g6e.xlarge": (1, 4, 32, 58, 1.861),
    "g6e.2xlarge": (1, 8, 64, 58, 2.242),
    "g6e.4xlarge": (1, 16, 128, 234, 3.004),
    "g6e.8xlarge": (1, 32, 256, 234, 4.529),
    "g6e.12xlarge": (4, 48, 384, 292, 10.493),
    "g6e.16xlarge": (1, 64, 512, 737, 7.577),
    "g6e.24xlarge": (4, 96, 768, 492, 15.066),
    "g6e.48xlarge": (8, 192, 1536, 492, 30.131),
    "gr6.4xlarge": (1, 16, 128, 234, 1.539),
    "gr6.8xlarge": (1, 32, 256, 234, 2.446),
    "p3.2xlarge": (1, 8, 61, 58, 3.060),
    "p3.8xlarge": (4, 32, 244, 234, 12.240),
    "p3.16xlarge": (8, 64, 488, 234, 24.480),
    "p3dn.24xlarge": (8, 96, 768, 737, 31.212),
    "p4d.24xlarge": (8, 96, 1152, 737, 32.773),
    "p4de.24xlarge": (8, 96, 1152, 737, 40.966),
    "p5.4xlarge": (1, 16, 256, 118, 6.880),
    "p5.48xlarge": (8, 192, 2048, 100, 55.040),
    "p5e.48xlarge": (8, 192, 2048, 100, 62.000),
    "p5en.48xlarge": (8, 192, 2048, 198, 63.300),
    "p6-b200.48xlarge": (8, 192, 2048, 198, 113.900),
    # Neuron: count is Inferentia2 / Trainium chips (aws.amazon.com/neuron devices).
    "inf2.xlarge": (1, 4, 16, 58, 0.758),
    "inf2.8xlarge": (1, 32, 128, 234, 1.968),
    "inf2.24xlarge": (6, 96, 384, 737, 6.491),
    "inf2.48xlarge": (12, 192, 768, 737, 12.981),
    "trn1.2xlarge": (1, 8, 32, 58, 1.344),
    "trn1.32xlarge": (16, 128, 512, 247, 21.500),
}

_NEURON_MODELS = {"inf2": ("inferentia", "AWS Inferentia2"), "trn1": ("trainium", "AWS Trainium")}


def _family_of(name: str) -> tuple[str, str]:
    family, _, size = name.rpartition(".")
    return family, size


def _build() -> dict[str, InstanceType]:
    table: dict[str, InstanceType] = {}
    for name, (count, vcpu, mem_gib, pods, price) in _TYPES.items():
        family, size = _family_of(name)
        gpu_name, category, gen, cpu_mfr, arch, spot_ratio = _FAMILIES[family]
        memory_mib = mem_gib * 1024
        if gpu_name:
            model, gmem = GPU_MODELS[gpu_name]
            model = _GPU_MODEL_OVERRIDE.get(name, model)
            gmem = _GPU_MEMORY_OVERRIDE.get(name, gmem)
            gpus, acc_name, acc_count = count, "", 0
        else:
            acc_name, model = _NEURON_MODELS[family]
            gmem, gpus, acc_count = 0, 0, count
        table[name] = InstanceType(
            name=name,
            family=family,
            size=size,
            category=category,
            generation=gen,
            vcpu=vcpu,
            memory_mib=memory_mib,
            max_pods=pods,
            gpu_name=gpu_name,
            gpu_model=model,
            gpu_count=gpus,
            gpu_memory_mib=gmem,
            arch=arch,
            cpu_manufacturer=cpu_mfr,
            accelerator_name=acc_name,
            accelerator_count=acc_count,
            on_demand_usd=price,
            spot_usd=round(price * spot_ratio, 3),
            allocatable=_allocatable(vcpu, memory_mib, pods, gpus, acc_count),
        )
    return table


INSTANCE_TYPES: dict[str, InstanceType] = _build()


def gpu_name_for_product(product: str) -> str | None:
    """Karpenter's GPU name for a GFD/nvidia-smi product string: 'NVIDIA-H100-80GB-HBM3' ->
    'h100', 'Tesla-T4' -> 't4', 'NVIDIA L40S' -> 'l40s'. None when unknown."""
    tokens = re.split(r"[-_ ]+", product.lower())
    for token in tokens:
        if token in GPU_MODELS:
            return token
    return None


def get(name: str | None) -> InstanceType | None:
    return INSTANCE_TYPES.get(name or "")


def gpu_instance_types() -> list[InstanceType]:
    """NVIDIA GPU types, cheapest first."""
    return sorted((it for it in INSTANCE_TYPES.values() if it.is_nvidia), key=lambda it: it.on_demand_usd)


def karpenter_labels(it: InstanceType) -> dict[str, str]:
    """The instance-derived labels Karpenter puts on a node of this type (the subset this
    catalogue knows; zone, capacity type and NodePool labels come from elsewhere)."""
    labels = {
        L_CATEGORY: it.category,
        L_FAMILY: it.family,
        L_GENERATION: str(it.generation),
        L_SIZE: it.size,
        L_CPU: str(it.vcpu),
        L_CPU_MANUFACTURER: it.cpu_manufacturer,
        L_MEMORY: str(it.memory_mib),
        LABEL_INSTANCE_TYPE: it.name,
        L_ARCH: it.arch,
        L_OS: "linux",
    }
    if it.size != "metal":
        labels[L_HYPERVISOR] = "nitro"
    if it.is_nvidia:
        labels.update(
            {
                L_GPU_NAME: it.gpu_name,
                L_GPU_COUNT: str(it.gpu_count),
                L_GPU_MEMORY: str(it.gpu_memory_mib),
                L_GPU_MANUFACTURER: "nvidia",
            }
        )
    if it.accelerator_count:
        labels.update(
            {
                L_ACC_NAME: it.accelerator_name,
                L_ACC_COUNT: str(it.accelerator_count),
                L_ACC_MANUFACTURER: "aws",
            }
        )
    return labels
