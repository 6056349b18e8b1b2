"""The GPUs of a simulated node: models, instance facts, the `sim.gputui.dev/` annotations
that script them, and the failure messages nvidia-smi prints.

Everything depends only on the Node object, so the same node always has the same UUIDs,
bus ids and serials.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from checks import instances

ANNOTATION_PREFIX = "sim.gputui.dev/"
ANN_MODE = ANNOTATION_PREFIX + "nvidia-smi"
ANN_MODEL = ANNOTATION_PREFIX + "gpu-model"
ANN_DRIVER_VERSION = ANNOTATION_PREFIX + "driver-version"
ANN_DRIVER_ROOT = ANNOTATION_PREFIX + "driver-root"
ANN_XID = ANNOTATION_PREFIX + "xid"
ANN_ECC = ANNOTATION_PREFIX + "ecc"

MODES = (
    "healthy",
    "driver-not-loaded",
    "nvml-unknown-error",
    "no-devices",
    "version-mismatch",
    "not-found",
    "gpu-missing",
    "insufficient-permissions",
    "access-blocked",
)
DEFAULT_DRIVER = "550.127.05"
OPERATOR_DRIVER_ROOT = "/run/nvidia/driver"

MSG_DRIVER_NOT_LOADED = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running."
)
MSG_NO_DEVICES = "No devices were found"
MSG_NVML_UNKNOWN = "Failed to initialize NVML: Unknown Error"
MSG_VERSION_MISMATCH = "Failed to initialize NVML: Driver/library version mismatch"
MSG_NO_PERMISSION = "Failed to initialize NVML: Insufficient Permissions"
MSG_ACCESS_BLOCKED = "Failed to initialize NVML: GPU access blocked by the operating system"

# nvidia-smi exit codes (nvidia-smi(1) "RETURN VALUE"; the mismatch is NVML_ERROR_LIB_RM_VERSION_MISMATCH).
FAILURES: dict[str, tuple[str, int]] = {
    "driver-not-loaded": (MSG_DRIVER_NOT_LOADED, 9),
    "no-devices": (MSG_NO_DEVICES, 6),
    "nvml-unknown-error": (MSG_NVML_UNKNOWN, 255),
    "version-mismatch": (MSG_VERSION_MISMATCH, 18),
    "insufficient-permissions": (MSG_NO_PERMISSION, 4),
    "access-blocked": (MSG_ACCESS_BLOCKED, 255),
}


# -- GPU and instance facts --------------------------------------------------


@dataclass(frozen=True)
class GpuModel:
    name: str  # as nvidia-smi prints it
    memory_mib: int  # FB memory total as nvidia-smi reports it
    power_limit_w: int
    idle_power_w: float
    architecture: str
    max_sm_clock: int
    mem_clock: int
    row_remapping: bool  # Ampere and newer remap rows; older GPUs retire pages
    vbios: str
    device_id: str


_MODELS: tuple[GpuModel, ...] = (
    GpuModel("Tesla T4", 15360, 70, 13.5, "Turing", 1590, 5000, False, "90.04.96.00.02", "0x1EB810DE"),
    GpuModel("NVIDIA T4G", 15360, 70, 14.0, "Turing", 1590, 5000, False, "90.04.B3.00.01", "0x1EB410DE"),
    GpuModel("NVIDIA A10G", 23028, 300, 25.6, "Ampere", 1710, 6251, True, "94.02.75.00.01", "0x223710DE"),
    GpuModel("NVIDIA L4", 23034, 72, 16.3, "Ada Lovelace", 2040, 6251, True, "95.04.29.00.06", "0x27B810DE"),
    GpuModel("NVIDIA L40S", 46068, 350, 35.2, "Ada Lovelace", 2520, 9001, True, "95.02.66.00.02", "0x26B910DE"),
    GpuModel("Tesla V100-SXM2-16GB", 16384, 300, 42.1, "Volta", 1530, 877, False, "88.00.4F.00.09", "0x1DB110DE"),
    GpuModel("Tesla V100-SXM2-32GB", 32768, 300, 43.0, "Volta", 1530, 877, False, "88.00.80.00.01", "0x1DB510DE"),
    GpuModel("NVIDIA A100-SXM4-40GB", 40960, 400, 52.7, "Ampere", 1410, 1215, True, "92.00.45.00.03", "0x20B010DE"),
    GpuModel("NVIDIA A100-SXM4-80GB", 81920, 400, 61.4, "Ampere", 1410, 1593, True, "92.00.36.00.02", "0x20B210DE"),
    GpuModel("NVIDIA H100 80GB HBM3", 81559, 700, 69.8, "Hopper", 1980, 2619, True, "96.00.A5.00.01", "0x233010DE"),
    GpuModel("NVIDIA H200", 143771, 700, 76.2, "Hopper", 1980, 3201, True, "96.00.AF.00.01", "0x233510DE"),
    GpuModel("NVIDIA B200", 183359, 1000, 140.3, "Blackwell", 1965, 3996, True, "97.00.5B.00.03", "0x290110DE"),
    GpuModel(
        "NVIDIA RTX PRO 6000 Blackwell Server Edition",
        97887,
        600,
        31.9,
        "Blackwell",
        2617,
        14001,
        True,
        "98.02.52.00.02",
        "0x2BB510DE",
    ),
)
MODELS_BY_NAME = {m.name.lower(): m for m in _MODELS}


def mig_mode(m: GpuModel) -> str | None:
    """ "Disabled" on GPUs that support MIG (A100, H100, H200, B200, RTX PRO 6000), else None (N/A)."""
    capable = m.architecture in ("Hopper", "Blackwell") or "A100" in m.name
    return "Disabled" if capable else None


# Karpenter's `karpenter.k8s.aws/instance-gpu-name` value -> product name.
_KARPENTER_GPU_NAME = {
    "t4": "Tesla T4",
    "t4g": "NVIDIA T4G",
    "a10g": "NVIDIA A10G",
    "l4": "NVIDIA L4",
    "l40s": "NVIDIA L40S",
    "v100": "Tesla V100-SXM2-16GB",
    "a100": "NVIDIA A100-SXM4-40GB",
    "h100": "NVIDIA H100 80GB HBM3",
    "h200": "NVIDIA H200",
    "b200": "NVIDIA B200",
    "rtx-pro-server-6000": "NVIDIA RTX PRO 6000 Blackwell Server Edition",
}

# EC2 family -> (product name, {size: GPU count}); sizes not listed have one GPU.
_FAMILIES: dict[str, tuple[str, dict[str, int]]] = {
    "g4dn": ("Tesla T4", {"12xlarge": 4, "metal": 8}),
    "g5g": ("NVIDIA T4G", {"16xlarge": 2, "metal": 2}),
    "g5": ("NVIDIA A10G", {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}),
    "g6": ("NVIDIA L4", {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}),
    "gr6": ("NVIDIA L4", {}),
    "g6e": ("NVIDIA L40S", {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}),
    "g7e": ("NVIDIA RTX PRO 6000 Blackwell Server Edition", {"12xlarge": 2, "24xlarge": 4, "48xlarge": 8}),
    "p3": ("Tesla V100-SXM2-16GB", {"8xlarge": 4, "16xlarge": 8}),
    "p3dn": ("Tesla V100-SXM2-32GB", {"24xlarge": 8}),
    "p4d": ("NVIDIA A100-SXM4-40GB", {"24xlarge": 8}),
    "p4de": ("NVIDIA A100-SXM4-80GB", {"24xlarge": 8}),
    "p5": ("NVIDIA H100 80GB HBM3", {"48xlarge": 8}),
    "p5e": ("NVIDIA H200", {"48xlarge": 8}),
    "p5en": ("NVIDIA H200", {"48xlarge": 8}),
    "p6-b200": ("NVIDIA B200", {"48xlarge": 8}),
}

_CUDA_FOR_DRIVER = {
    470: "11.4",
    510: "11.6",
    515: "11.7",
    520: "11.8",
    525: "12.0",
    530: "12.1",
    535: "12.2",
    545: "12.3",
    550: "12.4",
    555: "12.5",
    560: "12.6",
    565: "12.7",
    570: "12.8",
    575: "12.9",
    580: "13.0",
    590: "13.1",
    595: "13.2",
}

XID_TEXT = {
    13: "Graphics Exception: ESR 0x50df30=0x107000e 0x50df34=0x20 0x50df28=0xf81eb60 0x50df2c=0x1174",
    31: "Ch 00000010, intr 10000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ 0x7f12_3a000000. "
    "Fault is of type FAULT_PDE ACCESS_TYPE_READ",
    43: "Ch 00000008",
    45: "Ch 00000010",
    48: "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition 3, "
    "subpartition 0.",
    63: "Row Remapper: New row marked for remapping, reset gpu to activate.",
    64: "Row Remapper: Failed to record a row remapping. A GPU reset is required.",
    74: "NVLink: fatal error detected on link 3(0x10000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0)",
    79: "GPU has fallen off the bus.",
    92: "High single-bit ECC error rate detected.",
    94: "Contained: SM (0x1). RST: No, D-RST: No",
    95: "Uncontained: FBHUB. RST: Yes, D-RST: No",
    119: "Timeout after 6s of waiting for RPC response from GPU0 GSP! Expected function 76 (GSP_RM_CONTROL) "
    "(0x20801813 0x4c).",
    120: "GSP task timeout @ pc:0x4b7a4a4, task: 1",
}


def _parse_instance_type(instance_type: str) -> tuple[str, str]:
    family, _, size = instance_type.partition(".")
    return family, size


def instance_gpus(instance_type: str) -> tuple[str, int] | None:
    """(GPU product name, count) of an EC2 GPU instance type, or None for other types.

    The shared instance catalogue answers first; the local family table covers types it
    does not list."""
    it = instances.get(instance_type) if instance_type else None
    if it is not None and it.gpu_count:
        return it.gpu_model, it.gpu_count
    family, size = _parse_instance_type(instance_type)
    if family not in _FAMILIES:
        return None
    name, counts = _FAMILIES[family]
    return name, counts.get(size, 1)


def model_for(name: str) -> GpuModel:
    """The facts for a product name; unknown names get generic data-center numbers."""
    key = name.strip().lower()
    known = MODELS_BY_NAME.get(key) or MODELS_BY_NAME.get(key.removeprefix("nvidia "))
    if not known and key.replace("-", " ") != key:
        # GFD's nvidia.com/gpu.product spells spaces as dashes ("NVIDIA-A10G", "Tesla-T4").
        known = next((m for m in _MODELS if m.name.lower().replace(" ", "-") == key), None)
    if known:
        return known
    short = _KARPENTER_GPU_NAME.get(name.lower())
    if short:
        return MODELS_BY_NAME[short.lower()]
    return GpuModel(name, 23028, 300, 30.0, "Ampere", 1710, 6251, True, "94.00.00.00.01", "0x20B510DE")


# -- the node's GPUs ----------------------------------------------------------


@dataclass
class Gpu:
    index: int
    model: GpuModel
    uuid: str
    bus_id: str  # 00000000:00:1E.0
    serial: str
    minor: int
    temperature: int
    power_draw: float
    memory_used: int
    utilization: int
    ecc_volatile: int = 0
    ecc_aggregate: int = 0
    processes: list[tuple[int, str, int]] = field(default_factory=list)  # pid, name, MiB

    @property
    def pstate(self) -> str:
        return "P0" if self.utilization else "P8"

    @property
    def pci_short(self) -> str:
        """`0000:00:1e` as the kernel's NVRM lines name the device."""
        domain, bus, dev = self.bus_id.split(":")
        return f"{domain[-4:]}:{bus.lower()}:{dev.split('.')[0].lower()}"


