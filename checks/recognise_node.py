"""Recognition rules for kubelet GPU admission, NVIDIA runtime hook, GPU Operator driver images, Bottlerocket, NVSwitch and MIG texts.

Registered with `checks.recognise.rule`; see that module for the vocabulary. Every rule
looks for a few cheap lower-case substrings first and only then runs its regexes; a rule
returns None for a text it does not know and never raises.

Order: Bottlerocket first (a Bottlerocket node turns an operator or NVML error into "the
operator should not be there"), then the driver image and kernel rules, NVSwitch/MIG,
kubelet admission (an Allocate failure that quotes NVML is the device plugin's, not the
hook's) and last the runtime hook.
"""

from __future__ import annotations

import re
from functools import lru_cache

from checks.recognise import REPLACE_GPU_NODE, Recognition, mentions, recognition, remedy, rule

# ---------------------------------------------------------------------------- remedies

RESYNC_NODE_DEVICES = remedy(
    "resync-node-devices",
    "kubelet found fewer free GPUs on the node than the scheduler counted: compare the node's "
    "nvidia.com/gpu capacity and allocatable and check that the device plugin pod on that node is "
    "Running and not restarting; delete the Failed pods (their controller recreates them) and restart "
    "kubelet on the node if its device allocations stay stale.",
)
CHECK_NODE_DEVICE_PLUGIN = remedy(
    "check-node-device-plugin",
    "kubelet lost its connection to the device plugin (it restarted, crashed or cannot reach NVML): "
    "check the device plugin pod on that node (Running? restarts? its log), restart it if it lost "
    "NVML, and delete the Failed pods so they are admitted again.",
)
FIX_DEVICE_PLUGIN_NVML_ACCESS = remedy(
    "fix-device-plugin-nvml-access",
    "The device plugin may not open the GPUs through NVML (Insufficient Permissions; MIG-enabled GPUs "
    "need /dev/nvidia-caps): run the device plugin DaemonSet privileged (the GPU Operator's does) or "
    "give it the MIG capabilities, then delete the Failed pods.",
)
CHECK_NODE_DRIVER = remedy(
    "check-node-driver",
    "The NVIDIA runtime hook found no working driver on the node (kernel module not loaded): check the "
    "driver on that node (the GPU Operator's driver pod Ready, or the AMI's driver: nvidia-smi on the "
    "host), fix it, then delete the pod so it is created again.",
)
CHECK_NODE_DRIVER_LIBRARIES = remedy(
    "check-node-driver-libraries",
    "The NVIDIA libraries (libnvidia-ml.so.1) are not where the container toolkit looks: check that "
    "the driver is installed on the node and that the toolkit's driver root matches it (/run/nvidia/driver "
    "for the GPU Operator's driver container, / for a driver on the host), then recreate the pod.",
)
FIX_NVML_PERMISSIONS = remedy(
    "fix-nvml-permissions",
    "nvidia-container-cli may not open the NVIDIA devices (insufficient permissions): check the "
    "/dev/nvidia* device nodes' permissions, SELinux (container_use_devices) and the toolkit's "
    "user/no-cgroups settings on the node, then recreate the pod.",
)
FIX_CGROUP_DEVICE_ACCESS = remedy(
    "fix-cgroup-device-access",
    "A running container lost its GPUs: with the systemd cgroup driver a systemctl daemon-reload "
    "re-applies device rules without the NVIDIA devices. Create the /dev/char symlinks on the node "
    "(nvidia-ctk system create-dev-char-symlinks --create-all, or a toolkit version that does it) or "
    "use CDI, then delete the pod so it restarts with its GPUs.",
)
MATCH_CUDA_TO_DRIVER = remedy(
    "match-cuda-to-driver",
    "The image requires a newer CUDA/driver than the node's driver provides: run the pod on nodes with "
    "a newer driver (a newer GPU AMI or driver version) or use an image built for an older CUDA.",
)
FIX_NVIDIA_RUNTIME_CONFIG = remedy(
    "fix-nvidia-runtime-config",
    "containerd on the node has no working nvidia runtime: check the container toolkit on that node "
    "(its pod, or the AMI's /etc/containerd config) and the RuntimeClass handler, then recreate the pod.",
)
RELOAD_NODE_DRIVER = remedy(
    "reload-node-driver",
    "The loaded NVIDIA kernel module and the driver libraries differ (the driver was updated without "
    "reloading the module): reboot or replace the node (delete its NodeClaim); with the GPU Operator let "
    "the driver pod finish its upgrade first.",
)
FIX_TOOLKIT_LDCONFIG = remedy(
    "fix-toolkit-ldconfig",
    "The container toolkit's ldconfig path does not exist on this OS: set ldconfig in "
    "/etc/nvidia-container-runtime/config.toml (@/sbin/ldconfig on Amazon Linux and RHEL, "
    "@/sbin/ldconfig.real on Ubuntu) or use the toolkit build for the node's OS.",
)
REGENERATE_CDI_SPEC = remedy(
    "regenerate-cdi-spec",
    "The NVIDIA CDI hook failed, usually because the CDI spec no longer matches the installed driver: "
    "regenerate it on the node (nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml, or restart the "
    "toolkit pod that writes it), then recreate the pod.",
)
DEBUG_RUNTIME_HOOK = remedy(
    "debug-runtime-hook",
    "The NVIDIA runtime hook failed without saying why: on the node run "
    "`nvidia-container-cli -k -d /dev/tty info` and enable debug logs in "
    "/etc/nvidia-container-runtime/config.toml to see which step fails.",
)
DISABLE_OPERATOR_DRIVER = remedy(
    "disable-operator-driver",
    "No GPU Operator driver image exists for this Amazon Linux node, and the EKS NVIDIA AMIs ship the "
    "driver (and the container toolkit): set driver.enabled=false in the ClusterPolicy (and "
    "toolkit.enabled=false where the AMI ships the toolkit) instead of fixing the image reference.",
)
USE_PUBLISHED_DRIVER_TAG = remedy(
    "use-published-driver-tag",
    "The GPU Operator appended the node's OS to the driver version and no such image is published: "
    "set the ClusterPolicy driver.version (or the operator version) to one published for that OS, "
    "use a node image the operator supports, or install the driver on the host and set "
    "driver.enabled=false.",
)
PIN_NODE_IMAGE = remedy(
    "pin-node-image",
    "The driver cannot be built or found for the node's new kernel (no headers, no precompiled image): "
    "pin the node image (EC2NodeClass amiSelectorTerms or alias version) to one whose kernel the driver "
    "supports, or use a driver built for that kernel; restarting the driver pod fails the same way.",
)
DISABLE_OPERATOR_ON_BOTTLEROCKET = remedy(
    "disable-operator-on-bottlerocket",
    "Bottlerocket's NVIDIA variants run the driver, toolkit and device plugin on the host: set "
    "driver.enabled=false, toolkit.enabled=false and devicePlugin.enabled=false in the ClusterPolicy "
    "(or keep the operator off Bottlerocket nodes); no operator driver DaemonSet is expected there.",
)
CHECK_BOTTLEROCKET_DEVICE_PLUGIN = remedy(
    "check-bottlerocket-device-plugin",
    "The Bottlerocket host's device plugin registered no GPUs: check nvidia-k8s-device-plugin.service on "
    "the node (journalctl from the admin container), keep any device plugin DaemonSet off Bottlerocket "
    "nodes, and replace the node (delete its NodeClaim) or move to a Bottlerocket release with the fix.",
)
RELAX_BOTTLEROCKET_LOCKDOWN = remedy(
    "relax-bottlerocket-lockdown",
    "Bottlerocket could not load the NVIDIA kernel modules under kernel lockdown (Operation not "
    "permitted): set settings.kernel.lockdown to none in the EC2NodeClass user data for NVIDIA nodes.",
)
NVIDIA_VARIANT_ON_GPU_INSTANCES_ONLY = remedy(
    "nvidia-variant-on-gpu-instances-only",
    "A Bottlerocket NVIDIA node has no NVIDIA GPU (No NVIDIA GPU found): restrict the NodePool that "
    "uses the NVIDIA variant to GPU instance types (karpenter.k8s.aws/instance-gpu-count Gt 0).",
)
START_FABRIC_MANAGER = remedy(
    "start-fabric-manager",
    "CUDA waits for the NVSwitch fabric (error 802, system not yet initialized): run nvidia-fabricmanager "
    "on the node with the driver's exact version (a host service on the EKS GPU AMIs, inside the GPU "
    "Operator's driver container otherwise) and read its journal for why it stopped.",
)
MATCH_FABRIC_MANAGER_VERSION = remedy(
    "match-fabric-manager-version",
    "nvidia-fabricmanager must have exactly the driver's version: install the fabric manager package "
    "matching the driver (or an AMI/driver image that ships both), then restart the service.",
)
DISABLE_FABRIC_MANAGER = remedy(
    "disable-fabric-manager",
    "The fabric manager found no NVSwitch (NV_WARN_NOTHING_TO_DO): only NVSwitch systems (p4d, p4de, "
    "p5, p5e, p5en) need it; disable the nvidia-fabricmanager service on this node type.",
)
FIX_MIG_CONFIG = remedy(
    "fix-mig-config",
    "The MIG manager could not apply the node's nvidia.com/mig.config: read the nvidia-mig-manager pod's "
    "log on that node, check the profile exists in the MIG config map for that GPU, and reboot or drain "
    "the node if the GPUs were busy.",
)
MATCH_MIG_STRATEGY = remedy(
    "match-mig-strategy",
    "The MIG strategy decides the resource names: single advertises MIG slices as nvidia.com/gpu, mixed "
    "as nvidia.com/mig-<profile> (and no nvidia.com/gpu for GPUs in MIG mode): set mig.strategy in the "
    "ClusterPolicy to match what the pods request, or change the pods' requests.",
)


