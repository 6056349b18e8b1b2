"""The one-pass gatherer, over HTTP against the simulator: pagination, fallbacks, faults, logs, auth."""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import textwrap

import pytest
import yaml

from gputui.errors import ConnectError
from gputui.kube import gather as gather_mod
from gputui.kube.client import connect
from gputui.kube.gather import gather
from gputui.sim.faults import Faults
from gputui.sim.loader import CRD_DIR
from tests.helpers.yamlio import load_yaml

KARPENTER_V1 = str(CRD_DIR / "karpenter" / "v1")
KARPENTER_V1BETA1 = str(CRD_DIR / "karpenter" / "v1beta1")
GPU_OPERATOR = str(CRD_DIR / "gpu-operator")


def _node(name: str, gpus: int = 1) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"node.kubernetes.io/instance-type": "g5.xlarge", "karpenter.sh/nodepool": "gpu"},
        },
        "status": {
            "capacity": {"nvidia.com/gpu": str(gpus)},
            "allocatable": {"nvidia.com/gpu": str(gpus)},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def _pod(i: int, ns: str = "default") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"web-{i:05d}", "namespace": ns},
        "spec": {"nodeName": "gpu-a", "containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": "Running"},
    }


def _event(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"ev-{i:05d}", "namespace": "default"},
        "involvedObject": {"kind": "Node", "name": "gpu-a"},
        "reason": "Ping",
        "message": f"event {i}",
        "type": "Normal",
        "lastTimestamp": "2026-11-30T01:00:00Z",
    }


NODEPOOL_V1 = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "gpu"},
    "spec": {
        "template": {
            "spec": {
                "requirements": [],
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
            }
        }
    },
}


def _cluster(pods: int = 3, events: int = 2) -> list[dict]:
    return [_node("gpu-a"), _node("gpu-b"), *(_pod(i) for i in range(pods)), *(_event(i) for i in range(events))]


def test_one_pass_reads_every_resource_in_pages(start_sim):
    sim = start_sim(sources=[KARPENTER_V1, GPU_OPERATOR], objects=[*_cluster(pods=1203, events=501), NODEPOOL_V1])
    seen: list[tuple[str, int]] = []
    snap = gather(connect(str(sim.kubeconfig)), progress=lambda r, n: seen.append((r, n)))

    assert [n.metadata.name for n in snap.nodes] == ["gpu-a", "gpu-b"]
    assert len(snap.pods) == 1203 and len({p.metadata.name for p in snap.pods}) == 1203
    assert len(snap.events) == 501
    assert [p.metadata.name for p in snap.nodepools] == ["gpu"]
    # List items arrive without kind/apiVersion; the gatherer restores them.
    assert (snap.nodepools[0].kind, snap.nodepools[0].api_version) == ("NodePool", "karpenter.sh/v1")
    assert snap.karpenter_api_version == "karpenter.sh/v1"
    assert {c.metadata.name for c in snap.crds} >= {"nodepools.karpenter.sh", "clusterpolicies.nvidia.com"}
    assert snap.incomplete == []
    assert (snap.context, snap.server, snap.source) == (sim.context, sim.url, "live")
    # limit=500 pages, reported as they arrive.
    assert [n for r, n in seen if r == "pods"] == [500, 1000, 1203]
    assert [n for r, n in seen if r == "events"] == [500, 501]


def test_namespace_limits_namespaced_lists_only(start_sim):
    sim = start_sim(objects=[*_cluster(pods=2), _pod(7, ns="ml")])
    snap = gather(connect(str(sim.kubeconfig)), namespace="ml")
    assert [(p.metadata.namespace, p.metadata.name) for p in snap.pods] == [("ml", "web-00007")]
    assert len(snap.nodes) == 2  # cluster-scoped: unaffected


