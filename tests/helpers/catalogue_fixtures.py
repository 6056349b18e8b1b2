"""For every registered check: a fixture that triggers it and one that does not.

tests/checks/test_catalogue.py runs each check on both and fails when a check has no
entry here, so a new check comes with its fixtures. A fixture is a function returning
what the check reads: a ClusterSnapshot, or for the nvidia-smi checks (scope "debug") an
observation of one node. Built-in scenarios serve most cluster checks.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import yaml

from checks.kinds import to_dict
from checks.nodepool_draft import mark_draft
from checks.snapshot import ClusterSnapshot


@dataclass(frozen=True)
class Fixture:
    failing: Callable[[], Any]
    passing: Callable[[], Any]


@functools.cache
def _scenario(name: str) -> ClusterSnapshot:
    from tests.helpers.sim import scenario_snapshot

    return scenario_snapshot(name)


def scenario(name: str) -> Callable[[], ClusterSnapshot]:
    return lambda: _scenario(name)


HEALTHY = scenario("healthy")


# -- NodePools as drafts (gputui nodepool lint / the editor) ------------------------------------

_CLUSTERPOLICY = {
    "apiVersion": "nvidia.com/v1",
    "kind": "ClusterPolicy",
    "metadata": {"name": "cluster-policy"},
    "spec": {"daemonsets": {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}},
}
_NODECLASS = {
    "apiVersion": "karpenter.k8s.aws/v1",
    "kind": "EC2NodeClass",
    "metadata": {"name": "default"},
    "spec": {"amiSelectorTerms": [{"alias": "al2023@latest"}], "role": "KarpenterNodeRole"},
}


def _pool(name: str = "gpu", **changes: Any) -> dict:
    pool = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                    "requirements": [
                        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
                        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5", "g6"]},
                    ],
                    "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
                }
            },
            "limits": {"nvidia.com/gpu": "8"},
        },
    }
    tspec = pool["spec"]["template"]["spec"]
    for key, value in changes.items():
        if key == "limits":
            pool["spec"]["limits"] = value
        else:
            tspec[key] = value
    return pool


def drafts(*pools: dict, context: tuple[dict, ...] = (_CLUSTERPOLICY, _NODECLASS)) -> Callable[[], ClusterSnapshot]:
    return lambda: ClusterSnapshot.from_manifests([mark_draft(p) for p in pools] + [copy.deepcopy(o) for o in context])


_SPOT_TRAINING = _pool(
    "gpu-training",
    requirements=[
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["p4d"]},
    ],
)
_V1BETA1 = yaml.safe_load(
    """
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: gpu}
spec:
  template:
    spec:
      nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: default}
      requirements:
      - {key: karpenter.k8s.aws/instance-family, operator: In, values: [g5]}
      taints: [{key: nvidia.com/gpu, value: "true", effect: NoSchedule}]
  limits: {nvidia.com/gpu: "8"}
"""
)


def _unfit_draft() -> ClusterSnapshot:
    """The incident's inference NodePool edited to a taint its pending pods do not tolerate."""
    from gputui.nodepool.preview import draft_snapshot

    snap = _scenario("incident")
    np = next(n for n in snap.nodepools if n.metadata.name == "gpu-inference")
    obj = dict(to_dict(np), apiVersion="karpenter.sh/v1", kind="NodePool")
    obj["spec"]["template"]["spec"]["taints"] = [
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"},
        {"key": "team", "value": "ml", "effect": "NoExecute"},
    ]
    return draft_snapshot(snap, obj)


def _healthy_pool_as_draft() -> ClusterSnapshot:
    from gputui.nodepool.preview import draft_snapshot

    snap = _scenario("healthy")
    np = snap.nodepools[0]
    return draft_snapshot(snap, dict(to_dict(np), apiVersion="karpenter.sh/v1", kind="NodePool"))


# -- nvidia-smi observations ---------------------------------------------------------------------


def observation(report: Any = None, *, expected: int = 1, alloc: int = 1, problem: Any = None) -> SimpleNamespace:
    return SimpleNamespace(
        node="gpu-1",
        expected_gpus=expected,
        expected_source="instance type g5.xlarge",
        allocatable_gpus=alloc,
        report=report,
        pod_problem=problem,
    )


def _gpus(n: int = 1, **kw: Any) -> list:
    from gputui.debugpod.model import GpuInfo

    return [GpuInfo(index=i, name="NVIDIA A10G", bus_id=f"00000000:00:{0x1B + i:02X}.0", **kw) for i in range(n)]


def smi(**kw: Any) -> Callable[[], SimpleNamespace]:
    def build() -> SimpleNamespace:
        from gputui.debugpod.model import SmiReport, XidEvent
        from gputui.debugpod.parsers.failures import recognise
        from gputui.debugpod.runner import PodProblem

        gpus, expected, alloc = kw.get("gpus", 1), kw.get("expected", 1), kw.get("alloc", 1)
        if kw.get("problem"):
            return observation(problem=PodProblem("image-pull", "ErrImagePull: not found", "pass --image"))
        if kw.get("failure"):
            return observation(SmiReport(failure=recognise(kw["failure"])))
        xids = [XidEvent(79, "0000:00:1b", "GPU has fallen off the bus.")] if kw.get("xid") else []
        report = SmiReport(gpus=_gpus(gpus, **kw.get("gpu", {})), xids=xids)
        return observation(report, expected=expected, alloc=alloc)

    return build


HEALTHY_NODE = smi()


def _idle_blocked(minutes: float = 45) -> ClusterSnapshot:
    from tests.helpers.cluster import blocked_idle_node, snapshot

    return snapshot(blocked_idle_node('Cannot disrupt Node: PDB "ml/keeper" prevents pod evictions', minutes=minutes))


