"""GPU401 for pods waiting on a NodeClaim that is still coming up versus one that failed.

A young GPU node whose driver is still compiling is normal (GPU102), so the pods waiting for it
are not blamed on a missing device plugin; a NodeClaim that Karpenter marked Launched=Unknown
with reason LaunchFailed has failed, even though the status is Unknown rather than False.
Built on the node-initializing and nodeclaim-launch-failed scenarios, edited where a case needs it.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from checks.karpenter import nodeclaim_not_initialized
from checks.model import Severity
from checks.nodes import gpu_node_initializing, gpu_not_allocatable
from checks.readiness_chain import still_initializing
from checks.scheduling import gpu_pods_pending
from checks.snapshot import ClusterSnapshot

NEW_NODE = "ip-10-0-44-219.us-west-2.compute.internal"


@pytest.fixture(scope="module")
def initializing_objs():
    from gputui.sim.loader import load_objects

    return load_objects(["node-initializing"])


@pytest.fixture(scope="module")
def launch_failed_objs():
    from gputui.sim.loader import load_objects

    return load_objects(["nodeclaim-launch-failed"])


def _snap(objs):
    return ClusterSnapshot.from_manifests(objs)


def _llm_chat(findings):
    (f,) = [f for f in findings if f.subject.name == "llm-chat"]
    return f


def test_pods_waiting_for_a_node_on_its_first_boot_are_info(initializing_objs):
    s = _snap(initializing_objs)
    assert still_initializing(s, s.node_by_name[NEW_NODE])
    f = _llm_chat(gpu_pods_pending(s))
    assert f.severity == Severity.INFO
    assert "Karpenter is launching NodeClaim gpu-inference-q7wzd" in f.message
    assert "ResourceNotRegistered" in f.message
    assert "offer no allocatable" not in f.message


def test_the_initializing_node_is_gpu102_and_nothing_louder(initializing_objs):
    s = _snap(initializing_objs)
    assert [f.subject.name for f in gpu_node_initializing(s)] == [NEW_NODE]
    assert list(gpu_not_allocatable(s)) == []
    (nc,) = [f for f in nodeclaim_not_initialized(s) if f.subject.name == "gpu-inference-q7wzd"]
    assert nc.severity == Severity.INFO


def test_the_same_node_half_an_hour_later_is_blamed(initializing_objs):
    objs = copy.deepcopy(initializing_objs)
    node = next(o for o in objs if o["kind"] == "Node" and o["metadata"]["name"] == NEW_NODE)
    born = dt.datetime.fromisoformat(node["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    node["metadata"]["creationTimestamp"] = (born - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    s = _snap(objs)
    assert not still_initializing(s, s.node_by_name[NEW_NODE])
    f = _llm_chat(gpu_pods_pending(s))
    assert f.severity == Severity.ERROR
    assert f"GPU node(s) {NEW_NODE} offer no allocatable nvidia.com/gpu" in f.message


def test_pods_nominated_to_a_launch_failed_nodeclaim_are_an_error(launch_failed_objs):
    (f,) = gpu_pods_pending(_snap(launch_failed_objs))
    assert f.severity == Severity.ERROR
    assert f.message.startswith(
        "2 pods of Job ml-training/pretrain-70b-run8 wait for 8 GPUs each: nominated NodeClaim "
        "gpu-training-zq8ch is not ready: Launched=Unknown (LaunchFailed: creating instance"
    )


def test_a_nodeclaim_awaiting_its_first_launch_is_still_launching(launch_failed_objs):
    objs = copy.deepcopy(launch_failed_objs)
    for o in objs:
        if o["kind"] == "NodeClaim" and o["metadata"]["name"] in ("gpu-training-bwh94", "gpu-training-zq8ch"):
            launched = next(c for c in o["status"]["conditions"] if c["type"] == "Launched")
            launched.update(reason="AwaitingReconciliation", message="object is awaiting reconciliation")
    (f,) = gpu_pods_pending(_snap(objs))
    assert f.severity == Severity.INFO
    assert "Karpenter is launching NodeClaim gpu-training-zq8ch for them" in f.message