def test_karpenter_v1beta1_is_used_when_v1_is_not_served(start_sim):
    np = dict(NODEPOOL_V1, apiVersion="karpenter.sh/v1beta1")
    sim = start_sim(sources=[KARPENTER_V1BETA1], objects=[*_cluster(), np])
    snap = gather(connect(str(sim.kubeconfig)))
    assert snap.karpenter_api_version == "karpenter.sh/v1beta1"
    assert [(p.metadata.name, p.api_version) for p in snap.nodepools] == [("gpu", "karpenter.sh/v1beta1")]
    assert [i.resource for i in snap.incomplete] == ["clusterpolicies.nvidia.com"]


def test_missing_crds_are_named_as_not_installed(start_sim):
    sim = start_sim(objects=_cluster())
    snap = gather(connect(str(sim.kubeconfig)))
    by = {i.resource: i for i in snap.incomplete}
    assert set(by) == {
        "nodepools.karpenter.sh",
        "nodeclaims.karpenter.sh",
        "ec2nodeclasses.karpenter.k8s.aws",
        "clusterpolicies.nvidia.com",
    }
    assert all(i.reason == "NotFound" for i in by.values())
    assert by["nodepools.karpenter.sh"].message.startswith("Karpenter not installed")
    assert by["clusterpolicies.nvidia.com"].message.startswith("GPU Operator not installed")
    assert snap.karpenter_api_version is None
    assert len(snap.nodes) == 2 and len(snap.pods) == 3


def test_forbidden_resources_are_recorded_and_the_rest_read(start_sim):
    sim = start_sim(
        sources=[KARPENTER_V1, GPU_OPERATOR], objects=_cluster(), faults=Faults(forbid=("nodeclaims", "events"))
    )
    snap = gather(connect(str(sim.kubeconfig)))
    assert [(i.resource, i.reason) for i in snap.incomplete] == [
        ("events", "Forbidden"),
        ("nodeclaims.karpenter.sh", "Forbidden"),
    ]
    assert 'cannot list resource "nodeclaims"' in snap.incomplete[1].message
    assert snap.cannot_see("events") and not snap.cannot_see("pods")
    assert len(snap.pods) == 3 and snap.events == []


class _CountingFaults(Faults):
    """Counts the 5xx answers the simulator injected, so the test knows retries happened."""

    injected = 0

    def fail_read(self) -> int:
        code = super().fail_read()
        if code:
            type(self).injected += 1
        return code


def test_server_errors_are_retried_with_backoff(start_sim, monkeypatch):
    monkeypatch.setattr(gather_mod, "RETRIES", 10)
    monkeypatch.setattr(gather_mod, "_backoff", lambda attempt: 0.001)
    faults = _CountingFaults(error_rate=0.4)
    faults._rng = random.Random(1234)
    _CountingFaults.injected = 0
    sim = start_sim(sources=[KARPENTER_V1, GPU_OPERATOR], objects=[*_cluster(pods=1100), NODEPOOL_V1], faults=faults)
    snap = gather(connect(str(sim.kubeconfig)))
    assert _CountingFaults.injected >= 3
    assert snap.incomplete == []
    assert len(snap.pods) == 1100 and len(snap.nodepools) == 1


def test_server_errors_that_persist_become_incomplete(start_sim, monkeypatch):
    monkeypatch.setattr(gather_mod, "RETRIES", 1)
    monkeypatch.setattr(gather_mod, "_backoff", lambda attempt: 0.001)
    sim = start_sim(objects=_cluster(), faults=Faults(error_rate=1.0))
    snap = gather(connect(str(sim.kubeconfig)))
    pods = next(i for i in snap.incomplete if i.resource == "pods")
    assert pods.reason == "ServerError"
    assert pods.message.endswith("(after 2 attempts)")
    assert snap.pods == [] and snap.nodes == []


