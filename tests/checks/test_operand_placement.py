"""GPU202 follows the GPU Operator's own placement rules: an operand missing from a node is a
failure only where the operator would have placed it; nodes on first boot, being deleted
or disrupted, and DaemonSets inside a rolling update are not failures; AMD and Neuron nodes
are never judged by the NVIDIA rules."""

import copy

from checks.model import Severity
from checks.registry import REGISTRY
from tests.helpers.cluster import (
    GPU_NODE_A,
    GPU_NODE_B,
    clusterpolicy,
    daemonset,
    find,
    gpu_node,
    healthy_cluster,
    nodepool,
    operand_pod,
    replace,
    run,
    snapshot,
    ts,
)

GPU_NODE_C = "ip-10-0-5-11.ec2.internal"
DRIVER = "nvidia-driver-daemonset"
TOOLKIT = "nvidia-container-toolkit-daemonset"
PLUGIN = "nvidia-device-plugin-daemonset"
GFD = "gpu-feature-discovery"
MIG = "nvidia-mig-manager"
NVIDIA_AMI = "ami-0aaaabbbbccccdddd"


def _without_pods(objs, app, node):
    return [
        o
        for o in objs
        if not (o["kind"] == "Pod" and o["spec"].get("nodeName") == node and o["metadata"]["labels"].get("app") == app)
    ]


def _with_node(objs, node):
    return replace(objs, "Node", node["metadata"]["name"], node)


def _gpu202(objs, app):
    return [f for f in run(snapshot(objs), "GPU202") if f.subject.name == app]


def _missing_on_b(app, *, ready=1, objs=None):
    """The healthy cluster with the operand's pod gone from node B (DaemonSet counts follow)."""
    objs = _without_pods(objs if objs is not None else healthy_cluster(), app, GPU_NODE_B)
    return replace(objs, "DaemonSet", app, daemonset(app, desired=2, ready=ready))


def _mig_manager(desired: int, ready: int) -> dict:
    ds = daemonset(GFD, desired=desired, ready=ready, name=MIG)
    ds["metadata"]["labels"] = {"app": MIG}
    tpl = ds["spec"]["template"]
    tpl["metadata"]["labels"] = {"app": MIG}
    ds["spec"]["selector"]["matchLabels"] = {"app": MIG}
    tpl["spec"]["nodeSelector"] = {"nvidia.com/gpu.deploy.mig-manager": "true"}
    tpl["spec"]["initContainers"] = []
    tpl["spec"]["containers"] = [{"name": "nvidia-mig-manager", "image": "nvcr.io/x"}]
    return ds


def _assert_quiet(findings):
    assert [f.message for f in findings if f.severity >= Severity.WARNING] == []


# -- 1. the operator's placement rules ---------------------------------------------------


def test_mig_manager_with_no_pods_is_quiet_on_gpus_that_cannot_do_mig():
    # g5.xlarge has an A10G: the operator never labels it for the MIG manager.
    objs = healthy_cluster() + [_mig_manager(desired=0, ready=0)]
    assert _gpu202(objs, MIG) == []


def test_mig_capable_label_false_wins_over_the_product_name():
    node = gpu_node(
        GPU_NODE_B,
        extra_labels={"nvidia.com/gpu.product": "NVIDIA A100-SXM4-40GB", "nvidia.com/mig.capable": "false"},
    )
    objs = _with_node(healthy_cluster(), node) + [_mig_manager(desired=0, ready=0)]
    assert _gpu202(objs, MIG) == []


def test_mig_manager_missing_on_a_mig_capable_gpu_fires():
    # An A100 node the operator would label for the MIG manager, 60 minutes old, no pod.
    node = gpu_node(GPU_NODE_B, instance_type="p4d.24xlarge", gpus=8)
    objs = _with_node(healthy_cluster(), node) + [_mig_manager(desired=0, ready=0)]
    [f] = _gpu202(objs, MIG)
    assert f.severity is Severity.ERROR
    assert f"no pod on {GPU_NODE_B}: nodeSelector nvidia.com/gpu.deploy.mig-manager=true" in f.evidence[2]
    assert f"no pod past the 10m first-boot window on: {GPU_NODE_B} (up 60m)" in f.evidence
    assert "missing or not ready on 1 GPU node(s)" in f.message


def test_mig_capable_from_the_gfd_label_fires_when_missing():
    node = gpu_node(GPU_NODE_B, extra_labels={"nvidia.com/mig.capable": "true"})
    objs = _with_node(healthy_cluster(), node) + [_mig_manager(desired=0, ready=0)]
    [f] = _gpu202(objs, MIG)
    assert GPU_NODE_B in f.message