@dataclass
class NodeGpus:
    node_name: str
    mode: str
    driver_version: str
    cuda_version: str
    driver_root: str  # "", "operator" or "host"
    gpus: list[Gpu]
    xids: list[int]
    kernel: str


def _labels(node: Mapping[str, Any]) -> Mapping[str, str]:
    return (node.get("metadata") or {}).get("labels") or {}


def _annotations(node: Mapping[str, Any]) -> Mapping[str, str]:
    return (node.get("metadata") or {}).get("annotations") or {}


def node_mode(node: Mapping[str, Any]) -> str:
    mode = (_annotations(node).get(ANN_MODE) or "healthy").strip()
    return mode if mode in MODES else "healthy"


def _expected_gpus(node: Mapping[str, Any]) -> tuple[str | None, int]:
    labels = _labels(node)
    ann = _annotations(node)
    name = ann.get(ANN_MODEL)
    count = 0
    from_type = instance_gpus(labels.get("node.kubernetes.io/instance-type", ""))
    if from_type:
        name = name or from_type[0]
        count = from_type[1]
    if not name and labels.get("karpenter.k8s.aws/instance-gpu-name"):
        name = _KARPENTER_GPU_NAME.get(labels["karpenter.k8s.aws/instance-gpu-name"].lower())
    if not name and labels.get("nvidia.com/gpu.product"):
        name = labels["nvidia.com/gpu.product"]
    for source in (
        labels.get("karpenter.k8s.aws/instance-gpu-count"),
        labels.get("nvidia.com/gpu.count"),
        ((node.get("status") or {}).get("capacity") or {}).get("nvidia.com/gpu"),
    ):
        if not count and source:
            try:
                count = int(source)
            except ValueError:
                pass
    if count and not name:
        name = "NVIDIA A10G"
    return name, count


