"""The real kubectl against the simulator: discovery, tables, describe, logs, writes, apply, auth.

Every test runs the kubectl binary in a subprocess with KUBECONFIG pointing at a
simulator started for the test module, and asserts on what kubectl prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from datetime import datetime, timedelta, timezone

import pytest
import yaml

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed"),
    pytest.mark.xdist_group("kubectl"),  # one module-scoped simulator and kubectl cache, on one worker
]


def ts(**ago) -> str:
    # Taken when the manifests are built (the module's simulator starts right after), so the ages kubectl
    # prints are exact however long other test files ran before this one.
    return (datetime.now(timezone.utc) - timedelta(**ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _crd(kind: str, plural: str, columns: list[dict], short: list[str]) -> dict:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.karpenter.sh"},
        "spec": {
            "group": "karpenter.sh",
            "scope": "Cluster",
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "listKind": f"{kind}List",
                "shortNames": short,
                "categories": ["karpenter"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": f"{kind} is a compact test schema.",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            },
                        }
                    },
                }
            ],
        },
    }


def _column(name, path, type_="string", priority=0):
    col = {"name": name, "jsonPath": path, "type": type_}
    if priority:
        col["priority"] = priority
    return col


NODECLAIM_CRD = _crd(
    "NodeClaim",
    "nodeclaims",
    [
        _column("Type", ".metadata.labels.node\\.kubernetes\\.io/instance-type"),
        _column("Capacity", ".metadata.labels.karpenter\\.sh/capacity-type"),
        _column("Zone", ".metadata.labels.topology\\.kubernetes\\.io/zone"),
        _column("Node", ".status.nodeName"),
        _column("Ready", '.status.conditions[?(@.type=="Ready")].status'),
        _column("Age", ".metadata.creationTimestamp", "date"),
        _column("ImageID", ".status.imageID", priority=1),
        _column("ID", ".status.providerID", priority=1),
        _column("NodePool", ".metadata.labels.karpenter\\.sh/nodepool", priority=1),
        _column("NodeClass", ".spec.nodeClassRef.name", priority=1),
        _column("Drifted", '.status.conditions[?(@.type=="Drifted")].status', priority=1),
    ],
    ["nc", "ncs"],
)

NODEPOOL_CRD = _crd(
    "NodePool",
    "nodepools",
    [
        _column("NodeClass", ".spec.template.spec.nodeClassRef.name"),
        _column("Nodes", ".status.nodes"),
        _column("Ready", '.status.conditions[?(@.type=="Ready")].status'),
        _column("Age", ".metadata.creationTimestamp", "date"),
        _column("Weight", ".spec.weight", "integer", 1),
        _column("CPU", ".status.resources.cpu", priority=1),
        _column("Memory", ".status.resources.memory", priority=1),
    ],
    ["np", "nps"],
)


def _gpu_node(name: str, ip: str, *, instance="g5.xlarge", ready="True", gpus="1", pool="gpu") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "creationTimestamp": ts(days=2, hours=3),
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": instance,
                "karpenter.sh/nodepool": pool,
                "karpenter.sh/capacity-type": "on-demand",
                "nvidia.com/gpu.present": "true",
                "topology.kubernetes.io/zone": "us-west-2a",
            },
        },
        "spec": {
            "providerID": f"aws:///us-west-2a/i-0{ip.replace('.', '')}",
            "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
        },
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": ready,
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": ts(seconds=20),
                    "lastTransitionTime": ts(days=2),
                }
            ],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "4", "memory": "16069432Ki", "pods": "58", "nvidia.com/gpu": gpus},
            "allocatable": {"cpu": "3920m", "memory": "15378232Ki", "pods": "58", "nvidia.com/gpu": gpus},
            "nodeInfo": {
                "kubeletVersion": "v1.32.3-eks-473151a",
                "osImage": "Amazon Linux 2023.6.20250203",
                "kernelVersion": "6.1.127-135.201.amzn2023.x86_64",
                "containerRuntimeVersion": "containerd://1.7.25",
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeProxyVersion": "",
                "machineID": "m",
                "systemUUID": "s",
                "bootID": "b",
            },
        },
    }


def _pod(
    name: str,
    ns: str,
    node: str,
    *,
    labels=None,
    phase="Running",
    statuses=None,
    containers=None,
    annotations=None,
    created=None,
) -> dict:
    containers = containers or [
        {
            "name": "main",
            "image": "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04",
            "resources": {"limits": {"nvidia.com/gpu": "1"}},
        }
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": labels or {},
            "annotations": annotations or {},
            "creationTimestamp": created or ts(hours=1),
        },
        "spec": {
            "nodeName": node,
            "containers": containers,
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        },
        "status": {
            "phase": phase,
            "podIP": "10.0.3.50",
            "podIPs": [{"ip": "10.0.3.50"}],
            "hostIP": "10.0.3.7",
            "startTime": ts(hours=1),
            "conditions": [{"type": "Ready", "status": "True" if phase == "Running" else "False"}],
            "containerStatuses": statuses
            or [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": "",
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": ts(hours=1)}},
                }
                for c in containers
            ],
        },
    }


def _crashing() -> dict:
    return {
        "name": "main",
        "image": "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04",
        "imageID": "",
        "ready": False,
        "restartCount": 5,
        "started": False,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
        "lastState": {
            "terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts(minutes=21), "finishedAt": ts(minutes=20)}
        },
    }


def _event(
    name: str,
    ns: str,
    kind: str,
    obj: str,
    reason: str,
    message: str,
    *,
    type_="Normal",
    component="kubelet",
    host="",
    count=1,
    last=None,
    uid="",
) -> dict:
    ev = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": ts(minutes=10)},
        "involvedObject": {"kind": kind, "name": obj, "apiVersion": "v1"},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": ts(minutes=50),
        "lastTimestamp": last or ts(minutes=20),
    }
    if kind == "Pod":
        ev["involvedObject"]["namespace"] = ns
    if uid:
        ev["involvedObject"]["uid"] = uid
    return ev


def manifests() -> list[dict]:
    healthy, broken = "ip-10-0-3-7.us-west-2.compute.internal", "ip-10-0-4-9.us-west-2.compute.internal"
    cpu = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "ip-10-0-1-5.us-west-2.compute.internal",
            "creationTimestamp": ts(days=9),
            "labels": {"kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m6i.large"},
        },
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "10.0.1.5"}],
            "capacity": {"cpu": "2", "memory": "8Gi", "pods": "29"},
            "allocatable": {"cpu": "1930m", "memory": "7Gi", "pods": "29"},
            "nodeInfo": {
                "kubeletVersion": "v1.32.3-eks-473151a",
                "osImage": "Amazon Linux 2023",
                "kernelVersion": "6.1.127",
                "containerRuntimeVersion": "containerd://1.7.25",
            },
        },
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gpu-operator"}},
        NODECLAIM_CRD,
        NODEPOOL_CRD,
        _gpu_node(healthy, "10.0.3.7"),
        _gpu_node(broken, "10.0.4.9", ready="False", gpus="0"),
        cpu,
        {
            "apiVersion": "karpenter.sh/v1",
            "kind": "NodePool",
            "metadata": {"name": "gpu", "creationTimestamp": ts(days=30)},
            "spec": {
                "weight": 10,
                "template": {
                    "spec": {
                        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
                        "requirements": [],
                    }
                },
            },
            "status": {
                "nodes": 2,
                "resources": {"cpu": "8", "memory": "32Gi"},
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "Ready",
                        "message": "",
                        "lastTransitionTime": ts(days=30),
                    }
                ],
            },
        },
        {
            "apiVersion": "karpenter.sh/v1",
            "kind": "NodeClaim",
            "metadata": {
                "name": "gpu-7xk2p",
                "creationTimestamp": ts(days=2, hours=3),
                "labels": {
                    "karpenter.sh/nodepool": "gpu",
                    "node.kubernetes.io/instance-type": "g5.xlarge",
                    "karpenter.sh/capacity-type": "on-demand",
                    "topology.kubernetes.io/zone": "us-west-2a",
                },
            },
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
                "requirements": [],
            },
            "status": {
                "nodeName": broken,
                "providerID": "aws:///us-west-2a/i-0100049",
                "imageID": "ami-0abc",
                "conditions": [
                    {
                        "type": "Launched",
                        "status": "True",
                        "reason": "Launched",
                        "message": "",
                        "lastTransitionTime": ts(days=2),
                    },
                    {
                        "type": "Initialized",
                        "status": "Unknown",
                        "reason": "ResourceNotRegistered",
                        "message": 'Resource "nvidia.com/gpu" was requested but not registered',
                        "lastTransitionTime": ts(days=2),
                    },
                    {
                        "type": "Ready",
                        "status": "Unknown",
                        "reason": "ResourceNotRegistered",
                        "message": "Initialized=Unknown",
                        "lastTransitionTime": ts(days=2),
                    },
                ],
            },
        },
        _pod(
            "trainer-0",
            "ml",
            healthy,
            labels={"app": "trainer"},
            annotations={"sim.gputui.dev/log.main": "epoch 1 loss 0.91\nepoch 2 loss 0.55\nepoch 3 loss 0.31\n"},
        ),
        _pod(
            "infer-5f7",
            "ml",
            healthy,
            labels={"app": "infer"},
            statuses=[_crashing()],
            annotations={
                "sim.gputui.dev/log.main": "starting\nCUDA error: no CUDA-capable device is detected\n",
                "sim.gputui.dev/previous-log.main": "starting\nprevious run died\n",
            },
        ),
        _pod(
            "two-box",
            "ml",
            healthy,
            labels={"app": "two"},
            containers=[{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}],
            annotations={"sim.gputui.dev/log.a": "from a\n", "sim.gputui.dev/log.b": "from b\n"},
        ),
        _pod(
            "device-plugin-x",
            "gpu-operator",
            broken,
            labels={"app": "nvidia-device-plugin-daemonset"},
            statuses=[
                {
                    "name": "main",
                    "image": "nvcr.io/plugin",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                }
            ],
            phase="Pending",
        ),
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {
                "name": "nvidia-device-plugin-daemonset",
                "namespace": "gpu-operator",
                "creationTimestamp": ts(days=40),
            },
            "spec": {
                "selector": {"matchLabels": {"app": "nvidia-device-plugin-daemonset"}},
                "template": {
                    "metadata": {"labels": {"app": "nvidia-device-plugin-daemonset"}},
                    "spec": {
                        "nodeSelector": {"nvidia.com/gpu.deploy.device-plugin": "true"},
                        "containers": [
                            {"name": "nvidia-device-plugin", "image": "nvcr.io/nvidia/k8s-device-plugin:v0.17.0"}
                        ],
                    },
                },
            },
            "status": {
                "desiredNumberScheduled": 2,
                "currentNumberScheduled": 2,
                "numberReady": 1,
                "updatedNumberScheduled": 2,
                "numberAvailable": 1,
                "numberMisscheduled": 0,
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "gpu-burn", "namespace": "ml", "creationTimestamp": ts(hours=2)},
            "spec": {
                "completions": 1,
                "template": {
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "burn", "image": "gpu-burn:latest"}]}
                },
            },
            "status": {
                "succeeded": 1,
                "startTime": ts(hours=2),
                "completionTime": ts(hours=1, minutes=55),
                "conditions": [{"type": "Complete", "status": "True"}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "ml"},
            "data": {"mode": "fast"},
        },
        _event(
            "infer-5f7.1",
            "ml",
            "Pod",
            "infer-5f7",
            "BackOff",
            "Back-off restarting failed container main",
            type_="Warning",
            host=healthy,
            count=12,
        ),
        _event(
            "node-broken.1",
            "default",
            "Node",
            broken,
            "NodeNotReady",
            f"Node {broken} status is now: NodeNotReady",
            component="node-controller",
            count=1,
            uid=broken,
        ),
    ]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from gputui.sim.runtime import start_simulator

    running = start_simulator(sources=[], objects=manifests(), behaviour=False)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def kubectl(sim, tmp_path_factory):
    home = tmp_path_factory.mktemp("kubectl-home")  # kubectl's discovery and HTTP caches stay per run
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(sim.kubeconfig), HOME=str(home), TZ="UTC")

    def run(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(["kubectl", *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    return run


def table(text: str) -> tuple[list[str], list[list[str]]]:
    """kubectl's column-aligned output → (header names, rows cut at the header's column starts).

    Header names may hold one space ("LAST SEEN", "NOMINATED NODE"); columns are at least 3 apart.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=\s\s))\S", header)]
    names = [header[a:b].strip() for a, b in zip(starts, starts[1:] + [len(header)])]
    rows = []
    for line in lines[1:]:
        rows.append([line[a:b].strip() for a, b in zip(starts, starts[1:] + [len(line) + 1])])
    return names, rows


