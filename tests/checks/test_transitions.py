"""In-between states have a clock: inside a transition's window only info findings that say
what is in progress and by when; past it the real check, with the elapsed time as evidence.
Every age is judged against the snapshot's own clock (tests.helpers.cluster.NOW)."""

from __future__ import annotations

import pytest

from checks import transitions
from checks.model import Severity
from checks.transitions import (
    NODE_DELETION,
    NODE_FIRST_BOOT,
    TRANSITIONS,
    YOUNG_NODE_SECONDS,
    deadline_text,
    elapsed_text,
    within,
)
from tests.helpers.cluster import (
    NOW,
    event,
    gpu_node,
    gpu_pod,
    healthy_cluster,
    leaving_node,
    nodeclaim,
    run,
    snapshot,
    ts,
)

NEW_NODE = "ip-10-0-5-5.ec2.internal"
NEW_CLAIM = "gpu-n3w00"
NFD_LABEL = "feature.node.kubernetes.io/pci-10de.present"


# -- the table -----------------------------------------------------------------------------


def test_every_transition_has_a_positive_window_and_names_the_checks_that_wait():
    names = [t.name for t in TRANSITIONS]
    assert len(names) == len(set(names))
    for t in TRANSITIONS:
        assert t.window_seconds > 0 and t.defers and t.in_progress and t.clock, t.name
        assert all(code.startswith("GPU") and len(code) == 6 for code in t.defers), t.name


def test_window_constants_have_one_definition():
    from checks import gpu_nodes, gpu_pods, karpenter, pod_problems, scheduling

    assert gpu_nodes.YOUNG_NODE_SECONDS is transitions.YOUNG_NODE_SECONDS  # still importable there
    assert pod_problems.STUCK_SECONDS is transitions.STUCK_SECONDS
    assert gpu_pods.PENDING_GRACE_SECONDS is transitions.PENDING_GRACE_SECONDS
    assert scheduling.NOMINATION_PATIENCE_SECONDS is transitions.NOMINATION_PATIENCE_SECONDS
    assert karpenter.REGISTRATION_TIMEOUT == transitions.REGISTRATION_TTL_SECONDS == 900
    assert NODE_FIRST_BOOT.window_seconds == YOUNG_NODE_SECONDS == 600


def test_within_and_texts():
    assert within(NODE_FIRST_BOOT, 90) and not within(NODE_FIRST_BOOT, 600) and not within(NODE_FIRST_BOOT, None)
    assert deadline_text(NODE_FIRST_BOOT, 90) == "node first boot normally takes up to 10m (8m left)"
    assert elapsed_text(NODE_DELETION, 1800) == "30m elapsed, past the 15m node cordoned / drained / deleted by " + (
        "Karpenter window"
    )


def test_readme_table_is_generated_from_the_module():
    from gputui.report import catalogue

    text = catalogue.README.read_text(encoding="utf-8")
    assert "### In-between states" in text
    assert transitions.markdown_table() in text
    for t in TRANSITIONS:
        assert f"| {t.name} |" in text


# -- node first boot, NodeClaim initialization, the pod waiting for it ---------------------


def _new_node_cluster(node_minutes: float, init_minutes: float) -> list[dict]:
    """A GPU node NFD has not labelled yet, its NodeClaim registered but not initialized,
    and a replica nominated for that NodeClaim."""
    node = gpu_node(NEW_NODE, gpus=None, age_min=node_minutes, deploy=False)
    del node["metadata"]["labels"][NFD_LABEL]
    conds = [
        {"type": "Launched", "status": "True", "reason": "Launched", "lastTransitionTime": ts(node_minutes + 1)},
        {"type": "Registered", "status": "True", "reason": "Registered", "lastTransitionTime": ts(init_minutes)},
        {
            "type": "Initialized",
            "status": "Unknown",
            "reason": "ResourceNotRegistered",
            "message": 'Resource "nvidia.com/gpu" was requested but not registered',
            "lastTransitionTime": ts(init_minutes),
        },
    ]
    nc = nodeclaim(NEW_CLAIM, node=NEW_NODE, conditions=conds, age_min=node_minutes + 2)
    pod = gpu_pod("infer-7d9c-abcde", owner=("ReplicaSet", "infer-7d9c"), age_min=node_minutes + 2)
    nominated = event(
        "Nominated",
        f"Pod should schedule on: nodeclaim/{NEW_CLAIM}",
        kind="Pod",
        name="infer-7d9c-abcde",
        namespace="ml",
        minutes_ago=node_minutes + 2,
        type_="Normal",
    )
    return healthy_cluster() + [node, nc, pod, nominated]


