"""nvidia-smi parsers on every real capture in ../shared/reference/nvidia-smi (values read from those
files), on the failure outputs, on a real dmesg with Xids, and on the simulator's own output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gputui.debugpod import spec
from gputui.debugpod.parsers import (
    parse_compute_apps,
    parse_debug_log,
    parse_list,
    parse_query_gpu,
    parse_query_text,
    parse_query_xml,
    parse_table,
    split_sections,
)
from gputui.debugpod.parsers.failures import recognise
from gputui.debugpod.parsers.kernel import parse_xids
from tests.helpers.reference import reference_params


def ref(reference: Path, *parts: str) -> Path:
    path = reference.joinpath("nvidia-smi", *parts)
    if not path.exists():
        pytest.skip(f"{path.name} not in ../shared/reference")
    return path


def files(reference: Path, sub: str, pattern: str = "*") -> list[str]:
    return sorted(p.name for p in (reference / "nvidia-smi" / sub).glob(pattern))


H100, H200, L40S = "NVIDIA H100 80GB HBM3", "NVIDIA H200", "NVIDIA L40S"

# file -> (name, bus id, memory used/total MiB, utilisation, temperature, power draw W, MIG mode)
TABLES = {
    "nvidia-h100-80gb-hbm3__590.48.01.idle.nvidia-smi.txt": (H100, "00000000:00:09.0", 0, 81559, 0, 41, 69, "Disabled"),
    "nvidia-h100-80gb-hbm3__590.48.01.load.nvidia-smi.txt": (
        H100,
        "00000000:00:09.0",
        19818,
        81559,
        100,
        59,
        629,
        "Disabled",
    ),
    "nvidia-h100-mig__590.48.01.idle.nvidia-smi.txt": (H100, "00000000:00:09.0", 59, 81559, None, 42, 98, "Enabled"),
    "nvidia-h100-mig__590.48.01.load.nvidia-smi.txt": (
        H100,
        "00000000:00:09.0",
        11125,
        81559,
        None,
        52,
        432,
        "Enabled",
    ),
    "nvidia-h200-mig__590.48.01.idle.nvidia-smi.txt": (H200, "00000000:83:00.0", 55, 143771, None, 28, 78, "Enabled"),
    "nvidia-h200-mig__590.48.01.load.nvidia-smi.txt": (
        H200,
        "00000000:83:00.0",
        16959,
        143771,
        None,
        36,
        295,
        "Enabled",
    ),
    "nvidia-l40s__595.80.idle.nvidia-smi.txt": (L40S, "00000000:01:00.0", 0, 46068, 100, 64, 242, None),
    "nvidia-l40s__595.80.load.nvidia-smi.txt": (L40S, "00000000:01:00.0", 1235, 46068, 9, 54, 110, None),
}
# file -> (memory used, utilisation, temperature, average power draw)
QUERIES = {
    "nvidia-h100-80gb-hbm3__590.48.01.idle.nvidia-smi-q.txt": (0, 0, 41, 69.85),
    "nvidia-h100-80gb-hbm3__590.48.01.load.nvidia-smi-q.txt": (19818, 100, 59, 629.45),
    "nvidia-h100-mig__590.48.01.idle.nvidia-smi-q.txt": (59, None, 42, 71.27),
    "nvidia-h100-mig__590.48.01.load.nvidia-smi-q.txt": (11125, None, 53, 432.21),
    "nvidia-h200-mig__590.48.01.idle.nvidia-smi-q.txt": (55, None, 28, 78.28),
    "nvidia-h200-mig__590.48.01.load.nvidia-smi-q.txt": (16959, None, 36, 294.94),
    "nvidia-l40s__595.80.idle.nvidia-smi-q.txt": (0, 100, 64, 183.28),
    "nvidia-l40s__595.80.load.nvidia-smi-q.txt": (1235, 9, 54, 110.24),
}
PROCESSES = {  # load captures: (pid, name, MiB) as listed
    "h100-80gb-hbm3": [
        (11327, "/root/tools/memhog", 2566),
        (11328, "/root/tools/memhog", 1542),
        (11345, "./gpu_burn", 15690),
    ],
    "h100-mig": [(21180, "/root/tools/memhog", 2296), (21181, "/root/tools/memhog", 1272), (21198, "./gpu_burn", 7484)],
    "h200-mig": [
        (12249, "/root/tools/memhog", 2194),
        (12250, "/root/tools/memhog", 1170),
        (12267, "./gpu_burn", 13526),
    ],
    "l40s": [(20037, "ffmpeg", 538), (20038, "ffmpeg", 681)],
}
MIG = {  # (GPU instance ids, compute instance ids, memory totals MiB, -L profiles)
    "h100-mig": ([2, 3, 9, 10], [0, 0, 0, 0], [40448, 20096, 9984, 9984], ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]),
    "h200-mig": (
        [2, 2, 3, 9, 10],
        [0, 1, 0, 0, 0],
        [71424, 71424, 33280, 16384, 16384],
        ["1c.3g.71gb", "2c.3g.71gb", "2g.35gb", "1g.18gb", "1g.18gb"],
    ),
}


def _family(name: str) -> str:
    return re.sub(r"^nvidia-|__.*$", "", name)


def test_every_reference_file_has_expectations(reference):
    text = set(files(reference, "text"))
    assert text == set(TABLES) | set(QUERIES) | set(files(reference, "text", "*-L.txt"))
    assert (
        len(files(reference, "csv", "*.csv")) == 16
        and len(files(reference, "xml")) == 5
        and len(files(reference, "failures")) == 8
    )


@pytest.mark.parametrize("name", sorted(TABLES))
def test_default_table(name, reference):
    gpus, driver, cuda = parse_table(ref(reference, "text", name).read_text())
    model, bus, used, total, util, temp, power, mig = TABLES[name]
    assert (driver, cuda) == (("595.80", "13.2") if "l40s" in name else ("590.48.01", "13.1"))
    assert len(gpus) == 1
    g = gpus[0]
    assert (g.index, g.name, g.bus_id, g.memory_used_mib, g.memory_total_mib) == (0, model, bus, used, total)
    assert (g.utilization_pct, g.temperature_c, g.power_draw_w, g.mig_mode) == (util, temp, power, mig)
    assert g.power_limit_w == (350 if "l40s" in name else 700)
    expected = PROCESSES[_family(name)] if ".load." in name else []
    assert [(p.pid, p.name, p.used_memory_mib) for p in g.processes] == expected
    fam = _family(name)
    if fam in MIG:
        gis, cis, totals, _ = MIG[fam]
        assert [m.gpu_instance_id for m in g.mig_devices] == gis
        assert [m.compute_instance_id for m in g.mig_devices] == cis
        assert [m.memory_total_mib for m in g.mig_devices] == totals
    else:
        assert g.mig_devices == []


def test_table_mig_device_usage_under_load(reference):
    gpus, _, _ = parse_table(ref(reference, "text", "nvidia-h100-mig__590.48.01.load.nvidia-smi.txt").read_text())
    devices = gpus[0].mig_devices
    assert [(m.memory_used_mib, m.sm_count) for m in devices] == [(11091, 60), (17, 32), (9, 16), (9, 16)]
    assert {p.gpu_instance_id for p in gpus[0].processes} == {2}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_text(name, reference):
    gpus, driver, cuda = parse_query_text(ref(reference, "text", name).read_text())
    used, util, temp, power = QUERIES[name]
    g = gpus[0]
    assert len(gpus) == 1 and g.uuid == "GPU-00000000-0000-0000-0000-000000000000" and g.serial == "0000000000000"
    assert (g.memory_used_mib, g.utilization_pct, g.temperature_c, g.power_draw_w) == (used, util, temp, power)
    assert (g.ecc_mode, g.ecc_volatile_uncorrected, g.ecc_aggregate_uncorrected) == ("Enabled", 0, 0)
    assert g.retired_sbe is None and g.retired_dbe is None  # N/A: these GPUs remap rows instead
    fam = _family(name)
    if fam in ("h100-80gb-hbm3", "l40s"):
        assert (g.remapped_correctable, g.remapped_uncorrectable, g.remapped_pending, g.remapped_failure) == (
            0,
            0,
            False,
            False,
        )
    else:
        assert g.remapped_uncorrectable is None  # "Remapped Rows : N/A" with MIG enabled
    expected = PROCESSES[fam] if ".load." in name else []
    assert [(p.pid, p.name, p.used_memory_mib) for p in g.processes] == expected
    if fam in MIG:
        gis, cis, totals, _ = MIG[fam]
        assert g.mig_mode == "Enabled"
        assert [(m.gpu_instance_id, m.compute_instance_id, m.memory_total_mib) for m in g.mig_devices] == list(
            zip(gis, cis, totals)
        )
        if ".load." in name:
            assert {(p.gpu_instance_id, p.compute_instance_id) for p in g.processes} == (
                {(2, 0)} if fam == "h100-mig" else {(2, 1)}
            )


@pytest.mark.parametrize("name", reference_params("nvidia-smi/text", "*-L.txt"))
def test_list(name, reference):
    gpus = parse_list(ref(reference, "text", name).read_text())
    fam = _family(name)
    assert [g.uuid for g in gpus] == ["GPU-00000000-0000-0000-0000-000000000000"]
    assert gpus[0].name == {"h100-80gb-hbm3": H100, "h100-mig": H100, "h200-mig": H200, "l40s": L40S}[fam]
    profiles = MIG[fam][3] if fam in MIG else []
    assert [m.profile for m in gpus[0].mig_devices] == profiles
    assert [m.uuid for m in gpus[0].mig_devices] == [
        f"MIG-0000000{i}-0000-0000-0000-00000000000{i}" for i in range(len(profiles))
    ]


@pytest.mark.parametrize("name", reference_params("nvidia-smi/csv", "*query-gpu.csv"))
def test_query_gpu_csv(name, reference):
    gpus, driver = parse_query_gpu(ref(reference, "csv", name).read_text())
    fam = _family(name)
    assert len(gpus) == 1
    g = gpus[0]
    assert driver == ("595.80" if fam == "l40s" else "590.48.01")
    assert (g.index, g.uuid) == (0, "GPU-00000000-0000-0000-0000-000000000000")
    expected = {
        "h100-80gb-hbm3.idle": (0, 0, 41, 69.85, "Disabled"),
        "h100-80gb-hbm3.load": (19818, 100, 59, 631.95, "Disabled"),
        "h100-mig.idle": (59, None, 42, 71.15, "Enabled"),
        "h100-mig.load": (11125, None, 53, 433.78, "Enabled"),
        "h200-mig.idle": (55, None, 28, 78.28, "Enabled"),
        "h200-mig.load": (16959, None, 36, 295.01, "Enabled"),
        "l40s.idle": (0, 100, 63, 144.97, None),
        "l40s.load": (1235, 9, 54, 110.23, None),
    }[f"{fam}.{'load' if '.load.' in name else 'idle'}"]
    assert (g.memory_used_mib, g.utilization_pct, g.temperature_c, g.power_draw_w, g.mig_mode) == expected
    assert g.memory_total_mib == {"h200-mig": 143771, "l40s": 46068}.get(fam, 81559)
    assert (g.ecc_volatile_uncorrected, g.ecc_aggregate_uncorrected) == (0, 0)
    assert (g.retired_sbe, g.retired_dbe, g.retired_pending) == (None, None, None)  # [N/A]
    if fam in ("h100-80gb-hbm3", "l40s"):
        assert (g.remapped_uncorrectable, g.remapped_pending, g.remapped_failure) == (0, False, False)


@pytest.mark.parametrize("name", reference_params("nvidia-smi/csv", "*query-compute-apps.csv"))
def test_compute_apps_csv(name, reference):
    procs = parse_compute_apps(ref(reference, "csv", name).read_text())
    expected = PROCESSES[_family(name)] if ".load." in name else []
    assert [(p.pid, p.name, p.used_memory_mib) for p in procs] == expected
    assert all(p.gpu_uuid == "GPU-00000000-0000-0000-0000-000000000000" for p in procs)


XML = {  # file -> (DTD, driver, GPUs listed, name, bus, used/total, temp, power, ECC vol/agg, processes)
    "telegraf-a100-sxm4-v12.xml": (
        "v12",
        "535.54.03",
        1,
        "NVIDIA A100-SXM4-80GB",
        "00000000:01:00.0",
        (50, 81920),
        27,
        67.03,
        (0, 0),
        [],
    ),
    "telegraf-a10g.xml": (
        "v11",
        "515.105.01",
        1,
        "NVIDIA A10G",
        "00000000:00:1E.0",
        (22, 23028),
        17,
        25.58,
        (0, 0),
        [(725, "/usr/lib/xorg/Xorg", 22)],
    ),
    "telegraf-gtx-1070-ti.xml": (
        "v10",
        None,
        1,
        "GeForce GTX 1070 Ti",
        "00000000:01:00.0",
        (42, 4096),
        39,
        None,
        (None, None),
        [],
    ),
    "telegraf-rtx-4000-sff-ada-v13.xml": (
        "v13",
        "595.84",
        1,
        "NVIDIA RTX 4000 SFF Ada Generation",
        "00000000:06:00.0",
        (3534, 20475),
        38,
        8.81,
        (None, None),
        [
            (1842, "cosmic-comp", 410),
            (3190, "/usr/bin/code", 451),
            (4937, "python", 160),
            (34626, "/usr/lib/chromium/chromium", 183),
        ],
    ),
    "telegraf-tesla-t4.xml": (
        "v11",
        "515.105.01",
        1,
        "Tesla T4",
        "00000000:00:1E.0",
        (1032, 15360),
        40,
        26.78,
        (0, 0),
        [(675, "/usr/lib/xorg/Xorg", 22), (5762, "python", 1005)],
    ),
}


@pytest.mark.parametrize("name", sorted(XML))
def test_query_xml_across_dtd_versions(name, reference):
    text = ref(reference, "xml", name).read_text()
    dtd, driver, count, model, bus, mem, temp, power, ecc, procs = XML[name]
    assert f"nvsmi_device_{dtd}.dtd" in text
    gpus, drv, _cuda, attached = parse_query_xml(text)
    assert drv == driver and len(gpus) == count
    g = gpus[0]
    assert (g.name, g.bus_id, (g.memory_used_mib, g.memory_total_mib), g.temperature_c) == (model, bus, mem, temp)
    assert g.power_draw_w == power
    assert (g.ecc_volatile_uncorrected, g.ecc_aggregate_uncorrected) == ecc
    assert [(p.pid, p.name, p.used_memory_mib) for p in g.processes] == procs


def test_xml_a100_mig_and_retired_pages(reference):
    gpus, _, _, attached = parse_query_xml(ref(reference, "xml", "telegraf-a100-sxm4-v12.xml").read_text())
    g = gpus[0]
    assert attached == 4  # the capture lists only the first of the four GPUs
    assert g.uuid == "GPU-513536b6-7d19-9063-b049-1e69664bb298" and g.power_limit_w == 500.0
    assert g.mig_mode == "Enabled"
    assert [(m.gpu_instance_id, m.memory_total_mib, m.memory_used_mib, m.sm_count) for m in g.mig_devices] == [
        (3, 19968, 12, 14),
        (4, 19968, 12, 14),
        (5, 19968, 12, 14),
        (6, 19968, 12, 14),
    ]
    t4 = parse_query_xml(ref(reference, "xml", "telegraf-tesla-t4.xml").read_text())[0][0]
    assert (t4.retired_sbe, t4.retired_dbe, t4.retired_pending, t4.remapped_uncorrectable) == (0, 0, False, None)
    a10g = parse_query_xml(ref(reference, "xml", "telegraf-a10g.xml").read_text())[0][0]
    assert (a10g.remapped_correctable, a10g.remapped_uncorrectable, a10g.remapped_pending) == (0, 0, False)
    assert a10g.retired_sbe is None


FAILURES = {
    "chroot-nvidia-smi-not-found.txt": (
        "not-found",
        "chroot: failed to run command 'nvidia-smi': No such file or directory",
    ),
    "driver-not-loaded.kubectl-exec.txt": ("driver-not-loaded", None),
    "driver-not-loaded.txt": ("driver-not-loaded", None),
    "no-devices-found.txt": ("no-devices", "No devices were found"),
    "nvidia-container-cli-version-mismatch.txt": ("version-mismatch", None),
    "nvml-driver-library-version-mismatch.txt": (
        "version-mismatch",
        "Failed to initialize NVML: Driver/library version mismatch",
    ),
    "nvml-driver-library-version-mismatch.with-lib-version.txt": ("version-mismatch", None),
    "nvml-unknown-error.txt": ("nvml-unknown-error", "Failed to initialize NVML: Unknown Error"),
}


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_failure_outputs(name, reference):
    text = ref(reference, "failures", name).read_text()
    kind, message = FAILURES[name]
    failure = recognise(text)
    assert failure is not None and failure.kind == kind
    assert failure.message == (message or text.splitlines()[0].strip())
    assert failure.explanation and failure.hint
    assert failure.library_version == ("570.195" if "with-lib-version" in name else None)
    report = parse_debug_log(text)  # a bare output, not our script's
    assert report.failure is not None and report.failure.kind == kind and report.gpus == []


def test_real_dmesg_with_xid_119(reference):
    path = reference / "nvidia-xid" / "gpud-testdata-dmesg-with-xid-119.log"
    xids = parse_xids(path.read_text())
    assert xids and {x.code for x in xids} == {119}
    first = xids[0]
    assert (first.pci, first.pid, first.process, first.timestamp) == (
        "0000:9b:00",
        "2024380",
        "nvidia-smi",
        "Sun Feb 23 16:24:18 2025",
    )
    assert first.text.startswith("Timeout after 6s of waiting for RPC response from GPU4 GSP!")


# -- the full multi-command captures ------------------------------------------------------------

_BLOCK = re.compile(r"^#{20,}\n# (?P<title>[^\n]+)\n(?:# \$ (?P<cmd>[^\n]*)\n)?#{20,}\n", re.M)


def capture_sections(text: str) -> dict[str, str]:
    matches = list(_BLOCK.finditer(text))
    return {
        m.group("title").strip(): text[m.end() : matches[i + 1].start() if i + 1 < len(matches) else len(text)]
        for i, m in enumerate(matches)
    }


@pytest.mark.parametrize("name", reference_params("nvidia-smi/captures-nvidia_gpu_exporter", "*.txt"))
def test_full_captures(name, reference):
    sections = capture_sections(ref(reference, "captures-nvidia_gpu_exporter", name).read_text())
    model, total, load_used = {
        "h100-80gb-hbm3": (H100, 81559, 19818),
        "h100-mig": (H100, 81559, 11125),
        "h200-mig": (H200, 143771, 16959),
        "l40s": (L40S, 46068, 1235),
    }[_family(name.split("nvidia-", 1)[1])]
    table, _, _ = parse_table(sections["load :: nvidia-smi (default table)"])
    q, _, _ = parse_query_text(sections["load :: query (-q)"])
    csv_gpus, _ = parse_query_gpu(sections["load :: query-gpu (csv, what the exporter parses)"])
    listed = parse_list(sections["capabilities :: list (-L)"])
    for gpus in (table, q, csv_gpus, listed):
        assert [g.name for g in gpus] == [model]
    for gpus in (table, q, csv_gpus):
        assert (gpus[0].memory_total_mib, gpus[0].memory_used_mib) == (total, load_used)
    idle, _, _ = parse_table(sections["idle :: nvidia-smi (default table)"])
    assert idle[0].processes == []


# -- the debug pod's own log (simulator) ------------------------------------------------------------


def _node(**ann) -> dict:
    return {
        "metadata": {
            "name": "ip-10-0-1-2.ec2.internal",
            "labels": {"node.kubernetes.io/instance-type": "g5.12xlarge"},
            "annotations": {f"sim.gputui.dev/{k.replace('_', '-')}": v for k, v in ann.items()},
        },
        "status": {"capacity": {"nvidia.com/gpu": "4"}},
    }


def test_split_sections_and_failed_markers():
    log = (
        "=== gputui:begin ===\n=== gputui:list ===\nGPU 0: X (UUID: GPU-1)\n=== gputui:query-gpu ===\n"
        "No devices were found\n=== gputui:failed query-gpu ===\n=== gputui:end ===\n"
    )
    sections, failed = split_sections(log)
    assert sections["list"] == "GPU 0: X (UUID: GPU-1)\n" and sections["query-gpu"] == "No devices were found\n"
    assert failed == {"query-gpu"} and sections["end"] == ""


@pytest.mark.parametrize("mode", spec.MODES)
def test_simulated_node_through_the_pod_script(mode):
    from gputui.sim import nvsmi

    out, code = nvsmi.render(
        _node(xid="79,13", ecc="2,14", driver_version="550.127.05"), spec.script(mode), busy_gpus=2
    )
    assert code == 0
    report = parse_debug_log(out)
    assert report.complete and report.failure is None
    assert (report.driver_version, report.cuda_version) == ("550.127.05", "12.4")
    assert set(report.sources) == {"query-gpu", "query-xml", "list"}
    assert [g.bus_id for g in report.gpus] == [
        "00000000:00:1B.0",
        "00000000:00:1C.0",
        "00000000:00:1D.0",
        "00000000:00:1E.0",
    ]
    g0, g3 = report.gpus[0], report.gpus[3]
    assert (g0.name, g0.memory_total_mib, g0.memory_used_mib, g0.utilization_pct > 90) == (
        "NVIDIA A10G",
        23028,
        16349,
        True,
    )
    assert (
        g0.ecc_volatile_uncorrected,
        g0.ecc_aggregate_uncorrected,
        g0.remapped_uncorrectable,
        g0.remapped_pending,
    ) == (2, 14, 14, True)
    assert [p.name for p in g0.processes] == ["python"] and g3.processes == [] and g3.memory_used_mib == 0
    assert g0.uuid.startswith("GPU-") and g0.uuid == nvsmi.describe(_node()).gpus[0].uuid
    assert [(x.code, x.pci) for x in report.xids] == [(79, "0000:00:1b"), (13, "0000:00:1b")]
    assert report.xids[1].process == "python" and report.kernel_readable is True


@pytest.mark.parametrize(
    "sim_mode,kind",
    [
        ("driver-not-loaded", "driver-not-loaded"),
        ("nvml-unknown-error", "nvml-unknown-error"),
        ("version-mismatch", "version-mismatch"),
        ("no-devices", "no-devices"),
        ("not-found", "not-found"),
    ],
)
def test_simulated_failures(sim_mode, kind):
    from gputui.sim import nvsmi

    out, _ = nvsmi.render(_node(nvidia_smi=sim_mode), spec.script("host"))
    report = parse_debug_log(out)
    assert report.complete and report.gpus == []
    assert report.failure is not None and report.failure.kind == kind
    if sim_mode == "driver-not-loaded":
        assert any("probe routine failed" in n for n in report.kernel_notes)
    if sim_mode == "version-mismatch":
        assert any("API mismatch" in n for n in report.kernel_notes)


def test_wrong_driver_root_is_recognised():
    from gputui.sim import nvsmi

    out, _ = nvsmi.render(_node(driver_root="host"), spec.script("operator-driver"))
    assert parse_debug_log(out).failure.kind == "driver-root-missing"
    out, _ = nvsmi.render(_node(driver_root="operator"), spec.script("host"))
    assert parse_debug_log(out).failure.kind == "not-found"


def test_gpu_missing_node_lists_one_fewer():
    from gputui.sim import nvsmi

    out, _ = nvsmi.render(_node(nvidia_smi="gpu-missing"), spec.script("host"))
    report = parse_debug_log(out)
    assert report.failure is None and len(report.gpus) == 3


# -- real-world outputs (../shared/reference/real-world/nvidia-smi, SOURCES.md) -------------------
# (GPU count, model, driver, memory total MiB of GPU 0) for every complete output pasted bare, as
# an engineer would: no gputui section markers, so the parser must tell table, -q and XML apart.
REAL_WORLD = {
    "ai-on-eks--website__docs__ai__training__GPUs__bionemo.md@280f3a07f0--4c0f269b.txt": (
        1,
        "NVIDIA A10G",
        "535.230.02",
        23028,
    ),
    "bottlerocket-core-kit-pr122--A10G-470.256.02-old-layout.txt": (1, "NVIDIA A10G", "470.256.02", 22731),
    "data-on-eks--website__i18n__zh__docusaurus-plugin-content-docs__current__gen-ai__training__GPUs__bionemo.md"
    "@6120952bed--e89aef65.txt": (8, "Tesla V100-SXM2-16GB", "535.129.03", 16384),
    "gpud--nvidia-smi-query.535.129.03.out.0.valid.a10": (1, "NVIDIA A10", "535.129.03", 23028),
    "gpud--nvidia-smi-query.535.154.05.out.0.valid": (8, "NVIDIA GeForce RTX 4090", "535.154.05", 24564),
    "gpud--nvidia-smi-query.535.154.05.out.0.valid.4090": (8, "NVIDIA GeForce RTX 4090", "535.154.05", 24564),
    "gpud--nvidia-smi-query.535.154.05.out.1.valid": (8, "NVIDIA GeForce RTX 4090", "535.154.05", 24564),
    "gpud--nvidia-smi-query.535.154.05.out.2.valid": (8, "NVIDIA GeForce RTX 4090", "535.154.05", 24564),
    "gpud--nvidia-smi-query.535.154.05.out.3.valid": (8, "NVIDIA GeForce RTX 4090", "535.154.05", 24564),
    "gpud--nvidia-smi-query.535.161.08.out.0.valid": (8, "NVIDIA H100 80GB HBM3", "535.161.08", 81559),
    "gpud--nvidia-smi-query.535.183.01.out.0.valid": (8, "NVIDIA H100 80GB HBM3", "535.183.01", 81559),
    "gpud--nvidia-smi-query.560.35.03.out.0.valid": (1, "NVIDIA TITAN V", "560.35.03", 12288),
    "gpud--nvidia-smi.525.125.06.out.0.valid": (1, "NVIDIA GeForce ...", "525.125.06", 23028),
    "gpud--nvidia-smi.550.90.07.out.0.valid": (8, "NVIDIA H100 80GB HBM3", "550.90.07", 81559),
    "gpud--test_data.go--HWSlowdownQueryOutput.txt": (1, "NVIDIA A10", "550.127.05", 23028),
    "gpud--test_data.go--NormalQueryOutput.txt": (1, "NVIDIA A10", "550.127.05", 23028),
    "gpud--test_data.go--NormalSMIOutput.txt": (1, "NVIDIA A10", "550.127.05", 23028),
    "karpenter-blueprints--blueprints__nvidia-gpu-workload__README.md@3cbd54169b--d9865d79.txt": (
        1,
        "Tesla T4",
        "570.133.20",
        15360,
    ),
    "karpenter-blueprints--blueprints__nvidia-gpu-workload__README.md@529b88cffd--HEAD-T4-580.txt": (
        1,
        "Tesla T4",
        "580.105.08",
        15360,
    ),
    "kubeflow-eks-readme--codeindex-53204435708--A10G-570.195.03.txt": (1, "NVIDIA A10G", "570.195.03", 23028),
    "lightly-docs--codeindex-288903532--T4-450.51.06.txt": (1, "Tesla T4", "450.51.06", 15109),
    "nonymus-deid-readme--codeindex-4000208287--T4-535.54.03.txt": (1, "Tesla T4", "535.54.03", 15360),
    "sonar--nvidia-smi-output.txt": (4, "NVIDIA GeForce RTX 2080 Ti", "545.23.08", 11264),
    "telegraf--dual_2080-v13.xml": (2, "NVIDIA GeForce RTX 2080", "590.44.01", 8192),
    "telegraf--dual_a5000-v13.xml": (2, "NVIDIA RTX A5000", "590.44.01", 24564),
    "telegraf--gt-1030.xml": (1, "NVIDIA GeForce GT 1030", "470.74", 1998),
    "telegraf--gtx-1660-ti.xml": (1, "Graphics Device", "418.43", 5912),
    "telegraf--pro-6000-maxq-blackwell-v13.xml": (
        1,
        "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
        "590.44.01",
        97887,
    ),
    "telegraf--quadro-p400.xml": (1, "Quadro P400", "418.43", 1998),
    "telegraf--rtx-3090-v12.xml": (1, "NVIDIA GeForce RTX 3090", "525.147.05", 24576),
    "telegraf--tesla_p4.xml": (1, "GRID P4-1Q", "513.46", 1024),
}
# failure outputs: the kind each must become (an access failure is never "the GPU is lost")
REAL_WORLD_FAILURES = {
    "fail--k8s-device-plugin-231--gpu-is-lost.txt": "gpu-lost",
    "fail--kaixhin-dockerfiles-1--access-blocked.txt": "gpu-access-blocked",
    "fail--mattshma-bigdata-150--nvml-unknown.txt": "nvml-unknown-error",
    "fail--nvidia-container-toolkit-268--insufficient-permissions.txt": "nvml-no-permission",
    "fail--nvidia-container-toolkit-69--device-handle-nospace.txt": "device-handle-error",
}


def real(reference: Path, name: str) -> str:
    path = reference / "real-world" / "nvidia-smi" / name
    if not path.is_file():
        pytest.skip(f"{name} not in ../shared/reference/real-world")
    return path.read_text()


def test_every_real_world_output_has_expectations(reference):
    d = reference / "real-world" / "nvidia-smi"
    names = {p.name for p in d.iterdir() if not p.name.startswith("SOURCES")}
    partial = {"gpud--nvidia-smi-query.535.183.01.out.0.invalid"}  # truncated -q: one GPU section of eight
    assert names == set(REAL_WORLD) | set(REAL_WORLD_FAILURES) | partial


@pytest.mark.parametrize("name", sorted(REAL_WORLD))
def test_real_world_output_parses_bare(name, reference):
    report = parse_debug_log(real(reference, name))
    count, model, driver, memory = REAL_WORLD[name]
    assert report.failure is None
    assert len(report.gpus) == count
    assert {g.name for g in report.gpus} == {model}
    assert report.driver_version == driver
    assert report.gpus[0].memory_total_mib == memory


@pytest.mark.parametrize("name", sorted(REAL_WORLD_FAILURES))
def test_real_world_failure_is_a_failure(name, reference):
    report = parse_debug_log(real(reference, name))
    assert report.gpus == []
    assert report.failure is not None and report.failure.kind == REAL_WORLD_FAILURES[name]


@pytest.mark.parametrize("name", sorted(REAL_WORLD_FAILURES))
def test_real_world_failure_in_a_debug_log_section(name, reference):
    """The same output inside the debug pod's sections (every nvidia-smi command failed alike)."""
    out = real(reference, name)
    log = "".join(f"=== gputui:{s} ===\n{out}\n=== gputui:failed {s} ===\n" for s in ("query-gpu", "table", "list"))
    report = parse_debug_log(log + "=== gputui:end ===\n")
    assert report.gpus == []
    assert report.failure is not None and report.failure.kind == REAL_WORLD_FAILURES[name]


