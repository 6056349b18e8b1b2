"""A large, realistic EKS GPU cluster for load and speed testing: `generate("nodes=5000,gpu-nodes=2000,...")`.

The shape follows what such clusters serve: Karpenter-launched GPU nodes carrying
Karpenter, NFD and GPU Feature Discovery labels, a node image list and managed
fields (about 16 KB each), CPU nodes, the NodePools/NodeClaims behind them, the GPU
Operator's DaemonSets with a device-plugin pod per GPU node, and workload pods of
about 6 KB (managed fields about 30 % of that) owned by ReplicaSets and Jobs, mostly
Running, a few GPU pods Pending with the scheduler's FailedScheduling event.

Output is deterministic for a given spec, seed and `now`. To stay fast and small at
100,000 pods, objects SHARE read-only sub-structures (pod templates, label maps,
managed fields, image lists): copy an object before changing anything below its
metadata. The store never changes stored objects in place.
"""

from __future__ import annotations

import datetime as _dt
import gc
import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gputui.errors import InputError

SPEC_FORM = "nodes=N,gpu-nodes=M,pods=P,events=E"
_DEFAULTS = {"nodes": 20, "gpu-nodes": 8, "pods": 200, "events": 100}

REGION = "us-west-2"
ZONES = (("us-west-2a", "usw2-az2"), ("us-west-2b", "usw2-az1"), ("us-west-2c", "usw2-az3"))
GPU_OPERATOR_NS = "gpu-operator"
DRIVER_VERSION = "570.172.08"
CUDA_VERSION = "12.8"


@dataclass(frozen=True)
class SyntheticSpec:
    nodes: int
    gpu_nodes: int
    pods: int
    events: int


def parse_spec(spec: str) -> SyntheticSpec:
    """ "nodes=5000,gpu-nodes=2000,pods=100000,events=20000"; missing keys take small defaults."""
    values = dict(_DEFAULTS)
    for part in (p.strip() for p in (spec or "").split(",")):
        if not part:
            continue
        key, eq, raw = part.partition("=")
        key = key.strip()
        if not eq or key not in values:
            raise InputError(
                f"bad synthetic cluster spec {spec!r}: cannot read {part!r}",
                hint=f"use {SPEC_FORM}, e.g. nodes=50,gpu-nodes=20,pods=1000,events=500",
            )
        try:
            values[key] = int(raw.strip())
        except ValueError:
            raise InputError(
                f"bad synthetic cluster spec {spec!r}: {key} must be a whole number, got {raw!r}",
                hint=f"use {SPEC_FORM}",
            ) from None
        if values[key] < 0:
            raise InputError(f"bad synthetic cluster spec {spec!r}: {key} cannot be negative", hint=f"use {SPEC_FORM}")
    if values["gpu-nodes"] > values["nodes"]:
        raise InputError(
            f"bad synthetic cluster spec {spec!r}: gpu-nodes ({values['gpu-nodes']}) is more than "
            f"nodes ({values['nodes']})",
            hint=f"nodes counts all nodes, GPU nodes included: use {SPEC_FORM} with M <= N",
        )
    return SyntheticSpec(values["nodes"], values["gpu-nodes"], values["pods"], values["events"])


# -- instance facts (allocatable as Karpenter computes it for EKS AL2023) ---------------


@dataclass(frozen=True)
class _Instance:
    name: str
    cpu: int
    memory_mib: int
    alloc_cpu: str
    alloc_memory: str
    pods: int
    gpus: int = 0
    gpu_name: str = ""  # Karpenter's instance-gpu-name
    gpu_product: str = ""  # GFD's nvidia.com/gpu.product
    gpu_family: str = ""
    gpu_memory: int = 0  # MiB as GFD reports it
    compute: tuple[int, int] = (0, 0)
    cpu_vendor: str = "intel"
    weight: int = 1


GPU_INSTANCES = (
    _Instance(
        "g5.xlarge", 4, 16384, "3920m", "14162Mi", 58, 1, "a10g", "NVIDIA-A10G", "ampere", 23028, (8, 6), "amd", 30
    ),
    _Instance(
        "g5.12xlarge",
        48,
        196608,
        "47810m",
        "173400Mi",
        737,
        4,
        "a10g",
        "NVIDIA-A10G",
        "ampere",
        23028,
        (8, 6),
        "amd",
        10,
    ),
    _Instance(
        "g6.xlarge", 4, 16384, "3920m", "14162Mi", 58, 1, "l4", "NVIDIA-L4", "ada-lovelace", 23034, (8, 9), "amd", 25
    ),
    _Instance(
        "g6e.2xlarge",
        8,
        65536,
        "7910m",
        "59627Mi",
        58,
        1,
        "l40s",
        "NVIDIA-L40S",
        "ada-lovelace",
        46068,
        (8, 9),
        "amd",
        15,
    ),
    _Instance(
        "p4d.24xlarge",
        96,
        1179648,
        "95690m",
        "1082712Mi",
        737,
        8,
        "a100",
        "NVIDIA-A100-SXM4-40GB",
        "ampere",
        40960,
        (8, 0),
        "intel",
        5,
    ),
    _Instance(
        "p5.48xlarge",
        192,
        2097152,
        "191450m",
        "1938410Mi",
        100,
        8,
        "h100",
        "NVIDIA-H100-80GB-HBM3",
        "hopper",
        81559,
        (9, 0),
        "amd",
        3,
    ),
)
CPU_INSTANCES = (
    _Instance("m6i.2xlarge", 8, 32768, "7910m", "29317Mi", 58, weight=30),
    _Instance("m6i.4xlarge", 16, 65536, "15890m", "57691Mi", 234, weight=30),
    _Instance("c6i.4xlarge", 16, 32768, "15890m", "27896Mi", 234, weight=20),
    _Instance("r6i.2xlarge", 8, 65536, "7910m", "59627Mi", 58, weight=20),
)

