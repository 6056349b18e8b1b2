"""The simulator's controllers: what the GPU Operator, Karpenter and the workload controllers do
after someone changes the cluster, so that a fix walked through in the app can finish.

They only react to changes: objects loaded with a status are fixtures and stay as the scenario
wrote them until an API write touches them or something these controllers own.

* GPU Operator: a ClusterPolicy spec change re-renders the operand DaemonSets (tolerations,
  a component switched off or on); a DaemonSet whose template changed, and every node these
  controllers created, get the DaemonSet pods their nodeSelector and tolerations admit.
* Device plugin: once a device-plugin pod created here runs, its node registers nvidia.com/gpu
  (capacity from the instance catalogue) and the GPU feature discovery labels.
* Karpenter: after a NodePool spec change or a NodeClaim deletion, and for unschedulable GPU pods
  created through the API, a pending GPU pod that a NodePool can take (checks.nodepools'
  pure model: requirements, taints, limits) gets a NodeClaim: Launched, then a Node
  (Registered), then Initialized once its GPUs are registered. Instance types marked
  unavailable fail with InsufficientCapacityError and the NodeClaim is deleted. A deleted
  NodeClaim's node is drained (pods of ReplicaSets and Jobs re-created unbound) and removed.
* Deployments: a pod template change rolls out a new ReplicaSet and removes the old pods.

Delays are the injected clock's seconds (`Delays`); `Delays.fast()` keeps tests short.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from checks import instances
from checks.k8s import format_quantity, quantity_or_zero
from checks.kinds import Object, Pod, to_struct
from checks.nodepools import evaluate_nodepool
from gputui.sim.behaviour import EXIT_ANNOTATION, GPU, TickLoop, constraints_of, rfc3339
from gputui.sim.scheduler import filter_node, is_terminal, requests_of

KARPENTER = "karpenter"
OPERATOR = "gpu-operator"
FINALIZER = "karpenter.sh/termination"
LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type"
LABEL_NODEPOOL = "karpenter.sh/nodepool"
ZONES = ("us-west-2a", "us-west-2b", "us-west-2c")

# Operand DaemonSet -> the ClusterPolicy component that switches it on or off.
COMPONENTS = {
    "nvidia-driver-daemonset": "driver",
    "nvidia-container-toolkit-daemonset": "toolkit",
    "nvidia-device-plugin-daemonset": "devicePlugin",
    "gpu-feature-discovery": "gfd",
    "nvidia-dcgm-exporter": "dcgmExporter",
    "nvidia-dcgm": "dcgm",
    "nvidia-mig-manager": "migManager",
    "nvidia-node-status-exporter": "nodeStatusExporter",
}

# The tolerations the DaemonSet controller adds to every DaemonSet pod.
_DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


@dataclass(frozen=True)
class Delays:
    """Seconds between a change and each controller's reaction."""

    render: float = 1.0  # ClusterPolicy change -> operand DaemonSets re-rendered
    register_gpus: float = 1.5  # device-plugin pod running -> nvidia.com/gpu on the node
    launch: float = 1.0  # NodeClaim created -> Launched (or InsufficientCapacityError)
    join: float = 3.0  # Launched -> the node registers
    drain: float = 1.0  # NodeClaim deleted -> node drained and gone
    rollout: float = 0.5  # Deployment template changed -> new pods

    @classmethod
    def realistic(cls) -> Delays:
        """Roughly what EKS takes: a GPU node joins about a minute after its NodeClaim."""
        return cls(render=5, register_gpus=30, launch=5, join=45, drain=30, rollout=2)

    @classmethod
    def fast(cls) -> Delays:
        return cls(render=0.05, register_gpus=0.05, launch=0.05, join=0.1, drain=0.05, rollout=0.05)

    def scaled(self, factor: float) -> Delays:
        return replace(self, **{k: getattr(self, k) * factor for k in self.__dataclass_fields__})


PRESETS: dict[str, Callable[[], Delays]] = {"fast": Delays.fast, "demo": Delays, "realistic": Delays.realistic}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _suffix(*parts: Any, n: int = 5) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    h = int(hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest(), 16)
    return "".join(alphabet[(h >> (5 * i)) % len(alphabet)] for i in range(n))


def _meta(obj: Mapping[str, Any]) -> dict:
    return obj.get("metadata") or {}


def _controller_of(obj: Mapping[str, Any]) -> dict | None:
    return next((o for o in _meta(obj).get("ownerReferences") or [] if o.get("controller")), None)


def _cond(type_: str, status: str, now: float, reason: str = "", message: str = "") -> dict:
    c = {"type": type_, "status": status, "lastTransitionTime": rfc3339(now), "reason": reason or type_}
    if message:
        c["message"] = message
    return c


@dataclass
class _Claim:
    name: str
    nodepool: str
    api_version: str
    instance_types: list[str]
    pods: list[tuple[str, str]]  # (namespace, name) of the pods it was launched for
    uids: list[str]
    gpus_free: Decimal
    created: float
    state: str = "created"  # created -> launched -> registered -> initialized
    instance_type: str = ""
    node: str = ""
    capacity_type: str = "on-demand"
    zone: str = ""


