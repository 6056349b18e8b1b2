"""What `nvidia-smi` (and the few shell commands around it) print on a simulated node.

The simulator runs the containers of debug pods through `run_container`; the output
becomes the container's log and the exit status its exit code. Everything depends only
on the Node object (labels, capacity and `sim.gputui.dev/` annotations) plus the number
of GPUs that running pods hold, so the same node always prints the same UUIDs, bus ids
and serials.

Node annotations read here
    sim.gputui.dev/nvidia-smi      healthy (default on GPU nodes; nodes without GPUs act as not-found) |
                                   driver-not-loaded | nvml-unknown-error | no-devices | version-mismatch |
                                   not-found | gpu-missing
    sim.gputui.dev/gpu-model       GPU product name, e.g. "NVIDIA A10G" (else from the instance type)
    sim.gputui.dev/driver-version  e.g. "550.127.05" (default 550.127.05)
    sim.gputui.dev/driver-root     operator | host (which chroot target holds nvidia-smi)
    sim.gputui.dev/xid             comma-separated Xid codes shown in the kernel log
    sim.gputui.dev/ecc             "volatile,aggregate" uncorrectable ECC errors on GPU 0

Commands understood (`render(node, command)`)
    nvidia-smi                                 the default table (R535+ layout)
    nvidia-smi -L
    nvidia-smi -q [-d SECTION,...]             sections are accepted and the full report printed
    nvidia-smi -q -x                           XML (nvidia_smi_log, DTD v12 element names)
    nvidia-smi --query-gpu=F1,F2 --format=csv[,noheader][,nounits]
    nvidia-smi --query-compute-apps=F1,F2 --format=csv[,noheader][,nounits]
    nvidia-smi -i N ...                        restrict to GPU N (index, UUID or bus id)
    dmesg [-T] / journalctl -k                 kernel log with `NVRM: Xid` lines from the xid annotation
    cat /proc/driver/nvidia/version, uname -r, hostname, echo, printf, true, false, exit N, sleep N
    wrappers: chroot DIR CMD, timeout N CMD, nsenter ... -- CMD, env CMD, exec CMD, command CMD

    chroot follows `sim.gputui.dev/driver-root`: with `operator` the host has no
    nvidia-smi (`chroot /host nvidia-smi` fails, exit 127) and with `host` there is no
    /run/nvidia/driver (`chroot /run/nvidia/driver ...` fails, exit 125). Without the
    annotation any chroot target works. Mode `not-found` makes nvidia-smi missing everywhere.

Script format (what a debug pod's `sh -c SCRIPT` may contain)
    * One simple command per line; lines may also chain commands with `;`, `&&`, `||`
      and pipelines with `|` (later pipeline stages understood: grep [-i] [-v] [-E] PATTERN,
      head -n N, tail -n N, cat). `#` starts a comment. `set -e` is honoured; other `set`
      options are ignored.
    * Redirections are dropped (`2>&1`, `2>/dev/null` keep the output in the log;
      `>/dev/null` and `&>/dev/null` discard stdout).
    * Section markers are ordinary echo lines and appear in the output in order, e.g.
          echo "=== gputui:query-gpu ==="
          nvidia-smi --query-gpu=index,name,uuid --format=csv,noheader
          echo "=== gputui:dmesg ==="
          dmesg | grep -i xid
      prints the marker line, the CSV rows, the second marker and the Xid lines.
    * The script's exit status is that of the last command run (or of `exit N`), as sh does.
    * Not supported: variables, `$(...)`, `if`/`for`, functions, here-documents. An
      unknown command prints `sh: 1: NAME: not found` and returns 127.

Failure outputs are the exact NVIDIA strings with nvidia-smi's exit codes: driver not
loaded 9, no devices 6, NVML unknown error 255, driver/library version mismatch 18.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import time
from collections.abc import Mapping, Sequence
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

# nvidia-smi exit codes (nvidia-smi(1) "RETURN VALUE"; the mismatch is NVML_ERROR_LIB_RM_VERSION_MISMATCH).
_FAILURES: dict[str, tuple[str, int]] = {
    "driver-not-loaded": (MSG_DRIVER_NOT_LOADED, 9),
    "no-devices": (MSG_NO_DEVICES, 6),
    "nvml-unknown-error": (MSG_NVML_UNKNOWN, 255),
    "version-mismatch": (MSG_VERSION_MISMATCH, 18),
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


def _mig_mode(m: GpuModel) -> str | None:
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

_XID_TEXT = {
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


# -- the default table --------------------------------------------------------

_RULE = "+" + "-" * 89 + "+"
_GPU_RULE = "+" + "-" * 41 + "+" + "-" * 24 + "+" + "-" * 22 + "+"
_GPU_DOUBLE = "|" + "=" * 41 + "+" + "=" * 24 + "+" + "=" * 22 + "|"


def _ctime(now: float) -> str:
    return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(now))


def render_table(info: NodeGpus, now: float) -> str:
    lines = [
        _ctime(now) + "       ",
        _RULE,
        f"| NVIDIA-SMI {info.driver_version:<22} Driver Version: {info.driver_version:<14} "
        f"CUDA Version: {info.cuda_version:<8} |",
        _GPU_RULE,
        "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |",
        "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |",
        "|                                         |                        |               MIG M. |",
        _GPU_DOUBLE,
    ]
    for g in info.gpus:
        name = g.model.name if len(g.model.name) <= 31 else g.model.name[:28] + "..."
        lines.append(f"|{g.index:>4}  {name:<31}{'On':<3} |   {g.bus_id} Off |{g.ecc_volatile:>21} |")
        lines.append(
            f"| N/A {g.temperature:>4}C {g.pstate:>5} {round(g.power_draw):>14}W / "
            f"{g.model.power_limit_w:>4}W |{g.memory_used:>8}MiB / {g.model.memory_mib:>6}MiB |"
            f"{str(g.utilization) + '%':>8}      Default |"
        )
        lines.append(f"|{'':41}|{'':24}|{_mig_mode(g.model) or 'N/A':>21} |")
        lines.append(_GPU_RULE)
    lines += [
        "",
        _RULE,
        "| Processes:" + " " * 78 + "|",
        "|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |",
        "|        ID   ID                                                               Usage      |",
        "|" + "=" * 89 + "|",
    ]
    procs = [(g.index, p) for g in info.gpus for p in g.processes]
    if not procs:
        lines.append("|  No running processes found" + " " * 61 + "|")
    for index, (pid, pname, mib) in procs:
        lines.append(f"|{index:>5}   N/A  N/A{pid:>16}{'C':>7}   {pname:<37}{str(mib) + 'MiB':>9} |")
    lines.append(_RULE)
    return "\n".join(lines) + "\n"


def render_list(info: NodeGpus) -> str:
    return "".join(f"GPU {g.index}: {g.model.name} (UUID: {g.uuid})\n" for g in info.gpus)


# -- `-q` and `-q -x` from one tree --------------------------------------------
# Each entry: (label in the text report, XML tag, value or list of entries).

Entry = tuple[str, str, Any]


@dataclass(frozen=True)
class _Dual:
    """A value the text report and the XML spell differently (`0x00` vs `00`)."""

    text: str
    xml: str


def _gpu_tree(g: Gpu, info: NodeGpus) -> list[Entry]:
    m = g.model
    domain, bus, devfn = g.bus_id.split(":")
    ecc_na = "N/A"
    remap = m.row_remapping
    unc_total = g.ecc_aggregate
    pending = "Yes" if g.ecc_volatile else "No"
    return [
        ("Product Name", "product_name", m.name),
        ("Product Brand", "product_brand", "NVIDIA" if not m.name.startswith("Tesla") else "Tesla"),
        ("Product Architecture", "product_architecture", m.architecture),
        ("Persistence Mode", "persistence_mode", "Enabled"),
        (
            "MIG Mode",
            "mig_mode",
            [("Current", "current_mig", _mig_mode(m) or "N/A"), ("Pending", "pending_mig", _mig_mode(m) or "N/A")],
        ),
        ("Accounting Mode", "accounting_mode", "Disabled"),
        ("Serial Number", "serial", g.serial),
        ("GPU UUID", "uuid", g.uuid),
        ("Minor Number", "minor_number", str(g.minor)),
        ("VBIOS Version", "vbios_version", m.vbios),
        ("MultiGPU Board", "multigpu_board", "No"),
        (
            "PCI",
            "pci",
            [
                ("Bus", "pci_bus", _Dual(f"0x{bus}", bus)),
                ("Device", "pci_device", _Dual(f"0x{devfn.split('.')[0]}", devfn.split(".")[0])),
                ("Domain", "pci_domain", _Dual(f"0x{domain[-4:]}", domain[-4:])),
                ("Device Id", "pci_device_id", _Dual(m.device_id, m.device_id[2:])),
                ("Bus Id", "pci_bus_id", g.bus_id),
                ("Sub System Id", "pci_sub_system_id", _Dual("0x000010DE", "000010DE")),
            ],
        ),
        ("Fan Speed", "fan_speed", "N/A"),
        ("Performance State", "performance_state", g.pstate),
        (
            "Clocks Event Reasons",
            "clocks_event_reasons",
            [
                ("Idle", "clocks_event_reason_gpu_idle", "Not Active" if g.utilization else "Active"),
                ("SW Power Cap", "clocks_event_reason_sw_power_cap", "Not Active"),
                ("HW Slowdown", "clocks_event_reason_hw_slowdown", "Not Active"),
                ("SW Thermal Slowdown", "clocks_event_reason_sw_thermal_slowdown", "Not Active"),
            ],
        ),
        (
            "FB Memory Usage",
            "fb_memory_usage",
            [
                ("Total", "total", f"{m.memory_mib} MiB"),
                ("Reserved", "reserved", f"{_reserved(m)} MiB"),
                ("Used", "used", f"{g.memory_used} MiB"),
                ("Free", "free", f"{m.memory_mib - _reserved(m) - g.memory_used} MiB"),
            ],
        ),
        ("Compute Mode", "compute_mode", "Default"),
        (
            "Utilization",
            "utilization",
            [
                ("GPU", "gpu_util", f"{g.utilization} %"),
                ("Memory", "memory_util", f"{g.utilization // 3} %"),
                ("Encoder", "encoder_util", "0 %"),
                ("Decoder", "decoder_util", "0 %"),
            ],
        ),
        ("ECC Mode", "ecc_mode", [("Current", "current_ecc", "Enabled"), ("Pending", "pending_ecc", "Enabled")]),
        (
            "ECC Errors",
            "ecc_errors",
            [
                (
                    "Volatile",
                    "volatile",
                    [
                        ("SRAM Correctable", "sram_correctable", "0"),
                        ("SRAM Uncorrectable Parity", "sram_uncorrectable_parity", "0"),
                        ("SRAM Uncorrectable SEC-DED", "sram_uncorrectable_secded", "0"),
                        ("DRAM Correctable", "dram_correctable", "0"),
                        ("DRAM Uncorrectable", "dram_uncorrectable", str(g.ecc_volatile)),
                    ],
                ),
                (
                    "Aggregate",
                    "aggregate",
                    [
                        ("SRAM Correctable", "sram_correctable", "0"),
                        ("SRAM Uncorrectable Parity", "sram_uncorrectable_parity", "0"),
                        ("SRAM Uncorrectable SEC-DED", "sram_uncorrectable_secded", "0"),
                        ("DRAM Correctable", "dram_correctable", "0"),
                        ("DRAM Uncorrectable", "dram_uncorrectable", str(g.ecc_aggregate)),
                    ],
                ),
            ],
        ),
        (
            "Retired Pages",
            "retired_pages",
            [
                ("Single Bit ECC", "multiple_single_bit_retirement", [("", "retired_count", ecc_na if remap else "0")]),
                (
                    "Double Bit ECC",
                    "double_bit_retirement",
                    [("", "retired_count", ecc_na if remap else str(unc_total))],
                ),
                ("Pending Page Blacklist", "pending_retirement", ecc_na if remap else pending),
            ],
        ),
        (
            "Remapped Rows",
            "remapped_rows",
            [
                ("Correctable Error", "remapped_row_corr", "0" if remap else ecc_na),
                ("Uncorrectable Error", "remapped_row_unc", str(unc_total) if remap else ecc_na),
                ("Pending", "remapped_row_pending", pending if remap else ecc_na),
                ("Remapping Failure Occurred", "remapped_row_failure", "No" if remap else ecc_na),
            ],
        ),
        (
            "Temperature",
            "temperature",
            [
                ("GPU Current Temp", "gpu_temp", f"{g.temperature} C"),
                ("GPU T.Limit Temp", "gpu_temp_tlimit", f"{88 - g.temperature} C"),
                ("GPU Target Temperature", "gpu_target_temperature", "N/A"),
            ],
        ),
        (
            "GPU Power Readings",
            "gpu_power_readings",
            [
                ("Average Power Draw", "average_power_draw", f"{g.power_draw:.2f} W"),
                ("Instantaneous Power Draw", "instant_power_draw", f"{g.power_draw:.2f} W"),
                ("Current Power Limit", "current_power_limit", f"{m.power_limit_w:.2f} W"),
                ("Default Power Limit", "default_power_limit", f"{m.power_limit_w:.2f} W"),
                ("Max Power Limit", "max_power_limit", f"{m.power_limit_w:.2f} W"),
            ],
        ),
        (
            "Clocks",
            "clocks",
            [
                ("Graphics", "graphics_clock", f"{m.max_sm_clock if g.utilization else 210} MHz"),
                ("SM", "sm_clock", f"{m.max_sm_clock if g.utilization else 210} MHz"),
                ("Memory", "mem_clock", f"{m.mem_clock if g.utilization else 405} MHz"),
            ],
        ),
        (
            "Max Clocks",
            "max_clocks",
            [
                ("Graphics", "graphics_clock", f"{m.max_sm_clock} MHz"),
                ("SM", "sm_clock", f"{m.max_sm_clock} MHz"),
                ("Memory", "mem_clock", f"{m.mem_clock} MHz"),
            ],
        ),
        (
            "Processes",
            "processes",
            [
                (
                    "Process ID",
                    "process_info",
                    [
                        ("GPU instance ID", "gpu_instance_id", "N/A"),
                        ("Compute instance ID", "compute_instance_id", "N/A"),
                        ("Process ID", "pid", str(pid)),
                        ("Type", "type", "C"),
                        ("Name", "process_name", pname),
                        ("Used GPU Memory", "used_memory", f"{mib} MiB"),
                    ],
                )
                for pid, pname, mib in g.processes
            ]
            or "None",
        ),
    ]


def _reserved(m: GpuModel) -> int:
    return max(256, m.memory_mib // 170)


def _q_lines(entries: Sequence[Entry], depth: int, out: list[str]) -> None:
    for label, tag, value in entries:
        pad = "    " * depth
        if tag == "process_info":
            # Process entries are flattened in the text report: one block per process.
            for plabel, ptag, pvalue in value:
                inner = pad if ptag in ("gpu_instance_id", "compute_instance_id", "pid") else pad + "    "
                # nvidia-smi aligns the process block on its own, narrower column.
                out.append(f"{inner}{plabel:<{42 - len(inner)}}: {pvalue}")
            continue
        if isinstance(value, list) and len(value) == 1 and value[0][0] == "":
            value = value[0][2]
        if isinstance(value, list):
            out.append(f"{pad}{label}")
            _q_lines(value, depth + 1, out)
        else:
            shown = value.text if isinstance(value, _Dual) else value
            out.append(f"{pad}{label:<{55 - len(pad)}}: {shown}")


def render_query(info: NodeGpus, now: float) -> str:
    out = [
        "",
        "==============NVSMI LOG==============",
        "",
        f"{'Timestamp':<55}: {_ctime(now)}",
        f"{'Driver Version':<55}: {info.driver_version}",
        f"{'CUDA Version':<55}: {info.cuda_version}",
        "",
        f"{'Attached GPUs':<55}: {len(info.gpus)}",
    ]
    for g in info.gpus:
        out.append(f"GPU {g.bus_id}")
        _q_lines(_gpu_tree(g, info), 1, out)
        out.append("")
    return "\n".join(out) + "\n"


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_lines(entries: Sequence[Entry], depth: int, out: list[str]) -> None:
    for _label, tag, value in entries:
        pad = "\t" * depth
        if isinstance(value, list):
            out.append(f"{pad}<{tag}>")
            _xml_lines(value, depth + 1, out)
            out.append(f"{pad}</{tag}>")
        elif tag == "processes":
            out.append(f"{pad}<{tag}>")
            out.append(f"{pad}</{tag}>")
        else:
            shown = value.xml if isinstance(value, _Dual) else value
            out.append(f"{pad}<{tag}>{_xml_escape(shown)}</{tag}>")


def render_xml(info: NodeGpus, now: float) -> str:
    out = [
        '<?xml version="1.0" ?>',
        '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">',
        "<nvidia_smi_log>",
        f"\t<timestamp>{_ctime(now)}</timestamp>",
        f"\t<driver_version>{info.driver_version}</driver_version>",
        f"\t<cuda_version>{info.cuda_version}</cuda_version>",
        f"\t<attached_gpus>{len(info.gpus)}</attached_gpus>",
    ]
    for g in info.gpus:
        out.append(f'\t<gpu id="{g.bus_id}">')
        _xml_lines(_gpu_tree(g, info), 2, out)
        out.append("\t</gpu>")
        out.append("")
    out.append("</nvidia_smi_log>")
    return "\n".join(out) + "\n"


# -- --query-gpu / --query-compute-apps ---------------------------------------

_NA = "[N/A]"


def _gpu_fields(g: Gpu, info: NodeGpus, now: float) -> dict[str, tuple[str, Any]]:
    """field -> (unit or "", value); a value of None prints as [N/A]."""
    m = g.model
    remap = m.row_remapping
    reserved = _reserved(m)
    pending = "Yes" if g.ecc_volatile else "No"
    fields: dict[str, tuple[str, Any]] = {
        "timestamp": ("", time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"),
        "driver_version": ("", info.driver_version),
        "count": ("", len(info.gpus)),
        "name": ("", m.name),
        "gpu_name": ("", m.name),
        "serial": ("", g.serial),
        "gpu_serial": ("", g.serial),
        "uuid": ("", g.uuid),
        "gpu_uuid": ("", g.uuid),
        "pci.bus_id": ("", g.bus_id),
        "gpu_bus_id": ("", g.bus_id),
        "pci.domain": ("", "0x" + g.bus_id[4:8]),
        "pci.bus": ("", "0x" + g.bus_id[9:11]),
        "pci.device": ("", "0x" + g.bus_id[12:14]),
        "pci.device_id": ("", m.device_id),
        "index": ("", g.index),
        "minor_number": ("", g.minor),
        "persistence_mode": ("", "Enabled"),
        "display_mode": ("", "Disabled"),
        "display_active": ("", "Disabled"),
        "vbios_version": ("", m.vbios),
        "compute_mode": ("", "Default"),
        "pstate": ("", g.pstate),
        "fan.speed": ("%", None),
        "memory.total": ("MiB", m.memory_mib),
        "memory.reserved": ("MiB", reserved),
        "memory.used": ("MiB", g.memory_used),
        "memory.free": ("MiB", m.memory_mib - reserved - g.memory_used),
        "utilization.gpu": ("%", g.utilization),
        "utilization.memory": ("%", g.utilization // 3),
        "temperature.gpu": ("", g.temperature),
        "temperature.memory": ("", None),
        "power.draw": ("W", f"{g.power_draw:.2f}"),
        "power.draw.average": ("W", f"{g.power_draw:.2f}"),
        "power.draw.instant": ("W", f"{g.power_draw:.2f}"),
        "power.limit": ("W", f"{m.power_limit_w:.2f}"),
        "enforced.power.limit": ("W", f"{m.power_limit_w:.2f}"),
        "power.default_limit": ("W", f"{m.power_limit_w:.2f}"),
        "power.max_limit": ("W", f"{m.power_limit_w:.2f}"),
        "clocks.gr": ("MHz", m.max_sm_clock if g.utilization else 210),
        "clocks.sm": ("MHz", m.max_sm_clock if g.utilization else 210),
        "clocks.mem": ("MHz", m.mem_clock if g.utilization else 405),
        "clocks.max.gr": ("MHz", m.max_sm_clock),
        "clocks.max.sm": ("MHz", m.max_sm_clock),
        "clocks.max.mem": ("MHz", m.mem_clock),
        "ecc.mode.current": ("", "Enabled"),
        "ecc.mode.pending": ("", "Enabled"),
        "ecc.errors.corrected.volatile.total": ("", 0),
        "ecc.errors.corrected.aggregate.total": ("", 0),
        "ecc.errors.uncorrected.volatile.total": ("", g.ecc_volatile),
        "ecc.errors.uncorrected.aggregate.total": ("", g.ecc_aggregate),
        "ecc.errors.uncorrected.volatile.dram": ("", g.ecc_volatile),
        "ecc.errors.uncorrected.aggregate.dram": ("", g.ecc_aggregate),
        "ecc.errors.uncorrected.volatile.device_memory": ("", g.ecc_volatile),
        "ecc.errors.uncorrected.aggregate.device_memory": ("", g.ecc_aggregate),
        "ecc.errors.uncorrected.volatile.sram": ("", 0),
        "ecc.errors.uncorrected.aggregate.sram": ("", 0),
        "retired_pages.single_bit_ecc.count": ("", None if remap else 0),
        "retired_pages.sbe": ("", None if remap else 0),
        "retired_pages.double_bit.count": ("", None if remap else g.ecc_aggregate),
        "retired_pages.dbe": ("", None if remap else g.ecc_aggregate),
        "retired_pages.pending": ("", None if remap else pending),
        "remapped_rows.correctable": ("", 0 if remap else None),
        "remapped_rows.uncorrectable": ("", g.ecc_aggregate if remap else None),
        "remapped_rows.pending": ("", pending if remap else None),
        "remapped_rows.failure": ("", "No" if remap else None),
        "mig.mode.current": ("", _mig_mode(m)),
        "mig.mode.pending": ("", _mig_mode(m)),
        "pcie.link.gen.current": ("", 4),
        "pcie.link.gen.max": ("", 4),
        "pcie.link.width.current": ("", 16),
        "pcie.link.width.max": ("", 16),
    }
    active = "0x0000000000000000" if g.utilization else "0x0000000000000001"
    idle = "Not Active" if g.utilization else "Active"
    for prefix in ("clocks_event_reasons", "clocks_throttle_reasons"):
        fields[f"{prefix}.active"] = ("", active)
        fields[f"{prefix}.supported"] = ("", "0x00000000000001FF")
        fields[f"{prefix}.gpu_idle"] = ("", idle)
        for reason in (
            "applications_clocks_setting",
            "sw_power_cap",
            "hw_slowdown",
            "hw_thermal_slowdown",
            "hw_power_brake_slowdown",
            "sw_thermal_slowdown",
            "sync_boost",
        ):
            fields[f"{prefix}.{reason}"] = ("", "Not Active")
    return fields


def _format_value(unit: str, value: Any, units: bool) -> str:
    if value is None:
        return _NA
    return f"{value} {unit}" if unit and units else str(value)


def _csv(fields: list[str], rows: list[dict[str, tuple[str, Any]]], fmt: set[str]) -> tuple[str, int]:
    probe = rows[0] if rows else None
    known = set(probe) if probe else None
    for f in fields:
        if known is not None and f not in known:
            return f'Field "{f}" is not a valid field to query.\n\n', 2
    out = []
    if "noheader" not in fmt:
        header = []
        for f in fields:
            unit = probe[f][0] if probe else ""
            header.append(f"{f} [{unit}]" if unit else f)
        out.append(", ".join(header))
    units = "nounits" not in fmt
    for row in rows:
        out.append(", ".join(_format_value(*row[f], units) for f in fields))
    return "".join(line + "\n" for line in out), 0


_APP_FIELDS = (
    "timestamp",
    "gpu_name",
    "gpu_bus_id",
    "gpu_serial",
    "gpu_uuid",
    "pid",
    "process_name",
    "used_gpu_memory",
    "used_memory",
    "name",
)


def _compute_apps(info: NodeGpus, fields: list[str], fmt: set[str], now: float) -> tuple[str, int]:
    for f in fields:
        if f not in _APP_FIELDS:
            return f'Field "{f}" is not a valid field to query.\n\n', 2
    rows = []
    for g in info.gpus:
        base = _gpu_fields(g, info, now)
        for pid, pname, mib in g.processes:
            row = dict(base)
            row.update(
                {
                    "pid": ("", pid),
                    "process_name": ("", pname),
                    "name": ("", pname),
                    "used_gpu_memory": ("MiB", mib),
                    "used_memory": ("MiB", mib),
                }
            )
            rows.append(row)
    if not rows:
        header = [f"{f} [MiB]" if f.startswith("used_") else f for f in fields]
        return ("" if "noheader" in fmt else ", ".join(header) + "\n"), 0
    return _csv(fields, rows, fmt)


# -- nvidia-smi argument handling ----------------------------------------------

_INVALID_ARGS = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n"


def _select(info: NodeGpus, selector: str | None) -> list[Gpu] | None:
    if selector is None:
        return info.gpus
    chosen = []
    for part in selector.split(","):
        part = part.strip()
        for g in info.gpus:
            if part in (str(g.index), g.uuid, g.bus_id, g.bus_id[4:]):
                chosen.append(g)
                break
        else:
            return None
    return chosen


def nvidia_smi(info: NodeGpus, args: Sequence[str], now: float) -> tuple[str, int]:
    """Run `nvidia-smi ARGS` against the node's GPUs: (stdout, exit code)."""
    failure = _FAILURES.get(info.mode)
    if failure:
        return failure[0] + "\n", failure[1]
    if not info.gpus:
        return MSG_NO_DEVICES + "\n", 6
    query = xml = listing = False
    gpu_query = apps_query = None
    fmt: set[str] | None = None
    selector = None
    it = iter(args)
    for arg in it:
        name, eq, inline = arg.partition("=")
        if arg in ("-q", "--query"):
            query = True
        elif arg in ("-x", "--xml-format"):
            xml = True
        elif arg in ("-L", "--list-gpus"):
            listing = True
        elif arg in ("-d", "--display"):
            next(it, None)
        elif name in ("-d", "--display") and eq:
            pass
        elif name in ("-i", "--id"):
            selector = inline if eq else next(it, None)
        elif name == "--query-gpu":
            gpu_query = inline
        elif name == "--query-compute-apps":
            apps_query = inline
        elif name == "--format":
            fmt = {p.strip() for p in inline.split(",")}
        elif arg in ("-h", "--help"):
            return "NVIDIA System Management Interface -- v" + info.driver_version + "\n", 0
        else:
            return _INVALID_ARGS, 2
    gpus = _select(info, selector)
    if gpus is None:
        return f"No devices were found matching the given id: {selector}\n", 6
    view = NodeGpus(**{**info.__dict__, "gpus": gpus})
    if gpu_query is not None or apps_query is not None:
        if fmt is None or "csv" not in fmt:
            return _INVALID_ARGS, 2
        fields = [f.strip() for f in (gpu_query if gpu_query is not None else apps_query).split(",") if f.strip()]
        if not fields:
            return _INVALID_ARGS, 2
        if apps_query is not None:
            return _compute_apps(view, fields, fmt, now)
        return _csv(fields, [_gpu_fields(g, view, now) for g in gpus], fmt)
    if listing:
        return render_list(view), 0
    if xml and query:
        return render_xml(view, now), 0
    if query:
        return render_query(view, now), 0
    if xml:
        return _INVALID_ARGS, 2
    return render_table(view, now), 0


