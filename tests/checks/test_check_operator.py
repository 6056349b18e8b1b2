"""GPU2xx: the GPU Operator's ClusterPolicy, operand DaemonSets and pods."""

from checks.model import Severity
from checks.registry import REGISTRY
from tests.helpers.cluster import (
    GPU_NODE_A,
    GPU_NODE_B,
    GPU_TAINT,
    GPU_TOL,
    NS,
    clusterpolicy,
    daemonset,
    event,
    gpu_node,
    healthy_cluster,
    nodepool,
    operand_pod,
    replace,
    run,
    snapshot,
    ts,
)

OPERATOR_CODES = ("GPU201", "GPU202", "GPU203", "GPU204", "GPU205")
CRASHLOOP = [
    {
        "name": "nvidia-driver-ctr",
        "ready": False,
        "restartCount": 12,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
    }
]


def _swap_pod(objs, app, node, new):
    return [
        o
        for o in objs
        if not (o["kind"] == "Pod" and o["spec"].get("nodeName") == node and o["metadata"]["labels"].get("app") == app)
    ] + [new]


def test_healthy_cluster_has_no_operator_findings():
    snap = snapshot(healthy_cluster())
    for code in OPERATOR_CODES:
        assert run(snap, code) == [], code


def test_gpu201_states_not_ready_mapped_to_daemonsets_and_failing_pod():
    cp = clusterpolicy(
        "notReady",
        conditions=[
            {
                "type": "Ready",
                "status": "False",
                "reason": "OperandNotReady",
                "message": "ClusterPolicy is not ready; states not ready: [state-driver state-device-plugin]",
                "lastTransitionTime": ts(20),
            },
            {"type": "Error", "status": "False", "reason": "Reconciled", "lastTransitionTime": ts(20)},
        ],
    )
    objs = replace(healthy_cluster(), "ClusterPolicy", "cluster-policy", cp)
    objs = _swap_pod(
        objs,
        "nvidia-driver-daemonset",
        GPU_NODE_A,
        operand_pod("nvidia-driver-daemonset", GPU_NODE_A, suffix="dd111", statuses=CRASHLOOP),
    )
    [f] = run(snapshot(objs), "GPU201")
    assert f.subject.kind == "ClusterPolicy" and f.subject.name == "cluster-policy"
    assert "is notReady: states not ready [state-driver, state-device-plugin]" in f.message
    assert "driver: nvidia-driver-daemonset-dd111 CrashLoopBackOff" in f.message
    assert (
        "condition Ready=False (OperandNotReady): ClusterPolicy is not ready; states not ready: "
        "[state-driver state-device-plugin]"
    ) in f.evidence
    assert {"nvidia-driver-daemonset", "nvidia-device-plugin-daemonset"} <= {r.name for r in f.related}


def test_gpu201_no_gpu_nodes_is_only_info():
    cp = clusterpolicy(
        "notReady",
        conditions=[
            {
                "type": "Ready",
                "status": "False",
                "reason": "NoGPUNodes",
                "message": "no GPU nodes found",
                "lastTransitionTime": ts(5),
            }
        ],
    )
    objs = [o for o in healthy_cluster() if o["kind"] in ("DaemonSet",) or (o["kind"] == "Node" and "m6i" in str(o))]
    [f] = run(snapshot(objs + [cp]), "GPU201")
    assert f.severity is Severity.INFO
    assert "reason NoGPUNodes" in f.message


