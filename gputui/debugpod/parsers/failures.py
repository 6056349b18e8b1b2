"""Recognise nvidia-smi's failure outputs (and the shell's, when nvidia-smi cannot run) and say
what they mean. Exact strings: the NVIDIA driver and toolkit, as collected in the project's
reference material; nvidia-smi exits 9 (driver), 6 (no devices), 18 (mismatch), 255 (unknown)."""

from __future__ import annotations

import re

from gputui.debugpod.model import SmiFailure

_LIB_VERSION = re.compile(r"NVML library version:\s*(\S+)")

# (kind, regex over the output, explanation, hint)
_RULES: tuple[tuple[str, re.Pattern, str, str], ...] = (
    (
        "driver-not-loaded",
        re.compile(r"couldn't communicate with the NVIDIA driver", re.I),
        "the NVIDIA kernel module is not loaded: the driver is missing, still installing, or failed to "
        "build/load for this kernel",
        "GPU Operator: read the nvidia-driver-daemonset pod's log on this node; driver on the AMI: look for NVRM "
        "lines in the node's kernel log (`dmesg | grep NVRM`) and check the AMI matches the instance's GPU",
    ),
    (
        "version-mismatch",
        re.compile(r"driver/library version mismatch", re.I),
        "the NVIDIA user-space libraries and the loaded kernel module are different versions, usually after a "
        "driver upgrade without a reboot or a driver pod restart",
        "drain the node and reboot it (or restart the GPU Operator's driver pod) so the kernel module and "
        "libraries match; Karpenter users can simply replace the node",
    ),
    (
        "nvml-unknown-error",
        re.compile(r"Failed to initialize NVML: Unknown Error", re.I),
        "NVML cannot reach the GPUs from this container: typically the container lost its device cgroup "
        "rules after `systemctl daemon-reload` (systemd cgroup driver), or the GPU fell off the bus",
        "restart the affected GPU pods; if it recurs, configure the NVIDIA Container Toolkit for the systemd "
        "cgroup driver (or upgrade it), and check the kernel log for Xid 79",
    ),
    (
        "gpu-lost",
        re.compile(r"GPU is lost|fallen off the bus", re.I),
        "a GPU stopped responding on the PCIe bus (Xid 79)",
        "drain the node and reboot or replace the instance; a GPU that falls off the bus again is a hardware fault",
    ),
    (
        "device-handle-error",
        re.compile(r"Unable to (?:determine|detect) the device handle for GPU", re.I),
        "the driver is loaded but one GPU does not answer it (no device handle for that bus id)",
        "cordon the node and read the kernel log for Xid 79 / NVRM errors on that bus id; reboot it, and "
        "replace the instance if the GPU does not come back",
    ),
    (
        "nvml-no-permission",
        re.compile(r"NVML: Insufficient Permissions|NVMLError_NoPermission", re.I),
        "this process may not open the GPU device files (device permissions, SELinux, or a container without "
        "the GPU devices); the GPU itself is not at fault",
        "run the pod with an nvidia.com/gpu request and the NVIDIA runtime; on the node check /dev/nvidia* "
        "permissions and SELinux (container_use_devices)",
    ),
    (
        "gpu-access-blocked",
        re.compile(r"GPU access blocked by the operating system", re.I),
        "the operating system keeps this process away from the GPU (container device cgroup, or a VM/WSL host "
        "that does not pass the GPU through); the GPU itself is not at fault",
        "check the NVIDIA container toolkit's no-cgroups setting and that the pod gets its GPU from the device "
        "plugin; on a VM, check the GPU is passed through",
    ),
    (
        "nvml-library-missing",
        re.compile(r"couldn't find libnvidia-ml\.so", re.I),
        "the container has no NVIDIA driver libraries: it was not started by the NVIDIA container runtime",
        "run the pod with the NVIDIA runtime (runtimeClassName nvidia) and an nvidia.com/gpu request; do not "
        "install a driver in the image",
    ),
    (
        "no-devices",
        re.compile(r"^No devices were found\s*$", re.I | re.M),
        "the driver is loaded but sees no GPU: the GPU is not attached, fell off the bus, or is bound to another "
        "driver (vfio-pci)",
        "check the kernel log for Xid 79 / NVRM probe errors and `lspci -d 10de:` on the node; replace the instance "
        "if the GPU is gone",
    ),
    (
        "driver-root-missing",
        re.compile(r"chroot: cannot change root directory to '?/run/nvidia/driver", re.I),
        "/run/nvidia/driver does not exist on this node: the GPU Operator's driver container does not manage the "
        "driver here (or has not started yet)",
        "the driver probably comes with the AMI: run again with --mode host",
    ),
    (
        "not-found",
        re.compile(
            r"nvidia-smi'?:? (?:No such file or directory|not found)|executable file not found"
            r"|nvidia-smi: command not found|failed to execute \S*nvidia-smi",
            re.I,
        ),
        "nvidia-smi is not where this mode looks for it",
        "try the other driver location: --mode host (driver on the AMI) or --mode operator-driver "
        "(GPU Operator driver container); --mode runtime uses the NVIDIA container runtime instead",
    ),
)

_INVALID_FIELD = re.compile(r'Field "([^"]+)" is not a valid field to query', re.I)


def recognise(text: str) -> SmiFailure | None:
    """The failure this output shows, or None when it looks like real nvidia-smi data."""
    for kind, rx, explanation, hint in _RULES:
        m = rx.search(text)
        if m:
            line = next((l.strip() for l in text.splitlines() if rx.search(l)), m.group(0)).strip()
            lib = _LIB_VERSION.search(text)
            return SmiFailure(
                kind=kind,
                message=line,
                explanation=explanation,
                hint=hint,
                library_version=lib.group(1) if lib else None,
            )
    m = _INVALID_FIELD.search(text)
    if m:
        return SmiFailure(
            kind="invalid-field",
            message=m.group(0),
            explanation=f"this driver's nvidia-smi does not know the query field {m.group(1)!r}",
            hint="an older driver; the XML report still has the data",
        )
    return None