# -- the kernel log -------------------------------------------------------------


def kernel_log(info: NodeGpus, now: float, *, human_times: bool = False) -> str:
    """The NVIDIA lines of the node's kernel log: module load (or its failure) and Xids."""
    uptime = 1834.0
    if info.mode == "driver-not-loaded":
        lines = [
            (2.514731, "nvidia: module verification failed: signature and/or required key missing - tainting kernel"),
            (2.519204, "NVRM: The NVIDIA probe routine failed for 1 device(s)."),
            (2.519236, "NVRM: None of the NVIDIA devices were initialized."),
        ]
    else:
        lines = [
            (2.514731, "nvidia: loading out-of-tree module taints kernel."),
            (2.702388, "nvidia-nvlink: Nvlink Core is being initialized, major device number 239"),
            (
                3.041582,
                f"NVRM: loading NVIDIA UNIX x86_64 Kernel Module  {info.driver_version}  "
                "Release Build  (dvs-builder@U16-I3-B03-4-3)",
            ),
        ]
    if info.mode == "version-mismatch":
        # The user-space library was upgraded under a kernel module that is still loaded.
        lines += [
            (uptime - 12.5, f"NVRM: API mismatch: the client has the version {info.driver_version}, but"),
            (uptime - 12.5, "NVRM: this kernel module has the version 535.216.01.  Please"),
            (uptime - 12.5, "NVRM: make sure that this kernel module and all NVIDIA driver"),
            (uptime - 12.5, "NVRM: components have the same version."),
        ]
    target = info.gpus[0] if info.gpus else None
    pci = target.pci_short if target else "0000:00:1e"
    for n, code in enumerate(info.xids):
        text = _XID_TEXT.get(code, "Unknown Xid")
        # Xids raised while a process runs name it; bus and memory faults do not.
        app_error = code in (13, 31, 43, 45, 94, 119)
        pid_part = "pid=2314, name=python, " if app_error else "pid='<unknown>', name=<unknown>, "
        lines.append((uptime - 600 + 37.25 * n, f"NVRM: Xid (PCI:{pci}): {code}, {pid_part}{text}"))
    boot = now - uptime
    out = []
    for t, text in sorted(lines, key=lambda x: x[0]):
        if human_times:
            stamp = "[" + time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(boot + t)) + "]"
        else:
            stamp = f"[{t:12.6f}]"
        out.append(f"{stamp} {text}")
    return "\n".join(out) + "\n"