class Controllers(TickLoop):
    """The GPU Operator, Karpenter, DaemonSet and Deployment controllers over `store`; `step()`
    does one pass, `start()` runs passes in a daemon thread."""

    def __init__(
        self,
        store,
        simulation=None,
        *,
        delays: Delays | None = None,
        unavailable: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
        tick_seconds: float = 0.1,
    ):
        self.store = store
        self.simulation = simulation
        self.delays = delays or Delays()
        self.unavailable = set(unavailable)
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.last_error: BaseException | None = None
        t = store.type_for
        self._pods, self._nodes, self._events = t("v1", "Pod"), t("v1", "Node"), t("v1", "Event")
        self._ds, self._deploy, self._rs = (
            t("apps/v1", "DaemonSet"),
            t("apps/v1", "Deployment"),
            t("apps/v1", "ReplicaSet"),
        )
        # _lock: one pass at a time. _notes: what store callbacks record; they run in the
        # writer's thread (the scheduler's among them) and must never wait for a pass.
        self._lock = threading.RLock()
        self._notes = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._timers: list[tuple[float, int, Callable[[float], None]]] = []
        self._seq = itertools.count()
        self._specs: dict[tuple[str, str, str], str] = {}
        self._dirty_ds: set[tuple[str, str]] = set()
        self._own_nodes: set[str] = set()
        self._own_pods: set[tuple[str, str]] = set()  # device-plugin pods created here
        self._registered: set[str] = set()
        self._rolled: set[tuple[str, str]] = set()  # Deployments rolled out here
        self._claims: dict[str, _Claim] = {}
        self._nominated: set[str] = set()  # pod uids a NodeClaim was launched for
        self._draining: set[str] = set()
        self._evicting: set[str] = set()  # pods this controller deletes itself
        self._ice_blocked: set[str] = set()  # pods whose NodeClaim found no capacity
        self._disabled_ds: dict[str, dict] = {}
        self._provision = False
        self._event_seq = 0
        self._node_info: dict = {}
        for kind_rt in self._watched_types():
            for e in store.select(kind_rt).entries:
                self._specs[self._key(kind_rt.kind, e.obj)] = self._spec_digest(kind_rt.kind, e.obj)
        for e in store.select(self._nodes).entries:
            info = (e.obj.get("status") or {}).get("nodeInfo")
            if info and ((e.obj.get("metadata") or {}).get("labels") or {}).get("nvidia.com/gpu.present"):
                self._node_info = dict(info)
        store.subscribe(self._on_change)

    # -- lifecycle --------------------------------------------------------------------

    thread_name = "sim-controllers"

    def _after(self, seconds: float, fn: Callable[[float], None]) -> None:
        with self._notes:
            heapq.heappush(self._timers, (self.clock() + seconds, next(self._seq), fn))
        self._wake.set()

    def _due(self, now: float) -> list[Callable[[float], None]]:
        with self._notes:
            out = []
            while self._timers and self._timers[0][0] <= now:
                out.append(heapq.heappop(self._timers)[2])
            return out

    # -- what changed -------------------------------------------------------------------

    def _watched_types(self) -> list:
        out = [rt for rt in (self._deploy,) if rt is not None]
        for rt in self.store.types():
            if rt.kind in ("ClusterPolicy", "NodePool"):
                out.append(rt)
        return out

    @staticmethod
    def _key(kind: str, obj: Mapping[str, Any]) -> tuple[str, str, str]:
        md = _meta(obj)
        return (kind, md.get("namespace") or "", md.get("name", ""))

    @staticmethod
    def _spec_digest(kind: str, obj: Mapping[str, Any]) -> str:
        spec = obj.get("spec") or {}
        return _digest(spec.get("template") if kind == "Deployment" else spec)

    def _on_change(self, event_type: str, rt, obj: dict) -> None:
        kind = rt.kind
        if kind in ("ClusterPolicy", "NodePool", "Deployment") and event_type != "DELETED":
            key = self._key(kind, obj)
            digest = self._spec_digest(kind, obj)
            with self._notes:
                old = self._specs.get(key)
                self._specs[key] = digest
                if old == digest:
                    return
                name = key[2]
                if kind == "ClusterPolicy":
                    self._after(self.delays.render, lambda now: self._render_operands(name, now))
                elif kind == "NodePool":
                    self._ice_blocked.clear()
                    self._provision = True
                    self._wake.set()
                elif old is not None:  # a Deployment's pod template changed
                    ns = key[1]
                    self._after(self.delays.rollout, lambda now: self._roll_out(ns, name, now))
        elif kind == "NodeClaim":
            name = _meta(obj).get("name", "")
            if (event_type == "DELETED" or _meta(obj).get("deletionTimestamp")) and name not in self._draining:
                with self._notes:
                    self._draining.add(name)
                    node = (obj.get("status") or {}).get("nodeName") or ""
                    self._after(self.delays.drain, lambda now: self._drain(name, node, now))
        elif kind == "Pod" and event_type == "DELETED":
            owner = _controller_of(obj)
            md = _meta(obj)
            node = (obj.get("spec") or {}).get("nodeName") or ""
            if owner and owner.get("kind") == "DaemonSet" and node and md.get("name") not in self._evicting:
                with self._notes:
                    ns, ds_name = md.get("namespace", ""), owner.get("name", "")
                    failing = _failing_containers(obj)
                    logs = {c: self.store.get_log(ns, md.get("name", ""), c) or "" for c in failing}
                    self._after(
                        self.delays.rollout, lambda now: self._replace_daemon_pod(ns, ds_name, node, failing, logs, now)
                    )
        elif kind == "Pod" and (_meta(obj).get("namespace"), _meta(obj).get("name")) in self._own_pods:
            self._wake.set()

    # -- one pass -----------------------------------------------------------------------

    def step(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        with self._lock:
            for fn in self._due(now):
                fn(now)
            provision, self._provision = self._provision, False
            self._provision_pods(now, everything=provision)
            self._advance_claims(now)
            self._reconcile_daemonsets(now)
            self._register_gpus(now)
            self._update_rollouts()

    # -- GPU Operator ---------------------------------------------------------------------

    def _clusterpolicy(self, name: str) -> dict | None:
        for rt in self.store.types():
            if rt.kind == "ClusterPolicy":
                try:
                    return self.store.entry(rt, None, name).obj
                except Exception:
                    return None
        return None

    def _render_operands(self, name: str, now: float) -> None:
        cp = self._clusterpolicy(name)
        if cp is None:
            return
        spec = cp.get("spec") or {}
        tolerations = list((spec.get("daemonsets") or {}).get("tolerations") or [])
        uid = _meta(cp).get("uid")
        for e in list(self.store.select(self._ds).entries):
            ds = e.obj
            if not any(o.get("kind") == "ClusterPolicy" for o in _meta(ds).get("ownerReferences") or []):
                continue
            md = _meta(ds)
            ns, ds_name = md.get("namespace", ""), md.get("name", "")
            component = COMPONENTS.get(ds_name)
            if component and (spec.get(component) or {}).get("enabled") is False:
                self._disabled_ds[ds_name] = json.loads(json.dumps(ds))
                self.store.delete(self._ds, ns, ds_name)
                continue
            template = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
            if template.get("tolerations") != tolerations:
                self.store.patch(
                    self._ds, ns, ds_name, "merge", {"spec": {"template": {"spec": {"tolerations": tolerations}}}}
                )
                self._dirty_ds.add((ns, ds_name))
        for ds_name, saved in list(self._disabled_ds.items()):
            component = COMPONENTS.get(ds_name, "")
            if (spec.get(component) or {}).get("enabled") is False:
                continue
            md = saved["metadata"]
            fresh_meta: dict[str, Any] = {
                k: md[k] for k in ("name", "namespace", "labels", "annotations", "ownerReferences") if k in md
            }
            fresh_spec: dict[str, Any] = saved.get("spec") or {}
            for o in fresh_meta.get("ownerReferences") or []:
                if o.get("kind") == "ClusterPolicy" and uid:
                    o["uid"] = uid
            fresh_spec.setdefault("template", {}).setdefault("spec", {})["tolerations"] = tolerations
            fresh = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": fresh_meta, "spec": fresh_spec}
            self.store.create(fresh)
            self._dirty_ds.add((md.get("namespace", ""), ds_name))
            del self._disabled_ds[ds_name]

    # -- DaemonSet controller -----------------------------------------------------------

    def _reconcile_daemonsets(self, now: float) -> None:
        if not self._dirty_ds and not self._own_nodes:
            return
        nodes = [e.obj for e in self.store.select(self._nodes).entries]
        all_ds = {
            (e.obj["metadata"].get("namespace", ""), e.obj["metadata"]["name"]): e.obj
            for e in self.store.select(self._ds).entries
        }
        for key in list(self._dirty_ds):
            if key not in all_ds:
                self._dirty_ds.discard(key)
        pods_by_ds: dict[tuple[str, str], list[dict]] = {}
        for e in self.store.select(self._pods).entries:
            owner = _controller_of(e.obj)
            if owner and owner.get("kind") == "DaemonSet":
                pods_by_ds.setdefault((_meta(e.obj).get("namespace", ""), owner.get("name", "")), []).append(e.obj)
        for key, ds in all_ds.items():
            dirty = key in self._dirty_ds
            targets = nodes if dirty else [n for n in nodes if _meta(n).get("name") in self._own_nodes]
            if not targets:
                continue
            pods = pods_by_ds.get(key, [])
            have = {
                (p.get("spec") or {}).get("nodeName")
                for p in pods
                if not is_terminal(p) and not _meta(p).get("deletionTimestamp")
            }
            created = False
            for node in targets:
                name = _meta(node).get("name", "")
                if name in have or _meta(node).get("deletionTimestamp") or not self._admits(ds, node):
                    continue
                self._create_daemon_pod(ds, name, now)
                created = True
            if created:
                self._dirty_ds.add(key)
            if key in self._dirty_ds:
                self._write_ds_status(ds, nodes, pods_by_ds.get(key, []))

    @staticmethod
    def _admits(ds: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
        tmpl = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
        probe = {"spec": {**tmpl, "tolerations": list(tmpl.get("tolerations") or []) + _DAEMON_TOLERATIONS}}
        reasons, _ = filter_node(probe, node, {}, {})
        return not reasons

    def _replace_daemon_pod(
        self, ns: str, ds_name: str, node: str, failing: dict[str, int], logs: dict[str, str], now: float
    ) -> None:
        """The DaemonSet controller re-creates a deleted pod on its node. A pod that was failing
        fails again the same way unless its template changed since: what broke it (the node's
        kernel, the operator's settings) is still there."""
        try:
            ds = self.store.entry(self._ds, ns, ds_name).obj
            node_obj = self.store.entry(self._nodes, None, node).obj
        except Exception:
            return
        if _meta(node_obj).get("deletionTimestamp") or not self._admits(ds, node_obj):
            return
        for e in self.store.select(self._pods, ns).entries:
            p = e.obj
            if (_controller_of(p) or {}).get("name") == ds_name and (p.get("spec") or {}).get("nodeName") == node:
                if not is_terminal(p) and not _meta(p).get("deletionTimestamp"):
                    return  # someone else already re-created it
        if (ns, ds_name) in self._dirty_ds:
            failing = {}
        name = self._create_daemon_pod(ds, node, now, failing=failing)
        for container, text in logs.items():
            if text:
                self.store.set_log(ns, name, container, text)
        self._dirty_ds.add((ns, ds_name))

    def _create_daemon_pod(
        self, ds: Mapping[str, Any], node: str, now: float, failing: Mapping[str, int] | None = None
    ) -> str:
        md = _meta(ds)
        ns, name = md.get("namespace", ""), md.get("name", "")
        template = (ds.get("spec") or {}).get("template") or {}
        spec = json.loads(json.dumps(template.get("spec") or {}))
        spec["nodeName"] = node
        spec["tolerations"] = list(spec.get("tolerations") or []) + [
            t for t in _DAEMON_TOLERATIONS if t not in (spec.get("tolerations") or [])
        ]
        pod_name = f"{name}-{_suffix(name, node, now)}"
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels["controller-revision-hash"] = _digest(template)[:10]
        labels["pod-template-generation"] = str(md.get("generation") or 1)
        self.store.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": ns,
                    "labels": labels,
                    "annotations": {
                        **((template.get("metadata") or {}).get("annotations") or {}),
                        **{EXIT_ANNOTATION + c: str(code) for c, code in (failing or {}).items()},
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "DaemonSet",
                            "name": name,
                            "uid": md.get("uid", ""),
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": spec,
            }
        )
        if "device-plugin" in name and not failing:
            self._own_pods.add((ns, pod_name))
        return pod_name

    def _write_ds_status(self, ds: Mapping[str, Any], nodes: list[dict], pods: list[dict]) -> None:
        md = _meta(ds)
        eligible = {_meta(n).get("name") for n in nodes if self._admits(ds, n)}
        live = [p for p in pods if not is_terminal(p) and (p.get("spec") or {}).get("nodeName") in eligible]
        ready = [p for p in live if _ready(p)]
        status = {
            "desiredNumberScheduled": len(eligible),
            "currentNumberScheduled": len(live),
            "updatedNumberScheduled": len(live),
            "numberReady": len(ready),
            "numberAvailable": len(ready),
            "numberMisscheduled": 0,
            "observedGeneration": md.get("generation") or 1,
        }
        unavailable = len(eligible) - len(ready)
        status["numberUnavailable"] = unavailable if unavailable > 0 else None
        current = ds.get("status") or {}
        if all(current.get(k) == v for k, v in status.items()):
            return
        self.store.patch(
            self._ds, md.get("namespace"), md.get("name"), "merge", {"status": status}, subresource="status"
        )

    # -- device plugin: GPUs registered -------------------------------------------------

    def _register_gpus(self, now: float) -> None:
        for ns, name in list(self._own_pods):
            try:
                pod = self.store.entry(self._pods, ns, name).obj
            except Exception:
                self._own_pods.discard((ns, name))
                continue
            node = (pod.get("spec") or {}).get("nodeName", "")
            if not _ready(pod) or not self._driver_stack_ready(ns, node):
                continue
            self._own_pods.discard((ns, name))
            if node and node not in self._registered:
                self._registered.add(node)
                self._after(self.delays.register_gpus, self._advertiser(node))

    def _driver_stack_ready(self, ns: str, node: str) -> bool:
        """The device plugin registers GPUs only once the driver and the container toolkit run on
        the node (the operator's validator gates it so)."""
        wanted = {"nvidia-driver-daemonset", "nvidia-container-toolkit-daemonset"}
        try:
            node_obj = self.store.entry(self._nodes, None, node).obj
        except Exception:
            return False
        for ds_name in wanted:
            try:
                ds = self.store.entry(self._ds, ns, ds_name).obj
            except Exception:
                continue  # switched off: nothing to wait for (a pre-installed driver)
            if not self._admits(ds, node_obj):
                continue
            pods = [
                e.obj
                for e in self.store.select(self._pods, ns).entries
                if (_controller_of(e.obj) or {}).get("name") == ds_name
                and (e.obj.get("spec") or {}).get("nodeName") == node
            ]
            if not any(_ready(p) for p in pods):
                return False
        return True

    def _advertiser(self, node_name: str) -> Callable[[float], None]:
        return lambda now: self._advertise_gpus(node_name, now)

    def _advertise_gpus(self, node_name: str, now: float) -> None:
        try:
            node = self.store.entry(self._nodes, None, node_name).obj
        except Exception:
            return
        labels = _meta(node).get("labels") or {}
        it = instances.get(labels.get(LABEL_INSTANCE_TYPE))
        count = it.gpu_count if it is not None and it.gpu_count else int(labels.get("nvidia.com/gpu.count") or 1)
        status = node.get("status") or {}
        capacity = dict(status.get("capacity") or {})
        allocatable = dict(status.get("allocatable") or {})
        capacity[GPU] = allocatable[GPU] = str(count)
        self.store.patch(
            self._nodes,
            None,
            node_name,
            "merge",
            {"status": {"capacity": capacity, "allocatable": allocatable}},
            subresource="status",
        )
        self.store.patch(
            self._nodes, None, node_name, "merge", {"metadata": {"labels": self._gfd_labels(it, count, now)}}
        )
        self._initialize_claim_of(node_name, now)
        self._adopt_pending()

    def _adopt_pending(self) -> None:
        """New room in the cluster: kube-scheduler tries every pending pod again, scripted ones too."""
        if self.simulation is None:
            return
        for e in self.store.select(self._pods).entries:
            p = e.obj
            if (p.get("spec") or {}).get("nodeName") or is_terminal(p) or _meta(p).get("deletionTimestamp"):
                continue
            if (p.get("status") or {}).get("phase") in (None, "Pending"):
                self.simulation.adopt(p)

    def _gfd_labels(self, it, count: int, now: float) -> dict[str, str]:
        out = {
            "nvidia.com/gpu.present": "true",
            "nvidia.com/gpu.count": str(count),
            "nvidia.com/gpu.replicas": "1",
            "nvidia.com/gpu.sharing-strategy": "none",
            "nvidia.com/gpu.mode": "compute",
            "nvidia.com/mig.strategy": "single",
            "nvidia.com/gfd.timestamp": str(int(now)),
        }
        if it is not None and it.gpu_count:
            out["nvidia.com/gpu.product"] = it.gpu_model.replace(" ", "-")
            out["nvidia.com/gpu.memory"] = str(it.gpu_memory_mib)
            out["nvidia.com/gpu.machine"] = it.name
        cp = next(
            (e.obj for rt in self.store.types() if rt.kind == "ClusterPolicy" for e in self.store.select(rt).entries),
            None,
        )
        version = str((((cp or {}).get("spec") or {}).get("driver") or {}).get("version") or "")
        parts = version.split(".")
        if len(parts) == 3:
            out["nvidia.com/cuda.driver-version.full"] = version
            out["nvidia.com/cuda.driver-version.major"], out["nvidia.com/cuda.driver-version.minor"] = parts[:2]
            out["nvidia.com/cuda.driver-version.revision"] = parts[2]
        return out

    # -- Karpenter ----------------------------------------------------------------------

    def _nodepool_rt(self, api_version: str | None = None):
        for rt in self.store.types():
            if rt.kind == "NodePool" and (api_version is None or rt.api_version() == api_version):
                return rt
        return None

    def _nodeclaim_rt(self, api_version: str):
        return self.store.type_for(api_version, "NodeClaim")

    def _pending_gpu_pods(self, everything: bool) -> list[dict]:
        out = []
        if everything:
            candidates: Iterable[dict] = (e.obj for e in self.store.select(self._pods).entries)
        else:
            sim = self.simulation
            runs = list(getattr(sim, "_runs", {}).values()) if sim is not None else []
            candidates = []
            for run in runs:
                if run.unschedulable_message and run.uid not in self._nominated:
                    try:
                        pod = self.store.entry(self._pods, run.namespace, run.name).obj
                    except Exception:
                        continue
                    if run.constraints == constraints_of(pod):  # the scheduler's verdict is about this spec
                        candidates.append(pod)
        for p in candidates:
            md = _meta(p)
            if md.get("uid") in self._nominated or md.get("uid") in self._ice_blocked or md.get("deletionTimestamp"):
                continue
            if (p.get("spec") or {}).get("nodeName") or is_terminal(p):
                continue
            if (p.get("status") or {}).get("phase") not in (None, "Pending"):
                continue
            if requests_of(p).get(GPU, Decimal(0)) <= 0:
                continue
            out.append(p)
        return out

    def _provision_pods(self, now: float, *, everything: bool) -> None:
        pending = self._pending_gpu_pods(everything)
        if not pending:
            return
        np_rt = self._nodepool_rt()
        if np_rt is None:
            return
        for pod in pending:
            md = _meta(pod)
            want = requests_of(pod).get(GPU, Decimal(0))
            # A NodeClaim already on its way with room takes the pod too.
            claim = next(
                (
                    c
                    for c in self._claims.values()
                    if c.state != "initialized" and c.gpus_free >= want and self._pool_takes(c.nodepool, pod)
                ),
                None,
            )
            if claim is not None:
                claim.gpus_free -= want
                claim.pods.append((md.get("namespace", ""), md.get("name", "")))
                claim.uids.append(md.get("uid", ""))
                self._nominated.add(md.get("uid", ""))
                continue
            self._launch_for(pod, now)

    def _pool_takes(self, pool: str, pod: dict) -> bool:
        np = self._nodepool(pool)
        return np is not None and evaluate_nodepool(to_struct(np, Object), to_struct(pod, Pod)).fits

    def _nodepool(self, name: str) -> dict | None:
        for rt in self.store.types():
            if rt.kind == "NodePool":
                try:
                    return self.store.entry(rt, None, name).obj
                except Exception:
                    continue
        return None

    def _launch_for(self, pod: dict, now: float) -> None:
        pod_struct = to_struct(pod, Pod)
        pools: list[dict] = []
        for rt in self.store.types():
            if rt.kind == "NodePool":
                pools.extend(e.obj for e in self.store.select(rt).entries)
        pools.sort(key=lambda np: (-int((np.get("spec") or {}).get("weight") or 0), _meta(np).get("name", "")))
        for np in pools:
            if _meta(np).get("deletionTimestamp"):
                continue
            verdict = evaluate_nodepool(to_struct(np, Object), pod_struct)
            if not verdict.fits or not verdict.candidate_types:
                continue
            self._create_claim(np, pod, verdict.candidate_types, now)
            return

    def _create_claim(self, np: dict, pod: dict, types: list[str], now: float) -> None:
        pool = _meta(np).get("name", "")
        api_version = np.get("apiVersion", "karpenter.sh/v1")
        rt = self._nodeclaim_rt(api_version)
        if rt is None:
            return
        md = _meta(pod)
        ordered = sorted(types, key=lambda n: getattr(instances.get(n), "on_demand_usd", 0.0) or 0.0)
        available = [n for n in ordered if n not in self.unavailable]
        it = instances.get(available[0]) if available else None
        name = f"{pool}-{_suffix(pool, md.get('uid'), now, len(self._claims))}"
        template = (np.get("spec") or {}).get("template") or {}
        tspec = template.get("spec") or {}
        requirements = [r for r in tspec.get("requirements") or [] if r.get("key") != LABEL_INSTANCE_TYPE]
        requirements.append({"key": LABEL_INSTANCE_TYPE, "operator": "In", "values": ordered})
        requests = {k: format_quantity(v, k) for k, v in requests_of(pod).items() if v > 0}
        body: dict[str, Any] = {
            "apiVersion": api_version,
            "kind": "NodeClaim",
            "metadata": {
                "name": name,
                "labels": {**((template.get("metadata") or {}).get("labels") or {}), LABEL_NODEPOOL: pool},
                "annotations": {"karpenter.sh/nodepool-hash": _digest(np.get("spec"))[:16]},
                "finalizers": [FINALIZER],
                "ownerReferences": [
                    {
                        "apiVersion": api_version,
                        "kind": "NodePool",
                        "name": pool,
                        "uid": _meta(np).get("uid", ""),
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "nodeClassRef": tspec.get("nodeClassRef") or {},
                "requirements": requirements,
                "resources": {"requests": requests},
            },
        }
        for k in ("taints", "startupTaints", "expireAfter", "terminationGracePeriod"):
            if tspec.get(k):
                body["spec"][k] = tspec[k]
        self.store.create(body)
        self._patch_claim(
            api_version, name, {"conditions": [_cond("Launched", "Unknown", now), _cond("Ready", "Unknown", now)]}
        )
        claim = _Claim(
            name=name,
            nodepool=pool,
            api_version=api_version,
            instance_types=ordered,
            pods=[(md.get("namespace", ""), md.get("name", ""))],
            uids=[md.get("uid", "")],
            gpus_free=Decimal(it.gpu_count if it else 0) - requests_of(pod).get(GPU, Decimal(0)),
            created=now,
            instance_type=it.name if it else "",
            zone=ZONES[len(self._claims) % len(ZONES)],
        )
        self._claims[name] = claim
        self._nominated.add(md.get("uid", ""))
        if it is not None:
            self._add_usage(pool, it.capacity, sign=1)
        self._event("NodeClaim", name, "", api_version, "Normal", "Launching", f"Launching NodeClaim {name}", now)
        self._event(
            "Pod",
            md.get("name", ""),
            md.get("namespace", ""),
            "v1",
            "Normal",
            "Nominated",
            f"Pod should schedule on: nodeclaim/{name}",
            now,
            uid=md.get("uid", ""),
        )

    def _add_usage(self, pool: str, capacity: Mapping[str, Decimal], *, sign: int) -> None:
        np = self._nodepool(pool)
        if np is None:
            return
        used = dict((np.get("status") or {}).get("resources") or {})
        for k, v in capacity.items():
            total = quantity_or_zero(used.get(k)) + sign * v
            used[k] = format_quantity(max(total, Decimal(0)), k)
        nodes = quantity_or_zero(used.get("nodes")) + sign
        used["nodes"] = str(max(int(nodes), 0))
        rt = self._nodepool_rt(np.get("apiVersion"))
        self.store.patch(rt, None, pool, "merge", {"status": {"resources": used}}, subresource="status")

    def _patch_claim(self, api_version: str, name: str, status: dict) -> None:
        rt = self._nodeclaim_rt(api_version)
        try:
            current = self.store.entry(rt, None, name).obj
        except Exception:
            return
        conds = {c.get("type"): c for c in (current.get("status") or {}).get("conditions") or []}
        for c in status.get("conditions") or []:
            conds[c["type"]] = c
        merged = {**status, "conditions": sorted(conds.values(), key=lambda c: c["type"])}
        self.store.patch(rt, None, name, "merge", {"status": merged}, subresource="status")

    def _advance_claims(self, now: float) -> None:
        for claim in list(self._claims.values()):
            if claim.name in self._draining:
                self._claims.pop(claim.name, None)
                continue
            if claim.state == "created" and now >= claim.created + self.delays.launch:
                if not claim.instance_type:
                    self._insufficient_capacity(claim, now)
                    continue
                claim.state = "launched"
                it = instances.get(claim.instance_type)
                self._patch_claim(
                    claim.api_version,
                    claim.name,
                    {
                        "providerID": f"aws:///{claim.zone}/i-0{_suffix(claim.name, n=16)}",
                        "imageID": "ami-0gputuisim",
                        "capacity": {k: format_quantity(v, k) for k, v in it.capacity.items()} if it else {},
                        "allocatable": {k: format_quantity(v, k) for k, v in it.allocatable.items()} if it else {},
                        "conditions": [_cond("Launched", "True", now)],
                    },
                )
                self.store.patch(
                    self._nodeclaim_rt(claim.api_version),
                    None,
                    claim.name,
                    "merge",
                    {
                        "metadata": {
                            "labels": {
                                LABEL_INSTANCE_TYPE: claim.instance_type,
                                "karpenter.sh/capacity-type": claim.capacity_type,
                                "topology.kubernetes.io/zone": claim.zone,
                            }
                        }
                    },
                )
                self._event(
                    "NodeClaim",
                    claim.name,
                    "",
                    claim.api_version,
                    "Normal",
                    "Launched",
                    "Status condition transitioned, Type: Launched, Status: Unknown -> True, Reason: Launched",
                    now,
                )
            elif claim.state == "launched" and now >= claim.created + self.delays.launch + self.delays.join:
                claim.state = "registered"
                self._join_node(claim, now)

    def _insufficient_capacity(self, claim: _Claim, now: float) -> None:
        self._event(
            "NodeClaim",
            claim.name,
            "",
            claim.api_version,
            "Warning",
            "InsufficientCapacityError",
            f"NodeClaim {claim.name} event: insufficient capacity, all requested instance types were unavailable "
            "during launch",
            now,
        )
        self._claims.pop(claim.name, None)
        self._draining.add(claim.name)
        for uid in claim.uids:  # tried again after the next NodePool change, not before
            self._nominated.discard(uid)
            self._ice_blocked.add(uid)
        rt = self._nodeclaim_rt(claim.api_version)
        try:
            self.store.delete(rt, None, claim.name)
            self.store.patch(rt, None, claim.name, "merge", {"metadata": {"finalizers": None}})
        except Exception:
            pass

    def _join_node(self, claim: _Claim, now: float) -> None:
        it = instances.get(claim.instance_type)
        np = self._nodepool(claim.nodepool) or {}
        template = (np.get("spec") or {}).get("template") or {}
        tspec = template.get("spec") or {}
        octets = int(_suffix(claim.name, "ip", n=4), 36)
        name = f"ip-10-0-{octets % 96 + 100}-{octets // 96 % 254 + 1}.us-west-2.compute.internal"
        labels = {
            **(instances.karpenter_labels(it) if it else {}),
            **((template.get("metadata") or {}).get("labels") or {}),
            LABEL_NODEPOOL: claim.nodepool,
            "karpenter.sh/capacity-type": claim.capacity_type,
            "karpenter.sh/registered": "true",
            "topology.kubernetes.io/zone": claim.zone,
            "topology.kubernetes.io/region": "us-west-2",
            "kubernetes.io/hostname": name,
        }
        if it is not None and it.is_nvidia:
            labels["feature.node.kubernetes.io/pci-10de.present"] = "true"
            labels["nvidia.com/gpu.present"] = "true"
            for component in (
                "driver",
                "container-toolkit",
                "device-plugin",
                "gpu-feature-discovery",
                "dcgm",
                "dcgm-exporter",
                "operator-validator",
                "mig-manager",
                "node-status-exporter",
            ):
                labels[f"nvidia.com/gpu.deploy.{component}"] = "true"
            labels["nvidia.com/gpu.deploy.operands"] = "true"
        capacity = {k: format_quantity(v, k) for k, v in (it.capacity if it else {}).items() if k != GPU}
        allocatable = {k: format_quantity(v, k) for k, v in (it.allocatable if it else {}).items() if k != GPU}
        ip = f"10.0.{octets % 96 + 100}.{octets // 96 % 254 + 1}"
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {"karpenter.sh/nodepool-hash": _digest(np.get("spec"))[:16]},
                "ownerReferences": [
                    {
                        "apiVersion": claim.api_version,
                        "kind": "NodeClaim",
                        "name": claim.name,
                        "uid": _meta(self._claim_obj(claim) or {}).get("uid", ""),
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "providerID": f"aws:///{claim.zone}/i-0{_suffix(claim.name, n=16)}",
                "taints": list(tspec.get("taints") or []),
            },
            "status": {
                "capacity": capacity,
                "allocatable": allocatable,
                "addresses": [
                    {"type": "InternalIP", "address": ip},
                    {"type": "Hostname", "address": name},
                    {"type": "InternalDNS", "address": name},
                ],
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                        "lastHeartbeatTime": rfc3339(now),
                        "lastTransitionTime": rfc3339(now),
                    }
                ],
                "nodeInfo": dict(self._node_info),
            },
        }
        self.store.create(node)
        claim.node = name
        self._own_nodes.add(name)
        self._patch_claim(
            claim.api_version, claim.name, {"nodeName": name, "conditions": [_cond("Registered", "True", now)]}
        )
        self._event(
            "NodeClaim",
            claim.name,
            "",
            claim.api_version,
            "Normal",
            "Registered",
            "Status condition transitioned, Type: Registered, Status: Unknown -> True, Reason: Registered",
            now,
        )
        if it is None or not it.is_nvidia:
            self._initialize_claim_of(name, now)

    def _claim_obj(self, claim: _Claim) -> dict | None:
        try:
            return self.store.entry(self._nodeclaim_rt(claim.api_version), None, claim.name).obj
        except Exception:
            return None

    def _initialize_claim_of(self, node_name: str, now: float) -> None:
        """Karpenter marks a NodeClaim Initialized once its node is Ready and registered the
        extended resources its instance type promises."""
        try:
            node = self.store.entry(self._nodes, None, node_name).obj
        except Exception:
            return
        labels = _meta(node).get("labels") or {}
        if LABEL_NODEPOOL not in labels:
            return
        claim_name = next(
            (o.get("name") for o in _meta(node).get("ownerReferences") or [] if o.get("kind") == "NodeClaim"), None
        )
        claim_obj = None
        for rt in self.store.types():
            if rt.kind != "NodeClaim":
                continue
            if claim_name:
                try:
                    claim_obj = self.store.entry(rt, None, claim_name).obj
                except Exception:
                    pass
            else:
                claim_obj = next(
                    (
                        e.obj
                        for e in self.store.select(rt).entries
                        if (e.obj.get("status") or {}).get("nodeName") == node_name
                    ),
                    None,
                )
            if claim_obj is not None:
                break
        if labels.get("karpenter.sh/initialized") != "true":
            self.store.patch(
                self._nodes, None, node_name, "merge", {"metadata": {"labels": {"karpenter.sh/initialized": "true"}}}
            )
        if claim_obj is None:
            return
        name = _meta(claim_obj).get("name", "")
        self._patch_claim(
            claim_obj.get("apiVersion", "karpenter.sh/v1"),
            name,
            {"conditions": [_cond("Initialized", "True", now), _cond("Ready", "True", now)]},
        )
        claim = self._claims.get(name)
        if claim is not None:
            claim.state = "initialized"
            self._event(
                "NodeClaim",
                name,
                "",
                claim.api_version,
                "Normal",
                "Initialized",
                "Status condition transitioned, Type: Initialized, Status: Unknown -> True, Reason: Initialized",
                now,
            )
            for ns, pod_name in claim.pods:  # the scheduler now places the pods it was launched for
                try:
                    pod = self.store.entry(self._pods, ns, pod_name).obj
                except Exception:
                    continue
                if self.simulation is not None:
                    self.simulation.adopt(pod)
            self._claims.pop(name, None)

    def _drain(self, claim_name: str, node_name: str, now: float) -> None:
        """Karpenter's termination: the node's pods are evicted (their controllers re-create them
        unbound), the node goes, then the NodeClaim's finalizer."""
        api_version = "karpenter.sh/v1"
        claim_obj = None
        for rt in self.store.types():
            if rt.kind == "NodeClaim":
                try:
                    claim_obj = self.store.entry(rt, None, claim_name).obj
                    api_version = claim_obj.get("apiVersion", api_version)
                    node_name = node_name or (claim_obj.get("status") or {}).get("nodeName") or ""
                    break
                except Exception:
                    continue
        if node_name:
            self._evict_node(node_name, now)
        if claim_obj is not None:
            pool = (_meta(claim_obj).get("labels") or {}).get(LABEL_NODEPOOL, "")
            it = instances.get((_meta(claim_obj).get("labels") or {}).get(LABEL_INSTANCE_TYPE))
            if pool and it is not None:
                self._add_usage(pool, it.capacity, sign=-1)
            rt = self._nodeclaim_rt(api_version)
            try:
                self.store.patch(rt, None, claim_name, "merge", {"metadata": {"finalizers": None}})
            except Exception:
                pass
        self._claims.pop(claim_name, None)
        self._provision = True
        self._wake.set()

    def _evict_node(self, node_name: str, now: float) -> None:
        for e in list(self.store.select(self._pods).entries):
            pod = e.obj
            if (pod.get("spec") or {}).get("nodeName") != node_name:
                continue
            md = _meta(pod)
            owner = _controller_of(pod)
            self._evicting.add(md.get("name", ""))
            try:
                self.store.delete(self._pods, md.get("namespace"), md.get("name"))
            except Exception:
                continue
            if owner and owner.get("kind") in ("ReplicaSet", "Job") and not is_terminal(pod):
                self._recreate(pod, owner, now)
        try:
            self.store.delete(self._nodes, None, node_name)
        except Exception:
            pass
        self._own_nodes.discard(node_name)
        self._registered.discard(node_name)

    def _recreate(self, pod: dict, owner: dict, now: float) -> None:
        md = _meta(pod)
        base = md.get("generateName") or md.get("name", "").rsplit("-", 1)[0] + "-"
        spec = {k: v for k, v in (pod.get("spec") or {}).items() if k != "nodeName"}
        self.store.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": base + _suffix(md.get("uid"), now),
                    "generateName": base,
                    "namespace": md.get("namespace"),
                    "labels": md.get("labels") or {},
                    "annotations": {
                        k: v for k, v in (md.get("annotations") or {}).items() if not k.startswith("sim.gputui.dev/")
                    },
                    "ownerReferences": md.get("ownerReferences") or [],
                },
                "spec": spec,
            }
        )

    # -- Deployment rollout ------------------------------------------------------------

    def _roll_out(self, ns: str, name: str, now: float) -> None:
        try:
            dep = self.store.entry(self._deploy, ns, name).obj
        except Exception:
            return
        spec = dep.get("spec") or {}
        template = spec.get("template") or {}
        hash_ = _digest(template)[:10]
        rs_name = f"{name}-{hash_}"
        replicas = int(spec["replicas"]) if spec.get("replicas") is not None else 1
        labels = {**((template.get("metadata") or {}).get("labels") or {}), "pod-template-hash": hash_}
        old_rs = [
            e.obj
            for e in self.store.select(self._rs, ns).entries
            if (_controller_of(e.obj) or {}).get("name") == name and _meta(e.obj).get("name") != rs_name
        ]
        try:
            rs = self.store.entry(self._rs, ns, rs_name).obj
        except Exception:
            rs = self.store.create(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": rs_name,
                        "namespace": ns,
                        "labels": labels,
                        "annotations": {"deployment.kubernetes.io/revision": str(len(old_rs) + 1)},
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "Deployment",
                                "name": name,
                                "uid": _meta(dep).get("uid", ""),
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                    },
                    "spec": {
                        "replicas": replicas,
                        "selector": {
                            "matchLabels": {
                                **((spec.get("selector") or {}).get("matchLabels") or {}),
                                "pod-template-hash": hash_,
                            }
                        },
                        "template": {**template, "metadata": {**(template.get("metadata") or {}), "labels": labels}},
                    },
                }
            )
        for old in old_rs:
            omd = _meta(old)
            for e in list(self.store.select(self._pods, ns).entries):
                if (_controller_of(e.obj) or {}).get("name") == omd.get("name"):
                    try:
                        self.store.delete(self._pods, ns, _meta(e.obj).get("name"))
                    except Exception:
                        pass
            self.store.patch(self._rs, ns, omd.get("name"), "merge", {"spec": {"replicas": 0}})
            self.store.patch(
                self._rs,
                ns,
                omd.get("name"),
                "merge",
                {
                    "status": {
                        "replicas": 0,
                        "readyReplicas": None,
                        "availableReplicas": None,
                        "fullyLabeledReplicas": None,
                    }
                },
                subresource="status",
            )
        for i in range(replicas):
            self.store.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{rs_name}-{_suffix(rs_name, i, now)}",
                        "generateName": f"{rs_name}-",
                        "namespace": ns,
                        "labels": labels,
                        "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "ReplicaSet",
                                "name": rs_name,
                                "uid": _meta(rs).get("uid", ""),
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                    },
                    "spec": json.loads(json.dumps(template.get("spec") or {})),
                }
            )
        self._rolled.add((ns, name))
        self._wake.set()

    def _update_rollouts(self) -> None:
        for ns, name in list(self._rolled):
            try:
                dep = self.store.entry(self._deploy, ns, name).obj
            except Exception:
                self._rolled.discard((ns, name))
                continue
            hash_ = _digest((dep.get("spec") or {}).get("template") or {})[:10]
            rs_name = f"{name}-{hash_}"
            pods = [
                e.obj
                for e in self.store.select(self._pods, ns).entries
                if (_controller_of(e.obj) or {}).get("name") == rs_name and not is_terminal(e.obj)
            ]
            ready = sum(1 for p in pods if _ready(p))
            replicas = len(pods)
            rs_status = {
                "replicas": replicas,
                "fullyLabeledReplicas": replicas,
                "readyReplicas": ready or None,
                "availableReplicas": ready or None,
                "observedGeneration": 1,
            }
            try:
                rs = self.store.entry(self._rs, ns, rs_name).obj
            except Exception:
                continue
            if any((rs.get("status") or {}).get(k) != v for k, v in rs_status.items() if v is not None):
                self.store.patch(self._rs, ns, rs_name, "merge", {"status": rs_status}, subresource="status")
            want = int((dep.get("spec") or {}).get("replicas") or 0)
            dep_status = {
                "observedGeneration": _meta(dep).get("generation") or 1,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": ready or None,
                "availableReplicas": ready or None,
                "unavailableReplicas": (want - ready) if want > ready else None,
            }
            current = dep.get("status") or {}
            if any(current.get(k) != v for k, v in dep_status.items()):
                conds = [c for c in current.get("conditions") or [] if c.get("type") != "Available"]
                avail = "True" if ready >= want else "False"
                conds.append(
                    {
                        "type": "Available",
                        "status": avail,
                        "reason": "MinimumReplicasAvailable" if avail == "True" else "MinimumReplicasUnavailable",
                        "message": "Deployment has minimum availability."
                        if avail == "True"
                        else "Deployment does not have minimum availability.",
                        "lastTransitionTime": rfc3339(self.clock()),
                        "lastUpdateTime": rfc3339(self.clock()),
                    }
                )
                dep_status["conditions"] = conds
                self.store.patch(self._deploy, ns, name, "merge", {"status": dep_status}, subresource="status")

    # -- events -------------------------------------------------------------------------

    def _event(
        self,
        kind: str,
        name: str,
        namespace: str,
        api_version: str,
        type_: str,
        reason: str,
        message: str,
        now: float,
        uid: str = "",
    ) -> None:
        self._event_seq += 1
        stamp = rfc3339(now)
        involved = {"apiVersion": api_version, "kind": kind, "name": name}
        if namespace:
            involved["namespace"] = namespace
        if uid:
            involved["uid"] = uid
        self.store.create(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{name}.{int(now * 1e9) + self._event_seq:x}"[:253],
                    "namespace": namespace or "default",
                },
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "type": type_,
                "source": {"component": KARPENTER},
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
                "count": 1,
                "reportingComponent": KARPENTER,
                "reportingInstance": "",
            }
        )


def _ready(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )


def _failing_containers(pod: Mapping[str, Any]) -> dict[str, int]:
    """Containers that were crashing or had failed: name -> the exit code they last failed with."""
    out: dict[str, int] = {}
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        state, last = cs.get("state") or {}, cs.get("lastState") or {}
        waiting = (state.get("waiting") or {}).get("reason")
        term = state.get("terminated") or last.get("terminated") or {}
        if waiting in ("CrashLoopBackOff", "RunContainerError") or int(term.get("exitCode") or 0) != 0:
            out[cs.get("name", "")] = int(term.get("exitCode") or 1)
    return out


def scenario_unavailable(sources: Iterable[str]) -> set[str]:
    """Instance types the built-in scenarios among `sources` mark as out of EC2 capacity
    (their index entry's `unavailable`)."""
    from gputui.sim.scenario_index import _scenario_index

    index = _scenario_index()
    out: set[str] = set()
    for s in sources:
        entry = index.get(str(s)) or {}
        out.update(str(t) for t in entry.get("unavailable") or [])
    return out
