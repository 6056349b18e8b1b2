"""Findings from what nvidia-smi saw on each node (debug pods), next to what the node should have.

These checks do not read a ClusterSnapshot: they run over per-node observations that
`gputui.debugpod` collects. They are in the one registry with scope "debug" (`debug_checks()`),
and `run_debug_checks` runs them. An observation is any object with these attributes:

    node: str                      the Node's name
    expected_gpus: int | None      GPUs the instance type (or Karpenter/GFD labels) promises
    expected_source: str           where that number comes from, for the message
    allocatable_gpus: int | None   status.allocatable["nvidia.com/gpu"]
    pod_problem: object | None     the debug pod could not run: .kind, .message, .hint
    report: object | None          parsed output: .gpus, .failure (.kind .message .explanation .hint),
                                   .xids (.code .pci .text .process), .kernel_readable

Pure: no gputui, textual or kubernetes imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from checks.fix_kinds import FixKind
from checks.model import Finding, ObjectRef, Severity
from checks.recognise import recognise
from checks.registry import REGISTRY, Check, check

# -- Xid facts ------------------------------------------------------------------------------------
# What an Xid means and what to do, in operators' words. `app`: the NVIDIA device plugin treats it
# as an application error and keeps the GPU healthy (13, 31, 43, 45, 68).


@dataclass(frozen=True)
class XidFact:
    code: int
    meaning: str
    action: str
    severity: Severity
    app: bool = False


_XIDS: tuple[XidFact, ...] = (
    XidFact(
        13,
        "graphics engine exception (an illegal instruction or memory access in a kernel)",
        "fix or restart the application; if it follows the GPU, not the code, run diagnostics",
        Severity.WARNING,
        app=True,
    ),
    XidFact(
        31,
        "GPU memory page fault (an application touched memory it did not own)",
        "debug or restart the application; repeated on one GPU with different apps means hardware",
        Severity.WARNING,
        app=True,
    ),
    XidFact(
        43, "GPU stopped processing (a user application faulted)", "restart the application", Severity.WARNING, app=True
    ),
    XidFact(
        45, "preemptive cleanup after earlier errors", "follow the Xid that came before it", Severity.WARNING, app=True
    ),
    XidFact(
        48,
        "double-bit ECC error in GPU memory",
        "drain the node and reset the GPU (reboot); replace the instance if it returns",
        Severity.ERROR,
    ),
    XidFact(61, "internal micro-controller breakpoint", "reset the GPU (reboot the node)", Severity.ERROR),
    XidFact(62, "internal micro-controller halt", "reset the GPU (reboot the node)", Severity.ERROR),
    XidFact(
        63,
        "ECC page retirement or row remapping recorded",
        "reset the GPU when convenient so the remapping takes effect",
        Severity.WARNING,
    ),
    XidFact(
        64,
        "ECC page retirement or row remapping failed",
        "drain the node and reset the GPU; replace the instance if it repeats",
        Severity.ERROR,
    ),
    XidFact(68, "video decoder (NVDEC) exception", "restart the application", Severity.WARNING, app=True),
    XidFact(69, "graphics engine class error", "restart the application", Severity.WARNING),
    XidFact(
        74, "NVLink error", "drain the node and reset the GPUs; replace the instance if it repeats", Severity.ERROR
    ),
    XidFact(79, "GPU has fallen off the bus", "drain the node and reboot or replace the instance", Severity.ERROR),
    XidFact(
        92, "high single-bit ECC error rate", "watch it; reset the GPU if the rate keeps climbing", Severity.WARNING
    ),
    XidFact(
        94,
        "contained ECC error (only the affected application was stopped)",
        "restart the application; the GPU stays usable",
        Severity.WARNING,
    ),
    XidFact(95, "uncontained ECC error", "drain the node and reset the GPU (reboot)", Severity.ERROR),
    XidFact(109, "context switch timeout", "reset the GPU (reboot the node)", Severity.ERROR),
    XidFact(
        119,
        "GSP RPC timeout (the GPU's system processor stopped answering)",
        "drain the node and reset the GPU; consider a newer driver",
        Severity.ERROR,
    ),
    XidFact(120, "GSP error", "drain the node and reset the GPU; consider a newer driver", Severity.ERROR),
    XidFact(121, "C2C link error", "watch it; contact support if it repeats", Severity.WARNING),
    XidFact(140, "unrecovered ECC error", "drain the node and reset the GPU (reboot)", Severity.ERROR),
    XidFact(
        143, "GPU initialisation failure", "reset the GPU (reboot); replace the instance if it persists", Severity.ERROR
    ),
    XidFact(
        154,
        "GPU recovery action changed (follows another Xid)",
        "do what the recovery action asks: reset the GPU or reboot the node",
        Severity.ERROR,
    ),
)
XID_FACTS = {x.code: x for x in _XIDS}


def xid_fact(code: int) -> XidFact:
    known = XID_FACTS.get(code)
    if known:
        return known
    if 144 <= code <= 150:
        return XidFact(
            code,
            "NVLink error",
            "drain the node and reset the GPUs; replace the instance if it repeats",
            Severity.ERROR,
        )
    return XidFact(code, "driver-reported GPU error", "look the code up in NVIDIA's Xid catalogue", Severity.WARNING)


# -- registry ---------------------------------------------------------------------------------------


def _debug_check(
    code: str, name: str, severity: Severity, title: str, fixes: tuple[FixKind, ...] = ()
) -> Callable[[Callable[..., Any]], Check]:
    # In the one registry with scope "debug": never run on a snapshot, listed and explained
    # with the rest.
    return check(code, name, severity, title, reads=("nvidia-smi output",), scope="debug", fixes=fixes)


def debug_checks() -> list[Check]:
    return [c for c in REGISTRY.all() if c.scope == "debug"]


def _finding(
    chk: Check, severity: Severity | None, node: str, title: str, message: str, evidence: Iterable[str] = ()
) -> Finding:
    return chk.finding(message, ObjectRef(kind="Node", name=node), severity=severity, title=title, evidence=evidence)


def _gpu_label(g: Any) -> str:
    index = f"GPU {g.index}" if getattr(g, "index", None) is not None else "a GPU"
    bus = f" ({g.bus_id})" if getattr(g, "bus_id", None) else ""
    return index + bus


@_debug_check("GPU701", "debug-pod-failed", Severity.WARNING, "The nvidia-smi debug pod could not run")
def debug_pod_failed(obs: Any) -> Iterable[Finding]:
    """The nvidia-smi debug pod could not run.

    What it checks: whether the debug pod started, ran and produced a log.

    Why it matters: without it nothing is known about the driver on the node.

    How to fix: follow the hint (namespace PodSecurity label, image mirror or pull secret, --mode).

    Severity: Always warning: the node's GPUs are not known to be hurt, only unread."""
    problem = getattr(obs, "pod_problem", None)
    if problem is None:
        return
    yield _finding(
        debug_pod_failed,
        None,
        obs.node,
        f"nvidia-smi could not run on {obs.node}: {problem.kind}",
        f"{problem.message}. Next step: {problem.hint}",
        [problem.message],
    )


