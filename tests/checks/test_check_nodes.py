"""GPU1xx: GPU nodes without (all of) their GPUs, with the broken link named."""

import pytest

from checks.model import Severity
from checks.registry import REGISTRY, Check, run_checks
from tests.helpers.cluster import (
    GPU_NODE_A,
    GPU_NODE_B,
    GPU_TAINT,
    NS,
    find,
    gpu_node,
    gpu_pod,
    healthy_cluster,
    nodeclaim,
    operand_pod,
    replace,
    run,
    snapshot,
    ts,
)

NODE_CODES = ("GPU101", "GPU102", "GPU103", "GPU104")


def _without_operand_pods(objs, node):
    return [
        o
        for o in objs
        if not (o["kind"] == "Pod" and o["spec"].get("nodeName") == node and o["metadata"]["namespace"] == NS)
    ]


def _one(findings, node=GPU_NODE_A):
    mine = [f for f in findings if f.subject.name == node]
    assert len(mine) == 1, [f.message for f in findings]
    return mine[0]


def test_healthy_cluster_has_no_node_findings():
    snap = snapshot(healthy_cluster())
    for code in NODE_CODES:
        assert run(snap, code) == [], code


def test_custom_taint_not_tolerated_names_taint_and_offers_clusterpolicy_fix():
    taint = {"key": "example.com/gpu", "value": "true", "effect": "NoSchedule"}
    objs = _without_operand_pods(healthy_cluster(), GPU_NODE_A)
    objs = replace(objs, "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=None, taints=[GPU_TAINT, taint]))
    f = _one(run(snapshot(objs), "GPU101"))
    assert f.severity is Severity.ERROR
    assert f.subject.kind == "Node"
    assert "g5.xlarge, 1x" in f.message
    assert "does not tolerate the node's taint example.com/gpu=true:NoSchedule" in f.message
    assert "taint example.com/gpu=true:NoSchedule is not tolerated by nvidia-driver-daemonset" in f.evidence
    assert any(e.startswith("then device plugin: no pod on the node") for e in f.evidence)
    assert ("DaemonSet", "nvidia-driver-daemonset") in [(r.kind, r.name) for r in f.related]
    fix = f.fixes[0]
    assert fix.id == "clusterpolicy-tolerations"
    assert fix.target.kind == "ClusterPolicy" and fix.target.name == "cluster-policy"
    assert fix.patch == {
        "spec": {
            "daemonsets": {
                "tolerations": [
                    {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                    {"key": "example.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                ]
            }
        }
    }
    assert fix.resource_version == "555"
    assert "Helm release 'gpu-operator'" in fix.gitops_warning
    assert fix.kubectl.startswith("kubectl patch clusterpolicies.nvidia.com cluster-policy --type merge -p ")
    assert f.fixes[-1].id == "delete-nodeclaim" and f.fixes[-1].disruptive


def test_missing_deploy_label_blames_nfd_when_pci_label_is_absent():
    objs = _without_operand_pods(healthy_cluster(), GPU_NODE_A)
    node = gpu_node(GPU_NODE_A, gpus=0, deploy=False)
    del node["metadata"]["labels"]["feature.node.kubernetes.io/pci-10de.present"]
    objs = replace(objs, "Node", GPU_NODE_A, node)
    f = _one(run(snapshot(objs), "GPU101"))
    assert "Node Feature Discovery never labelled it feature.node.kubernetes.io/pci-10de.present=true" in f.message
    assert (
        "nvidia-driver-daemonset: nodeSelector nvidia.com/gpu.deploy.driver=true but the node's label is missing"
        in f.evidence
    )
    assert "has 0 allocatable" in f.message


def test_deploy_label_false_for_driver_means_preinstalled_driver_and_moves_on():
    # AMI ships the driver: the operator's driver is switched off; the device plugin link is the broken one.
    node = gpu_node(
        GPU_NODE_A,
        gpus=0,
        extra_labels={"nvidia.com/gpu.deploy.driver": "false", "nvidia.com/gpu.deploy.device-plugin": "false"},
    )
    objs = [
        o
        for o in healthy_cluster()
        if not (
            o["kind"] == "Pod"
            and o["spec"].get("nodeName") == GPU_NODE_A
            and o["metadata"]["labels"]["app"] in ("nvidia-driver-daemonset", "nvidia-device-plugin-daemonset")
        )
    ]
    objs = replace(objs, "Node", GPU_NODE_A, node)
    f = _one(run(snapshot(objs), "GPU101"))
    assert (
        "nvidia.com/gpu.deploy.driver=false on the node: the driver is expected to come with the node image"
        in f.evidence
    )
    assert (
        "no device plugin pod runs there: the node's label nvidia.com/gpu.deploy.device-plugin is 'false'" in f.message
    )


def test_crashlooping_driver_pod_gives_container_exit_code_restarts_and_log():
    objs = healthy_cluster()
    driver = operand_pod(
        "nvidia-driver-daemonset",
        GPU_NODE_A,
        suffix="k8x2p",
        statuses=[
            {
                "name": "nvidia-driver-ctr",
                "ready": False,
                "restartCount": 7,
                "state": {
                    "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}
                },
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
            }
        ],
    )
    plugin = operand_pod(
        "nvidia-device-plugin-daemonset",
        GPU_NODE_A,
        suffix="q1w2e",
        init_statuses=[
            {
                "name": "toolkit-validation",
                "ready": False,
                "restartCount": 0,
                "state": {"running": {"startedAt": ts(50)}},
            },
            {
                "name": "config-manager-init",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}},
            },
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
    objs = [
        o
        for o in objs
        if not (
            o["kind"] == "Pod"
            and o["spec"].get("nodeName") == GPU_NODE_A
            and o["metadata"]["labels"]["app"] in ("nvidia-driver-daemonset", "nvidia-device-plugin-daemonset")
        )
    ]
    objs += [driver, plugin]
    objs = replace(objs, "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=0))
    logs = {
        (
            NS,
            "nvidia-driver-daemonset-k8x2p",
            "nvidia-driver-ctr",
            True,
        ): "Installing NVIDIA driver kernel modules...\nCould not resolve Linux kernel version\n"
        "Stopping NVIDIA persistence daemon...\n"
    }
    f = _one(run(snapshot(objs, logs), "GPU101"))
    assert (
        "the driver pod nvidia-driver-daemonset-k8x2p is CrashLoopBackOff (container nvidia-driver-ctr, "
        "exit code 1, 7 restarts)"
    ) in f.message
    assert "previous log nvidia-driver-ctr: Could not resolve Linux kernel version" in f.evidence
    assert "then device plugin: pod nvidia-device-plugin-daemonset-q1w2e is Init:0/2" in f.evidence
    # The driver cannot build for the node's kernel: restarting it (or a new node from the same
    # NodeClass) crashes the same way, so the finding names the remedy and offers neither.
    assert "pin the node image (EC2NodeClass amiSelectorTerms or alias version)" in f.message
    assert [x.id for x in f.fixes] == []
    # The readiness chain behind GPU101/GPU102/GPU304 offers no restart for it either.
    from checks.readiness_chain import diagnose_chain

    snap = snapshot(objs, logs)
    assert diagnose_chain(snap, snap.node_by_name[GPU_NODE_A]).fixes == []
    # A crash the rules do not know keeps the restart (and the node replacement).
    logs[(NS, "nvidia-driver-daemonset-k8x2p", "nvidia-driver-ctr", True)] = (
        "panic: runtime error: index out of range\n"
    )
    f = _one(run(snapshot(objs, logs), "GPU101"))
    restart = next(x for x in f.fixes if x.id == "restart-operand-pod")
    assert restart.patch_type == "delete" and restart.disruptive
    assert restart.kubectl == "kubectl delete pod nvidia-driver-daemonset-k8x2p -n gpu-operator"


def _plugin_stuck_cluster(node_age):
    objs = [
        o
        for o in healthy_cluster()
        if not (
            o["kind"] == "Pod"
            and o["spec"].get("nodeName") == GPU_NODE_A
            and o["metadata"]["labels"]["app"] == "nvidia-device-plugin-daemonset"
        )
    ]
    objs.append(
        operand_pod(
            "nvidia-device-plugin-daemonset",
            GPU_NODE_A,
            suffix="zz9zz",
            age_min=node_age - 1,
            init_statuses=[
                {
                    "name": "toolkit-validation",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": ts(node_age - 1)}},
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
    )
    return replace(objs, "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=0, age_min=node_age))


def test_young_node_with_operands_starting_is_gpu102_info_not_gpu101():
    snap = snapshot(_plugin_stuck_cluster(node_age=4))
    assert run(snap, "GPU101") == []
    f = _one(run(snap, "GPU102"))
    assert f.severity is Severity.INFO
    assert "is 4m old" in f.message
    assert (
        "device plugin pod nvidia-device-plugin-daemonset-zz9zz is Init:0/2 (init container toolkit-validation) "
        "and has not started yet; give it a few minutes"
    ) in f.message


def test_old_node_with_plugin_still_in_init_is_gpu101():
    snap = snapshot(_plugin_stuck_cluster(node_age=45))
    assert run(snap, "GPU102") == []
    f = _one(run(snap, "GPU101"))
    assert "Init:0/2" in f.message and "up 45m" in f.message


def test_no_operator_and_no_device_plugin_installed():
    objs = [
        o
        for o in healthy_cluster()
        if o["kind"] not in ("DaemonSet", "ClusterPolicy")
        and not (o["kind"] == "Pod" and o["metadata"]["namespace"] == NS)
    ]
    objs = replace(objs, "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=None))
    f = _one(run(snapshot(objs), "GPU101"))
    assert "no NVIDIA device plugin is installed" in f.message
    assert "no nvidia.com/gpu in allocatable" in f.message


def test_plugin_running_without_devices_quotes_its_log():
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=0))
    plugin = next(
        o
        for o in objs
        if o["kind"] == "Pod"
        and o["spec"].get("nodeName") == GPU_NODE_A
        and o["metadata"]["labels"]["app"] == "nvidia-device-plugin-daemonset"
    )
    logs = {
        (
            NS,
            plugin["metadata"]["name"],
            "nvidia-device-plugin",
            False,
        ): "Starting FS watcher.\nStarting OS watcher.\nNo devices found. Waiting indefinitely.\n"
    }
    f = _one(run(snapshot(objs, logs), "GPU101"))
    assert "the device plugin registered no GPUs" in f.message
    assert "log nvidia-device-plugin: No devices found. Waiting indefinitely." in f.evidence


def test_gpu_count_from_karpenter_label_for_unknown_instance_type():
    node = gpu_node(
        GPU_NODE_A, instance_type="x99.mystery", gpus=0, extra_labels={"karpenter.k8s.aws/instance-gpu-count": "2"}
    )
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, node)
    f = _one(run(snapshot(objs), "GPU101"))
    assert "expected GPUs from label karpenter.k8s.aws/instance-gpu-count=2" in f.evidence[0]
    assert "x99.mystery, 2x" in f.message


def test_nodeclaim_resource_not_registered_is_linked():
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=0))
    objs = replace(
        objs,
        "NodeClaim",
        "gpu-aaaaa",
        nodeclaim(
            "gpu-aaaaa",
            node=GPU_NODE_A,
            conditions=[
                {"type": "Launched", "status": "True", "reason": "Launched", "lastTransitionTime": ts(58)},
                {"type": "Registered", "status": "True", "reason": "Registered", "lastTransitionTime": ts(57)},
                {
                    "type": "Initialized",
                    "status": "Unknown",
                    "reason": "ResourceNotRegistered",
                    "message": 'Resource "nvidia.com/gpu" was requested but not registered',
                    "lastTransitionTime": ts(55),
                },
            ],
        ),
    )
    f = _one(run(snapshot(objs), "GPU101"))
    assert (
        'NodeClaim gpu-aaaaa: Initialized=Unknown (ResourceNotRegistered): Resource "nvidia.com/gpu" was '
        "requested but not registered (for 55m)"
    ) in f.evidence
    assert ("NodeClaim", "gpu-aaaaa") in [(r.kind, r.name) for r in f.related]


def test_cpu_nodes_are_ignored():
    objs = [o for o in healthy_cluster() if o["kind"] != "Node" or "m6i" in str(o)]
    assert run(snapshot(objs), "GPU101") == []


@pytest.mark.parametrize(
    "alloc,cap,itype,cause",
    [
        (3, 4, "g5.12xlarge", "1 of 4 GPUs are marked unhealthy by the device plugin"),
        (3, 3, "g5.12xlarge", "the driver sees 3 GPU(s) but the instance type has 4"),
    ],
)
def test_gpu103_fewer_gpus_than_expected(alloc, cap, itype, cause):
    objs = replace(
        healthy_cluster(), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, instance_type=itype, gpus=alloc, capacity=cap)
    )
    f = _one(run(snapshot(objs), "GPU103"))
    assert f.severity is Severity.WARNING
    assert cause in f.message
    assert f"advertises {alloc} of 4 GPUs" in f.message
    assert [x.id for x in f.fixes] == ["cordon-node", "delete-nodeclaim"]
    assert f.fixes[0].patch == {"spec": {"unschedulable": True}}
    assert f.fixes[0].kubectl == f"kubectl cordon {GPU_NODE_A}"


def test_gpu103_ignores_full_and_empty_nodes():
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=0))
    assert run(snapshot(objs), "GPU103") == []


def test_gpu104_accelerated_hardware_countdown_and_gpu_pods():
    hw = {
        "type": "AcceleratedHardwareReady",
        "status": "False",
        "reason": "NvidiaXID79Error",
        "message": "GPU has fallen off the bus",
        "lastTransitionTime": ts(4),
    }
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, conditions=[hw]))
    objs.append(gpu_pod("trainer-0", node=GPU_NODE_A, owner=("StatefulSet", "trainer")))
    f = _one(run(snapshot(objs), "GPU104"))
    assert "AcceleratedHardwareReady=False (NvidiaXID79Error)" in f.message
    assert (
        "condition AcceleratedHardwareReady=False (NvidiaXID79Error): GPU has fallen off the bus (for 4m)" in f.evidence
    )
    assert any("force-terminates it in 6m" in e for e in f.evidence)
    assert "GPU pods on the node: ml/trainer-0" in f.evidence
    assert [x.id for x in f.fixes] == ["cordon-node", "delete-nodeclaim"]