def _proc_version(info: NodeGpus) -> tuple[str, str, int]:
    if info.mode in ("driver-not-loaded", "not-found"):
        return "", "cat: /proc/driver/nvidia/version: No such file or directory\n", 1
    return (
        (
            f"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {info.driver_version}  Release Build  "
            f"(dvs-builder@U16-I3-B03-4-3)  Tue Oct  1 00:00:00 UTC 2024\n"
            f"GCC version:  gcc version 11.4.1 20230605 (Red Hat 11.4.1-2) (GCC) \n"
        ),
        "",
        0,
    )


# -- a tiny sh -----------------------------------------------------------------

Result = tuple[str, str, int]  # stdout, stderr, exit status


@dataclass
class _Env:
    info: NodeGpus
    now: float
    root: str = "/"  # "/" (the container), "host" or "driver"
    errexit: bool = False
    exited: int | None = None


def _unwrap(argv: list[str], env: _Env) -> tuple[list[str], Result | None, str, str]:
    """Strip chroot/timeout/nsenter/env/exec wrappers: (argv, early result, root, last wrapper)."""
    root, via = env.root, ""
    while argv:
        cmd = argv[0].rsplit("/", 1)[-1]
        if cmd == "chroot":
            rest = _after_options(argv)
            if not rest:
                return [], ("", "chroot: missing operand\n", 125), root, cmd
            target = rest[0].rstrip("/") or "/"
            if target == OPERATOR_DRIVER_ROOT and env.info.driver_root == "host":
                return (
                    [],
                    ("", f"chroot: cannot change root directory to '{rest[0]}': No such file or directory\n", 125),
                    root,
                    cmd,
                )
            root = "driver" if target == OPERATOR_DRIVER_ROOT else ("host" if target != "/" else root)
            argv, via = rest[1:] or ["sh"], cmd
        elif cmd == "timeout":
            args = argv[1:]
            while args and args[0].startswith("-"):
                args = args[2:] if args[0] in ("-s", "-k", "--signal", "--kill-after") else args[1:]
            argv = args[1:]  # past the duration
        elif cmd == "nsenter":
            argv = argv[argv.index("--") + 1 :] if "--" in argv else _after_options(argv)
            root, via = "host", cmd
        elif cmd in ("env", "exec", "command", "nice", "stdbuf", "sudo"):
            rest = _after_options(argv)
            while rest and "=" in rest[0]:
                rest = rest[1:]  # env's NAME=value assignments
            argv = rest
        else:
            break
    return argv, None, root, via