def test_gpu202_not_ready_pod_and_missing_deploy_label():
    objs = _swap_pod(
        healthy_cluster(),
        "nvidia-device-plugin-daemonset",
        GPU_NODE_A,
        operand_pod(
            "nvidia-device-plugin-daemonset",
            GPU_NODE_A,
            suffix="pp111",
            statuses=[
                {
                    "name": "nvidia-device-plugin",
                    "ready": False,
                    "restartCount": 5,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}},
                },
                {
                    "name": "config-manager",
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": ts(40)}},
                },
            ],
        ),
    )
    node_b = gpu_node(GPU_NODE_B)
    del node_b["metadata"]["labels"]["nvidia.com/gpu.deploy.device-plugin"]
    objs = replace(objs, "Node", GPU_NODE_B, node_b)
    objs = [
        o
        for o in objs
        if not (
            o["kind"] == "Pod"
            and o["spec"].get("nodeName") == GPU_NODE_B
            and o["metadata"]["labels"]["app"] == "nvidia-device-plugin-daemonset"
        )
    ]
    objs = replace(
        objs,
        "DaemonSet",
        "nvidia-device-plugin-daemonset",
        daemonset("nvidia-device-plugin-daemonset", desired=1, ready=0),
    )
    [f] = run(snapshot(objs), "GPU202")
    assert f.subject.name == "nvidia-device-plugin-daemonset" and f.subject.namespace == NS
    assert "nvidia-device-plugin-daemonset: desired 1, ready 0, available 0" in f.evidence
    assert (
        f"on {GPU_NODE_A}: pod gpu-operator/nvidia-device-plugin-daemonset-pp111 is CrashLoopBackOff "
        "(container nvidia-device-plugin, exit code 2, 5 restarts)"
    ) in f.evidence
    assert (
        f"no pod on {GPU_NODE_B}: nodeSelector nvidia.com/gpu.deploy.device-plugin=true but the node's label is missing"
    ) in f.evidence
    assert "missing or not ready on 2 GPU node(s)" in f.message


def test_gpu202_ignores_young_node_still_starting_and_taint_only_nodes():
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, age_min=3))
    objs = _swap_pod(
        objs,
        "gpu-feature-discovery",
        GPU_NODE_A,
        operand_pod(
            "gpu-feature-discovery",
            GPU_NODE_A,
            suffix="new01",
            age_min=2,
            init_statuses=[{"name": "toolkit-validation", "ready": False, "restartCount": 0, "state": {"running": {}}}],
            statuses=[
                {
                    "name": "gpu-feature-discovery",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": "PodInitializing"}},
                }
            ],
        ),
    )
    objs = replace(objs, "DaemonSet", "gpu-feature-discovery", daemonset("gpu-feature-discovery", desired=2, ready=1))
    # node B: kept off by a custom taint only -> GPU205's business
    objs = replace(
        objs,
        "Node",
        GPU_NODE_B,
        gpu_node(GPU_NODE_B, taints=[GPU_TAINT, {"key": "team", "value": "ml", "effect": "NoSchedule"}]),
    )
    objs = [
        o
        for o in objs
        if not (o["kind"] == "Pod" and o["spec"].get("nodeName") == GPU_NODE_B and o["metadata"]["namespace"] == NS)
    ]
    assert run(snapshot(objs), "GPU202") == []


