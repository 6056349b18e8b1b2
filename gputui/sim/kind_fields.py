"""Per-kind completion of loaded objects: the defaults and status fields a server, kubelet
or controller would have written for pods, nodes, events, workloads and CRDs.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from gputui.kube.manifests import type_name
from gputui.sim.fill_context import FillContext, deterministic_uid


def _quantities(values: Any, where: str, bad) -> None:
    """The API accepts numbers for quantities but always serves strings."""
    if values is None:
        return
    if not isinstance(values, dict):
        raise bad(f"{where} must be a mapping of resource name to quantity")
    for k, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise bad(f"{where}[{k!r}] must be a quantity such as 1, 500m or 16Gi, got {type_name(v)}")
        if not isinstance(v, str):
            values[k] = str(v)


def _conditions(
    status: dict[str, Any],
    where: str,
    bad,
    default_time: str,
    time_keys: tuple[str, ...] = ("lastTransitionTime",),
    full: bool = False,
) -> list[dict[str, Any]]:
    conds = status.get("conditions")
    if conds is None:
        return []
    if not isinstance(conds, list):
        raise bad(f"{where}.conditions must be a list")
    for i, c in enumerate(conds):
        if not isinstance(c, dict) or not c.get("type") or not c.get("status"):
            raise bad(f"{where}.conditions[{i}] needs type and status", hint='e.g. {type: Ready, status: "True"}')
        if not isinstance(c["status"], str):
            raise bad(
                f'{where}.conditions[{i}].status must be the string "True", "False" or "Unknown"',
                hint='quote it: status: "True"',
            )
        for key in time_keys:
            c.setdefault(key, default_time)
        if full:  # metav1.Condition: reason and message are required
            c.setdefault("reason", "")
            c.setdefault("message", "")
    return conds


def _spec(obj: dict[str, Any], bad, required: bool = True) -> dict[str, Any]:
    spec = obj.get("spec")
    if spec is None:
        if required:
            raise bad("spec is missing")
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        raise bad(f"spec must be a mapping, got {type_name(spec)}")
    return spec


def _status(obj: dict[str, Any], bad) -> dict[str, Any] | None:
    status = obj.get("status")
    if status is not None and not isinstance(status, dict):
        raise bad(f"status must be a mapping, got {type_name(status)}")
    return status


# Pod ------------------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _image_repo(image: str) -> str:
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _fill_pod(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _spec(obj, bad)
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        raise bad(
            "spec.containers is missing or empty", hint="a pod needs at least one container with a name and image"
        )
    by_name: dict[str, dict[str, Any]] = {}
    for field in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(field) or []):
            if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"]:
                raise bad(f"spec.{field}[{i}].name is missing")
            by_name[c["name"]] = c
            res = c.get("resources") or {}
            if not isinstance(res, dict):
                raise bad(f"spec.{field}[{i}].resources must be a mapping")
            _quantities(res.get("requests"), f"spec.{field}[{i}].resources.requests", bad)
            _quantities(res.get("limits"), f"spec.{field}[{i}].resources.limits", bad)
            image = c.get("image") or ""
            c.setdefault(
                "imagePullPolicy",
                "Always" if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1] else "IfNotPresent",
            )
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("priority", 0)
    status = _status(obj, bad)
    if status is None:
        return  # unscripted: the simulator schedules and runs it
    created = obj["metadata"]["creationTimestamp"]
    phase = status.get("phase")
    node = spec.get("nodeName")
    if node and phase and phase != "Pending":
        status.setdefault("startTime", created)
    start = status.get("startTime") or created
    init_names = [c["name"] for c in spec.get("initContainers") or []]
    main_names = [c["name"] for c in containers]
    if phase in ("Running", "Succeeded", "Failed") and node:
        if "initContainerStatuses" not in status and init_names:
            status["initContainerStatuses"] = [
                {
                    "name": n,
                    "state": {
                        "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": start}
                    },
                }
                for n in init_names
            ]
        if "containerStatuses" not in status:
            status["containerStatuses"] = [_synthesized_state(n, phase, start) for n in main_names]
    for field in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        statuses = status.get(field)
        if statuses is None:
            continue
        if not isinstance(statuses, list):
            raise bad(f"status.{field} must be a list")
        for i, cs in enumerate(statuses):
            _fill_container_status(
                cs, by_name, phase, start, f"status.{field}[{i}]", bad, init=field == "initContainerStatuses"
            )
    conds = _conditions(status, "status", bad, start, ("lastTransitionTime",))
    if not conds and phase:
        status["conditions"] = _pod_conditions(status, phase, node, start)
    else:
        for c in conds:
            c.setdefault("lastProbeTime", None)
    if phase:
        status.setdefault("qosClass", pod_qos_class(spec))
        if node:
            host_ip = _node_ip(ctx, node)
            status.setdefault("hostIP", host_ip)
            status.setdefault("hostIPs", [{"ip": status["hostIP"]}])
            if phase == "Running":
                pod_ip = spec.get("hostNetwork") and status["hostIP"] or _ip_for("pod", obj["metadata"]["uid"])
                status.setdefault("podIP", pod_ip)
                status.setdefault("podIPs", [{"ip": status["podIP"]}])


def _synthesized_state(name: str, phase: str, start: str) -> dict[str, Any]:
    if phase == "Running":
        return {"name": name, "ready": True, "started": True, "state": {"running": {"startedAt": start}}}
    ok = phase == "Succeeded"
    return {
        "name": name,
        "ready": False,
        "started": False,
        "state": {
            "terminated": {
                "exitCode": 0 if ok else 1,
                "reason": "Completed" if ok else "Error",
                "startedAt": start,
                "finishedAt": start,
            }
        },
    }


_EXIT_BY_REASON = {
    "Completed": 0,
    "OOMKilled": 137,
    "Error": 1,
    "ContainerCannotRun": 128,
    "DeadlineExceeded": 137,
    "StartError": 128,
}


def _fill_container_status(
    cs: Any, by_name: dict[str, dict[str, Any]], phase: str | None, start: str, where: str, bad, init: bool
) -> None:
    if not isinstance(cs, dict) or not isinstance(cs.get("name"), str) or not cs["name"]:
        raise bad(f"{where}.name is missing", hint="name the container this status belongs to")
    spec_c = by_name.get(cs["name"]) or {}
    image = cs.get("image") or spec_c.get("image")
    if not image:
        raise bad(
            f"{where}: no image (and no container {cs['name']!r} in the pod spec)",
            hint="set image on the status or add the container to spec.containers",
        )
    cs["image"] = image
    state = cs.get("state")
    if state is None:
        if phase == "Running" and not init:
            state = {"running": {"startedAt": start}}
        elif phase in (None, "Pending"):
            state = {"waiting": {"reason": "ContainerCreating"}}
        else:
            state = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": start}}
        cs["state"] = state
    if not isinstance(state, dict):
        raise bad(f"{where}.state must be a mapping (running, waiting or terminated)")
    for which, st in (("state", state), ("lastState", cs.get("lastState") or {})):
        term = st.get("terminated") if isinstance(st, dict) else None
        if isinstance(term, dict):
            reason = term.get("reason")
            term.setdefault("exitCode", _EXIT_BY_REASON.get(reason, 1) if isinstance(reason, str) else 1)
            term.setdefault("startedAt", start)
            term.setdefault("finishedAt", term["startedAt"])
            if not isinstance(term["exitCode"], int) or isinstance(term["exitCode"], bool):
                raise bad(f"{where}.{which}.terminated.exitCode must be a number")
        run = st.get("running") if isinstance(st, dict) else None
        if isinstance(run, dict):
            run.setdefault("startedAt", start)
    cs.setdefault("lastState", {})
    ran = "running" in state or "terminated" in state or bool(cs["lastState"])
    cs.setdefault("imageID", f"{_image_repo(image)}@sha256:{_digest('image', image)}" if ran else "")
    if ran:
        cs.setdefault("containerID", f"containerd://{_digest('container', cs['name'], start, image)}")
    cs.setdefault("ready", "running" in state and phase == "Running" and not init)
    cs.setdefault("started", "running" in state)
    cs.setdefault("restartCount", 0)
    if not isinstance(cs["restartCount"], int) or isinstance(cs["restartCount"], bool):
        raise bad(f"{where}.restartCount must be a number")
    if not isinstance(cs["ready"], bool):
        raise bad(f"{where}.ready must be true or false")


def _pod_conditions(status: dict[str, Any], phase: str, node: str | None, start: str) -> list[dict[str, Any]]:
    def cond(type_: str, ok: bool, reason: str | None = None) -> dict[str, Any]:
        c: dict[str, Any] = {
            "type": type_,
            "status": "True" if ok else "False",
            "lastProbeTime": None,
            "lastTransitionTime": start,
        }
        if reason:
            c["reason"] = reason
        return c

    if not node:
        return [cond("PodScheduled", False, "Unschedulable")]
    if phase in ("Succeeded", "Failed"):
        return [
            cond("PodReadyToStartContainers", False),
            cond("Initialized", True),
            cond("Ready", False, "PodCompleted"),
            cond("ContainersReady", False, "PodCompleted"),
            cond("PodScheduled", True),
        ]
    statuses = status.get("containerStatuses") or []
    ready = phase == "Running" and bool(statuses) and all(cs.get("ready") for cs in statuses)
    reason = None if ready else "ContainersNotReady"
    return [
        cond("PodReadyToStartContainers", phase == "Running"),
        cond("Initialized", True),
        cond("Ready", ready, reason),
        cond("ContainersReady", ready, reason),
        cond("PodScheduled", True),
    ]


def pod_qos_class(spec: dict[str, Any]) -> str:
    """The pod's QoS class as the kubelet computes it: from cpu and memory alone, over every
    container, init containers included."""
    containers: list[dict[str, Any]] = []
    for key in ("containers", "initContainers"):
        items = spec.get(key)
        if isinstance(items, list):
            containers.extend(c for c in items if isinstance(c, dict))
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for r in ("cpu", "memory"):  # extended resources such as nvidia.com/gpu do not count
            any_set = any_set or r in req or r in lim
            if r not in lim or req.get(r, lim[r]) != lim[r]:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _ip_for(kind: str, key: str, prefix: str = "10.0") -> str:
    d = int(_digest(kind, key)[:8], 16)
    return f"{prefix}.{(d >> 8) % 250 + 1}.{d % 250 + 2}"


def _node_ip(ctx: FillContext, node_name: str) -> str:
    node = ctx.by_key.get(("Node", "", node_name))
    for addr in ((node or {}).get("status") or {}).get("addresses") or []:
        if isinstance(addr, dict) and addr.get("type") == "InternalIP" and addr.get("address"):
            return addr["address"]
    return _ip_from_node_name(node_name)


def _ip_from_node_name(name: str) -> str:
    """EKS names nodes after their private IP: ip-10-0-3-7.ec2.internal -> 10.0.3.7."""
    m = re.match(r"ip-(\d+)-(\d+)-(\d+)-(\d+)", name)
    return ".".join(m.groups()) if m else _ip_for("node", name)


# Node -----------------------------------------------------------------------------------

_NODE_INFO_DEFAULTS = {
    "architecture": "amd64",
    "containerRuntimeVersion": "containerd://1.7.27",
    "kernelVersion": "6.1.141-155.222.amzn2023.x86_64",
    "kubeProxyVersion": "",
    "kubeletVersion": "v1.32.3-eks-473151a",
    "operatingSystem": "linux",
    "osImage": "Amazon Linux 2023.7.20250623",
}
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _fill_node(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _spec(obj, bad, required=False)
    taints = spec.get("taints") or []
    if not isinstance(taints, list):
        raise bad("spec.taints must be a list")
    for i, t in enumerate(taints):
        if not isinstance(t, dict) or not t.get("key") or t.get("effect") not in _TAINT_EFFECTS:
            raise bad(f"spec.taints[{i}] needs a key and an effect of {', '.join(_TAINT_EFFECTS)}")
    status = _status(obj, bad)
    if status is None:
        status = obj["status"] = {}
    name = obj["metadata"]["name"]
    created = obj["metadata"]["creationTimestamp"]
    _quantities(status.get("capacity"), "status.capacity", bad)
    _quantities(status.get("allocatable"), "status.allocatable", bad)
    _conditions(status, "status", bad, created, ("lastTransitionTime", "lastHeartbeatTime"))
    info = status.setdefault("nodeInfo", {})
    if not isinstance(info, dict):
        raise bad("status.nodeInfo must be a mapping")
    for key, value in _NODE_INFO_DEFAULTS.items():
        info.setdefault(key, value)
    info.setdefault("machineID", _digest("machine", name)[:32])
    info.setdefault("systemUUID", "ec2" + _digest("system", name)[3:8] + "-" + deterministic_uid("sys", name)[9:])
    info.setdefault("bootID", deterministic_uid("boot", name, created))
    addresses = status.setdefault("addresses", [])
    if not isinstance(addresses, list):
        raise bad("status.addresses must be a list")
    for i, a in enumerate(addresses):
        if not isinstance(a, dict) or not a.get("type") or not a.get("address"):
            raise bad(f"status.addresses[{i}] needs type and address")
    if not addresses:
        ip = _ip_from_node_name(name)
        addresses += [
            {"type": "InternalIP", "address": ip},
            {"type": "InternalDNS", "address": name},
            {"type": "Hostname", "address": name},
        ]
    status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 10250}})
    for i, img in enumerate(_items(status, "images", "status.images", bad)):
        if not isinstance(img, dict):
            raise bad(f"status.images[{i}] must be a mapping with names and sizeBytes")


# Event ----------------------------------------------------------------------------------


def _fill_event(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    io = obj.get("involvedObject")
    if not isinstance(io, dict) or not io.get("kind") or not io.get("name"):
        raise bad(
            "involvedObject with kind and name is required for an Event",
            hint="e.g. involvedObject: {kind: Pod, namespace: default, name: my-pod}",
        )
    ns = obj["metadata"]["namespace"]
    if ctx.namespaced(io["kind"]):
        io.setdefault("namespace", ns)
    io.setdefault("apiVersion", ctx.api_version_of(io["kind"]) or "v1")
    io.setdefault("uid", ctx.uid_of(io["kind"], io.get("namespace"), io["name"]))
    obj.setdefault("type", "Normal")
    obj.setdefault("count", 1)
    first, last = obj.get("firstTimestamp"), obj.get("lastTimestamp")
    if not first and not last and not obj.get("eventTime"):
        first = last = obj["metadata"]["creationTimestamp"]
    if first or last:
        obj["firstTimestamp"] = first or last
        obj["lastTimestamp"] = last or first
    source = obj.get("source")
    if not isinstance(source, dict):
        source = obj["source"] = {}
    if obj.get("reportingComponent") and not source.get("component"):
        source["component"] = obj["reportingComponent"]
    obj.setdefault("reportingComponent", source.get("component", ""))
    obj.setdefault("reportingInstance", source.get("host", ""))


# Namespace, ConfigMap, Service ----------------------------------------------------------


def fill_namespace(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    labels = obj["metadata"].setdefault("labels", {})
    labels.setdefault("kubernetes.io/metadata.name", obj["metadata"]["name"])
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Terminating" if obj["metadata"].get("deletionTimestamp") else "Active")


def _fill_configmap(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    data = obj.get("data")
    if data is None:
        return
    if not isinstance(data, dict):
        raise bad("data must be a mapping of key to string")
    for k, v in data.items():
        if not isinstance(v, str):
            raise bad(f"data[{k!r}] must be a string, got {type_name(v)}", hint="quote the value or use a | block")


def _fill_service(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _spec(obj, bad, required=False)
    spec.setdefault("type", "ClusterIP")
    for i, p in enumerate(_items(spec, "ports", "spec.ports", bad)):
        if not isinstance(p, dict) or not isinstance(p.get("port"), int):
            raise bad(f"spec.ports[{i}].port must be a number")
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p["port"])
    if spec["type"] != "ExternalName":
        ip = spec.setdefault("clusterIP", _ip_for("svc", obj["metadata"]["uid"], "172.20"))
        spec.setdefault("clusterIPs", [ip])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("sessionAffinity", "None")
    obj.setdefault("status", {}).setdefault("loadBalancer", {})
    _conditions(obj["status"], "status", bad, obj["metadata"]["creationTimestamp"], full=True)


# Workloads ------------------------------------------------------------------------------


def _workload_spec(obj: dict[str, Any], bad, template_required: bool = True) -> dict[str, Any]:
    spec = _spec(obj, bad)
    template = spec.get("template")
    if template is None and template_required:
        raise bad("spec.template is missing", hint="a workload needs a pod template (spec.template)")
    if template is not None:
        if not isinstance(template, dict):
            raise bad("spec.template must be a mapping")
        pod_spec = template.get("spec")
        if (
            not isinstance(pod_spec, dict)
            or not isinstance(pod_spec.get("containers"), list)
            or not pod_spec["containers"]
        ):
            raise bad("spec.template.spec.containers is missing or empty")
        for i, c in enumerate(pod_spec["containers"]):
            if not isinstance(c, dict) or not c.get("name"):
                raise bad(f"spec.template.spec.containers[{i}].name is missing")
    if "selector" not in spec and obj["kind"] != "Job":
        labels = ((template or {}).get("metadata") or {}).get("labels")
        if not labels:
            raise bad("spec.selector is missing (and the pod template has no labels to derive it from)")
        spec["selector"] = {"matchLabels": dict(labels)}
    return spec


def _fill_daemonset(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _workload_spec(obj, bad)
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    spec.setdefault("revisionHistoryLimit", 10)
    status = _status(obj, bad)
    if status is not None:
        for key in ("currentNumberScheduled", "desiredNumberScheduled", "numberMisscheduled", "numberReady"):
            status.setdefault(key, 0)
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"])


def _fill_deployment(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _workload_spec(obj, bad)
    spec.setdefault("replicas", 1)
    spec.setdefault(
        "strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    )
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    status = _status(obj, bad)
    if status is not None:
        _conditions(
            status, "status", bad, obj["metadata"]["creationTimestamp"], ("lastTransitionTime", "lastUpdateTime")
        )


def _fill_statefulset(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _workload_spec(obj, bad)
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    spec.setdefault("serviceName", "")
    status = _status(obj, bad)
    if status is not None:
        status.setdefault("replicas", 0)
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"])


def _fill_replicaset(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _workload_spec(obj, bad, template_required=False)
    spec.setdefault("replicas", 1)
    status = _status(obj, bad)
    if status is not None:
        status.setdefault("replicas", 0)
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"])


def _fill_job(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _workload_spec(obj, bad)
    for key, value in (
        ("backoffLimit", 6),
        ("completions", 1),
        ("parallelism", 1),
        ("completionMode", "NonIndexed"),
        ("suspend", False),
    ):
        spec.setdefault(key, value)
    uid, name = obj["metadata"]["uid"], obj["metadata"]["name"]
    if "selector" not in spec:
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        labels = spec["template"].setdefault("metadata", {}).setdefault("labels", {})
        labels.setdefault("batch.kubernetes.io/controller-uid", uid)
        labels.setdefault("batch.kubernetes.io/job-name", name)
        labels.setdefault("controller-uid", uid)
        labels.setdefault("job-name", name)
    status = _status(obj, bad)
    if status is not None:
        _conditions(
            status, "status", bad, obj["metadata"]["creationTimestamp"], ("lastTransitionTime", "lastProbeTime")
        )


# Policy, autoscaling, CRDs --------------------------------------------------------------


def _fill_pdb(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    _spec(obj, bad)
    status = _status(obj, bad)
    if status is not None:
        for key in ("currentHealthy", "desiredHealthy", "disruptionsAllowed", "expectedPods"):
            status.setdefault(key, 0)
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"], full=True)


def _items(parent: dict[str, Any], key: str, where: str, bad) -> list:
    """parent[key] as a list (absent or null: empty); anything else is refused as the API server would."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(f"{where} must be a list")
    return value


