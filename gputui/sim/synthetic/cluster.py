"""The cluster around the nodes: namespaces, NodePools, EC2NodeClasses and the ClusterPolicy."""

from __future__ import annotations

from typing import Any

from gputui.sim.synthetic.plan import CPU_INSTANCES, GPU_INSTANCES, GPU_OPERATOR_NS, ZONES, _Gen, _Instance

# -- cluster scaffolding ----------------------------------------------------------------

_NAMESPACES = (
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "karpenter",
    GPU_OPERATOR_NS,
    "ml-training",
    "ml-inference",
    "data-pipeline",
    "web",
)
_POOLS = {
    # name: (instances it launches, taint GPU?, weight)
    "default": (CPU_INSTANCES, False, 10),
    "gpu": (tuple(i for i in GPU_INSTANCES if i.name[0] == "g"), True, 50),
    "gpu-large": (tuple(i for i in GPU_INSTANCES if i.name[0] == "p"), True, 20),
}
_GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}


def _meta(g: _Gen, name: str, created: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, "uid": g.uid(), "creationTimestamp": created}
    if namespace is not None:
        md["namespace"] = namespace
    md.update(extra)
    return md


def _scaffolding(g: _Gen) -> None:
    old = g.ts(120 * 86400)
    for ns in _NAMESPACES:
        g.out.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": _meta(g, ns, old, labels={"kubernetes.io/metadata.name": ns}),
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
        )
    for name, gpu in (("default", False), ("gpu", True)):
        g.out.append(_ec2nodeclass(g, name, gpu, g.ts(100 * 86400)))
    g.pools = {}
    for name, (instances, gpu, weight) in _POOLS.items():
        pool = _nodepool(g, name, instances, gpu, weight, g.ts(100 * 86400))
        g.pools[name] = pool
        g.out.append(pool)
    g.out.append(_cluster_policy(g, g.ts(95 * 86400)))


def _ec2nodeclass(g: _Gen, name: str, gpu: bool, created: str) -> dict[str, Any]:
    tags = {"karpenter.sh/discovery": "sim-gpu-cluster"}
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": _meta(
            g,
            name,
            created,
            finalizers=["karpenter.k8s.aws/termination"],
            annotations={
                "karpenter.k8s.aws/ec2nodeclass-hash": str(g.rng.getrandbits(62)),
                "karpenter.k8s.aws/ec2nodeclass-hash-version": "v4",
            },
        ),
        "spec": {
            "amiFamily": "AL2023",
            "amiSelectorTerms": [{"alias": "al2023@latest"}],
            "role": "KarpenterNodeRole-sim-gpu-cluster",
            "subnetSelectorTerms": [{"tags": tags}],
            "securityGroupSelectorTerms": [{"tags": tags}],
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {"volumeSize": "200Gi" if gpu else "80Gi", "volumeType": "gp3", "encrypted": True},
                }
            ],
            "metadataOptions": {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 1, "httpTokens": "required"},
        },
        "status": {
            "amis": [
                {
                    "id": "ami-0" + g.hexid(16),
                    "name": "amazon-eks-node-al2023-x86_64-nvidia-1.32-v20250620"
                    if gpu
                    else "amazon-eks-node-al2023-x86_64-standard-1.32-v20250620",
                    "requirements": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}],
                }
            ],
            "instanceProfile": f"sim-gpu-cluster_{g.rng.getrandbits(60)}",
            "subnets": [{"id": "subnet-0" + g.hexid(16), "zone": z, "zoneID": zid} for z, zid in ZONES],
            "securityGroups": [{"id": "sg-0" + g.hexid(16), "name": "eks-cluster-sg-sim-gpu-cluster"}],
            "conditions": [
                _cond(t, "True", t, created)
                for t in (
                    "AMIsReady",
                    "SubnetsReady",
                    "SecurityGroupsReady",
                    "InstanceProfileReady",
                    "ValidationSucceeded",
                    "Ready",
                )
            ],
        },
    }


def _cond(type_: str, status: str, reason: str, when: str, message: str = "") -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": when,
        "observedGeneration": 1,
    }


def _nodepool(
    g: _Gen, name: str, instances: tuple[_Instance, ...], gpu: bool, weight: int, created: str
) -> dict[str, Any]:
    reqs = [
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [i.name for i in instances]},
        {
            "key": "karpenter.sh/capacity-type",
            "operator": "In",
            "values": ["on-demand"] if gpu else ["spot", "on-demand"],
        },
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [z for z, _ in ZONES]},
    ]
    template_spec: dict[str, Any] = {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu" if gpu else "default"},
        "requirements": reqs,
        "expireAfter": "720h",
    }
    if gpu:
        template_spec["taints"] = [_GPU_TAINT]
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": _meta(
            g,
            name,
            created,
            annotations={
                "karpenter.sh/nodepool-hash": str(g.rng.getrandbits(62)),
                "karpenter.sh/nodepool-hash-version": "v3",
            },
        ),
        "spec": {
            "template": {
                "metadata": {"labels": {"workload-class": "gpu" if gpu else "general"}},
                "spec": template_spec,
            },
            "disruption": {
                "consolidationPolicy": "WhenEmpty" if gpu else "WhenEmptyOrUnderutilized",
                "consolidateAfter": "10m" if gpu else "1m",
                "budgets": [{"nodes": "10%"}],
            },
            "limits": {"cpu": "200000", "nvidia.com/gpu": "20000"} if gpu else {"cpu": "400000"},
            "weight": weight,
        },
        "status": {
            "conditions": [
                _cond(t, "True", t, created)
                for t in ("ValidationSucceeded", "NodeClassReady", "NodeRegistrationHealthy", "Ready")
            ],
            "nodes": 0,
            "resources": {},
        },
    }


def _cluster_policy(g: _Gen, created: str) -> dict[str, Any]:
    return {
        "apiVersion": "nvidia.com/v1",
        "kind": "ClusterPolicy",
        "metadata": _meta(g, "cluster-policy", created, labels={"app.kubernetes.io/component": "gpu-operator"}),
        "spec": {
            "operator": {"defaultRuntime": "containerd"},
            "driver": {"enabled": False},
            "toolkit": {"enabled": False},
            "devicePlugin": {"enabled": True, "version": "v0.17.1"},
            "gfd": {"enabled": True},
            "dcgmExporter": {"enabled": True},
            "dcgm": {"enabled": False},
            "migManager": {"enabled": False},
            "nodeStatusExporter": {"enabled": False},
            "validator": {"plugin": {"env": [{"name": "WITH_WORKLOAD", "value": "false"}]}},
            "daemonsets": {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]},
        },
        "status": {
            "state": "ready",
            "namespace": GPU_OPERATOR_NS,
            "conditions": [
                _cond(
                    "Ready",
                    "True",
                    "Reconciled",
                    created,
                    "ClusterPolicy is ready as all resources have been successfully reconciled",
                ),
                _cond("Error", "False", "Ready", created),
            ],
        },
    }