def _bus_ids(count: int) -> list[str]:
    """PCI addresses laid out the way EC2 instances present their GPUs."""
    if count <= 4:
        first = 0x1E - count + 1
        return [f"00000000:00:{first + i:02X}.0" for i in range(count)]
    buses = (0x10, 0x20, 0x90, 0xA0, 0xB0, 0xC0, 0xD0, 0xE0)
    return [f"00000000:{buses[i // 2]:02X}:{0x1C + i % 2:02X}.0" for i in range(count)]


def _digest(*parts: Any) -> str:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def _parse_ecc(value: str | None) -> tuple[int, int]:
    if not value:
        return 0, 0
    nums = [p.strip() for p in value.split(",")]
    try:
        volatile = int(nums[0])
        aggregate = int(nums[1]) if len(nums) > 1 and nums[1] else volatile
    except ValueError:
        return 0, 0
    return volatile, max(aggregate, volatile)


def _parse_xids(value: str | None) -> list[int]:
    out = []
    for part in (value or "").replace(" ", ",").split(","):
        if part.strip().isdigit():
            out.append(int(part))
    return out


def cuda_version(driver: str) -> str:
    try:
        major = int(driver.split(".")[0])
    except ValueError:
        return "12.4"
    best = max((k for k in _CUDA_FOR_DRIVER if k <= major), default=470)
    return _CUDA_FOR_DRIVER[best]


