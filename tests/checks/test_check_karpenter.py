"""GPU3xx: NodeClaim launch/registration/initialization, capacity, NodePools and EC2NodeClasses."""

from checks.model import Severity
from checks.registry import REGISTRY
from tests.helpers.cluster import (
    GPU_NODE_A,
    GPU_TAINT,
    ICE,
    NS,
    TYPES_ONLY,
    condition,
    ec2nodeclass,
    event,
    gpu_node,
    gpu_pod,
    healthy_cluster,
    ice_cluster,
    nodeclaim,
    nodepool,
    replace,
    run,
    snapshot,
    vanished_nomination,
)

KARPENTER_CODES = ("GPU301", "GPU302", "GPU303", "GPU304", "GPU305", "GPU306", "GPU307", "GPU308", "GPU309")


def test_healthy_cluster_has_no_karpenter_findings():
    snap = snapshot(healthy_cluster())
    for code in KARPENTER_CODES:
        assert run(snap, code) == [], code


def test_gpu301_launch_failed_with_ami_hint_and_nodeclass_evidence():
    nc = nodeclaim(
        "gpu-l4unch",
        age_min=3,
        conditions=[
            condition("Launched", "Unknown", "LaunchFailed", "no instance types satisfy requirements of amis", 2.5)
        ],
    )
    ncls = ec2nodeclass(
        conditions=[
            condition("AMIsReady", "False", "AMINotFound", "AMISelector did not match any AMIs"),
            condition("Ready", "False", "UnhealthyDependents", "AMIsReady=False"),
        ]
    )
    objs = replace(healthy_cluster(), "EC2NodeClass", "default", ncls) + [nc]
    [f] = run(snapshot(objs), "GPU301")
    assert f.subject.kind == "NodeClaim" and f.subject.name == "gpu-l4unch"
    assert (
        "GPU NodeClaim gpu-l4unch (NodePool gpu, g5.xlarge) did not launch: LaunchFailed: no instance types "
        "satisfy requirements of amis; no instance types satisfy requirements of the AMIs. "
        "Fix: EC2NodeClass spec.amiSelectorTerms"
    ) in f.message
    assert "recognised: launch-failure (ami-fits-no-instance-type), change EC2NodeClass" in f.evidence
    assert "EC2NodeClass default: AMIsReady=False (AMINotFound): AMISelector did not match any AMIs" in f.evidence
    assert any("deletes it after 5 minutes" in e for e in f.evidence)
    assert ("EC2NodeClass", "default") in [(r.kind, r.name) for r in f.related]


def test_gpu301_skips_a_nodeclaim_that_just_appeared():
    nc = nodeclaim("gpu-fresh", age_min=0.5, conditions=[])
    assert run(snapshot(healthy_cluster() + [nc]), "GPU301") == []


def test_gpu302_groups_ice_per_nodepool_error_when_gpu_pods_wait():
    [f] = run(snapshot(ice_cluster()), "GPU302")
    assert f.severity is Severity.ERROR
    assert f.subject.kind == "NodePool" and f.subject.name == "gpu"
    assert f.message.startswith(
        "NodePool gpu: EC2 had no capacity for g5.xlarge in us-west-2a (4 failed launch(es), "
        "last 2m ago); 1 GPU pod(s) wait for it"
    )
    assert f"event InsufficientCapacityError on NodeClaim gpu-x1y2z (4m ago): {ICE}" in f.evidence
    assert "EC2 error codes: InsufficientInstanceCapacity" in f.evidence
    assert any(e.startswith("NodeClaims gpu-x1y2z, gpu-q9w8e were deleted") for e in f.evidence)
    assert "GPU pods waiting for this NodePool: ml/infer-7d9c-abcde" in f.evidence
    [fix] = f.fixes
    assert fix.id == "widen-nodepool-requirements"
    reqs = fix.patch["spec"]["template"]["spec"]["requirements"]
    types = next(r for r in reqs if r["key"] == "node.kubernetes.io/instance-type")["values"]
    assert types[:2] == ["g5.xlarge", "g5.2xlarge"] and len(types) > 2
    from checks import instances

    a10g = instances.get("g5.xlarge")
    for name in types[2:]:  # same GPU count, no less GPU memory, another family
        it = instances.get(name)
        assert it.gpu_count == 1 and it.gpu_memory_mib >= a10g.gpu_memory_mib and it.family != "g5", name