def test_expired_continue_token_falls_back_to_one_full_list(start_sim):
    sim = start_sim(objects=_cluster(pods=1203), faults=Faults(expire_continue=True))
    seen: list[int] = []
    snap = gather(connect(str(sim.kubeconfig)), progress=lambda r, n: seen.append(n) if r == "pods" else None)
    assert len(snap.pods) == 1203 and len({p.metadata.name for p in snap.pods}) == 1203
    assert seen == [500, 0, 1203]
    assert not snap.cannot_see("pods")


class _RecordingSink:
    """Keeps the names of the objects each list sent, as the snapshot writer would keep them."""

    def __init__(self):
        self.names: dict[str, list[str]] = {}
        self.discarded: list[str] = []

    def page(self, attr: str, objects, structs: list) -> None:
        objects = list(objects)
        assert [o["metadata"]["name"] for o in objects] == [s.metadata.name for s in structs]
        assert all(o["kind"] and o["apiVersion"] for o in objects)
        self.names.setdefault(attr, []).extend(o["metadata"]["name"] for o in objects)

    def discard(self, attr: str) -> None:
        self.discarded.append(attr)
        self.names.pop(attr, None)


def test_sink_gets_every_page_once_even_when_the_list_restarts(start_sim, tmp_path):
    from gputui.kube.snapshot_file import SnapshotWriter

    sim = start_sim(objects=_cluster(pods=1203), faults=Faults(expire_continue=True))
    sink = _RecordingSink()
    snap = gather(connect(str(sim.kubeconfig)), sink=sink)
    assert sink.discarded.count("pods") == 1  # the pages before the expired token
    assert sink.names["pods"] == [p.metadata.name for p in snap.pods] and len(set(sink.names["pods"])) == 1203

    out = tmp_path / "snap.yaml"
    with SnapshotWriter(str(out)) as writer:
        snap = gather(connect(str(sim.kubeconfig)), sink=writer)
        assert writer.finish(snap) == 1 + sum(writer.counts.values())
    pods = [o for o in load_yaml(out.read_text())["items"] if o["kind"] == "Pod"]
    assert len(pods) == 1203 and len({p["metadata"]["name"] for p in pods}) == 1203


def test_sink_forgets_lists_that_fail(start_sim, monkeypatch):
    monkeypatch.setattr(gather_mod, "RETRIES", 1)
    monkeypatch.setattr(gather_mod, "_backoff", lambda attempt: 0.001)
    sim = start_sim(objects=_cluster(), faults=Faults(error_rate=1.0))
    sink = _RecordingSink()
    snap = gather(connect(str(sim.kubeconfig)), sink=sink)
    assert snap.cannot_see("pods") and "pods" in sink.discarded and sink.names == {}


def test_slow_server_times_out_per_resource(start_sim, monkeypatch):
    monkeypatch.setattr(gather_mod, "RETRIES", 1)
    monkeypatch.setattr(gather_mod, "_backoff", lambda attempt: 0.001)
    faults = Faults()
    sim = start_sim(objects=_cluster(), faults=faults)
    kube = connect(str(sim.kubeconfig), request_timeout=0.3)
    kube.version()  # answered quickly; every list after this is slow
    faults.latency_ms = 800
    snap = gather(kube)
    assert {i.reason for i in snap.incomplete} == {"Timeout"}
    assert "pods" in {i.resource for i in snap.incomplete}
    assert "after 2 attempts" in snap.incomplete[0].message


OPERAND_LOG = "I1130 01:02:03 main.go:250] Starting NVIDIA device plugin\nE1130 01:02:04 factory.go:112] Incompatible strategy detected auto\nE1130 01:02:04 main.go:132] error starting plugins: error creating plugin manager: unable to create plugin manager: nvml init failed: ERROR_LIBRARY_NOT_FOUND"