def row_for(text: str, name: str, column: str = "NAME") -> dict[str, str]:
    names, rows = table(text)
    index = names.index(column)
    for cells in rows:
        if cells[index] == name:
            return dict(zip(names, cells))
    raise AssertionError(f"no row {name!r} in:\n{text}")


# ----------------------------------------------------------------------------- get


def test_get_nodes_columns_and_values(kubectl):
    out = kubectl("get", "nodes").stdout
    names, rows = table(out)
    assert names == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(rows) == 3
    broken = row_for(out, "ip-10-0-4-9.us-west-2.compute.internal")
    assert broken["STATUS"] == "NotReady"
    assert broken["ROLES"] == "<none>"
    assert broken["AGE"] == "2d3h"
    assert broken["VERSION"] == "v1.32.3-eks-473151a"


def test_get_nodes_wide(kubectl):
    out = kubectl("get", "nodes", "-o", "wide").stdout
    assert table(out)[0] == [
        "NAME",
        "STATUS",
        "ROLES",
        "AGE",
        "VERSION",
        "INTERNAL-IP",
        "EXTERNAL-IP",
        "OS-IMAGE",
        "KERNEL-VERSION",
        "CONTAINER-RUNTIME",
    ]
    healthy = row_for(out, "ip-10-0-3-7.us-west-2.compute.internal")
    assert healthy["INTERNAL-IP"] == "10.0.3.7"
    assert healthy["EXTERNAL-IP"] == "<none>"
    assert healthy["CONTAINER-RUNTIME"] == "containerd://1.7.25"