def _after_options(argv: list[str]) -> list[str]:
    """The wrapper's operands: everything after its leading options."""
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "--":
            return argv[i + 1 :]
        i += 1
    return argv[i:]


def _nvidia_smi_missing(env: _Env, root: str) -> bool:
    if env.info.mode == "not-found":
        return True
    return root == "host" and env.info.driver_root == "operator"


def _grep(argv: list[str], text: str) -> Result:
    flags, pattern = set(), None
    for a in argv[1:]:
        if a.startswith("-") and pattern is None and len(a) > 1:
            flags.update(a[1:])
        elif pattern is None:
            pattern = a
    if pattern is None:
        return "", "Usage: grep [OPTION]... PATTERNS [FILE]...\n", 2
    try:
        rx = re.compile(pattern if "E" in flags else _basic_to_python(pattern), re.I if "i" in flags else 0)
    except re.error:
        rx = re.compile(re.escape(pattern), re.I if "i" in flags else 0)
    lines = [l for l in text.splitlines() if bool(rx.search(l)) != ("v" in flags)]
    return "".join(l + "\n" for l in lines), "", 0 if lines else 1


def _basic_to_python(pattern: str) -> str:
    return pattern.replace(r"\|", "|").replace(r"\(", "(").replace(r"\)", ")")


