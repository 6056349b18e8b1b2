"""What a debug pod learns about one node's GPUs, as plain data.

Every parser fills the same `GpuInfo`; values nvidia-smi prints as N/A (or a parser
cannot see) stay None, so a later source can fill them (`GpuInfo.merge`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class MigDevice:
    gpu_index: int | None = None
    index: int | None = None  # MIG device index on its GPU
    gpu_instance_id: int | None = None
    compute_instance_id: int | None = None
    profile: str | None = None  # "3g.40gb" (from -L)
    uuid: str | None = None
    memory_used_mib: int | None = None
    memory_total_mib: int | None = None
    sm_count: int | None = None


@dataclass
class GpuProcess:
    pid: int
    name: str
    used_memory_mib: int | None = None
    type: str | None = None  # C, G, C+G
    gpu_index: int | None = None
    gpu_uuid: str | None = None
    gpu_instance_id: int | None = None
    compute_instance_id: int | None = None


@dataclass
class GpuInfo:
    index: int | None = None
    name: str | None = None
    uuid: str | None = None
    bus_id: str | None = None
    serial: str | None = None
    pstate: str | None = None
    memory_used_mib: int | None = None
    memory_total_mib: int | None = None
    utilization_pct: int | None = None
    temperature_c: int | None = None
    power_draw_w: float | None = None
    power_limit_w: float | None = None
    ecc_mode: str | None = None
    ecc_volatile_uncorrected: int | None = None
    ecc_aggregate_uncorrected: int | None = None
    retired_sbe: int | None = None
    retired_dbe: int | None = None
    retired_pending: bool | None = None
    remapped_correctable: int | None = None
    remapped_uncorrectable: int | None = None
    remapped_pending: bool | None = None
    remapped_failure: bool | None = None
    mig_mode: str | None = None  # Enabled | Disabled | None (not MIG-capable)
    mig_devices: list[MigDevice] = field(default_factory=list)
    processes: list[GpuProcess] = field(default_factory=list)
    # clock slowdowns the hardware reports Active ("HW Power Brake Slowdown"), and columns nvidia-smi
    # could not read (ERR! in the table: "fan", "power draw")
    slowdowns: list[str] = field(default_factory=list)
    sensor_errors: list[str] = field(default_factory=list)

    def key(self) -> str:
        """What identifies this GPU across nvidia-smi's outputs (bus id, else UUID, else index)."""
        if self.bus_id:
            return normalise_bus_id(self.bus_id)
        return self.uuid or f"index:{self.index}"

    def merge(self, other: GpuInfo) -> None:
        """Fill what this one lacks from another reading of the same GPU."""
        for f in fields(self):
            mine = getattr(self, f.name)
            theirs = getattr(other, f.name)
            if isinstance(mine, list):
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
    pid: str | None = None
    process: str | None = None
    timestamp: str | None = None  # as dmesg printed it ([  12.5] or [Sun Feb 23 ...])
    line: str = ""


@dataclass
class SmiFailure:
    """nvidia-smi (or the way to it) failed; `kind` is stable, the rest is for people."""

    kind: str  # driver-not-loaded | nvml-unknown-error | version-mismatch | no-devices | not-found |
    #            driver-root-missing | gpu-lost | device-handle-error | nvml-no-permission |
    #            gpu-access-blocked | nvml-library-missing | invalid-field | unknown
    message: str  # the line nvidia-smi printed
    explanation: str
    hint: str
    library_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SmiReport:
    """Everything parsed from one debug pod's log."""

    driver_version: str | None = None
    cuda_version: str | None = None
    gpus: list[GpuInfo] = field(default_factory=list)
    failure: SmiFailure | None = None
    xids: list[XidEvent] = field(default_factory=list)
    kernel_readable: bool | None = None  # None: the kernel log section was not collected
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
