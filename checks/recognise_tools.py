"""Recognition rules for nvidia-smi failure and health outputs, EC2NodeClass settings and scheduling texts.

Registered with `checks.recognise.rule`; see that module for the vocabulary.

* nvidia-smi: what it prints when it cannot run (driver not loaded, library mismatch, NVML
  library missing, permissions, device cgroup, a GPU that stopped answering) and the health
  signs in a working output (`ERR!` cells, HW/thermal slowdown Active in `nvidia-smi -q`).
  An access or permission failure is about the container, never "the GPU fell off the bus".
* nodeclass-settings: kubelet settings of the EC2NodeClass that keep pods off a node
  (maxPods / podsPerCore: the scheduler's "Too many pods", kubelet's OutOfpods).
* scheduling: kube-scheduler and Karpenter FailedScheduling texts, read with
  checks.event_messages (every wording it knows), wherever they sit in a pasted log line.

Every rule checks a cheap substring first: they run on every event of a large cluster.
"""

from __future__ import annotations

import re
from typing import Any

from checks.event_messages import (
    KarpenterError,
    KarpenterMessage,
    Reason,
    SchedulerMessage,
    parse_karpenter_message,
    parse_scheduler_message,
)
from checks.recognise import REPLACE_GPU_NODE, Recognition, recognition, remedy, rule

HEADLINE_MAX = 110


def headline(lead: str, key: str) -> str:
    """`lead: key`, shortened to HEADLINE_MAX characters without losing `key` (the error
    code, resource or taint that names the failure); the full text stays in the evidence."""
    key = " ".join(key.split())
    if len(key) > HEADLINE_MAX - 10:
        key = key[: HEADLINE_MAX - 11] + "…"
    room = HEADLINE_MAX - len(key) - 2
    lead = " ".join(lead.split())
    if len(lead) > room:
        lead = lead[: max(room - 1, 0)].rstrip() + "…"
    return f"{lead}: {key}" if lead else key


def _first_line(text: str, needle: str) -> str:
    low = needle.lower()
    for line in text.splitlines():
        if low in line.lower():
            return line.strip()
    return text.strip().splitlines()[0] if text.strip() else ""


# -- nvidia-smi -------------------------------------------------------------------

LOAD_DRIVER = remedy(
    "load-nvidia-driver",
    "The NVIDIA kernel module is not loaded on the node: check that the node's AMI carries the NVIDIA driver "
    "for this GPU and kernel (or that the GPU Operator's driver pod on the node is Running), and read the "
    "kernel log for NVRM errors; in a container, run it with the NVIDIA runtime and a GPU request.",
)
REBOOT_MISMATCH = remedy(
    "reboot-after-driver-upgrade",
    "The NVIDIA libraries and the loaded kernel module differ (a driver upgrade without a reboot): drain and "
    "reboot the node, or replace it, and pin the driver so unattended upgrades cannot change it under a "
    "running node.",
)
MOUNT_LIBRARIES = remedy(
    "mount-driver-libraries",
    "The container has no libnvidia-ml.so: run the pod with the NVIDIA container runtime (runtimeClassName "
    "nvidia, or the node's default runtime) and an nvidia.com/gpu request so the driver libraries are "
    "mounted, instead of installing a driver in the image.",
)
GRANT_DEVICE_ACCESS = remedy(
    "grant-gpu-device-access",
    "The process may not open the GPU device files: check the pod requests nvidia.com/gpu through the device "
    "plugin and runs with the NVIDIA runtime, and on the node the /dev/nvidia* permissions and SELinux "
    "labels (container_use_devices); the GPU itself is not at fault.",
)
ALLOW_DEVICE_CGROUP = remedy(
    "allow-gpu-device-cgroup",
    "The operating system keeps this process away from the GPU: in a container, check the NVIDIA container "
    "toolkit's no-cgroups setting and that the pod gets the GPU through the device plugin; on WSL or a VM, "
    "check the host passes the GPU through. The GPU itself is not at fault.",
)
INSPECT_GPU = remedy(
    "drain-and-inspect-gpu",
    "The GPU at that bus id does not answer the driver: cordon the node, read the kernel log for Xid 79 or "
    "NVRM errors on that bus id, and reboot it; replace the instance if the GPU does not come back.",
)
CHECK_ATTACHED = remedy(
    "check-gpu-attached",
    "The driver is loaded but sees no GPU: check that the instance type has GPUs and they are bound to the "
    "nvidia driver (lspci -d 10de: on the node, kernel log for probe errors); replace the instance if the "
    "GPU is gone.",
)
RECHECK_SENSORS = remedy(
    "recheck-gpu-sensors",
    "nvidia-smi could not read a sensor of that GPU (ERR!): run it again; if the same column stays ERR!, "
    "cordon the node, read the kernel log for Xid errors and replace the instance.",
)
CHECK_POWER_COOLING = remedy(
    "check-gpu-power-cooling",
    "The hardware is slowing the GPU down (power brake or thermal slowdown): check its temperature and power "
    "draw in nvidia-smi -q, and move the workload off the node and replace the instance if it stays Active.",
)


