"""Workload pods and their owners (ReplicaSets, Jobs), Running or Pending."""

from __future__ import annotations

from typing import Any

from gputui.sim.synthetic.nodes import _fake_digest, _fields
from gputui.sim.synthetic.operands import _operand_daemonsets
from gputui.sim.synthetic.plan import REGION, _Gen

# -- pods and their owners ----------------------------------------------------------------

_GPU_WORKLOADS = (
    # namespace, name stem, image, kind, command
    (
        "ml-training",
        "llm-finetune",
        "nvcr.io/nvidia/pytorch:25.01-py3",
        "Job",
        ["torchrun", "--nproc_per_node=1", "/workspace/train.py"],
    ),
    (
        "ml-training",
        "vision-train",
        "nvcr.io/nvidia/pytorch:25.01-py3",
        "Job",
        ["python", "/workspace/train_resnet.py", "--epochs=30"],
    ),
    (
        "ml-inference",
        "triton",
        "nvcr.io/nvidia/tritonserver:25.01-py3",
        "Deployment",
        ["tritonserver", "--model-repository=s3://models/prod"],
    ),
    (
        "ml-inference",
        "embeddings",
        "ghcr.io/example/embedding-server:2.4.1",
        "Deployment",
        ["python", "-m", "server", "--port=8080"],
    ),
)
_CPU_WORKLOADS = (
    ("web", "storefront", "public.ecr.aws/example/storefront:3.18.2", "Deployment", ["/app/server"]),
    ("web", "checkout", "public.ecr.aws/example/checkout:1.42.0", "Deployment", ["/app/checkout"]),
    ("data-pipeline", "ingest", "public.ecr.aws/example/ingest:0.9.7", "Deployment", ["/bin/ingest", "--workers=4"]),
    ("data-pipeline", "etl-nightly", "public.ecr.aws/example/etl:5.1.0", "Job", ["/bin/etl", "--date=yesterday"]),
)


class _Owner:
    """One Deployment+ReplicaSet or Job and the read-only parts its pods share."""

    def __init__(self, g: _Gen, workload: tuple, index: int, gpus: int, replicas: int, age: float):
        ns, stem, image, kind, command = workload
        self.g, self.ns, self.kind, self.gpus = g, ns, kind, gpus
        self.name = f"{stem}-{index}"
        self.created = g.ts(age)
        self.age = age
        self.replicas = replicas
        self.pods = 0
        self.ready = 0
        self.pending = 0
        template_hash = g.suffix(10)
        self.labels = {
            "app.kubernetes.io/name": stem,
            "app.kubernetes.io/instance": self.name,
            "app.kubernetes.io/part-of": ns,
            "team": ns.split("-")[0],
        }
        if kind == "Job":
            self.owner_uid = g.uid()
            self.pod_labels = dict(
                self.labels,
                **{
                    "batch.kubernetes.io/controller-uid": self.owner_uid,
                    "batch.kubernetes.io/job-name": self.name,
                    "controller-uid": self.owner_uid,
                    "job-name": self.name,
                },
            )
            self.owner_ref = [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": self.name,
                    "uid": self.owner_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
            self.prefix = f"{self.name}-"
        else:
            self.deploy_uid = g.uid()
            self.owner_uid = g.uid()
            self.rs_name = f"{self.name}-{template_hash}"
            self.pod_labels = dict(self.labels, **{"pod-template-hash": template_hash})
            self.owner_ref = [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": self.rs_name,
                    "uid": self.owner_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
            self.prefix = f"{self.rs_name}-"
        self.template = _pod_template(self.name, image, command, gpus, kind)
        self.spec_base = dict(self.template["spec"], restartPolicy="Never" if kind == "Job" else "Always")
        self.annotations = {
            "kubectl.kubernetes.io/default-container": "main",
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "9090",
        }
        self.managed = _pod_managed_fields(self.template, self.pod_labels, self.annotations, kind)
        self.image = image

    def objects(self) -> list[dict[str, Any]]:
        tmpl = {"metadata": {"labels": self.pod_labels, "annotations": self.annotations}, "spec": self.template["spec"]}
        if self.kind == "Job":
            status: dict[str, Any] = {
                "startTime": self.created,
                "active": self.pods,
                "ready": self.ready,
                "uncountedTerminatedPods": {},
                "terminating": 0,
            }
            return [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": {
                        "name": self.name,
                        "namespace": self.ns,
                        "uid": self.owner_uid,
                        "creationTimestamp": self.created,
                        "generation": 1,
                        "labels": self.labels,
                    },
                    "spec": {
                        "parallelism": self.replicas,
                        "completions": self.replicas,
                        "backoffLimit": 6,
                        "completionMode": "NonIndexed",
                        "suspend": False,
                        "manualSelector": False,
                        "podReplacementPolicy": "TerminatingOrFailed",
                        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": self.owner_uid}},
                        "template": tmpl,
                    },
                    "status": status,
                }
            ]
        selector = {"matchLabels": self.labels}
        deploy_status = {
            "observedGeneration": 1,
            "replicas": self.pods,
            "updatedReplicas": self.pods,
            "readyReplicas": self.ready,
            "availableReplicas": self.ready,
            "unavailableReplicas": self.pods - self.ready,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if self.ready == self.pods else "False",
                    "reason": "MinimumReplicasAvailable" if self.ready == self.pods else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability."
                    if self.ready == self.pods
                    else "Deployment does not have minimum availability.",
                    "lastUpdateTime": self.created,
                    "lastTransitionTime": self.created,
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{self.rs_name}" has successfully progressed.',
                    "lastUpdateTime": self.created,
                    "lastTransitionTime": self.created,
                },
            ],
        }
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": self.name,
                "namespace": self.ns,
                "uid": self.deploy_uid,
                "creationTimestamp": self.created,
                "generation": 1,
                "labels": self.labels,
                "annotations": {"deployment.kubernetes.io/revision": "1"},
            },
            "spec": {
                "replicas": self.pods,
                "selector": selector,
                "template": tmpl,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
            "status": deploy_status,
        }
        replicaset = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": self.rs_name,
                "namespace": self.ns,
                "uid": self.owner_uid,
                "creationTimestamp": self.created,
                "generation": 1,
                "labels": self.pod_labels,
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(self.pods),
                    "deployment.kubernetes.io/max-replicas": str(self.pods + 1),
                    "deployment.kubernetes.io/revision": "1",
                },
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": self.name,
                        "uid": self.deploy_uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "replicas": self.pods,
                "selector": {"matchLabels": self.pod_labels},
                "template": {
                    "metadata": {"labels": self.pod_labels, "annotations": self.annotations},
                    "spec": self.template["spec"],
                },
            },
            "status": {
                "replicas": self.pods,
                "fullyLabeledReplicas": self.pods,
                "readyReplicas": self.ready,
                "availableReplicas": self.ready,
                "observedGeneration": 1,
            },
        }
        return [deployment, replicaset]


