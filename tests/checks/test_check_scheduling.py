"""GPU401 / GPU402: pending GPU pods grouped per workload, explained, with fix plans."""

from __future__ import annotations

import datetime as dt

import pytest

from checks.model import Severity
from checks.recognise import REMEDIES
from checks.scheduling import gpu_pod_nominated_not_bound, gpu_pods_pending
from checks.snapshot import ClusterSnapshot
from checks.workloads import workload_of

NOW = dt.datetime(2026, 11, 30, 12, 0, 0, tzinfo=dt.timezone.utc)


def ts(seconds_ago: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def nodepool(
    name="gpu",
    *,
    taint=True,
    families=("g5",),
    sizes=None,
    limits=None,
    used=None,
    labels=None,
    capacity_types=None,
    conditions=None,
):
    reqs = [{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": list(families)}]
    if sizes:
        reqs.append({"key": "karpenter.k8s.aws/instance-size", "operator": "In", "values": list(sizes)})
    if capacity_types:
        reqs.append({"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(capacity_types)})
    spec = {"requirements": reqs, "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"}}
    if taint:
        spec["taints"] = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    obj = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name, "resourceVersion": "77", "creationTimestamp": ts(86400)},
        "spec": {"template": {"metadata": {"labels": labels or {}}, "spec": spec}},
        "status": {
            "resources": dict(used or {}),
            "conditions": conditions
            or [{"type": "Ready", "status": "True", "reason": "Ready", "lastTransitionTime": ts(86400)}],
        },
    }
    if limits:
        obj["spec"]["limits"] = dict(limits)
    return obj


def deployment(name="llm", ns="ml", *, replicas=2, gpus=1, tolerations=(), node_selector=None, age=600):
    pod_spec = {
        "containers": [
            {
                "name": "main",
                "image": "vllm",
                "resources": {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"nvidia.com/gpu": str(gpus)}},
            }
        ]
    }
    if tolerations:
        pod_spec["tolerations"] = list(tolerations)
    if node_selector:
        pod_spec["nodeSelector"] = dict(node_selector)
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": "501", "creationTimestamp": ts(age)},
        "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}},
    }
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-7d9f",
            "namespace": ns,
            "creationTimestamp": ts(age),
            "ownerReferences": [{"kind": "Deployment", "name": name, "controller": True, "apiVersion": "apps/v1"}],
        },
        "spec": {"template": dep["spec"]["template"]},
    }
    pods = []
    for i in range(replicas):
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{name}-7d9f-{i}",
                    "namespace": ns,
                    "creationTimestamp": ts(age),
                    "resourceVersion": str(600 + i),
                    "labels": {"app": name, "pod-template-hash": "7d9f"},
                    "ownerReferences": [
                        {"kind": "ReplicaSet", "name": f"{name}-7d9f", "controller": True, "apiVersion": "apps/v1"}
                    ],
                },
                "spec": pod_spec,
                "status": {"phase": "Pending"},
            }
        )
    return [dep, rs] + pods


def event(pod, reason, message, component, seconds_ago=60, first_ago=None, kind="Pod", ns=None):
    name = pod if isinstance(pod, str) else pod["metadata"]["name"]
    namespace = ns if ns is not None else (None if isinstance(pod, str) else pod["metadata"]["namespace"])
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{name}.{reason}.{seconds_ago}",
            "namespace": namespace or "default",
            "creationTimestamp": ts(first_ago or seconds_ago),
        },
        "involvedObject": {"kind": kind, "name": name, "namespace": namespace},
        "reason": reason,
        "message": message,
        "type": "Warning" if reason != "Nominated" else "Normal",
        "source": {"component": component},
        "lastTimestamp": ts(seconds_ago),
        "firstTimestamp": ts(first_ago or seconds_ago),
    }


SCHED_TAINT = "0/3 nodes are available: 3 node(s) had untolerated taint {nvidia.com/gpu: true}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
KARP_TAINT = "Failed to schedule pod, did not tolerate taint (taint=nvidia.com/gpu=true:NoSchedule)"
TOLERATE_GPU = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def snap(objs):
    return ClusterSnapshot.from_manifests(objs, now=NOW)


def only(findings, code="GPU401"):
    fs = [f for f in findings if f.code == code]
    assert len(fs) == 1, [f.message for f in fs]
    return fs[0]


