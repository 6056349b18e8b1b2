"""Server-side tables: columns and cell text as kube-apiserver's printers produce them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gputui.sim.jsonpath import jsonpath_values
from gputui.sim.pod_printer import pod_status_text
from gputui.sim.printer_cells import human_duration
from gputui.sim.resources import BUILTIN_TYPES, ResourceType
from gputui.sim.tables import render_table

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)


def ago(**kw) -> str:
    return (NOW - timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rt(kind: str) -> ResourceType:
    return next(t for t in BUILTIN_TYPES if t.kind == kind)


def names(table: dict) -> list[str]:
    return [c["name"] for c in table["columnDefinitions"]]


def cells(table: dict, row: int = 0) -> dict:
    return dict(zip(names(table), table["rows"][row]["cells"]))


@pytest.mark.parametrize(
    "seconds,text",
    [
        (0, "0s"),
        (5, "5s"),
        (119, "119s"),
        (120, "2m"),
        (182, "3m2s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 3 * 60, "5h3m"),
        (30 * 3600, "30h"),
        (2 * 86400 + 3 * 3600, "2d3h"),
        (3 * 86400, "3d"),
        (40 * 86400, "40d"),
        (800 * 86400, "2y70d"),
        (3000 * 86400, "8y"),
        (-1, "0s"),
        (-5, "<invalid>"),
    ],
)
def test_human_duration_matches_kubectl(seconds, text):
    assert human_duration(seconds) == text


def pod(
    name="p",
    *,
    phase="Running",
    containers=None,
    init=None,
    statuses=None,
    init_statuses=None,
    conditions=None,
    created=None,
    deleting=False,
    node="ip-10-0-1-1",
    ip="10.0.1.5",
):
    meta = {"name": name, "namespace": "default", "creationTimestamp": created or ago(minutes=3, seconds=2)}
    if deleting:
        meta["deletionTimestamp"] = ago(seconds=1)
    spec = {"containers": containers or [{"name": "main", "image": "busybox"}], "nodeName": node}
    if init:
        spec["initContainers"] = init
    status = {"phase": phase, "containerStatuses": statuses or [], "podIP": ip, "podIPs": [{"ip": ip}]}
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if conditions is not None:
        status["conditions"] = conditions
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def running(name="main", restarts=0, finished=None, ready=True):
    cs = {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {"startedAt": ago(minutes=1)}}}
    if finished:
        cs["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": finished}}
    return cs


def test_pod_columns_and_running_row():
    t = render_table(rt("Pod"), [pod(statuses=[running()])], now=NOW)
    assert names(t) == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
    assert [c["priority"] for c in t["columnDefinitions"]] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert t["rows"][0]["cells"] == ["p", "1/1", "Running", "0", "3m2s", "10.0.1.5", "ip-10-0-1-1", "<none>", "<none>"]
    assert t["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod()["metadata"] | {"creationTimestamp": ago(minutes=3, seconds=2)},
    }
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"


def test_pod_crashloop_shows_restarts_with_last_restart_age():
    cs = {
        "name": "main",
        "ready": False,
        "restartCount": 5,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=2)}},
    }
    c = cells(render_table(rt("Pod"), [pod(statuses=[cs])], now=NOW))
    assert (c["Ready"], c["Status"], c["Restarts"]) == ("0/1", "CrashLoopBackOff", "5 (2m ago)")


@pytest.mark.parametrize(
    "init_status,expected",
    [
        ({"name": "init", "ready": False, "restartCount": 0, "state": {"running": {}}}, "Init:0/1"),
        (
            {"name": "init", "ready": False, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            "Init:CrashLoopBackOff",
        ),
        (
            {"name": "init", "ready": False, "restartCount": 0, "state": {"terminated": {"exitCode": 2}}},
            "Init:ExitCode:2",
        ),
        (
            {
                "name": "init",
                "ready": False,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 1, "reason": "Error"}},
            },
            "Init:Error",
        ),
    ],
)
def test_pod_init_states(init_status, expected):
    p = pod(
        phase="Pending",
        init=[{"name": "init", "image": "x"}],
        init_statuses=[init_status],
        statuses=[
            {"name": "main", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
        ],
    )
    assert cells(render_table(rt("Pod"), [p], now=NOW))["Status"] == expected


def test_pod_completed_container_creating_terminating_and_pending():
    done = pod(
        phase="Succeeded",
        statuses=[
            {
                "name": "main",
                "ready": False,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
            }
        ],
    )
    creating = pod(
        phase="Pending",
        statuses=[
            {"name": "main", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}
        ],
    )
    deleting = pod(statuses=[running()], deleting=True)
    pending = pod(phase="Pending", node="", ip="")
    t = render_table(rt("Pod"), [done, creating, deleting, pending], now=NOW)
    assert [r["cells"][2] for r in t["rows"]] == ["Completed", "ContainerCreating", "Terminating", "Pending"]
    assert t["rows"][0]["conditions"][0]["reason"] == "Succeeded"
    assert pod_status_text(deleting, NOW) == "Terminating"
    assert t["rows"][3]["cells"][5:7] == ["<none>", "<none>"]


def test_pod_readiness_gates_and_sidecar_counts():
    p = pod(
        statuses=[running()],
        init=[{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
        init_statuses=[{"name": "proxy", "ready": True, "started": True, "restartCount": 0, "state": {"running": {}}}],
        conditions=[
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"},
            {"type": "example.com/gate", "status": "False"},
        ],
    )
    p["spec"]["readinessGates"] = [{"conditionType": "example.com/gate"}]
    c = cells(render_table(rt("Pod"), [p], now=NOW))
    assert (c["Ready"], c["Status"], c["Readiness Gates"]) == ("2/2", "Running", "0/1")


def node(name="ip-10-0-3-7", *, ready="True", unschedulable=False, labels=None):
    n = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "creationTimestamp": ago(days=2, hours=3), "labels": labels or {}},
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {
            "conditions": [{"type": "Ready", "status": ready}],
            "addresses": [{"type": "InternalIP", "address": "10.0.3.7"}, {"type": "Hostname", "address": name}],
            "nodeInfo": {
                "kubeletVersion": "v1.32.3-eks-1",
                "osImage": "Amazon Linux 2023",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "containerd://1.7.27",
            },
        },
    }
    return n


def test_node_row_with_roles_cordon_and_wide_cells():
    t = render_table(
        rt("Node"),
        [
            node(unschedulable=True, labels={"node-role.kubernetes.io/worker": "", "kubernetes.io/role": "gpu"}),
            node("b", ready="False"),
            node("c", ready="Unknown"),
        ],
        now=NOW,
    )
    assert names(t) == [
        "Name",
        "Status",
        "Roles",
        "Age",
        "Version",
        "Internal-IP",
        "External-IP",
        "OS-Image",
        "Kernel-Version",
        "Container-Runtime",
    ]
    assert t["rows"][0]["cells"] == [
        "ip-10-0-3-7",
        "Ready,SchedulingDisabled",
        "gpu,worker",
        "2d3h",
        "v1.32.3-eks-1",
        "10.0.3.7",
        "<none>",
        "Amazon Linux 2023",
        "6.1.0",
        "containerd://1.7.27",
    ]
    assert [r["cells"][1] for r in t["rows"][1:]] == ["NotReady", "NotReady"]


def test_event_row_wide_order():
    ev = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "p.17a", "namespace": "default", "creationTimestamp": ago(minutes=5)},
        "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{main}"},
        "reason": "BackOff",
        "type": "Warning",
        "message": "Back-off restarting failed container\n",
        "source": {"component": "kubelet", "host": "ip-10-0-3-7"},
        "firstTimestamp": ago(minutes=5),
        "lastTimestamp": ago(seconds=30),
        "count": 7,
    }
    t = render_table(rt("Event"), [ev], now=NOW)
    assert names(t) == [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Subobject",
        "Source",
        "Message",
        "First Seen",
        "Count",
        "Name",
    ]
    assert t["rows"][0]["cells"] == [
        "30s",
        "Warning",
        "BackOff",
        "pod/p",
        "spec.containers{main}",
        "kubelet, ip-10-0-3-7",
        "Back-off restarting failed container",
        "5m",
        7,
        "p.17a",
    ]


def test_daemonset_deployment_job_rows():
    ds = {
        "metadata": {"name": "nvidia-device-plugin-daemonset", "creationTimestamp": ago(hours=5)},
        "spec": {
            "selector": {"matchLabels": {"app": "nvidia-device-plugin-daemonset"}},
            "template": {
                "spec": {
                    "nodeSelector": {"nvidia.com/gpu.deploy.device-plugin": "true"},
                    "containers": [{"name": "plugin", "image": "nvcr.io/plugin:v0.17"}],
                }
            },
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    c = cells(render_table(rt("DaemonSet"), [ds], now=NOW))
    assert list(c.values()) == [
        "nvidia-device-plugin-daemonset",
        3,
        3,
        2,
        3,
        2,
        "nvidia.com/gpu.deploy.device-plugin=true",
        "5h",
        "plugin",
        "nvcr.io/plugin:v0.17",
        "app=nvidia-device-plugin-daemonset",
    ]
    dep = {
        "metadata": {"name": "web", "creationTimestamp": ago(days=3)},
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
            },
            "template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}},
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert render_table(rt("Deployment"), [dep], now=NOW)["rows"][0]["cells"] == [
        "web",
        "2/3",
        3,
        2,
        "3d",
        "a,b",
        "x,y",
        "app=web,tier in (a,b)",
    ]
    job = {
        "metadata": {"name": "smi", "creationTimestamp": ago(minutes=4)},
        "spec": {"completions": 1, "template": {"spec": {"containers": [{"name": "c", "image": "cuda"}]}}},
        "status": {
            "succeeded": 1,
            "startTime": ago(minutes=4),
            "completionTime": ago(minutes=3, seconds=50),
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    t = render_table(rt("Job"), [job], now=NOW)
    assert names(t)[:5] == ["Name", "Status", "Completions", "Duration", "Age"]
    assert t["rows"][0]["cells"][:5] == ["smi", "Complete", "1/1", "10s", "4m"]


def test_other_builtins():
    now_obj = {"name": "x", "creationTimestamp": ago(seconds=42)}
    assert render_table(rt("Namespace"), [{"metadata": now_obj, "status": {"phase": "Active"}}], now=NOW)["rows"][0][
        "cells"
    ] == ["x", "Active", "42s"]
    assert render_table(rt("ConfigMap"), [{"metadata": now_obj, "data": {"a": "1", "b": "2"}}], now=NOW)["rows"][0][
        "cells"
    ] == ["x", 2, "42s"]
    svc = {
        "metadata": now_obj,
        "spec": {
            "type": "ClusterIP",
            "clusterIPs": ["10.100.0.1"],
            "ports": [{"port": 443, "protocol": "TCP"}],
            "selector": {"app": "x"},
        },
    }
    assert render_table(rt("Service"), [svc], now=NOW)["rows"][0]["cells"] == [
        "x",
        "ClusterIP",
        "10.100.0.1",
        "<none>",
        "443/TCP",
        "42s",
        "app=x",
    ]
    pdb = {"metadata": now_obj, "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 0}}
    assert render_table(rt("PodDisruptionBudget"), [pdb], now=NOW)["rows"][0]["cells"] == ["x", "50%", "N/A", 0, "42s"]
    sts = {
        "metadata": now_obj,
        "spec": {"replicas": 2, "template": {"spec": {"containers": []}}},
        "status": {"readyReplicas": 1},
    }
    assert render_table(rt("StatefulSet"), [sts], now=NOW)["rows"][0]["cells"][:3] == ["x", "1/2", "42s"]
    rs = {
        "metadata": now_obj,
        "spec": {"replicas": 2, "template": {"spec": {"containers": []}}},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert render_table(rt("ReplicaSet"), [rs], now=NOW)["rows"][0]["cells"][:5] == ["x", 2, 2, 1, "42s"]
    hpa = {
        "metadata": now_obj,
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
                }
            ],
        },
        "status": {
            "currentReplicas": 2,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 31}}}
            ],
        },
    }
    assert render_table(rt("HorizontalPodAutoscaler"), [hpa], now=NOW)["rows"][0]["cells"] == [
        "x",
        "Deployment/web",
        "cpu: 31%/80%",
        "1",
        5,
        2,
        "42s",
    ]
    lease = {"metadata": now_obj, "spec": {"holderIdentity": "karpenter-abc"}}
    assert render_table(rt("Lease"), [lease], now=NOW)["rows"][0]["cells"] == ["x", "karpenter-abc", "42s"]
    crd_table = render_table(rt("CustomResourceDefinition"), [{"metadata": now_obj}], now=NOW)
    assert names(crd_table) == ["Name", "Created At"]
    assert crd_table["rows"][0]["cells"] == ["x", ago(seconds=42)]


NODECLAIM_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "nodeclaims.karpenter.sh"},
    "spec": {
        "group": "karpenter.sh",
        "scope": "Cluster",
        "names": {"kind": "NodeClaim", "plural": "nodeclaims", "singular": "nodeclaim"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "additionalPrinterColumns": [
                    {
                        "jsonPath": ".metadata.labels.node\\.kubernetes\\.io/instance-type",
                        "name": "Type",
                        "type": "string",
                    },
                    {"jsonPath": ".status.nodeName", "name": "Node", "type": "string"},
                    {"jsonPath": '.status.conditions[?(@.type=="Ready")].status', "name": "Ready", "type": "string"},
                    {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"},
                    {"jsonPath": ".spec.weight", "name": "Weight", "type": "integer", "priority": 1},
                    {"jsonPath": ".status.nodeName", "name": "Missing", "type": "string", "priority": 1},
                ],
            }
        ],
    },
}


def test_custom_resource_columns_from_crd():
    t_rt = ResourceType.from_crd(NODECLAIM_CRD)
    claim = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodeClaim",
        "metadata": {
            "name": "gpu-abc12",
            "creationTimestamp": ago(minutes=7),
            "labels": {"node.kubernetes.io/instance-type": "g5.xlarge"},
        },
        "spec": {"weight": 10},
        "status": {
            "nodeName": "ip-10-0-3-7",
            "conditions": [{"type": "Launched", "status": "True"}, {"type": "Ready", "status": "False"}],
        },
    }
    bare = {"metadata": {"name": "empty", "creationTimestamp": ago(minutes=1)}}
    t = render_table(t_rt, [claim, bare], now=NOW)
    assert names(t) == ["Name", "Type", "Node", "Ready", "Age", "Weight", "Missing"]
    assert [c["type"] for c in t["columnDefinitions"]] == [
        "string",
        "string",
        "string",
        "string",
        "date",
        "integer",
        "string",
    ]
    assert t["columnDefinitions"][5]["priority"] == 1
    assert t["rows"][0]["cells"] == ["gpu-abc12", "g5.xlarge", "ip-10-0-3-7", "False", "7m", 10, "ip-10-0-3-7"]
    assert t["rows"][1]["cells"] == ["empty", None, None, None, "60s", None, None]


def test_custom_resource_without_columns_gets_age():
    crd = {
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        }
    }
    t = render_table(
        ResourceType.from_crd(crd),
        [{"metadata": {"name": "w", "creationTimestamp": ago(hours=30)}}],
        now=NOW,
        include_object="None",
    )
    assert names(t) == ["Name", "Age"]
    assert t["rows"] == [{"cells": ["w", "30h"]}]


def test_include_object_full():
    p = pod(statuses=[running()])
    assert render_table(rt("Pod"), [p], now=NOW, include_object="Object")["rows"][0]["object"] is p


@pytest.mark.parametrize(
    "path,expected",
    [
        (".a.b", [1]),
        (".list[1].x", ["second"]),
        (".list[*].x", ["first", "second"]),
        ('.list[?(@.type=="B")].x', ["second"]),
        (".labels.karpenter\\.sh/nodepool", ["gpu"]),
        ("{.a.b}", [1]),
        (".missing.deep", []),
    ],
)
def test_jsonpath_subset(path, expected):
    obj = {
        "a": {"b": 1},
        "list": [{"type": "A", "x": "first"}, {"type": "B", "x": "second"}],
        "labels": {"karpenter.sh/nodepool": "gpu"},
    }
    assert jsonpath_values(obj, path) == expected