def _head_tail(argv: list[str], text: str) -> Result:
    n = 10
    args = argv[1:]
    for i, a in enumerate(args):
        if a == "-n" and i + 1 < len(args):
            n = int(args[i + 1]) if args[i + 1].lstrip("-").isdigit() else n
        elif a.startswith("-n") and a[2:].isdigit():
            n = int(a[2:])
        elif a.startswith("-") and a[1:].isdigit():
            n = int(a[1:])
    lines = text.splitlines()
    chosen = lines[:n] if argv[0] == "head" else lines[-n:] if n else []
    return "".join(l + "\n" for l in chosen), "", 0


def _echo(argv: list[str]) -> Result:
    args = argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    elif args and args[0] == "-e":
        args = args[1:]
    text = " ".join(args).replace("\\n", "\n").replace("\\t", "\t")
    return text + ("\n" if newline else ""), "", 0


def _printf(argv: list[str]) -> Result:
    if len(argv) < 2:
        return "", "printf: usage: printf format [arguments]\n", 2
    fmt = argv[1].replace("\\n", "\n").replace("\\t", "\t")
    args = argv[2:]
    if "%s" in fmt and args:
        parts = []
        while args:
            count = fmt.count("%s")
            chunk, args = args[:count], args[count:]
            chunk += [""] * (count - len(chunk))
            parts.append(fmt.replace("%s", "{}").format(*chunk))
        return "".join(parts), "", 0
    return fmt.replace("%s", "").replace("%%", "%"), "", 0