def test_missing_toleration_groups_pods_and_offers_add_toleration():
    objs = [nodepool()] + deployment(replicas=3)
    pods = [o for o in objs if o["kind"] == "Pod"]
    objs += [event(p, "FailedScheduling", SCHED_TAINT, "default-scheduler") for p in pods]
    objs += [event(pods[0], "FailedScheduling", KARP_TAINT, "karpenter", seconds_ago=30)]
    f = only(gpu_pods_pending(snap(objs)))
    assert f.severity == Severity.ERROR
    assert (f.subject.kind, f.subject.namespace, f.subject.name) == ("Deployment", "ml", "llm")
    assert f.message.startswith("3 pods of Deployment ml/llm wait for 1 GPU each: no NodePool can launch")
    assert "taint nvidia.com/gpu=true:NoSchedule is not tolerated" in f.message
    assert f"FailedScheduling (default-scheduler): {SCHED_TAINT}" in f.evidence
    assert f"FailedScheduling (karpenter): {KARP_TAINT}" in f.evidence
    assert "NodePool gpu: taint nvidia.com/gpu=true:NoSchedule is not tolerated" in f.evidence
    assert [(r.kind, r.name) for r in f.related] == [("NodePool", "gpu")]
    (fix,) = f.fixes
    assert fix.id == "add-toleration" and fix.patch_type == "merge" and fix.disruptive
    assert (fix.target.kind, fix.target.name) == ("Deployment", "llm")
    assert fix.patch == {
        "spec": {
            "template": {
                "spec": {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}
            }
        }
    }
    assert fix.resource_version == "501"
    assert fix.kubectl.startswith('kubectl patch deployment llm -n ml --type merge -p \'{"spec":')


