"""Which nodes to ask, how, and what their answers mean next to what each node should have.

`plan_runs` turns nodes into debug pods (one per node, mode chosen and explained);
`observe` pairs each finished run with the node's expected and allocatable GPU counts;
`fleet_findings` feeds those to the debug checks (checks.debug, GPU701..GPU707).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from checks.debug import run_debug_checks
from checks.gpu import GPU_RESOURCE, LABEL_NODEPOOL
from checks.gpu_nodes import expected_gpus_of
from checks.model import Finding
from gputui.debugpod import spec as podspec
from gputui.debugpod.model import SmiReport
from gputui.debugpod.runner import NodeRun, PodProblem, read_json
from gputui.errors import GputuiError, NotFoundError
from gputui.kube.errors import KubeApiError, TransportTimeout

PREFERRED_NAMESPACE = "gputui-debug"
FALLBACK_NAMESPACE = "default"


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def expected_gpus(node: Mapping[str, Any]) -> tuple[int | None, str]:
    """(GPU count the node should have, where that comes from): checks.gpu_nodes' answer."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    capacity = (node.get("status") or {}).get("capacity") or {}
    e = expected_gpus_of(labels, capacity)
    if e is not None and e.count:
        return e.count, e.source
    return None, "nothing on the node says how many GPUs it has"


def allocatable_gpus(node: Mapping[str, Any]) -> int | None:
    return _int(((node.get("status") or {}).get("allocatable") or {}).get(GPU_RESOURCE))


def is_gpu_node(node: Mapping[str, Any]) -> bool:
    n, _ = expected_gpus(node)
    return bool(n) or bool(allocatable_gpus(node))


# -- reading the cluster ------------------------------------------------------------------------------


def select_nodes(
    kube: Any, names: Iterable[str] = (), *, all_gpu: bool = False, nodepool: str | None = None
) -> list[dict]:
    names = list(names)
    if names:
        out = []
        for name in names:
            try:
                out.append(read_json(kube, f"/api/v1/nodes/{quote(name, safe='')}"))
            except KubeApiError as e:
                if e.status == 404:
                    raise NotFoundError(
                        f"node {name} not found",
                        hint="list the GPU nodes with `kubectl get nodes -l "
                        "karpenter.k8s.aws/instance-gpu-count` or use --all",
                    ) from None
                raise
        return out
    query = {"labelSelector": f"{LABEL_NODEPOOL}={nodepool}"} if nodepool else None
    items = (read_json(kube, "/api/v1/nodes", query) or {}).get("items") or []
    nodes = [n for n in items if is_gpu_node(n)]
    if not nodes:
        where = f"in NodePool {nodepool}" if nodepool else "in the cluster"
        raise NotFoundError(
            f"no GPU nodes {where}",
            hint="a node counts when its instance type, Karpenter/GFD labels or capacity say it has NVIDIA GPUs",
        )
    return sorted(nodes, key=lambda n: n["metadata"]["name"])


def driver_pods_by_node(kube: Any) -> tuple[dict[str, list[dict]], bool]:
    """(GPU Operator driver pods per node, whether the cluster has any)."""
    by_node: dict[str, list[dict]] = {}
    found = False
    for app in podspec.DRIVER_POD_APPS:
        try:
            items = (read_json(kube, "/api/v1/pods", {"labelSelector": f"app={app}"}) or {}).get("items") or []
        except (KubeApiError, TransportTimeout):
            continue  # no permission to list pods cluster-wide: the node labels still speak
        for p in items:
            found = True
            node = (p.get("spec") or {}).get("nodeName")
            if node:
                by_node.setdefault(node, []).append(p)
    return by_node, found


def choose_namespace(kube: Any, requested: str | None) -> tuple[str, str]:
    """(namespace for the pods, why). A dedicated `gputui-debug` namespace (labelled
    pod-security.kubernetes.io/enforce=privileged) wins when it exists; else `default`,
    which every cluster has and which carries no PodSecurity label unless someone set one."""
    if requested:
        return requested, "--namespace given"
    try:
        read_json(kube, f"/api/v1/namespaces/{PREFERRED_NAMESPACE}")
        return PREFERRED_NAMESPACE, f"namespace {PREFERRED_NAMESPACE} exists"
    except (KubeApiError, TransportTimeout):
        return FALLBACK_NAMESPACE, f"no {PREFERRED_NAMESPACE} namespace; using {FALLBACK_NAMESPACE}"


