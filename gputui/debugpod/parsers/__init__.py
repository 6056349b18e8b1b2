"""Parsers for what nvidia-smi and the kernel print, and for a whole debug-pod log.

A debug pod's log is a sequence of sections, each opened by a marker line
`=== gputui:NAME ===`; a command that exits non-zero is followed by
`=== gputui:failed NAME ===`. `parse_debug_log` reads every section and merges what
they say about each GPU (the CSV query first, then the XML/-q report, then -L).
"""

from __future__ import annotations

import re

from gputui.debugpod.model import GpuInfo, SmiFailure, SmiReport, normalise_bus_id
from gputui.debugpod.parsers.csvquery import QUERY_FIELDS, parse_compute_apps, parse_query_gpu  # noqa: F401
from gputui.debugpod.parsers.failures import recognise
from gputui.debugpod.parsers.kernel import driver_notes, parse_xids, readable
from gputui.debugpod.parsers.qtext import parse_query_text
from gputui.debugpod.parsers.qxml import XmlReportError, parse_query_xml
from gputui.debugpod.parsers.table import parse_list, parse_table

MARKER = "=== gputui:{} ==="
_MARKER = re.compile(r"^=== gputui:(?P<failed>failed )?(?P<name>[a-z0-9-]+)(?: \S+)? ===\s*$")

SMI_SECTIONS = ("query-gpu", "query-xml", "query-text", "table", "list")


def split_sections(log: str) -> tuple[dict[str, str], set[str]]:
    """(section name -> text, names of sections whose command failed)."""
    sections: dict[str, list[str]] = {}
    failed: set[str] = set()
    current: str | None = None
    for line in log.splitlines():
        m = _MARKER.match(line.strip())
        if m:
            if m.group("failed"):
                failed.add(m.group("name"))
            else:
                current = m.group("name")
                sections.setdefault(current, [])
            continue
        if current is not None:
            sections[current].append(line)
    return {k: "\n".join(v) + ("\n" if v else "") for k, v in sections.items()}, failed


def _bare_kind(text: str) -> str:
    """Which section a bare nvidia-smi output (pasted, or from another tool) would have been."""
    if "<nvidia_smi_log" in text:
        return "query-xml"
    if "NVSMI LOG" in text or "Attached GPUs" in text:
        return "query-text"
    if "NVIDIA-SMI" in text or "|===" in text:
        return "table"
    if re.search(r"^GPU \d+: .+\(UUID: ", text, re.M):
        return "list"
    return "table"


def _merge(into: list[GpuInfo], more: list[GpuInfo]) -> list[GpuInfo]:
    if not into:
        return list(more)
    by_key = {g.key(): g for g in into}
    by_uuid = {g.uuid: g for g in into if g.uuid}
    by_index = {g.index: g for g in into if g.index is not None}
    for g in more:
        target = by_key.get(g.key()) or (by_uuid.get(g.uuid) if g.uuid else None)
        if target is None and not g.bus_id and not g.uuid and g.index is not None:
            target = by_index.get(g.index)
        if target is None and g.uuid and not g.bus_id and g.index is not None:
            target = by_index.get(g.index)  # -L has no bus id: the index ties it to the CSV row
        if target is None:
            into.append(g)
            continue
        _merge_mig(target, g)
        target.merge(g)
    return into


def _merge_mig(target: GpuInfo, other: GpuInfo) -> None:
    """Profiles and UUIDs come from -L, memory and instance ids from the table or XML: join by device index."""
    if not target.mig_devices or not other.mig_devices:
        return
    theirs = {m.index: m for m in other.mig_devices}
    for m in target.mig_devices:
        o = theirs.get(m.index)
        if o is None:
            continue
        for name in (
            "profile",
            "uuid",
            "gpu_instance_id",
            "compute_instance_id",
            "memory_used_mib",
            "memory_total_mib",
            "sm_count",
        ):
            if getattr(m, name) is None and getattr(o, name) is not None:
                setattr(m, name, getattr(o, name))


def parse_debug_log(log: str) -> SmiReport:
    sections, failed = split_sections(log)
    report = SmiReport()
    if not sections:
        # Not our script's output (or the container never ran it): read it as one nvidia-smi output.
        report.failure = recognise(log)
        if report.failure is None and log.strip():
            sections = {_bare_kind(log): log}
        report.complete = False
    else:
        report.complete = "end" in sections
    failures: list[SmiFailure] = []
    gpus: list[GpuInfo] = []
    for name in ("query-gpu", "query-xml", "query-text", "table", "list"):
        text = sections.get(name)
        if text is None:
            continue
        failure = recognise(text)
        if failure is not None:
            failures.append(failure)
            continue
        found: list[GpuInfo] = []
        try:
            if name == "query-gpu":
                found, driver = parse_query_gpu(text)
                report.driver_version = report.driver_version or driver
            elif name == "query-xml":
                found, driver, cuda, _attached = parse_query_xml(text)
                report.driver_version = report.driver_version or driver
                report.cuda_version = report.cuda_version or cuda
            elif name == "query-text":
                found, driver, cuda = parse_query_text(text)
                report.driver_version = report.driver_version or driver
                report.cuda_version = report.cuda_version or cuda
            elif name == "table":
                found, driver, cuda = parse_table(text)
                report.driver_version = report.driver_version or driver
                report.cuda_version = report.cuda_version or cuda
            else:
                found = parse_list(text)
        except XmlReportError:
            continue
        if found:
            report.sources.append(name)
            gpus = _merge(gpus, found)
    real = [f for f in failures if f.kind != "invalid-field"]
    if not gpus and (real or failures):
        report.failure = (real or failures)[0]
    elif not gpus and any(n in sections for n in SMI_SECTIONS) and report.failure is None:
        text = "".join(sections.get(n, "") for n in SMI_SECTIONS).strip()
        if "No devices were found" in text or not text:
            report.failure = recognise("No devices were found") if text else None
    gpus.sort(key=lambda g: (g.index if g.index is not None else 1 << 20, normalise_bus_id(g.bus_id or "")))
    report.gpus = gpus
    kernel = sections.get("kernel")
    if kernel is not None:
        report.kernel_readable = readable(kernel) and "kernel" not in failed or bool(parse_xids(kernel))
        report.xids = parse_xids(kernel)
        report.kernel_notes = driver_notes(kernel)
    return report