def test_existing_tolerations_are_kept_in_the_patch():
    other = {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
    objs = [nodepool()] + deployment(replicas=1, tolerations=[other])
    f = only(gpu_pods_pending(snap(objs)))
    tolerations = f.fixes[0].patch["spec"]["template"]["spec"]["tolerations"]
    assert tolerations[0] == other and tolerations[1]["key"] == "nvidia.com/gpu"


def test_limit_reached_offers_raise_limit():
    objs = [nodepool(limits={"nvidia.com/gpu": "4"}, used={"nvidia.com/gpu": "4"})]
    objs += deployment(replicas=2, tolerations=[TOLERATE_GPU])
    pods = [o for o in objs if o["kind"] == "Pod"]
    objs.append(
        event(
            pods[0],
            "FailedScheduling",
            "Failed to schedule pod, all available instance types exceed limits for nodepool (NodePool=gpu)",
            "karpenter",
        )
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert "limit nvidia.com/gpu=4 with 4 in use; one more g5.xlarge adds 1" in f.message
    (fix,) = f.fixes
    assert fix.id == "raise-nodepool-limit" and fix.patch_type == "merge"
    assert fix.patch == {"spec": {"limits": {"nvidia.com/gpu": "6"}}}  # 4 used + 2 pods x 1 GPU
    assert (fix.target.kind, fix.target.name, fix.resource_version) == ("NodePool", "gpu", "77")
    assert fix.kubectl == (
        'kubectl patch nodepools.karpenter.sh gpu --type merge -p \'{"spec":{"limits":{"nvidia.com/gpu":"6"}}}\''
    )
    assert fix.description.startswith("4 of 4 in use; 2 pending pod(s) need 2 more g5.xlarge. ")


def test_no_instance_type_big_enough_offers_widening():
    objs = [nodepool(sizes=("xlarge", "2xlarge"))] + deployment(replicas=1, gpus=4, tolerations=[TOLERATE_GPU])
    f = only(gpu_pods_pending(snap(objs)))
    assert f.message.startswith("1 pod of Deployment ml/llm waits for 4 GPUs: no NodePool can launch a node for it;")
    assert "no allowed instance type has room for nvidia.com/gpu=4" in f.message
    (fix,) = f.fixes
    assert fix.id == "widen-nodepool-requirements"
    reqs = fix.patch["spec"]["template"]["spec"]["requirements"]
    assert {
        "key": "karpenter.k8s.aws/instance-size",
        "operator": "In",
        "values": ["xlarge", "2xlarge", "12xlarge"],
    } in reqs
    assert "g5.12xlarge" in fix.title


def test_requirements_mismatch_on_node_selector():
    objs = [nodepool(labels={"team": "ml"})] + deployment(
        replicas=1, tolerations=[TOLERATE_GPU], node_selector={"team": "research"}
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert "the pod needs team In [research]; the NodePool allows team In [ml]" in f.message
    (fix,) = f.fixes
    assert fix.id == "add-node-selector"
    assert fix.patch == {"spec": {"template": {"spec": {"nodeSelector": {"team": "ml"}}}}}


def test_gpu_name_mismatch_widens_the_nodepool():
    np = nodepool()
    np["spec"]["template"]["spec"]["requirements"] = [
        {"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": ["a10g"]}
    ]
    objs = [np] + deployment(
        replicas=1, tolerations=[TOLERATE_GPU], node_selector={"karpenter.k8s.aws/instance-gpu-name": "l4"}
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert (
        "the pod needs karpenter.k8s.aws/instance-gpu-name In [l4]; the NodePool allows "
        "karpenter.k8s.aws/instance-gpu-name In [a10g]" in f.message
    )
    selector, widen = f.fixes
    assert selector.id == "add-node-selector"
    assert selector.patch == {
        "spec": {"template": {"spec": {"nodeSelector": {"karpenter.k8s.aws/instance-gpu-name": "a10g"}}}}
    }
    assert widen.id == "widen-nodepool-requirements" and widen.title == "Let NodePool gpu launch g6.xlarge"
    assert widen.patch["spec"]["template"]["spec"]["requirements"] == [
        {"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": ["a10g", "l4"]}
    ]


def test_gfd_product_selector_is_swapped_for_the_karpenter_label():
    objs = [nodepool()] + deployment(
        replicas=1, tolerations=[TOLERATE_GPU], node_selector={"nvidia.com/gpu.product": "NVIDIA-A10G", "team": "ml"}
    )
    objs[0]["spec"]["template"]["metadata"]["labels"] = {"team": "ml"}
    f = only(gpu_pods_pending(snap(objs)))
    assert "nvidia.com/gpu.product is set on the node after it boots" in f.message
    (fix,) = f.fixes
    assert fix.id == "add-node-selector" and fix.patch_type == "merge"
    assert fix.patch == {
        "spec": {
            "template": {
                "spec": {
                    "nodeSelector": {"nvidia.com/gpu.product": None, "karpenter.k8s.aws/instance-gpu-name": "a10g"}
                }
            }
        }
    }
    assert fix.title == (
        "Select karpenter.k8s.aws/instance-gpu-name=a10g instead of nvidia.com/gpu.product on Deployment llm"
    )


def test_healthy_cluster_has_no_finding():
    objs = [nodepool()] + deployment(replicas=2, tolerations=[TOLERATE_GPU])
    for o in objs:
        if o["kind"] == "Pod":
            o["spec"] = dict(o["spec"], nodeName="ip-10-0-1-2")
            o["status"] = {"phase": "Running"}
    assert gpu_pods_pending(snap(objs)) == []


def test_young_pod_without_events_is_skipped():
    objs = [nodepool()] + deployment(replicas=1, age=10)
    assert gpu_pods_pending(snap(objs)) == []
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(event(pod, "FailedScheduling", SCHED_TAINT, "default-scheduler", seconds_ago=5))
    assert len(gpu_pods_pending(snap(objs))) == 1


def test_non_gpu_pods_are_ignored():
    objs = deployment(replicas=1)
    for o in objs:
        if o["kind"] == "Pod":
            o["spec"] = {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}
    assert gpu_pods_pending(snap(objs)) == []


def test_cluster_without_karpenter_uses_the_scheduler_reason():
    objs = deployment(replicas=1)
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(
        event(
            pod,
            "FailedScheduling",
            "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: "
            "0/3 nodes are available: 3 No preemption victims found for incoming pod.",
            "default-scheduler",
        )
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert f.message == (
        "1 pod of Deployment ml/llm waits for 1 GPU: none of the 3 nodes fit: 3 node(s) lack free nvidia.com/gpu. "
        + REMEDIES["check-gpu-capacity"]
    )
    assert f.related == [] and f.fixes == []


@pytest.mark.parametrize(
    "text, remedy",
    [
        ("0/3 nodes are available: 3 insufficient nvidia.com/gpu..", "check-gpu-capacity"),
        (
            "0/4 nodes are available: 1 Too many pods,\n3 node(s) didn't match Pod's node affinity/selector.",
            "raise-max-pods",
        ),
        ("0/2 nodes are available: 2 node(s) had untolerated taint {nvidia.com/gpu: }.", "tolerate-nodepool-taint"),
        ("0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims.", "bind-pvc"),
    ],
)
def test_scheduler_reason_comes_with_its_remedy_and_the_text_in_evidence(text, remedy):
    objs = deployment(replicas=1)
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(event(pod, "FailedScheduling", text, "default-scheduler"))
    f = only(gpu_pods_pending(snap(objs)))
    assert f.message.endswith(REMEDIES[remedy])
    assert any(text in e for e in f.evidence)


def test_karpenter_only_reason_comes_with_its_remedy():
    objs = deployment(replicas=1)
    pod = next(o for o in objs if o["kind"] == "Pod")
    text = (
        'Failed to schedule pod, incompatible with nodepool "gone", daemonset overhead={"cpu":"200m"}, '
        'no instance type satisfied resources {"cpu":"200m","nvidia.com/gpu":"1"} and requirements '
        "karpenter.sh/nodepool In [gone] (no instance type has enough resources)"
    )
    objs.append(event(pod, "FailedScheduling", text, "karpenter"))
    f = only(gpu_pods_pending(snap(objs)))
    assert f.message.endswith(REMEDIES["widen-nodepool-instance-types"])


def test_mig_slice_pods_count_as_gpu_pods():
    objs = deployment(replicas=1)
    pod = next(o for o in objs if o["kind"] == "Pod")
    pod["spec"] = {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/mig-1g.10gb": "1"}}}]}
    objs.append(
        event(
            pod,
            "FailedScheduling",
            "0/1 nodes are available: 1 Insufficient nvidia.com/mig-1g.10gb.",
            "default-scheduler",
        )
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert f.message.startswith("1 pod of Deployment ml/llm waits for 1 nvidia.com/mig-1g.10gb: ")


def test_insufficient_capacity_is_named():
    objs = [nodepool()] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    objs.append(
        event(
            "gpu-x7k2p",
            "InsufficientCapacityError",
            "NodeClaim gpu-x7k2p event: with fleet error(s), InsufficientInstanceCapacity: We currently do "
            "not have sufficient g5.xlarge capacity in the Availability Zone you requested (us-east-1a).",
            "karpenter",
            kind="NodeClaim",
            ns="",
        )
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert "EC2 has no capacity for g5.xlarge (InsufficientInstanceCapacity)" in f.message
    assert any(
        e.startswith("InsufficientCapacityError (NodeClaim/gpu-x7k2p): NodeClaim gpu-x7k2p event:") for e in f.evidence
    )
    assert ("NodeClaim", "gpu-x7k2p") in [(r.kind, r.name) for r in f.related]
    assert f.fixes == []


def test_capacity_errors_of_a_pool_that_cannot_take_the_pod_are_not_blamed():
    training = nodepool("train", families=("p5",), labels={"workload-type": "training"})
    inference = nodepool(labels={"workload-type": "inference"})
    objs = [inference, training] + deployment(
        replicas=1, tolerations=[TOLERATE_GPU], node_selector={"workload-type": "inference"}
    )
    objs.append(
        event(
            "train-x7k2p",
            "InsufficientCapacityError",
            "NodeClaim train-x7k2p event: with fleet error(s), InsufficientInstanceCapacity: We currently do "
            "not have sufficient p5.48xlarge capacity in the Availability Zone you requested (us-east-1a).",
            "karpenter",
            kind="NodeClaim",
            ns="",
        )
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert "EC2 has no capacity" not in f.message
    assert not any(e.startswith("InsufficientCapacityError") for e in f.evidence)


def test_gpu_node_without_allocatable_gpus_is_named():
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "ip-10-0-3-7",
            "creationTimestamp": ts(3600),
            "labels": {"node.kubernetes.io/instance-type": "g5.xlarge", "karpenter.sh/nodepool": "gpu"},
        },
        "status": {"allocatable": {"cpu": "3920m", "nvidia.com/gpu": "0"}},
    }
    objs = [nodepool(), node] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(
        event(
            pod,
            "FailedScheduling",
            "0/4 nodes are available: 1 Insufficient nvidia.com/gpu, "
            "3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: "
            "4 Preemption is not helpful for scheduling.",
            "default-scheduler",
        )
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert "GPU node(s) ip-10-0-3-7 offer no allocatable nvidia.com/gpu" in f.message


def test_launching_nodeclaim_is_info():
    nc = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodeClaim",
        "metadata": {"name": "gpu-abcde", "creationTimestamp": ts(90), "labels": {"karpenter.sh/nodepool": "gpu"}},
        "status": {"conditions": [{"type": "Launched", "status": "Unknown", "lastTransitionTime": ts(90)}]},
    }
    objs = [nodepool(), nc] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(event(pod, "Nominated", "Pod should schedule on: nodeclaim/gpu-abcde", "karpenter"))
    f = only(gpu_pods_pending(snap(objs)))
    assert f.severity == Severity.INFO
    assert "Karpenter is launching NodeClaim gpu-abcde" in f.message
    assert "Nominated (karpenter): Pod should schedule on: nodeclaim/gpu-abcde" in f.evidence


def test_old_nodeclaim_that_never_initialized_is_an_error():
    nc = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodeClaim",
        "metadata": {"name": "gpu-abcde", "creationTimestamp": ts(1500), "labels": {"karpenter.sh/nodepool": "gpu"}},
        "status": {
            "conditions": [
                {"type": "Launched", "status": "True", "reason": "Launched", "lastTransitionTime": ts(1400)},
                {
                    "type": "Initialized",
                    "status": "Unknown",
                    "reason": "ResourceNotRegistered",
                    "message": 'Resource "nvidia.com/gpu" was requested but not registered',
                    "lastTransitionTime": ts(1300),
                },
            ]
        },
    }
    objs = [nodepool(), nc] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(event(pod, "Nominated", "Pod should schedule on: nodeclaim/gpu-abcde", "karpenter"))
    f = only(gpu_pods_pending(snap(objs)))
    assert f.severity == Severity.ERROR
    assert f.message.endswith(
        "nominated NodeClaim gpu-abcde is not ready: Initialized=Unknown "
        '(ResourceNotRegistered: Resource "nvidia.com/gpu" was requested but not registered)'
    )
    assert ("NodeClaim", "gpu-abcde") in [(r.kind, r.name) for r in f.related]


def test_bare_pod_is_its_own_subject_and_gets_pod_patch():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "train", "namespace": "ml", "creationTimestamp": ts(300), "resourceVersion": "9"},
        "spec": {
            "containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": "1"}}}],
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
            ],
        },
        "status": {"phase": "Pending"},
    }
    s = snap([nodepool(), pod])
    f = only(gpu_pods_pending(s))
    assert (f.subject.kind, f.subject.name) == ("Pod", "train")
    assert f.message.startswith("Pod ml/train waits for 1 GPU: ")
    (fix,) = f.fixes
    assert fix.patch == {
        "spec": {
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
            ]
        }
    }
    assert (fix.target.kind, fix.target.name, fix.resource_version, fix.disruptive) == ("Pod", "train", "9", False)
    assert workload_of(s, s.pods[0]).kind == "Pod"


