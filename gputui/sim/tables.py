"""Server-side tables (meta.k8s.io/v1 Table), the way kube-apiserver prints them.

`kubectl get` asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints
whatever columns and cells the server returns, so the simulator must produce the
same columns and the same cell text as the real printers for kubectl's output to
look real. Like the real server, every row carries every column (wide ones
included); kubectl hides columns with priority > 0 unless `-o wide`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from checks.timestamps import parse_time
from gputui.sim.jsonpath import JsonPathError, jsonpath_text, jsonpath_values
from gputui.sim.resources import ResourceType

Obj = dict[str, Any]

_NAME_DESC = "Name must be unique within a namespace."
_AGE_DESC = "CreationTimestamp is a timestamp representing the server time when this object was created."
_CONTAINERS_DESC = "Names of each container in the template."
_IMAGES_DESC = "Images referenced by each container in the template."


# --------------------------------------------------------------------------- time


def human_duration(seconds: float) -> str:
    """kubectl's HumanDuration: 5s, 119s, 3m2s, 15m, 5h3m, 2d3h, 40d, 2y3d."""
    sec = int(seconds)
    if sec < -1:
        return "<invalid>"
    if sec < 0:
        return "0s"
    if sec < 120:
        return f"{sec}s"
    minutes = sec // 60
    if minutes < 10:
        rest = sec % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = sec // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def _since(value: Any, now: datetime) -> str:
    when = parse_time(value)
    if when is None:
        return "<unknown>"
    return human_duration((now - when).total_seconds())


# --------------------------------------------------------------------------- helpers


def _g(obj: Any, *path: Any, default: Any = None) -> Any:
    cur = obj
    for key in path:
        if isinstance(cur, dict):
            cur = cur.get(key)
        elif isinstance(cur, list) and isinstance(key, int) and -len(cur) <= key < len(cur):
            cur = cur[key]
        else:
            return default
        if cur is None:
            return default
    return cur