def test_gpu302_offers_no_substitute_the_nodepool_would_reject():
    # the NodePool pins the g5 family: other families would be filtered out again
    [f] = run(snapshot(ice_cluster(requirements=None)), "GPU302")
    assert f.fixes == []


def test_gpu302_is_a_warning_when_nothing_waits_and_names_limit_exhaustion():
    [f] = run(
        snapshot(ice_cluster(pending=False, limits={"nvidia.com/gpu": "2"}, resources={"nvidia.com/gpu": "2"})),
        "GPU302",
    )
    assert f.severity is Severity.WARNING
    assert "no GPU pod is waiting now" in f.message
    assert "NodePool limits are exhausted as well (GPU308)" in f.message
    assert "limit nvidia.com/gpu: 2 used of 2" in f.evidence


def test_gpu302_says_limits_are_not_the_cause():
    [f] = run(snapshot(ice_cluster(limits={"nvidia.com/gpu": "16"}, resources={"nvidia.com/gpu": "2"})), "GPU302")
    assert "NodePool limits are not the cause: nvidia.com/gpu 2/16" in f.evidence


def test_gpu303_time_left_before_registration_timeout():
    nc = nodeclaim(
        "gpu-r3g1s",
        age_min=6.5,
        provider_id="aws:///us-west-2a/i-0abc",
        conditions=[
            condition("Launched", "True", "Launched", "", 6),
            condition("Registered", "Unknown", "NodeNotFound", "Node not registered with cluster", 6),
        ],
    )
    [f] = run(snapshot(healthy_cluster() + [nc]), "GPU303")
    assert f.severity is Severity.ERROR
    assert "launched 6m ago; Karpenter deletes it in 9m (15-minute registration timeout)" in f.message
    assert "condition Registered=Unknown (NodeNotFound): Node not registered with cluster" in f.evidence
    assert "instance aws:///us-west-2a/i-0abc" in f.evidence
    assert "registration deadline 2026-11-30T02:09:00Z" in f.evidence
    assert f.fixes[0].id == "delete-nodeclaim" and f.fixes[0].disruptive


def test_gpu303_past_the_timeout():
    nc = nodeclaim(
        "gpu-l8t3r",
        age_min=21,
        conditions=[
            condition("Launched", "True", "Launched", "", 20),
            condition("Registered", "Unknown", "NodeNotFound", "", 20),
        ],
    )
    [f] = run(snapshot(healthy_cluster() + [nc]), "GPU303")
    assert "past the 15-minute registration timeout" in f.message


def test_gpu304_resource_not_registered_names_the_chain_and_carries_its_fix():
    custom = {"key": "example.com/gpu", "value": "true", "effect": "NoSchedule"}
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, gpus=None, taints=[GPU_TAINT, custom]))
    objs = [
        o
        for o in objs
        if not (o["kind"] == "Pod" and o["spec"].get("nodeName") == GPU_NODE_A and o["metadata"]["namespace"] == NS)
    ]
    objs = replace(
        objs,
        "NodeClaim",
        "gpu-aaaaa",
        nodeclaim(
            "gpu-aaaaa",
            node=GPU_NODE_A,
            conditions=[
                condition("Launched", "True", "Launched", "", 58),
                condition("Registered", "True", "Registered", "", 57),
                condition(
                    "Initialized",
                    "Unknown",
                    "ResourceNotRegistered",
                    'Resource "nvidia.com/gpu" was requested but not registered',
                    55,
                ),
            ],
        ),
    )
    [f] = run(snapshot(objs), "GPU304")
    assert f.severity is Severity.ERROR
    assert (
        'is not initialized: ResourceNotRegistered (Resource "nvidia.com/gpu" was requested but not registered); '
        f"on {GPU_NODE_A}: the driver pod is not running there: nvidia-driver-daemonset does not tolerate the "
        "node's taint example.com/gpu=true:NoSchedule"
    ) in f.message
    assert [x.id for x in f.fixes] == ["clusterpolicy-tolerations", "delete-nodeclaim"]
    assert ("Node", GPU_NODE_A) in [(r.kind, r.name) for r in f.related]