def _simple(argv: list[str], stdin: str | None, env: _Env) -> Result:
    argv, early, root, via = _unwrap(list(argv), env)
    if early:
        return early
    if not argv:
        return "", "", 0
    cmd = argv[0].rsplit("/", 1)[-1]
    if cmd == "nvidia-smi":
        if _nvidia_smi_missing(env, root):
            if via == "chroot":
                return "", f"chroot: failed to run command '{argv[0]}': No such file or directory\n", 127
            if via == "nsenter":
                return "", f"nsenter: failed to execute {argv[0]}: No such file or directory\n", 127
            return "", f"sh: 1: {argv[0]}: not found\n", 127
        out, code = nvidia_smi(env.info, argv[1:], env.now)
        return out, "", code
    if cmd == "echo":
        return _echo(argv)
    if cmd == "printf":
        return _printf(argv)
    if cmd == "set":
        for a in argv[1:]:
            if a[:1] in "-+" and "e" in a:
                env.errexit = a[0] == "-"
        return "", "", 0
    if cmd in ("true", ":", "sleep", "sync"):
        return "", "", 0
    if cmd == "false":
        return "", "", 1
    if cmd == "exit":
        env.exited = int(argv[1]) % 256 if len(argv) > 1 and argv[1].isdigit() else 0
        return "", "", env.exited
    if cmd == "dmesg":
        return kernel_log(env.info, env.now, human_times=any(a in ("-T", "--ctime") for a in argv[1:])), "", 0
    if cmd == "journalctl":
        return kernel_log(env.info, env.now, human_times=True), "", 0
    if cmd == "uname":
        return (env.info.kernel if "-r" in argv else "Linux") + "\n", "", 0
    if cmd == "hostname":
        return env.info.node_name + "\n", "", 0
    if cmd == "grep":
        return _grep(argv, stdin or "")
    if cmd in ("head", "tail"):
        return _head_tail(argv, stdin or "")
    if cmd == "cat":
        files = [a for a in argv[1:] if not a.startswith("-")]
        if not files:
            return stdin or "", "", 0
        if files == ["/proc/driver/nvidia/version"]:
            return _proc_version(env.info)
        return "", f"cat: {files[0]}: No such file or directory\n", 1
    if cmd in _SHELLS and "-c" in argv:
        idx = argv.index("-c")
        sub = _Env(info=env.info, now=env.now, root=root)
        out, code = run_script(sub, argv[idx + 1] if idx + 1 < len(argv) else "")
        return out, "", code
    return "", f"sh: 1: {argv[0]}: not found\n", 127