def test_job_pods_are_patched_not_the_immutable_template():
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "finetune", "namespace": "ml", "creationTimestamp": ts(300)},
        "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "finetune-abc",
            "namespace": "ml",
            "creationTimestamp": ts(300),
            "ownerReferences": [{"kind": "Job", "name": "finetune", "controller": True}],
        },
        "spec": {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": "1"}}}]},
        "status": {"phase": "Pending"},
    }
    f = only(gpu_pods_pending(snap([nodepool(), job, pod])))
    assert (f.subject.kind, f.subject.name) == ("Job", "finetune")
    (fix,) = f.fixes
    assert (fix.target.kind, fix.target.name) == ("Pod", "finetune-abc")
    assert "immutable" in fix.description


def test_gitops_managed_workload_gets_a_warning():
    objs = [nodepool()] + deployment(replicas=1)
    objs[1]["metadata"]["labels"] = {"argocd.argoproj.io/instance": "ml"}
    f = only(gpu_pods_pending(snap(objs)))
    assert "Argo CD" in (f.fixes[0].gitops_warning or "")


def test_nodepool_not_ready_blocks():
    np = nodepool(
        conditions=[
            {
                "type": "Ready",
                "status": "False",
                "reason": "NodeClassNotFound",
                "message": "NodeClass not found on cluster",
                "lastTransitionTime": ts(60),
            }
        ]
    )
    objs = [np] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    f = only(gpu_pods_pending(snap(objs)))
    assert "NodePool is not ready (Ready=False, NodeClassNotFound: NodeClass not found on cluster)" in f.message
    assert f.fixes == []