def test_gpu304_startup_taint():
    startup = {"key": "example.com/agent-not-ready", "effect": "NoSchedule"}
    objs = replace(healthy_cluster(), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, taints=[GPU_TAINT, startup]))
    objs = replace(
        objs,
        "NodeClaim",
        "gpu-aaaaa",
        nodeclaim(
            "gpu-aaaaa",
            node=GPU_NODE_A,
            conditions=[
                condition("Launched", "True", "Launched"),
                condition("Registered", "True", "Registered"),
                condition(
                    "Initialized",
                    "Unknown",
                    "StartupTaintsExist",
                    'StartupTaint "example.com/agent-not-ready:NoSchedule" still exists',
                    30,
                ),
            ],
        ),
    )
    [f] = run(snapshot(objs), "GPU304")
    assert "StartupTaintsExist" in f.message and "startup taint is still on the node" in f.message
    assert "node taints: nvidia.com/gpu=:NoSchedule, example.com/agent-not-ready=:NoSchedule" in f.evidence


def test_gpu305_drifted_gpu_nodeclaim_lists_gpu_pods():
    objs = replace(
        healthy_cluster(),
        "NodeClaim",
        "gpu-aaaaa",
        nodeclaim(
            "gpu-aaaaa",
            node=GPU_NODE_A,
            conditions=[
                condition("Launched", "True", "Launched", "", 50),
                condition("Registered", "True", "Registered", "", 50),
                condition("Initialized", "True", "Initialized", "", 50),
                condition("Drifted", "True", "AMIDrift", "", 3),
            ],
        ),
    )
    objs.append(gpu_pod("train-0", node=GPU_NODE_A, owner=("StatefulSet", "train")))
    [f] = run(snapshot(objs), "GPU305")
    assert f.severity is Severity.INFO
    assert f"NodeClaim gpu-aaaaa (NodePool gpu, g5.xlarge, node {GPU_NODE_A}) is drifted (AMIDrift)" in f.message
    assert "1 GPU pod(s) there will be evicted" in f.message
    assert f"GPU pods on {GPU_NODE_A}: ml/train-0" in f.evidence


def test_gpu306_nodeclass_not_found():
    pool = nodepool(
        "gpu",
        node_class="gpu-typo",
        conditions=[
            condition("NodeClassReady", "False", "NodeClassNotFound", "NodeClass not found on cluster"),
            condition("Ready", "False", "UnhealthyDependents", "NodeClassReady=False"),
        ],
    )
    objs = replace(healthy_cluster(), "NodePool", "gpu", pool) + [gpu_pod("wait-1")]
    [f] = run(snapshot(objs), "GPU306")
    assert (
        "NodePool gpu is not ready: NodeClassReady NodeClassNotFound (NodeClass not found on cluster); Karpenter "
        "launches nothing from it while 1 GPU pod(s) wait"
    ) == f.message
    assert "nodeClassRef EC2NodeClass/gpu-typo is not in the cluster" in f.evidence


def test_gpu307_names_failed_parts_and_gpu_nodepools():
    ncls = ec2nodeclass(
        conditions=[
            condition("SubnetsReady", "False", "SubnetsNotFound", "SubnetSelector did not match any Subnets"),
            condition("SecurityGroupsReady", "True", "SecurityGroupsReady"),
            condition("Ready", "False", "UnhealthyDependents", "SubnetsReady=False"),
        ]
    )
    objs = replace(healthy_cluster(), "EC2NodeClass", "default", ncls)
    [f] = run(snapshot(objs), "GPU307")
    assert f.message == (
        "EC2NodeClass default is not ready: SubnetsReady (SubnetsNotFound: SubnetSelector did not "
        "match any Subnets); GPU NodePool(s) gpu cannot launch nodes; EC2NodeClass spec.subnetSelectorTerms: "
        "the selector matches no subnet (or names one that does not exist); check the ids and the "
        "karpenter.sh/discovery tags on the VPC's subnets"
    )
    assert [(r.kind, r.name) for r in f.related] == [("NodePool", "gpu")]


