"""The nvidia-smi command on a simulated node: the default table, `-L`, the
`--query-gpu` / `--query-compute-apps` CSV and the argument handling around them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from gputui.sim.gpu_facts import FAILURES, MSG_NO_DEVICES, Gpu, NodeGpus, mig_mode
from gputui.sim.nvsmi_report import ctime, render_query, render_xml, reserved_mib

# -- the default table --------------------------------------------------------

_RULE = "+" + "-" * 89 + "+"
_GPU_RULE = "+" + "-" * 41 + "+" + "-" * 24 + "+" + "-" * 22 + "+"
_GPU_DOUBLE = "|" + "=" * 41 + "+" + "=" * 24 + "+" + "=" * 22 + "|"


def render_table(info: NodeGpus, now: float) -> str:
    lines = [
        ctime(now) + "       ",
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
        lines.append(f"|{'':41}|{'':24}|{mig_mode(g.model) or 'N/A':>21} |")
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


# -- --query-gpu / --query-compute-apps ---------------------------------------

_NA = "[N/A]"


def _gpu_fields(g: Gpu, info: NodeGpus, now: float) -> dict[str, tuple[str, Any]]:
    """field -> (unit or "", value); a value of None prints as [N/A]."""
    m = g.model
    remap = m.row_remapping
    reserved = reserved_mib(m)
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
        "mig.mode.current": ("", mig_mode(m)),
        "mig.mode.pending": ("", mig_mode(m)),
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
    failure = FAILURES.get(info.mode)
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
    requested = gpu_query if gpu_query is not None else apps_query
    if requested is not None:
        if fmt is None or "csv" not in fmt:
            return _INVALID_ARGS, 2
        fields = [f.strip() for f in requested.split(",") if f.strip()]
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
