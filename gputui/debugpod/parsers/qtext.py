"""`nvidia-smi -q`: an indented `Label : value` report, read into a tree first."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gputui.debugpod.model import GpuInfo, GpuProcess, MigDevice
from gputui.debugpod.parsers.values import to_bool, to_float, to_int, to_text

# Labels are padded before the colon ("Bus Id      : 00000000:00:09.0"); a label alone opens a section
# ("GPU 00000000:00:09.0", whose own colons are not separators).
_ENTRY = re.compile(r"^(\s*)(\S.*?)\s+:(?:\s?(.*))?$")
_SECTION = re.compile(r"^(\s*)(\S.*?)\s*$")


@dataclass
class Node:
    label: str
    value: str | None = None
    children: list[Node] = field(default_factory=list)

    def get(self, *path: str) -> Node | None:
        node: Node | None = self
        for label in path:
            node = next((c for c in node.children if c.label.lower() == label.lower()), None) if node else None
        return node

    def value_of(self, *path: str) -> str | None:
        node = self.get(*path)
        return node.value if node is not None else None

    def all(self, label: str) -> list[Node]:
        return [c for c in self.children if c.label.lower() == label.lower()]


def parse_tree(text: str) -> Node:
    root = Node("root")
    stack: list[tuple[int, Node]] = [(-1, root)]
    for raw in text.splitlines():
        if not raw.strip() or raw.strip().startswith("====="):
            continue
        m = _ENTRY.match(raw.rstrip())
        if m:
            node = Node(m.group(2).strip(), (m.group(3) or "").strip())
        else:
            m = _SECTION.match(raw.rstrip())
            if m is None:
                continue
            node = Node(m.group(2).strip())
        indent = len(m.group(1).expandtabs(4))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack[-1][1].children.append(node)
        stack.append((indent, node))
    return root


def _uncorrected(section: Node | None) -> int | None:
    """Sum of the uncorrectable counters (DRAM + SRAM, whatever split this driver prints)."""
    if section is None:
        return None
    dbe = section.get("Double Bit")
    if dbe is not None:  # pre-R470 layout: Single Bit / Double Bit with Total
        return to_int(dbe.value_of("Total"))
    values = [to_int(c.value) for c in section.children if "uncorrectable" in c.label.lower() and c.value is not None]
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _processes(node: Node | None, gpu_index: int | None) -> list[GpuProcess]:
    if node is None:
        return []
    out: list[GpuProcess] = []
    gi = ci = None
    for c in node.children:
        label = c.label.lower()
        if label == "gpu instance id":
            gi = to_int(c.value)
        elif label == "compute instance id":
            ci = to_int(c.value)
        elif label == "process id":
            pid = to_int(c.value)
            if pid is None:
                continue
            out.append(
                GpuProcess(
                    pid=pid,
                    name=c.value_of("Name") or "",
                    type=to_text(c.value_of("Type")),
                    used_memory_mib=to_int(c.value_of("Used GPU Memory")),
                    gpu_index=gpu_index,
                    gpu_instance_id=gi,
                    compute_instance_id=ci,
                )
            )
    return out


def _mig(node: Node, gpu_index: int | None) -> MigDevice:
    mem = node.get("Shared FB Memory Usage") or node.get("FB Memory Usage")
    return MigDevice(
        gpu_index=gpu_index,
        index=to_int(node.value_of("Index")),
        gpu_instance_id=to_int(node.value_of("GPU Instance ID")),
        compute_instance_id=to_int(node.value_of("Compute Instance ID")),
        memory_used_mib=to_int(mem.value_of("Used")) if mem else None,
        memory_total_mib=to_int(mem.value_of("Total")) if mem else None,
        sm_count=to_int(node.value_of("Device Attributes", "Shared", "Multiprocessor count")),
    )


SLOWDOWNS = ("HW Slowdown", "HW Thermal Slowdown", "HW Power Brake Slowdown", "SW Thermal Slowdown")


def _slowdowns(node: Node | None) -> list[str]:
    """The hardware/thermal slowdown reasons marked Active (nested: HW Thermal under HW Slowdown)."""
    if node is None:
        return []
    out: list[str] = []
    wanted = {s.lower(): s for s in SLOWDOWNS}
    stack = list(node.children)
    while stack:
        c = stack.pop(0)
        name = wanted.get(c.label.lower())
        if name and (c.value or "").strip().lower() == "active":
            out.append(name)
        stack.extend(c.children)
    return out


def _gpu(node: Node, index: int) -> GpuInfo:
    bus = node.label.split(None, 1)[1] if " " in node.label else None
    power = node.get("GPU Power Readings") or node.get("Power Readings")
    draw = limit = None
    if power is not None:
        draw = (
            to_float(power.value_of("Power Draw"))
            or to_float(power.value_of("Average Power Draw"))
            or to_float(power.value_of("Instantaneous Power Draw"))
        )
        limit = (
            to_float(power.value_of("Current Power Limit"))
            or to_float(power.value_of("Power Limit"))
            or to_float(power.value_of("Enforced Power Limit"))
        )
    retired = node.get("Retired Pages")
    remap = node.get("Remapped Rows")
    ecc = node.get("ECC Errors")
    return GpuInfo(
        index=index,
        name=to_text(node.value_of("Product Name")),
        uuid=to_text(node.value_of("GPU UUID")),
        bus_id=to_text(node.value_of("PCI", "Bus Id")) or bus,
        serial=to_text(node.value_of("Serial Number")),
        pstate=to_text(node.value_of("Performance State")),
        memory_used_mib=to_int(node.value_of("FB Memory Usage", "Used")),
        memory_total_mib=to_int(node.value_of("FB Memory Usage", "Total")),
        utilization_pct=to_int(node.value_of("Utilization", "GPU")),
        temperature_c=to_int(node.value_of("Temperature", "GPU Current Temp")),
        power_draw_w=draw,
        power_limit_w=limit,
        ecc_mode=to_text(node.value_of("ECC Mode", "Current")),
        ecc_volatile_uncorrected=_uncorrected(ecc.get("Volatile")) if ecc else None,
        ecc_aggregate_uncorrected=_uncorrected(ecc.get("Aggregate")) if ecc else None,
        retired_sbe=to_int(retired.value_of("Single Bit ECC")) if retired else None,
        retired_dbe=to_int(retired.value_of("Double Bit ECC")) if retired else None,
        retired_pending=to_bool(retired.value_of("Pending Page Blacklist") or retired.value_of("Pending"))
        if retired
        else None,
        remapped_correctable=to_int(remap.value_of("Correctable Error")) if remap else None,
        remapped_uncorrectable=to_int(remap.value_of("Uncorrectable Error")) if remap else None,
        remapped_pending=to_bool(remap.value_of("Pending")) if remap else None,
        remapped_failure=to_bool(remap.value_of("Remapping Failure Occurred")) if remap else None,
        mig_mode=to_text(node.value_of("MIG Mode", "Current")),
        mig_devices=[_mig(m, index) for m in node.all("MIG Device")],
        processes=_processes(node.get("Processes"), index),
        slowdowns=_slowdowns(node.get("Clocks Event Reasons") or node.get("Clocks Throttle Reasons")),
    )


def parse_query_text(text: str) -> tuple[list[GpuInfo], str | None, str | None]:
    """(GPUs, driver version, CUDA version) from `nvidia-smi -q`."""
    root = parse_tree(text)
    # nvidia-smi lists GPUs in index order (PCI bus order); the minor number can differ from the index.
    sections = [n for n in root.children if n.label.startswith("GPU ") and n.children]
    gpus = [_gpu(n, i) for i, n in enumerate(sections)]
    return gpus, to_text(root.value_of("Driver Version")), to_text(root.value_of("CUDA Version"))