def test_gpu308_limit_reached_with_pending_gpu_pod_offers_raise():
    objs = replace(
        healthy_cluster(),
        "NodePool",
        "gpu",
        nodepool(limits={"nvidia.com/gpu": "2", "cpu": "100"}, resources={"nvidia.com/gpu": "2", "cpu": "8"}),
    )
    objs.append(gpu_pod("train-x", gpus=2, owner=("Job", "train")))
    objs.append(
        event(
            "FailedScheduling",
            "Failed to schedule pod, all available instance types exceed limits for nodepool (NodePool=gpu)",
            kind="Pod",
            name="train-x",
            namespace="ml",
        )
    )
    [f] = run(snapshot(objs), "GPU308")
    assert f.severity is Severity.ERROR
    assert f.message.startswith(
        "NodePool gpu has reached its limits (nvidia.com/gpu 2/2): Karpenter launches no more "
        "nodes from it while 1 GPU pod(s) wait"
    )
    assert "limit nvidia.com/gpu: 2 used of 2" in f.evidence and "limit cpu: 8 used of 100" in f.evidence
    assert "no InsufficientCapacityError events for this NodePool: this is the limit, not EC2 capacity" in f.evidence
    [fix] = f.fixes
    assert fix.id == "raise-nodepool-limit" and fix.patch == {"spec": {"limits": {"nvidia.com/gpu": "4"}}}
    assert fix.kubectl == (
        'kubectl patch nodepools.karpenter.sh gpu --type merge -p \'{"spec":{"limits":{"nvidia.com/gpu":"4"}}}\''
    )


def test_gpu308_warning_when_nothing_waits_and_silent_below_limit():
    at = replace(
        healthy_cluster(),
        "NodePool",
        "gpu",
        nodepool(limits={"nvidia.com/gpu": "2"}, resources={"nvidia.com/gpu": "2"}),
    )
    [f] = run(snapshot(at), "GPU308")
    assert f.severity is Severity.WARNING and "the next GPU pod will stay Pending" in f.message
    below = replace(
        healthy_cluster(),
        "NodePool",
        "gpu",
        nodepool(limits={"nvidia.com/gpu": "8"}, resources={"nvidia.com/gpu": "2"}),
    )
    assert run(snapshot(below), "GPU308") == []


def test_gpu308_counts_node_capacity_when_status_resources_is_missing():
    objs = replace(healthy_cluster(), "NodePool", "gpu", nodepool(limits={"nvidia.com/gpu": "2"}))
    [f] = run(snapshot(objs), "GPU308")
    assert "limit nvidia.com/gpu: 2 used of 2" in f.evidence


def test_docstrings_have_the_three_sections():
    for code in KARPENTER_CODES:
        assert {"what it checks", "why it matters", "how to fix"} <= set(REGISTRY.find(code).doc_sections()), code


def test_gpu302_does_not_count_pods_karpenter_found_incompatible():
    objs = ice_cluster(pending=False)
    objs.append(gpu_pod("no-tol-1", tolerations=[]))
    objs.append(
        event(
            "FailedScheduling",
            'Failed to schedule pod, incompatible with nodepool "gpu", daemonset '
            'overhead={"cpu":"200m"}, did not tolerate nvidia.com/gpu:NoSchedule',
            kind="Pod",
            name="no-tol-1",
            namespace="ml",
        )
    )
    [f] = run(snapshot(objs), "GPU302")
    assert f.severity is Severity.WARNING and "no GPU pod is waiting now" in f.message


# -- real-world texts: failed vs suggested zones, causes, Ready=Unknown ----------------

ICE_SUGGESTS = (
    "NodeClaim gpu-x1y2z event: insufficient capacity, with fleet error(s), InsufficientInstanceCapacity: We "
    "currently do not have sufficient g5.xlarge capacity in the Availability Zone you requested ({bad}). Our "
    "system will be working on provisioning additional capacity. You can currently get g5.xlarge capacity by "
    "not specifying an Availability Zone in your request or choosing {good}."
)