# ---------------------------------------------------------------------------- helpers


@lru_cache(maxsize=256)
def _low(text: str) -> str:
    return text.lower()


def _short(text: str, limit: int = 140) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


# ---------------------------------------------------------------------------- bottlerocket

_BR_OPERAND = ("nvidia-driver-daemonset", "nvidia-container-toolkit-daemonset", "gpu-operator", "nvidia/driver:")
_GPU_COUNT = re.compile(r"nvidia\.com/gpu:\s+\d")
_ZERO_GPU = re.compile(r"nvidia\.com/gpu:\s+0\b")


@rule("bottlerocket", order=40)
def bottlerocket_node(text: str) -> Recognition | None:
    low = _low(text)
    if not mentions(low, "bottlerocket", "driverdog"):
        return None
    if mentions(low, *_BR_OPERAND):
        tag = _DRIVER_TAG.search(text)
        return recognition(
            "bottlerocket",
            "operator-on-bottlerocket",
            "ClusterPolicy",
            "GPU Operator driver/toolkit on a Bottlerocket NVIDIA node",
            DISABLE_OPERATOR_ON_BOTTLEROCKET,
            os_tag=tag.group("rest") if tag else None,
        )
    if "driverdog" in low and "operation not permitted" in low:
        return recognition(
            "bottlerocket",
            "kmod-lockdown",
            "EC2NodeClass",
            "Bottlerocket could not load the nvidia kernel module: Operation not permitted (lockdown)",
            RELAX_BOTTLEROCKET_LOCKDOWN,
        )
    if "no nvidia gpu found" in low or ("driverdog" in low and "no such device" in low):
        return recognition(
            "bottlerocket",
            "no-gpu",
            "NodePool",
            "Bottlerocket NVIDIA variant on an instance without an NVIDIA GPU",
            NVIDIA_VARIANT_ON_GPU_INSTANCES_ONLY,
        )
    if (
        _ZERO_GPU.search(low)
        or ("device-plugin" in low and mentions(low, "fail", "error"))
        or mentions(low, "no supported gpu backend", "nvidia-smi: command not found", "failed to initialize nvml")
    ):
        return recognition(
            "bottlerocket",
            "host-device-plugin",
            "Node",
            "Bottlerocket NVIDIA node advertises no nvidia.com/gpu",
            CHECK_BOTTLEROCKET_DEVICE_PLUGIN,
        )
    return None