# NFD reports only the CPUID flags that are not baseline x86-64.
_NFD_CPU_FLAGS = (
    "ADX",
    "AESNI",
    "AVX",
    "AVX2",
    "AVX512BW",
    "AVX512CD",
    "AVX512DQ",
    "AVX512F",
    "AVX512VL",
    "AVX512VNNI",
    "FMA3",
    "GFNI",
    "HYPERVISOR",
    "IBPB",
    "SHA",
    "STIBP",
    "VAES",
    "VPCLMULQDQ",
    "XSAVEC",
    "XSAVES",
)
_NODE_IMAGES = (
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni", "v1.19.2-eksbuild.1", 57_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init", "v1.19.2-eksbuild.1", 61_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent", "v1.1.6-eksbuild.1", 34_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy", "v1.32.0-minimal-eksbuild.2", 37_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause", "3.10", 299_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-ebs-csi-driver", "v1.38.1", 83_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/csi-node-driver-registrar", "v2.12.0-eks-1-32-3", 16_000_000),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/livenessprobe", "v2.14.0-eks-1-32-3", 15_000_000),
    ("registry.k8s.io/nfd/node-feature-discovery", "v0.17.2", 72_000_000),
    ("quay.io/prometheus/node-exporter", "v1.8.2", 12_000_000),
)
_GPU_IMAGES = (
    ("nvcr.io/nvidia/k8s-device-plugin", "v0.17.1", 143_000_000),
    ("nvcr.io/nvidia/k8s/dcgm-exporter", "4.2.3-4.1.1-ubuntu22.04", 412_000_000),
    ("nvcr.io/nvidia/cloud-native/gpu-operator-validator", "v25.3.0", 252_000_000),
    ("nvcr.io/nvidia/cuda", "12.8.1-base-ubi9", 104_000_000),
)


_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for generated names