def _pod_template(name: str, image: str, command: list[str], gpus: int, kind: str) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "requests": {"cpu": "2" if gpus else "250m", "memory": "12Gi" if gpus else "512Mi"},
        "limits": {"memory": "14Gi" if gpus else "1Gi"},
    }
    if gpus:
        resources["requests"]["nvidia.com/gpu"] = str(gpus)
        resources["limits"]["nvidia.com/gpu"] = str(gpus)
    env: list[dict[str, Any]] = [
        {"name": k, "value": v}
        for k, v in (
            ("LOG_LEVEL", "info"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector.monitoring:4317"),
            ("OTEL_SERVICE_NAME", name),
            ("AWS_REGION", REGION),
            ("MODEL_CACHE_DIR", "/cache/models"),
        )
    ]
    env += [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
    ]
    container: dict[str, Any] = {
        "name": "main",
        "image": image,
        "command": command,
        "env": env,
        "resources": resources,
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "ports": [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
        ],
        "volumeMounts": [
            {"name": "cache", "mountPath": "/cache"},
            {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True},
        ],
    }
    if kind != "Job":
        container["readinessProbe"] = {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
            "periodSeconds": 10,
            "timeoutSeconds": 1,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
    tolerations = [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]
    if gpus:
        tolerations.append({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"})
    spec: dict[str, Any] = {
        "containers": [container],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "tolerations": tolerations,
        "volumes": [
            {"name": "cache", "emptyDir": {"sizeLimit": "20Gi"}},
            {
                "name": "kube-api-access",
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {
                            "downwardAPI": {
                                "items": [
                                    {
                                        "path": "namespace",
                                        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    }
                                ]
                            }
                        },
                    ],
                },
            },
        ],
    }
    if gpus:
        spec["nodeSelector"] = {"workload-class": "gpu"}
    return {"spec": spec}


def _pod_managed_fields(
    template: dict[str, Any], labels: dict[str, str], annotations: dict[str, str], kind: str
) -> list[dict[str, Any]]:
    spec = template["spec"]
    c = spec["containers"][0]
    container_fields = {
        ".": {},
        "f:command": {},
        "f:image": {},
        "f:imagePullPolicy": {},
        "f:name": {},
        "f:terminationMessagePath": {},
        "f:terminationMessagePolicy": {},
        "f:env": {".": {}, **{f'k:{{"name":"{e["name"]}"}}': {} for e in c["env"]}},
        "f:ports": {
            ".": {},
            **{f'k:{{"containerPort":{p["containerPort"]},"protocol":"TCP"}}': {} for p in c["ports"]},
        },
        "f:resources": {
            ".": {},
            "f:limits": _fields(c["resources"]["limits"]),
            "f:requests": _fields(c["resources"]["requests"]),
        },
        "f:volumeMounts": {
            ".": {},
            **{
                f'k:{{"mountPath":"{m["mountPath"]}"}}': {".": {}, "f:mountPath": {}, "f:name": {}}
                for m in c["volumeMounts"]
            },
        },
    }
    manager = "job-controller" if kind == "Job" else "kube-controller-manager"
    return [
        {
            "manager": manager,
            "operation": "Update",
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:annotations": {".": {}, **_fields(annotations)},
                    "f:generateName": {},
                    "f:labels": {".": {}, **_fields(labels)},
                    "f:ownerReferences": {".": {}},
                },
                "f:spec": {
                    "f:containers": {'k:{"name":"main"}': container_fields},
                    **_fields(("dnsPolicy", "restartPolicy", "schedulerName", "tolerations", "volumes")),
                },
            },
        },
        {
            "manager": "kubelet",
            "operation": "Update",
            "apiVersion": "v1",
            "subresource": "status",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:status": {
                    "f:conditions": {
                        f'k:{{"type":"{t}"}}': {".": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}
                        for t in ("ContainersReady", "Initialized", "Ready")
                    },
                    "f:containerStatuses": {},
                    "f:hostIP": {},
                    "f:hostIPs": {},
                    "f:phase": {},
                    "f:podIP": {},
                    "f:podIPs": {".": {}, 'k:{"ip":"0"}': {".": {}, "f:ip": {}}},
                    "f:startTime": {},
                }
            },
        },
    ]


