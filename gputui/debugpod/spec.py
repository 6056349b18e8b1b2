"""The debug pod: which way to reach the driver on a node, and the manifest that does it.

Modes
    operator-driver  the GPU Operator's driver container installed the driver under
                     /run/nvidia/driver on the host: mount it and `chroot` into it.
    host             the AMI ships the driver (EKS accelerated AMIs, `driver.enabled=false`):
                     mount the host's / at /host and `chroot /host`.
    runtime          no chroot: the NVIDIA container runtime injects nvidia-smi and the
                     devices into a plain container (`NVIDIA_VISIBLE_DEVICES=all`,
                     runtimeClassName nvidia); not privileged, so it also passes the
                     baseline PodSecurity level, but the kernel log is then unreadable.

The pod never requests nvidia.com/gpu unless asked (`request_gpu`): a request makes
the kubelet refuse it when every GPU is allocated or the device plugin is down, which
are exactly the moments it is needed. It is pinned with spec.nodeName, which skips the
scheduler (cordons, NoSchedule taints and full GPU capacity do not matter), tolerates
every taint (NoExecute included, so it is not evicted from a failing node), runs once
(restartPolicy Never) and carries activeDeadlineSeconds so the kubelet kills it even if
gputui dies. Its annotations name the run that owns it (process id, host, start time) and
its deadline, so `gputui debug --cleanup` can tell a dead run's pods from a live run's.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gputui.debugpod.parsers import MARKER
from gputui.debugpod.parsers.csvquery import QUERY_FIELDS

MODES = ("operator-driver", "host", "runtime")
OPERATOR_DRIVER_ROOT = "/run/nvidia/driver"
HOST_ROOT = "/host"

# A small image with sh, chroot and dmesg is enough when nvidia-smi comes from the node;
# the runtime mode needs glibc for the injected nvidia-smi. Both on registries that EKS
# nodes reach without Docker Hub rate limits.
CHROOT_IMAGE = "public.ecr.aws/docker/library/busybox:1.36"
RUNTIME_IMAGE = "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04"

CONTAINER = "nvidia-smi"
DEFAULT_DEADLINE_SECONDS = 120

LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_DEBUG = "gputui.dev/debug"
LABEL_RUN = "gputui.dev/run-id"
LABEL_NODE = "gputui.dev/node"
ANN_DEADLINE = "gputui.dev/deadline"
ANN_NODE = "gputui.dev/node"
ANN_MODE = "gputui.dev/mode"
ANN_MODE_REASON = "gputui.dev/mode-reason"
ANN_OWNER_PID = "gputui.dev/owner-pid"
ANN_OWNER_HOST = "gputui.dev/owner-host"
ANN_STARTED = "gputui.dev/started"
SELECTOR = f"{LABEL_MANAGED_BY}=gputui,{LABEL_DEBUG}=true"

DEPLOY_DRIVER_LABEL = "nvidia.com/gpu.deploy.driver"
DRIVER_POD_APPS = ("nvidia-driver-daemonset", "nvidia-gpu-driver")


@dataclass(frozen=True)
class ModeChoice:
    mode: str
    reason: str


@dataclass(frozen=True)
class Owner:
    """The gputui process that runs a debug pod: while it lives, the pod is its to delete."""

    pid: int
    host: str
    started: float  # epoch seconds, when the run started

    @classmethod
    def current(cls, now: float | None = None) -> Owner:
        return cls(os.getpid(), socket.gethostname(), time.time() if now is None else now)


def new_run_id() -> str:
    return secrets.token_hex(3)


def choose_mode(
    node: Mapping[str, Any],
    *,
    driver_pods: Iterable[Mapping[str, Any]] = (),
    operator_present: bool | None = None,
    override: str | None = None,
) -> ModeChoice:
    """How to reach the driver on this node, and why.

    `driver_pods` are the GPU Operator driver pods bound to this node; `operator_present`
    says whether the cluster runs the GPU Operator at all (None: unknown)."""
    if override:
        return ModeChoice(override, f"--mode {override} given")
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    os_image = ((node.get("status") or {}).get("nodeInfo") or {}).get("osImage") or ""
    pods = list(driver_pods)
    if pods:
        name = (pods[0].get("metadata") or {}).get("name", "")
        return ModeChoice(
            "operator-driver", f"GPU Operator driver pod {name} runs on this node (driver under {OPERATOR_DRIVER_ROOT})"
        )
    if labels.get(DEPLOY_DRIVER_LABEL) == "false":
        return ModeChoice("host", f"node label {DEPLOY_DRIVER_LABEL}=false: the driver comes with the node image")
    if "bottlerocket" in os_image.lower():
        return ModeChoice("runtime", f"{os_image}: no shell to chroot into; the NVIDIA runtime injects nvidia-smi")
    if labels.get(DEPLOY_DRIVER_LABEL) == "true":
        return ModeChoice(
            "operator-driver",
            f"node label {DEPLOY_DRIVER_LABEL}=true: the GPU Operator manages "
            f"the driver here (no driver pod found on the node yet)",
        )
    if operator_present is False:
        return ModeChoice(
            "host",
            "no GPU Operator driver in the cluster: the driver comes with the node image "
            "(e.g. the EKS accelerated AMI)",
        )
    return ModeChoice("host", "no GPU Operator driver pod on this node: assuming the node image ships the driver")


def pod_name(node_name: str, run_id: str) -> str:
    """`gputui-smi-<node>-<run>`: a valid pod name (and hostname label) for any node name."""
    slug = re.sub(r"[^a-z0-9-]+", "-", node_name.lower()).strip("-")
    return f"gputui-smi-{slug[:40].rstrip('-')}-{run_id}"


def label_value(text: str) -> str:
    """A label value naming the node (at most 63 characters, alphanumeric at both ends)."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63]
    return value.strip("-_.")