def test_mig_capable_product_names():
    from checks.operands import _mig_capable_name

    for name in ("NVIDIA-A100-SXM4-40GB", "NVIDIA H100 80GB HBM3", "NVIDIA A30", "NVIDIA-GH200-480GB", "NVIDIA B200"):
        assert _mig_capable_name(name), name
    for name in ("Tesla-T4", "NVIDIA A10G", "NVIDIA L4", "NVIDIA L40S", "Tesla-V100-SXM2-16GB", "NVIDIA RTX A3000"):
        assert not _mig_capable_name(name), name


def test_operand_disabled_in_the_clusterpolicy_is_not_expected():
    cp = clusterpolicy()
    cp["spec"]["gfd"] = {"enabled": False}
    objs = replace(_missing_on_b(GFD), "ClusterPolicy", "cluster-policy", cp)
    assert _gpu202(objs, GFD) == []


def test_operand_enabled_in_the_clusterpolicy_and_missing_fires():
    cp = clusterpolicy()
    cp["spec"]["gfd"] = {"enabled": True}
    objs = replace(_missing_on_b(GFD), "ClusterPolicy", "cluster-policy", cp)
    [f] = _gpu202(objs, GFD)
    assert f.severity is Severity.ERROR and GPU_NODE_B in f.message


def test_operand_switched_off_on_the_node_is_not_expected():
    node = gpu_node(GPU_NODE_B, extra_labels={"nvidia.com/gpu.deploy.device-plugin": "false"})
    objs = _with_node(_missing_on_b(PLUGIN), node)
    # The DaemonSet's selector no longer matches node B, so it counts only node A.
    objs = replace(objs, "DaemonSet", PLUGIN, daemonset(PLUGIN, desired=1, ready=1))
    assert _gpu202(objs, PLUGIN) == []


def test_all_operands_switched_off_on_the_node_is_not_expected():
    node = gpu_node(GPU_NODE_B, extra_labels={"nvidia.com/gpu.deploy.operands": "false"})
    objs = _with_node(_missing_on_b(GFD), node)
    assert _gpu202(objs, GFD) == []


def _sandbox(enabled: bool):
    cp = clusterpolicy()
    cp["spec"]["sandboxWorkloads"] = {"enabled": enabled, "defaultWorkload": "container"}
    node = gpu_node(GPU_NODE_B, extra_labels={"nvidia.com/gpu.workload.config": "vm-passthrough"})
    objs = _with_node(_missing_on_b(PLUGIN), node)
    return replace(objs, "ClusterPolicy", "cluster-policy", cp)


def test_sandbox_workload_node_gets_no_container_operands():
    assert _gpu202(_sandbox(enabled=True), PLUGIN) == []


def test_workload_config_label_without_sandbox_workloads_changes_nothing():
    # The operator reads nvidia.com/gpu.workload.config only with sandboxWorkloads enabled.
    [f] = _gpu202(_sandbox(enabled=False), PLUGIN)
    assert GPU_NODE_B in f.message


def _nvidia_ami(objs, name: str):
    objs = copy.deepcopy(objs)
    ncl = find(objs, "EC2NodeClass", "default")
    ncl["status"]["amis"] = [{"id": NVIDIA_AMI, "name": name}]
    for o in objs:
        if o["kind"] == "NodeClaim" and o["status"].get("nodeName") == GPU_NODE_B:
            o["status"]["imageID"] = NVIDIA_AMI
    return objs


def test_driver_and_toolkit_are_not_expected_where_the_eks_nvidia_ami_ships_them():
    objs = _missing_on_b(DRIVER)
    objs = _without_pods(objs, TOOLKIT, GPU_NODE_B)
    objs = replace(objs, "DaemonSet", TOOLKIT, daemonset(TOOLKIT, desired=2, ready=1))
    objs = _nvidia_ami(objs, "amazon-eks-node-al2023-x86_64-nvidia-1.32-v20250620")
    assert _gpu202(objs, DRIVER) == []
    assert _gpu202(objs, TOOLKIT) == []


def test_device_plugin_is_still_expected_on_the_eks_nvidia_ami():
    objs = _nvidia_ami(_missing_on_b(PLUGIN), "amazon-eks-node-al2023-x86_64-nvidia-1.32-v20250620")
    [f] = _gpu202(objs, PLUGIN)
    assert GPU_NODE_B in f.message


def test_driver_is_expected_on_a_standard_ami():
    objs = _nvidia_ami(_missing_on_b(DRIVER), "amazon-eks-node-al2023-x86_64-standard-1.32-v20250620")
    [f] = _gpu202(objs, DRIVER)
    assert f.severity is Severity.ERROR and GPU_NODE_B in f.message