def test_the_nodepool_the_pod_selects_is_named_first():
    batch = nodepool(
        "gpu-batch",
        labels={"workload-type": "gpu-batch"},
        conditions=[{"type": "Ready", "status": "False", "reason": "NodeClassReady", "lastTransitionTime": ts(60)}],
    )
    inference = nodepool("gpu-inference", labels={"workload-type": "gpu-inference"})
    objs = [inference, batch] + deployment(
        replicas=1, tolerations=[TOLERATE_GPU], node_selector={"workload-type": "gpu-batch"}
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert (
        "; NodePool gpu-batch: NodePool is not ready (Ready=False, NodeClassReady) (and 1 other NodePool "
        "cannot either)" in f.message
    )
    lines = [e for e in f.evidence if e.startswith("NodePool ")]
    assert [x.split(":")[0] for x in lines] == ["NodePool gpu-batch", "NodePool gpu-inference"]
    assert f.fixes == []


def test_gpu402_long_nomination():
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "ip-10-0-1-2",
            "creationTimestamp": ts(3600),
            "labels": {"node.kubernetes.io/instance-type": "g5.xlarge"},
        },
        "spec": {"taints": [{"key": "example.com/maintenance", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"nvidia.com/gpu": "1"}},
    }
    nc = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodeClaim",
        "metadata": {"name": "gpu-abcde", "creationTimestamp": ts(1900), "labels": {"karpenter.sh/nodepool": "gpu"}},
        "status": {
            "nodeName": "ip-10-0-1-2",
            "conditions": [
                {"type": t, "status": "True", "reason": t, "lastTransitionTime": ts(1700)}
                for t in ("Launched", "Registered", "Initialized")
            ],
        },
    }
    objs = [nodepool(), node, nc] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(
        event(
            pod,
            "Nominated",
            "Pod should schedule on: nodeclaim/gpu-abcde, node/ip-10-0-1-2",
            "karpenter",
            seconds_ago=60,
            first_ago=1800,
        )
    )
    objs.append(
        event(
            pod,
            "FailedScheduling",
            "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) "
            "didn't match Pod's node affinity/selector.",
            "default-scheduler",
        )
    )
    f = only(gpu_pod_nominated_not_bound(snap(objs)), "GPU402")
    assert f.severity == Severity.WARNING
    assert "nominated for nodeclaim/gpu-abcde, node/ip-10-0-1-2 30 min ago" in f.message
    assert "1 node(s) lack free nvidia.com/gpu" in f.message
    assert [(r.kind, r.name) for r in f.related] == [("Node", "ip-10-0-1-2"), ("NodeClaim", "gpu-abcde")]
    assert "node ip-10-0-1-2: allocatable nvidia.com/gpu=1, taints: example.com/maintenance:NoSchedule" in f.evidence