def _operand_pod(name: str, node: str, *, crashing: bool) -> dict:
    state = (
        {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}}
        if crashing
        else {"running": {"startedAt": "2026-11-30T00:00:00Z"}}
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "gpu-operator",
            "labels": {"app": "nvidia-device-plugin-daemonset"},
            "annotations": {},
        },
        "spec": {"nodeName": node, "containers": [{"name": "nvidia-device-plugin", "image": "nvcr.io/x"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "nvidia-device-plugin",
                    "image": "nvcr.io/x",
                    "imageID": "",
                    "ready": not crashing,
                    "restartCount": 7 if crashing else 0,
                    "state": state,
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}} if crashing else {},
                }
            ],
        },
    }
    if crashing:
        pod["metadata"]["annotations"] = {
            "sim.gputui.dev/log.nvidia-device-plugin": "I1130 01:09:00 main.go:250] Starting again\n",
            "sim.gputui.dev/previous-log.nvidia-device-plugin": OPERAND_LOG + "\n",
        }
    else:
        pod["metadata"]["annotations"] = {"sim.gputui.dev/log.nvidia-device-plugin": "all good\n"}
    return pod


def test_log_tails_of_failing_operand_pods(start_sim):
    sim = start_sim(
        objects=[
            *_cluster(),
            _operand_pod("nvidia-device-plugin-daemonset-abcde", "gpu-a", crashing=True),
            _operand_pod("nvidia-device-plugin-daemonset-fghij", "gpu-b", crashing=False),
        ]
    )
    snap = gather(connect(str(sim.kubeconfig)))
    key = ("gpu-operator", "nvidia-device-plugin-daemonset-abcde", "nvidia-device-plugin")
    assert "nvml init failed: ERROR_LIBRARY_NOT_FOUND" in snap.logs[(*key, True)]
    assert snap.logs[(*key, False)].startswith("I1130 01:09:00 main.go:250] Starting again")
    # Healthy operand pods are not worth a request.
    assert not any(k[1].endswith("fghij") for k in snap.logs)


def test_log_tail_is_limited(start_sim, monkeypatch):
    monkeypatch.setattr(gather_mod, "LOG_TAIL_LINES", 2)
    pod = _operand_pod("nvidia-device-plugin-daemonset-abcde", "gpu-a", crashing=True)
    sim = start_sim(objects=[*_cluster(), pod])
    snap = gather(connect(str(sim.kubeconfig)))
    text = snap.logs[("gpu-operator", "nvidia-device-plugin-daemonset-abcde", "nvidia-device-plugin", True)]
    assert text.splitlines() == OPERAND_LOG.splitlines()[-2:]


def test_wrong_token_is_a_connect_error(start_sim, tmp_path):
    sim = start_sim(objects=_cluster())
    doc = yaml.safe_load(sim.kubeconfig.read_text())
    doc["users"][0]["user"] = {"token": "not-the-token"}
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConnectError) as e:
        gather(connect(str(kc)))
    assert (
        e.value.message == f"the API server at {sim.url} rejected user {doc['users'][0]['name']!r}: "
        "401 Unauthorized (Unauthorized)"
    )
    assert "expired or was revoked" in e.value.hint