def _rec(family: str, cause: str, subject: str, lead: str, key: str, rem: str, **facts: Any) -> Recognition:
    """A recognition whose headline is `lead: key`, shortened without losing the key."""
    return recognition(family, cause, subject, headline(lead, key), rem, **facts)


_NVML_LIB = re.compile(r"NVML library version:\s*([\d.]+)")
_DEVICE_HANDLE = re.compile(
    r"Unable to (?:determine|detect) the device handle for GPU\s*([0-9A-Fa-f]{3,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d)"
    r"\s*:\s*([^\n]*)",
    re.I,
)
_ERR_CELL = re.compile(r"^\|.*\bERR!.*\|\s*$", re.M)
_SLOWDOWN_LINE = re.compile(
    r"^\s*(HW Slowdown|HW Thermal Slowdown|HW Power Brake Slowdown|SW Thermal Slowdown)\s*:\s*Active\s*$", re.M | re.I
)
_SLOWDOWN_XML = re.compile(
    r"<clocks_(?:event|throttle)_reason_(hw_slowdown|hw_thermal_slowdown|hw_power_brake_slowdown|sw_thermal_slowdown)>"
    r"\s*Active\s*<",
    re.I,
)
_SLOWDOWN_NAMES = {
    "hw_slowdown": "HW Slowdown",
    "hw_thermal_slowdown": "HW Thermal Slowdown",
    "hw_power_brake_slowdown": "HW Power Brake Slowdown",
    "sw_thermal_slowdown": "SW Thermal Slowdown",
}


@rule("nvidia-smi", order=40)
def nvidia_smi_failure(text: str) -> Recognition | None:
    """What nvidia-smi (or NVML through it) prints when it cannot read the GPUs."""
    low = text.lower()
    if "nvidia" not in low and "nvml" not in low and "gpu" not in low and "no devices were found" not in low:
        return None
    if "nvidia-container-cli" in low or "running hook" in low or "xid" in low or "nvml error:" in low:
        return None  # the container runtime hook's or the kernel's text, not nvidia-smi's
    if "unexpectedadmissionerror" in low or "allocate failed" in low:
        return None  # kubelet's admission of a GPU pod (the device plugin's answer), not nvidia-smi's
    if "failed to initialize nvml: unknown error" in low and "device handle" not in low:
        return None  # a running container that lost its GPUs: the runtime-hook family reads it
    fam = "nvidia-smi"
    if "communicate with the nvidia driver" in low:
        line = _first_line(text, "communicate with the NVIDIA driver")
        return _rec(fam, "driver-not-loaded", "Node", "nvidia-smi cannot reach the driver", line, LOAD_DRIVER)
    if "driver/library version mismatch" in low:
        m = _NVML_LIB.search(text)
        return _rec(
            fam,
            "driver-library-mismatch",
            "Node",
            "NVML",
            "Driver/library version mismatch",
            REBOOT_MISMATCH,
            nvml_library_version=m.group(1) if m else None,
        )
    if "libnvidia-ml.so" in low and ("couldn't find" in low or "could not find" in low):
        return _rec(fam, "nvml-library-missing", "Pod", "nvidia-smi", "couldn't find libnvidia-ml.so", MOUNT_LIBRARIES)
    if "nvml" in low:
        if "insufficient permissions" in low or "nvmlerror_nopermission" in low:
            return _rec(fam, "nvml-no-permission", "Pod", "NVML", "Insufficient Permissions", GRANT_DEVICE_ACCESS)
        if "gpu access blocked by the operating system" in low:
            return _rec(
                fam,
                "gpu-access-blocked",
                "Pod",
                "NVML",
                "GPU access blocked by the operating system",
                ALLOW_DEVICE_CGROUP,
            )
    if "device handle" in low:
        m = _DEVICE_HANDLE.search(text)
        if m:
            bus, why = m.group(1), m.group(2).strip()
            if "gpu is lost" in why.lower():
                return _rec(fam, "gpu-lost", "Node", f"GPU {bus}", "GPU is lost", REPLACE_GPU_NODE, bus_id=bus)
            return _rec(
                fam,
                "device-handle-error",
                "Node",
                f"GPU {bus} has no device handle",
                why or "error",
                INSPECT_GPU,
                bus_id=bus,
            )
    if "fallen off the bus" in low or "has fallen off" in low:
        return _rec(fam, "gpu-lost", "Node", "GPU", "fallen off the bus", REPLACE_GPU_NODE)
    if "no devices were found" in low:
        return _rec(fam, "no-devices", "Node", "nvidia-smi", "No devices were found", CHECK_ATTACHED)
    return None