def _ice_with(bad: str, good: str):
    objs = [o for o in ice_cluster() if o.get("reason") != "InsufficientCapacityError"]
    objs.append(
        event(
            "InsufficientCapacityError",
            ICE_SUGGESTS.format(bad=bad, good=good),
            kind="NodeClaim",
            name="gpu-x1y2z",
            minutes_ago=3,
        )
    )
    return objs


def test_gpu302_reports_only_the_failed_zone_and_names_the_suggested_ones():
    for bad, good in (("us-west-2b", "us-west-2a, us-west-2c"), ("eu-west-3a", "eu-west-3b, eu-west-3c, eu-west-3d")):
        [f] = run(snapshot(_ice_with(bad, good)), "GPU302")
        assert f" in {bad} (" in f.message, f.message
        for z in good.split(", "):
            assert f" in {z} (" not in f.message
            assert z in f.message  # named as what to allow
        assert f"EC2 had no capacity in {bad} and suggests {good}" in f.evidence


def test_gpu302_quota_texts_get_the_quota_remedy():
    objs = [o for o in ice_cluster() if o.get("reason") != "InsufficientCapacityError"]
    objs.append(
        event(
            "InsufficientCapacityError",
            "NodeClaim gpu-x1y2z event: insufficient capacity, with fleet error(s), MaxSpotInstanceCountExceeded: "
            "Max spot instance count exceeded",
            kind="NodeClaim",
            name="gpu-x1y2z",
            minutes_ago=3,
        )
    )
    [f] = run(snapshot(objs), "GPU302")
    assert "Spot instance quota" in f.message and "Service Quotas" in f.message


def test_gpu301_says_cause_and_remedy_for_launch_failures():
    cases = {
        "UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure "
        "message: abc": ("UnauthorizedOperation", "Karpenter controller IAM role"),
        "InvalidParameterValue: Value (my-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM "
        "Instance Profile name; UnfulfillableCapacity: Unable to fulfill capacity due to your request "
        "configuration.": ("instance profile my-profile", "spec.role / spec.instanceProfile"),
        "no subnets found": ("no subnets match", "spec.subnetSelectorTerms"),
    }
    for msg, (cause, where) in cases.items():
        nc = nodeclaim("gpu-l4unch", age_min=3, conditions=[condition("Launched", "False", "LaunchFailed", msg, 2.5)])
        [f] = run(snapshot(healthy_cluster() + [nc]), "GPU301")
        assert cause in f.message and where in f.message, f.message


def test_gpu301_reads_the_cause_from_the_nodeclaim_events_when_the_condition_is_vague():
    nc = nodeclaim("gpu-l4unch", age_min=3, conditions=[condition("Launched", "Unknown", "LaunchFailed", "", 2.5)])
    ev = event(
        "FailedLaunch",
        "no amis exist given constraints",
        kind="NodeClaim",
        name="gpu-l4unch",
        minutes_ago=2,
    )
    [f] = run(snapshot(healthy_cluster() + [nc, ev]), "GPU301")
    assert "spec.amiSelectorTerms" in f.message


def _unknown_pool(minutes: float, reason="AwaitingReconciliation", message="object is awaiting reconciliation"):
    return nodepool(conditions=[condition("Ready", "Unknown", reason, message, minutes)])


def test_gpu306_ready_unknown_is_info_while_young_then_error_with_waiting_pods():
    young = replace(healthy_cluster(), "NodePool", "gpu", _unknown_pool(3)) + [gpu_pod("wait-1")]
    [f] = run(snapshot(young), "GPU306")
    assert f.severity == Severity.INFO
    old = replace(healthy_cluster(), "NodePool", "gpu", _unknown_pool(45)) + [gpu_pod("wait-1")]
    [f] = run(snapshot(old), "GPU306")
    assert f.severity == Severity.ERROR
    assert "Ready Unknown AwaitingReconciliation" in f.message and "Karpenter controller" in f.message
    assert ("Pod", "wait-1") in [(r.kind, r.name) for r in f.related]
    idle = replace(healthy_cluster(), "NodePool", "gpu", _unknown_pool(45))
    [f] = run(snapshot(idle), "GPU306")
    assert f.severity == Severity.WARNING


