"""Plain-text views of debug results: the per-GPU table, one block per node, and findings."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from checks.debug import driver_next_step
from gputui.debugpod.model import GpuInfo

COLUMNS = (
    "GPU",
    "MODEL",
    "UUID",
    "BUS ID",
    "MEMORY",
    "UTIL",
    "TEMP",
    "POWER",
    "ECC UNC vol/agg",
    "RETIRED/REMAPPED",
    "MIG",
)


def _n(value: object | None, unit: str = "") -> str:
    return "-" if value is None else f"{value}{unit}"


def _power(g: GpuInfo) -> str:
    if g.power_draw_w is None:
        return "-"
    draw = f"{g.power_draw_w:.0f}"
    return f"{draw}/{g.power_limit_w:.0f} W" if g.power_limit_w is not None else f"{draw} W"


def _memory(g: GpuInfo) -> str:
    if g.memory_total_mib is None:
        return "-"
    return f"{_n(g.memory_used_mib)}/{g.memory_total_mib} MiB"


def _pages(g: GpuInfo) -> str:
    if g.remapped_uncorrectable is not None or g.remapped_correctable is not None:
        text = f"remap {_n(g.remapped_correctable)}/{_n(g.remapped_uncorrectable)}"
        if g.remapped_failure:
            return text + " FAILED"
        return text + (" pending" if g.remapped_pending else "")
    if g.retired_sbe is not None or g.retired_dbe is not None:
        return f"retired {_n(g.retired_sbe)}/{_n(g.retired_dbe)}" + (" pending" if g.retired_pending else "")
    return "-"


def _mig(g: GpuInfo) -> str:
    if g.mig_mode is None:
        return "-"
    if g.mig_mode != "Enabled":
        return g.mig_mode.lower()
    profiles = [m.profile or f"gi{m.gpu_instance_id}" for m in g.mig_devices]
    return f"on: {', '.join(profiles)}" if profiles else "on"


def short_uuid(uuid: str | None) -> str:
    return "-" if not uuid else (uuid[:12] + "…" if len(uuid) > 13 else uuid)


def gpu_row(g: GpuInfo) -> tuple[str, ...]:
    return (
        _n(g.index),
        g.name or "-",
        short_uuid(g.uuid),
        g.bus_id or "-",
        _memory(g),
        _n(g.utilization_pct, "%"),
        _n(g.temperature_c, "C"),
        _power(g),
        f"{_n(g.ecc_volatile_uncorrected)}/{_n(g.ecc_aggregate_uncorrected)}",
        _pages(g),
        _mig(g),
    )


def table(rows: list[tuple[str, ...]], header: Iterable[str] = COLUMNS, indent: str = "  ") -> list[str]:
    head = tuple(header)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    return [indent + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]


WIDTH = 80


def _fill(text: str, indent: str, hang: str = "    ") -> list[str]:
    """One logical line wrapped to 80 columns between words (names and commands stay whole)."""
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + hang,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


def _rank(obs) -> tuple[int, str, str]:
    """(rank, status, what): a node whose pod or nvidia-smi failed first, then errors, warnings, fine."""
    if obs.pod_problem is not None:
        return 0, "NO RUN", f"debug pod: {obs.pod_problem.kind}"
    report = obs.report
    worst = max(obs.findings, key=lambda f: f.severity, default=None)
    if report is not None and report.failure is not None:
        return 0, "FAILED", f"nvidia-smi: {report.failure.kind}"
    seen = len(report.gpus) if report is not None else 0
    gpus = f"{seen}/{obs.expected_gpus if obs.expected_gpus else '?'} GPUs seen"
    if worst is not None and worst.severity.label != "info":
        rank = 1 if worst.severity.label == "error" else 2
        return rank, worst.severity.label.upper()[:5], f"{gpus}; {worst.code} {worst.title}"
    return 3, "ok", gpus


def worst_first(observations) -> list:
    """Nodes in the order a reader wants them: failed, errors, warnings, fine; by name within."""
    return sorted(observations, key=lambda o: (_rank(o)[0], o.node))


def summary_block(observations, total: int | None = None) -> list[str]:
    """What a fleet run found, one line per node, failures first: read before the detail."""
    ranked = sorted(((_rank(o), o.node) for o in observations), key=lambda x: (x[0][0], x[1]))
    failed = sum(r[0] == 0 for r, _ in ranked)
    flagged = sum(r[0] in (1, 2) for r, _ in ranked)
    head = f"nvidia-smi on {len(ranked)} node(s): {failed} failed, {flagged} with problems, {len(ranked) - failed - flagged} fine"
    out = _fill(head, "")
    if total is not None and total > len(ranked):
        out += _fill(
            f"interrupted: {len(ranked)} of {total} node(s) finished; the others were stopped and are not shown",
            "",
        )
    for (_, status, what), node in ranked:
        out += _fill(f"{status:<6} {node}  {what}", "  ", hang=" " * 7)
    return out


def node_block(obs) -> list[str]:
    """Text for one NodeObservation."""
    lines = [f"{obs.node}  (mode {obs.mode}: {obs.mode_reason})"]
    if obs.pod_problem is not None:
        lines += _fill(f"debug pod failed: {obs.pod_problem.kind}: {obs.pod_problem.message}", "  ")
        if obs.pod_problem.hint:
            lines += _fill(f"hint: {obs.pod_problem.hint}", "  ")
    report = obs.report
    if report is not None and report.failure is not None:
        lines += _fill(f"nvidia-smi: {report.failure.message}", "  ")
        lines += _fill(f"meaning: {report.failure.explanation}", "  ")
        lines += _fill(f"next step: {driver_next_step(report.failure, getattr(obs, 'driver_pod', None))}", "  ")
    elif report is not None:
        expected = f"{obs.expected_gpus} expected ({obs.expected_source})" if obs.expected_gpus else "count unknown"
        lines.append(
            f"  driver {report.driver_version or '?'}, CUDA {report.cuda_version or '?'}; nvidia-smi sees "
            f"{len(report.gpus)} GPU(s), {expected}, allocatable {_n(obs.allocatable_gpus)}"
        )
        if report.gpus:
            lines.extend(table([gpu_row(g) for g in report.gpus]))
        procs = [(g.index, p) for g in report.gpus for p in g.processes]
        for index, p in procs:
            mem = f" {p.used_memory_mib} MiB" if p.used_memory_mib is not None else ""
            lines.append(f"  process: GPU {index} pid {p.pid} {p.name}{mem}")
    if report is not None:
        if report.kernel_readable is False:
            lines.append("  kernel log: not readable from the pod (Xids unknown)")
        for note in report.kernel_notes[:3]:
            lines.append(f"  kernel: {note}")
        for x in report.xids[-5:]:
            lines.append(f"  Xid {x.code} on {x.pci}: {x.text}")
    return lines


def findings_block(findings) -> list[str]:
    if not findings:
        return ["No problems found."]
    out = [f"Findings ({len(findings)}):"]
    for f in findings:
        out.append(f"  {f.severity.label:<7} {f.code} {f.title}")
        out += _fill(f.message, " " * 10, hang="")
    return out