def test_gpu104_not_ready_node_with_repair_passed():
    objs = replace(healthy_cluster(), "Node", GPU_NODE_B, gpu_node(GPU_NODE_B, ready="Unknown"))
    f = _one(run(snapshot(objs), "GPU104"), GPU_NODE_B)
    assert "Ready=Unknown (NodeStatusUnknown)" in f.message
    assert any("force-terminates it in 18m" in e for e in f.evidence)


def test_a_crashing_check_becomes_one_gpu901_and_the_others_still_run():
    def boom(snapshot):
        raise KeyError("spec")

    broken = Check("GPU199", "exploding-check", Severity.ERROR, "boom", (), boom)
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=0))
    findings = run_checks(snapshot(objs), [broken, REGISTRY.find("GPU101")])
    assert [f.code for f in findings].count("GPU901") == 1
    internal = next(f for f in findings if f.code == "GPU901")
    assert internal.subject.name == "GPU199" and "KeyError" in internal.message
    assert any(f.code == "GPU101" and f.subject.name == GPU_NODE_A for f in findings)


def test_docstrings_have_the_three_sections():
    for code in NODE_CODES:
        sections = REGISTRY.find(code).doc_sections()
        assert {"what it checks", "why it matters", "how to fix"} <= set(sections), code


def test_node_fixture_sanity():
    # the fixture's healthy device plugin pod really is on node A
    assert find(healthy_cluster(), "Node", GPU_NODE_A)["status"]["allocatable"]["nvidia.com/gpu"] == "1"


