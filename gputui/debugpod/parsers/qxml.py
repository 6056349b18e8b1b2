"""`nvidia-smi -q -x` across DTD versions (v10 .. v13): element names moved between versions
(power_readings -> gpu_power_readings, power_draw -> average/instant_power_draw, ECC counters
split into parity/SEC-DED), so every value is looked up along its known paths."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gputui.debugpod.model import GpuInfo, GpuProcess, MigDevice
from gputui.debugpod.parsers.values import to_bool, to_float, to_int, to_text


class XmlReportError(ValueError):
    pass


def _text(el: ET.Element | None, *paths: str) -> str | None:
    if el is None:
        return None
    for path in paths:
        found = el.find(path)
        if found is not None and found.text is not None and to_text(found.text) is not None:
            return found.text.strip()
    return None


def _uncorrected(section: ET.Element | None) -> int | None:
    if section is None:
        return None
    total = section.find("double_bit/total")
    if total is not None:  # DTD <= v9
        return to_int(total.text)
    values = [to_int(c.text) for c in section if "uncorrectable" in c.tag and c.text]
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _mig(el: ET.Element, gpu_index: int) -> MigDevice:
    return MigDevice(
        gpu_index=gpu_index,
        index=to_int(_text(el, "index")),
        gpu_instance_id=to_int(_text(el, "gpu_instance_id")),
        compute_instance_id=to_int(_text(el, "compute_instance_id")),
        memory_used_mib=to_int(_text(el, "fb_memory_usage/used")),
        memory_total_mib=to_int(_text(el, "fb_memory_usage/total")),
        sm_count=to_int(_text(el, "device_attributes/shared/multiprocessor_count")),
    )


def _process(el: ET.Element, gpu_index: int) -> GpuProcess | None:
    pid = to_int(_text(el, "pid"))
    if pid is None:
        return None
    return GpuProcess(
        pid=pid,
        name=_text(el, "process_name") or "",
        type=_text(el, "type"),
        used_memory_mib=to_int(_text(el, "used_memory")),
        gpu_index=gpu_index,
        gpu_instance_id=to_int(_text(el, "gpu_instance_id")),
        compute_instance_id=to_int(_text(el, "compute_instance_id")),
    )


_SLOWDOWN_TAGS = {
    "hw_slowdown": "HW Slowdown",
    "hw_thermal_slowdown": "HW Thermal Slowdown",
    "hw_power_brake_slowdown": "HW Power Brake Slowdown",
    "sw_thermal_slowdown": "SW Thermal Slowdown",
}


def _slowdowns(el: ET.Element) -> list[str]:
    """Slowdown reasons marked Active, under <clocks_event_reasons> (v12+) or <clocks_throttle_reasons>."""
    out = []
    for section in ("clocks_event_reasons", "clocks_throttle_reasons"):
        for child in el.findall(section + "/*"):
            tag = child.tag.split("reason_", 1)[-1]
            if tag in _SLOWDOWN_TAGS and (child.text or "").strip().lower() == "active":
                out.append(_SLOWDOWN_TAGS[tag])
    return out


def _gpu(el: ET.Element, index: int) -> GpuInfo:
    ecc = el.find("ecc_errors")
    remap = el.find("remapped_rows")
    procs = [_process(p, index) for p in el.findall("processes/process_info")]
    return GpuInfo(
        index=index,
        name=_text(el, "product_name"),
        uuid=_text(el, "uuid"),
        bus_id=_text(el, "pci/pci_bus_id") or el.get("id"),
        serial=_text(el, "serial"),
        pstate=_text(el, "performance_state"),
        memory_used_mib=to_int(_text(el, "fb_memory_usage/used")),
        memory_total_mib=to_int(_text(el, "fb_memory_usage/total")),
        utilization_pct=to_int(_text(el, "utilization/gpu_util")),
        temperature_c=to_int(_text(el, "temperature/gpu_temp")),
        power_draw_w=to_float(
            _text(
                el,
                "gpu_power_readings/power_draw",
                "gpu_power_readings/average_power_draw",
                "gpu_power_readings/instant_power_draw",
                "power_readings/power_draw",
            )
        ),
        power_limit_w=to_float(
            _text(
                el,
                "gpu_power_readings/current_power_limit",
                "gpu_power_readings/enforced_power_limit",
                "power_readings/power_limit",
                "power_readings/enforced_power_limit",
            )
        ),
        ecc_mode=_text(el, "ecc_mode/current_ecc"),
        ecc_volatile_uncorrected=_uncorrected(ecc.find("volatile")) if ecc is not None else None,
        ecc_aggregate_uncorrected=_uncorrected(ecc.find("aggregate")) if ecc is not None else None,
        retired_sbe=to_int(_text(el, "retired_pages/multiple_single_bit_retirement/retired_count")),
        retired_dbe=to_int(_text(el, "retired_pages/double_bit_retirement/retired_count")),
        retired_pending=to_bool(_text(el, "retired_pages/pending_retirement", "retired_pages/pending_blacklist")),
        remapped_correctable=to_int(_text(remap, "remapped_row_corr")),
        remapped_uncorrectable=to_int(_text(remap, "remapped_row_unc")),
        remapped_pending=to_bool(_text(remap, "remapped_row_pending")),
        remapped_failure=to_bool(_text(remap, "remapped_row_failure")),
        mig_mode=_text(el, "mig_mode/current_mig"),
        mig_devices=[_mig(m, index) for m in el.findall("mig_devices/mig_device")],
        processes=[p for p in procs if p is not None],
        slowdowns=_slowdowns(el),
    )


def parse_query_xml(text: str) -> tuple[list[GpuInfo], str | None, str | None, int | None]:
    """(GPUs, driver version, CUDA version, attached_gpus as reported) from `nvidia-smi -q -x`."""
    start = text.find("<?xml")
    if start < 0:
        start = text.find("<nvidia_smi_log")
    end = text.rfind("</nvidia_smi_log>")
    if start < 0 or end < 0:
        raise XmlReportError("no complete <nvidia_smi_log> document")
    try:
        root = ET.fromstring(text[start : end + len("</nvidia_smi_log>")])
    except ET.ParseError as e:
        raise XmlReportError(f"nvidia-smi XML does not parse: {e}") from None
    gpus = [_gpu(g, i) for i, g in enumerate(root.findall("gpu"))]
    return gpus, _text(root, "driver_version"), _text(root, "cuda_version"), to_int(_text(root, "attached_gpus"))