@_debug_check("GPU702", "nvidia-smi-failed", Severity.ERROR, "nvidia-smi fails on the node")
def nvidia_smi_failed(obs: Any) -> Iterable[Finding]:
    """nvidia-smi fails on the node.

    What it checks: nvidia-smi's own failure output (driver not loaded, NVML errors, no devices, not found).

    Why it matters: pods cannot use the node's GPUs until the driver works.

    How to fix: as the message says for each failure.

    Severity: Error by default. Warning when nvidia-smi is not found or /run/nvidia/driver is missing: the
    debug pod looked in the wrong driver location (run again with another --mode), which says nothing yet
    about the GPUs."""
    report = getattr(obs, "report", None)
    failure = getattr(report, "failure", None) if report is not None else None
    if failure is None or failure.kind == "invalid-field":
        return
    severity = Severity.WARNING if failure.kind in ("not-found", "driver-root-missing") else None
    # The remedy the real-world texts are known by (checks.recognise); the parser's hint where none applies.
    rec = recognise(failure.message)
    step = rec.remedy_text if rec is not None and rec.family == "nvidia-smi" else failure.hint
    yield _finding(
        nvidia_smi_failed,
        severity,
        obs.node,
        f"nvidia-smi on {obs.node}: {failure.kind}",
        f"{failure.explanation}. Next step: {driver_next_step(failure, getattr(obs, 'driver_pod', None), step)}",
        [failure.message],
    )