def test_gpu306_nodeclass_readiness_unknown_points_at_the_ec2nodeclass():
    pool = _unknown_pool(30, "NodeClassReadinessUnknown", "Node Class Readiness Unknown")
    objs = replace(healthy_cluster(), "NodePool", "gpu", pool) + [gpu_pod("wait-1")]
    [f] = run(snapshot(objs), "GPU306")
    assert "EC2NodeClass status.conditions" in f.message


def test_gpu307_ready_unknown_unhealthy_dependents_links_waiting_pods():
    ncls = ec2nodeclass(
        conditions=[
            condition("AMIsReady", "Unknown", "AwaitingReconciliation", "object is awaiting reconciliation", 40),
            condition("Ready", "Unknown", "UnhealthyDependents", "AMIsReady=Unknown", 40),
        ]
    )
    objs = replace(healthy_cluster(), "EC2NodeClass", "default", ncls) + [gpu_pod("wait-1")]
    [f] = run(snapshot(objs), "GPU307")
    assert f.severity == Severity.ERROR
    assert "Ready Unknown" in f.message and "AMIsReady" in f.message
    assert ("Pod", "wait-1") in [(r.kind, r.name) for r in f.related]
    young = ec2nodeclass(conditions=[condition("Ready", "Unknown", "AwaitingReconciliation", "", 2)])
    [f] = run(snapshot(replace(healthy_cluster(), "EC2NodeClass", "default", young)), "GPU307")
    assert f.severity == Severity.INFO


def test_gpu309_vanished_nodeclaim_without_trace_is_a_registration_ttl_warning():
    [f] = run(snapshot(vanished_nomination("gpu-g0ne1", minutes=20)), "GPU309")
    assert f.severity == Severity.WARNING
    assert (f.subject.kind, f.subject.name) == ("NodePool", "gpu")
    assert "registration TTL" in f.message and "NodeClaim gpu-g0ne1 of NodePool gpu" in f.message
    assert ("NodeClaim", "gpu-g0ne1") in [(r.kind, r.name) for r in f.related]
    assert "GPU pods waiting for it: ml/wait-1" in f.evidence
    assert ("Pod", "wait-1") in [(r.kind, r.name) for r in f.related]


def test_gpu309_names_the_recognised_cause_and_is_info_when_gpu302_covers_it():
    ice = event(
        "InsufficientCapacityError",
        ICE_SUGGESTS.format(bad="us-west-2b", good="us-west-2a, us-west-2c").replace("gpu-x1y2z", "gpu-g0ne1"),
        kind="NodeClaim",
        name="gpu-g0ne1",
        minutes_ago=21,
    )
    [f] = run(snapshot(vanished_nomination("gpu-g0ne1", minutes=20, events=[ice])), "GPU309")
    assert f.severity == Severity.INFO
    assert "InsufficientInstanceCapacity" in f.message and "us-west-2b" in f.message


def test_gpu309_is_info_while_young_and_silent_when_the_nodeclaim_exists():
    [f] = run(snapshot(vanished_nomination("gpu-g0ne1", minutes=3)), "GPU309")
    assert f.severity == Severity.INFO
    assert run(snapshot(vanished_nomination("gpu-aaaaa", minutes=20)), "GPU309") == []


def test_gpu302_offers_the_suggested_zones_when_the_nodepool_pins_a_zone():
    pinned = TYPES_ONLY + [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-west-2b"]}]
    objs = [o for o in ice_cluster(requirements=pinned) if o.get("reason") != "InsufficientCapacityError"]
    objs.append(
        event(
            "InsufficientCapacityError",
            ICE_SUGGESTS.format(bad="us-west-2b", good="us-west-2a, us-west-2c"),
            kind="NodeClaim",
            name="gpu-x1y2z",
            minutes_ago=3,
        )
    )
    [f] = run(snapshot(objs), "GPU302")
    assert f.fixes[0].title == "Allow topology.kubernetes.io/zone us-west-2a, us-west-2c in NodePool gpu"
    # without a zone requirement the pool already allows every zone: no zone fix
    [f] = run(snapshot(_ice_with("us-west-2b", "us-west-2a, us-west-2c")), "GPU302")
    assert not any("topology.kubernetes.io/zone" in x.title for x in f.fixes)