def test_gpu203_init_crashloop_with_log_and_restart_fix():
    pod = operand_pod(
        "nvidia-driver-daemonset",
        GPU_NODE_A,
        suffix="ic222",
        init_statuses=[
            {
                "name": "k8s-driver-manager",
                "ready": False,
                "restartCount": 9,
                "state": {
                    "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}
                },
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
            }
        ],
        statuses=[
            {
                "name": "nvidia-driver-ctr",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
        ],
    )
    objs = _swap_pod(healthy_cluster(), "nvidia-driver-daemonset", GPU_NODE_A, pod)
    objs.append(
        event(
            "BackOff",
            "Back-off restarting failed container k8s-driver-manager",
            kind="Pod",
            name="nvidia-driver-daemonset-ic222",
            namespace=NS,
            component="kubelet",
            count=40,
        )
    )
    logs = {
        (
            NS,
            "nvidia-driver-daemonset-ic222",
            "k8s-driver-manager",
            True,
        ): "Getting current value of the 'nvidia.com/gpu.deploy.operator-validator' node label\n"
        "Uninstalling the NVIDIA driver...\nuninstall_driver: failed to unload nvidia module: Module nvidia is in use\n"
    }
    [f] = run(snapshot(objs, logs), "GPU203")
    assert f.subject.kind == "Pod" and f.subject.name == "nvidia-driver-daemonset-ic222"
    assert f.message.startswith(
        f"gpu-operator/nvidia-driver-daemonset-ic222 on {GPU_NODE_A} is Init:CrashLoopBackOff "
        "(init container k8s-driver-manager, exit code 1, 9 restarts): uninstall_driver: failed"
    )
    assert (
        "previous log k8s-driver-manager: uninstall_driver: failed to unload nvidia module: Module nvidia is in use"
        in f.evidence
    )
    assert "event BackOff (x40): Back-off restarting failed container k8s-driver-manager" in f.evidence
    assert [x.id for x in f.fixes] == ["restart-operand-pod"] and f.fixes[0].disruptive
    assert ("DaemonSet", "nvidia-driver-daemonset") in [(r.kind, r.name) for r in f.related]


def test_gpu203_image_pull_has_no_restart_fix_and_stuck_init_is_reported():
    pull = operand_pod(
        "gpu-feature-discovery",
        GPU_NODE_A,
        suffix="ip333",
        statuses=[
            {
                "name": "gpu-feature-discovery",
                "ready": False,
                "restartCount": 0,
                "state": {
                    "waiting": {
                        "reason": "ImagePullBackOff",
                        "message": 'Back-off pulling image "nvcr.io/nvidia/gfd:v9.9.9"',
                    }
                },
            }
        ],
    )
    stuck = operand_pod(
        "nvidia-device-plugin-daemonset",
        GPU_NODE_B,
        suffix="st444",
        age_min=30,
        init_statuses=[
            {
                "name": "toolkit-validation",
                "ready": False,
                "restartCount": 0,
                "state": {"running": {"startedAt": ts(30)}},
            }
        ],
        statuses=[
            {
                "name": "nvidia-device-plugin",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
        ],
    )
    objs = _swap_pod(healthy_cluster(), "gpu-feature-discovery", GPU_NODE_A, pull)
    objs = _swap_pod(objs, "nvidia-device-plugin-daemonset", GPU_NODE_B, stuck)
    found = {f.subject.name: f for f in run(snapshot(objs), "GPU203")}
    assert set(found) == {"gpu-feature-discovery-ip333", "nvidia-device-plugin-daemonset-st444"}
    p = found["gpu-feature-discovery-ip333"]
    assert (
        'is ImagePullBackOff (container gpu-feature-discovery): Back-off pulling image "nvcr.io/nvidia/gfd:v9.9.9"'
        in p.message
    )
    assert "fix the image reference or pull secret" in p.message and p.fixes == []
    s = found["nvidia-device-plugin-daemonset-st444"]
    assert "is Init:0/2 (init container toolkit-validation)" in s.message
    assert "in this state for about 30m" in s.evidence
    assert "waits for an earlier link" in s.message


def test_gpu203_covers_the_operator_deployment_pod():
    op = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "gpu-operator-6d9f-x1",
            "namespace": NS,
            "labels": {"app": "gpu-operator"},
            "creationTimestamp": ts(100),
            "ownerReferences": [{"kind": "ReplicaSet", "name": "gpu-operator-6d9f", "controller": True}],
        },
        "spec": {"nodeName": "ip-10-0-1-10.ec2.internal", "containers": [{"name": "gpu-operator"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "gpu-operator",
                    "ready": False,
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
                }
            ],
        },
    }
    logs = {(NS, "gpu-operator-6d9f-x1", "gpu-operator", True): "ERROR failed to get clusterpolicy: forbidden\n"}
    [f] = run(snapshot(healthy_cluster() + [op], logs), "GPU203")
    assert f.subject.name == "gpu-operator-6d9f-x1"
    assert "ERROR failed to get clusterpolicy: forbidden" in f.message
    assert f.fixes[0].disruptive is False


def test_gpu204_no_nvidia_runtime_grouped_per_node_with_toolkit_pod():
    msg = (
        "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to get sandbox runtime: "
        'no runtime for "nvidia" is configured'
    )
    objs = healthy_cluster()
    objs.append(
        event(
            "FailedCreatePodSandBox",
            msg,
            kind="Pod",
            name="gpu-feature-discovery-v0zz",
            namespace=NS,
            component="kubelet",
            count=17,
        )
    )
    objs.append(
        event(
            "FailedCreatePodSandBox",
            msg,
            kind="Pod",
            name="nvidia-device-plugin-daemonset-v0zz",
            namespace=NS,
            component="kubelet",
            count=9,
            minutes_ago=3,
        )
    )
    [f] = run(snapshot(objs), "GPU204")
    assert f.subject.kind == "Node" and f.subject.name == GPU_NODE_A
    assert f'2 pod(s) on {GPU_NODE_A} cannot start: containerd has no "nvidia" runtime configured' in f.message
    assert f"event FailedCreatePodSandBox (x17) on pod {NS}/gpu-feature-discovery-v0zz: {msg}" in f.evidence
    assert "toolkit pod nvidia-container-toolkit-daemonset-v0zz is Running" in f.evidence
    assert f.fixes[0].id == "restart-operand-pod"
    assert f.fixes[0].target.name == "nvidia-container-toolkit-daemonset-v0zz"