_SHELLS = {"sh", "bash", "ash", "dash", "zsh"}
_SEPARATORS = {";", "&&", "||", "&"}
_REDIRECTS = {">", ">>", "<", ">&", "&>", "<&", "&>>", ">|"}


def _tokenize(line: str) -> list[str]:
    lex = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lex.whitespace_split = True
    lex.commenters = "#"
    return list(lex)


def _split_commands(tokens: list[str]) -> list[tuple[list[list[str]], str, bool]]:
    """tokens -> [(pipeline stages, operator that follows, stdout discarded)]."""
    out: list[tuple[list[list[str]], str, bool]] = []
    stages: list[list[str]] = [[]]
    discard = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _SEPARATORS:
            out.append((stages, tok, discard))
            stages, discard = [[]], False
        elif tok == "|":
            stages.append([])
        elif tok in _REDIRECTS:
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            fd = stages[-1].pop() if stages[-1] and stages[-1][-1] in ("1", "2") else "1"
            if target == "/dev/null" and tok in (">", ">>", ">|", "&>", "&>>") and (fd == "1" or tok[0] == "&"):
                discard = True
            i += 1
        elif tok not in ("{", "}"):
            stages[-1].append(tok)
        i += 1
    if any(stages):
        out.append((stages, ";", discard))
    return out