# -- planning and observing ------------------------------------------------------------------------------


@dataclass
class RunOptions:
    namespace: str
    run_id: str
    mode: str | None = None
    image: str | None = None
    image_pull_secret: str | None = None
    request_gpu: bool = False
    deadline_seconds: int = podspec.DEFAULT_DEADLINE_SECONDS
    owner: podspec.Owner = field(default_factory=podspec.Owner.current)


def plan_runs(
    nodes: Iterable[Mapping[str, Any]],
    opts: RunOptions,
    *,
    driver_pods: Mapping[str, list[dict]] | None = None,
    operator_present: bool | None = None,
) -> list[NodeRun]:
    runs = []
    for node in nodes:
        name = node["metadata"]["name"]
        choice = podspec.choose_mode(
            node, driver_pods=(driver_pods or {}).get(name, ()), operator_present=operator_present, override=opts.mode
        )
        pod = podspec.build_pod(
            name,
            namespace=opts.namespace,
            run_id=opts.run_id,
            choice=choice,
            image=opts.image,
            image_pull_secret=opts.image_pull_secret,
            request_gpu=opts.request_gpu,
            deadline_seconds=opts.deadline_seconds,
            owner=opts.owner,
        )
        driver = next(iter((driver_pods or {}).get(name, ())), None)
        driver_pod = f"{driver['metadata'].get('namespace')}/{driver['metadata']['name']}" if driver else ""
        runs.append(NodeRun(node=name, pod=pod, mode=choice.mode, mode_reason=choice.reason, driver_pod=driver_pod))
    return runs


@dataclass
class NodeObservation:
    """One node: what it should have, what nvidia-smi saw (the shape checks.debug reads)."""

    node: str
    expected_gpus: int | None
    expected_source: str
    allocatable_gpus: int | None
    mode: str = ""
    mode_reason: str = ""
    driver_pod: str | None = None
    report: SmiReport | None = None
    pod_problem: PodProblem | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def seen_gpus(self) -> int | None:
        if self.report is None or self.report.failure is not None:
            return None
        return len(self.report.gpus)

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "mode": self.mode,
            "modeReason": self.mode_reason,
            "expectedGpus": self.expected_gpus,
            "expectedSource": self.expected_source,
            "allocatableGpus": self.allocatable_gpus,
            "seenGpus": self.seen_gpus,
            "podProblem": self.pod_problem.to_json() if self.pod_problem else None,
            "nvidiaSmi": self.report.to_json() if self.report else None,
            "findings": [f.to_json() for f in self.findings],
        }


def observe(runs: Iterable[NodeRun], nodes: Iterable[Mapping[str, Any]]) -> list[NodeObservation]:
    by_name = {n["metadata"]["name"]: n for n in nodes}
    out = []
    for r in runs:
        node = by_name.get(r.node, {"metadata": {"name": r.node}})
        expected, source = expected_gpus(node)
        problem = r.pod_problem
        if problem is None and r.report is None:
            problem = PodProblem(
                "no-output",
                "the pod finished without any output",
                "the container printed nothing: check the pod's events, or try another --mode",
            )
        obs = NodeObservation(
            node=r.node,
            expected_gpus=expected,
            expected_source=source,
            allocatable_gpus=allocatable_gpus(node),
            mode=r.mode,
            mode_reason=r.mode_reason,
            driver_pod=r.driver_pod,
            report=r.report,
            pod_problem=problem,
        )
        obs.findings = run_debug_checks([obs])
        out.append(obs)
    return out


def fleet_findings(observations: Iterable[NodeObservation]) -> list[Finding]:
    findings = [f for o in observations for f in o.findings]
    findings.sort(key=lambda f: f.sort_key)
    return findings


def check_mode(mode: str | None) -> str | None:
    if mode in (None, "", "auto"):
        return None
    if mode not in podspec.MODES:
        raise GputuiError(f"unknown --mode {mode}", hint=f"use one of: auto, {', '.join(podspec.MODES)}", exit_code=2)
    return mode
