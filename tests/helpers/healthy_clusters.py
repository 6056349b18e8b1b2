"""A seeded generator of healthy GPU clusters, as plain Kubernetes objects.

`generate(seed)` builds the objects a `kubectl get -o yaml` dump of a healthy cluster would hold,
varied over what real clusters vary in: GPU families (T4, A10G, L4, L40S, A100 whole or MIG in the
single or mixed strategy, H100, H200), Neuron and AMD pools beside them, the node image (AL2023 and
Bottlerocket with the driver pre-installed, Ubuntu with the operator's driver container), GPU
Operator and Karpenter API versions (v1beta1 and v1), spot and on-demand, time-sliced GPUs,
scale-to-zero pools, and in-between states inside their windows (a node 60 s old not advertising
GPUs yet, a NodeClaim launched 2 min ago and not registered, a pod Pending nominated to it, a node
Karpenter is deleting, an operand DaemonSet mid rolling update, Completed validator pods).

`snapshot(cluster)` turns the objects into the ClusterSnapshot offline diagnosis judges
(`gputui diagnose --from`): the reference time is the newest timestamp in the objects.

`generate(seed, past={STATE})` pushes one in-between state past its window, for the tests that
assert the right check then fires.

The built-in healthy scenario (gputui/sim/scenarios/base.yaml) is the frame: its system nodes,
CPU pool, kube-system and operator objects stay; its GPU pools, nodes, NodeClaims and pods are
replaced by generated ones.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass, field
from typing import Any

import msgspec

from checks import instances

NOW = dt.datetime(2026, 11, 30, 1, 29, 58, tzinfo=dt.timezone.utc)
OPERATOR_NS = "gpu-operator"

GPU_FAMILIES = {
    "t4": ["g4dn.xlarge", "g4dn.2xlarge", "g4dn.12xlarge"],
    "a10g": ["g5.xlarge", "g5.2xlarge", "g5.12xlarge", "g5.48xlarge"],
    "l4": ["g6.xlarge", "g6.4xlarge", "g6.12xlarge"],
    "l40s": ["g6e.xlarge", "g6e.12xlarge", "g6e.48xlarge"],
    "a100": ["p4d.24xlarge", "p4de.24xlarge"],
    "h100": ["p5.48xlarge", "p5.4xlarge"],
    "h200": ["p5e.48xlarge", "p5en.48xlarge"],
}
NEURON_TYPES = ["inf2.xlarge", "inf2.24xlarge", "trn1.2xlarge", "trn1.32xlarge"]
AMD_TYPES = {"g4ad.xlarge": (1, 4, 16), "g4ad.8xlarge": (2, 32, 128)}  # (GPUs, vCPU, GiB); not in the catalogue
AMIS = {
    "al2023": ("al2023@v20250915", "Amazon Linux 2023.8.20250915", "containerd://1.7.27", True),
    "bottlerocket": (
        "bottlerocket@v1.47.0",
        "Bottlerocket OS 1.47.0 (aws-k8s-1.32-nvidia)",
        "containerd://1.7.27+bottlerocket",
        True,
    ),
    "ubuntu": ("", "Ubuntu 22.04.5 LTS", "containerd://1.7.27", False),
}
OPERATOR_VERSIONS = ["v24.9.2", "v25.3.0", "v25.3.4"]
KARPENTER_APIS = ["karpenter.sh/v1beta1", "karpenter.sh/v1"]
OPERAND_DAEMONSETS = {
    "driver": "nvidia-driver-daemonset",
    "toolkit": "nvidia-container-toolkit-daemonset",
    "devicePlugin": "nvidia-device-plugin-daemonset",
}
MIG_MANAGER = "nvidia-mig-manager"
MIG_PROFILES = {"a100": ("1g.5gb", 7), "h100": ("1g.10gb", 7), "h200": ("1g.18gb", 7)}

# In-between states, each with the age that keeps it inside its window and one past it.
STATES = {
    "node-no-gpus-yet": (60, 30 * 60),  # node registered, device plugin not advertising yet
    "nodeclaim-not-registered": (120, 20 * 60),  # launched, node not joined yet
    "pod-nominated": (120, 20 * 60),  # GPU pod Pending, nominated to the launching NodeClaim
    "node-deleting": (60, None),  # Karpenter is draining and deleting a node
    "operand-rolling-update": (90, 15 * 60),  # an operand DaemonSet part way through a rolling update
    "validators-completed": (600, None),  # the operator's validator pods Completed
}
PASTABLE = [s for s, (_, past) in STATES.items() if past is not None]


@dataclass
class Pool:
    name: str
    kind: str  # "nvidia", "neuron" or "amd"
    family: str  # GPU name for nvidia ("a100"), "neuron", "amd"
    instance_types: list[str]
    capacity_type: str  # "spot" or "on-demand"
    nodes: int  # 0: scaled to zero
    mig: str = ""  # "", "single" or "mixed" (A100/H100/H200 only)
    time_slicing: int = 0  # replicas per GPU; 0: not shared
    training: bool = False
    # How the NodePool picks its instances: instance-type, family, gpu-name or category (+ GPU count).
    selector: str = "instance-type"
    taint_value: str = "true"  # "" for a key-only taint (nvidia.com/gpu:NoSchedule)
    protection: str = ""  # training pools: "pod" (do-not-disrupt on the pods) or "budget" (the NodePool never disrupts)


@dataclass
class Variation:
    seed: int
    karpenter_api: str
    operator_version: str
    ami: str
    mig_strategy: str  # the ClusterPolicy's mig.strategy
    # Operands the node image ships, switched off in the ClusterPolicy: AL2023's NVIDIA AMI has the
    # driver (and the toolkit), Bottlerocket's NVIDIA variant the driver, toolkit (and device plugin).
    image_operands: list[str] = field(default_factory=list)
    pools: list[Pool] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    past: frozenset[str] = frozenset()

    def describe(self) -> str:
        pools = "; ".join(
            f"{p.name}[{p.kind}/{p.family} {','.join(p.instance_types)} {p.capacity_type} x{p.nodes}"
            + (f" mig={p.mig}" if p.mig else "")
            + (f" ts={p.time_slicing}" if p.time_slicing else "")
            + (f" training({p.protection})" if p.training else "")
            + f" by {p.selector}"
            + ("" if p.taint_value else " key-only-taint")
            + "]"
            for p in self.pools
        )
        past = f" past={sorted(self.past)}" if self.past else ""
        return (
            f"seed={self.seed} api={self.karpenter_api} operator={self.operator_version} ami={self.ami} "
            f"mig-strategy={self.mig_strategy} image-operands={self.image_operands} states={self.states}{past} pools: {pools}"
        )


@dataclass
class Cluster:
    variation: Variation
    objects: list[dict[str, Any]]


def _clone(obj: Any) -> Any:
    """A deep copy of plain JSON data (several times faster than copy.deepcopy)."""
    return msgspec.json.decode(msgspec.json.encode(obj))


def ts(seconds_ago: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.cache
def _base() -> tuple[dict[str, Any], ...]:
    from gputui.sim.loader import load_objects

    return tuple(load_objects(["healthy"], shift_time=False))


def _owner(obj: dict[str, Any]) -> str:
    refs = obj["metadata"].get("ownerReferences") or []
    return refs[0]["name"] if refs else ""


def _taint(key: str, value: str) -> dict[str, str]:
    return {"key": key, "value": value, "effect": "NoSchedule"} if value else {"key": key, "effect": "NoSchedule"}


def _gpu_requests(pod: dict[str, Any]) -> bool:
    for c in pod.get("spec", {}).get("containers", []):
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            if any(k.startswith("nvidia.com/") for k in (res.get(part) or {})):
                return True
    return False


def variation(seed: int, past: frozenset[str] = frozenset()) -> Variation:
    rnd = random.Random(seed)
    v = Variation(
        seed=seed,
        karpenter_api=rnd.choice(KARPENTER_APIS),
        operator_version=rnd.choice(OPERATOR_VERSIONS),
        ami=rnd.choice(list(AMIS)),
        mig_strategy=rnd.choice(["single", "mixed"]),
    )
    for i in range(rnd.randint(1, 3)):
        family = rnd.choice(list(GPU_FAMILIES))
        types = rnd.sample(GPU_FAMILIES[family], rnd.randint(1, min(2, len(GPU_FAMILIES[family]))))
        mig = ""
        if family in MIG_PROFILES and rnd.random() < 0.5:
            mig = v.mig_strategy
            types = [t for t in types if instances.INSTANCE_TYPES[t].gpu_count == 8] or [GPU_FAMILIES[family][0]]
        training = family in ("a100", "h100", "h200") and rnd.random() < 0.6
        v.pools.append(
            Pool(
                name=f"gpu-{family}-{i}",
                kind="nvidia",
                family=family,
                instance_types=types,
                capacity_type="on-demand" if training else rnd.choice(["spot", "on-demand"]),
                nodes=rnd.choice([0, 1, 1, 2, 3]),
                mig=mig,
                time_slicing=rnd.choice([0, 0, 2, 4]) if not mig and not training else 0,
                training=training,
                protection=rnd.choice(["pod", "budget"]) if training else "",
            )
        )
    for p in v.pools:
        p.selector = rnd.choice(["instance-type", "family", "gpu-name", "category"])
        p.taint_value = rnd.choice(["true", ""])
    if rnd.random() < 0.4:
        v.pools.append(
            Pool(
                "neuron",
                "neuron",
                "neuron",
                [rnd.choice(NEURON_TYPES)],
                rnd.choice(["spot", "on-demand"]),
                rnd.randint(0, 2),
            )
        )
    if rnd.random() < 0.3:
        v.pools.append(Pool("amd", "amd", "amd", [rnd.choice(list(AMD_TYPES))], "on-demand", rnd.randint(0, 2)))
    if v.ami == "al2023":
        v.image_operands = ["driver"] + (["toolkit"] if rnd.random() < 0.5 else [])
    elif v.ami == "bottlerocket":
        v.image_operands = ["driver", "toolkit"] + (["devicePlugin"] if rnd.random() < 0.5 else [])
    v.states = sorted(s for s in STATES if rnd.random() < 0.35)
    if past:
        v.states = sorted(set(v.states) | set(past))
        v.past = frozenset(past)
        # Past states need a pool with a node to act on.
        if not any(p.kind == "nvidia" and p.nodes for p in v.pools):
            v.pools[0].nodes = 1
    return v


def first_nvidia_pool(v: Variation) -> Pool:
    """The pool the generator's in-between states act on."""
    nv = [p for p in v.pools if p.kind == "nvidia"]
    return next((p for p in nv if p.nodes), nv[0])