def driver_next_step(failure: Any, driver_pod: str | None, general: str | None = None) -> str:
    """The next step for a failure of the driver itself names the driver pod that runs on the
    node, or says there is none (the driver comes with the node image); `driver_pod` None: not
    known, and the general step (by default the parser's hint) stands."""
    if driver_pod is None or failure.kind not in ("driver-not-loaded", "version-mismatch"):
        return str(general if general is not None else failure.hint)
    if driver_pod:
        ns, _, name = driver_pod.partition("/")
        if failure.kind == "driver-not-loaded":
            return f"read the log of the driver pod {name} on this node: `kubectl logs -n {ns} {name} --all-containers`"
        return (
            f"drain the node and reboot it, or restart the driver pod {name} (`kubectl delete pod -n {ns} {name}`), "
            "so the kernel module and libraries match; Karpenter users can simply replace the node"
        )
    if failure.kind == "driver-not-loaded":
        return (
            "no GPU Operator driver pod runs on this node, so the driver comes with the node image: look for NVRM "
            "lines in the node's kernel log (`dmesg | grep NVRM`) and check the AMI matches the instance's GPU"
        )
    return (
        "no GPU Operator driver pod runs on this node (the driver is on the host): drain the node and reboot it, "
        "or replace it"
    )


@_debug_check("GPU703", "gpu-missing", Severity.ERROR, "nvidia-smi sees fewer GPUs than the node should have")
def gpu_missing(obs: Any) -> Iterable[Finding]:
    """nvidia-smi sees fewer GPUs than the node should have.

    What it checks: the number of GPUs nvidia-smi lists against the instance type's GPU count.

    Why it matters: a GPU the driver cannot see is lost capacity (fallen off the bus, failed to initialise).

    How to fix: drain the node and replace the instance; look for Xid 79 in the kernel log.

    Severity: Always error: a GPU the driver cannot see is lost capacity."""
    report = getattr(obs, "report", None)
    expected = getattr(obs, "expected_gpus", None)
    if report is None or getattr(report, "failure", None) is not None or not expected:
        return
    seen = len(report.gpus)
    if seen >= expected:
        return
    ids = ", ".join(g.bus_id for g in report.gpus if g.bus_id)
    yield _finding(
        gpu_missing,
        None,
        obs.node,
        f"{obs.node}: nvidia-smi sees {seen} of {expected} GPUs",
        f"the driver lists {seen} GPU(s) but {obs.expected_source} promises {expected}; the missing "
        "GPU fell off the bus or failed to initialise. Next step: check the kernel log for Xid 79, "
        "then drain the node and replace the instance",
        [f"seen: {ids}" if ids else f"seen: {seen}"],
    )