class _Gen:
    def __init__(self, spec: SyntheticSpec, now: _dt.datetime, seed: int):
        self.spec = spec
        self.now = now
        self.rng = random.Random(seed)
        self.out: list[dict[str, Any]] = []
        self.nodes: list[tuple[str, _Instance, str, str]] = []  # (name, instance, created, zone)
        self.claims: list[tuple[str, str, str]] = []  # (name, uid, created)
        self.ip_serial = 0
        self.pools: dict[str, dict[str, Any]] = {}
        # GPU nodes with free GPUs: [name, free]; CPU node names
        self.gpu_slots: list[list[Any]] = []
        self.cpu_nodes: list[str] = []
        self.running: list[Any] = []  # _PodRef of every Running workload pod, for events
        self.pending: list[Any] = []  # and of every Pending one

    # -- small helpers ---------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ts(self, seconds_ago: float) -> str:
        return (self.now - _dt.timedelta(seconds=int(seconds_ago))).strftime("%Y-%m-%dT%H:%M:%SZ")

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choices(_SUFFIX_ALPHABET, k=n))

    def hexid(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def next_ip(self) -> str:
        self.ip_serial += 1
        s = self.ip_serial
        return f"10.{(s >> 16) % 256 + 16}.{(s >> 8) % 256}.{s % 256}"

    def pick(self, table: tuple[_Instance, ...]) -> _Instance:
        return self.rng.choices(table, weights=[t.weight for t in table])[0]


def generate(
    spec: str, *, now: _dt.datetime | None = None, seed: int = 7, include_crds: bool = True
) -> list[dict[str, Any]]:
    """Objects of a synthetic cluster, CRDs and namespaces first, ready for Store.bulk_load."""
    parsed = parse_spec(spec)
    now = (now or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc).replace(microsecond=0)
    g = _Gen(parsed, now, seed)
    # Millions of small acyclic containers: the cyclic collector would only rescan them.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if include_crds:
            g.out.extend(_compact_crds(g.ts(90 * 86400)))
        _scaffolding(g)
        _nodes(g)
        pending = _pods(g)
        _events(g, pending)
    finally:
        if gc_was_enabled:
            gc.enable()
    return g.out


def _compact_crds(created: str) -> list[dict[str, Any]]:
    import yaml

    from gputui.sim.loader import prepare_objects

    root = Path(__file__).resolve().parent / "crds"
    docs = []
    for path in sorted((root / "karpenter" / "v1").glob("*.yaml")) + sorted((root / "gpu-operator").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc["metadata"]["creationTimestamp"] = created
        docs.append(doc)
    return prepare_objects(docs, label="compact CRDs")


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
    out = [
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
    env = [
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
        ds = {
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


# -- events ------------------------------------------------------------------------------------


def _events(g: _Gen, pending: list[_PodRef]) -> None:
    budget = g.spec.events
    node_uids = (
        {o["metadata"]["name"]: o["metadata"]["uid"] for o in g.out[-3 * len(g.nodes) - 1 :] if o.get("kind") == "Node"}
        if g.nodes
        else {}
    )
    serial = 0

    def add(
        ns: str,
        io: dict[str, Any],
        reason: str,
        message: str,
        when: str,
        *,
        type_: str = "Normal",
        component: str = "kubelet",
        host: str = "",
        count: int = 1,
        first: str | None = None,
        event_time: bool = False,
    ) -> None:
        nonlocal serial
        serial += 1
        ev: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{io['name']}.{g.hexid(16)}",
                "namespace": ns,
                "uid": g.uid(),
                "creationTimestamp": first or when,
            },
            "involvedObject": io,
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": component, **({"host": host} if host else {})},
            "reportingComponent": component,
            "reportingInstance": host,
        }
        if event_time:  # written through events.k8s.io, as the scheduler does
            ev.update(
                eventTime=when.replace("Z", ".000000Z"),
                action="Binding",
                firstTimestamp=None,
                lastTimestamp=None,
                reportingInstance=f"{component}-{g.hexid(8)}",
            )
        else:
            ev.update(firstTimestamp=first or when, lastTimestamp=when, count=count)
        g.out.append(ev)

    def pod_ref(p: _PodRef, field: str | None = None) -> dict[str, Any]:
        ref = {"kind": "Pod", "namespace": p.ns, "name": p.name, "uid": p.uid, "apiVersion": "v1"}
        if field:
            ref["fieldPath"] = field
        return ref

    for p in pending[:budget]:
        add(
            p.ns,
            pod_ref(p),
            "FailedScheduling",
            p.message,
            g.ts(g.rng.uniform(5, 120)),
            type_="Warning",
            component="default-scheduler",
            count=g.rng.randint(5, 80),
            first=p.created,
        )
    left = budget - min(budget, len(pending))
    running, nodes, claims = g.running, g.nodes, g.claims
    for _ in range(left):
        roll = g.rng.random()
        if running and (roll < 0.6 or not nodes):
            p = g.rng.choice(running)
            what = g.rng.random()
            field = "spec.containers{main}"
            if what < 0.2:
                add(
                    p.ns,
                    pod_ref(p),
                    "Scheduled",
                    f"Successfully assigned {p.ns}/{p.name} to {p.node}",
                    p.created,
                    component="default-scheduler",
                    event_time=True,
                )
            elif what < 0.4:
                add(
                    p.ns,
                    pod_ref(p, field),
                    "Pulled",
                    f'Container image "{p.image}" already present on machine',
                    p.created,
                    host=p.node or "",
                )
            elif what < 0.6:
                add(p.ns, pod_ref(p, field), "Created", "Created container: main", p.created, host=p.node or "")
            elif what < 0.85:
                add(p.ns, pod_ref(p, field), "Started", "Started container main", p.created, host=p.node or "")
            else:
                add(
                    p.ns,
                    pod_ref(p, field),
                    "Unhealthy",
                    "Readiness probe failed: HTTP probe failed with statuscode: 503",
                    g.ts(g.rng.uniform(30, 3000)),
                    type_="Warning",
                    host=p.node or "",
                    count=g.rng.randint(1, 12),
                )
        elif nodes and (roll < 0.8 or not claims):
            name, _inst, created, _zone = g.rng.choice(nodes)
            io = {"kind": "Node", "name": name, "uid": node_uids.get(name, name), "apiVersion": "v1"}
            what = g.rng.random()
            if what < 0.3:
                add("default", io, "Starting", "Starting kubelet.", created, host=name)
            elif what < 0.6:
                add(
                    "default",
                    io,
                    "RegisteredNode",
                    f"Node {name} event: Registered Node {name} in Controller",
                    created,
                    component="node-controller",
                )
            else:
                add("default", io, "NodeReady", f"Node {name} status is now: NodeReady", created, host=name)
        elif claims or not g.pending:
            if not claims:
                break
            name, uid, created = g.rng.choice(claims)
            io = {"kind": "NodeClaim", "name": name, "uid": uid, "apiVersion": "karpenter.sh/v1"}
            cond = g.rng.choice(("Launched", "Registered", "Initialized", "Ready"))
            add(
                "default",
                io,
                cond,
                f"Status condition transitioned, Type: {cond}, Status: Unknown -> True, Reason: {cond}",
                created,
                component="karpenter",
            )
        else:  # an empty cluster: the scheduler keeps retrying
            p = g.rng.choice(g.pending)
            add(
                p.ns,
                pod_ref(p),
                "FailedScheduling",
                p.message or _NO_NODES,
                g.ts(g.rng.uniform(5, 600)),
                type_="Warning",
                component="default-scheduler",
                count=g.rng.randint(2, 30),
                first=p.created,
            )