def test_bottlerocket_runs_the_device_plugin_on_the_host():
    node = gpu_node(GPU_NODE_B)
    node["status"]["nodeInfo"] = {"osImage": "Bottlerocket OS 1.26.1 (aws-k8s-1.32-nvidia)"}
    objs = _with_node(_missing_on_b(PLUGIN), node)
    assert _gpu202(objs, PLUGIN) == []


# -- 2. nodes in normal transitions ------------------------------------------------------


def _fresh_node_without_nfd(age_min: float):
    node = gpu_node(GPU_NODE_B, age_min=age_min, deploy=False, gpus=None)
    del node["metadata"]["labels"]["feature.node.kubernetes.io/pci-10de.present"]
    objs = _with_node(healthy_cluster(), node)
    for app in (DRIVER, TOOLKIT, PLUGIN, GFD):
        objs = _without_pods(objs, app, GPU_NODE_B)
        objs = replace(objs, "DaemonSet", app, daemonset(app, desired=1, ready=1))
    return objs


def test_node_on_first_boot_before_nfd_labels_it_is_not_an_operand_failure():
    findings = run(snapshot(_fresh_node_without_nfd(1.5)), "GPU202")
    _assert_quiet(findings)


def test_node_past_the_first_boot_window_without_operands_fires_with_its_age():
    findings = run(snapshot(_fresh_node_without_nfd(45)), "GPU202")
    assert {f.subject.name for f in findings} == {DRIVER, TOOLKIT, PLUGIN, GFD}
    for f in findings:
        assert f.severity is Severity.ERROR
        assert f"no pod past the 10m first-boot window on: {GPU_NODE_B} (up 45m)" in f.evidence
        assert any("check the NFD worker" in e and GPU_NODE_B in e for e in f.evidence)


def test_node_being_deleted_is_not_expected_to_run_operands():
    node = gpu_node(GPU_NODE_B)
    node["metadata"]["deletionTimestamp"] = ts(1)
    objs = _with_node(_missing_on_b(PLUGIN), node)
    assert _gpu202(objs, PLUGIN) == []


def test_node_karpenter_is_disrupting_is_not_expected_to_run_operands():
    node = gpu_node(
        GPU_NODE_B,
        taints=[
            {"key": "nvidia.com/gpu", "effect": "NoSchedule"},
            {"key": "karpenter.sh/disrupted", "effect": "NoSchedule"},
        ],
    )
    objs = _with_node(healthy_cluster(), node)
    for app in (DRIVER, TOOLKIT, PLUGIN, GFD):
        objs = _missing_on_b(app, objs=objs)
    assert run(snapshot(objs), "GPU202") == []


def test_node_karpenter_v1beta1_is_disrupting_is_not_expected_to_run_operands():
    node = gpu_node(
        GPU_NODE_B,
        taints=[
            {"key": "nvidia.com/gpu", "effect": "NoSchedule"},
            {"key": "karpenter.sh/disruption", "value": "disrupting", "effect": "NoSchedule"},
        ],
    )
    objs = _with_node(_missing_on_b(PLUGIN), node)
    assert [f.message for f in _gpu202(objs, PLUGIN)] == []


def test_node_cordoned_for_disruption_is_not_expected_to_run_operands():
    node = gpu_node(
        GPU_NODE_B,
        conditions=[{"type": "DisruptionTarget", "status": "True", "reason": "Underutilized"}],
    )
    node["spec"]["unschedulable"] = True
    objs = _with_node(_missing_on_b(PLUGIN), node)
    assert _gpu202(objs, PLUGIN) == []


def test_node_cordoned_by_hand_still_runs_daemonset_pods():
    node = gpu_node(GPU_NODE_B)
    node["spec"]["unschedulable"] = True
    objs = _with_node(_missing_on_b(PLUGIN), node)
    [f] = _gpu202(objs, PLUGIN)
    assert GPU_NODE_B in f.message


