"""checks.causes: each rule links a consequence to its root cause only when the findings tie them."""

from __future__ import annotations

from checks.causes import consequences, link_causes
from checks.model import Finding, FixPlan, ObjectRef, Severity

CP = ObjectRef("ClusterPolicy", "cluster-policy", None, "nvidia.com/v1")
DRIVER_DS = ObjectRef("DaemonSet", "nvidia-driver-daemonset", "gpu-operator")
TOOLKIT_DS = ObjectRef("DaemonSet", "nvidia-container-toolkit-daemonset", "gpu-operator")
NODE = ObjectRef("Node", "ip-10-0-1-1.ec2.internal")
OTHER_NODE = ObjectRef("Node", "ip-10-0-2-2.ec2.internal")
CLAIM = ObjectRef("NodeClaim", "gpu-abc12")
POOL = ObjectRef("NodePool", "gpu")
DRIVER_POD = ObjectRef("Pod", "nvidia-driver-daemonset-x1", "gpu-operator")
TOOLKIT_POD = ObjectRef("Pod", "nvidia-container-toolkit-daemonset-x1", "gpu-operator")
DEPLOY = ObjectRef("Deployment", "llm", "ml")

GPU_TOL = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
DEDICATED_TOL = {"key": "example.com/dedicated", "operator": "Exists", "effect": "NoSchedule"}
OTHER_TOL = {"key": "example.com/other", "operator": "Exists", "effect": "NoSchedule"}


def finding(code: str, subject: ObjectRef, related=(), fixes=(), severity=Severity.ERROR) -> Finding:
    return Finding(
        code, code.lower(), severity, f"title {code}", "m", subject, related=list(related), fixes=list(fixes)
    )


def tolerate(*tols, target=CP) -> FixPlan:
    patch = {"spec": {"daemonsets": {"tolerations": [GPU_TOL, *tols]}}}
    return FixPlan("clusterpolicy-tolerations", "Tolerate", target, "merge", patch)


def restart(pod: ObjectRef) -> FixPlan:
    return FixPlan("restart-operand-pod", f"Restart pod {pod.name}", pod, "delete")


def causes_of(findings: list[Finding], pools=None) -> dict[str, str | None]:
    link_causes(findings, pools)
    return {f.id: f.cause for f in findings}


def test_id_is_code_and_subject():
    assert finding("GPU101", NODE).id == "GPU101:Node//ip-10-0-1-1.ec2.internal"
    assert finding("GPU203", DRIVER_POD).id == "GPU203:Pod/gpu-operator/nvidia-driver-daemonset-x1"


def test_untolerated_taint_leads_the_nodes_their_nodeclaims_and_the_pods_waiting_there():
    taint = finding("GPU205", CP, [POOL, DRIVER_DS], [tolerate(DEDICATED_TOL)])
    node = finding("GPU101", NODE, [DRIVER_DS, CP, CLAIM], [tolerate(DEDICATED_TOL)])
    claim = finding("GPU304", CLAIM, [NODE, POOL, DRIVER_DS, CP], [tolerate(DEDICATED_TOL)])
    pending = finding("GPU401", DEPLOY, [POOL, NODE, CLAIM])
    nominated = finding("GPU402", DEPLOY, [NODE, CLAIM], severity=Severity.WARNING)
    got = causes_of([node, taint, claim, pending, nominated])
    assert got == {
        node.id: taint.id,
        taint.id: None,
        claim.id: taint.id,
        pending.id: taint.id,
        nominated.id: taint.id,
    }
    assert consequences([node, taint, claim, pending, nominated]) == {taint.id: [node, claim, pending, nominated]}


def test_a_node_needing_a_toleration_the_taint_finding_does_not_add_is_not_its_consequence():
    taint = finding("GPU205", CP, [DRIVER_DS], [tolerate(DEDICATED_TOL)])
    node = finding("GPU101", NODE, [DRIVER_DS, CP], [tolerate(OTHER_TOL)])
    elsewhere = finding("GPU101", OTHER_NODE, [DRIVER_DS], [tolerate(DEDICATED_TOL, target=DRIVER_DS)])
    assert causes_of([taint, node, elsewhere]) == {taint.id: None, node.id: None, elsewhere.id: None}


def test_crashing_driver_leads_its_node_nodeclaim_daemonset_clusterpolicy_and_runtime():
    crash = finding("GPU203", DRIVER_POD, [DRIVER_DS, NODE], [restart(DRIVER_POD)])
    node = finding("GPU101", NODE, [DRIVER_DS, DRIVER_POD, CLAIM], [restart(DRIVER_POD)])
    claim = finding("GPU304", CLAIM, [NODE, POOL, DRIVER_DS, DRIVER_POD])
    ds = finding("GPU202", DRIVER_DS, [DRIVER_POD])
    policy = finding("GPU201", CP, [DRIVER_DS, TOOLKIT_DS])
    pending = finding("GPU401", DEPLOY, [POOL, NODE])
    got = causes_of([node, policy, ds, crash, claim, pending])
    assert got == {
        node.id: crash.id,
        policy.id: crash.id,
        ds.id: crash.id,
        crash.id: None,
        claim.id: crash.id,
        pending.id: crash.id,
    }


def test_runtime_missing_follows_the_toolkit_pod_its_fix_restarts():
    crash = finding("GPU203", TOOLKIT_POD, [TOOLKIT_DS, NODE], [restart(TOOLKIT_POD)])
    runtime = finding("GPU204", NODE, [TOOLKIT_DS, TOOLKIT_POD], [restart(TOOLKIT_POD)])
    # The pods the missing runtime keeps from starting are its victims, never its cause.
    stuck_plugin = ObjectRef("Pod", "nvidia-device-plugin-daemonset-x1", "gpu-operator")
    plugin = finding("GPU203", stuck_plugin, [NODE])
    runtime.related.append(stuck_plugin)
    assert causes_of([crash, runtime, plugin])[runtime.id] == crash.id


