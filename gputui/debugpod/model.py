"""What a debug pod learns about one node's GPUs, as plain data.

Every parser fills the same `GpuInfo`; values nvidia-smi prints as N/A (or a parser
cannot see) stay None, so a later source can fill them (`GpuInfo.merge`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Optional


@dataclass
class MigDevice:
    gpu_index: Optional[int] = None
    index: Optional[int] = None  # MIG device index on its GPU
    gpu_instance_id: Optional[int] = None
    compute_instance_id: Optional[int] = None
    profile: Optional[str] = None  # "3g.40gb" (from -L)
    uuid: Optional[str] = None
    memory_used_mib: Optional[int] = None
    memory_total_mib: Optional[int] = None
    sm_count: Optional[int] = None


@dataclass
class GpuProcess:
    pid: int
    name: str
    used_memory_mib: Optional[int] = None
    type: Optional[str] = None  # C, G, C+G
    gpu_index: Optional[int] = None
    gpu_uuid: Optional[str] = None
    gpu_instance_id: Optional[int] = None
    compute_instance_id: Optional[int] = None


@dataclass
class GpuInfo:
    index: Optional[int] = None
    name: Optional[str] = None
    uuid: Optional[str] = None
    bus_id: Optional[str] = None
    serial: Optional[str] = None
    pstate: Optional[str] = None
    memory_used_mib: Optional[int] = None
    memory_total_mib: Optional[int] = None
    utilization_pct: Optional[int] = None
    temperature_c: Optional[int] = None
    power_draw_w: Optional[float] = None
    power_limit_w: Optional[float] = None
    ecc_mode: Optional[str] = None
    ecc_volatile_uncorrected: Optional[int] = None
    ecc_aggregate_uncorrected: Optional[int] = None
    retired_sbe: Optional[int] = None
    retired_dbe: Optional[int] = None
    retired_pending: Optional[bool] = None
    remapped_correctable: Optional[int] = None
    remapped_uncorrectable: Optional[int] = None
    remapped_pending: Optional[bool] = None
    remapped_failure: Optional[bool] = None
    mig_mode: Optional[str] = None  # Enabled | Disabled | None (not MIG-capable)
    mig_devices: list[MigDevice] = field(default_factory=list)
    processes: list[GpuProcess] = field(default_factory=list)

    def key(self) -> str:
        """What identifies this GPU across nvidia-smi's outputs (bus id, else UUID, else index)."""
        if self.bus_id:
            return normalise_bus_id(self.bus_id)
        return self.uuid or f"index:{self.index}"

    def merge(self, other: "GpuInfo") -> None:
        """Fill what this one lacks from another reading of the same GPU."""
        for f in fields(self):
            mine = getattr(self, f.name)
            theirs = getattr(other, f.name)
            if f.name in ("mig_devices", "processes"):
                if not mine and theirs:
                    setattr(self, f.name, list(theirs))
            elif mine is None and theirs is not None:
                setattr(self, f.name, theirs)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def normalise_bus_id(bus_id: str) -> str:
    """`00000000:00:1E.0`, `0000:00:1e.0` and `00:1E.0` name the same device."""
    text = bus_id.strip().lower()
    parts = text.split(":")
    if len(parts) == 3:
        domain = parts[0][-4:].rjust(4, "0")
        return f"{domain}:{parts[1]}:{parts[2]}"
    if len(parts) == 2:
        return f"0000:{parts[0]}:{parts[1]}"
    return text


@dataclass
class XidEvent:
    code: int
    pci: str  # as the kernel names the device: 0000:9b:00
    text: str  # the rest of the line after the code
    pid: Optional[str] = None
    process: Optional[str] = None
    timestamp: Optional[str] = None  # as dmesg printed it ([  12.5] or [Sun Feb 23 ...])
    line: str = ""


@dataclass
class SmiFailure:
    """nvidia-smi (or the way to it) failed; `kind` is stable, the rest is for people."""

    kind: str  # driver-not-loaded | nvml-unknown-error | version-mismatch | no-devices | not-found |
    #            driver-root-missing | gpu-lost | invalid-field | unknown
    message: str  # the line nvidia-smi printed
    explanation: str
    hint: str
    library_version: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SmiReport:
    """Everything parsed from one debug pod's log."""

    driver_version: Optional[str] = None
    cuda_version: Optional[str] = None
    gpus: list[GpuInfo] = field(default_factory=list)
    failure: Optional[SmiFailure] = None
    xids: list[XidEvent] = field(default_factory=list)
    kernel_readable: Optional[bool] = None  # None: the kernel log section was not collected
    kernel_notes: list[str] = field(default_factory=list)  # NVRM lines worth showing (API mismatch, probe failed)
    sources: list[str] = field(default_factory=list)  # sections that parsed
    complete: bool = True  # False when the log stops before the end marker

    @property
    def ok(self) -> bool:
        return self.failure is None and bool(self.gpus)

    def to_json(self) -> dict[str, Any]:
        return {
            "driverVersion": self.driver_version,
            "cudaVersion": self.cuda_version,
            "gpus": [g.to_json() for g in self.gpus],
            "failure": self.failure.to_json() if self.failure else None,
            "xids": [asdict(x) for x in self.xids],
            "kernelReadable": self.kernel_readable,
            "kernelNotes": list(self.kernel_notes),
            "sources": list(self.sources),
            "complete": self.complete,
        }