# ---------------------------------------------------------------------------- operator driver

# nvcr.io/nvidia/driver:535.104.05-amzn2023, driver:535-5.15.0-100-generic-ubuntu22.04 (precompiled)
_DRIVER_TAG = re.compile(r"nvidia/driver:(?P<ver>\d{3}(?:\.\d+){0,2})-(?P<rest>[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])")
_BARE_TAG = re.compile(r"\b(?P<ver>\d{3}(?:\.\d+){0,2})-(?P<rest>\d+\.\d+\.\d+-\d+-[a-z]+-[a-z]+[\d.]+)\s+image tag")
_PRECOMPILED = re.compile(r"^(?P<kernel>\d+\.\d+\.\d+-\d+-[a-z0-9]+)-(?P<os>[a-z]+[\d.]*)$")
_PULL_FAILED = ("not found", "manifest unknown", "failed to pull", "errimagepull", "imagepullbackoff", "tries to pull")


@rule("operator-driver", order=50)
def driver_image_missing(text: str) -> Recognition | None:
    low = _low(text)
    if "nvidia/driver:" in low:
        if not mentions(low, *_PULL_FAILED):
            return None
        m = _DRIVER_TAG.search(text)
    elif "image tag not found" in low:
        m = _BARE_TAG.search(text)
    else:
        return None
    if m is None:
        return None
    ver, rest = m.group("ver"), m.group("rest")
    image = f"driver:{ver}-{rest}"
    pre = _PRECOMPILED.match(rest)
    if pre is not None:
        return recognition(
            "operator-driver",
            "precompiled-driver-missing",
            "EC2NodeClass",
            f"no precompiled driver image {image} for kernel {pre.group('kernel')}",
            PIN_NODE_IMAGE,
            kernel=pre.group("kernel"),
            os_tag=pre.group("os"),
            driver_version=ver,
        )
    os_tag = rest.lower()
    if os_tag.startswith("amzn"):
        return recognition(
            "operator-driver",
            "driver-image-for-ami",
            "ClusterPolicy",
            f"driver image {image} not found: the AMI ships the driver",
            DISABLE_OPERATOR_DRIVER,
            os_tag=os_tag,
            driver_version=ver,
        )
    return recognition(
        "operator-driver",
        "driver-image-unpublished",
        "ClusterPolicy",
        f"driver image {image} not found for OS {os_tag}",
        USE_PUBLISHED_DRIVER_TAG,
        os_tag=os_tag,
        driver_version=ver,
    )