_PENDING_WORKLOAD = (
    "ml-training",
    "llm-pretrain",
    "nvcr.io/nvidia/pytorch:25.01-py3",
    "Job",
    ["torchrun", "--nproc_per_node=8", "/workspace/pretrain.py"],
)
_PENDING_PRODUCT = "NVIDIA-H100-80GB-HBM3"
_NO_NODES = "no nodes available to schedule pods"  # the scheduler's words for an empty cluster


class _PodRef:
    __slots__ = ("ns", "name", "uid", "node", "image", "created", "message")

    def __init__(self, ns: str, name: str, uid: str, node: str | None, image: str, created: str, message: str = ""):
        self.ns, self.name, self.uid, self.node, self.image, self.created, self.message = (
            ns,
            name,
            uid,
            node,
            image,
            created,
            message,
        )


def _pods(g: _Gen) -> list[_PodRef]:
    """Pods, their owners and the GPU Operator DaemonSets; returns the Pending GPU pods."""
    total = g.spec.pods
    operand_pods = min(total, len(g.gpu_slots))
    g.out.extend(_operand_daemonsets(g, operand_pods))
    workload = total - operand_pods
    gpu_wanted = workload // 4 if workload >= 4 else min(workload, 1)
    pending_n = min(gpu_wanted, max(1, gpu_wanted // 200)) if gpu_wanted else 0
    free_gpus = sum(s[1] for s in g.gpu_slots)
    gpu_running = min(gpu_wanted - pending_n, free_gpus)
    cpu_n = workload - gpu_running - pending_n
    # The big-GPU nodes get work first, so the 8-GPU pods that wait below really find no room.
    big = [s for s in g.gpu_slots if s[1] == 8]
    small = [s for s in g.gpu_slots if s[1] != 8]
    g.rng.shuffle(small)
    slots = big + small
    slot_i = 0

    def next_gpu_node() -> str:
        nonlocal slot_i
        while slots[slot_i][1] == 0:
            slot_i = (slot_i + 1) % len(slots)
        slots[slot_i][1] -= 1
        name = slots[slot_i][0]
        slot_i = (slot_i + 1) % len(slots)
        return name

    counters = {"owner": 0}

    def fill(count: int, workloads: tuple, sizes: tuple[int, int], gpus: int, place, message: str = "") -> None:
        left = count
        while left > 0:
            counters["owner"] += 1
            wl = g.rng.choice(workloads)
            size = min(left, g.rng.randint(*sizes) if wl[3] == "Deployment" else g.rng.randint(1, 8))
            owner = _Owner(g, wl, counters["owner"], gpus, size, g.rng.uniform(600, 20 * 86400))
            for _ in range(size):
                _add_pod(g, owner, place(), message)
            left -= size
            g.out.extend(owner.objects())

    fill(gpu_running, _GPU_WORKLOADS, (2, 12), 1, next_gpu_node)
    any_nodes = g.cpu_nodes or [s[0] for s in g.gpu_slots]
    fill(
        cpu_n, _CPU_WORKLOADS, (5, 40), 0, (lambda: g.rng.choice(any_nodes)) if any_nodes else (lambda: None), _NO_NODES
    )
    return _pending_pods(g, pending_n)


def _pending_pods(g: _Gen, count: int) -> list[_PodRef]:
    pending: list[_PodRef] = []
    if not count:
        return pending
    owner = _Owner(g, _PENDING_WORKLOAD, 1, 8, count, g.rng.uniform(900, 3 * 3600))
    owner.template["spec"]["nodeSelector"]["nvidia.com/gpu.product"] = _PENDING_PRODUCT
    n = len(g.nodes)
    h100 = sum(1 for _, inst, _, _ in g.nodes if inst.gpu_product == _PENDING_PRODUCT)
    parts = []
    if h100:
        parts.append((f"{h100} Insufficient nvidia.com/gpu", f"{h100} No preemption victims found for incoming pod"))
    if n - h100:
        parts.append(
            (
                f"{n - h100} node(s) didn't match Pod's node affinity/selector",
                f"{n - h100} Preemption is not helpful for scheduling",
            )
        )
    message = (
        f"0/{n} nodes are available: {', '.join(p[0] for p in parts)}. preemption: 0/{n} nodes are "
        f"available: {', '.join(p[1] for p in parts)}."
    )
    for _ in range(count):
        ref = _add_pod(g, owner, None, message)
        pending.append(ref)
    g.out.extend(owner.objects())
    return pending


def _add_pod(g: _Gen, owner: _Owner, node: str | None, message: str = "") -> _PodRef:
    age = g.rng.uniform(60, owner.age)
    created = g.ts(age)
    name = owner.prefix + g.suffix()
    uid = g.uid()
    managed = [dict(mf, time=created) for mf in owner.managed]
    spec = dict(owner.spec_base)
    owner.pods += 1
    if node is None:
        status: dict[str, Any] = {
            "phase": "Pending",
            "qosClass": "Burstable",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": message,
                    "lastProbeTime": None,
                    "lastTransitionTime": created,
                }
            ],
        }
        owner.pending += 1
        g.pending.append(_PodRef(owner.ns, name, uid, None, owner.image, created, message))
    else:
        spec["nodeName"] = node
        started = g.ts(age - g.rng.uniform(3, 60))
        host_ip = ".".join(node[3:].split(".", 1)[0].split("-"))
        pod_ip = g.next_ip()
        status = {
            "phase": "Running",
            "qosClass": "Burstable",
            "startTime": created,
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "conditions": [
                {
                    "type": "PodReadyToStartContainers",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": started,
                },
                {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": created},
                {"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
                {"type": "ContainersReady", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": created},
            ],
            "containerStatuses": [
                {
                    "name": "main",
                    "image": owner.image,
                    "imageID": f"{owner.image.rsplit(':', 1)[0]}@sha256:{_fake_digest(owner.image)}",
                    "containerID": f"containerd://{g.hexid(64)}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": started}},
                    "lastState": {},
                    "volumeMounts": [
                        {"name": "cache", "mountPath": "/cache"},
                        {
                            "name": "kube-api-access",
                            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                            "readOnly": True,
                            "recursiveReadOnly": "Disabled",
                        },
                    ],
                }
            ],
        }
        owner.ready += 1
        g.running.append(_PodRef(owner.ns, name, uid, node, owner.image, created))
    g.out.append(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "generateName": owner.prefix,
                "namespace": owner.ns,
                "uid": uid,
                "creationTimestamp": created,
                "labels": owner.pod_labels,
                "annotations": owner.annotations,
                "ownerReferences": owner.owner_ref,
                "managedFields": managed,
            },
            "spec": spec,
            "status": status,
        }
    )
    return _PodRef(owner.ns, name, uid, node, owner.image, created, message)