def _rolling(pod_age_min: float):
    creating = operand_pod(
        PLUGIN,
        GPU_NODE_B,
        suffix="new01",
        phase="Pending",
        age_min=pod_age_min,
        init_statuses=[],
        statuses=[
            {"name": n, "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}
            for n in ("nvidia-device-plugin", "config-manager")
        ],
    )
    ds = daemonset(PLUGIN, desired=2, ready=1)
    ds["metadata"]["generation"] = 4
    ds["status"].update({"observedGeneration": 4, "updatedNumberScheduled": 1})
    objs = _without_pods(healthy_cluster(), PLUGIN, GPU_NODE_B) + [creating]
    return replace(objs, "DaemonSet", PLUGIN, ds)


def test_rolling_update_inside_its_window_is_not_an_error():
    assert _gpu202(_rolling(pod_age_min=2), PLUGIN) == []


def test_rolling_update_stuck_past_its_window_fires():
    [f] = _gpu202(_rolling(pod_age_min=30), PLUGIN)
    assert f.severity is Severity.ERROR and GPU_NODE_B in f.message


# -- 3. the message counts what the evidence shows ----------------------------------------


def test_message_counts_the_nodes_its_evidence_lists():
    nodes = (GPU_NODE_A, GPU_NODE_B, GPU_NODE_C)
    objs = healthy_cluster(nodes=nodes)
    for n in nodes:
        objs = _without_pods(objs, PLUGIN, n)
        node = gpu_node(n)
        del node["metadata"]["labels"]["nvidia.com/gpu.deploy.device-plugin"]
        objs = _with_node(objs, node)
    # The DaemonSet's own counts know nothing of nodes its selector does not match.
    objs = replace(objs, "DaemonSet", PLUGIN, daemonset(PLUGIN, desired=1, ready=0))
    [f] = _gpu202(objs, PLUGIN)
    listed = [e for e in f.evidence if e.startswith(("no pod on ", "on "))]
    assert len(listed) == 3
    assert "is missing or not ready on 3 GPU node(s)" in f.message


def test_counts_alone_give_the_number_of_pods_not_ready():
    objs = replace(healthy_cluster(), "DaemonSet", PLUGIN, daemonset(PLUGIN, desired=2, ready=1))
    [f] = _gpu202(objs, PLUGIN)
    assert "on 1 GPU node(s): only 1 of 2 pods ready" in f.message


# -- 4. other accelerators ------------------------------------------------------------------


def _amd_node(name: str) -> dict:
    node = gpu_node(name, instance_type="g4ad.xlarge", gpus=None, deploy=False)
    labels = node["metadata"]["labels"]
    del labels["feature.node.kubernetes.io/pci-10de.present"]
    labels.update(
        {
            "karpenter.sh/nodepool": "amd",
            "karpenter.k8s.aws/instance-gpu-count": "1",
            "karpenter.k8s.aws/instance-gpu-name": "radeon-pro-v520",
        }
    )
    node["spec"]["taints"] = [{"key": "amd.com/gpu", "effect": "NoSchedule"}]
    node["status"]["capacity"]["amd.com/gpu"] = "1"
    node["status"]["allocatable"]["amd.com/gpu"] = "1"
    return node


def _neuron_node(name: str) -> dict:
    node = gpu_node(name, instance_type="inf2.xlarge", gpus=None, deploy=False)
    labels = node["metadata"]["labels"]
    del labels["feature.node.kubernetes.io/pci-10de.present"]
    labels.update({"karpenter.sh/nodepool": "neuron", "karpenter.k8s.aws/instance-accelerator-count": "1"})
    node["spec"]["taints"] = [{"key": "aws.amazon.com/neuron", "effect": "NoSchedule"}]
    node["status"]["capacity"]["aws.amazon.com/neuron"] = "1"
    node["status"]["allocatable"]["aws.amazon.com/neuron"] = "1"
    return node


def test_amd_and_neuron_nodes_and_pools_are_never_judged_by_the_nvidia_rules():
    amd_pool = nodepool("amd")
    amd_pool["spec"]["template"]["spec"]["taints"] = [{"key": "amd.com/gpu", "effect": "NoSchedule"}]
    amd_pool["spec"]["template"]["spec"]["requirements"] = [
        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g4ad"]}
    ]
    neuron_pool = nodepool("neuron")
    neuron_pool["spec"]["template"]["spec"]["taints"] = [{"key": "aws.amazon.com/neuron", "effect": "NoSchedule"}]
    neuron_pool["spec"]["template"]["spec"]["requirements"] = [
        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["inf2"]}
    ]
    objs = healthy_cluster() + [
        _amd_node("ip-10-0-7-1.ec2.internal"),
        _neuron_node("ip-10-0-7-2.ec2.internal"),
        amd_pool,
        neuron_pool,
    ]
    snap = snapshot(objs)
    codes = [c.code for c in REGISTRY.all() if c.code.startswith(("GPU1", "GPU2"))]
    for code in codes:
        assert run(snap, code) == [], code


def test_an_nvidia_node_without_operands_next_to_them_still_fires():
    objs = healthy_cluster() + [_amd_node("ip-10-0-7-1.ec2.internal")]
    objs = _missing_on_b(PLUGIN, objs=objs)
    [f] = _gpu202(objs, PLUGIN)
    assert GPU_NODE_B in f.message and "ip-10-0-7-1" not in " ".join(f.evidence)