def test_mig_mixed_strategy_node_is_not_gpu_less():
    node = gpu_node(GPU_NODE_A, instance_type="p4d.24xlarge", gpus=0)
    node["status"]["allocatable"]["nvidia.com/mig-3g.20gb"] = "16"
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, node)
    snap = snapshot(objs)
    assert run(snap, "GPU101") == [] and run(snap, "GPU103") == []


# ---------------------------------------------------------------- GPU105


def _failed_admission(name, node, message, owner=("ReplicaSet", "trainer-5d8f")):
    p = gpu_pod(name, node=node, phase="Failed", owner=owner)
    p["status"].update({"reason": "UnexpectedAdmissionError", "message": message})
    return p


def _hook_failure(name, node, message):
    p = gpu_pod(name, node=node, phase="Pending")
    p["status"]["containerStatuses"] = [
        {
            "name": "main",
            "ready": False,
            "restartCount": 3,
            "state": {"waiting": {"reason": "RunContainerError", "message": message}},
        }
    ]
    return p


def test_gpu105_healthy_cluster_is_quiet():
    objs = healthy_cluster() + [gpu_pod("trainer-0", node=GPU_NODE_A)]
    assert run(snapshot(objs), "GPU105") == []


@pytest.mark.parametrize("count", [1, 3, 12])
def test_gpu105_groups_admission_failures_by_node_and_cause(count):
    msg = (
        "Pod Allocate failed due to requested number of devices unavailable for nvidia.com/gpu. "
        "Requested: 1, Available: 0, which is unexpected"
    )
    objs = healthy_cluster() + [_failed_admission(f"trainer-{i}", GPU_NODE_A, msg) for i in range(count)]
    [f] = run(snapshot(objs), "GPU105")
    assert f.severity is Severity.ERROR and f.subject.kind == "Node" and f.subject.name == GPU_NODE_A
    assert f"{count} GPU pod(s) on {GPU_NODE_A}" in f.message
    assert "nvidia.com/gpu requested 1, available 0" in f.message and "device plugin pod on that node" in f.message
    assert any(msg in e for e in f.evidence)
    assert f.fixes == []
    # The node's side of the admission: what it advertises and its device plugin pod.
    assert any(e.startswith("node nvidia.com/gpu: capacity 1, allocatable 1") for e in f.evidence), f.evidence
    assert any(e.startswith("device plugin pod nvidia-device-plugin-daemonset-") for e in f.evidence), f.evidence