def test_get_pods_all_namespaces(kubectl):
    out = kubectl("get", "pods", "-A").stdout
    assert table(out)[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    crash = row_for(out, "infer-5f7")
    assert crash["NAMESPACE"] == "ml"
    assert (crash["READY"], crash["STATUS"], crash["RESTARTS"]) == ("0/1", "CrashLoopBackOff", "5 (20m ago)")
    assert row_for(out, "device-plugin-x")["STATUS"] == "ContainerCreating"
    assert row_for(out, "trainer-0")["STATUS"] == "Running"
    assert row_for(out, "two-box")["READY"] == "2/2"


def test_get_pods_wide(kubectl):
    out = kubectl("get", "pods", "-n", "ml", "-o", "wide").stdout
    assert table(out)[0] == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ]
    trainer = row_for(out, "trainer-0")
    assert (trainer["IP"], trainer["NODE"]) == ("10.0.3.50", "ip-10-0-3-7.us-west-2.compute.internal")
    assert (trainer["NOMINATED NODE"], trainer["READINESS GATES"]) == ("<none>", "<none>")


def test_get_pods_label_selector(kubectl):
    out = kubectl("get", "pods", "-n", "ml", "-l", "app=infer").stdout
    names, rows = table(out)
    assert [r[0] for r in rows] == ["infer-5f7"]
    none = kubectl("get", "pods", "-n", "ml", "-l", "app=nothing")
    assert none.stdout == "" and "No resources found in ml namespace." in none.stderr