_KERNEL_MARKERS = (
    "could not resolve linux kernel version",
    "unable to install kernel headers",
    "unable to locate package linux-headers",
    "/build: no such file",
    "compiling nvidia driver kernel modules",
    "unable to load the kernel module 'nvidia.ko'",
    "dkms",
    "precompiled",
)
_KERNEL = re.compile(
    r"(?:linux kernel version |/lib/modules/|, kernel |linux-headers-)(?P<k>\d+\.\d+\.\d+[^\s/\"']*)", re.I
)


@rule("operator-driver", order=51)
def driver_kernel_failure(text: str) -> Recognition | None:
    low = _low(text)
    if not mentions(low, *_KERNEL_MARKERS):
        return None
    if not mentions(low, "could not", "unable", "error", "no such file", "failed", "not found"):
        return None
    m = _KERNEL.search(text)
    kernel = m.group("k") if m else None
    if "amzn" in low:
        return recognition(
            "operator-driver",
            "driver-build-on-ami",
            "ClusterPolicy",
            f"GPU Operator driver cannot build for Amazon Linux kernel {kernel or '(unknown)'}",
            DISABLE_OPERATOR_DRIVER,
            kernel=kernel,
        )
    what = "could not resolve the kernel" if "resolve linux kernel" in low else "kernel module build/load failed"
    return recognition(
        "operator-driver",
        "driver-kernel-mismatch",
        "EC2NodeClass",
        f"driver container: {what}" + (f" ({kernel})" if kernel else ""),
        PIN_NODE_IMAGE,
        kernel=kernel,
    )