def script(mode: str, *, kernel_log: bool = True) -> str:
    """The shell script the pod runs: each command's output follows its marker line."""
    if mode == "operator-driver":
        smi = f"chroot {OPERATOR_DRIVER_ROOT} nvidia-smi"
    elif mode == "host":
        smi = f"chroot {HOST_ROOT} nvidia-smi"
    else:
        smi = "nvidia-smi"
    fields = ",".join(QUERY_FIELDS)
    steps = [
        ("list", f"{smi} -L"),
        ("query-gpu", f"{smi} --query-gpu={fields} --format=csv"),
        ("query-xml", f"{smi} -q -x"),
    ]
    lines = [f'echo "{MARKER.format("begin")}"']
    for name, command in steps:
        lines.append(f'echo "{MARKER.format(name)}"')
        lines.append(f'{command} 2>&1 || echo "{MARKER.format("failed " + name)}"')
    if kernel_log:
        lines.append(f'echo "{MARKER.format("kernel")}"')
        lines.append(
            f'dmesg 2>&1 | grep -i -E "NVRM|Xid|dmesg:" | tail -n 200 || echo "{MARKER.format("failed kernel")}"'
        )
    lines.append(f'echo "{MARKER.format("end")}"')
    return "\n".join(lines) + "\n"


def rfc3339(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def build_pod(
    node_name: str,
    *,
    namespace: str,
    run_id: str,
    choice: ModeChoice,
    image: str | None = None,
    image_pull_secret: str | None = None,
    request_gpu: bool = False,
    deadline_seconds: int = DEFAULT_DEADLINE_SECONDS,
    now: float | None = None,
    owner: Owner | None = None,
) -> dict:
    """The pod manifest for one node."""
    now = time.time() if now is None else now
    owner = owner or Owner.current(now)
    mode = choice.mode
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    # With a GPU request the device plugin hands the container its GPU: run nvidia-smi
    # directly, unprivileged, the classic way.
    direct = mode == "runtime" or request_gpu
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": image or (RUNTIME_IMAGE if direct else CHROOT_IMAGE),
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", script("runtime" if direct else mode, kernel_log=True)],
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
    }
    spec: dict[str, Any] = {
        "nodeName": node_name,
        "restartPolicy": "Never",
        "activeDeadlineSeconds": int(deadline_seconds),
        "terminationGracePeriodSeconds": 0,
        "automountServiceAccountToken": False,
        "tolerations": [{"operator": "Exists"}],
        "containers": [container],
    }
    if direct:
        # Unprivileged and within the `restricted` PodSecurity level: nvidia-smi only reads.
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    if request_gpu:
        container["resources"]["limits"]["nvidia.com/gpu"] = "1"
    elif mode == "runtime":
        container["env"] = [
            {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"},
            {"name": "NVIDIA_DRIVER_CAPABILITIES", "value": "utility"},
        ]
        spec["runtimeClassName"] = "nvidia"
    else:
        container["securityContext"] = {"privileged": True}
        host_path = OPERATOR_DRIVER_ROOT if mode == "operator-driver" else "/"
        mount = OPERATOR_DRIVER_ROOT if mode == "operator-driver" else HOST_ROOT
        spec["volumes"] = [{"name": "driver-root", "hostPath": {"path": host_path, "type": "Directory"}}]
        # HostToContainer: the driver container mounts its root under /run/nvidia/driver after we start.
        container["volumeMounts"] = [
            {"name": "driver-root", "mountPath": mount, "readOnly": True, "mountPropagation": "HostToContainer"}
        ]
    if image_pull_secret:
        spec["imagePullSecrets"] = [{"name": image_pull_secret}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name(node_name, run_id),
            "namespace": namespace,
            "labels": {
                LABEL_MANAGED_BY: "gputui",
                LABEL_DEBUG: "true",
                LABEL_RUN: run_id,
                LABEL_NODE: label_value(node_name),
            },
            "annotations": {
                ANN_DEADLINE: rfc3339(now + deadline_seconds),
                ANN_NODE: node_name,
                ANN_MODE: mode if not request_gpu else f"{mode}+request-gpu",
                ANN_MODE_REASON: choice.reason,
                ANN_OWNER_PID: str(owner.pid),
                ANN_OWNER_HOST: owner.host,
                ANN_STARTED: rfc3339(owner.started),
            },
        },
        "spec": spec,
    }