def test_gpu402_only_counts_the_current_nomination_and_not_deleted_nodeclaims():
    objs = [nodepool()] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(
        event(
            pod, "Nominated", "Pod should schedule on: node/ip-10-0-9-9", "karpenter", seconds_ago=1700, first_ago=1800
        )
    )
    objs.append(
        event(pod, "Nominated", "Pod should schedule on: node/ip-10-0-1-2", "karpenter", seconds_ago=60, first_ago=120)
    )
    assert gpu_pod_nominated_not_bound(snap(objs)) == []
    objs = [nodepool()] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(
        event(
            pod, "Nominated", "Pod should schedule on: nodeclaim/gpu-gone", "karpenter", seconds_ago=60, first_ago=1800
        )
    )
    assert gpu_pod_nominated_not_bound(snap(objs)) == []


def test_gpu402_names_a_nominated_node_without_gpus():
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "ip-10-0-1-2",
            "creationTimestamp": ts(3600),
            "labels": {"node.kubernetes.io/instance-type": "g5.xlarge"},
        },
        "status": {"allocatable": {"nvidia.com/gpu": "0"}},
    }
    objs = [nodepool(), node] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(
        event(pod, "Nominated", "Pod should schedule on: node/ip-10-0-1-2", "karpenter", seconds_ago=60, first_ago=1800)
    )
    f = only(gpu_pod_nominated_not_bound(snap(objs)), "GPU402")
    assert f.message.endswith(
        "kube-scheduler gave no reason yet; node ip-10-0-1-2 offers no allocatable nvidia.com/gpu (see GPU101)"
    )
    node["status"]["allocatable"]["nvidia.com/gpu"] = "1"
    f = only(gpu_pod_nominated_not_bound(snap(objs)), "GPU402")
    assert f.message.endswith("kube-scheduler gave no reason yet")