def raising_check_snapshot() -> tuple[str, ClusterSnapshot]:
    """GPU901 is raised by the runner: the catalogue test registers a check that raises."""
    return ("raises", ClusterSnapshot())


FIXTURES: dict[str, Fixture] = {
    "GPU101": Fixture(scenario("device-plugin-taint"), HEALTHY),
    "GPU102": Fixture(scenario("node-initializing"), HEALTHY),
    "GPU103": Fixture(scenario("gpu-xid-unhealthy"), HEALTHY),
    "GPU104": Fixture(scenario("gpu-xid-unhealthy"), HEALTHY),
    "GPU105": Fixture(scenario("gpu-node-faults"), HEALTHY),
    "GPU201": Fixture(scenario("driver-crashloop"), HEALTHY),
    "GPU202": Fixture(scenario("driver-crashloop"), HEALTHY),
    "GPU203": Fixture(scenario("driver-crashloop"), HEALTHY),
    "GPU204": Fixture(scenario("nvidia-runtime-missing"), HEALTHY),
    "GPU205": Fixture(scenario("device-plugin-taint"), HEALTHY),
    "GPU301": Fixture(scenario("nodeclaim-launch-failed"), HEALTHY),
    "GPU302": Fixture(scenario("insufficient-capacity"), HEALTHY),
    "GPU303": Fixture(scenario("nodeclaim-not-registered"), HEALTHY),
    "GPU304": Fixture(scenario("device-plugin-taint"), HEALTHY),
    "GPU305": Fixture(lambda: _drifted(), HEALTHY),
    "GPU306": Fixture(scenario("ec2nodeclass-not-ready"), HEALTHY),
    "GPU307": Fixture(scenario("ec2nodeclass-not-ready"), HEALTHY),
    "GPU308": Fixture(scenario("nodepool-gpu-limit"), HEALTHY),
    "GPU309": Fixture(scenario("insufficient-capacity"), HEALTHY),
    "GPU401": Fixture(scenario("missing-toleration"), HEALTHY),
    "GPU402": Fixture(scenario("device-plugin-taint"), HEALTHY),
    "GPU501": Fixture(scenario("spot-training-disruption"), HEALTHY),
    "GPU502": Fixture(scenario("spot-training-disruption"), HEALTHY),
    "GPU503": Fixture(lambda: _idle_blocked(), HEALTHY),
    "GPU504": Fixture(scenario("idle-gpu-node-group"), HEALTHY),
    "GPU601": Fixture(drafts(_SPOT_TRAINING), drafts(_pool())),
    "GPU602": Fixture(drafts(_pool(taints=[])), drafts(_pool())),
    "GPU603": Fixture(drafts(_pool(limits={"cpu": "1000"})), drafts(_pool())),
    "GPU604": Fixture(
        drafts(
            _pool(
                requirements=[
                    {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g6e"]},
                    {"key": "karpenter.k8s.aws/instance-size", "operator": "In", "values": ["large"]},
                ]
            )
        ),
        drafts(_pool()),
    ),
    "GPU605": Fixture(
        drafts(_pool(taints=[{"key": "example.com/gpu", "value": "true", "effect": "NoSchedule"}])), drafts(_pool())
    ),
    "GPU606": Fixture(_unfit_draft, _healthy_pool_as_draft),
    "GPU607": Fixture(drafts(_V1BETA1), drafts(_pool())),
    "GPU608": Fixture(
        drafts(
            _pool(requirements=[{"key": "kubernetes.io/arch", "operator": "Equals", "values": ["amd64"]}]),
        ),
        drafts(_pool()),
    ),
    "GPU609": Fixture(
        drafts(_pool(nodeClassRef={"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "missing"})),
        drafts(_pool()),
    ),
    "GPU701": Fixture(smi(problem=True), HEALTHY_NODE),
    "GPU702": Fixture(smi(failure="Failed to initialize NVML: Unknown Error"), HEALTHY_NODE),
    "GPU703": Fixture(smi(gpus=1, expected=2, alloc=1), HEALTHY_NODE),
    "GPU704": Fixture(smi(gpus=2, expected=2, alloc=1), HEALTHY_NODE),
    "GPU705": Fixture(smi(gpu={"ecc_volatile_uncorrected": 2, "ecc_aggregate_uncorrected": 5}), HEALTHY_NODE),
    "GPU706": Fixture(smi(xid=True), HEALTHY_NODE),
    "GPU707": Fixture(smi(gpu={"remapped_failure": True, "remapped_pending": True}), HEALTHY_NODE),
    "GPU708": Fixture(smi(gpu={"slowdowns": ["HW Power Brake Slowdown"], "sensor_errors": ["fan"]}), HEALTHY_NODE),
    "GPU901": Fixture(raising_check_snapshot, HEALTHY),
}


def _drifted() -> ClusterSnapshot:
    from tests.helpers.cluster import GPU_NODE_A, gpu_pod, healthy_cluster, nodeclaim, replace, snapshot, ts

    def cond(type_: str, status: str, reason: str, minutes: float) -> dict:
        return {"type": type_, "status": status, "reason": reason, "message": "", "lastTransitionTime": ts(minutes)}

    objs = replace(
        healthy_cluster(),
        "NodeClaim",
        "gpu-aaaaa",
        nodeclaim(
            "gpu-aaaaa",
            node=GPU_NODE_A,
            conditions=[
                cond("Launched", "True", "Launched", 50),
                cond("Registered", "True", "Registered", 50),
                cond("Initialized", "True", "Initialized", 50),
                cond("Drifted", "True", "AMIDrift", 3),
            ],
        ),
    )
    objs.append(gpu_pod("train-0", node=GPU_NODE_A, owner=("StatefulSet", "train")))
    return snapshot(objs)
