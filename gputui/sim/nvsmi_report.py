"""`nvidia-smi -q` and `nvidia-smi -q -x`: one tree of entries rendered as the text report
or as XML (nvidia_smi_log, DTD v12 element names).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gputui.sim.gpu_facts import Gpu, GpuModel, NodeGpus, mig_mode


def ctime(now: float) -> str:
    return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(now))


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
            [("Current", "current_mig", mig_mode(m) or "N/A"), ("Pending", "pending_mig", mig_mode(m) or "N/A")],
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
                ("Reserved", "reserved", f"{reserved_mib(m)} MiB"),
                ("Used", "used", f"{g.memory_used} MiB"),
                ("Free", "free", f"{m.memory_mib - reserved_mib(m) - g.memory_used} MiB"),
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


def reserved_mib(m: GpuModel) -> int:
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
        f"{'Timestamp':<55}: {ctime(now)}",
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
        f"\t<timestamp>{ctime(now)}</timestamp>",
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
