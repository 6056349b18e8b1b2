"""The debug pod: mode chosen per node (and why), and the manifest for each mode."""

from __future__ import annotations

import re

import pytest

from gputui.debugpod import spec
from gputui.debugpod.spec import ModeChoice, build_pod, choose_mode


def node(name="ip-10-0-1-2.us-west-2.compute.internal", labels=None, os_image="Amazon Linux 2023.6.20241212"):
    return {"metadata": {"name": name, "labels": dict(labels or {})}, "status": {"nodeInfo": {"osImage": os_image}}}


def driver(name="nvidia-driver-daemonset-x7k2p"):
    return {"metadata": {"name": name, "namespace": "gpu-operator"}}


def test_mode_follows_the_driver_pod_then_labels_then_the_operator():
    assert choose_mode(node(), driver_pods=[driver()]) == ModeChoice(
        "operator-driver",
        "GPU Operator driver pod nvidia-driver-daemonset-x7k2p runs on this node (driver under /run/nvidia/driver)",
    )
    off = choose_mode(node(labels={"nvidia.com/gpu.deploy.driver": "false"}), operator_present=True)
    assert off.mode == "host" and "nvidia.com/gpu.deploy.driver=false" in off.reason
    on = choose_mode(node(labels={"nvidia.com/gpu.deploy.driver": "true"}), operator_present=True)
    assert on.mode == "operator-driver" and "no driver pod found" in on.reason
    assert choose_mode(node(), operator_present=False).reason.startswith("no GPU Operator driver in the cluster")
    assert choose_mode(node(), operator_present=None).mode == "host"
    bottle = choose_mode(node(os_image="Bottlerocket OS 1.26.2 (aws-k8s-1.31-nvidia)"))
    assert bottle.mode == "runtime" and "Bottlerocket" in bottle.reason
    assert choose_mode(node(), driver_pods=[driver()], override="host") == ModeChoice("host", "--mode host given")


def test_pod_name_is_a_valid_name_for_any_node():
    name = spec.pod_name("ip-10-0-100-200.us-west-2.compute.internal" * 3, "a1b2c3")
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 63 and name.endswith("-a1b2c3")
    assert spec.pod_name("Node_A", "abc123") == "gputui-smi-node-a-abc123"
    assert spec.label_value("x" * 80 + ".") == "x" * 63


def common_asserts(pod, node_name="gpu-1"):
    s = pod["spec"]
    assert s["nodeName"] == node_name and "nodeSelector" not in s and "affinity" not in s
    assert s["tolerations"] == [{"operator": "Exists"}]
    assert s["restartPolicy"] == "Never" and s["activeDeadlineSeconds"] == 120
    labels = pod["metadata"]["labels"]
    assert labels == {
        "app.kubernetes.io/managed-by": "gputui",
        "gputui.dev/debug": "true",
        "gputui.dev/run-id": "abc123",
        "gputui.dev/node": node_name,
    }
    ann = pod["metadata"]["annotations"]
    assert ann["gputui.dev/deadline"] == "2026-11-30T01:02:00Z"  # created at 01:00:00 + 120 s
    assert ann["gputui.dev/node"] == node_name
    script = s["containers"][0]["command"][2]
    for marker in ("begin", "list", "query-gpu", "query-xml", "kernel", "end"):
        assert f'echo "=== gputui:{marker} ==="' in script
    return s, s["containers"][0], script


NOW = 1796000400.0  # 2026-11-30T01:00:00Z


@pytest.mark.parametrize(
    "mode,root,path", [("operator-driver", "/run/nvidia/driver", "/run/nvidia/driver"), ("host", "/host", "/")]
)
def test_chroot_modes(mode, root, path):
    pod = build_pod("gpu-1", namespace="default", run_id="abc123", choice=ModeChoice(mode, "why"), now=NOW)
    s, c, script = common_asserts(pod)
    assert c["securityContext"] == {"privileged": True}
    assert s["volumes"] == [{"name": "driver-root", "hostPath": {"path": path, "type": "Directory"}}]
    assert c["volumeMounts"][0]["mountPath"] == root and c["volumeMounts"][0]["mountPropagation"] == "HostToContainer"
    assert f"chroot {root} nvidia-smi -q -x 2>&1" in script
    assert "nvidia.com/gpu" not in str(c["resources"]) and c["image"] == spec.CHROOT_IMAGE
    assert pod["metadata"]["annotations"]["gputui.dev/mode-reason"] == "why"


def test_runtime_mode_is_unprivileged():
    pod = build_pod("gpu-1", namespace="default", run_id="abc123", choice=ModeChoice("runtime", "why"), now=NOW)
    s, c, script = common_asserts(pod)
    assert s["runtimeClassName"] == "nvidia" and "volumes" not in s
    assert {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"} in c["env"]
    assert c["securityContext"]["allowPrivilegeEscalation"] is False and c["securityContext"]["runAsNonRoot"]
    assert "chroot" not in script and "\nnvidia-smi -L 2>&1" in script and c["image"] == spec.RUNTIME_IMAGE


def test_request_gpu_is_the_classic_variant():
    pod = build_pod(
        "gpu-1",
        namespace="ml",
        run_id="abc123",
        choice=ModeChoice("host", "why"),
        request_gpu=True,
        image="registry.example/cuda:12",
        image_pull_secret="regcred",
        now=NOW,
    )
    s, c, script = common_asserts(pod)
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1" and "volumes" not in s
    assert "privileged" not in c["securityContext"] and "runtimeClassName" not in s
    assert c["image"] == "registry.example/cuda:12" and s["imagePullSecrets"] == [{"name": "regcred"}]
    assert (
        pod["metadata"]["namespace"] == "ml" and pod["metadata"]["annotations"]["gputui.dev/mode"] == "host+request-gpu"
    )


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        build_pod("gpu-1", namespace="default", run_id="x", choice=ModeChoice("chroot", ""))