def test_ambiguous_links_stay_unlinked():
    # A DaemonSet failing on two nodes for two different pods has no single cause.
    other_pod = ObjectRef("Pod", "nvidia-driver-daemonset-x2", "gpu-operator")
    one = finding("GPU203", DRIVER_POD, [DRIVER_DS, NODE])
    two = finding("GPU203", other_pod, [DRIVER_DS, OTHER_NODE])
    ds = finding("GPU202", DRIVER_DS, [DRIVER_POD, other_pod])
    # The ClusterPolicy waits on a DaemonSet nothing explains.
    policy = finding("GPU201", CP, [DRIVER_DS])
    # A NodeClaim on another node than the GPU-less one.
    node = finding("GPU101", NODE, [CLAIM])
    claim = finding("GPU304", ObjectRef("NodeClaim", "gpu-zzz"), [OTHER_NODE])
    got = causes_of([one, two, ds, policy, node, claim])
    assert set(got.values()) == {None}


def test_nodeclaim_follows_a_gpu_less_node_that_is_a_root_itself():
    node = finding("GPU101", NODE, [CLAIM])
    claim = finding("GPU304", CLAIM, [NODE, POOL])
    assert causes_of([node, claim]) == {node.id: None, claim.id: node.id}


def test_nodeclass_leads_its_nodepool_and_the_pods_only_that_pool_could_take():
    nodeclass = finding("GPU307", ObjectRef("EC2NodeClass", "gpu", None, "karpenter.k8s.aws/v1"), [POOL])
    pool = finding("GPU306", POOL, [ObjectRef("EC2NodeClass", "gpu")])
    pending = finding("GPU401", DEPLOY, [POOL])
    waiting = {("Deployment", "ml", "llm"): {"gpu": frozenset({"nodeclass"})}}
    got = causes_of([nodeclass, pool, pending], lambda ref: waiting.get((ref.kind, ref.namespace, ref.name), {}))
    assert got == {nodeclass.id: None, pool.id: nodeclass.id, pending.id: nodeclass.id}


def test_pending_pods_follow_a_pool_limit_or_capacity_only_when_every_pool_they_could_use_is_blocked():
    limit = finding("GPU308", POOL)
    ice = finding("GPU302", ObjectRef("NodePool", "gpu-b"))
    pending = finding("GPU401", DEPLOY, [POOL])

    def pools(mapping):
        return lambda ref: mapping

    assert causes_of([limit, pending], pools({"gpu": frozenset({"limits"})}))[pending.id] == limit.id
    assert causes_of([ice, pending], pools({"gpu-b": frozenset()}))[pending.id] == ice.id
    # Another pool could take them and nothing is wrong with it: waiting is not explained.
    both = pools({"gpu": frozenset({"limits"}), "gpu-c": frozenset()})
    assert causes_of([limit, pending], both)[pending.id] is None
    # Two pools blocked for two different reasons: no single cause.
    two = pools({"gpu": frozenset({"limits"}), "gpu-b": frozenset()})
    assert causes_of([limit, ice, pending], two)[pending.id] is None
    # No facts about the pools: no link.
    assert causes_of([limit, pending])[pending.id] is None


def test_a_nominated_node_wins_over_the_pool():
    node = finding("GPU101", NODE)
    limit = finding("GPU308", POOL)
    pending = finding("GPU401", DEPLOY, [POOL, NODE])
    got = causes_of([node, limit, pending], lambda ref: {"gpu": frozenset({"limits"})})
    assert got[pending.id] == node.id


def test_incident_chains_through_run_checks():
    from checks.registry import run_checks
    from tests.helpers.sim import scenario_snapshot

    found = {f.id: f.cause for f in run_checks(scenario_snapshot("incident"))}
    taint = "GPU205:ClusterPolicy//cluster-policy"
    crash = "GPU203:Pod/gpu-operator/nvidia-driver-daemonset-fbxjp"
    assert found["GPU101:Node//ip-10-0-19-20.us-west-2.compute.internal"] == taint
    assert found["GPU304:NodeClaim//gpu-dedicated-779mx"] == taint
    assert found["GPU401:Deployment/ml-research/protein-embed"] == taint
    assert found["GPU101:Node//ip-10-0-39-113.us-west-2.compute.internal"] == crash
    assert found["GPU201:ClusterPolicy//cluster-policy"] == crash
    assert found["GPU401:Deployment/ml-serving/llm-chat"] == crash
    assert found["GPU401:Job/ml-training/pretrain-70b-run7"] == "GPU302:NodePool//gpu-training"
    # Pods that tolerate no GPU NodePool wait for nothing another finding explains.
    assert found["GPU401:Deployment/ml-serving/sdxl-image-gen"] is None
    assert found[taint] is None and found[crash] is None


def test_nodeclass_and_limit_scenarios_through_run_checks():
    from checks.registry import run_checks
    from tests.helpers.sim import scenario_snapshot

    found = {f.id: f.cause for f in run_checks(scenario_snapshot("ec2nodeclass-not-ready"))}
    assert found["GPU306:NodePool//gpu-batch"] == found["GPU401:Job/ml-research/batch-embed-2611"]
    assert found["GPU306:NodePool//gpu-batch"] == "GPU307:EC2NodeClass//gpu-batch"
    found = {f.id: f.cause for f in run_checks(scenario_snapshot("nodepool-gpu-limit"))}
    assert found["GPU401:Deployment/ml-serving/llm-chat"] == "GPU308:NodePool//gpu-inference"