# ---------------------------------------------------------------------------- NVSwitch / MIG

_FM_MISMATCH = re.compile(
    r"driver interface version (?P<fm>[\d.]+) (?:don't|doesn't|don’t|do not|does not) match with driver version (?P<drv>[\d.]+?)\.?(?:\s|$)"
)
_MIG_INSUFFICIENT = re.compile(r"insufficient (nvidia\.com/mig-[\w.+]+)")
_MIG_STRATEGY = re.compile(r"mig[._-]?strategy[\"']?\s*[=:]\s*[\"']?(?P<s>single|mixed|none)")


@rule("nvswitch-mig", order=55)
def nvswitch_fabric(text: str) -> Recognition | None:
    low = _low(text)
    if not mentions(low, "802", "not yet initialized", "fabricmanager", "fabric manager", "nv_warn_nothing_to_do"):
        return None
    m = _FM_MISMATCH.search(text)
    if m is not None:
        return recognition(
            "nvswitch-mig",
            "fabric-manager-version",
            "Node",
            f"fabric manager {m.group('fm')} does not match driver {m.group('drv')}",
            MATCH_FABRIC_MANAGER_VERSION,
            fabric_manager_version=m.group("fm"),
            driver_version=m.group("drv"),
        )
    if "nv_warn_nothing_to_do" in low:
        return recognition(
            "nvswitch-mig",
            "no-nvswitch",
            "Node",
            "fabric manager found no NVSwitch (NV_WARN_NOTHING_TO_DO)",
            DISABLE_FABRIC_MANAGER,
        )
    flat = " ".join(low.split())  # wrapped logs break "not yet / initialized" across lines
    if "system not yet initialized" in flat or "systemnotready" in low or "system_not_ready" in low:
        return recognition(
            "nvswitch-mig",
            "fabric-manager-not-running",
            "Node",
            "CUDA error 802 (system not yet initialized): NVSwitch fabric manager not running",
            START_FABRIC_MANAGER,
        )
    if mentions(low, "fabricmanager", "fabric manager") and mentions(low, "failed", "error"):
        return recognition(
            "nvswitch-mig",
            "fabric-manager-failed",
            "Node",
            "nvidia-fabricmanager failed",
            START_FABRIC_MANAGER,
        )
    return None