def _exec_kubeconfig(sim, tmp_path, *, expires_in: int) -> tuple:
    """A kubeconfig whose user gets the simulator's token from a credential plugin script."""
    counter = tmp_path / "calls"
    script = tmp_path / "fake-aws"
    expiry = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cred = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": sim.token, "expirationTimestamp": expiry},
    }
    script.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import sys
        assert sys.argv[1:] == ["eks", "get-token", "--cluster-name", "gpu-prod"], sys.argv
        with open({str(counter)!r}, "a") as f:
            f.write("x")
        print({json.dumps(json.dumps(cred))})
        """)
    )
    script.chmod(0o755)
    doc = yaml.safe_load(sim.kubeconfig.read_text())
    doc["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": str(script),
            "args": ["eks", "get-token", "--cluster-name", "gpu-prod"],
        }
    }
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump(doc))
    return kc, counter


def test_exec_credential_plugin_end_to_end(start_sim, tmp_path):
    sim = start_sim(objects=_cluster())
    kc, counter = _exec_kubeconfig(sim, tmp_path, expires_in=3600)
    snap = gather(connect(str(kc)))
    assert len(snap.nodes) == 2 and snap.incomplete[0].reason == "NotFound"
    assert counter.read_text() == "x"  # a token valid for an hour is reused for every request


def test_expiring_exec_token_is_refreshed(start_sim, tmp_path):
    sim = start_sim(objects=_cluster())
    # Inside the client's 5-minute skew window: treated as expired, so it re-runs the plugin.
    kc, counter = _exec_kubeconfig(sim, tmp_path, expires_in=60)
    kube = connect(str(kc))
    kube.get("/api/v1/nodes")
    kube.get("/api/v1/pods")
    assert len(counter.read_text()) >= 3


def _deployment_with_replicas(n: int) -> list[dict]:
    labels = {"app.kubernetes.io/name": "embed", "team": "ml", "pod-template-hash": "7c9f"}
    container = {
        "name": "main",
        "image": "public.ecr.aws/x/embed:1",
        "env": [{"name": "A", "value": "1"}],
        "command": ["/bin/embed"],
        "resources": {"requests": {"cpu": "1", "nvidia.com/gpu": "1"}},
    }
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "embed", "namespace": "ml"},
        "spec": {
            "replicas": n,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [container], "volumes": [{"name": "v", "emptyDir": {}}]},
            },
        },
    }
    rs = json.loads(json.dumps(dep))
    rs.update(kind="ReplicaSet")
    rs["metadata"] = {
        "name": "embed-7c9f",
        "namespace": "ml",
        "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "embed", "uid": "u-1", "controller": True}
        ],
    }
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"embed-7c9f-{i:03d}",
                "namespace": "ml",
                "labels": dict(labels),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": "embed-7c9f",
                        "uid": "u-2",
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "nodeName": "gpu-a",
                "containers": [container],
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
            },
            "status": {"phase": "Running"},
        }
        for i in range(n)
    ]
    return [dep, rs, *pods]


def test_repeated_values_are_shared_without_changing_content(start_sim):
    import msgspec

    from checks.kinds import PodList

    sim = start_sim(objects=[*_cluster(pods=0), *_deployment_with_replicas(600)])
    kube = connect(str(sim.kubeconfig))
    snap = gather(kube)
    plain = msgspec.json.Decoder(PodList).decode(kube.get("/api/v1/namespaces/ml/pods")).items
    assert msgspec.to_builtins(snap.pods) == msgspec.to_builtins(plain)
    a, b = snap.pods[0], snap.pods[599]
    assert a.metadata.labels is b.metadata.labels
    assert a.spec.tolerations is b.spec.tolerations and a.spec.containers is b.spec.containers
    assert a.metadata.owner_references is b.metadata.owner_references
    # Workload templates keep what checks read and drop the bulk; a Deployment's ReplicaSet keeps only labels.
    (dep,) = snap.deployments
    ctr = dep.spec["template"]["spec"]["containers"][0]
    assert ctr == {
        "name": "main",
        "image": "public.ecr.aws/x/embed:1",
        "resources": {"requests": {"cpu": "1", "nvidia.com/gpu": "1"}},
    }
    assert "volumes" not in dep.spec["template"]["spec"]
    (rs,) = snap.replicasets
    assert rs.spec["template"] == {
        "metadata": {"labels": {"app.kubernetes.io/name": "embed", "team": "ml", "pod-template-hash": "7c9f"}}
    }
    assert rs.metadata.owner_references[0].name == "embed"


def test_compression_is_asked_for_except_over_loopback(tmp_path):
    from gputui.kube.client import _is_loopback

    assert _is_loopback("http://127.0.0.1:8080") and _is_loopback("https://localhost:6443")
    assert _is_loopback("https://[::1]:6443")
    assert not _is_loopback("https://ABC.gr7.us-west-2.eks.amazonaws.com")
    assert not _is_loopback("https://10.0.0.1:443")
