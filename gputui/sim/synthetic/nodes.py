"""Nodes and the NodeClaims behind them, with the labels, images and managed fields of
Karpenter-launched EKS nodes.
"""

from __future__ import annotations

from typing import Any

from gputui.sim.synthetic.cluster import _GPU_TAINT, _POOLS, _cond, _meta
from gputui.sim.synthetic.plan import (
    _GPU_IMAGES,
    _NFD_CPU_FLAGS,
    _NODE_IMAGES,
    CUDA_VERSION,
    DRIVER_VERSION,
    REGION,
    ZONES,
    _Gen,
    _Instance,
)

# -- nodes and node claims ---------------------------------------------------------------


class _NodeShapes:
    """Per-instance-type parts shared by every node of that type (read-only)."""

    def __init__(self) -> None:
        self.cache: dict[str, dict[str, Any]] = {}

    def get(self, inst: _Instance) -> dict[str, Any]:
        shape = self.cache.get(inst.name)
        if shape is None:
            shape = self.cache[inst.name] = self._build(inst)
        return shape

    @staticmethod
    def _build(inst: _Instance) -> dict[str, Any]:
        family, size = inst.name.split(".")
        karpenter = {
            "karpenter.k8s.aws/instance-capability-flex": "false",
            "karpenter.k8s.aws/instance-category": family[0],
            "karpenter.k8s.aws/instance-cpu": str(inst.cpu),
            "karpenter.k8s.aws/instance-cpu-manufacturer": inst.cpu_vendor,
            "karpenter.k8s.aws/instance-ebs-bandwidth": str(min(80000, 1250 * inst.cpu)),
            "karpenter.k8s.aws/instance-encryption-in-transit-supported": "true",
            "karpenter.k8s.aws/instance-family": family,
            "karpenter.k8s.aws/instance-generation": "".join(c for c in family if c.isdigit()),
            "karpenter.k8s.aws/instance-hypervisor": "nitro",
            "karpenter.k8s.aws/instance-memory": str(inst.memory_mib),
            "karpenter.k8s.aws/instance-network-bandwidth": str(min(3_200_000, 1250 * inst.cpu)),
            "karpenter.k8s.aws/instance-size": size,
            "node.kubernetes.io/instance-type": inst.name,
            "beta.kubernetes.io/instance-type": inst.name,
            "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/arch": "amd64",
            "kubernetes.io/os": "linux",
            "beta.kubernetes.io/os": "linux",
            "topology.kubernetes.io/region": REGION,
            "failure-domain.beta.kubernetes.io/region": REGION,
        }
        if inst.gpus:
            karpenter.update(
                {
                    "karpenter.k8s.aws/instance-gpu-count": str(inst.gpus),
                    "karpenter.k8s.aws/instance-gpu-manufacturer": "nvidia",
                    "karpenter.k8s.aws/instance-gpu-memory": str(inst.gpu_memory),
                    "karpenter.k8s.aws/instance-gpu-name": inst.gpu_name,
                    "karpenter.k8s.aws/instance-local-nvme": str(250 * max(1, inst.cpu // 4)),
                }
            )
        nfd = {f"feature.node.kubernetes.io/cpu-cpuid.{flag}": "true" for flag in _NFD_CPU_FLAGS}
        nfd.update(
            {
                "feature.node.kubernetes.io/cpu-hardware_multithreading": "true",
                "feature.node.kubernetes.io/cpu-model.family": "6" if inst.cpu_vendor == "intel" else "25",
                "feature.node.kubernetes.io/cpu-model.id": "106" if inst.cpu_vendor == "intel" else "1",
                "feature.node.kubernetes.io/cpu-model.vendor_id": "Intel" if inst.cpu_vendor == "intel" else "AMD",
                "feature.node.kubernetes.io/kernel-config.NO_HZ": "true",
                "feature.node.kubernetes.io/kernel-config.NO_HZ_IDLE": "true",
                "feature.node.kubernetes.io/kernel-version.full": "6.1.141-155.222.amzn2023.x86_64",
                "feature.node.kubernetes.io/kernel-version.major": "6",
                "feature.node.kubernetes.io/kernel-version.minor": "1",
                "feature.node.kubernetes.io/kernel-version.revision": "141",
                "feature.node.kubernetes.io/pci-1d0f.present": "true",
                "feature.node.kubernetes.io/storage-nonrotationaldisk": "true",
                "feature.node.kubernetes.io/system-os_release.ID": "amzn",
                "feature.node.kubernetes.io/system-os_release.VERSION_ID": "2023",
                "feature.node.kubernetes.io/system-os_release.VERSION_ID.major": "2023",
            }
        )
        gfd: dict[str, str] = {}
        if inst.gpus:
            d_major, d_minor, d_rev = DRIVER_VERSION.split(".")
            c_major, c_minor = CUDA_VERSION.split(".")
            nfd["feature.node.kubernetes.io/pci-10de.present"] = "true"
            gfd = {
                "nvidia.com/cuda.driver-version.full": DRIVER_VERSION,
                "nvidia.com/cuda.driver-version.major": d_major,
                "nvidia.com/cuda.driver-version.minor": d_minor,
                "nvidia.com/cuda.driver-version.revision": d_rev,
                "nvidia.com/cuda.driver.major": d_major,
                "nvidia.com/cuda.driver.minor": d_minor,
                "nvidia.com/cuda.driver.rev": d_rev,
                "nvidia.com/cuda.runtime-version.full": CUDA_VERSION,
                "nvidia.com/cuda.runtime-version.major": c_major,
                "nvidia.com/cuda.runtime-version.minor": c_minor,
                "nvidia.com/cuda.runtime.major": c_major,
                "nvidia.com/cuda.runtime.minor": c_minor,
                "nvidia.com/gpu.compute.major": str(inst.compute[0]),
                "nvidia.com/gpu.compute.minor": str(inst.compute[1]),
                "nvidia.com/gpu.count": str(inst.gpus),
                "nvidia.com/gpu.family": inst.gpu_family,
                "nvidia.com/gpu.machine": inst.name,
                "nvidia.com/gpu.memory": str(inst.gpu_memory),
                "nvidia.com/gpu.mode": "compute",
                "nvidia.com/gpu.present": "true",
                "nvidia.com/gpu.product": inst.gpu_product,
                "nvidia.com/gpu.replicas": "1",
                "nvidia.com/gpu.sharing-strategy": "none",
                "nvidia.com/mig.capable": "true" if inst.gpu_name in ("a100", "h100") else "false",
                "nvidia.com/mig.strategy": "single",
                "nvidia.com/mps.capable": "false",
                "nvidia.com/gpu.deploy.driver": "pre-installed",
                "nvidia.com/gpu.deploy.container-toolkit": "pre-installed",
                "nvidia.com/gpu.deploy.device-plugin": "true",
                "nvidia.com/gpu.deploy.gpu-feature-discovery": "true",
                "nvidia.com/gpu.deploy.dcgm-exporter": "true",
                "nvidia.com/gpu.deploy.operator-validator": "true",
                "nvidia.com/gpu.deploy.operands": "true",
            }
        resources = {
            "cpu": str(inst.cpu),
            "ephemeral-storage": "209702892Ki" if inst.gpus else "83873772Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": f"{inst.memory_mib * 1024 - 510_000}Ki",
            "pods": str(inst.pods),
        }
        allocatable = dict(
            resources,
            cpu=inst.alloc_cpu,
            memory=inst.alloc_memory,
            **{"ephemeral-storage": "192188443913" if inst.gpus else "76224326324"},
        )
        if inst.gpus:
            resources["nvidia.com/gpu"] = allocatable["nvidia.com/gpu"] = str(inst.gpus)
        images = [
            {"names": [f"{repo}@sha256:{_fake_digest(repo, tag)}", f"{repo}:{tag}"], "sizeBytes": size}
            for repo, tag, size in _NODE_IMAGES + (_GPU_IMAGES if inst.gpus else ())
        ]
        nfd_names = ",".join(k.split("/", 1)[1] for k in nfd)
        return {
            "karpenter": karpenter,
            "nfd": nfd,
            "gfd": gfd,
            "capacity": resources,
            "allocatable": allocatable,
            "images": images,
            "nfd_names": nfd_names,
            "managed": _node_managed_fields(karpenter, nfd, gfd, bool(inst.gpus)),
        }


def _fake_digest(*parts: str) -> str:
    import hashlib

    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _fields(keys: Any) -> dict[str, Any]:
    return {f"f:{k}": {} for k in keys}


def _node_managed_fields(
    karpenter: dict[str, str], nfd: dict[str, str], gfd: dict[str, str], gpu: bool
) -> list[tuple[str, str, dict[str, Any]]]:
    """(manager, operation, fieldsV1) — the time is set per node."""
    out: list[tuple[str, str, dict[str, Any]]] = [
        (
            "karpenter",
            "Update",
            {
                "f:metadata": {
                    "f:labels": _fields(
                        [
                            "karpenter.sh/nodepool",
                            "karpenter.sh/capacity-type",
                            "karpenter.sh/initialized",
                            "karpenter.sh/registered",
                            "node.kubernetes.io/instance-type",
                            "topology.kubernetes.io/zone",
                        ]
                    ),
                    "f:finalizers": {".": {}, 'v:"karpenter.sh/termination"': {}},
                    "f:ownerReferences": {".": {}},
                },
                "f:spec": {"f:taints": {}} if gpu else {},
            },
        ),
        (
            "kubelet",
            "Update",
            {
                "f:metadata": {
                    "f:annotations": _fields(
                        [
                            "alpha.kubernetes.io/provided-node-ip",
                            "node.alpha.kubernetes.io/ttl",
                            "volumes.kubernetes.io/controller-managed-attach-detach",
                        ]
                    )
                },
                "f:spec": {"f:providerID": {}},
            },
        ),
        (
            "kubelet",
            "Update",
            {
                "f:status": {
                    "f:allocatable": _fields(
                        ["cpu", "ephemeral-storage", "memory", "pods"] + (["nvidia.com/gpu"] if gpu else [])
                    ),
                    "f:capacity": _fields(
                        ["cpu", "ephemeral-storage", "memory", "pods"] + (["nvidia.com/gpu"] if gpu else [])
                    ),
                    "f:conditions": {
                        f'k:{{"type":"{t}"}}': _fields(
                            ["lastHeartbeatTime", "lastTransitionTime", "message", "reason", "status"]
                        )
                        for t in ("DiskPressure", "MemoryPressure", "PIDPressure", "Ready")
                    },
                    "f:images": {},
                    "f:nodeInfo": _fields(["bootID", "machineID", "systemUUID"]),
                }
            },
        ),
        (
            "nfd-master",
            "Update",
            {
                "f:metadata": {
                    "f:annotations": _fields(["nfd.node.kubernetes.io/feature-labels"]),
                    "f:labels": _fields(nfd),
                }
            },
        ),
    ]
    if gpu:
        out.append(("gpu-feature-discovery", "Update", {"f:metadata": {"f:labels": _fields(gfd)}}))
    return out


def _nodes(g: _Gen) -> None:
    shapes = _NodeShapes()
    spec = g.spec
    totals = {name: {"cpu": 0, "memory_mib": 0, "gpu": 0, "nodes": 0} for name in _POOLS}
    for i in range(spec.nodes):
        gpu = i < spec.gpu_nodes
        if gpu:
            pool_name = "gpu-large" if g.rng.random() < 0.08 else "gpu"
        else:
            pool_name = "default"
        inst = g.pick(_POOLS[pool_name][0])
        zone, zone_id = g.rng.choice(ZONES)
        age = g.rng.uniform(3600, 40 * 86400)
        created = g.ts(age)
        ready_at = g.ts(age - g.rng.uniform(40, 90))
        ip = g.next_ip()
        name = f"ip-{ip.replace('.', '-')}.{REGION}.compute.internal"
        claim_name = f"{pool_name}-{g.suffix()}"
        provider_id = f"aws:///{zone}/i-0{g.hexid(16)}"
        capacity_type = "on-demand" if gpu or g.rng.random() < 0.4 else "spot"
        shape = shapes.get(inst)
        claim = _nodeclaim(
            g,
            claim_name,
            pool_name,
            inst,
            shape,
            zone,
            capacity_type,
            provider_id,
            name,
            g.ts(age + g.rng.uniform(60, 120)),
            created,
            ready_at,
        )
        g.out.append(claim)
        g.claims.append((claim_name, claim["metadata"]["uid"], claim["metadata"]["creationTimestamp"]))
        g.out.append(
            _node(
                g, name, ip, inst, shape, zone, zone_id, pool_name, capacity_type, provider_id, claim, created, ready_at
            )
        )
        t = totals[pool_name]
        t["cpu"] += inst.cpu
        t["memory_mib"] += inst.memory_mib
        t["gpu"] += inst.gpus
        t["nodes"] += 1
        if gpu:
            g.gpu_slots.append([name, inst.gpus, ready_at])
        else:
            g.cpu_nodes.append(name)
        g.nodes.append((name, inst, created, zone))
    for pool_name, t in totals.items():
        status = g.pools[pool_name]["status"]
        status["nodes"] = t["nodes"]
        status["resources"] = {
            "cpu": str(t["cpu"]),
            "memory": f"{t['memory_mib']}Mi",
            "nodes": str(t["nodes"]),
            "pods": str(t["nodes"] * 58),
        }
        if t["gpu"]:
            status["resources"]["nvidia.com/gpu"] = str(t["gpu"])


def _nodeclaim(
    g: _Gen,
    name: str,
    pool: str,
    inst: _Instance,
    shape: dict[str, Any],
    zone: str,
    capacity_type: str,
    provider_id: str,
    node_name: str,
    created: str,
    registered: str,
    ready_at: str,
) -> dict[str, Any]:
    labels = dict(shape["karpenter"])
    labels.update(
        {
            "karpenter.sh/nodepool": pool,
            "karpenter.sh/capacity-type": capacity_type,
            "karpenter.k8s.aws/ec2nodeclass": "gpu" if inst.gpus else "default",
            "karpenter.sh/initialized": "true",
            "karpenter.sh/registered": "true",
            "topology.kubernetes.io/zone": zone,
            "workload-class": "gpu" if inst.gpus else "general",
        }
    )
    pool_obj = g.pools[pool]
    spec: dict[str, Any] = {
        "nodeClassRef": {
            "group": "karpenter.k8s.aws",
            "kind": "EC2NodeClass",
            "name": "gpu" if inst.gpus else "default",
        },
        "requirements": pool_obj["spec"]["template"]["spec"]["requirements"],
        "resources": {"requests": {"cpu": "310m", "memory": "260Mi", "pods": "6"}},
        "expireAfter": "720h",
    }
    if inst.gpus:
        spec["taints"] = [_GPU_TAINT]
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodeClaim",
        "metadata": _meta(
            g,
            name,
            created,
            labels=labels,
            annotations={
                "karpenter.k8s.aws/ec2nodeclass-hash": "5763643673275251833",
                "karpenter.k8s.aws/ec2nodeclass-hash-version": "v4",
                "karpenter.k8s.aws/tagged": "true",
                "karpenter.sh/nodepool-hash": pool_obj["metadata"]["annotations"]["karpenter.sh/nodepool-hash"],
                "karpenter.sh/nodepool-hash-version": "v3",
            },
            finalizers=["karpenter.sh/termination"],
            generation=1,
            ownerReferences=[
                {
                    "apiVersion": "karpenter.sh/v1",
                    "kind": "NodePool",
                    "name": pool,
                    "uid": pool_obj["metadata"]["uid"],
                    "blockOwnerDeletion": True,
                }
            ],
        ),
        "spec": spec,
        "status": {
            "providerID": provider_id,
            "nodeName": node_name,
            "imageID": "ami-0" + g.hexid(16),
            "capacity": shape["capacity"],
            "allocatable": shape["allocatable"],
            "lastPodEventTime": ready_at,
            "conditions": [
                _cond("Launched", "True", "Launched", created),
                _cond("Registered", "True", "Registered", registered),
                _cond("Initialized", "True", "Initialized", ready_at),
                _cond("Ready", "True", "Ready", ready_at),
                _cond("Consolidatable", "False", "Consolidatable", ready_at),
            ],
        },
    }


def _node(
    g: _Gen,
    name: str,
    ip: str,
    inst: _Instance,
    shape: dict[str, Any],
    zone: str,
    zone_id: str,
    pool: str,
    capacity_type: str,
    provider_id: str,
    claim: dict[str, Any],
    created: str,
    ready_at: str,
) -> dict[str, Any]:
    labels = dict(shape["karpenter"])
    labels.update(shape["nfd"])
    labels.update(shape["gfd"])
    labels.update(
        {
            "kubernetes.io/hostname": name,
            "karpenter.sh/nodepool": pool,
            "karpenter.sh/capacity-type": capacity_type,
            "karpenter.k8s.aws/ec2nodeclass": "gpu" if inst.gpus else "default",
            "karpenter.sh/initialized": "true",
            "karpenter.sh/registered": "true",
            "topology.kubernetes.io/zone": zone,
            "failure-domain.beta.kubernetes.io/zone": zone,
            "topology.k8s.aws/zone-id": zone_id,
            "workload-class": "gpu" if inst.gpus else "general",
        }
    )
    if inst.gpus:
        labels["nvidia.com/gfd.timestamp"] = str(int(g.now.timestamp()) - g.rng.randrange(60, 3600))
    heartbeat = g.ts(g.rng.uniform(5, 40))
    conds = [
        {
            "type": "MemoryPressure",
            "status": "False",
            "reason": "KubeletHasSufficientMemory",
            "message": "kubelet has sufficient memory available",
            "lastHeartbeatTime": heartbeat,
            "lastTransitionTime": created,
        },
        {
            "type": "DiskPressure",
            "status": "False",
            "reason": "KubeletHasNoDiskPressure",
            "message": "kubelet has no disk pressure",
            "lastHeartbeatTime": heartbeat,
            "lastTransitionTime": created,
        },
        {
            "type": "PIDPressure",
            "status": "False",
            "reason": "KubeletHasSufficientPID",
            "message": "kubelet has sufficient PID available",
            "lastHeartbeatTime": heartbeat,
            "lastTransitionTime": created,
        },
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": heartbeat,
            "lastTransitionTime": ready_at,
        },
    ]
    managed = [
        {
            "manager": mgr,
            "operation": op,
            "apiVersion": "v1",
            "time": created if i < 2 else heartbeat,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
            **({"subresource": "status"} if "f:status" in fields else {}),
        }
        for i, (mgr, op, fields) in enumerate(shape["managed"])
    ]
    spec: dict[str, Any] = {"providerID": provider_id}
    if inst.gpus:
        spec["taints"] = [_GPU_TAINT]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(
            g,
            name,
            created,
            labels=labels,
            annotations={
                "alpha.kubernetes.io/provided-node-ip": ip,
                "karpenter.k8s.aws/ec2nodeclass-hash": claim["metadata"]["annotations"][
                    "karpenter.k8s.aws/ec2nodeclass-hash"
                ],
                "karpenter.k8s.aws/ec2nodeclass-hash-version": "v4",
                "karpenter.sh/nodepool-hash": claim["metadata"]["annotations"]["karpenter.sh/nodepool-hash"],
                "karpenter.sh/nodepool-hash-version": "v3",
                "nfd.node.kubernetes.io/feature-labels": shape["nfd_names"],
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
            finalizers=["karpenter.sh/termination"],
            ownerReferences=[
                {
                    "apiVersion": "karpenter.sh/v1",
                    "kind": "NodeClaim",
                    "name": claim["metadata"]["name"],
                    "uid": claim["metadata"]["uid"],
                    "blockOwnerDeletion": True,
                }
            ],
            managedFields=managed,
        ),
        "spec": spec,
        "status": {
            "capacity": shape["capacity"],
            "allocatable": shape["allocatable"],
            "conditions": conds,
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "InternalDNS", "address": name},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": g.uid(),
                "containerRuntimeVersion": "containerd://1.7.27",
                "kernelVersion": "6.1.141-155.222.amzn2023.x86_64",
                "kubeProxyVersion": "",
                "kubeletVersion": "v1.32.3-eks-473151a",
                "machineID": g.hexid(32),
                "operatingSystem": "linux",
                "osImage": "Amazon Linux 2023.7.20250623",
                "systemUUID": "ec2" + g.uid()[3:],
            },
            "images": shape["images"],
        },
    }