def test_gpu204_ignores_other_sandbox_errors():
    objs = healthy_cluster() + [
        event(
            "FailedCreatePodSandBox",
            "Failed to create pod sandbox: plugin type=aws-cni failed: add cmd: failed to assign an IP address",
            kind="Pod",
            name="gpu-feature-discovery-v0zz",
            namespace=NS,
        )
    ]
    assert run(snapshot(objs), "GPU204") == []


def test_gpu205_node_taint_gives_one_clusterpolicy_fix_keeping_existing_tolerations():
    custom = {"key": "example.com/gpu-dedicated", "value": "true", "effect": "NoSchedule"}
    keep = {"key": "CriticalAddonsOnly", "operator": "Exists"}
    objs = replace(healthy_cluster(), "ClusterPolicy", "cluster-policy", clusterpolicy(tolerations=[GPU_TOL, keep]))
    objs = replace(objs, "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=None, taints=[GPU_TAINT, custom]))
    objs = [
        o
        for o in objs
        if not (o["kind"] == "Pod" and o["spec"].get("nodeName") == GPU_NODE_A and o["metadata"]["namespace"] == NS)
    ]
    [f] = run(snapshot(objs), "GPU205")
    assert f.severity is Severity.ERROR
    assert f.subject.kind == "ClusterPolicy"
    assert "Taint example.com/gpu-dedicated=true:NoSchedule on 1 GPU node(s)" in f.message
    assert any(
        e.startswith(
            f"taint example.com/gpu-dedicated=true:NoSchedule on nodes {GPU_NODE_A} is not tolerated "
            "by nvidia-driver-daemonset, nvidia-container-toolkit-daemonset"
        )
        for e in f.evidence
    )
    [fix] = f.fixes
    assert fix.id == "clusterpolicy-tolerations" and fix.patch_type == "merge"
    assert fix.patch["spec"]["daemonsets"]["tolerations"] == [
        GPU_TOL,
        keep,
        {"key": "example.com/gpu-dedicated", "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert fix.resource_version == "555"


def test_gpu205_nodepool_taint_without_nodes_is_a_warning():
    pool = nodepool("gpu-ml", taints=[{"key": "dedicated", "value": "ml", "effect": "NoExecute"}])
    objs = healthy_cluster() + [pool]
    [f] = run(snapshot(objs), "GPU205")
    assert f.severity is Severity.WARNING
    assert "every node the NodePool launches" in f.message
    assert any("taint dedicated=ml:NoExecute on NodePool gpu-ml template is not tolerated" in e for e in f.evidence)
    assert ("NodePool", "gpu-ml") in [(r.kind, r.name) for r in f.related]


def test_gpu205_standalone_device_plugin_gets_add_toleration():
    ds = daemonset(
        "nvidia-device-plugin-daemonset", name="nvidia-device-plugin", node_selector={}, tolerations=[GPU_TOL]
    )
    ds["metadata"]["namespace"] = "kube-system"
    ds["metadata"]["ownerReferences"] = []
    ds["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
    ds["metadata"]["annotations"] = {"meta.helm.sh/release-name": "nvdp"}
    objs = [
        o
        for o in healthy_cluster()
        if o["kind"] not in ("ClusterPolicy", "DaemonSet")
        and not (o["kind"] == "Pod" and o["metadata"]["namespace"] == NS)
    ]
    objs = replace(
        objs, "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=None, taints=[{"key": "gpu", "effect": "NoSchedule"}])
    )
    [f] = run(snapshot(objs + [ds]), "GPU205")
    assert f.subject.kind == "DaemonSet" and f.subject.namespace == "kube-system"
    [fix] = f.fixes
    assert fix.id == "add-toleration"
    assert fix.patch == {
        "spec": {
            "template": {
                "spec": {"tolerations": [GPU_TOL, {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]}
            }
        }
    }
    assert fix.kubectl.startswith("kubectl patch daemonset nvidia-device-plugin -n kube-system --type merge -p ")
    assert "Helm release 'nvdp'" in fix.gitops_warning


def test_docstrings_have_the_three_sections():
    for code in OPERATOR_CODES:
        assert {"what it checks", "why it matters", "how to fix"} <= set(REGISTRY.find(code).doc_sections()), code


def test_gpu203_pods_waiting_behind_a_crashing_driver_fold_into_its_finding():
    objs = _swap_pod(
        healthy_cluster(),
        "nvidia-driver-daemonset",
        GPU_NODE_A,
        operand_pod("nvidia-driver-daemonset", GPU_NODE_A, suffix="dd111", statuses=CRASHLOOP),
    )
    waiting = operand_pod(
        "gpu-feature-discovery",
        GPU_NODE_A,
        suffix="wt555",
        age_min=40,
        init_statuses=[
            {
                "name": "toolkit-validation",
                "ready": False,
                "restartCount": 0,
                "state": {"running": {"startedAt": ts(40)}},
            }
        ],
        statuses=[
            {
                "name": "gpu-feature-discovery",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
        ],
    )
    objs = _swap_pod(objs, "gpu-feature-discovery", GPU_NODE_A, waiting)
    objs = replace(objs, "DaemonSet", "gpu-feature-discovery", daemonset("gpu-feature-discovery", desired=2, ready=1))
    objs = replace(
        objs, "DaemonSet", "nvidia-driver-daemonset", daemonset("nvidia-driver-daemonset", desired=2, ready=1)
    )
    snap = snapshot(
        objs,
        {
            (
                NS,
                "nvidia-driver-daemonset-dd111",
                "nvidia-driver-ctr",
                True,
            ): "Could not resolve Linux kernel version\nUnmounting NVIDIA driver rootfs...\n"
        },
    )
    [f] = run(snap, "GPU203")
    assert f.subject.name == "nvidia-driver-daemonset-dd111"
    assert (
        "): Could not resolve Linux kernel version; 1 other GPU Operator pod(s) on the node wait for it; " in f.message
    )
    # The driver cannot build for this kernel: pin the node image; a restart would crash the same way.
    assert "pin the node image (EC2NodeClass amiSelectorTerms or alias version)" in f.message
    assert f.fixes == []
    assert "waiting behind it on the same node: gpu-feature-discovery-wt555 (Init:0/1)" in f.evidence
    # GPU202 names the driver DaemonSet only: GFD just waits for it
    assert [x.subject.name for x in run(snap, "GPU202")] == ["nvidia-driver-daemonset"]


def test_gpu201_is_info_while_a_new_node_is_still_starting():
    cp = clusterpolicy(
        "notReady",
        conditions=[
            {
                "type": "Ready",
                "status": "False",
                "reason": "OperandNotReady",
                "message": "ClusterPolicy is not ready; states not ready: [state-device-plugin]",
                "lastTransitionTime": ts(2),
            }
        ],
    )
    objs = replace(healthy_cluster(), "ClusterPolicy", "cluster-policy", cp)
    objs = replace(objs, "Node", GPU_NODE_B, gpu_node(GPU_NODE_B, gpus=None, age_min=3))
    objs = _swap_pod(
        objs,
        "nvidia-device-plugin-daemonset",
        GPU_NODE_B,
        operand_pod(
            "nvidia-device-plugin-daemonset",
            GPU_NODE_B,
            suffix="yy000",
            age_min=2,
            init_statuses=[{"name": "toolkit-validation", "ready": False, "restartCount": 0, "state": {"running": {}}}],
            statuses=[
                {
                    "name": "nvidia-device-plugin",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": "PodInitializing"}},
                }
            ],
        ),
    )
    [f] = run(snapshot(objs), "GPU201")
    assert f.severity is Severity.INFO
    assert f"operands are still starting on new node(s) {GPU_NODE_B}" in f.message


def _with_node_info(objs, node, os_image, kernel):
    for o in objs:
        if o["kind"] == "Node" and o["metadata"]["name"] == node:
            o.setdefault("status", {})["nodeInfo"] = {"osImage": os_image, "kernelVersion": kernel}
    return objs


def _crashing(app, container, suffix):
    return operand_pod(
        app,
        GPU_NODE_A,
        suffix=suffix,
        statuses=[{**CRASHLOOP[0], "name": container}],
    )


def test_gpu203_driver_image_missing_for_amazon_linux_says_disable_the_driver():
    tag = "nvcr.io/nvidia/driver:570.172.08-amzn2023"
    pull = operand_pod(
        "nvidia-driver-daemonset",
        GPU_NODE_A,
        suffix="ip777",
        statuses=[
            {
                "name": "nvidia-driver-ctr",
                "ready": False,
                "restartCount": 0,
                "state": {
                    "waiting": {
                        "reason": "ErrImagePull",
                        "message": f'failed to pull and unpack image "{tag}": failed to resolve reference "{tag}": {tag}: not found',
                    }
                },
            }
        ],
    )
    [f] = run(snapshot(_swap_pod(healthy_cluster(), "nvidia-driver-daemonset", GPU_NODE_A, pull)), "GPU203")
    assert "driver image driver:570.172.08-amzn2023 not found: the AMI ships the driver" in f.message
    assert "set driver.enabled=false in the ClusterPolicy" in f.message
    assert "fix the image reference" not in f.message and f.fixes == []


def test_gpu203_kernel_failures_are_never_offered_a_restart():
    crash = _crashing("nvidia-driver-daemonset", "nvidia-driver-ctr", "kk888")
    log = "Resolving Linux kernel version...\nCould not resolve Linux kernel version\nStopping NVIDIA persistence daemon..."
    for kernel, want in (
        ("6.8.0-1021-aws", "pin the node image"),
        ("6.1.127-135.201.amzn2023.x86_64", "set driver.enabled=false"),
    ):
        objs = _swap_pod(healthy_cluster(), "nvidia-driver-daemonset", GPU_NODE_A, crash)
        objs = _with_node_info(objs, GPU_NODE_A, "Ubuntu 22.04.5 LTS", kernel)
        snap = snapshot(objs, {(NS, "nvidia-driver-daemonset-kk888", "nvidia-driver-ctr", True): log})
        [f] = run(snap, "GPU203")
        assert want in f.message, (kernel, f.message)
        assert f.fixes == [], kernel
        assert any(e.startswith("recognised: operator-driver/") for e in f.evidence)


def test_gpu203_operator_toolkit_on_bottlerocket_is_the_fault():
    crash = _crashing("nvidia-container-toolkit-daemonset", "nvidia-container-toolkit-ctr", "br999")
    objs = _swap_pod(healthy_cluster(), "nvidia-container-toolkit-daemonset", GPU_NODE_A, crash)
    objs = _with_node_info(objs, GPU_NODE_A, "Bottlerocket OS 1.30.0 (aws-k8s-1.32-nvidia)", "6.1.119")
    log = "Failed to initialize NVML: Unknown Error"
    snap = snapshot(objs, {(NS, "nvidia-container-toolkit-daemonset-br999", "nvidia-container-toolkit-ctr", True): log})
    [f] = run(snap, "GPU203")
    assert "Bottlerocket" in f.message and "toolkit.enabled=false" in f.message
    assert f.fixes == []


def test_gpu203_unrecognised_crash_still_offers_the_restart():
    crash = _crashing("gpu-feature-discovery", "gpu-feature-discovery", "dc000")
    objs = _swap_pod(healthy_cluster(), "gpu-feature-discovery", GPU_NODE_A, crash)
    snap = snapshot(
        objs,
        {
            (
                NS,
                "nvidia-dcgm-exporter-dc000",
                "nvidia-dcgm-exporter",
                True,
            ): "panic: listen tcp :9400: bind: address already in use"
        },
    )
    [f] = run(snap, "GPU203")
    assert [p.id for p in f.fixes] == ["restart-operand-pod"]
