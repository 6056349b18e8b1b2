"""The default `nvidia-smi` table (both the R535+ layout and the older, narrower one) and `nvidia-smi -L`."""

from __future__ import annotations

import re

from gputui.debugpod.model import GpuInfo, GpuProcess, MigDevice
from gputui.debugpod.parsers.values import to_float, to_int, to_text

_HEADER = re.compile(r"NVIDIA-SMI\s+(\S+)\s+Driver Version:\s+(\S+)\s+CUDA Version:\s+(\S+)")
_BUS = r"[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f]"
# |   0  NVIDIA H100 80GB HBM3          On  |   00000000:00:09.0 Off |                    0 |
_GPU_ROW1 = re.compile(r"^\|\s*(\d+)\s+(.+?)\s+(On|Off|N/A)\s*\|\s*(" + _BUS + r")\s+(\S+)\s*\|\s*(.*?)\s*\|$")
# | N/A   52C    P0            432W /  700W |   11125MiB /  81559MiB |     N/A      Default |
_GPU_ROW2 = re.compile(
    r"^\|\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*/\s*(\S+)\s*\|\s*(\d+)MiB\s*/\s*(\d+)MiB\s*\|"
    r"\s*(\S+)\s+(.*?)\s*\|$"
)
_ROW2_COLUMNS = ("fan", "temperature", "performance state", "power draw", "power cap")
_GPU_ROW3 = re.compile(r"^\|\s*\|\s*\|\s*(\S+)\s*\|$")
# |  0    2   0   0  |           11091MiB / 40448MiB    | 60      0 |  3   0    3    0    3 |
_MIG_ROW = re.compile(r"^\|\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\|\s*(\d+)MiB\s*/\s*(\d+)MiB\s*\|\s*(\d+)\s+(\S+)\s*\|")
# |    0   N/A  N/A           11327      C   /root/tools/memhog                     2566MiB |
_PROC_ROW = re.compile(r"^\|\s*(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(C\+G|C|G|M|M\+C)\s+(.+?)\s+(\d+|N/A)(?:MiB)?\s*\|$")

_LIST_GPU = re.compile(r"^GPU (\d+): (.+?) \(UUID: (\S+)\)")
_LIST_MIG = re.compile(r"^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (\S+)\)")


def parse_table(text: str) -> tuple[list[GpuInfo], str | None, str | None]:
    """(GPUs with MIG devices and processes, driver version, CUDA version)."""
    driver = cuda = None
    gpus: list[GpuInfo] = []
    by_index: dict[int, GpuInfo] = {}
    section = "gpus"
    current: GpuInfo | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        m = _HEADER.search(line)
        if m:
            driver, cuda = m.group(2), m.group(3)
            continue
        if "MIG devices:" in line:
            section = "mig"
            continue
        if "Processes:" in line:
            section = "processes"
            continue
        if section == "gpus":
            m = _GPU_ROW1.match(line)
            if m:
                current = GpuInfo(
                    index=int(m.group(1)),
                    name=m.group(2).strip(),
                    bus_id=m.group(4),
                    ecc_volatile_uncorrected=to_int(m.group(6)),
                )
                gpus.append(current)
                by_index[int(m.group(1))] = current
                continue
            m = _GPU_ROW2.match(line)
            if m and current is not None:
                for name, value in zip(_ROW2_COLUMNS, m.groups()[:5], strict=True):
                    if value.upper() == "ERR!":
                        current.sensor_errors.append(name)
                current.temperature_c = to_int(m.group(2))
                current.pstate = to_text(m.group(3))
                current.power_draw_w = to_float(m.group(4))
                current.power_limit_w = to_float(m.group(5))
                current.memory_used_mib = int(m.group(6))
                current.memory_total_mib = int(m.group(7))
                current.utilization_pct = to_int(m.group(8))
                continue
            m = _GPU_ROW3.match(line)
            if m and current is not None and current.mig_mode is None:
                current.mig_mode = to_text(m.group(1))
        elif section == "mig":
            m = _MIG_ROW.match(line)
            if m:
                gpu = by_index.get(int(m.group(1)))
                if gpu is not None:
                    gpu.mig_devices.append(
                        MigDevice(
                            gpu_index=gpu.index,
                            index=int(m.group(4)),
                            gpu_instance_id=int(m.group(2)),
                            compute_instance_id=int(m.group(3)),
                            memory_used_mib=int(m.group(5)),
                            memory_total_mib=int(m.group(6)),
                            sm_count=int(m.group(7)),
                        )
                    )
        else:
            m = _PROC_ROW.match(line)
            if m:
                gpu = by_index.get(int(m.group(1)))
                proc = GpuProcess(
                    pid=int(m.group(4)),
                    name=m.group(6).strip(),
                    type=m.group(5),
                    used_memory_mib=to_int(m.group(7)),
                    gpu_index=int(m.group(1)),
                    gpu_instance_id=to_int(m.group(2)),
                    compute_instance_id=to_int(m.group(3)),
                )
                if gpu is not None:
                    gpu.processes.append(proc)
    return gpus, driver, cuda


def parse_list(text: str) -> list[GpuInfo]:
    """`nvidia-smi -L`: GPUs with their UUIDs and MIG devices with profile names."""
    gpus: list[GpuInfo] = []
    for line in text.splitlines():
        m = _LIST_GPU.match(line)
        if m:
            gpus.append(GpuInfo(index=int(m.group(1)), name=m.group(2), uuid=m.group(3)))
            continue
        m = _LIST_MIG.match(line)
        if m and gpus:
            gpus[-1].mig_devices.append(
                MigDevice(gpu_index=gpus[-1].index, index=int(m.group(2)), profile=m.group(1), uuid=m.group(3))
            )
    return gpus