# slowdown reasons Active and ERR! cells in the real outputs, by file and GPU index; every other GPU has none
REAL_WORLD_SLOWDOWNS = {
    "gpud--nvidia-smi-query.535.161.08.out.0.valid": {i: ["HW Slowdown", "HW Power Brake Slowdown"] for i in range(8)},
    "gpud--nvidia-smi-query.535.183.01.out.0.valid": {2: ["SW Thermal Slowdown", "HW Power Brake Slowdown"]},
    "gpud--test_data.go--HWSlowdownQueryOutput.txt": {0: ["HW Slowdown", "HW Power Brake Slowdown"]},
    "sonar--nvidia-smi-output.txt": {0: ["SW Thermal Slowdown"]},
}


@pytest.mark.parametrize("name", sorted(REAL_WORLD))
def test_real_world_slowdowns_and_err_cells(name, reference):
    gpus = parse_debug_log(real(reference, name)).gpus
    assert {g.index: g.slowdowns for g in gpus if g.slowdowns} == REAL_WORLD_SLOWDOWNS.get(name, {})
    unread = {g.index: g.sensor_errors for g in gpus if g.sensor_errors}
    assert unread == ({0: ["fan"]} if name == "gpud--nvidia-smi.525.125.06.out.0.valid" else {})


@pytest.mark.parametrize("bus", ["0000:0B:00.0", "00000000:65:00.0", "000:BA:80.0"])
@pytest.mark.parametrize("space", ["", " "])
@pytest.mark.parametrize("verb", ["determine", "detect"])
def test_device_handle_failures_never_parse_as_gpu_rows(bus, space, verb):
    for why, kind in (("Unknown Error", "device-handle-error"), ("GPU is lost", "gpu-lost")):
        text = f"Unable to {verb} the device handle for GPU{space}{bus}: {why}\n"
        report = parse_debug_log(text)
        assert report.gpus == [] and report.failure is not None and report.failure.kind == kind


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Failed to initialize NVML: Insufficient Permissions", "nvml-no-permission"),
        (
            "Failed to initialize NVML: GPU access blocked by the operating system\n"
            "Failed to properly shut down NVML: GPU access blocked by the operating system",
            "gpu-access-blocked",
        ),
        (
            "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA "
            "Display Driver is properly installed and present in your system.",
            "nvml-library-missing",
        ),
    ],
)
def test_access_failures_are_not_a_lost_gpu(text, kind):
    report = parse_debug_log(text)
    assert report.failure is not None and report.failure.kind == kind
    assert "bus" not in report.failure.explanation