def test_gpu402_recent_nomination_is_quiet():
    objs = [nodepool()] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    pod = next(o for o in objs if o["kind"] == "Pod")
    objs.append(event(pod, "Nominated", "Pod should schedule on: nodeclaim/gpu-abcde", "karpenter", seconds_ago=60))
    assert gpu_pod_nominated_not_bound(snap(objs)) == []


def test_docstrings_have_the_three_sections():
    import checks  # noqa: F401
    from checks.registry import REGISTRY

    for code in ("GPU401", "GPU402"):
        sections = REGISTRY.find(code).doc_sections()
        assert {"what it checks", "why it matters", "how to fix"} <= set(sections), code


# -- built-in scenarios -----------------------------------------------------------------------------

import functools  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

SCENARIO_INDEX = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "gputui" / "sim" / "scenarios" / "index.yaml").read_text()
)


def scenario_snapshot(name: str) -> ClusterSnapshot:
    assert name in SCENARIO_INDEX, f"scenario {name} is missing from index.yaml"
    return _load_scenario(name)


@functools.cache
def _load_scenario(name: str) -> ClusterSnapshot:
    from gputui.sim.loader import load_objects

    return ClusterSnapshot.from_manifests(load_objects([name]))


def _scheduling_findings(s):
    return gpu_pods_pending(s) + gpu_pod_nominated_not_bound(s)


@pytest.mark.parametrize("name", sorted(SCENARIO_INDEX))
def test_scenario_expectations_for_area_4(name):
    """Every GPU401/GPU402 a scenario expects is found with its evidence; no unexpected error
    from this area appears, and nothing at all at warning or above when a scenario expects
    no finding."""
    s = scenario_snapshot(name)
    expect = SCENARIO_INDEX[name].get("expect") or []
    expected = [e for e in expect if e["code"] in ("GPU401", "GPU402")]
    floor = Severity.WARNING if not expect else Severity.ERROR
    found = [f for f in _scheduling_findings(s) if f.severity >= Severity.WARNING]
    got = {(f.code, f.subject.kind, f.subject.namespace or None, f.subject.name): f for f in found}
    want = {(e["code"], e["kind"], e.get("namespace"), e["name"]): e for e in expected}
    assert set(want) <= set(got), name
    assert {k for k, f in got.items() if f.severity >= floor} <= set(want), name
    for key, e in want.items():
        f = got[key]
        if e.get("evidence"):
            assert any(e["evidence"] in line for line in f.evidence), (key, f.evidence)
        if e.get("fix"):
            assert e["fix"] in [x.id for x in f.fixes], (key, [x.id for x in f.fixes])


def test_scenario_healthy_has_no_pending_gpu_pods():
    assert _scheduling_findings(scenario_snapshot("healthy")) == []


def test_scenario_device_plugin_taint_blames_the_gpu_less_nodes():
    f = only(gpu_pods_pending(scenario_snapshot("device-plugin-taint")))
    assert (f.subject.kind, f.subject.namespace, f.subject.name) == ("Deployment", "ml-research", "protein-embed")
    assert f.message.startswith("2 pods of Deployment ml-research/protein-embed wait for 1 GPU each: GPU node(s) ")
    assert "offer no allocatable nvidia.com/gpu" in f.message
    assert "NodePool gpu-dedicated can take it (g6e.xlarge, g6e.2xlarge)" in f.evidence
    assert ("NodeClaim", "gpu-dedicated-8ngxb") in [(r.kind, r.name) for r in f.related]
    assert f.fixes == []