@rule("nvidia-smi", order=45)
def nvidia_smi_health(text: str) -> Recognition | None:
    """Health signs in an output that ran: ERR! cells in the table, slowdown reasons Active."""
    if "ERR!" in text:
        cells = _ERR_CELL.findall(text)
        if cells or "nvidia-smi" in text.lower():
            lead = f"{len(cells)} nvidia-smi row(s) show" if cells else "nvidia-smi shows"
            return _rec("nvidia-smi", "err-cell", "Node", lead, "ERR!", RECHECK_SENSORS)
    if "lowdown" not in text and "slowdown" not in text.lower():
        return None
    reasons = [" ".join(m.group(1).split()) for m in _SLOWDOWN_LINE.finditer(text)]
    reasons += [_SLOWDOWN_NAMES[m.group(1).lower()] for m in _SLOWDOWN_XML.finditer(text)]
    if not reasons:
        return None
    canon = {r.lower(): r for r in _SLOWDOWN_NAMES.values()}
    names = list(dict.fromkeys(canon.get(r.lower(), r) for r in reasons))
    cause = (
        "power-brake"
        if "HW Power Brake Slowdown" in names
        else "thermal-slowdown"
        if any("Thermal" in n for n in names)
        else "hw-slowdown"
    )
    return _rec(
        "nvidia-smi",
        cause,
        "Node",
        "GPU clocks slowed",
        ", ".join(names) + " Active",
        CHECK_POWER_COOLING,
        slowdowns=names,
    )


# -- EC2NodeClass settings -------------------------------------------------------------

RAISE_MAX_PODS = remedy(
    "raise-max-pods",
    "The node is at its pod limit: raise (or remove) kubelet maxPods / podsPerCore in the EC2NodeClass so the "
    "limit covers the DaemonSet pods plus the workload, or let the NodePool pick larger instance types; with the "
    "VPC CNI keep maxPods within the instance's IP addresses (or enable prefix delegation).",
)
_OUT_OF_PODS = re.compile(r"(?:OutOfpods|Node didn't have enough resource: pods\b|reason: Insufficient pods\b)", re.I)


@rule("nodeclass-settings", order=50)
def pod_limit(text: str) -> Recognition | None:
    """The scheduler's "Too many pods" (when it is what keeps the pod off the nodes) and kubelet's OutOfpods."""
    if "pods" not in text and "Pods" not in text:
        return None
    m = _OUT_OF_PODS.search(text)
    if m:
        return _rec(
            "nodeclass-settings", "max-pods", "EC2NodeClass", "kubelet rejected the pod", "OutOfpods", RAISE_MAX_PODS
        )
    if "too many pods" not in text.lower():
        return None
    msg = _scheduler_message(text)
    if msg is None:
        return _rec("nodeclass-settings", "max-pods", "EC2NodeClass", "", "Too many pods", RAISE_MAX_PODS)
    if any(r.detail != "pods" for r in msg.reasons_of("resources")):
        return None
    pods = msg.reasons_of("too-many-pods") + msg.reasons_of("resources")
    n = pods[0].count if pods else None
    key = f"{n} Too many pods" if n is not None else "Too many pods"
    return _rec("nodeclass-settings", "max-pods", "EC2NodeClass", _fit_lead(msg), key, RAISE_MAX_PODS)