def _col(name: str, type_: str = "string", description: str = "", *, priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": type_, "format": fmt, "description": description, "priority": priority}


def _name_col() -> dict:
    return _col("Name", "string", _NAME_DESC, fmt="name")


def _age_col() -> dict:
    return _col("Age", "string", _AGE_DESC)


def format_labels(labels: dict | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _selector_string(selector: dict | None) -> str:
    """A LabelSelector the way labels.Selector.String() writes it (requirements sorted by key)."""
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        reqs.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = sorted(set(expr.get("values") or []))
        if op == "In":
            reqs.append((key, f"{key} in ({','.join(values)})"))
        elif op == "NotIn":
            reqs.append((key, f"{key} notin ({','.join(values)})"))
        elif op == "Exists":
            reqs.append((key, key))
        elif op == "DoesNotExist":
            reqs.append((key, f"!{key}"))
    reqs.sort(key=lambda r: r[0])
    return ",".join(text for _, text in reqs)


def format_label_selector(selector: dict | None) -> str:
    text = _selector_string(selector)
    return text or "<none>"


def _containers(template_spec: dict | None) -> tuple[str, str]:
    containers = (template_spec or {}).get("containers") or []
    return (",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers))


def _int_or_string(value: Any) -> str:
    return str(value)


# --------------------------------------------------------------------------- pods

POD_COLUMNS = [
    _name_col(),
    _col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", description="The aggregate status of the containers in this pod."),
    _col(
        "Restarts",
        description="The number of times the containers in this pod have been restarted and when "
        "the last container in this pod has restarted.",
    ),
    _age_col(),
    _col("IP", description="IP address allocated to the pod.", priority=1),
    _col("Node", description="NodeName indicates in which node this pod is scheduled.", priority=1),
    _col(
        "Nominated Node",
        description="nominatedNodeName is set only when this pod preempts other pods on the node.",
        priority=1,
    ),
    _col(
        "Readiness Gates",
        description="If specified, all readiness gates will be evaluated for pod readiness.",
        priority=1,
    ),
]

_TERMINAL_PHASES = ("Succeeded", "Failed")


def _is_restartable_init(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _condition_true(conditions: Iterable[dict], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in conditions or ())


def _pod_row(pod: Obj, now: datetime) -> tuple[list, list]:
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod.get("metadata") or {}
    restarts = 0
    restartable_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: datetime | None = None
    last_restartable_restart: datetime | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total += sum(1 for c in init_specs.values() if _is_restartable_init(c))

    def later(a: datetime | None, b: Any) -> datetime | None:
        when = parse_time(b)
        if when is None:
            return a
        return when if a is None or when > a else a

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        finished = _g(cs, "lastState", "terminated", "finishedAt")
        last_restart = later(last_restart, finished)
        restartable = _is_restartable_init(init_specs.get(cs.get("name")))
        if restartable:
            restartable_restarts += int(cs.get("restartCount") or 0)
            last_restartable_restart = later(last_restartable_restart, finished)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if restartable and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            if not terminated.get("reason"):
                if terminated.get("signal"):
                    reason = f"Init:Signal:{terminated['signal']}"
                else:
                    reason = f"Init:ExitCode:{terminated.get('exitCode', 0)}"
            else:
                reason = "Init:" + terminated["reason"]
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break

    if not initializing or _condition_true(status.get("conditions") or [], "Initialized"):
        restarts = restartable_restarts
        last_restart = last_restartable_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = later(last_restart, _g(cs, "lastState", "terminated", "finishedAt"))
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{terminated.get('exitCode', 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status.get("conditions") or [], "Ready") else "NotReady"

    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in _TERMINAL_PHASES:
        reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"

    pod_ip = _g(status, "podIPs", 0, "ip") or status.get("podIP") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        gates_text = f"{sum(1 for g in gates if conds.get(g.get('conditionType')) == 'True')}/{len(gates)}"
    cells = [
        meta.get("name", ""),
        f"{ready}/{total}",
        reason,
        restarts_text,
        _since(meta.get("creationTimestamp"), now),
        pod_ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]
    conditions: list = []
    if phase == "Succeeded":
        conditions = [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    elif phase == "Failed":
        conditions = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return cells, conditions


def pod_status_text(pod: Obj, now: datetime | None = None) -> str:
    """The STATUS cell `kubectl get pods` shows for this pod."""
    return _pod_row(pod, now or datetime.now(timezone.utc))[0][2]


# --------------------------------------------------------------------------- nodes

NODE_COLUMNS = [
    _name_col(),
    _col("Status", description="The status of the node"),
    _col("Roles", description="The roles of the node"),
    _age_col(),
    _col("Version", description="Kubelet Version reported by the node."),
    _col("Internal-IP", description="List of addresses reachable to the node.", priority=1),
    _col("External-IP", description="List of addresses reachable to the node.", priority=1),
    _col("OS-Image", description="OS Image reported by the node from /etc/os-release.", priority=1),
    _col("Kernel-Version", description="Kernel Version reported by the node.", priority=1),
    _col("Container-Runtime", description="ContainerRuntime Version reported by the node.", priority=1),
]


def _node_row(node: Obj, now: datetime) -> list:
    meta, spec, status = node.get("metadata") or {}, node.get("spec") or {}, node.get("status") or {}
    states: list[str] = []
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is not None:
        states.append("Ready" if ready.get("status") == "True" else "NotReady")
    else:
        states.append("Unknown")
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (meta.get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/") :]:
            roles.add(key[len("node-role.kubernetes.io/") :])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        return next((a.get("address") for a in status.get("addresses") or [] if a.get("type") == kind), "<none>")

    return [
        meta.get("name", ""),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        _since(meta.get("creationTimestamp"), now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


# --------------------------------------------------------------------------- events

EVENT_COLUMNS = [
    _col("Last Seen", description="The time at which the most recent occurrence of this event was recorded."),
    _col("Type", description="Type of this event (Normal, Warning), new types could be added in the future"),
    _col(
        "Reason",
        description="This should be a short, machine understandable string that gives the reason "
        "for the transition into the object's current status.",
    ),
    _col("Object", description="The object that this event is about."),
    _col(
        "Subobject",
        description="If referring to a piece of an object instead of an entire object, this "
        "string should contain a valid JSON/Go field access statement.",
        priority=1,
    ),
    _col("Source", description="The component reporting this event.", priority=1),
    _col("Message", description="A human-readable description of the status of this operation."),
    _col("First Seen", description="The time at which the event was first recorded.", priority=1),
    _col("Count", description="The number of times this event has occurred.", priority=1),
    _col("Name", description=_NAME_DESC, priority=1, fmt="name"),
]


def _event_row(ev: Obj, now: datetime) -> list:
    first = _since(ev.get("firstTimestamp"), now) if ev.get("firstTimestamp") else _since(ev.get("eventTime"), now)
    last = _since(ev.get("lastTimestamp"), now) if ev.get("lastTimestamp") else first
    count = ev.get("count") or 0
    series = ev.get("series")
    if series:
        last = _since(series.get("lastObservedTime"), now)
        count = series.get("count") or 0
    elif not count:
        count = 1
    involved = ev.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    instance = source.get("host") or ev.get("reportingInstance") or ""
    source_text = f"{component}, {instance}" if instance else component
    return [
        last,
        ev.get("type", ""),
        ev.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        source_text,
        (ev.get("message") or "").strip(),
        first,
        int(count),
        _g(ev, "metadata", "name", default=""),
    ]


# --------------------------------------------------------------------------- workloads and the rest


def _ns_cells(o: Obj, now: datetime) -> list:
    return [
        o["metadata"].get("name", ""),
        _g(o, "status", "phase", default=""),
        _since(o["metadata"].get("creationTimestamp"), now),
    ]


def _cm_cells(o: Obj, now: datetime) -> list:
    return [
        o["metadata"].get("name", ""),
        len(o.get("data") or {}) + len(o.get("binaryData") or {}),
        _since(o["metadata"].get("creationTimestamp"), now),
    ]


def _sa_cells(o: Obj, now: datetime) -> list:
    return [
        o["metadata"].get("name", ""),
        len(o.get("secrets") or []),
        _since(o["metadata"].get("creationTimestamp"), now),
    ]


def _service_external_ip(svc: Obj) -> str:
    spec = svc.get("spec") or {}
    external = spec.get("externalIPs") or []
    kind = spec.get("type") or "ClusterIP"
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        ingress = _g(svc, "status", "loadBalancer", "ingress", default=[])
        lb = sorted({i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")})
        if external:
            return ",".join(lb + external)
        return ",".join(lb) if lb else "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _svc_cells(o: Obj, now: datetime) -> list:
    spec = o.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol") or "TCP"
        ports.append(f"{p.get('port')}:{p['nodePort']}/{proto}" if p.get("nodePort") else f"{p.get('port')}/{proto}")
    return [
        o["metadata"].get("name", ""),
        spec.get("type") or "ClusterIP",
        cluster_ips[0] if cluster_ips else "<none>",
        _service_external_ip(o),
        ",".join(ports) or "<none>",
        _since(o["metadata"].get("creationTimestamp"), now),
        format_labels(spec.get("selector")),
    ]


def _ds_cells(o: Obj, now: datetime) -> list:
    st, tmpl = o.get("status") or {}, _g(o, "spec", "template", "spec", default={})
    names, images = _containers(tmpl)
    return [
        o["metadata"].get("name", ""),
        int(st.get("desiredNumberScheduled") or 0),
        int(st.get("currentNumberScheduled") or 0),
        int(st.get("numberReady") or 0),
        int(st.get("updatedNumberScheduled") or 0),
        int(st.get("numberAvailable") or 0),
        format_labels(tmpl.get("nodeSelector")),
        _since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
        format_label_selector(_g(o, "spec", "selector")),
    ]


def _replicas(o: Obj) -> int:
    value = _g(o, "spec", "replicas")
    return 1 if value is None else int(value)


def _deploy_cells(o: Obj, now: datetime) -> list:
    st = o.get("status") or {}
    names, images = _containers(_g(o, "spec", "template", "spec"))
    return [
        o["metadata"].get("name", ""),
        f"{int(st.get('readyReplicas') or 0)}/{_replicas(o)}",
        int(st.get("updatedReplicas") or 0),
        int(st.get("availableReplicas") or 0),
        _since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector_string(_g(o, "spec", "selector")),
    ]


def _sts_cells(o: Obj, now: datetime) -> list:
    names, images = _containers(_g(o, "spec", "template", "spec"))
    return [
        o["metadata"].get("name", ""),
        f"{int(_g(o, 'status', 'readyReplicas') or 0)}/{_replicas(o)}",
        _since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
    ]


def _rs_cells(o: Obj, now: datetime) -> list:
    st = o.get("status") or {}
    names, images = _containers(_g(o, "spec", "template", "spec"))
    return [
        o["metadata"].get("name", ""),
        _replicas(o),
        int(st.get("replicas") or 0),
        int(st.get("readyReplicas") or 0),
        _since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
        format_label_selector(_g(o, "spec", "selector")),
    ]


def _job_condition(o: Obj, type_: str) -> bool:
    for cond in _g(o, "status", "conditions", default=[]):
        if cond.get("type") == type_:
            return cond.get("status") == "True"
    return False


def _job_cells(o: Obj, now: datetime) -> list:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    succeeded = int(st.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, done = parse_time(st.get("startTime")), parse_time(st.get("completionTime"))
    duration = ""
    if start is not None:
        duration = human_duration(((done or now) - start).total_seconds())
    if _job_condition(o, "Complete"):
        status = "Complete"
    elif _job_condition(o, "Failed"):
        status = "Failed"
    elif _g(o, "metadata", "deletionTimestamp"):
        status = "Terminating"
    elif _job_condition(o, "Suspended"):
        status = "Suspended"
    elif _job_condition(o, "FailureTarget"):
        status = "FailureTarget"
    else:
        status = "Running"
    names, images = _containers(_g(o, "spec", "template", "spec"))
    return [
        o["metadata"].get("name", ""),
        status,
        completions,
        duration,
        _since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _pdb_cells(o: Obj, now: datetime) -> list:
    spec = o.get("spec") or {}
    min_av = _int_or_string(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A"
    max_un = _int_or_string(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A"
    return [
        o["metadata"].get("name", ""),
        min_av,
        max_un,
        int(_g(o, "status", "disruptionsAllowed") or 0),
        _since(o["metadata"].get("creationTimestamp"), now),
    ]


def _hpa_metric(spec: dict, status: dict | None) -> str:
    kind = spec.get("type")
    if kind == "Resource" or kind == "ContainerResource":
        key = "resource" if kind == "Resource" else "containerResource"
        source, current = spec.get(key) or {}, _g(status, key, "current", default={})
        target = source.get("target") or {}
        if target.get("averageValue") is not None:
            return f"{source.get('name')}: {current.get('averageValue', '<unknown>')}/{target['averageValue']}"
        cur = f"{current['averageUtilization']}%" if current.get("averageUtilization") is not None else "<unknown>"
        tgt = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
        return f"{source.get('name')}: {cur}/{tgt}"
    if kind in ("External", "Object"):
        key = kind.lower()
        target = _g(spec, key, "target", default={})
        current = _g(status, key, "current", default={})
        if target.get("averageValue") is not None:
            return f"{current.get('averageValue', '<unknown>')}/{target['averageValue']} (avg)"
        return f"{current.get('value', '<unknown>')}/{target.get('value')}"
    if kind == "Pods":
        return (
            f"{_g(status, 'pods', 'current', 'averageValue', default='<unknown>')}/"
            f"{_g(spec, 'pods', 'target', 'averageValue')}"
        )
    return "<unknown type>"


def _hpa_cells(o: Obj, now: datetime) -> list:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    metrics = spec.get("metrics") or []
    statuses = st.get("currentMetrics") or []
    if not metrics:
        targets = "<none>"
    else:
        parts = [_hpa_metric(m, statuses[i] if i < len(statuses) else None) for i, m in enumerate(metrics)]
        targets = ", ".join(parts[:2]) + (f" + {len(parts) - 2} more..." if len(parts) > 2 else "")
    ref = spec.get("scaleTargetRef") or {}
    min_pods = str(spec["minReplicas"]) if spec.get("minReplicas") is not None else "<unset>"
    return [
        o["metadata"].get("name", ""),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        targets,
        min_pods,
        int(spec.get("maxReplicas") or 0),
        int(st.get("currentReplicas") or 0),
        _since(o["metadata"].get("creationTimestamp"), now),
    ]


def _lease_cells(o: Obj, now: datetime) -> list:
    return [
        o["metadata"].get("name", ""),
        _g(o, "spec", "holderIdentity", default=""),
        _since(o["metadata"].get("creationTimestamp"), now),
    ]


_PRINTERS: dict[tuple[str, str], tuple[list[dict], Callable[[Obj, datetime], list]]] = {
    ("", "Namespace"): (
        [_name_col(), _col("Status", description="The status of the namespace"), _age_col()],
        _ns_cells,
    ),
    ("", "Node"): (NODE_COLUMNS, _node_row),
    ("", "Event"): (EVENT_COLUMNS, _event_row),
    ("", "ConfigMap"): (
        [_name_col(), _col("Data", description="Data contains the configuration data."), _age_col()],
        _cm_cells,
    ),
    ("", "ServiceAccount"): (
        [
            _name_col(),
            _col(
                "Secrets",
                description="Secrets is a list of the secrets in the same "
                "namespace that pods running using this ServiceAccount are allowed "
                "to use.",
            ),
            _age_col(),
        ],
        _sa_cells,
    ),
    ("", "Service"): (
        [
            _name_col(),
            _col("Type", description="type determines how the Service is exposed."),
            _col("Cluster-IP", description="clusterIP is the IP address of the service."),
            _col(
                "External-IP",
                description="externalIPs is a list of IP addresses for which nodes in the "
                "cluster will also accept traffic for this service.",
            ),
            _col("Port(s)", description="The list of ports that are exposed by this service."),
            _age_col(),
            _col(
                "Selector",
                description="Route service traffic to pods with label keys and values matching this selector.",
                priority=1,
            ),
        ],
        _svc_cells,
    ),
    ("apps", "DaemonSet"): (
        [
            _name_col(),
            _col("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
            _col(
                "Current",
                "integer",
                "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
            ),
            _col(
                "Ready",
                "integer",
                "The number of nodes that should be running the daemon pod and "
                "have one or more of the daemon pod running and ready.",
            ),
            _col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
            _col(
                "Available",
                "integer",
                "The number of nodes that should be running the daemon pod "
                "and have one or more of the daemon pod running and "
                "available.",
            ),
            _col(
                "Node Selector",
                description="NodeSelector is a selector which must be true for the pod to fit on a node.",
            ),
            _age_col(),
            _col("Containers", description=_CONTAINERS_DESC, priority=1),
            _col("Images", description=_IMAGES_DESC, priority=1),
            _col("Selector", description="A label query over pods that are managed by the daemon set.", priority=1),
        ],
        _ds_cells,
    ),
    ("apps", "Deployment"): (
        [
            _name_col(),
            _col("Ready", description="Number of the pod with ready state"),
            _col(
                "Up-to-date",
                description="Total number of non-terminated pods targeted by this "
                "deployment that have the desired template spec.",
            ),
            _col(
                "Available",
                description="Total number of available pods (ready for at least "
                "minReadySeconds) targeted by this deployment.",
            ),
            _age_col(),
            _col("Containers", description=_CONTAINERS_DESC, priority=1),
            _col("Images", description=_IMAGES_DESC, priority=1),
            _col("Selector", description="Label selector for pods.", priority=1),
        ],
        _deploy_cells,
    ),
    ("apps", "StatefulSet"): (
        [
            _name_col(),
            _col("Ready", description="Number of the pod with ready state"),
            _age_col(),
            _col("Containers", description=_CONTAINERS_DESC, priority=1),
            _col("Images", description=_IMAGES_DESC, priority=1),
        ],
        _sts_cells,
    ),
    ("apps", "ReplicaSet"): (
        [
            _name_col(),
            _col("Desired", "integer", "Replicas is the number of desired replicas."),
            _col("Current", "integer", "Replicas is the most recently observed number of replicas."),
            _col("Ready", "integer", "The number of ready replicas for this replica set."),
            _age_col(),
            _col("Containers", description=_CONTAINERS_DESC, priority=1),
            _col("Images", description=_IMAGES_DESC, priority=1),
            _col(
                "Selector",
                description="Selector is a label query over pods that should match the replica count.",
                priority=1,
            ),
        ],
        _rs_cells,
    ),
    ("batch", "Job"): (
        [
            _name_col(),
            _col("Status", description="Status of the job."),
            _col("Completions", description="The number of pods which reached phase Succeeded."),
            _col("Duration", description="Time required to complete the job."),
            _age_col(),
            _col("Containers", description=_CONTAINERS_DESC, priority=1),
            _col("Images", description=_IMAGES_DESC, priority=1),
            _col("Selector", description="A label query over pods that should match the pod count.", priority=1),
        ],
        _job_cells,
    ),
    ("policy", "PodDisruptionBudget"): (
        [
            _name_col(),
            _col("Min Available", description="The minimum number of pods that must be available."),
            _col("Max Unavailable", description="The maximum number of pods that may be unavailable."),
            _col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
            _age_col(),
        ],
        _pdb_cells,
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): (
        [
            _name_col(),
            _col("Reference", description="The target resource to scale."),
            _col("Targets", description="The metrics used to calculate the desired replica count."),
            _col("MinPods", description="The lower limit for the number of replicas."),
            _col("MaxPods", description="The upper limit for the number of replicas."),
            _col("Replicas", description="Current number of replicas of pods managed by this autoscaler."),
            _age_col(),
        ],
        _hpa_cells,
    ),
    ("coordination.k8s.io", "Lease"): (
        [
            _name_col(),
            _col("Holder", description="holderIdentity contains the identity of the holder of a current lease."),
            _age_col(),
        ],
        _lease_cells,
    ),
}


def _custom_cell(type_: str, value: Any, now: datetime) -> Any:
    if value is None:
        return None
    if type_ == "string":
        return jsonpath_text(value)
    if type_ == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return int(value)
        return None
    if type_ == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if type_ == "boolean":
        return value if isinstance(value, bool) else None
    if type_ == "date":
        if isinstance(value, str):
            when = parse_time(value)
            return "<invalid>" if when is None else human_duration((now - when).total_seconds())
        return None
    return None


def crd_printer_columns(rt: ResourceType, version: str | None = None) -> list[dict]:
    """The additionalPrinterColumns of the served version, or the server's default (Age)."""
    crd = rt.crd or {}
    spec = crd.get("spec") or {}
    want = version or rt.version
    for v in spec.get("versions") or []:
        if v.get("name") == want:
            columns = v.get("additionalPrinterColumns")
            break
    else:
        columns = spec.get("additionalPrinterColumns")
    if not columns:
        return [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    return list(columns)


def _custom_table(rt: ResourceType, objects: list[Obj], now: datetime) -> tuple[list[dict], list[tuple[list, list]]]:
    columns = crd_printer_columns(rt)
    defs = [_name_col()]
    for c in columns:
        desc = c.get("description") or f"Custom resource definition column (in JSONPath format): {c.get('jsonPath')}"
        defs.append(
            _col(
                c.get("name", ""),
                c.get("type", "string"),
                desc,
                priority=int(c.get("priority") or 0),
                fmt=c.get("format", ""),
            )
        )
    rows = []
    for o in objects:
        cells: list = [_g(o, "metadata", "name", default="")]
        for c in columns:
            try:
                found = jsonpath_values(o, c.get("jsonPath", ""))
            except JsonPathError:
                found = []
            cells.append(_custom_cell(c.get("type", "string"), found[0] if found else None, now))
        rows.append((cells, []))
    return defs, rows


def _default_table(objects: list[Obj]) -> tuple[list[dict], list[tuple[list, list]]]:
    defs = [_name_col(), _col("Created At", "date", _AGE_DESC)]
    rows = []
    for o in objects:
        created = parse_time(_g(o, "metadata", "creationTimestamp"))
        stamp = created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if created else "0001-01-01T00:00:00Z"
        rows.append(([_g(o, "metadata", "name", default=""), stamp], []))
    return defs, rows


# --------------------------------------------------------------------------- entry point


def _partial_metadata(obj: Obj) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def render_table(
    rt: ResourceType,
    objects: list[Obj],
    *,
    include_object: str = "Metadata",
    now: datetime | None = None,
    resource_version: str = "",
) -> dict:
    """A meta.k8s.io/v1 Table for `objects` of type `rt`.

    include_object: "Metadata" (PartialObjectMetadata per row, kubectl's default), "Object" or "None".
    """
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if rt.crd is not None:
        defs, rows = _custom_table(rt, objects, now)
    elif rt.group == "" and rt.kind == "Pod":
        defs, rows = POD_COLUMNS, [_pod_row(o, now) for o in objects]
    elif (rt.group, rt.kind) in _PRINTERS:
        defs, cells_of = _PRINTERS[(rt.group, rt.kind)]
        rows = [(cells_of(o, now), []) for o in objects]
    else:
        defs, rows = _default_table(objects)
    out_rows = []
    for obj, (cells, conditions) in zip(objects, rows):
        row: dict = {"cells": cells}
        if conditions:
            row["conditions"] = conditions
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = _partial_metadata(obj)
        out_rows.append(row)
    table: dict = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [dict(d) for d in defs],
        "rows": out_rows,
    }
    if resource_version:
        table["metadata"]["resourceVersion"] = resource_version
    return table