@rule("nvswitch-mig", order=54)
def mig_config(text: str) -> Recognition | None:
    low = _low(text)
    if "mig" not in low:
        return None
    if mentions(
        low,
        "mig.config.state=failed",
        "mig.config.state: failed",
        "failed to validate mig configuration",
        "error applying mig configuration",
    ) or (
        mentions(low, "mig-manager", "mig-parted", "mig manager")
        and mentions(low, "error:", "failed to apply", "failing")
    ):
        return recognition(
            "nvswitch-mig",
            "mig-config-failed",
            "Node",
            "MIG manager failed to apply nvidia.com/mig.config",
            FIX_MIG_CONFIG,
        )
    m = _MIG_STRATEGY.search(low)
    strategy = m.group("s") if m else None
    has_mig_resource = "nvidia.com/mig-" in low
    if strategy is None and has_mig_resource and _GPU_COUNT.search(low):
        strategy = "mixed"  # both whole GPUs and MIG slices advertised: only the mixed strategy does that
    if strategy is not None and (has_mig_resource or "nvidia.com/gpu" in low):
        return recognition(
            "nvswitch-mig",
            "mig-strategy",
            "ClusterPolicy",
            f"MIG strategy {strategy}: resource names differ from what pods request",
            MATCH_MIG_STRATEGY,
            mig_strategy=strategy,
        )
    m2 = _MIG_INSUFFICIENT.search(low)
    if m2 is not None:
        res = m2.group(1).rstrip(".")
        return recognition(
            "nvswitch-mig",
            "mig-resource-missing",
            "ClusterPolicy",
            f"Insufficient {res}: no node advertises it",
            MATCH_MIG_STRATEGY,
            resource=res,
        )
    return None


# ---------------------------------------------------------------------------- kubelet admission

_UNAVAILABLE = re.compile(
    r"requested number of devices unavailable for (?P<res>[\w./-]+?)\.?\s+Requested:\s*(?P<req>\d+),\s*Available:\s*(?P<av>\d+)",
    re.I,
)
_NVML_DEVICE = re.compile(r"nvml\.Device (\d+)")
_UNHEALTHY = re.compile(r"unhealthy devices (?P<res>[\w./-]+)", re.I)
_RESOURCE = re.compile(r'resource="(?P<res>[^"]+)"')


@rule("gpu-admission", order=60)
def gpu_admission(text: str) -> Recognition | None:
    low = _low(text)
    if not mentions(low, "allocate failed", "unexpectedadmissionerror", "listandwatch ended unexpectedly"):
        return None
    if "gpu is lost" in low:
        m = _NVML_DEVICE.search(text)
        return recognition(
            "gpu-admission",
            "gpu-lost",
            "Node",
            "UnexpectedAdmissionError: GPU is lost" + (f" (nvml device {m.group(1)})" if m else ""),
            REPLACE_GPU_NODE,
            gpu_index=int(m.group(1)) if m else None,
        )
    if "unhealthy devices" in low or "no healthy devices" in low:
        m = _UNHEALTHY.search(text)
        res = m.group("res").rstrip(",.") if m else None
        return recognition(
            "gpu-admission",
            "unhealthy-devices",
            "Node",
            f"UnexpectedAdmissionError: no healthy {res or 'devices'}",
            REPLACE_GPU_NODE,
            resource=res,
        )
    m = _UNAVAILABLE.search(text)
    if m is not None:
        req, av = int(m.group("req")), int(m.group("av"))
        return recognition(
            "gpu-admission",
            "devices-unavailable",
            "Node",
            f"UnexpectedAdmissionError: {m.group('res')} requested {req}, available {av}",
            RESYNC_NODE_DEVICES,
            resource=m.group("res"),
            requested=req,
            available=av,
        )
    if "insufficient permissions" in low:
        return recognition(
            "gpu-admission",
            "device-plugin-permissions",
            "DaemonSet",
            "UnexpectedAdmissionError: device plugin NVML Insufficient Permissions",
            FIX_DEVICE_PLUGIN_NVML_ACCESS,
        )
    m = _RESOURCE.search(text)
    cause = "device-plugin-rpc" if mentions(low, "rpc error", "eof", "transport is closing") else "device-plugin-error"
    return recognition(
        "gpu-admission",
        cause,
        "Node",
        "device plugin failed during GPU allocation: " + _short(text.strip().splitlines()[-1], 100),
        CHECK_NODE_DEVICE_PLUGIN,
        resource=m.group("res") if m else None,
    )


# ---------------------------------------------------------------------------- runtime hook