# -- scheduling --------------------------------------------------------------------------

CHECK_GPU_CAPACITY = remedy(
    "check-gpu-capacity",
    "No node has a free GPU: check that a NodePool allows GPU instance types and has room under its limits "
    "(Karpenter's own FailedScheduling event for the pod says why it launched none), and that the device "
    "plugin advertises nvidia.com/gpu on the GPU nodes.",
)
CHECK_NODE_CAPACITY = remedy(
    "check-node-capacity",
    "No node has room for the pod's requests: check that a NodePool can launch an instance large enough "
    "(requirements and limits) or lower the requests; Karpenter's own event for the pod says why it launched none.",
)
TOLERATE_TAINT = remedy(
    "tolerate-nodepool-taint",
    "The pod does not tolerate the taint on the nodes (or the NodePool's template): add the matching "
    "toleration to the pod (for nvidia.com/gpu, key nvidia.com/gpu with operator Exists), or remove the taint "
    "from the NodePool if other pods should land there.",
)
MATCH_REQUIREMENTS = remedy(
    "align-pod-nodepool-requirements",
    "The pod's nodeSelector/affinity asks for labels the NodePool does not offer: make the NodePool's "
    "requirements (or template labels) include the value the pod asks for, or fix the pod's selector.",
)
WIDEN_INSTANCE_TYPES = remedy(
    "widen-nodepool-instance-types",
    "No instance type allowed by the NodePool has the resources the pod (plus DaemonSets) needs, or none is "
    "offered in the allowed zones and capacity types: widen the NodePool's instance-type, zone and "
    "capacity-type requirements, or lower the requests.",
)
RAISE_LIMITS = remedy(
    "raise-nodepool-limits",
    "The NodePool's limits leave no room for another node: raise spec.limits of the NodePool (or let another "
    "NodePool take the pod).",
)
BIND_PVC = remedy(
    "bind-pvc",
    "The pod's PersistentVolumeClaim is not bound: check the claim's StorageClass exists and its provisioner "
    "(e.g. the EBS CSI driver) runs, or create a matching PersistentVolume.",
)
MATCH_VOLUME_ZONE = remedy(
    "match-volume-zone",
    "The pod's volume lives in a zone no usable node is in: let the NodePool launch in that volume's zone, or "
    "use a StorageClass with volumeBindingMode WaitForFirstConsumer.",
)
FIX_SELECTOR = remedy(
    "fix-node-selector",
    "No node matches the pod's nodeSelector/affinity: fix the pod's selector, or make a NodePool label its "
    "nodes with what the pod asks for.",
)

_KARPENTER_STARTS = (
    "Failed to schedule pod, ",
    "Could not schedule pod, ",
    "could not schedule pod, ",
    "incompatible with nodepool ",
    "incompatible with provisioner ",
    "no instance type ",
    "incompatible requirements, ",
    "all available instance types exceed limits",
)
_JSON_TAIL = re.compile(r'",\s*"(?:commit|pod|Pod|controller|namespace|errorCauses|name|reconcileID|logger)"')
_FIT_START = re.compile(r"0/\d+ nodes (?:are )?available", re.I)


_BARE_CLAUSE = re.compile(r"\b(\d+) (?:node\(s\) |Insufficient \S|Too many pods|pod has unbound)", re.I)


def _scheduler_message(text: str) -> SchedulerMessage | None:
    """The scheduler's message wherever it starts in `text`; a histogram pasted without its
    "0/N nodes are available:" head is read as if the head were there."""
    m = _FIT_START.search(text)
    if m is not None:
        msg = parse_scheduler_message(text[m.start() :])
        if msg.kind == "fit-error" and any(r.kind != "preemption" for r in msg.reasons):
            return msg
    b = _BARE_CLAUSE.search(text)
    if b is None:
        return None
    msg = parse_scheduler_message(f"0/{b.group(1)} nodes are available: " + text[b.start() :])
    msg.total_nodes = None
    return msg if msg.kind == "fit-error" and msg.reasons else None