def _logical_lines(script: str) -> list[str]:
    """Join backslash continuations and lines that end in an operator, as sh reads them."""
    lines: list[str] = []
    pending = ""
    for raw in script.replace("\\\n", " ").splitlines():
        pending = f"{pending} {raw}" if pending else raw
        if pending.rstrip().endswith(("&&", "||", "|")):
            continue
        lines.append(pending)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def run_script(env: _Env, script: str) -> tuple[str, int]:
    """Run a shell script as described in the module docstring: (combined output, exit status)."""
    out: list[str] = []
    status = 0
    for line in _logical_lines(script):
        try:
            commands = _split_commands(_tokenize(line))
        except ValueError:
            out.append("sh: 1: Syntax error: Unterminated quoted string\n")
            return "".join(out), 2
        run_next, prev_op = True, ";"
        for stages, op, discard in commands:
            if run_next:
                piped: str | None = None
                for argv in (s for s in stages if s):
                    stdout, stderr, status = _simple(argv, piped, env)
                    out.append(stderr)
                    piped = stdout
                    if env.exited is not None:
                        break
                if piped and not discard:
                    out.append(piped)
                if env.exited is not None:
                    return "".join(out), env.exited
                if env.errexit and status != 0 and op not in ("&&", "||") and prev_op not in ("&&", "||"):
                    return "".join(out), status
            run_next = status == 0 if op == "&&" else status != 0 if op == "||" else True
            prev_op = op
    return "".join(out), status


# -- entry points ----------------------------------------------------------------


@dataclass(frozen=True)
class ContainerRun:
    log: str
    exit_code: int
    start_error: str | None = None  # set when the runtime could not start the process at all


def container_argv(container: Mapping[str, Any]) -> list[str]:
    return [str(a) for a in (container.get("command") or [])] + [str(a) for a in (container.get("args") or [])]


def mentions_nvidia_smi(argv: Sequence[str]) -> bool:
    return any("nvidia-smi" in a for a in argv)


def run_container(
    node: Mapping[str, Any], argv: Sequence[str], *, now: float | None = None, busy_gpus: int = 0
) -> ContainerRun:
    """Run a container's command+args on the node.

    A shell (`sh -c SCRIPT`) runs the script; anything else runs as one command. An
    nvidia-smi executable that does not exist is a start failure (exit 128 with the
    runtime's message), as containerd reports it."""
    now = time.time() if now is None else now
    env = _Env(info=describe(node, busy_gpus=busy_gpus), now=now)
    argv = list(argv)
    if not argv:
        return ContainerRun("", 0)
    first = argv[0].rsplit("/", 1)[-1]
    if first in _SHELLS and "-c" in argv[1:]:
        idx = argv.index("-c")
        log, code = run_script(env, argv[idx + 1] if idx + 1 < len(argv) else "")
        return ContainerRun(log, code)
    if first == "nvidia-smi" and _nvidia_smi_missing(env, env.root):
        return ContainerRun("", 128, start_error=start_failure_message(argv[0]))
    stdout, stderr, code = _simple(argv, None, env)
    return ContainerRun(stderr + stdout, code)


def start_failure_message(executable: str) -> str:
    return (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
        "runc create failed: unable to start container process: exec: "
        f'"{executable}": executable file not found in $PATH: unknown'
    )


def render(node: Mapping[str, Any], command: str, *, now: float | None = None, busy_gpus: int = 0) -> tuple[str, int]:
    """What running `command` (one command line or a whole script) on the node prints: (output, exit code)."""
    now = time.time() if now is None else now
    env = _Env(info=describe(node, busy_gpus=busy_gpus), now=now)
    return run_script(env, command)