def test_get_pods_field_selector(kubectl):
    out = kubectl(
        "get", "pods", "-A", "--field-selector", "spec.nodeName=ip-10-0-4-9.us-west-2.compute.internal"
    ).stdout
    assert [r[1] for r in table(out)[1]] == ["device-plugin-x"]


def test_get_pod_yaml_and_json(kubectl):
    doc = yaml.safe_load(kubectl("get", "pod", "trainer-0", "-n", "ml", "-o", "yaml").stdout)
    assert doc["kind"] == "Pod" and doc["metadata"]["name"] == "trainer-0"
    assert doc["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert doc["metadata"]["uid"] and doc["metadata"]["resourceVersion"]
    lst = json.loads(kubectl("get", "nodes", "-o", "json").stdout)
    assert lst["kind"] == "List"
    assert sorted(i["metadata"]["name"] for i in lst["items"])[0] == "ip-10-0-1-5.us-west-2.compute.internal"


def test_get_events_table(kubectl):
    out = kubectl("get", "events", "-n", "ml").stdout
    assert table(out)[0] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    event = row_for(out, "pod/infer-5f7", "OBJECT")
    assert (event["LAST SEEN"], event["TYPE"], event["REASON"]) == ("20m", "Warning", "BackOff")
    assert event["MESSAGE"] == "Back-off restarting failed container main"
    wide = kubectl("get", "events", "-n", "ml", "-o", "wide").stdout
    assert table(wide)[0] == [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "SUBOBJECT",
        "SOURCE",
        "MESSAGE",
        "FIRST SEEN",
        "COUNT",
        "NAME",
    ]
    event = row_for(wide, "infer-5f7.1")
    assert (event["SOURCE"], event["FIRST SEEN"], event["COUNT"]) == (
        "kubelet, ip-10-0-3-7.us-west-2.compute.internal",
        "50m",
        "12",
    )


def test_get_custom_resources(kubectl):
    out = kubectl("get", "nodeclaims").stdout
    assert table(out)[0] == ["NAME", "TYPE", "CAPACITY", "ZONE", "NODE", "READY", "AGE"]
    claim = row_for(out, "gpu-7xk2p")
    assert (claim["TYPE"], claim["CAPACITY"], claim["READY"]) == ("g5.xlarge", "on-demand", "Unknown")
    assert claim["NODE"] == "ip-10-0-4-9.us-west-2.compute.internal"
    assert claim["AGE"] == "2d3h"
    wide = kubectl("get", "nodepools", "-o", "wide").stdout
    assert table(wide)[0] == ["NAME", "NODECLASS", "NODES", "READY", "AGE", "WEIGHT", "CPU", "MEMORY"]
    assert row_for(wide, "gpu") == {
        "NAME": "gpu",
        "NODECLASS": "gpu",
        "NODES": "2",
        "READY": "True",
        "AGE": "30d",
        "WEIGHT": "10",
        "CPU": "8",
        "MEMORY": "32Gi",
    }


def test_get_daemonsets_wide_and_jobs(kubectl):
    out = kubectl("get", "ds", "-n", "gpu-operator", "-o", "wide").stdout
    assert table(out)[0] == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "NODE SELECTOR",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    assert row_for(out, "nvidia-device-plugin-daemonset") == {
        "NAME": "nvidia-device-plugin-daemonset",
        "DESIRED": "2",
        "CURRENT": "2",
        "READY": "1",
        "UP-TO-DATE": "2",
        "AVAILABLE": "1",
        "NODE SELECTOR": "nvidia.com/gpu.deploy.device-plugin=true",
        "AGE": "40d",
        "CONTAINERS": "nvidia-device-plugin",
        "IMAGES": "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
        "SELECTOR": "app=nvidia-device-plugin-daemonset",
    }
    jobs = kubectl("get", "jobs", "-n", "ml").stdout
    assert table(jobs)[0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert row_for(jobs, "gpu-burn") == {
        "NAME": "gpu-burn",
        "STATUS": "Complete",
        "COMPLETIONS": "1/1",
        "DURATION": "5m",
        "AGE": "120m",
    }


# ----------------------------------------------------------------------------- describe and logs


def test_describe_node_shows_pods_and_events(kubectl):
    out = kubectl("describe", "node", "ip-10-0-3-7.us-west-2.compute.internal").stdout
    assert "Name:               ip-10-0-3-7.us-west-2.compute.internal" in out
    assert "Taints:             nvidia.com/gpu=true:NoSchedule" in out
    assert "Non-terminated Pods:" in out
    for pod in ("trainer-0", "infer-5f7", "two-box"):
        assert pod in out
    assert "nvidia.com/gpu" in out.split("Allocated resources:")[1]
    broken = kubectl("describe", "node", "ip-10-0-4-9.us-west-2.compute.internal").stdout
    assert "NodeNotReady" in broken.split("Events:")[1]
    assert "device-plugin-x" in broken


def test_describe_pod(kubectl):
    out = kubectl("describe", "pod", "infer-5f7", "-n", "ml").stdout
    assert "Status:           Running" in out
    assert "State:          Waiting" in out and "Reason:       CrashLoopBackOff" in out
    assert "Restart Count:  5" in out
    assert "BackOff" in out.split("Events:")[1]


def test_describe_nodeclaim(kubectl):
    out = kubectl("describe", "nodeclaim", "gpu-7xk2p").stdout
    assert "Kind:         NodeClaim" in out
    assert "ResourceNotRegistered" in out
    assert 'Resource "nvidia.com/gpu" was requested but not registered' in out


def test_logs(kubectl):
    assert (
        kubectl("logs", "trainer-0", "-n", "ml").stdout == "epoch 1 loss 0.91\nepoch 2 loss 0.55\nepoch 3 loss 0.31\n"
    )
    assert kubectl("logs", "trainer-0", "-n", "ml", "--tail", "1").stdout == "epoch 3 loss 0.31\n"
    assert kubectl("logs", "two-box", "-n", "ml", "-c", "b").stdout == "from b\n"
    assert kubectl("logs", "infer-5f7", "-n", "ml", "--previous").stdout == "starting\nprevious run died\n"
    missing = kubectl("logs", "trainer-0", "-n", "ml", "--previous", check=False)
    assert missing.returncode != 0
    assert 'previous terminated container "main" in pod "trainer-0" not found' in missing.stderr


# ----------------------------------------------------------------------------- writes


def test_run_then_delete(kubectl):
    assert (
        kubectl("run", "probe", "--image=busybox", "--restart=Never", "-n", "ml").stdout.strip() == "pod/probe created"
    )
    pod = json.loads(kubectl("get", "pod", "probe", "-n", "ml", "-o", "json").stdout)
    assert pod["spec"]["containers"][0]["image"] == "busybox"
    assert pod["metadata"]["labels"] == {"run": "probe"}
    assert kubectl("delete", "pod", "probe", "-n", "ml").stdout.strip() == 'pod "probe" deleted'
    gone = kubectl("get", "pod", "probe", "-n", "ml", check=False)
    assert gone.returncode == 1
    assert 'pods "probe" not found' in gone.stderr


def test_patch_merge_json_and_strategic(kubectl):
    kubectl("create", "configmap", "patchme", "-n", "ml", "--from-literal=a=1")
    out = kubectl("patch", "configmap", "patchme", "-n", "ml", "--type=merge", "-p", '{"data":{"b":"2"}}').stdout
    assert out.strip() == "configmap/patchme patched"
    kubectl(
        "patch",
        "configmap",
        "patchme",
        "-n",
        "ml",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/data/a","value":"10"}]',
    )
    data = json.loads(kubectl("get", "configmap", "patchme", "-n", "ml", "-o", "json").stdout)["data"]
    assert data == {"a": "10", "b": "2"}
    # The default patch type on a built-in kind is strategic: containers merge by name.
    kubectl(
        "patch", "pod", "two-box", "-n", "ml", "-p", '{"spec":{"containers":[{"name":"b","image":"busybox:1.36"}]}}'
    )
    pod = json.loads(kubectl("get", "pod", "two-box", "-n", "ml", "-o", "json").stdout)
    assert [(c["name"], c["image"]) for c in pod["spec"]["containers"]] == [("a", "busybox"), ("b", "busybox:1.36")]


def test_create_generators_post_protobuf(kubectl):
    # kubectl create <generator> sends built-in objects as application/vnd.kubernetes.protobuf.
    assert kubectl("create", "namespace", "team-a").stdout.strip() == "namespace/team-a created"
    assert kubectl("create", "serviceaccount", "bot", "-n", "team-a").stdout.strip() == "serviceaccount/bot created"
    out = kubectl("create", "deployment", "web2", "--image=nginx", "--port=8080", "--replicas=2", "-n", "team-a")
    assert out.stdout.strip() == "deployment.apps/web2 created"
    dep = json.loads(kubectl("get", "deployment", "web2", "-n", "team-a", "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 2
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert (container["name"], container["image"], container["ports"][0]["containerPort"]) == ("nginx", "nginx", 8080)
    assert table(kubectl("get", "deployments", "-n", "team-a").stdout)[0] == [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
    ]
    out = kubectl(
        "create",
        "job",
        "smi",
        "-n",
        "team-a",
        "--image=nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04",
        "--",
        "nvidia-smi",
        "-L",
    )
    assert out.stdout.strip() == "job.batch/smi created"
    job = json.loads(kubectl("get", "job", "smi", "-n", "team-a", "-o", "json").stdout)
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["nvidia-smi", "-L"]


def test_strategic_patch_on_custom_resource_is_rejected(kubectl):
    proc = kubectl("patch", "nodepool", "gpu", "-p", '{"spec":{"weight":5}}', check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "error: application/strategic-merge-patch+json is not supported by karpenter.sh/v1, Kind=NodePool: the body "
        "of the request was in an unknown format - accepted media types include: application/json-patch+json, "
        "application/merge-patch+json, application/apply-patch+yaml"
    )
    merged = kubectl("patch", "nodepool", "gpu", "--type=merge", "-p", '{"spec":{"weight":20}}')
    assert merged.stdout.strip() == "nodepool.karpenter.sh/gpu patched"


def test_apply_create_then_update(kubectl, tmp_path):
    manifest = tmp_path / "deploy.yaml"
    doc = textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: ml, labels: {app: web}}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: nginx:1.27
                env: [{name: MODE, value: slow}]
              - name: sidecar
                image: busybox
        """)
    manifest.write_text(doc)
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == "deployment.apps/web created"
    manifest.write_text(doc.replace("replicas: 2", "replicas: 3").replace("value: slow", "value: fast"))
    proc = kubectl("apply", "-f", str(manifest))
    assert proc.stdout.strip() == "deployment.apps/web configured"
    assert "warning" not in proc.stderr.lower()
    dep = json.loads(kubectl("get", "deployment", "web", "-n", "ml", "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 3
    assert [c["name"] for c in dep["spec"]["template"]["spec"]["containers"]] == ["web", "sidecar"]
    assert dep["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "MODE", "value": "fast"}]
    assert "kubectl.kubernetes.io/last-applied-configuration" in dep["metadata"]["annotations"]
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == "deployment.apps/web unchanged"


def test_apply_custom_resource_uses_merge_patch(kubectl, tmp_path):
    manifest = tmp_path / "pool.yaml"
    pool = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": "spare"},
        "spec": {"weight": 1, "template": {"spec": {"nodeClassRef": {"name": "gpu"}}}},
    }
    manifest.write_text(yaml.safe_dump(pool))
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == "nodepool.karpenter.sh/spare created"
    pool["spec"]["weight"] = 7
    manifest.write_text(yaml.safe_dump(pool))
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == "nodepool.karpenter.sh/spare configured"
    got = json.loads(kubectl("get", "nodepool", "spare", "-o", "json").stdout)
    assert got["spec"]["weight"] == 7


def test_apply_server_dry_run_persists_nothing(kubectl, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry, namespace: ml}\ndata: {x: '1'}\n")
    out = kubectl("apply", "--dry-run=server", "-f", str(manifest)).stdout
    assert out.strip() == "configmap/dry created (server dry run)"
    missing = kubectl("get", "configmap", "dry", "-n", "ml", check=False)
    assert missing.returncode == 1 and 'configmaps "dry" not found' in missing.stderr
    # On an existing object the dry run changes nothing either.
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: ml}\ndata: {mode: slow}\n"
    )
    assert (
        kubectl("apply", "--dry-run=server", "-f", str(manifest)).stdout.strip()
        == "configmap/settings configured (server dry run)"
    )
    assert json.loads(kubectl("get", "cm", "settings", "-n", "ml", "-o", "json").stdout)["data"] == {"mode": "fast"}


def test_label_and_annotate(kubectl):
    assert (
        kubectl("label", "node", "ip-10-0-1-5.us-west-2.compute.internal", "team=infra").stdout.strip()
        == "node/ip-10-0-1-5.us-west-2.compute.internal labeled"
    )
    assert (
        kubectl("annotate", "pod", "trainer-0", "-n", "ml", "owner=alice").stdout.strip() == "pod/trainer-0 annotated"
    )
    node = json.loads(kubectl("get", "node", "-l", "team=infra", "-o", "json").stdout)
    assert [i["metadata"]["name"] for i in node["items"]] == ["ip-10-0-1-5.us-west-2.compute.internal"]
    pod = json.loads(kubectl("get", "pod", "trainer-0", "-n", "ml", "-o", "json").stdout)
    assert pod["metadata"]["annotations"]["owner"] == "alice"
    kubectl("label", "node", "ip-10-0-1-5.us-west-2.compute.internal", "team-")
    assert (
        "team"
        not in json.loads(kubectl("get", "node", "ip-10-0-1-5.us-west-2.compute.internal", "-o", "json").stdout)[
            "metadata"
        ]["labels"]
    )


def test_cordon_and_uncordon(kubectl):
    name = "ip-10-0-3-7.us-west-2.compute.internal"
    assert kubectl("cordon", name).stdout.strip() == f"node/{name} cordoned"
    assert json.loads(kubectl("get", "node", name, "-o", "json").stdout)["spec"]["unschedulable"] is True
    assert row_for(kubectl("get", "nodes").stdout, name)["STATUS"] == "Ready,SchedulingDisabled"
    assert kubectl("uncordon", name).stdout.strip() == f"node/{name} uncordoned"
    assert row_for(kubectl("get", "nodes").stdout, name)["STATUS"] == "Ready"


def test_explain_custom_and_builtin(kubectl):
    out = kubectl("explain", "pod.spec.containers.env").stdout
    assert "FIELD: env <[]EnvVar>" in out and "valueFrom" in out
    claim = kubectl("explain", "nodeclaim").stdout
    assert "KIND:       NodeClaim" in claim and "NodeClaim is a compact test schema." in claim


# ----------------------------------------------------------------------------- auth


def test_auth_can_i(kubectl, start_sim):
    assert kubectl("auth", "can-i", "list", "nodes").stdout.strip() == "yes"
    from gputui.sim.runtime import Faults

    forbidding = start_sim(objects=[], faults=Faults(forbid=("nodes",)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["KUBECONFIG"] = str(forbidding.kubeconfig)
    proc = subprocess.run(
        ["kubectl", "auth", "can-i", "list", "nodes"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1 and proc.stdout.strip() == "no"
    proc = subprocess.run(
        ["kubectl", "auth", "can-i", "list", "pods"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "yes"


# ----------------------------------------------------------------------------- built-in scenarios


def _blocks(text: str) -> list[str]:
    return [b for b in text.strip().split("\n\n") if b.strip()]


@pytest.mark.parametrize("scenario", ["incident", "healthy"])
def test_scenario_wide_columns_for_nodes_nodeclaims_nodepools(scenario, start_sim, tmp_path):
    sim = start_sim(sources=[scenario])
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(sim.kubeconfig), HOME=str(tmp_path))
    proc = subprocess.run(
        ["kubectl", "get", "nodes,nodeclaims,nodepools", "-o", "wide"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    nodes, claims, pools = _blocks(proc.stdout)
    assert table(nodes)[0] == [
        "NAME",
        "STATUS",
        "ROLES",
        "AGE",
        "VERSION",
        "INTERNAL-IP",
        "EXTERNAL-IP",
        "OS-IMAGE",
        "KERNEL-VERSION",
        "CONTAINER-RUNTIME",
    ]
    assert table(claims)[0] == [
        "NAME",
        "TYPE",
        "CAPACITY",
        "ZONE",
        "NODE",
        "READY",
        "AGE",
        "IMAGEID",
        "ID",
        "NODEPOOL",
        "NODECLASS",
        "DRIFTED",
    ]
    assert table(pools)[0] == ["NAME", "NODECLASS", "NODES", "READY", "AGE", "WEIGHT", "CPU", "MEMORY"]
    node_rows = [dict(zip(table(nodes)[0], r)) for r in table(nodes)[1]]
    assert node_rows and all(r["NAME"].startswith("node/") for r in node_rows)
    assert all(r["STATUS"].split(",")[0] in ("Ready", "NotReady", "Unknown") for r in node_rows)
    assert all(re.fullmatch(r"\d+(s|m|h|d)(\d+[smh])?|\d+y(\d+d)?", r["AGE"]) for r in node_rows)
    claim_rows = [dict(zip(table(claims)[0], r)) for r in table(claims)[1]]
    pool_names = {r[0].split("/", 1)[1] for r in table(pools)[1]}
    assert claim_rows and all(r["NAME"].startswith("nodeclaim.karpenter.sh/") for r in claim_rows)
    assert all(r["NODEPOOL"] in pool_names for r in claim_rows)
    assert all(r["ID"].startswith("aws:///") for r in claim_rows if r["ID"])
    assert all(r["NODES"].isdigit() for r in [dict(zip(table(pools)[0], p)) for p in table(pools)[1]])