def _karpenter_message(text: str) -> KarpenterMessage | None:
    body = text.replace('\\"', '"')
    starts = [i for i in (body.find(p) for p in _KARPENTER_STARTS) if i >= 0]
    if not starts:
        return None
    body = body[min(starts) :]
    tail = _JSON_TAIL.search(body)
    if tail:
        body = body[: tail.start()]
    body = body.strip()
    while body and body[-1] in '"}]; ' and body.count("}") > body.count("{") or body.endswith((";", '"')):
        body = body[:-1].rstrip()
    msg = parse_karpenter_message(body)
    if msg.kind == "unknown" and not body.startswith(("Failed", "Could", "could")):
        # a bare clause list: parse it as if Karpenter's prefix were there
        msg = parse_karpenter_message("Could not schedule pod, " + body)
    known = [e for e in msg.errors if e.kind not in ("other", "truncated")]
    return msg if known else None


def _fit_lead(msg: SchedulerMessage) -> str:
    return f"0/{msg.total_nodes} nodes available" if msg.total_nodes is not None else "no node fits"


_POOL_REQ = re.compile(r"karpenter\.sh/(?:nodepool|provisioner-name) In \[([^\]\s]+)\]")
_KARPENTER_ORDER = ("no-instance-type", "requirements", "limits", "volume", "min-values", "taint")


def _karpenter_pick(msg: KarpenterMessage) -> KarpenterError:
    """The clause to act on: a NodePool that could take the pod but for its instance types,
    requirements or limits beats one that merely carries a taint the pod does not tolerate."""
    known = [e for e in msg.errors if e.kind in _KARPENTER_ORDER]
    return min(known, key=lambda e: _KARPENTER_ORDER.index(e.kind))


def _gpu_count(resources: dict[str, Any] | None) -> str | None:
    if not resources:
        return None
    for k, v in resources.items():
        if "gpu" in k.lower() or k.startswith("nvidia.com/"):
            return str(v)
    return None


@rule("scheduling", order=60)
def karpenter_failed_scheduling(text: str) -> Recognition | None:
    """Karpenter's FailedScheduling / "could not schedule pod" texts, any version, with or without the prefix."""
    if "schedule pod" not in text and "incompatible" not in text and "no instance type" not in text:
        return None
    msg = _karpenter_message(text)
    if msg is None:
        return None
    e = _karpenter_pick(msg)
    pool = e.nodepool
    if pool is None and e.requirements:
        m = _POOL_REQ.search(e.requirements)
        pool = m.group(1) if m else None
    subject = f"NodePool/{pool}" if pool else "NodePool"
    lead = f"Karpenter: NodePool {pool}" if pool else "Karpenter"
    facts: dict[str, Any] = {"nodepool": pool, "nodepools": msg.nodepools or None}
    if e.kind == "taint":
        key = f"did not tolerate {e.taint}" if e.taint else "did not tolerate taint"
        return _rec("scheduling", "untolerated-taint", "Pod", lead, key, TOLERATE_TAINT, taint=e.taint_key, **facts)
    if e.kind == "requirements":
        key = f'label "{e.label}" not offered' if e.label else "incompatible requirements"
        return _rec(
            "scheduling", "incompatible-requirements", subject, lead, key, MATCH_REQUIREMENTS, label=e.label, **facts
        )
    if e.kind == "limits":
        return _rec(
            "scheduling", "nodepool-limits", subject, lead, e.detail or "limits exceeded", RAISE_LIMITS, **facts
        )
    if e.kind == "volume":
        return _rec(
            "scheduling", "volume-requirements", "PersistentVolumeClaim", lead, e.detail, MATCH_VOLUME_ZONE, **facts
        )
    gpus = _gpu_count(e.resources)
    key = e.detail or "no instance type"
    if gpus:
        key = f"{key} (nvidia.com/gpu: {gpus})"
    return _rec("scheduling", "no-instance-type", subject, lead, key, WIDEN_INSTANCE_TYPES, gpus=gpus, **facts)


_SCHEDULER_ORDER = ("resources", "too-many-pods", "volume", "taint", "node-affinity")


