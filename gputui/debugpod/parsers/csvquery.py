"""`nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]` and `--query-compute-apps`.

With a header, field names come from it (`memory.used [MiB]` -> `memory.used`); without
one, the caller passes the fields it asked for. Values may carry units (`81559 MiB`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from gputui.debugpod.model import GpuInfo, GpuProcess
from gputui.debugpod.parsers.values import to_bool, to_float, to_int, to_text

# The fields the debug pod asks for; any subset (or superset) parses.
QUERY_FIELDS = (
    "index",
    "name",
    "uuid",
    "pci.bus_id",
    "serial",
    "driver_version",
    "pstate",
    "memory.total",
    "memory.used",
    "utilization.gpu",
    "temperature.gpu",
    "power.draw",
    "power.limit",
    "ecc.mode.current",
    "ecc.errors.uncorrected.volatile.total",
    "ecc.errors.uncorrected.aggregate.total",
    "retired_pages.single_bit_ecc.count",
    "retired_pages.double_bit.count",
    "retired_pages.pending",
    "remapped_rows.correctable",
    "remapped_rows.uncorrectable",
    "remapped_rows.pending",
    "remapped_rows.failure",
    "mig.mode.current",
)


def rows(text: str, fields: Sequence[str] | None = None) -> list[dict[str, str]]:
    """CSV lines -> dicts keyed by bare field name."""
    lines = [l for l in text.splitlines() if l.strip()]
    if not lines:
        return []
    reader = csv.reader(io.StringIO("\n".join(lines)), skipinitialspace=True)
    table = [r for r in reader if r]
    if fields is None:
        header, table = table[0], table[1:]
        names = [h.split(" [", 1)[0].strip() for h in header]
    else:
        names = list(fields)
    return [dict(zip(names, (v.strip() for v in r))) for r in table if len(r) >= len(names)]


def _power(row: dict[str, str]) -> float | None:
    # Newer drivers keep power.draw; on some GPUs only the average/instant readings have a value.
    for key in ("power.draw", "power.draw.average", "power.draw.instant"):
        value = to_float(row.get(key))
        if value is not None:
            return value
    return None


def gpu_from_row(row: dict[str, str]) -> GpuInfo:
    return GpuInfo(
        index=to_int(row.get("index")),
        name=to_text(row.get("name")),
        uuid=to_text(row.get("uuid")),
        bus_id=to_text(row.get("pci.bus_id")),
        serial=to_text(row.get("serial")),
        pstate=to_text(row.get("pstate")),
        memory_used_mib=to_int(row.get("memory.used")),
        memory_total_mib=to_int(row.get("memory.total")),
        utilization_pct=to_int(row.get("utilization.gpu")),
        temperature_c=to_int(row.get("temperature.gpu")),
        power_draw_w=_power(row),
        power_limit_w=to_float(row.get("power.limit")) or to_float(row.get("enforced.power.limit")),
        ecc_mode=to_text(row.get("ecc.mode.current")),
        ecc_volatile_uncorrected=to_int(row.get("ecc.errors.uncorrected.volatile.total")),
        ecc_aggregate_uncorrected=to_int(row.get("ecc.errors.uncorrected.aggregate.total")),
        retired_sbe=to_int(row.get("retired_pages.single_bit_ecc.count") or row.get("retired_pages.sbe")),
        retired_dbe=to_int(row.get("retired_pages.double_bit.count") or row.get("retired_pages.dbe")),
        retired_pending=to_bool(row.get("retired_pages.pending")),
        remapped_correctable=to_int(row.get("remapped_rows.correctable")),
        remapped_uncorrectable=to_int(row.get("remapped_rows.uncorrectable")),
        remapped_pending=to_bool(row.get("remapped_rows.pending")),
        remapped_failure=to_bool(row.get("remapped_rows.failure")),
        mig_mode=to_text(row.get("mig.mode.current")),
    )


def parse_query_gpu(text: str, fields: Sequence[str] | None = None) -> tuple[list[GpuInfo], str | None]:
    """(GPUs, driver version) from --query-gpu CSV."""
    parsed = rows(text, fields)
    driver = next((to_text(r.get("driver_version")) for r in parsed if to_text(r.get("driver_version"))), None)
    return [gpu_from_row(r) for r in parsed], driver


def parse_compute_apps(text: str, fields: Sequence[str] | None = None) -> list[GpuProcess]:
    out = []
    for r in rows(text, fields):
        pid = to_int(r.get("pid"))
        if pid is None:
            continue
        out.append(
            GpuProcess(
                pid=pid,
                name=r.get("process_name") or r.get("name") or "",
                used_memory_mib=to_int(r.get("used_gpu_memory") or r.get("used_memory")),
                gpu_uuid=to_text(r.get("gpu_uuid")),
            )
        )
    return out