def test_gpu105_lost_gpu_offers_cordon_and_replace():
    msg = (
        "Pod Allocate failed due to device plugin GetPreferredAllocation rpc failed with err: rpc error: code = "
        "Unknown desc = Unable to retrieve list of available devices: error creating nvml.Device 2: nvml: GPU is "
        "lost, which is unexpected"
    )
    objs = healthy_cluster() + [_failed_admission("trainer-0", GPU_NODE_B, msg)]
    [f] = run(snapshot(objs), "GPU105")
    assert f.subject.name == GPU_NODE_B and "GPU is lost" in f.message
    assert "cordon-node" in [x.id for x in f.fixes]


def test_gpu105_runtime_hook_and_cuda_requirement():
    hook = (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
        "failed: unable to start container process: error during container init: error running hook #0: error "
        "running hook: exit status 1, stdout: , stderr: nvidia-container-cli: initialization error: nvml error: "
        "driver not loaded: unknown"
    )
    cuda = (
        "error running hook #0: error running hook: exit status 1, stdout: , stderr: nvidia-container-cli: "
        "requirement error: unsatisfied condition: cuda>=12.8, please update your driver to a newer version, or "
        "use an earlier cuda container: unknown"
    )
    objs = healthy_cluster() + [_hook_failure("infer-0", GPU_NODE_A, hook), _hook_failure("infer-1", GPU_NODE_B, cuda)]
    found = {f.subject.kind: f for f in run(snapshot(objs), "GPU105")}
    assert "driver not loaded" in found["Node"].message
    # The CUDA requirement is the image's: the finding names the pod's workload, not the node.
    assert found["Pod"].subject.name == "infer-1" and "cuda>=12.8" in found["Pod"].message