def _fill_hpa(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _spec(obj, bad)
    target = spec.get("scaleTargetRef")
    if not isinstance(target, dict) or not target.get("kind") or not target.get("name"):
        raise bad("spec.scaleTargetRef with kind and name is required")
    if not isinstance(spec.get("maxReplicas"), int):
        raise bad("spec.maxReplicas must be a number")
    spec.setdefault("minReplicas", 1)
    for i, m in enumerate(_items(spec, "metrics", "spec.metrics", bad)):
        if not isinstance(m, dict) or not m.get("type"):
            raise bad(f"spec.metrics[{i}].type is missing")
    status = _status(obj, bad)
    if status is not None:
        status.setdefault("currentReplicas", 0)
        status.setdefault("desiredReplicas", status["currentReplicas"])
        for i, m in enumerate(_items(status, "currentMetrics", "status.currentMetrics", bad)):
            if not isinstance(m, dict) or not m.get("type"):
                raise bad(f"status.currentMetrics[{i}].type is missing")
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"])


def _fill_crd(obj: dict[str, Any], ctx: FillContext, bad) -> None:
    spec = _spec(obj, bad)
    names = spec.get("names")
    if not spec.get("group") or not isinstance(names, dict) or not names.get("kind") or not names.get("plural"):
        raise bad("a CustomResourceDefinition needs spec.group, spec.names.kind and spec.names.plural")
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        raise bad("spec.scope must be Namespaced or Cluster")
    expected = f"{names['plural']}.{spec['group']}"
    if obj["metadata"]["name"] != expected:
        raise bad(f"metadata.name must be {expected} (<plural>.<group>)")
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        raise bad("spec.versions is missing or empty")
    for i, v in enumerate(versions):
        if not isinstance(v, dict) or not v.get("name"):
            raise bad(f"spec.versions[{i}].name is missing")
        v.setdefault("served", True)
        v.setdefault("storage", False)
        for j, col in enumerate(v.get("additionalPrinterColumns") or []):
            if not isinstance(col, dict) or not all(col.get(k) for k in ("name", "type", "jsonPath")):
                raise bad(f"spec.versions[{i}].additionalPrinterColumns[{j}] needs name, type and jsonPath")
    if not any(v["storage"] for v in versions):
        versions[0]["storage"] = True
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", names["kind"] + "List")
    spec.setdefault("conversion", {"strategy": "None"})
    status = obj.setdefault("status", {})
    status.setdefault("acceptedNames", dict(names))
    status.setdefault("storedVersions", [v["name"] for v in versions if v["storage"]])
    created = obj["metadata"]["creationTimestamp"]
    if not status.get("conditions"):
        status["conditions"] = [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": created,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": created,
            },
        ]
    _conditions(status, "status", bad, created)


FILLERS = {
    "Pod": _fill_pod,
    "Node": _fill_node,
    "Event": _fill_event,
    "Namespace": fill_namespace,
    "ConfigMap": _fill_configmap,
    "Service": _fill_service,
    "DaemonSet": _fill_daemonset,
    "Deployment": _fill_deployment,
    "StatefulSet": _fill_statefulset,
    "ReplicaSet": _fill_replicaset,
    "Job": _fill_job,
    "PodDisruptionBudget": _fill_pdb,
    "HorizontalPodAutoscaler": _fill_hpa,
    "CustomResourceDefinition": _fill_crd,
}