def describe(node: Mapping[str, Any], *, busy_gpus: int = 0) -> NodeGpus:
    """The GPUs the driver on this node sees, with a deterministic identity per node."""
    meta = node.get("metadata") or {}
    node_name = meta.get("name", "node")
    ann = _annotations(node)
    mode = node_mode(node)
    driver = (ann.get(ANN_DRIVER_VERSION) or DEFAULT_DRIVER).strip()
    name, count = _expected_gpus(node)
    if not count and ANN_MODE not in ann:
        mode = "not-found"  # a node with no GPUs has no NVIDIA driver or tools installed
    if mode == "gpu-missing":
        count = max(count - 1, 0)
    model = model_for(name or "NVIDIA A10G")
    volatile, aggregate = _parse_ecc(ann.get(ANN_ECC))
    gpus = []
    # Bus ids follow the instance's full layout so the missing GPU leaves a gap, as on a real host.
    layout = _bus_ids(count + (1 if mode == "gpu-missing" else 0))
    for i in range(count):
        h = _digest(node_name, i)
        uuid = f"GPU-{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
        serial = str(int(h[32:44], 16))[:13].rjust(13, "1")
        busy = i < busy_gpus
        g = Gpu(
            index=i,
            model=model,
            uuid=uuid,
            bus_id=layout[i],
            serial=serial,
            minor=i,
            temperature=(62 if busy else 31) + int(h[44], 16) % 6,
            power_draw=round(model.power_limit_w * 0.82 if busy else model.idle_power_w + int(h[45], 16) / 10, 2),
            memory_used=int(model.memory_mib * 0.71) if busy else 0,
            utilization=97 + int(h[46], 16) % 4 if busy else 0,
        )
        if busy:
            g.processes.append((4000 + int(h[47:50], 16) % 30000, "python", g.memory_used - 2))
        if i == 0:
            g.ecc_volatile, g.ecc_aggregate = volatile, aggregate
        gpus.append(g)
    kernel = "6.1.112-124.190.amzn2023.x86_64"
    return NodeGpus(
        node_name=node_name,
        mode=mode,
        driver_version=driver,
        cuda_version=cuda_version(driver),
        driver_root=(ann.get(ANN_DRIVER_ROOT) or "").strip(),
        gpus=gpus,
        xids=_parse_xids(ann.get(ANN_XID)),
        kernel=kernel,
    )
