"""The GPU Operator's operand DaemonSets and their pods."""

from __future__ import annotations

from typing import Any

from gputui.sim.synthetic.cluster import _meta
from gputui.sim.synthetic.nodes import _fake_digest
from gputui.sim.synthetic.plan import GPU_OPERATOR_NS, _Gen

# -- GPU Operator operands -----------------------------------------------------------------

_OPERAND_DAEMONSETS = (
    # name (= app label), image, deploy label
    (
        "nvidia-device-plugin-daemonset",
        "nvcr.io/nvidia/k8s-device-plugin:v0.17.1",
        "nvidia.com/gpu.deploy.device-plugin",
    ),
    (
        "gpu-feature-discovery",
        "nvcr.io/nvidia/k8s-device-plugin:v0.17.1",
        "nvidia.com/gpu.deploy.gpu-feature-discovery",
    ),
    (
        "nvidia-dcgm-exporter",
        "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.1-ubuntu22.04",
        "nvidia.com/gpu.deploy.dcgm-exporter",
    ),
    (
        "nvidia-operator-validator",
        "nvcr.io/nvidia/cloud-native/gpu-operator-validator:v25.3.0",
        "nvidia.com/gpu.deploy.operator-validator",
    ),
)


def _operand_daemonsets(g: _Gen, device_plugin_pods: int) -> list[dict[str, Any]]:
    """The operand DaemonSets; only the device plugin's pods are generated (one per GPU node)."""
    created = g.ts(95 * 86400)
    gpu_nodes = len(g.gpu_slots)
    objs = []
    for name, image, deploy_label in _OPERAND_DAEMONSETS:
        revision = g.suffix(10)
        labels = {"app": name, "app.kubernetes.io/managed-by": "gpu-operator", "helm.sh/chart": "gpu-operator-v25.3.0"}
        pod_labels = {
            "app": name,
            "app.kubernetes.io/managed-by": "gpu-operator",
            "controller-revision-hash": revision,
            "pod-template-generation": "1",
        }
        spec = {
            "nodeSelector": {deploy_label: "true"},
            "priorityClassName": "system-node-critical",
            "serviceAccountName": name.replace("-daemonset", ""),
            "serviceAccount": name.replace("-daemonset", ""),
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
            "initContainers": [
                {
                    "name": "toolkit-validation",
                    "image": _OPERAND_DAEMONSETS[3][1],
                    "command": ["sh", "-c"],
                    "args": [
                        "until [ -f /run/nvidia/validations/toolkit-ready ]; do echo waiting for "
                        "nvidia container stack to be setup; sleep 5; done"
                    ],
                    "imagePullPolicy": "IfNotPresent",
                    "volumeMounts": [
                        {
                            "name": "run-nvidia-validations",
                            "mountPath": "/run/nvidia/validations",
                            "mountPropagation": "HostToContainer",
                        }
                    ],
                }
            ],
            "containers": [
                {
                    "name": name.replace("-daemonset", ""),
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "env": [
                        {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"},
                        {"name": "NVIDIA_DRIVER_CAPABILITIES", "value": "all"},
                    ],
                    "securityContext": {"privileged": True},
                    "volumeMounts": [
                        {"name": "device-plugin", "mountPath": "/var/lib/kubelet/device-plugins"},
                        {"name": "run-nvidia-validations", "mountPath": "/run/nvidia/validations"},
                    ],
                }
            ],
            "volumes": [
                {"name": "device-plugin", "hostPath": {"path": "/var/lib/kubelet/device-plugins", "type": ""}},
                {
                    "name": "run-nvidia-validations",
                    "hostPath": {"path": "/run/nvidia/validations", "type": "DirectoryOrCreate"},
                },
            ],
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
            "securityContext": {},
        }
        ds: dict[str, Any] = {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": _meta(
                g,
                name,
                created,
                GPU_OPERATOR_NS,
                labels=labels,
                generation=1,
                annotations={
                    "deprecated.daemonset.template.generation": "1",
                    "nvidia.com/last-applied-hash": str(g.rng.getrandbits(32)),
                },
                ownerReferences=[
                    {
                        "apiVersion": "nvidia.com/v1",
                        "kind": "ClusterPolicy",
                        "name": "cluster-policy",
                        "uid": g.uid(),
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            ),
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "revisionHistoryLimit": 10,
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "1", "maxSurge": 0}},
                "template": {
                    "metadata": {"labels": {"app": name, "app.kubernetes.io/managed-by": "gpu-operator"}},
                    "spec": spec,
                },
            },
            "status": {
                "currentNumberScheduled": gpu_nodes,
                "desiredNumberScheduled": gpu_nodes,
                "numberAvailable": gpu_nodes,
                "numberMisscheduled": 0,
                "numberReady": gpu_nodes,
                "observedGeneration": 1,
                "updatedNumberScheduled": gpu_nodes,
            },
        }
        objs.append(ds)
        if name != "nvidia-device-plugin-daemonset":
            continue
        ds["status"].update(
            numberReady=device_plugin_pods,
            numberAvailable=device_plugin_pods,
            currentNumberScheduled=device_plugin_pods,
            updatedNumberScheduled=device_plugin_pods,
        )
        owner_ref = [
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "name": name,
                "uid": ds["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        for node_name, _free, node_ready in g.gpu_slots[:device_plugin_pods]:
            objs.append(_operand_pod(g, name, image, node_name, node_ready, spec, pod_labels, owner_ref))
    return objs


def _operand_pod(
    g: _Gen,
    app: str,
    image: str,
    node: str,
    node_ready: str,
    template_spec: dict[str, Any],
    labels: dict[str, str],
    owner_ref: list[dict[str, Any]],
) -> dict[str, Any]:
    created = started = node_ready
    host_ip = ".".join(node[3:].split(".", 1)[0].split("-"))
    spec = dict(
        template_spec,
        nodeName=node,
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
                    ]
                }
            }
        },
    )
    container = template_spec["containers"][0]["name"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{app}-{g.suffix()}",
            "generateName": f"{app}-",
            "namespace": GPU_OPERATOR_NS,
            "uid": g.uid(),
            "creationTimestamp": created,
            "labels": labels,
            "ownerReferences": owner_ref,
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "qosClass": "BestEffort",
            "startTime": created,
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": g.next_ip(),
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": started}
                for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "initContainerStatuses": [
                {
                    "name": "toolkit-validation",
                    "image": _OPERAND_DAEMONSETS[3][1],
                    "imageID": f"{_OPERAND_DAEMONSETS[3][1].rsplit(':', 1)[0]}@sha256:"
                    f"{_fake_digest(_OPERAND_DAEMONSETS[3][1])}",
                    "containerID": f"containerd://{g.hexid(64)}",
                    "ready": True,
                    "restartCount": 0,
                    "started": False,
                    "lastState": {},
                    "state": {
                        "terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": started,
                            "finishedAt": started,
                        }
                    },
                }
            ],
            "containerStatuses": [
                {
                    "name": container,
                    "image": image,
                    "imageID": f"{image.rsplit(':', 1)[0]}@sha256:{_fake_digest(image)}",
                    "containerID": f"containerd://{g.hexid(64)}",
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "lastState": {},
                    "state": {"running": {"startedAt": started}},
                }
            ],
        },
    }
