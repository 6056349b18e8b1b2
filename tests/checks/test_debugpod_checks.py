"""GPU701-GPU708 (checks.debug) over observations built by hand, and the Xid facts."""

from __future__ import annotations

from types import SimpleNamespace as NS

from checks.debug import debug_checks, run_debug_checks, xid_fact
from checks.model import Severity
from gputui.debugpod.model import GpuInfo, SmiReport, XidEvent
from gputui.debugpod.parsers.failures import recognise
from gputui.debugpod.runner import PodProblem


def obs(report=None, expected=4, alloc=4, problem=None):
    return NS(
        node="gpu-1",
        expected_gpus=expected,
        expected_source="instance type g5.12xlarge",
        allocatable_gpus=alloc,
        report=report,
        pod_problem=problem,
    )


def gpus(n, **kw):
    return [GpuInfo(index=i, name="NVIDIA A10G", bus_id=f"00000000:00:{0x1B + i:02X}.0", **kw) for i in range(n)]


def codes(findings):
    return [(f.code, f.severity.label) for f in findings]


def test_registry_codes_and_names():
    assert [(c.code, c.name) for c in debug_checks()] == [
        ("GPU701", "debug-pod-failed"),
        ("GPU702", "nvidia-smi-failed"),
        ("GPU703", "gpu-missing"),
        ("GPU704", "gpu-allocatable-below-seen"),
        ("GPU705", "gpu-ecc-errors"),
        ("GPU706", "gpu-xid"),
        ("GPU707", "gpu-bad-state"),
        ("GPU708", "gpu-slowdown"),
    ]


def test_healthy_node_has_no_findings():
    assert run_debug_checks([obs(SmiReport(gpus=gpus(4, ecc_volatile_uncorrected=0)))]) == []


def test_missing_gpu_and_allocatable_below_seen():
    assert codes(run_debug_checks([obs(SmiReport(gpus=gpus(3)), alloc=3)])) == [("GPU703", "error")]
    f = run_debug_checks([obs(SmiReport(gpus=gpus(4)), alloc=2)])
    assert codes(f) == [("GPU704", "warning")] and "device plugin" in f[0].message
    mig = gpus(4, mig_mode="Enabled")
    assert run_debug_checks([obs(SmiReport(gpus=mig), alloc=0)]) == []  # MIG slices are counted elsewhere


def test_ecc_volatile_is_an_error_aggregate_only_a_warning():
    hot = gpus(1, ecc_volatile_uncorrected=2, ecc_aggregate_uncorrected=5)
    old = gpus(1, ecc_volatile_uncorrected=0, ecc_aggregate_uncorrected=5)
    assert codes(run_debug_checks([obs(SmiReport(gpus=hot), expected=1, alloc=1)])) == [("GPU705", "error")]
    f = run_debug_checks([obs(SmiReport(gpus=old), expected=1, alloc=1)])
    assert (
        codes(f) == [("GPU705", "warning")]
        and f[0].title == "gpu-1 GPU 0 (00000000:00:1B.0): 0 volatile / 5 aggregate uncorrectable ECC errors"
    )


def test_bad_state():
    failed = gpus(1, remapped_failure=True, remapped_pending=True)
    pending = gpus(1, retired_pending=True)
    assert codes(run_debug_checks([obs(SmiReport(gpus=failed), expected=1, alloc=1)])) == [("GPU707", "error")]
    f = run_debug_checks([obs(SmiReport(gpus=pending), expected=1, alloc=1)])
    assert codes(f) == [("GPU707", "warning")] and "page retirement" in f[0].title


def test_xids_grouped_per_code_with_facts():
    xids = [
        XidEvent(13, "0000:00:1b", "Graphics Exception", pid="2314", process="python"),
        XidEvent(13, "0000:00:1b", "Graphics Exception", pid="2315", process="python"),
        XidEvent(79, "0000:00:1c", "GPU has fallen off the bus.", pid="<unknown>", process="<unknown>"),
    ]
    f = run_debug_checks([obs(SmiReport(gpus=gpus(4), xids=xids))])
    assert codes(f) == [("GPU706", "error"), ("GPU706", "warning")]
    assert f[0].title == "gpu-1: Xid 79 x1 — GPU has fallen off the bus"
    assert "(process python)" in f[1].message and "x2" in f[1].title
    assert xid_fact(48).severity is Severity.ERROR and xid_fact(31).app and not xid_fact(79).app
    assert xid_fact(145).meaning == "NVLink error" and xid_fact(999).severity is Severity.WARNING


def test_failures_and_pod_problems():
    report = SmiReport(failure=recognise("Failed to initialize NVML: Unknown Error"))
    f = run_debug_checks([obs(report)])
    assert codes(f) == [("GPU702", "error")] and "daemon-reload" in f[0].message
    wrong_root = SmiReport(
        failure=recognise("chroot: cannot change root directory to '/run/nvidia/driver': No such file or directory")
    )
    assert codes(run_debug_checks([obs(wrong_root)])) == [("GPU702", "warning")]
    problem = PodProblem("image-pull", "ErrImagePull: not found", "pass --image")
    f = run_debug_checks([obs(None, problem=problem)])
    assert codes(f) == [("GPU701", "warning")] and f[0].message == "ErrImagePull: not found. Next step: pass --image"


def test_slowdown_and_err_cells_are_warnings():
    slow = gpus(1, slowdowns=["HW Slowdown", "HW Power Brake Slowdown"])
    f = run_debug_checks([obs(SmiReport(gpus=slow), expected=1, alloc=1)])
    assert codes(f) == [("GPU708", "warning")] and "HW Power Brake Slowdown Active" in f[0].title
    err = gpus(1, sensor_errors=["fan"])
    f = run_debug_checks([obs(SmiReport(gpus=err), expected=1, alloc=1)])
    assert codes(f) == [("GPU708", "warning")] and "ERR! for fan" in f[0].title


def test_access_failures_get_the_access_remedy_not_a_lost_gpu():
    report = SmiReport(failure=recognise("Failed to initialize NVML: Insufficient Permissions"))
    f = run_debug_checks([obs(report)])
    assert codes(f) == [("GPU702", "error")] and "not at fault" in f[0].message
    assert "replace the instance" not in f[0].message