@_debug_check(
    "GPU704", "gpu-allocatable-below-seen", Severity.WARNING, "The node advertises fewer GPUs than nvidia-smi sees"
)
def allocatable_below_seen(obs: Any) -> Iterable[Finding]:
    """The node advertises fewer GPUs than nvidia-smi sees.

    What it checks: allocatable nvidia.com/gpu against the GPUs the driver sees.

    Why it matters: the driver is fine, so the device plugin is the broken link (not running, not registered,
    or marking GPUs unhealthy after an Xid).

    How to fix: look at the device plugin pod on the node (gputui diagnose, GPU101/GPU103).

    Severity: Always warning."""
    report = getattr(obs, "report", None)
    alloc = getattr(obs, "allocatable_gpus", None)
    if report is None or getattr(report, "failure", None) is not None or alloc is None:
        return
    seen = len(report.gpus)
    if any(getattr(g, "mig_mode", None) == "Enabled" for g in report.gpus):
        return  # MIG: allocatable counts slices or their own resources, not whole GPUs
    if alloc >= seen:
        return
    yield _finding(
        allocatable_below_seen,
        None,
        obs.node,
        f"{obs.node}: {alloc} allocatable GPU(s), nvidia-smi sees {seen}",
        f"the driver sees {seen} GPU(s) but the node advertises {alloc} nvidia.com/gpu: the device "
        "plugin is not running, not registered, or marked GPUs unhealthy. Next step: check the "
        "device plugin pod on this node (`gputui diagnose --node " + obs.node + "`)",
    )


@_debug_check("GPU705", "gpu-ecc-errors", Severity.ERROR, "Uncorrectable ECC errors on a GPU")
def ecc_errors(obs: Any) -> Iterable[Finding]:
    """Uncorrectable ECC errors on a GPU.

    What it checks: uncorrectable ECC counters (volatile since the last reset, aggregate over the GPU's life).

    Why it matters: volatile uncorrectable errors crash jobs and usually need a GPU reset; a growing aggregate
    count points at failing memory.

    How to fix: drain the node and reset the GPU (reboot); replace the instance if errors return.

    Severity: Error when a GPU has volatile uncorrectable ECC errors (since its last reset). Warning when only
    the aggregate (lifetime) count is non-zero."""
    report = getattr(obs, "report", None)
    for g in getattr(report, "gpus", None) or ():
        vol = g.ecc_volatile_uncorrected or 0
        agg = g.ecc_aggregate_uncorrected or 0
        if not vol and not agg:
            continue
        severity = Severity.ERROR if vol else Severity.WARNING
        action = (
            "drain the node and reset the GPU (reboot); replace the instance if errors return"
            if vol
            else "no errors since the last reset; keep watching the aggregate count"
        )
        yield _finding(
            ecc_errors,
            severity,
            obs.node,
            f"{obs.node} {_gpu_label(g)}: {vol} volatile / {agg} aggregate uncorrectable ECC errors",
            f"{_gpu_label(g)} ({g.name or 'GPU'}) reports uncorrectable ECC errors. Next step: {action}",
            [f"ecc.errors.uncorrected.volatile.total={vol}", f"ecc.errors.uncorrected.aggregate.total={agg}"],
        )


@_debug_check("GPU706", "gpu-xid", Severity.ERROR, "The kernel log has NVIDIA Xid errors")
def xid_errors(obs: Any) -> Iterable[Finding]:
    """The kernel log has NVIDIA Xid errors.

    What it checks: `NVRM: Xid` lines in the node's kernel log.

    Why it matters: Xids are the driver's error reports; some are application bugs, others mean the GPU
    needs a reset or the instance a replacement.

    How to fix: per code, as the message says.

    Severity: Error for Xids that mean the GPU or node needs a reset or replacement (48, 61, 62, 64, 74, 79, 95,
    109, 119, 120, 140, 143, 144-150, 154). Warning for application faults and codes to watch (13, 31, 43, 45,
    63, 68, 69, 92, 94, 121) and for codes gputui does not know."""
    report = getattr(obs, "report", None)
    xids = list(getattr(report, "xids", None) or ())
    if not xids:
        return
    by_code: dict[int, list[Any]] = {}
    for x in xids:
        by_code.setdefault(x.code, []).append(x)
    for code, events in sorted(by_code.items()):
        fact = xid_fact(code)
        devices = sorted({e.pci for e in events})
        who = sorted({e.process for e in events if e.process and e.process != "<unknown>"})
        app = f" (process {', '.join(who)})" if who else ""
        yield _finding(
            xid_errors,
            fact.severity,
            obs.node,
            f"{obs.node}: Xid {code} x{len(events)} — {fact.meaning}",
            f"Xid {code} on {', '.join(devices)}{app}: {fact.meaning}. Next step: {fact.action}",
            [e.line or f"Xid {e.code}: {e.text}" for e in events[-3:]],
        )