_REQUIREMENT = re.compile(r"unsatisfied condition:\s*(?P<req>[a-z]+\s*[<>=!]+\s*[\d.]+)", re.I)
_LOST_GPUS = ("failed to initialize nvml: unknown error", "nvml initialize failed: unknow")


@rule("runtime-hook", order=70)
def runtime_hook(text: str) -> Recognition | None:
    low = _low(text)
    if not mentions(
        low,
        "nvidia-container-cli",
        "nvidia-cdi-hook",
        "nvml",
        "nvidia-container-runtime",
        'runtime for "nvidia"',
        "nvidia container toolkit",
        "initialization error",
    ):
        return None
    if 'no runtime for "nvidia"' in low or (
        "incompatible platform detected" in low or "did you configure the nvidia container toolkit" in low
    ):
        return recognition(
            "runtime-hook",
            "nvidia-runtime-missing",
            "Node",
            'no runtime for "nvidia" configured in containerd',
            FIX_NVIDIA_RUNTIME_CONFIG,
        )
    m = _REQUIREMENT.search(text)
    if m is not None:
        req = re.sub(r"\s+", "", m.group("req"))
        return recognition(
            "runtime-hook",
            "cuda-requirement",
            "Pod",
            f"nvidia-container-cli: unsatisfied condition {req}: node driver too old for the image",
            MATCH_CUDA_TO_DRIVER,
            required=req,
        )
    if "driver/library version mismatch" in low and "nvml error" in low:
        return recognition(
            "runtime-hook",
            "driver-library-mismatch",
            "Node",
            "nvidia-container-cli: nvml error: driver/library version mismatch",
            RELOAD_NODE_DRIVER,
        )
    if "ldcache error" in low:
        return recognition(
            "runtime-hook",
            "ldconfig-missing",
            "Node",
            "nvidia-container-cli: ldcache error (ldconfig path wrong for this OS)",
            FIX_TOOLKIT_LDCONFIG,
        )
    if "nvidia-cdi-hook" in low and mentions(low, "error", "exit code"):
        return recognition(
            "runtime-hook",
            "cdi-hook-failed",
            "Node",
            "nvidia-cdi-hook failed",
            REGENERATE_CDI_SPEC,
        )
    if "driver not loaded" in low:
        return recognition(
            "runtime-hook",
            "driver-not-loaded",
            "Node",
            "nvidia-container-cli: nvml error: driver not loaded",
            CHECK_NODE_DRIVER,
        )
    if "libnvidia-ml.so" in low or "could not load nvml library" in low:
        return recognition(
            "runtime-hook",
            "driver-libraries-missing",
            "Node",
            "NVIDIA runtime cannot load libnvidia-ml.so.1 (driver libraries missing)",
            CHECK_NODE_DRIVER_LIBRARIES,
        )
    if "insufficient permissions" in low:
        return recognition(
            "runtime-hook",
            "nvml-permissions",
            "Node",
            "nvidia-container-cli: nvml error: insufficient permissions",
            FIX_NVML_PERMISSIONS,
        )
    if mentions(low, *_LOST_GPUS):
        return recognition(
            "runtime-hook",
            "lost-gpus",
            "Node",
            "Failed to initialize NVML: Unknown Error in a running container (GPUs lost after a cgroup reload)",
            FIX_CGROUP_DEVICE_ACCESS,
        )
    if "initialization error: driver error" in low or "initialization error: cuda error" in low:
        return recognition(
            "runtime-hook",
            "driver-error",
            "Node",
            "nvidia-container-cli: initialization error (driver)",
            CHECK_NODE_DRIVER,
        )
    if "nvidia-container-runtime-hook" in low and mentions(low, "error", "exit code"):
        return recognition(
            "runtime-hook",
            "hook-failed",
            "Node",
            "nvidia-container-runtime-hook failed",
            DEBUG_RUNTIME_HOOK,
        )
    return None