def generate(seed: int, past: frozenset[str] | set[str] = frozenset()) -> Cluster:
    v = variation(seed, frozenset(past))
    return Cluster(v, _Builder(v).build())


def snapshot(cluster: Cluster):
    """The snapshot `gputui diagnose --from` builds from these objects."""
    from gputui.kube.snapshot_source import snapshot_from_files

    objects = cluster.objects
    return snapshot_from_files([f"generated-{cluster.variation.seed}.yaml"], read=lambda _paths: objects)


class _Builder:
    def __init__(self, v: Variation) -> None:
        self.v = v
        self.rnd = random.Random(v.seed * 7919 + 1)
        self.out: list[dict[str, Any]] = []
        self.ip = 0
        self.operand_pods: dict[str, list[dict[str, Any]]] = {}  # DaemonSet name -> pods
        self.mig_manager = False

    # -- frame ---------------------------------------------------------------

    def build(self) -> list[dict[str, Any]]:
        base = _clone(list(_base()))
        gpu_nodes = {
            o["metadata"]["name"]
            for o in base
            if o["kind"] == "Node" and "nvidia.com/gpu" in (o.get("status", {}).get("capacity") or {})
        }
        gpu_pools = {"gpu-inference", "gpu-training"}
        self.template_node = next(o for o in base if o["kind"] == "Node" and o["metadata"]["name"] in gpu_nodes)
        tname = self.template_node["metadata"]["name"]
        self.template_claim = next(
            o for o in base if o["kind"] == "NodeClaim" and o.get("status", {}).get("nodeName") == tname
        )
        self.template_pool = next(
            o for o in base if o["kind"] == "NodePool" and o["metadata"]["name"] == "gpu-inference"
        )
        self.template_operands = [
            o
            for o in base
            if o["kind"] == "Pod"
            and o["spec"].get("nodeName") == tname
            and o["metadata"].get("namespace") == OPERATOR_NS
        ]
        self.template_system = [
            o
            for o in base
            if o["kind"] == "Pod"
            and o["spec"].get("nodeName") == tname
            and o["metadata"].get("namespace") == "kube-system"
        ]
        self.template_workload = next(
            o for o in base if o["kind"] == "Pod" and o["spec"].get("nodeName") == tname and _gpu_requests(o)
        )
        for o in base:
            kind, md = o["kind"], o["metadata"]
            if kind == "Node" and md["name"] in gpu_nodes:
                continue
            if kind == "NodeClaim" and (o.get("status", {}).get("nodeName") in gpu_nodes):
                continue
            if kind == "NodePool" and md["name"] in gpu_pools:
                continue
            if kind == "Pod" and (o["spec"].get("nodeName") in gpu_nodes or _gpu_requests(o)):
                continue
            if kind in ("Deployment", "ReplicaSet", "Job", "PodDisruptionBudget") and md.get("namespace") not in (
                "kube-system",
                OPERATOR_NS,
                "karpenter",
            ):
                continue  # the base's GPU workloads; generated pods stand alone
            if kind == "Event":
                continue  # the base's events name its own GPU nodes and pods
            self.out.append(o)
        self._cluster_policy()
        self._nodeclass()
        for pool in self.v.pools:
            self._pool(pool)
        self._states()
        self._daemonset_status()
        if self.v.karpenter_api.endswith("v1beta1"):
            self._to_v1beta1()
        return self.out

    def _cluster_policy(self) -> None:
        cp = next(o for o in self.out if o["kind"] == "ClusterPolicy")
        cp["spec"]["mig"] = {"strategy": self.v.mig_strategy}
        cp["spec"]["operator"]["version"] = self.v.operator_version if "version" in cp["spec"]["operator"] else None
        if cp["spec"]["operator"]["version"] is None:
            del cp["spec"]["operator"]["version"]
        cp.setdefault("metadata", {}).setdefault("labels", {})["app.kubernetes.io/version"] = self.v.operator_version
        drop = set()
        for operand in self.v.image_operands:
            cp["spec"][operand]["enabled"] = False
            drop.add(OPERAND_DAEMONSETS[operand])
        self.out = [o for o in self.out if not (o["kind"] == "DaemonSet" and o["metadata"]["name"] in drop)]
        self.template_operands = [p for p in self.template_operands if _owner(p) not in drop]
        if any(p.mig for p in self.v.pools):
            # The MIG manager runs on MIG-capable GPUs (the operator labels only those for it).
            cp["spec"]["migManager"]["enabled"] = True
            dp = next(
                o
                for o in _base()
                if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "nvidia-device-plugin-daemonset"
            )
            ds = _clone(dp)
            ds["metadata"]["name"] = MIG_MANAGER
            ds["metadata"]["labels"]["app"] = MIG_MANAGER
            ds["metadata"]["uid"] = "00000000-0000-4000-e000-000000000001"
            tpl = ds["spec"]["template"]
            tpl["metadata"].setdefault("labels", {})["app"] = MIG_MANAGER
            ds["spec"]["selector"] = {"matchLabels": {"app": MIG_MANAGER}}
            tpl["spec"]["nodeSelector"] = {"nvidia.com/gpu.deploy.mig-manager": "true"}
            for c in tpl["spec"].get("containers", []):
                c["name"] = "nvidia-mig-manager"
                c["image"] = "nvcr.io/nvidia/cloud-native/k8s-mig-manager:v0.12.1-ubuntu20.04"
            self.out.append(ds)
            self.mig_manager = True
        if any(p.time_slicing for p in self.v.pools):
            cp["spec"]["devicePlugin"]["config"] = {"name": "time-slicing-config", "default": "any"}

    def _nodeclass(self) -> None:
        alias = AMIS[self.v.ami][0]
        for o in self.out:
            if o["kind"] == "EC2NodeClass" and o["metadata"]["name"] == "gpu" and alias:
                o["spec"]["amiSelectorTerms"] = [{"alias": alias}]
                o["spec"].pop("amiFamily", None)

    # -- pools and nodes -----------------------------------------------------

    def _pool(self, pool: Pool) -> None:
        np = _clone(self.template_pool)
        md = np["metadata"]
        md["name"] = pool.name
        md["uid"] = f"00000000-0000-4000-8000-{self.rnd.getrandbits(48):012x}"
        spec = np["spec"]["template"]["spec"]
        families = sorted(
            {
                instances.INSTANCE_TYPES[t].family if t in instances.INSTANCE_TYPES else "g4ad"
                for t in pool.instance_types
            }
        )
        reqs = [
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [pool.capacity_type]},
        ]
        taint_key = {"nvidia": "nvidia.com/gpu", "neuron": "aws.amazon.com/neuron", "amd": "amd.com/gpu"}[pool.kind]
        if pool.kind != "nvidia" or pool.selector == "instance-type":
            reqs.append(
                {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": sorted(pool.instance_types)}
            )
        elif pool.selector == "family":
            reqs.append({"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": families})
        elif pool.selector == "gpu-name":
            reqs.append({"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": [pool.family]})
            reqs.append({"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": families})
        else:
            categories = sorted({instances.INSTANCE_TYPES[t].category for t in pool.instance_types})
            counts = sorted({instances.INSTANCE_TYPES[t].gpu_count for t in pool.instance_types})
            reqs.append({"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": categories})
            reqs.append(
                {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt", "values": [str(counts[0] - 1)]}
            )
            reqs.append({"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": [pool.family]})
        if pool.kind == "nvidia":
            reqs.append({"key": "karpenter.k8s.aws/instance-gpu-manufacturer", "operator": "In", "values": ["nvidia"]})
        spec["requirements"] = reqs
        spec["taints"] = [_taint(taint_key, pool.taint_value)]
        np["spec"]["template"]["metadata"] = {"labels": {"workload-type": "training" if pool.training else pool.name}}
        resource = {"nvidia": "nvidia.com/gpu", "neuron": "aws.amazon.com/neuron", "amd": "amd.com/gpu"}[pool.kind]
        np["spec"]["limits"] = {"cpu": "2000", "memory": "16000Gi", resource: "256"}
        if pool.training and pool.protection == "budget":
            # No voluntary disruption at all, no expiry: the training pods need no annotation.
            np["spec"]["disruption"] = {
                "consolidationPolicy": "WhenEmpty",
                "consolidateAfter": "Never",
                "budgets": [{"nodes": "0"}],
            }
            spec["expireAfter"] = "Never"
        elif pool.training:
            # Consolidation allowed: the do-not-disrupt annotation on the training pods protects them.
            np["spec"]["disruption"] = {
                "consolidationPolicy": "WhenEmptyOrUnderutilized",
                "consolidateAfter": "30m",
                "budgets": [{"nodes": "10%"}],
            }
        np["status"]["nodes"] = pool.nodes
        self.out.append(np)
        for _ in range(pool.nodes):
            self._node(pool, self.rnd.choice(pool.instance_types), age=self.rnd.randint(3600, 6 * 86400))

    def _next_ip(self) -> str:
        self.ip += 1
        return f"10.0.{100 + self.ip // 250}.{self.ip % 250 + 2}"

    def _node(self, pool: Pool, itype: str, age: float, gpus_advertised: bool = True) -> dict[str, Any]:
        ip = self._next_ip()
        name = f"ip-{ip.replace('.', '-')}.us-west-2.compute.internal"
        claim_name = f"{pool.name}-{self.rnd.getrandbits(20):05x}"[: len(pool.name) + 6]
        node = _clone(self.template_node)
        md = node["metadata"]
        md["name"] = name
        md["uid"] = f"00000000-0000-4000-9000-{self.rnd.getrandbits(48):012x}"
        md["creationTimestamp"] = ts(age)
        md["annotations"]["alpha.kubernetes.io/provided-node-ip"] = ip
        md["ownerReferences"] = [dict(md["ownerReferences"][0], name=claim_name)]
        labels = {
            k: v
            for k, v in md["labels"].items()
            if not k.startswith(("nvidia.com/", "karpenter.k8s.aws/instance-", "feature.node.kubernetes.io/pci"))
        }
        it = instances.INSTANCE_TYPES.get(itype)
        if it is not None:
            labels.update(instances.karpenter_labels(it))
            cap = {k: str(v) for k, v in it.capacity.items()}
            alloc = {k: str(v) for k, v in it.allocatable.items()}
            cap["memory"] = f"{int(it.capacity['memory']) // (1024 * 1024)}Mi"
            alloc["memory"] = (
                f"{int(it.allocatable['memory']) // (1024 * 1024)}Mi" if "memory" in it.allocatable else cap["memory"]
            )
        else:  # AMD: g4ad
            count, vcpu, gib = AMD_TYPES[itype]
            labels.update(
                {
                    "karpenter.k8s.aws/instance-family": "g4ad",
                    "karpenter.k8s.aws/instance-size": itype.split(".")[1],
                    "karpenter.k8s.aws/instance-category": "g",
                    "karpenter.k8s.aws/instance-cpu": str(vcpu),
                    "karpenter.k8s.aws/instance-gpu-count": str(count),
                    "karpenter.k8s.aws/instance-gpu-manufacturer": "amd",
                    "karpenter.k8s.aws/instance-gpu-name": "radeon-pro-v520",
                    "node.kubernetes.io/instance-type": itype,
                    "beta.kubernetes.io/instance-type": itype,
                }
            )
            cap = {"cpu": str(vcpu), "memory": f"{gib * 1024 - 800}Mi", "pods": "29", "amd.com/gpu": str(count)}
            alloc = dict(cap, cpu=f"{vcpu * 1000 - 80}m", memory=f"{gib * 1024 - 1800}Mi")
        labels["beta.kubernetes.io/instance-type"] = itype
        labels["kubernetes.io/hostname"] = name
        labels["karpenter.sh/capacity-type"] = pool.capacity_type
        labels["karpenter.sh/nodepool"] = pool.name
        labels["workload-type"] = "training" if pool.training else pool.name
        for k in list(cap):
            if k.startswith("ephemeral") or k.startswith("vpc."):
                del cap[k]
        cap.setdefault("ephemeral-storage", "200Gi")
        alloc.setdefault("ephemeral-storage", "179Gi")
        taint_key = {"nvidia": "nvidia.com/gpu", "neuron": "aws.amazon.com/neuron", "amd": "amd.com/gpu"}[pool.kind]
        node["spec"]["taints"] = [_taint(taint_key, pool.taint_value)]
        node["spec"]["providerID"] = f"aws:///us-west-2a/i-0{self.rnd.getrandbits(64):016x}"
        if pool.kind == "nvidia":
            labels.update(self._gfd_labels(it, pool))
            resources = self._gpu_resources(it, pool)
            cap.pop("nvidia.com/gpu", None)
            alloc.pop("nvidia.com/gpu", None)
            if gpus_advertised:
                cap.update(resources)
                alloc.update(resources)
            labels["feature.node.kubernetes.io/pci-10de.present"] = "true"
        elif pool.kind == "neuron":
            labels["feature.node.kubernetes.io/pci-1d0f.present"] = "true"
        else:
            labels["feature.node.kubernetes.io/pci-1002.present"] = "true"
        if pool.kind != "nvidia" or not gpus_advertised:
            for k in [k for k in labels if k.startswith("nvidia.com/")]:
                del labels[k]
        if "driver" in self.v.image_operands:
            md["annotations"].pop("sim.gputui.dev/driver-root", None)
        md["labels"] = labels
        node["status"]["capacity"] = cap
        node["status"]["allocatable"] = alloc
        node["status"]["addresses"] = [
            {"type": "InternalIP", "address": ip},
            {"type": "InternalDNS", "address": name},
            {"type": "Hostname", "address": name},
        ]
        node["status"]["nodeInfo"]["osImage"] = AMIS[self.v.ami][1]
        node["status"]["nodeInfo"]["containerRuntimeVersion"] = AMIS[self.v.ami][2]
        for c in node["status"]["conditions"]:
            c["lastHeartbeatTime"] = ts(self.rnd.randint(0, 40))
            c["lastTransitionTime"] = ts(max(age - 50, 0))
        node["status"].pop("images", None)
        node["status"].pop("volumesAttached", None)
        node["status"].pop("volumesInUse", None)
        self.out.append(node)
        self._claim(pool, itype, claim_name, name, node, age)
        if pool.kind == "nvidia":
            self._operand_pods(node, age, gpus_advertised)
        self._system_pods(node, age)
        if gpus_advertised and age > 600:
            self._workload(node, pool, it, age)
        return node

    def _gfd_labels(self, it: instances.InstanceType | None, pool: Pool) -> dict[str, str]:
        assert it is not None
        product = it.gpu_model.replace(" ", "-")
        labels = {
            "nvidia.com/gpu.present": "true",
            "nvidia.com/gpu.product": product,
            "nvidia.com/gpu.count": str(it.gpu_count),
            "nvidia.com/gpu.memory": str(it.gpu_memory_mib),
            "nvidia.com/gpu.machine": it.name,
            "nvidia.com/gpu.family": {
                "t4": "turing",
                "h100": "hopper",
                "h200": "hopper",
                "l4": "ada-lovelace",
                "l40s": "ada-lovelace",
            }.get(it.gpu_name, "ampere"),
            "nvidia.com/cuda.driver-version.full": "570.172.08",
            "nvidia.com/cuda.driver-version.major": "570",
            "nvidia.com/cuda.runtime-version.full": "12.8",
            "nvidia.com/mig.capable": "true" if it.gpu_name in MIG_PROFILES else "false",
            "nvidia.com/mig.strategy": self.v.mig_strategy,
            "nvidia.com/gpu.replicas": str(pool.time_slicing or 1),
            "nvidia.com/gpu.sharing-strategy": "time-slicing" if pool.time_slicing else "none",
            "nvidia.com/gpu.mode": "compute",
            "nvidia.com/gpu-driver-upgrade-state": "upgrade-done",
        }
        for operand in (
            "container-toolkit",
            "dcgm",
            "dcgm-exporter",
            "device-plugin",
            "driver",
            "gpu-feature-discovery",
            "mig-manager",
            "node-status-exporter",
            "operands",
            "operator-validator",
        ):
            labels[f"nvidia.com/gpu.deploy.{operand}"] = "true"
        if it.gpu_name not in MIG_PROFILES:
            labels["nvidia.com/gpu.deploy.mig-manager"] = "false"
        if "driver" in self.v.image_operands:
            labels["nvidia.com/gpu.deploy.driver"] = "pre-installed"
        if pool.mig:
            profile, _ = MIG_PROFILES[pool.family]
            labels["nvidia.com/mig.config"] = f"all-{profile}"
            labels["nvidia.com/mig.config.state"] = "success"
        if pool.time_slicing:
            labels["nvidia.com/device-plugin.config"] = "time-slicing"
            labels["nvidia.com/gpu.product"] = product + "-SHARED"
        return labels

    def _gpu_resources(self, it: instances.InstanceType | None, pool: Pool) -> dict[str, str]:
        assert it is not None
        if pool.mig:
            profile, per_gpu = MIG_PROFILES[pool.family]
            n = str(it.gpu_count * per_gpu)
            if pool.mig == "single":
                return {"nvidia.com/gpu": n}
            return {f"nvidia.com/mig-{profile}": n}
        return {"nvidia.com/gpu": str(it.gpu_count * (pool.time_slicing or 1))}

    def _claim(
        self, pool: Pool, itype: str, claim_name: str, node_name: str | None, node: dict | None, age: float
    ) -> dict:
        claim = _clone(self.template_claim)
        md = claim["metadata"]
        md["name"] = claim_name
        md["uid"] = f"00000000-0000-4000-a000-{self.rnd.getrandbits(48):012x}"
        md["creationTimestamp"] = ts(age + 45)
        md["generateName"] = f"{pool.name}-"
        md["ownerReferences"] = [dict(md["ownerReferences"][0], name=pool.name)]
        labels = dict(node["metadata"]["labels"]) if node else {}
        md["labels"] = {
            k: v
            for k, v in labels.items()
            if k.startswith(
                (
                    "karpenter.",
                    "node.kubernetes.io/instance-type",
                    "topology.",
                    "kubernetes.io/arch",
                    "kubernetes.io/os",
                )
            )
            or k == "workload-type"
        }
        md["labels"]["karpenter.sh/nodepool"] = pool.name
        md["labels"]["node.kubernetes.io/instance-type"] = itype
        md["labels"]["karpenter.sh/capacity-type"] = pool.capacity_type
        md["labels"].pop("karpenter.sh/initialized", None)
        md["labels"].pop("karpenter.sh/registered", None)
        claim["spec"]["requirements"] = [
            {"key": "karpenter.sh/nodepool", "operator": "In", "values": [pool.name]},
            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [itype]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [pool.capacity_type]},
        ]
        claim["spec"]["taints"] = _clone(node["spec"]["taints"]) if node else []
        resource = {"nvidia": "nvidia.com/gpu", "neuron": "aws.amazon.com/neuron", "amd": "amd.com/gpu"}[pool.kind]
        claim["spec"]["resources"] = {"requests": {"cpu": "1", "memory": "1Gi", resource: "1", "pods": "8"}}
        st = claim["status"]
        if node is not None:
            st["capacity"] = dict(node["status"]["capacity"])
            st["allocatable"] = dict(node["status"]["allocatable"])
            st["nodeName"] = node_name
            st["providerID"] = node["spec"]["providerID"]
            st["conditions"] = [
                {
                    "type": "Launched",
                    "status": "True",
                    "reason": "Launched",
                    "message": "",
                    "lastTransitionTime": ts(age + 40),
                },
                {
                    "type": "Registered",
                    "status": "True",
                    "reason": "Registered",
                    "message": "",
                    "lastTransitionTime": ts(age - 5),
                },
                {
                    "type": "Initialized",
                    "status": "True",
                    "reason": "Initialized",
                    "message": "",
                    "lastTransitionTime": ts(max(age - 90, 0)),
                },
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Ready",
                    "message": "",
                    "lastTransitionTime": ts(max(age - 90, 0)),
                },
            ]
            st["lastPodEventTime"] = ts(max(age - 120, 0))
        self.out.append(claim)
        return claim

    def _operand_pods(self, node: dict, age: float, ready: bool) -> None:
        templates = list(self.template_operands)
        if self.mig_manager and node["metadata"]["labels"].get("nvidia.com/mig.capable") == "true":
            dp = next(p for p in _base() if p["kind"] == "Pod" and _owner(p) == "nvidia-device-plugin-daemonset")
            mm = _clone(dp)
            mm["metadata"]["name"] = f"{MIG_MANAGER}-xxxxx"
            mm["metadata"]["labels"]["app"] = MIG_MANAGER
            mm["metadata"]["ownerReferences"][0].update(name=MIG_MANAGER, uid="00000000-0000-4000-e000-000000000001")
            for c in mm["spec"]["containers"]:
                c["name"] = "nvidia-mig-manager"
            for cs in mm["status"].get("containerStatuses", []):
                cs["name"] = "nvidia-mig-manager"
            templates.append(mm)
        for tpl in templates:
            if tpl["status"].get("phase") == "Succeeded" and not ("validators-completed" in self.v.states or age > 600):
                continue
            pod = self._clone_pod(tpl, node, age - 10)
            if not tpl["metadata"].get("ownerReferences"):
                pod["metadata"]["name"] = (
                    tpl["metadata"]["name"].rsplit("-", 1)[0] + f"-{self.rnd.getrandbits(24):06x}"[:6]
                )
            else:
                owner = tpl["metadata"]["ownerReferences"][0]["name"]
                self.operand_pods.setdefault(owner, []).append(pod)
            self.out.append(pod)

    def _system_pods(self, node: dict, age: float) -> None:
        for tpl in self.template_system:
            self.out.append(self._clone_pod(tpl, node, age - 5))

    def _clone_pod(self, tpl: dict, node: dict, age: float) -> dict:
        pod = _clone(tpl)
        md = pod["metadata"]
        md["name"] = md["name"].rsplit("-", 1)[0] + "-" + f"{self.rnd.getrandbits(25):05x}"[:5]
        md["uid"] = f"00000000-0000-4000-b000-{self.rnd.getrandbits(48):012x}"
        md["creationTimestamp"] = ts(age)
        pod["spec"]["nodeName"] = node["metadata"]["name"]
        aff = (
            pod["spec"]
            .get("affinity", {})
            .get("nodeAffinity", {})
            .get("requiredDuringSchedulingIgnoredDuringExecution")
        )
        if aff:
            for term in aff.get("nodeSelectorTerms", []):
                for f in term.get("matchFields", []):
                    if f.get("key") == "metadata.name":
                        f["values"] = [node["metadata"]["name"]]
        st = pod["status"]
        st["hostIP"] = node["status"]["addresses"][0]["address"]
        st["startTime"] = ts(age)
        for c in st.get("conditions", []):
            c["lastTransitionTime"] = ts(max(age - 20, 0))
        for cs in st.get("containerStatuses", []) + st.get("initContainerStatuses", []):
            for state in cs.get("state", {}).values():
                if isinstance(state, dict):
                    if "startedAt" in state:
                        state["startedAt"] = ts(max(age - 15, 0))
                    if "finishedAt" in state:
                        state["finishedAt"] = ts(max(age - 30, 0))
            cs["restartCount"] = 0
            cs.pop("lastState", None)
        return pod

    def _workload(self, node: dict, pool: Pool, it: instances.InstanceType | None, age: float) -> None:
        """The pool's workload on a node: Running pods asking for what the node advertises (a
        share of a time-sliced GPU, a MIG slice, Neuron devices, AMD GPUs), and now and then a
        Completed GPU Job pod."""
        if pool.kind == "nvidia":
            ((rname, count),) = self._gpu_resources(it, pool).items()
            per_pod = 1 if not pool.training else (it.gpu_count if it and not pool.mig else 1)
            toleration = "nvidia.com/gpu"
        else:
            rname = "aws.amazon.com/neuron" if pool.kind == "neuron" else "amd.com/gpu"
            count = node["status"]["allocatable"].get(rname, "1")
            per_pod, toleration = 1, rname
        pods = min(int(count) // per_pod, pool.time_slicing or 1 if pool.kind == "nvidia" else 1, 4)
        for i in range(max(pods, 1)):
            self._workload_pod(node, pool, rname, per_pod, toleration, age - 300 - i)
        if pool.kind == "nvidia" and self.rnd.random() < 0.3:
            done = self._workload_pod(node, pool, rname, 1, toleration, age - 200)
            done["metadata"]["name"] = f"{pool.name}-eval-{self.rnd.getrandbits(24):06x}-{self.rnd.getrandbits(20):05x}"
            done["metadata"]["ownerReferences"] = [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": f"{pool.name}-eval",
                    "uid": "00000000-0000-4000-d000-000000000001",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
            done["status"]["phase"] = "Succeeded"
            for c in done["status"].get("conditions", []):
                if c["type"] in ("Ready", "ContainersReady"):
                    c["status"], c["reason"] = "False", "PodCompleted"
            for cs in done["status"].get("containerStatuses", []):
                cs["ready"], cs["started"] = False, False
                cs["state"] = {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": ts(max(age - 300, 0)),
                        "finishedAt": ts(max(age - 900, 0)),
                    }
                }

    def _workload_pod(self, node: dict, pool: Pool, rname: str, count: int, toleration: str, age: float) -> dict:
        pod = self._clone_pod(self.template_workload, node, age)
        md = pod["metadata"]
        md["namespace"] = "ml-serving" if not pool.training else "ml-training"
        md["name"] = f"{pool.name}-worker-{self.rnd.getrandbits(24):06x}"
        md.pop("ownerReferences", None)
        md.setdefault("annotations", {})
        if pool.training:
            job = f"{pool.name}-train"
            md["ownerReferences"] = [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": job,
                    "uid": "00000000-0000-4000-d000-000000000002",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
            md.setdefault("labels", {})["batch.kubernetes.io/job-name"] = job
            if pool.protection == "pod":
                md["annotations"]["karpenter.sh/do-not-disrupt"] = "true"
        for c in pod["spec"]["containers"]:
            res = c.setdefault("resources", {})
            for part in ("requests", "limits"):
                r = {k: v for k, v in (res.get(part) or {}).items() if not k.startswith("nvidia.com/")}
                r[rname] = str(count)
                res[part] = r
        sel = pod["spec"].setdefault("nodeSelector", {})
        sel.clear()
        sel["karpenter.sh/nodepool"] = pool.name
        pod["spec"]["tolerations"] = [{"key": toleration, "operator": "Exists", "effect": "NoSchedule"}]
        if pool.kind != "nvidia":
            pod["spec"].pop("runtimeClassName", None)
        self.out.append(pod)
        return pod

    # -- in-between states ---------------------------------------------------

    def _age(self, state: str) -> float:
        inside, past = STATES[state]
        return past if state in self.v.past and past is not None else inside

    def _states(self) -> None:
        nv = [p for p in self.v.pools if p.kind == "nvidia"]
        pool = next((p for p in nv if p.nodes), nv[0])
        itype = pool.instance_types[0]
        if "node-no-gpus-yet" in self.v.states:
            self._node(pool, itype, age=self._age("node-no-gpus-yet"), gpus_advertised=False)
        if "nodeclaim-not-registered" in self.v.states or "pod-nominated" in self.v.states:
            age = max(
                self._age("nodeclaim-not-registered") if "nodeclaim-not-registered" in self.v.states else 0,
                self._age("pod-nominated") if "pod-nominated" in self.v.states else 0,
            )
            claim = self._claim(
                pool, itype, f"{pool.name}-{self.rnd.getrandbits(20):05x}"[: len(pool.name) + 6], None, None, age - 45
            )
            claim["status"] = {
                "conditions": [
                    {
                        "type": "Launched",
                        "status": "True",
                        "reason": "Launched",
                        "message": "",
                        "lastTransitionTime": ts(age - 5),
                    },
                    {
                        "type": "Registered",
                        "status": "Unknown",
                        "reason": "AwaitingReconciliation",
                        "message": "object is awaiting reconciliation",
                        "lastTransitionTime": ts(age),
                    },
                    {
                        "type": "Initialized",
                        "status": "Unknown",
                        "reason": "AwaitingReconciliation",
                        "message": "object is awaiting reconciliation",
                        "lastTransitionTime": ts(age),
                    },
                    {
                        "type": "Ready",
                        "status": "Unknown",
                        "reason": "AwaitingReconciliation",
                        "message": "object is awaiting reconciliation",
                        "lastTransitionTime": ts(age),
                    },
                ],
                "providerID": f"aws:///us-west-2a/i-0{self.rnd.getrandbits(64):016x}",
                "imageID": "ami-0c5b3e1f8a27d9461",
                "capacity": {k: str(v) for k, v in instances.INSTANCE_TYPES[itype].capacity.items()},
            }
            claim["metadata"]["labels"]["node.kubernetes.io/instance-type"] = itype
            if "pod-nominated" in self.v.states:
                self._pending_pod(pool, claim, age - 3)
        if "node-deleting" in self.v.states and pool.nodes:
            node = next(
                o
                for o in self.out
                if o["kind"] == "Node" and o["metadata"]["labels"].get("karpenter.sh/nodepool") == pool.name
            )
            node["metadata"]["deletionTimestamp"] = ts(self._age("node-deleting"))
            node["spec"]["unschedulable"] = True
            node["spec"]["taints"].append(
                {"key": "karpenter.sh/disrupted", "effect": "NoSchedule", "timeAdded": ts(self._age("node-deleting"))}
            )
            claim = next(
                o
                for o in self.out
                if o["kind"] == "NodeClaim" and o["status"].get("nodeName") == node["metadata"]["name"]
            )
            claim["metadata"]["deletionTimestamp"] = ts(self._age("node-deleting"))
            claim["status"]["conditions"].append(
                {
                    "type": "Drifted",
                    "status": "True",
                    "reason": "NodePoolDrifted",
                    "message": "",
                    "lastTransitionTime": ts(self._age("node-deleting") + 30),
                }
            )
            for kind, obj in (("Node", node), ("NodeClaim", claim)):
                self.out.append(self._karpenter_event(kind, obj["metadata"]["name"], f"Disrupting {kind}: Drifted"))
            # Its workload pods are being evicted: drop them (a drained node).
            self.out = [
                o
                for o in self.out
                if not (
                    o["kind"] == "Pod" and o["spec"].get("nodeName") == node["metadata"]["name"] and _gpu_requests(o)
                )
            ]

    def _karpenter_event(self, kind: str, name: str, message: str) -> dict:
        when = ts(self._age("node-deleting") + 5)
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{name}.{self.rnd.getrandbits(32):08x}",
                "namespace": "default",
                "creationTimestamp": when,
            },
            "involvedObject": {"kind": kind, "name": name},
            "reason": "DisruptionTerminating",
            "message": message,
            "source": {"component": "karpenter"},
            "type": "Normal",
            "count": 1,
            "firstTimestamp": when,
            "lastTimestamp": when,
        }

    def _pending_pod(self, pool: Pool, claim: dict, age: float) -> None:
        pod = _clone(self.template_workload)
        md = pod["metadata"]
        md["namespace"] = "ml-serving"
        md["name"] = f"{pool.name}-pending-{self.rnd.getrandbits(24):06x}"
        md["uid"] = f"00000000-0000-4000-c000-{self.rnd.getrandbits(48):012x}"
        md["creationTimestamp"] = ts(age + 2)
        md.pop("ownerReferences", None)
        pod["spec"].pop("nodeName", None)
        pod["spec"]["nodeSelector"] = {"karpenter.sh/nodepool": pool.name}
        pod["spec"]["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        # What the pool's nodes advertise: a MIG slice in the mixed strategy.
        ((rname, _),) = self._gpu_resources(instances.INSTANCE_TYPES[pool.instance_types[0]], pool).items()
        for c in pod["spec"]["containers"]:
            res = c.setdefault("resources", {})
            for part in ("requests", "limits"):
                r = {k: v for k, v in (res.get(part) or {}).items() if not k.startswith("nvidia.com/")}
                r[rname] = "1"
                res[part] = r
        pod["status"] = {
            "phase": "Pending",
            "qosClass": "Burstable",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/8 nodes are available: 8 Insufficient nvidia.com/gpu. preemption: 0/8 nodes are available: 8 No preemption victims found for incoming pod.",
                    "lastTransitionTime": ts(age),
                }
            ],
        }
        self.out.append(pod)
        self.out.append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{md['name']}.nominated",
                    "namespace": "ml-serving",
                    "creationTimestamp": ts(age - 2),
                },
                "involvedObject": {"kind": "Pod", "namespace": "ml-serving", "name": md["name"], "uid": md["uid"]},
                "reason": "Nominated",
                "message": f"Pod should schedule on: nodeclaim/{claim['metadata']['name']}",
                "source": {"component": "karpenter"},
                "type": "Normal",
                "count": 1,
                "firstTimestamp": ts(age - 2),
                "lastTimestamp": ts(age - 2),
            }
        )

    def _daemonset_status(self) -> None:
        rolling = "operand-rolling-update" in self.v.states
        for ds in self.out:
            if ds["kind"] != "DaemonSet" or ds["metadata"].get("namespace") != OPERATOR_NS:
                continue
            pods = self.operand_pods.get(ds["metadata"]["name"], [])
            # Every pod of it counts: the NFD worker runs on the frame's CPU and system nodes too.
            n = sum(1 for o in self.out if o["kind"] == "Pod" and _owner(o) == ds["metadata"]["name"])
            st = ds["status"]
            st.update(
                desiredNumberScheduled=n,
                currentNumberScheduled=n,
                numberReady=n,
                numberAvailable=n,
                updatedNumberScheduled=n,
                numberMisscheduled=0,
            )
            st.pop("numberUnavailable", None)
            if rolling and ds["metadata"]["name"] == "nvidia-dcgm-exporter" and n >= 1:
                ds["metadata"]["generation"] = ds["metadata"].get("generation", 1) + 1
                st["observedGeneration"] = ds["metadata"]["generation"]
                st["updatedNumberScheduled"] = max(n - 1, 0) if n > 1 else 1
                # maxUnavailable 1: the one pod being replaced is not ready yet.
                st["numberReady"] = n - 1
                st["numberAvailable"] = n - 1
                st["numberUnavailable"] = 1
                pod = pods[0]
                pod["status"]["phase"] = "Running"
                for c in pod["status"].get("conditions", []):
                    if c["type"] in ("Ready", "ContainersReady"):
                        c["status"] = "False"
                        c["lastTransitionTime"] = ts(self._age("operand-rolling-update"))
                pod["metadata"]["creationTimestamp"] = ts(self._age("operand-rolling-update"))
                pod["status"]["startTime"] = ts(self._age("operand-rolling-update") - 1)
                for cs in pod["status"].get("containerStatuses", []):
                    cs["ready"] = False
                    cs["started"] = False
                    cs["state"] = {"waiting": {"reason": "ContainerCreating"}}

    # -- Karpenter v1beta1 ---------------------------------------------------

    def _to_v1beta1(self) -> None:
        for o in self.out:
            if o["kind"] in ("NodePool", "NodeClaim"):
                o["apiVersion"] = "karpenter.sh/v1beta1"
                spec = o["spec"]["template"]["spec"] if o["kind"] == "NodePool" else o["spec"]
                ref = spec.get("nodeClassRef") or {}
                spec["nodeClassRef"] = {
                    "apiVersion": "karpenter.k8s.aws/v1beta1",
                    "kind": ref.get("kind", "EC2NodeClass"),
                    "name": ref.get("name", "default"),
                }
                expire = spec.pop("expireAfter", None)
                if o["kind"] == "NodePool":
                    d = o["spec"].setdefault("disruption", {})
                    if expire:
                        d["expireAfter"] = expire
                    if d.get("consolidationPolicy") == "WhenEmptyOrUnderutilized":
                        d["consolidationPolicy"] = "WhenUnderutilized"
                        d.pop("consolidateAfter", None)
                for ref in o["metadata"].get("ownerReferences", []):
                    if ref.get("apiVersion", "").startswith("karpenter.sh/"):
                        ref["apiVersion"] = "karpenter.sh/v1beta1"
            elif o["kind"] == "EC2NodeClass":
                o["apiVersion"] = "karpenter.k8s.aws/v1beta1"
                terms = o["spec"].get("amiSelectorTerms") or []
                alias = next((t["alias"] for t in terms if "alias" in t), "al2023@latest")
                o["spec"]["amiFamily"] = {"al2023": "AL2023", "bottlerocket": "Bottlerocket", "al2": "AL2"}.get(
                    alias.split("@")[0], "Custom"
                )
                if o["spec"]["amiFamily"] == "Custom":
                    o["spec"]["amiSelectorTerms"] = [{"id": "ami-04e1a9c7f3b28d650"}]
                else:
                    o["spec"].pop("amiSelectorTerms", None)
            elif o["kind"] == "Node":
                for ref in o["metadata"].get("ownerReferences", []):
                    if ref.get("apiVersion", "").startswith("karpenter.sh/"):
                        ref["apiVersion"] = "karpenter.sh/v1beta1"
