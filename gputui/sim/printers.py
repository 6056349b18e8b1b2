"""Table printers for the built-in kinds other than pods (nodes, events, workloads, ...),
with the columns and cell text of kube-apiserver's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gputui.sim.printer_cells import (
    CONTAINERS_DESC,
    IMAGES_DESC,
    NAME_DESC,
    Obj,
    age_column,
    age_since,
    column,
    container_cells,
    format_label_selector,
    format_labels,
    human_duration,
    int_or_string,
    lookup,
    name_column,
    parse_time,
    selector_string,
)

# --------------------------------------------------------------------------- nodes

NODE_COLUMNS = [
    name_column(),
    column("Status", description="The status of the node"),
    column("Roles", description="The roles of the node"),
    age_column(),
    column("Version", description="Kubelet Version reported by the node."),
    column("Internal-IP", description="List of addresses reachable to the node.", priority=1),
    column("External-IP", description="List of addresses reachable to the node.", priority=1),
    column("OS-Image", description="OS Image reported by the node from /etc/os-release.", priority=1),
    column("Kernel-Version", description="Kernel Version reported by the node.", priority=1),
    column("Container-Runtime", description="ContainerRuntime Version reported by the node.", priority=1),
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
        age_since(meta.get("creationTimestamp"), now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


# --------------------------------------------------------------------------- events

EVENT_COLUMNS = [
    column("Last Seen", description="The time at which the most recent occurrence of this event was recorded."),
    column("Type", description="Type of this event (Normal, Warning), new types could be added in the future"),
    column(
        "Reason",
        description="This should be a short, machine understandable string that gives the reason "
        "for the transition into the object's current status.",
    ),
    column("Object", description="The object that this event is about."),
    column(
        "Subobject",
        description="If referring to a piece of an object instead of an entire object, this "
        "string should contain a valid JSON/Go field access statement.",
        priority=1,
    ),
    column("Source", description="The component reporting this event.", priority=1),
    column("Message", description="A human-readable description of the status of this operation."),
    column("First Seen", description="The time at which the event was first recorded.", priority=1),
    column("Count", description="The number of times this event has occurred.", priority=1),
    column("Name", description=NAME_DESC, priority=1, fmt="name"),
]


def _event_row(ev: Obj, now: datetime) -> list:
    first = (
        age_since(ev.get("firstTimestamp"), now) if ev.get("firstTimestamp") else age_since(ev.get("eventTime"), now)
    )
    last = age_since(ev.get("lastTimestamp"), now) if ev.get("lastTimestamp") else first
    count = ev.get("count") or 0
    series = ev.get("series")
    if series:
        last = age_since(series.get("lastObservedTime"), now)
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
        lookup(ev, "metadata", "name", default=""),
    ]


# --------------------------------------------------------------------------- workloads and the rest


def _ns_cells(o: Obj, now: datetime) -> list:
    return [
        o["metadata"].get("name", ""),
        lookup(o, "status", "phase", default=""),
        age_since(o["metadata"].get("creationTimestamp"), now),
    ]


def _cm_cells(o: Obj, now: datetime) -> list:
    return [
        o["metadata"].get("name", ""),
        len(o.get("data") or {}) + len(o.get("binaryData") or {}),
        age_since(o["metadata"].get("creationTimestamp"), now),
    ]


def _sa_cells(o: Obj, now: datetime) -> list:
    return [
        o["metadata"].get("name", ""),
        len(o.get("secrets") or []),
        age_since(o["metadata"].get("creationTimestamp"), now),
    ]


def _service_external_ip(svc: Obj) -> str:
    spec = svc.get("spec") or {}
    external = spec.get("externalIPs") or []
    kind = spec.get("type") or "ClusterIP"
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        ingress = lookup(svc, "status", "loadBalancer", "ingress", default=[])
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
        age_since(o["metadata"].get("creationTimestamp"), now),
        format_labels(spec.get("selector")),
    ]


def _ds_cells(o: Obj, now: datetime) -> list:
    st, tmpl = o.get("status") or {}, lookup(o, "spec", "template", "spec", default={})
    names, images = container_cells(tmpl)
    return [
        o["metadata"].get("name", ""),
        int(st.get("desiredNumberScheduled") or 0),
        int(st.get("currentNumberScheduled") or 0),
        int(st.get("numberReady") or 0),
        int(st.get("updatedNumberScheduled") or 0),
        int(st.get("numberAvailable") or 0),
        format_labels(tmpl.get("nodeSelector")),
        age_since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
        format_label_selector(lookup(o, "spec", "selector")),
    ]


def _replicas(o: Obj) -> int:
    value = lookup(o, "spec", "replicas")
    return 1 if value is None else int(value)


def _deploy_cells(o: Obj, now: datetime) -> list:
    st = o.get("status") or {}
    names, images = container_cells(lookup(o, "spec", "template", "spec"))
    return [
        o["metadata"].get("name", ""),
        f"{int(st.get('readyReplicas') or 0)}/{_replicas(o)}",
        int(st.get("updatedReplicas") or 0),
        int(st.get("availableReplicas") or 0),
        age_since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
        selector_string(lookup(o, "spec", "selector")),
    ]


def _sts_cells(o: Obj, now: datetime) -> list:
    names, images = container_cells(lookup(o, "spec", "template", "spec"))
    return [
        o["metadata"].get("name", ""),
        f"{int(lookup(o, 'status', 'readyReplicas') or 0)}/{_replicas(o)}",
        age_since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
    ]


def _rs_cells(o: Obj, now: datetime) -> list:
    st = o.get("status") or {}
    names, images = container_cells(lookup(o, "spec", "template", "spec"))
    return [
        o["metadata"].get("name", ""),
        _replicas(o),
        int(st.get("replicas") or 0),
        int(st.get("readyReplicas") or 0),
        age_since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
        format_label_selector(lookup(o, "spec", "selector")),
    ]


def _job_condition(o: Obj, type_: str) -> bool:
    for cond in lookup(o, "status", "conditions", default=[]):
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
    elif lookup(o, "metadata", "deletionTimestamp"):
        status = "Terminating"
    elif _job_condition(o, "Suspended"):
        status = "Suspended"
    elif _job_condition(o, "FailureTarget"):
        status = "FailureTarget"
    else:
        status = "Running"
    names, images = container_cells(lookup(o, "spec", "template", "spec"))
    return [
        o["metadata"].get("name", ""),
        status,
        completions,
        duration,
        age_since(o["metadata"].get("creationTimestamp"), now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _pdb_cells(o: Obj, now: datetime) -> list:
    spec = o.get("spec") or {}
    min_av = int_or_string(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A"
    max_un = int_or_string(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A"
    return [
        o["metadata"].get("name", ""),
        min_av,
        max_un,
        int(lookup(o, "status", "disruptionsAllowed") or 0),
        age_since(o["metadata"].get("creationTimestamp"), now),
    ]


def _hpa_metric(spec: dict, status: dict | None) -> str:
    kind = spec.get("type")
    if kind == "Resource" or kind == "ContainerResource":
        key = "resource" if kind == "Resource" else "containerResource"
        source, current = spec.get(key) or {}, lookup(status, key, "current", default={})
        target = source.get("target") or {}
        if target.get("averageValue") is not None:
            return f"{source.get('name')}: {current.get('averageValue', '<unknown>')}/{target['averageValue']}"
        cur = f"{current['averageUtilization']}%" if current.get("averageUtilization") is not None else "<unknown>"
        tgt = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
        return f"{source.get('name')}: {cur}/{tgt}"
    if kind in ("External", "Object"):
        key = kind.lower()
        target = lookup(spec, key, "target", default={})
        current = lookup(status, key, "current", default={})
        if target.get("averageValue") is not None:
            return f"{current.get('averageValue', '<unknown>')}/{target['averageValue']} (avg)"
        return f"{current.get('value', '<unknown>')}/{target.get('value')}"
    if kind == "Pods":
        return (
            f"{lookup(status, 'pods', 'current', 'averageValue', default='<unknown>')}/"
            f"{lookup(spec, 'pods', 'target', 'averageValue')}"
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
        age_since(o["metadata"].get("creationTimestamp"), now),
    ]


def _lease_cells(o: Obj, now: datetime) -> list:
    return [
        o["metadata"].get("name", ""),
        lookup(o, "spec", "holderIdentity", default=""),
        age_since(o["metadata"].get("creationTimestamp"), now),
    ]


def _role_cells(o: Obj, now: datetime) -> list:
    return [o["metadata"].get("name", ""), o["metadata"].get("creationTimestamp", "")]


def _binding_cells(o: Obj, now: datetime) -> list:
    ref = o.get("roleRef") or {}
    subjects = o.get("subjects") or []

    def names(kind: str) -> str:
        return ", ".join(
            (f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount" else s.get("name", ""))
            for s in subjects
            if s.get("kind") == kind
        )

    return [
        o["metadata"].get("name", ""),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        age_since(o["metadata"].get("creationTimestamp"), now),
        names("User"),
        names("Group"),
        names("ServiceAccount"),
    ]


_ROLE_COLUMNS = [name_column(), column("Created At", "date", "Creation time of the role.")]
_BINDING_COLUMNS = [
    name_column(),
    column("Role", description="The role the binding grants."),
    age_column(),
    column("Users", description="Users in the binding.", priority=1),
    column("Groups", description="Groups in the binding.", priority=1),
    column("ServiceAccounts", description="ServiceAccounts in the binding.", priority=1),
]

PRINTERS: dict[tuple[str, str], tuple[list[dict], Callable[[Obj, datetime], list]]] = {
    ("", "Namespace"): (
        [name_column(), column("Status", description="The status of the namespace"), age_column()],
        _ns_cells,
    ),
    ("", "Node"): (NODE_COLUMNS, _node_row),
    ("", "Event"): (EVENT_COLUMNS, _event_row),
    ("", "ConfigMap"): (
        [name_column(), column("Data", description="Data contains the configuration data."), age_column()],
        _cm_cells,
    ),
    ("", "ServiceAccount"): (
        [
            name_column(),
            column(
                "Secrets",
                description="Secrets is a list of the secrets in the same "
                "namespace that pods running using this ServiceAccount are allowed "
                "to use.",
            ),
            age_column(),
        ],
        _sa_cells,
    ),
    ("", "Service"): (
        [
            name_column(),
            column("Type", description="type determines how the Service is exposed."),
            column("Cluster-IP", description="clusterIP is the IP address of the service."),
            column(
                "External-IP",
                description="externalIPs is a list of IP addresses for which nodes in the "
                "cluster will also accept traffic for this service.",
            ),
            column("Port(s)", description="The list of ports that are exposed by this service."),
            age_column(),
            column(
                "Selector",
                description="Route service traffic to pods with label keys and values matching this selector.",
                priority=1,
            ),
        ],
        _svc_cells,
    ),
    ("apps", "DaemonSet"): (
        [
            name_column(),
            column("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
            column(
                "Current",
                "integer",
                "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
            ),
            column(
                "Ready",
                "integer",
                "The number of nodes that should be running the daemon pod and "
                "have one or more of the daemon pod running and ready.",
            ),
            column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
            column(
                "Available",
                "integer",
                "The number of nodes that should be running the daemon pod "
                "and have one or more of the daemon pod running and "
                "available.",
            ),
            column(
                "Node Selector",
                description="NodeSelector is a selector which must be true for the pod to fit on a node.",
            ),
            age_column(),
            column("Containers", description=CONTAINERS_DESC, priority=1),
            column("Images", description=IMAGES_DESC, priority=1),
            column("Selector", description="A label query over pods that are managed by the daemon set.", priority=1),
        ],
        _ds_cells,
    ),
    ("apps", "Deployment"): (
        [
            name_column(),
            column("Ready", description="Number of the pod with ready state"),
            column(
                "Up-to-date",
                description="Total number of non-terminated pods targeted by this "
                "deployment that have the desired template spec.",
            ),
            column(
                "Available",
                description="Total number of available pods (ready for at least "
                "minReadySeconds) targeted by this deployment.",
            ),
            age_column(),
            column("Containers", description=CONTAINERS_DESC, priority=1),
            column("Images", description=IMAGES_DESC, priority=1),
            column("Selector", description="Label selector for pods.", priority=1),
        ],
        _deploy_cells,
    ),
    ("apps", "StatefulSet"): (
        [
            name_column(),
            column("Ready", description="Number of the pod with ready state"),
            age_column(),
            column("Containers", description=CONTAINERS_DESC, priority=1),
            column("Images", description=IMAGES_DESC, priority=1),
        ],
        _sts_cells,
    ),
    ("apps", "ReplicaSet"): (
        [
            name_column(),
            column("Desired", "integer", "Replicas is the number of desired replicas."),
            column("Current", "integer", "Replicas is the most recently observed number of replicas."),
            column("Ready", "integer", "The number of ready replicas for this replica set."),
            age_column(),
            column("Containers", description=CONTAINERS_DESC, priority=1),
            column("Images", description=IMAGES_DESC, priority=1),
            column(
                "Selector",
                description="Selector is a label query over pods that should match the replica count.",
                priority=1,
            ),
        ],
        _rs_cells,
    ),
    ("batch", "Job"): (
        [
            name_column(),
            column("Status", description="Status of the job."),
            column("Completions", description="The number of pods which reached phase Succeeded."),
            column("Duration", description="Time required to complete the job."),
            age_column(),
            column("Containers", description=CONTAINERS_DESC, priority=1),
            column("Images", description=IMAGES_DESC, priority=1),
            column("Selector", description="A label query over pods that should match the pod count.", priority=1),
        ],
        _job_cells,
    ),
    ("policy", "PodDisruptionBudget"): (
        [
            name_column(),
            column("Min Available", description="The minimum number of pods that must be available."),
            column("Max Unavailable", description="The maximum number of pods that may be unavailable."),
            column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
            age_column(),
        ],
        _pdb_cells,
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): (
        [
            name_column(),
            column("Reference", description="The target resource to scale."),
            column("Targets", description="The metrics used to calculate the desired replica count."),
            column("MinPods", description="The lower limit for the number of replicas."),
            column("MaxPods", description="The upper limit for the number of replicas."),
            column("Replicas", description="Current number of replicas of pods managed by this autoscaler."),
            age_column(),
        ],
        _hpa_cells,
    ),
    ("coordination.k8s.io", "Lease"): (
        [
            name_column(),
            column("Holder", description="holderIdentity contains the identity of the holder of a current lease."),
            age_column(),
        ],
        _lease_cells,
    ),
    ("rbac.authorization.k8s.io", "ClusterRole"): (_ROLE_COLUMNS, _role_cells),
    ("rbac.authorization.k8s.io", "Role"): (_ROLE_COLUMNS, _role_cells),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): (_BINDING_COLUMNS, _binding_cells),
    ("rbac.authorization.k8s.io", "RoleBinding"): (_BINDING_COLUMNS, _binding_cells),
}