def _scheduler_pick(msg: SchedulerMessage) -> Reason | None:
    """The reason to act on. Nodes excluded by a selector or a foreign taint are usually not
    meant for the pod; the nodes that are meant for it fail on resources, pod count or volumes,
    so those come first whatever the counts."""
    known = [r for r in msg.reasons if r.kind in _SCHEDULER_ORDER]
    if not known:
        return None
    return min(known, key=lambda r: (_SCHEDULER_ORDER.index(r.kind), -(r.count or 0)))


# kube-scheduler before v1.6 named its predicates instead: "fit failure summary on nodes :
# PodToleratesNodeTaints (1)", "Failed for reason PodFitsResources and possibly others".
_OLD_PREDICATE = re.compile(
    r"\b(PodToleratesNodeTaints|PodFitsResources|MatchNodeSelector|NoVolumeZoneConflict|Insufficient\w+)\b"
)
_OLD_PREDICATES = {
    "PodToleratesNodeTaints": ("untolerated-taint", "Pod", TOLERATE_TAINT),
    "PodFitsResources": ("insufficient-resources", "NodePool", CHECK_NODE_CAPACITY),
    "MatchNodeSelector": ("node-selector-mismatch", "Pod", FIX_SELECTOR),
    "NoVolumeZoneConflict": ("volume-zone-conflict", "PersistentVolume", MATCH_VOLUME_ZONE),
}


@rule("scheduling", order=75)
def old_scheduler_predicates(text: str) -> Recognition | None:
    """Pre-v1.6 kube-scheduler texts that name the failing predicate."""
    if "fit failure" not in text and "Failed for reason" not in text:
        return None
    m = _OLD_PREDICATE.search(text)
    if m is None or m.group(1) not in _OLD_PREDICATES:
        return None
    cause, subject, rem = _OLD_PREDICATES[m.group(1)]
    return _rec("scheduling", cause, subject, "FailedScheduling", m.group(1), rem)


def _reason_key(r: Reason) -> str:
    return f"{r.count} {r.text}" if r.count is not None else r.text


@rule("scheduling", order=70)
def scheduler_failed_scheduling(text: str) -> Recognition | None:
    """kube-scheduler's "0/N nodes are available: ..." in any wording since v1.17."""
    if "node" not in text and "Insufficient" not in text and "PersistentVolumeClaims" not in text:
        return None
    msg = _scheduler_message(text)
    low = text.lower()
    if msg is None:
        if "unbound immediate persistentvolumeclaims" in low:
            return _rec(
                "scheduling",
                "unbound-pvc",
                "PersistentVolumeClaim",
                "FailedScheduling",
                "pod has unbound immediate PersistentVolumeClaims",
                BIND_PVC,
            )
        return None
    main = _scheduler_pick(msg)
    if main is None:
        return None
    lead = _fit_lead(msg)
    key = _reason_key(main)
    if main.kind == "resources" and main.detail == "pods":
        return _rec("nodeclass-settings", "max-pods", "EC2NodeClass", lead, key, RAISE_MAX_PODS)
    if main.kind == "resources":
        gpu = "gpu" in main.detail.lower() or main.detail.startswith("nvidia.com/")
        rem = CHECK_GPU_CAPACITY if gpu else CHECK_NODE_CAPACITY
        cause = "insufficient-gpu" if gpu else "insufficient-resources"
        return _rec("scheduling", cause, "NodePool", lead, key, rem, resource=main.detail)
    if main.kind == "too-many-pods":
        return _rec("nodeclass-settings", "max-pods", "EC2NodeClass", lead, key, RAISE_MAX_PODS)
    if main.kind == "taint":
        return _rec("scheduling", "untolerated-taint", "Pod", lead, key, TOLERATE_TAINT, taint=main.taint_key)
    if main.kind == "volume":
        low = main.text.lower()
        if "unbound" in low and "persistentvolumeclaim" in low:
            return _rec("scheduling", "unbound-pvc", "PersistentVolumeClaim", lead, key, BIND_PVC)
        if "volume node affinity conflict" in low:
            return _rec("scheduling", "volume-zone-conflict", "PersistentVolume", lead, key, MATCH_VOLUME_ZONE)
        return None
    if main.kind == "node-affinity":
        return _rec("scheduling", "node-selector-mismatch", "Pod", lead, key, FIX_SELECTOR)
    return None