def test_gpu105_running_pod_that_lost_its_gpus():
    objs = healthy_cluster() + [gpu_pod("notebook-0", node=GPU_NODE_A)]
    logs = {("ml", "notebook-0", "main", False): "step 1200 loss 0.31\nFailed to initialize NVML: Unknown Error\n"}
    [f] = run(snapshot(objs, logs), "GPU105")
    assert "Failed to initialize NVML: Unknown Error" in f.message and "daemon-reload" in f.message


def test_gpu105_application_crash_is_not_the_nodes():
    p = _hook_failure("trainer-0", GPU_NODE_A, "exec: python: not found")
    logs = {("ml", "trainer-0", "main", True): "Traceback (most recent call last):\nKeyError: 'lr'"}
    assert run(snapshot(healthy_cluster() + [p], logs), "GPU105") == []


def test_gpu105_failed_mig_configuration():
    objs = healthy_cluster()
    for o in objs:
        if o["kind"] == "Node" and o["metadata"]["name"] == GPU_NODE_A:
            o["metadata"]["labels"].update(
                {"nvidia.com/mig.config": "all-1g.10gb", "nvidia.com/mig.config.state": "failed"}
            )
    [f] = run(snapshot(objs), "GPU105")
    assert f.subject.name == GPU_NODE_A and "all-1g.10gb" in f.message and "nvidia-mig-manager" in f.message


@pytest.mark.parametrize(
    ("state", "remedy_words"),
    [
        (
            {
                "terminated": {
                    "exitCode": 128,
                    "reason": "StartError",
                    "message": "failed to create containerd task: failed to create shim task: OCI runtime create "
                    "failed: runc create failed: unable to start container process: error during container init: "
                    "error running prestart hook #0: exit status 1, stdout: , stderr: Auto-detected mode as "
                    "'legacy'\nnvidia-container-cli: initialization error: load library failed: "
                    "libnvidia-ml.so.1: cannot open shared object file: no such file or directory: unknown",
                }
            },
            "libnvidia-ml.so.1",
        ),
        (
            {
                "waiting": {
                    "reason": "CreateContainerError",
                    "message": "failed to generate container spec: nvidia-container-cli: initialization error: nvml "
                    "error: insufficient permissions",
                }
            },
            "insufficient permissions",
        ),
    ],
)
def test_gpu105_start_and_create_errors(state, remedy_words):
    p = gpu_pod("infer-0", node=GPU_NODE_B, phase="Pending")
    p["status"]["containerStatuses"] = [{"name": "main", "ready": False, "restartCount": 0, "state": state}]
    [f] = run(snapshot(healthy_cluster() + [p]), "GPU105")
    assert f.subject.name == GPU_NODE_B and remedy_words in f.message
