"""How the runner reads a pod that cannot produce output (statuses as the kubelet writes them) and
a refused create (Status bodies as the API server writes them)."""

from __future__ import annotations

from gputui.debugpod.runner import explain_create_error, explain_pod
from gputui.kube.errors import KubeApiError

IMAGE = "public.ecr.aws/docker/library/busybox:1.36"


def pod(phase="Pending", waiting=None, terminated=None, **status):
    cs = {"name": "nvidia-smi", "state": {}}
    if waiting:
        cs["state"]["waiting"] = {"reason": waiting[0], "message": waiting[1]}
    if terminated:
        cs["state"]["terminated"] = {"reason": terminated[0], "message": terminated[1], "exitCode": 128}
    return {"spec": {"nodeName": "gpu-1"}, "status": {"phase": phase, "containerStatuses": [cs], **status}}


def test_image_pull_errors():
    back_off = pod(waiting=("ImagePullBackOff", f'Back-off pulling image "{IMAGE}"'))
    p = explain_pod(back_off, waited=1, image=IMAGE)
    assert p.kind == "image-pull" and p.message == f'ImagePullBackOff: Back-off pulling image "{IMAGE}"'
    assert "--image" in p.hint and "--image-pull-secret" in p.hint
    first = pod(waiting=("ErrImagePull", "failed to pull and unpack image: 403 Forbidden"))
    assert explain_pod(first, waited=1, image=IMAGE) is None  # may still succeed on retry
    assert explain_pod(first, waited=6, image=IMAGE).kind == "image-pull"
    assert explain_pod(pod(waiting=("ContainerCreating", "")), waited=30, image=IMAGE) is None


def test_start_error_admission_and_deadline():
    start = pod("Failed", terminated=("StartError", 'exec: "nvidia-smi": executable file not found in $PATH'))
    assert explain_pod(start, waited=1, image=IMAGE).kind == "container-error"
    full = pod(
        "Failed",
        reason="UnexpectedAdmissionError",
        message="Allocate failed due to requested number of devices unavailable for nvidia.com/gpu. "
        "Requested: 1, Available: 0, which is unexpected",
    )
    p = explain_pod(full, waited=1, image=IMAGE)
    assert p.kind == "admission" and "run without --request-gpu" in p.hint
    dead = pod(
        "Failed", reason="DeadlineExceeded", message="Pod was active on the node longer than the specified deadline"
    )
    assert explain_pod(dead, waited=121, image=IMAGE).kind == "deadline"
    assert explain_pod(pod("Succeeded"), waited=1, image=IMAGE) is None


def test_unschedulable_without_node_name():
    p = pod(
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
            }
        ]
    )
    p["spec"] = {}
    problem = explain_pod(p, waited=1, image=IMAGE)
    assert problem.kind == "unschedulable" and problem.message.startswith("0/3 nodes are available")


def test_create_refusals():
    psa = KubeApiError(
        403,
        "Forbidden",
        'pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged '
        '(container "nvidia-smi" must not set securityContext.privileged=true)',
    )
    p = explain_create_error(psa, "ml")
    assert p.kind == "forbidden-podsecurity"
    assert "kubectl label namespace ml pod-security.kubernetes.io/enforce=privileged --overwrite" in p.hint
    rbac = KubeApiError(
        403,
        "Forbidden",
        'pods is forbidden: User "dev" cannot create resource "pods" in API group "" in the namespace "default"',
    )
    assert explain_create_error(rbac, "default").kind == "forbidden"
    rc = KubeApiError(403, "Forbidden", 'pod rejected: RuntimeClass "nvidia" not found')
    assert explain_create_error(rc, "default").kind == "runtimeclass-missing"
    assert (
        explain_create_error(KubeApiError(404, "NotFound", 'namespaces "x" not found'), "x").kind == "namespace-missing"
    )