def test_scenario_missing_toleration():
    f = only(gpu_pods_pending(scenario_snapshot("missing-toleration")))
    assert "is not tolerated" in f.message
    assert "add-toleration" in [x.id for x in f.fixes]


def test_scenario_nodepool_gpu_limit():
    f = only(gpu_pods_pending(scenario_snapshot("nodepool-gpu-limit")))
    assert "limit nvidia.com/gpu=" in f.message
    assert "raise-nodepool-limit" in [x.id for x in f.fixes]


def test_scenario_insufficient_capacity():
    f = only(gpu_pods_pending(scenario_snapshot("insufficient-capacity")))
    assert "EC2 has no capacity for" in f.message
    assert any(e.startswith("InsufficientCapacityError (") for e in f.evidence)


def test_pods_waiting_on_a_nodeclaim_that_never_registers_are_a_warning_before_the_timeout():
    """Eight minutes after launch with no node: not yet GPU303's timeout, but no longer normal."""
    s = scenario_snapshot("nodeclaim-not-registered")
    (f,) = [f for f in gpu_pods_pending(s) if f.subject.name == "llm-chat-canary"]
    assert f.severity == Severity.WARNING
    assert "gpu-inference-al2023-l8l8g launched 8 min ago but its node has not registered" in f.message


def _nodeclass(kubelet):
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": "gpu", "resourceVersion": "5", "creationTimestamp": ts(86400)},
        "spec": {"amiSelectorTerms": [{"alias": "al2023@latest"}], "role": "node", "kubelet": kubelet},
    }


@pytest.mark.parametrize(
    "kubelet, words",
    [
        ({"maxPods": 1}, "maxPods: 1"),
        ({"maxPods": 2}, "maxPods: 2"),
        ({"podsPerCore": 1, "maxPods": 110}, "maxPods: 110, podsPerCore: 1"),
    ],
)
def test_pod_limit_of_the_nodeclass_blocks_the_nodepool(kubelet, words):
    """EC2NodeClass kubelet maxPods / podsPerCore below the DaemonSet pods plus the pod: Karpenter can
    launch nothing that takes it, and the finding names the setting."""
    objs = [nodepool(sizes=("xlarge",)), _nodeclass(kubelet)] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    f = only(gpu_pods_pending(snap(objs)))
    assert "no NodePool can launch a node for it" in f.message
    assert f"EC2NodeClass gpu sets kubelet {words}" in f.message
    assert f.fixes == []


def test_a_pod_limit_with_room_does_not_block():
    objs = [nodepool(sizes=("xlarge",)), _nodeclass({"maxPods": 58})] + deployment(
        replicas=1, tolerations=[TOLERATE_GPU]
    )
    f = only(gpu_pods_pending(snap(objs)))
    assert "EC2NodeClass" not in f.message


@pytest.mark.parametrize(
    "kubelet, short",
    [
        ({"kubeReserved": {"cpu": "4"}}, "cpu"),
        ({"systemReserved": {"memory": "15Gi"}}, "memory"),
        ({"kubeReserved": {"memory": "8Gi"}, "evictionHard": {"memory.available": "8Gi"}}, "memory"),
    ],
)
def test_kubelet_reservations_that_leave_no_room_block_the_nodepool(kubelet, short):
    objs = [nodepool(sizes=("xlarge",)), _nodeclass(kubelet)] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    f = only(gpu_pods_pending(snap(objs)))
    assert "no NodePool can launch a node for it" in f.message
    assert "EC2NodeClass gpu sets kubelet" in f.message and f"short of {short}" in f.message


def test_modest_reservations_leave_room():
    kubelet = {"kubeReserved": {"cpu": "200m", "memory": "1Gi"}, "systemReserved": {"memory": "500Mi"}}
    objs = [nodepool(sizes=("xlarge",)), _nodeclass(kubelet)] + deployment(replicas=1, tolerations=[TOLERATE_GPU])
    assert "EC2NodeClass" not in only(gpu_pods_pending(snap(objs))).message