@_debug_check("GPU707", "gpu-bad-state", Severity.WARNING, "A GPU needs a reset or has failed row remapping")
def bad_state(obs: Any) -> Iterable[Finding]:
    """A GPU needs a reset or has failed row remapping.

    What it checks: pending row remaps / page retirements (the GPU needs a reset) and remapping failures.

    Why it matters: a pending remap keeps bad memory in use until the GPU resets; a failed remap means the
    memory cannot be repaired.

    How to fix: reset the GPU (drain and reboot); replace the instance after a remapping failure.

    Severity: Warning when a GPU has a row remap or page retirement pending (it needs a reset). Error when row
    remapping failed: the memory cannot be repaired."""
    report = getattr(obs, "report", None)
    for g in getattr(report, "gpus", None) or ():
        if g.remapped_failure:
            yield _finding(
                bad_state,
                Severity.ERROR,
                obs.node,
                f"{obs.node} {_gpu_label(g)}: row remapping failed",
                f"{_gpu_label(g)} could not remap a failing memory row. Next step: drain the node and "
                "replace the instance",
                ["remapped_rows.failure=Yes"],
            )
        elif g.remapped_pending or g.retired_pending:
            what = "a row remap" if g.remapped_pending else "a page retirement"
            yield _finding(
                bad_state,
                None,
                obs.node,
                f"{obs.node} {_gpu_label(g)}: {what} is pending",
                f"{_gpu_label(g)} has {what} waiting for a GPU reset. Next step: drain the node and "
                "reboot it (a reset applies the remap)",
                ["remapped_rows.pending=Yes" if g.remapped_pending else "retired_pages.pending=Yes"],
            )


@_debug_check("GPU708", "gpu-slowdown", Severity.WARNING, "A GPU is slowed down by the hardware or unreadable")
def gpu_slowdown(obs: Any) -> Iterable[Finding]:
    """A GPU is slowed down by the hardware or unreadable.

    What it checks: clock slowdown reasons nvidia-smi -q reports Active (HW Slowdown, HW Power Brake
    Slowdown, HW or SW Thermal Slowdown) and ERR! cells in the nvidia-smi table.

    Why it matters: a power brake or thermal slowdown cuts the GPU's clocks (by half or more) for every pod
    on it; a sensor that reads ERR! is often the first sign of a failing GPU.

    How to fix: check the GPU's temperature and power draw; move the workload off the node and replace the
    instance if the slowdown or the ERR! stays.

    Severity: Always warning: the GPU still works, slower or partly unread."""
    report = getattr(obs, "report", None)
    for g in getattr(report, "gpus", None) or ():
        slow = list(getattr(g, "slowdowns", None) or ())
        unread = list(getattr(g, "sensor_errors", None) or ())
        if slow:
            yield _finding(
                gpu_slowdown,
                None,
                obs.node,
                f"{obs.node} {_gpu_label(g)}: {', '.join(slow)} Active",
                f"the hardware is slowing {_gpu_label(g)} down ({', '.join(slow)}). Next step: check its "
                "temperature and power draw in nvidia-smi -q; drain the node and replace the instance if it stays",
                [f"{s}: Active" for s in slow],
            )
        if unread:
            yield _finding(
                gpu_slowdown,
                None,
                obs.node,
                f"{obs.node} {_gpu_label(g)}: nvidia-smi shows ERR! for {', '.join(unread)}",
                f"nvidia-smi could not read the {', '.join(unread)} of {_gpu_label(g)}. Next step: run it again; "
                "if the ERR! stays, drain the node, read the kernel log for Xid errors and replace the instance",
                [f"{c}: ERR!" for c in unread],
            )


def run_debug_checks(observations: Iterable[Any]) -> list[Finding]:
    findings: list[Finding] = []
    for obs in observations:
        for c in debug_checks():
            findings.extend(c(obs))
    findings.sort(key=lambda f: f.sort_key)
    return findings
