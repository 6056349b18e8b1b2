"""nvidia-smi as the simulator prints it, checked against the shape of real captures."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gputui.sim import gpu_facts, nvsmi

NOW = 1_795_000_000.0  # a fixed instant, so timestamps are repeatable


def ref(reference: Path, *parts: str) -> Path:
    return reference.joinpath("nvidia-smi", *parts)


def node(name: str = "ip-10-0-1-23.ec2.internal", instance_type: str = "g5.xlarge", **annotations: str) -> dict:
    return {
        "metadata": {
            "name": name,
            "labels": {"node.kubernetes.io/instance-type": instance_type},
            "annotations": {f"sim.gputui.dev/{k.replace('_', '-')}": v for k, v in annotations.items()},
        }
    }


def run(n: dict, command: str, busy: int = 0) -> tuple[str, int]:
    return nvsmi.render(n, command, now=NOW, busy_gpus=busy)


# -- the default table -----------------------------------------------------------------


def test_table_frame_matches_real_capture_line_for_line(reference):
    real = ref(reference, "text", "nvidia-l40s__595.80.idle.nvidia-smi.txt").read_text().splitlines()
    out, code = run(node(instance_type="g6e.xlarge", driver_version="595.80"), "nvidia-smi")
    ours = out.splitlines()
    assert code == 0
    assert len(ours) == len(real)
    # Header, column titles and the process section are identical; the timestamp keeps its trailing padding.
    for i in list(range(1, 8)) + list(range(12, len(real))):
        assert ours[i] == real[i], f"line {i}"
    assert re.fullmatch(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}       ", ours[0])
    # The GPU rows put their separators in exactly the same columns.
    for i in range(8, 12):
        assert [m.start() for m in re.finditer(r"[|+]", ours[i])] == [m.start() for m in re.finditer(r"[|+]", real[i])]
    assert ours[8].startswith("|   0  NVIDIA L40S ")
    assert "  0MiB /  46068MiB" in ours[9]
    assert ours[10].rstrip(" |").endswith("N/A")  # L40S has no MIG


def test_table_process_rows_align_with_real_capture(reference):
    real = ref(reference, "text", "nvidia-h100-80gb-hbm3__590.48.01.load.nvidia-smi.txt").read_text().splitlines()
    out, _ = run(node(instance_type="p5.48xlarge"), "nvidia-smi", busy=2)
    rows = [l for l in out.splitlines() if re.match(r"\|\s+\d+\s+N/A\s+N/A\s+\d+", l)]
    real_row = next(l for l in real if "memhog" in l)
    assert len(rows) == 2
    assert [m.start() for m in re.finditer(r"\|", rows[0])] == [m.start() for m in re.finditer(r"\|", real_row)]
    assert len(rows[0]) == len(real_row) == 91
    # One block per GPU, each closed by the GPU separator; MIG-capable H100 shows "Disabled".
    assert out.count("| N/A ") == 8
    assert out.count("Disabled |") == 8


def test_list_gpus_matches_capture_format_and_instance_gpu_count(reference):
    real = ref(reference, "text", "nvidia-h100-80gb-hbm3__590.48.01.nvidia-smi-L.txt").read_text().splitlines()
    pattern = re.compile(
        r"GPU (\d+): (.+) \(UUID: (GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)"
    )
    assert pattern.fullmatch(real[0])
    out, code = run(node(instance_type="g5.12xlarge"), "nvidia-smi -L")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4
    parsed = [pattern.fullmatch(l) for l in lines]
    assert all(parsed)
    assert [m.group(1) for m in parsed] == ["0", "1", "2", "3"]
    assert {m.group(2) for m in parsed} == {"NVIDIA A10G"}
    assert len({m.group(3) for m in parsed}) == 4


def test_identity_is_deterministic_per_node():
    a1, _ = run(node("node-a"), "nvidia-smi -L")
    a2, _ = run(node("node-a"), "nvidia-smi -L")
    b, _ = run(node("node-b"), "nvidia-smi -L")
    assert a1 == a2
    assert a1 != b


def test_gpu_model_annotation_and_catalogue():
    out, _ = run(node(instance_type="p4d.24xlarge"), "nvidia-smi -L")
    assert out.count("NVIDIA A100-SXM4-40GB") == 8
    out, _ = run(node(instance_type="g4dn.xlarge"), "nvidia-smi -L")
    assert out.startswith("GPU 0: Tesla T4 (UUID: GPU-")
    out, _ = run(node(instance_type="g5.xlarge", gpu_model="NVIDIA L4"), "nvidia-smi -L")
    assert out.startswith("GPU 0: NVIDIA L4 (UUID: ")
    karpenter_only = {
        "metadata": {
            "name": "n",
            "labels": {"karpenter.k8s.aws/instance-gpu-name": "l40s", "karpenter.k8s.aws/instance-gpu-count": "2"},
        }
    }
    out, _ = run(karpenter_only, "nvidia-smi -L")
    assert out.count("NVIDIA L40S") == 2


# -- CSV ---------------------------------------------------------------------------------

FIELDS = [
    "index",
    "name",
    "uuid",
    "pci.bus_id",
    "driver_version",
    "memory.total",
    "memory.used",
    "utilization.gpu",
    "temperature.gpu",
    "power.draw",
    "power.limit",
    "ecc.errors.uncorrected.volatile.total",
    "ecc.errors.uncorrected.aggregate.total",
    "retired_pages.pending",
    "remapped_rows.pending",
    "mig.mode.current",
    "clocks_event_reasons.active",
]


def test_query_gpu_header_and_values_shaped_like_real_csv(reference):
    rows = list(
        csv.reader(
            ref(reference, "csv", "nvidia-h100-80gb-hbm3__590.48.01.load.query-gpu.csv").open(), skipinitialspace=True
        )
    )
    real_header = {h.split(" [")[0]: h for h in rows[0]}
    real_values = dict(zip((h.split(" [")[0] for h in rows[0]), rows[1]))
    out, code = run(
        node(instance_type="p5.48xlarge"), f"nvidia-smi --query-gpu={','.join(FIELDS)} --format=csv", busy=1
    )
    assert code == 0
    ours = list(csv.reader(io.StringIO(out), skipinitialspace=True))
    assert ours[0] == [real_header[f] for f in FIELDS]
    assert len(ours) == 1 + 8
    for field, value in zip(FIELDS, ours[1]):
        real = real_values[field]
        # Same unit suffix and the same [N/A] convention as the real capture.
        assert re.sub(r"[\d.]+", "9", value) == re.sub(r"[\d.]+", "9", real) or field in (
            "name",
            "uuid",
            "pci.bus_id",
            "driver_version",
        ), field


def test_query_gpu_noheader_nounits_and_aliases():
    out, code = run(
        node(instance_type="g5.12xlarge"),
        "nvidia-smi --query-gpu=index,memory.total,clocks_throttle_reasons.active,retired_pages.pending "
        "--format=csv,noheader,nounits",
    )
    assert code == 0
    assert out.splitlines() == [f"{i}, 23028, 0x0000000000000001, [N/A]" for i in range(4)]


def test_query_gpu_turing_retires_pages_instead_of_remapping_rows():
    out, _ = run(
        node(instance_type="g4dn.xlarge", ecc="1,3"),
        "nvidia-smi --query-gpu=retired_pages.double_bit.count,retired_pages.pending,remapped_rows.pending,"
        "ecc.errors.uncorrected.volatile.total,ecc.errors.uncorrected.aggregate.total --format=csv,noheader",
    )
    assert out == "3, Yes, [N/A], 1, 3\n"


def test_ecc_annotation_sets_gpu0_counts_and_remapping():
    out, _ = run(
        node(instance_type="g5.12xlarge", ecc="2,14"),
        "nvidia-smi --query-gpu=index,ecc.errors.uncorrected.volatile.total,"
        "ecc.errors.uncorrected.aggregate.total,remapped_rows.uncorrectable,remapped_rows.pending "
        "--format=csv,noheader",
    )
    assert out.splitlines() == ["0, 2, 14, 14, Yes", "1, 0, 0, 0, No", "2, 0, 0, 0, No", "3, 0, 0, 0, No"]
    table, _ = run(node(instance_type="g5.12xlarge", ecc="2,14"), "nvidia-smi")
    first_gpu = next(l for l in table.splitlines() if l.startswith("|   0  "))
    assert first_gpu.endswith("|                    2 |")


def test_query_gpu_unknown_field_fails_like_nvidia_smi():
    out, code = run(node(), "nvidia-smi --query-gpu=index,bogus --format=csv")
    assert code == 2
    assert out.splitlines()[0] == 'Field "bogus" is not a valid field to query.'
    out, code = run(node(), "nvidia-smi --query-gpu=index")
    assert code == 2 and out.startswith("Invalid combination of input arguments.")


def test_query_compute_apps_header_matches_real_capture(reference):
    real = (
        ref(reference, "csv", "nvidia-h100-80gb-hbm3__590.48.01.load.query-compute-apps.csv").read_text().splitlines()
    )
    fields = [h.split(" [")[0] for h in real[0].split(", ")]
    out, code = run(
        node(instance_type="p5.48xlarge"), f"nvidia-smi --query-compute-apps={','.join(fields)} --format=csv", busy=1
    )
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == real[0]
    assert len(lines) == 2
    assert re.fullmatch(
        r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}, NVIDIA H100 80GB HBM3, 00000000:[0-9A-F]{2}:"
        r"[0-9A-F]{2}\.0, \d{13}, GPU-[0-9a-f-]{36}, \d+, python, \d+ MiB",
        lines[1],
    )
    idle, _ = run(node(instance_type="p5.48xlarge"), "nvidia-smi --query-compute-apps=pid --format=csv,noheader")
    assert idle == ""


# -- -q and -q -x --------------------------------------------------------------------------


def _label_set(text: str) -> set[tuple[int, str]]:
    out = set()
    for line in text.splitlines():
        m = re.match(r"^( *)(\S.*?)\s*(?::|$)", line)
        if m:
            out.add((len(m.group(1)), m.group(2).strip()))
    return out


def test_query_report_uses_real_labels_at_real_indentation(reference):
    real: set[tuple[int, str]] = set()
    for f in ref(reference, "text").glob("*-q.txt"):
        real |= _label_set(f.read_text())
    for instance_type in ("g5.xlarge", "g4dn.xlarge", "p5.48xlarge"):
        out, code = run(node(instance_type=instance_type), "nvidia-smi -q", busy=1)
        assert code == 0
        assert out.startswith("\n==============NVSMI LOG==============\n\nTimestamp")
        extra = {(i, l) for i, l in _label_set(out) if not l.startswith("GPU 0000") and "NVSMI" not in l} - real
        assert not extra, (instance_type, sorted(extra))
    value_col = {
        line.index(": ")
        for line in out.splitlines()
        if ": " in line and "ID  " not in line and not line.startswith("            ")
    }
    assert 55 in value_col


def _paths(root: ET.Element) -> set[str]:
    out = set()

    def walk(e: ET.Element, prefix: str) -> None:
        for c in e:
            out.add(prefix + "/" + c.tag)
            walk(c, prefix + "/" + c.tag)

    walk(root, "")
    return out


def _parse_xml(text: str) -> ET.Element:
    # The DOCTYPE names an external DTD that is not shipped; parse from the root element.
    return ET.fromstring(text[text.index("<nvidia_smi_log") :])


def test_xml_report_uses_real_element_paths(reference):
    real: set[str] = set()
    for f in ref(reference, "xml").glob("*.xml"):
        real |= _paths(_parse_xml(f.read_text()))
    out, code = run(node(instance_type="g5.12xlarge", ecc="1,2"), "nvidia-smi -q -x", busy=1)
    assert code == 0
    assert out.startswith('<?xml version="1.0" ?>\n<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v')
    root = _parse_xml(out)
    assert root.tag == "nvidia_smi_log"
    assert root.findtext("attached_gpus") == "4"
    gpus = root.findall("gpu")
    assert len(gpus) == 4
    assert [g.get("id") for g in gpus] == [g.findtext("pci/pci_bus_id") for g in gpus]
    assert gpus[0].findtext("ecc_errors/aggregate/dram_uncorrectable") == "2"
    assert gpus[0].findtext("processes/process_info/process_name") == "python"
    assert gpus[1].find("processes/process_info") is None
    assert _paths(root) - real == set()


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, capture, code",
    [
        ("driver-not-loaded", "driver-not-loaded.txt", 9),
        ("no-devices", "no-devices-found.txt", 6),
        ("nvml-unknown-error", "nvml-unknown-error.txt", 255),
        ("version-mismatch", "nvml-driver-library-version-mismatch.txt", 18),
    ],
)
def test_failure_modes_print_exact_nvidia_text(mode, capture, code, reference):
    expected = ref(reference, "failures", capture).read_text().strip()
    for command in (
        "nvidia-smi",
        "nvidia-smi -L",
        "nvidia-smi -q -x",
        "nvidia-smi --query-gpu=index,name --format=csv",
    ):
        out, got = run(node(nvidia_smi=mode), command)
        assert (out.strip(), got) == (expected, code), command


def test_not_found_through_chroot_matches_capture(reference):
    expected = ref(reference, "failures", "chroot-nvidia-smi-not-found.txt").read_text().strip()
    out, code = run(node(nvidia_smi="not-found"), "chroot /host nvidia-smi")
    assert (out.strip(), code) == (expected, 127)
    out, code = run(node(nvidia_smi="not-found"), "nvidia-smi -L")
    assert (out, code) == ("sh: 1: nvidia-smi: not found\n", 127)


def test_gpu_missing_sees_one_gpu_fewer():
    out, _ = run(node(instance_type="g5.12xlarge", nvidia_smi="gpu-missing"), "nvidia-smi -L")
    assert len(out.splitlines()) == 3
    out, code = run(node(instance_type="g5.xlarge", nvidia_smi="gpu-missing"), "nvidia-smi")
    assert (out, code) == ("No devices were found\n", 6)


def test_driver_root_decides_which_chroot_finds_nvidia_smi():
    operator = node(driver_root="operator")
    host = node(driver_root="host")
    assert run(operator, "chroot /run/nvidia/driver nvidia-smi -L")[1] == 0
    out, code = run(operator, "chroot /host nvidia-smi -L")
    assert (out, code) == ("chroot: failed to run command 'nvidia-smi': No such file or directory\n", 127)
    assert run(host, "chroot /host nvidia-smi -L")[1] == 0
    out, code = run(host, "chroot /run/nvidia/driver nvidia-smi -L")
    assert code == 125
    assert out == "chroot: cannot change root directory to '/run/nvidia/driver': No such file or directory\n"


def test_exec_form_nvidia_smi_missing_is_a_start_error():
    result = nvsmi.run_container(node(nvidia_smi="not-found"), ["nvidia-smi"], now=NOW)
    assert result.exit_code == 128
    assert result.start_error and 'exec: "nvidia-smi": executable file not found in $PATH' in result.start_error
    ok = nvsmi.run_container(node(), ["nvidia-smi", "-L"], now=NOW)
    assert (ok.exit_code, ok.start_error) == (0, None)
    assert ok.log.startswith("GPU 0: NVIDIA A10G (UUID: GPU-")


# -- scripts and the kernel log ---------------------------------------------------------------

SCRIPT = """set -u
echo "=== gputui:list ==="
chroot /host nvidia-smi -L
echo "=== gputui:query-gpu ==="
chroot /host nvidia-smi --query-gpu=index,uuid --format=csv,noheader 2>&1
echo "=== gputui:dmesg ==="
dmesg -T 2>/dev/null | grep -i 'xid' || true
echo "=== gputui:end ==="
"""


def test_sectioned_script_runs_in_order_with_markers():
    n = node(instance_type="g5.xlarge", xid="79")
    out, code = run(n, SCRIPT)
    assert code == 0
    sections = re.split(r"^=== gputui:(\S+) ===\n", out, flags=re.M)
    assert sections[0] == ""
    names = sections[1::2]
    bodies = dict(zip(names, sections[2::2]))
    assert names == ["list", "query-gpu", "dmesg", "end"]
    uuid = re.search(r"UUID: (GPU-[0-9a-f-]+)", bodies["list"]).group(1)
    assert bodies["query-gpu"] == f"0, {uuid}\n"
    xid = bodies["dmesg"].splitlines()
    assert len(xid) == 1
    assert re.fullmatch(
        r"\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] NVRM: Xid \(PCI:0000:00:1e\): 79, "
        r"pid='<unknown>', name=<unknown>, GPU has fallen off the bus\.",
        xid[0],
    )
    assert bodies["end"] == ""


def test_script_on_broken_node_keeps_going_and_returns_last_status():
    out, code = run(node(nvidia_smi="driver-not-loaded"), "echo start\nnvidia-smi\necho after")
    assert code == 0
    assert out.splitlines() == ["start", gpu_facts.MSG_DRIVER_NOT_LOADED, "after"]
    out, code = run(node(nvidia_smi="driver-not-loaded"), "echo start; nvidia-smi")
    assert code == 9
    out, code = run(node(nvidia_smi="driver-not-loaded"), "set -e\nnvidia-smi\necho never")
    assert (code, "never" in out) == (9, False)
    out, code = run(node(nvidia_smi="driver-not-loaded"), "nvidia-smi -L && echo ok || echo failed")
    assert out.splitlines()[-1] == "failed" and code == 0
    out, code = run(node(), "nvidia-smi -L >/dev/null && echo ok; exit 3")
    assert (out, code) == ("ok\n", 3)


def test_kernel_log_has_one_line_per_xid_on_gpu0_address():
    out, _ = run(node(instance_type="p4d.24xlarge", xid="48,79"), "dmesg | grep NVRM: | grep Xid")
    lines = out.splitlines()
    assert [re.search(r"\): (\d+), ", l).group(1) for l in lines] == ["48", "79"]
    assert all("(PCI:0000:10:1c)" in l for l in lines)
    assert all(re.match(r"\[ *\d+\.\d{6}\] NVRM: Xid", l) for l in lines)
    clean, code = run(node(), "dmesg | grep -i xid")
    assert (clean, code) == ("", 1)


def test_unknown_commands_and_proc_version():
    out, code = run(node(), "lspci-nonexistent -v")
    assert (out, code) == ("sh: 1: lspci-nonexistent: not found\n", 127)
    out, code = run(node(driver_version="535.216.01"), "cat /proc/driver/nvidia/version | head -n 1")
    assert code == 0 and "535.216.01" in out
    out, code = run(node(nvidia_smi="driver-not-loaded"), "cat /proc/driver/nvidia/version")
    assert code == 1 and "No such file or directory" in out


def test_node_without_gpus_has_no_nvidia_smi():
    cpu = node(instance_type="m6i.large")
    assert run(cpu, "nvidia-smi") == ("sh: 1: nvidia-smi: not found\n", 127)
    # An explicit mode still wins, e.g. a GPU node whose labels are not known yet.
    assert run(node(instance_type="m6i.large", nvidia_smi="no-devices"), "nvidia-smi") == ("No devices were found\n", 6)