def _mine(findings, name):
    return [f for f in findings if f.subject.name == name]


def test_new_node_nfd_not_labelled_yet_is_info_only():
    # The reported case: 90 s after the node joined, NodeClaim registered 52 s ago.
    snap = snapshot(_new_node_cluster(node_minutes=1.5, init_minutes=52 / 60))
    assert snap.now == NOW
    assert _mine(run(snap, "GPU101"), NEW_NODE) == []
    [init] = _mine(run(snap, "GPU102"), NEW_NODE)
    assert init.severity is Severity.INFO
    assert "Node Feature Discovery has not labelled the new node" in init.message
    assert "node first boot normally takes up to 10m (8m left)" in init.message
    [nc] = _mine(run(snap, "GPU304"), NEW_CLAIM)
    assert nc.severity is Severity.INFO
    assert "still in progress: NodeClaim registration → initialization normally takes up to 10m (9m left)" in (
        nc.message
    )
    [pending] = run(snap, "GPU401")
    assert pending.severity is Severity.INFO
    assert f"Karpenter is launching NodeClaim {NEW_CLAIM}" in pending.message
    assert "pod Pending, nominated to an in-flight NodeClaim normally takes up to 10m" in pending.message


def test_new_node_past_its_window_is_the_real_finding_with_elapsed_time():
    snap = snapshot(_new_node_cluster(node_minutes=25, init_minutes=24))
    assert _mine(run(snap, "GPU102"), NEW_NODE) == []
    [broken] = _mine(run(snap, "GPU101"), NEW_NODE)
    assert broken.severity is Severity.ERROR
    assert "Node Feature Discovery never labelled it" in broken.message
    assert "node up 25m elapsed, past the 10m node first boot window" in broken.evidence
    [nc] = _mine(run(snap, "GPU304"), NEW_CLAIM)
    assert nc.severity is Severity.ERROR
    assert "Initialized not True for 24m elapsed, past the 10m NodeClaim registration → initialization window" in (
        nc.evidence
    )
    [pending] = run(snap, "GPU401")
    assert pending.severity is Severity.ERROR
    assert f"GPU node(s) {NEW_NODE} offer no allocatable nvidia.com/gpu" in pending.message  # GPU101 has the time


def _nominated_to_unregistered(minutes: float) -> list[dict]:
    conds = [
        {"type": "Launched", "status": "True", "reason": "Launched", "lastTransitionTime": ts(minutes - 0.5)},
        {"type": "Registered", "status": "Unknown", "reason": "NodeNotFound", "lastTransitionTime": ts(minutes - 0.5)},
    ]
    pod = gpu_pod("infer-7d9c-abcde", owner=("ReplicaSet", "infer-7d9c"), age_min=minutes + 1)
    nominated = event(
        "Nominated",
        f"Pod should schedule on: nodeclaim/{NEW_CLAIM}",
        kind="Pod",
        name="infer-7d9c-abcde",
        namespace="ml",
        minutes_ago=minutes,
        type_="Normal",
    )
    return healthy_cluster() + [nodeclaim(NEW_CLAIM, conditions=conds, age_min=minutes), pod, nominated]


def test_pod_nominated_to_a_nodeclaim_still_launching_is_info():
    [f] = run(snapshot(_nominated_to_unregistered(3)), "GPU401")
    assert f.severity is Severity.INFO
    assert "(7m left)" in f.message


def test_pod_nominated_to_a_nodeclaim_past_the_window_is_an_error_with_elapsed_time():
    [f] = run(snapshot(_nominated_to_unregistered(12)), "GPU401")
    assert f.severity is Severity.ERROR
    assert f"nominated NodeClaim {NEW_CLAIM} is not ready: Registered=Unknown (NodeNotFound)" in f.message
    assert (
        f"NodeClaim {NEW_CLAIM} created 12m elapsed, past the 10m pod Pending, nominated to an in-flight "
        "NodeClaim window"
    ) in f.evidence


def test_new_node_with_operands_switched_off_is_broken_even_when_young():
    objs = _new_node_cluster(node_minutes=1.5, init_minutes=1)
    node = next(o for o in objs if o["kind"] == "Node" and o["metadata"]["name"] == NEW_NODE)
    node["metadata"]["labels"][NFD_LABEL] = "true"
    node["metadata"]["labels"]["nvidia.com/gpu.deploy.operands"] = "false"
    [broken] = _mine(run(snapshot(objs), "GPU101"), NEW_NODE)
    assert broken.severity is Severity.ERROR


# -- NodeClaim launched → registered -------------------------------------------------------


def _unregistered(launched_minutes: float) -> list[dict]:
    conds = [
        {"type": "Launched", "status": "True", "reason": "Launched", "lastTransitionTime": ts(launched_minutes)},
        {
            "type": "Registered",
            "status": "Unknown",
            "reason": "NodeNotFound",
            "message": "Node not registered with cluster",
            "lastTransitionTime": ts(launched_minutes),
        },
    ]
    return healthy_cluster() + [nodeclaim(NEW_CLAIM, conditions=conds, age_min=launched_minutes + 0.5)]


def test_nodeclaim_launched_two_minutes_ago_is_registering():
    [f] = run(snapshot(_unregistered(2)), "GPU303")
    assert f.severity is Severity.INFO
    assert "NodeClaim launch → registration normally takes up to 5m (3m left)" in f.message


def test_nodeclaim_launched_eight_minutes_ago_without_a_node_is_an_error():
    [f] = run(snapshot(_unregistered(8)), "GPU303")
    assert f.severity is Severity.ERROR
    assert "launched 8m elapsed, past the 5m NodeClaim launch → registration window" in f.evidence
    assert "Karpenter deletes it in 7m" in f.message


# -- nodes Karpenter is draining or deleting -----------------------------------------------


@pytest.mark.parametrize("taint_only", [False, True])
def test_node_being_deleted_by_karpenter_is_not_an_error(taint_only):
    [f] = run(snapshot(leaving_node(3, taint_only=taint_only)), "GPU104")
    assert f.severity is Severity.INFO
    assert "node cordoned / drained / deleted by Karpenter normally takes up to 15m (12m left)" in f.message
    assert f.fixes == []


def test_node_still_being_deleted_after_the_window_is_an_error():
    [f] = run(snapshot(leaving_node(40)), "GPU104")
    assert f.severity is Severity.ERROR
    assert "node being deleted: 40m elapsed, past the 15m node cordoned / drained / deleted by Karpenter window" in (
        f.evidence
    )


# -- completed validator pods, resolved events ---------------------------------------------


def test_completed_validator_pod_is_not_a_failure():
    from checks.pod_problems import pod_problem
    from checks.snapshot import ClusterSnapshot

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "nvidia-cuda-validator-abcde", "namespace": "gpu-operator", "creationTimestamp": ts(30)},
        "spec": {"containers": [{"name": "cuda-validation", "image": "nvcr.io/x"}]},
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [
                {"name": "cuda-validation", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ],
        },
    }
    snap = ClusterSnapshot.from_manifests([pod], now=NOW)
    assert pod_problem(snap.pods[0]) is None


def _ice_then(later_launch_minutes: float | None) -> list[dict]:
    msg = (
        "NodeClaim gpu-x1y2z event: insufficient capacity, creating instance, insufficient capacity, "
        "with fleet error(s), InsufficientInstanceCapacity: We currently do not have sufficient g5.xlarge "
        "capacity in the Availability Zone you requested (us-west-2a)."
    )
    objs = healthy_cluster() + [event("InsufficientCapacityError", msg, kind="NodeClaim", name="gpu-x1y2z")]
    if later_launch_minutes is not None:
        conds = [
            {"type": "Launched", "status": "True", "reason": "Launched", "lastTransitionTime": ts(later_launch_minutes)}
        ]
        objs.append(nodeclaim(NEW_CLAIM, conditions=conds, age_min=later_launch_minutes + 0.5))
    return objs


def test_capacity_error_older_than_a_later_launch_is_history():
    [f] = run(snapshot(_ice_then(later_launch_minutes=2)), "GPU302")
    assert f.severity is Severity.INFO
    assert any(e.startswith(f"resolved: NodeClaim {NEW_CLAIM} of NodePool gpu launched after") for e in f.evidence)


def test_capacity_error_without_a_later_launch_is_current():
    [f] = run(snapshot(_ice_then(later_launch_minutes=None)), "GPU302")
    assert f.severity is Severity.WARNING  # no GPU pod waits
    assert not any(e.startswith("resolved:") for e in f.evidence)
    [f] = run(snapshot(_ice_then(later_launch_minutes=10)), "GPU302")  # launched before the error
    assert f.severity is Severity.WARNING
