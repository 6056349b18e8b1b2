"""The synthetic cluster generator: spec parsing, shape, sizes, determinism, consistency (small sizes only)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import msgspec
import pytest

from gputui.errors import EXIT_INPUT, InputError
from gputui.sim.synthetic import SyntheticSpec, generate, parse_spec

NOW = dt.datetime(2026, 6, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
SPEC = "nodes=40,gpu-nodes=16,pods=600,events=300"


@pytest.fixture(scope="module")
def cluster() -> list[dict]:
    return generate(SPEC, now=NOW)


def of(objs: list[dict], kind: str) -> list[dict]:
    return [o for o in objs if o["kind"] == kind]


def size(obj: dict) -> int:
    return len(msgspec.json.encode(obj))


def is_gpu_node(node: dict) -> bool:
    return "nvidia.com/gpu" in node["status"]["allocatable"]


# -- spec ------------------------------------------------------------------------------------------


def test_spec_parses_in_any_order_with_defaults_for_missing_keys():
    assert parse_spec("pods=10, nodes=3,gpu-nodes=1,events=0") == SyntheticSpec(3, 1, 10, 0)
    assert parse_spec("nodes=5,gpu-nodes=2") == SyntheticSpec(5, 2, 200, 100)


@pytest.mark.parametrize(
    "spec, reason",
    [
        ("nodes=ten", "nodes must be a whole number, got 'ten'"),
        ("nodes=3,cpus=4", "cannot read 'cpus=4'"),
        ("nodes", "cannot read 'nodes'"),
        ("nodes=-1,gpu-nodes=0", "nodes cannot be negative"),
        ("nodes=2,gpu-nodes=3", "gpu-nodes (3) is more than nodes (2)"),
    ],
)
def test_bad_spec_is_an_input_error_with_the_expected_form(spec, reason):
    with pytest.raises(InputError) as info:
        generate(spec)
    assert reason in info.value.message
    assert info.value.exit_code == EXIT_INPUT
    assert info.value.hint and ("nodes=" in info.value.hint)


# -- shape and counts -----------------------------------------------------------------------------


def test_counts_match_the_spec(cluster):
    kinds = Counter(o["kind"] for o in cluster)
    assert kinds["Node"] == 40 and kinds["NodeClaim"] == 40
    assert kinds["Pod"] == 600 and kinds["Event"] == 300
    assert sum(is_gpu_node(n) for n in of(cluster, "Node")) == 16
    assert kinds["CustomResourceDefinition"] == 5 and kinds["ClusterPolicy"] == 1
    assert {n["metadata"]["name"] for n in of(cluster, "NodePool")} == {"default", "gpu", "gpu-large"}
    assert kinds["ReplicaSet"] == kinds["Deployment"] > 0 and kinds["Job"] > 0


def test_names_are_unique_per_kind_and_namespace(cluster):
    keys = Counter((o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in cluster)
    assert [k for k, n in keys.items() if n > 1] == []
    assert len({o["metadata"]["uid"] for o in cluster}) == len(cluster)


def test_gpu_nodes_carry_karpenter_nfd_and_gfd_labels_taint_and_gpu_resources(cluster):
    gpu = [n for n in of(cluster, "Node") if is_gpu_node(n)]
    for node in gpu:
        labels = node["metadata"]["labels"]
        count = labels["karpenter.k8s.aws/instance-gpu-count"]
        assert labels["nvidia.com/gpu.count"] == count == node["status"]["capacity"]["nvidia.com/gpu"]
        assert labels["feature.node.kubernetes.io/pci-10de.present"] == "true"
        assert labels["karpenter.sh/nodepool"] in ("gpu", "gpu-large")
        assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"} in node["spec"]["taints"]
        assert [c["type"] for c in node["status"]["conditions"] if c["status"] == "True"] == ["Ready"]
        assert len(node["status"]["images"]) >= 12
    cpu = [n for n in of(cluster, "Node") if not is_gpu_node(n)]
    assert all("taints" not in n["spec"] and "nvidia.com/gpu.count" not in n["metadata"]["labels"] for n in cpu)


def test_every_node_has_its_nodeclaim_and_pool_totals_add_up(cluster):
    claims = {c["metadata"]["name"]: c for c in of(cluster, "NodeClaim")}
    per_pool = Counter()
    for node in of(cluster, "Node"):
        ref = node["metadata"]["ownerReferences"][0]
        claim = claims[ref["name"]]
        assert ref["uid"] == claim["metadata"]["uid"]
        assert claim["status"]["nodeName"] == node["metadata"]["name"]
        assert claim["status"]["providerID"] == node["spec"]["providerID"]
        per_pool[claim["metadata"]["labels"]["karpenter.sh/nodepool"]] += 1
    for pool in of(cluster, "NodePool"):
        assert pool["status"]["nodes"] == per_pool[pool["metadata"]["name"]]


def test_one_device_plugin_pod_per_gpu_node(cluster):
    gpu_nodes = sorted(n["metadata"]["name"] for n in of(cluster, "Node") if is_gpu_node(n))
    plugin = [p for p in of(cluster, "Pod") if p["metadata"]["labels"].get("app") == "nvidia-device-plugin-daemonset"]
    assert sorted(p["spec"]["nodeName"] for p in plugin) == gpu_nodes
    ds = {d["metadata"]["name"]: d for d in of(cluster, "DaemonSet")}
    assert ds["nvidia-device-plugin-daemonset"]["status"]["numberReady"] == 16
    assert all(
        p["metadata"]["ownerReferences"][0]["uid"] == ds["nvidia-device-plugin-daemonset"]["metadata"]["uid"]
        for p in plugin
    )


def test_pods_are_owned_mostly_running_and_gpus_are_never_overcommitted(cluster):
    owners = {
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o["metadata"]["uid"]
        for o in cluster
        if o["kind"] in ("ReplicaSet", "Job", "DaemonSet")
    }
    nodes = {n["metadata"]["name"]: n for n in of(cluster, "Node")}
    used = defaultdict(int)
    phases = Counter()
    for pod in of(cluster, "Pod"):
        ref = pod["metadata"]["ownerReferences"][0]
        assert owners[(ref["kind"], pod["metadata"]["namespace"], ref["name"])] == ref["uid"]
        phases[pod["status"]["phase"]] += 1
        gpus = int(pod["spec"]["containers"][0].get("resources", {}).get("requests", {}).get("nvidia.com/gpu", 0))
        if pod["status"]["phase"] == "Running" and gpus:
            node = nodes[pod["spec"]["nodeName"]]
            assert is_gpu_node(node)
            used[node["metadata"]["name"]] += gpus
    assert phases["Running"] >= 590 and 1 <= phases["Pending"] <= 5 and set(phases) == {"Running", "Pending"}
    assert used and all(n <= int(nodes[name]["status"]["allocatable"]["nvidia.com/gpu"]) for name, n in used.items())


def test_pending_gpu_pods_have_failed_scheduling_events(cluster):
    pending = [p for p in of(cluster, "Pod") if p["status"]["phase"] == "Pending"]
    events = {
        (e["involvedObject"]["namespace"], e["involvedObject"]["name"]): e
        for e in of(cluster, "Event")
        if e["reason"] == "FailedScheduling"
    }
    for pod in pending:
        assert pod["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] == "8"
        event = events[(pod["metadata"]["namespace"], pod["metadata"]["name"])]
        assert event["type"] == "Warning" and event["reportingComponent"] == "default-scheduler"
        assert event["message"].startswith("0/40 nodes are available: ")
        assert event["message"] == pod["status"]["conditions"][0]["message"]


def test_events_spread_over_pods_nodes_and_nodeclaims(cluster):
    kinds = Counter(e["involvedObject"]["kind"] for e in of(cluster, "Event"))
    assert set(kinds) == {"Pod", "Node", "NodeClaim"}
    assert kinds["Pod"] > kinds["Node"] > 0 and kinds["NodeClaim"] > 0


# -- sizes ----------------------------------------------------------------------------------------


def test_object_sizes_are_those_of_a_real_eks_gpu_cluster(cluster):
    gpu_nodes = [size(n) for n in of(cluster, "Node") if is_gpu_node(n)]
    assert 14_000 <= sum(gpu_nodes) / len(gpu_nodes) <= 19_000
    workload = [p for p in of(cluster, "Pod") if p["metadata"]["namespace"] != "gpu-operator"]
    total = sum(size(p) for p in workload)
    assert 5_000 <= total / len(workload) <= 7_500
    managed = sum(len(msgspec.json.encode(p["metadata"]["managedFields"])) for p in workload)
    assert 0.25 <= managed / total <= 0.38


# -- determinism and loading ----------------------------------------------------------------------


def test_same_spec_seed_and_time_give_identical_output(cluster):
    again = generate(SPEC, now=NOW)
    assert msgspec.json.encode(again) == msgspec.json.encode(cluster)
    other = generate(SPEC, now=NOW, seed=8)
    assert msgspec.json.encode(other) != msgspec.json.encode(cluster)


def test_times_are_relative_to_now(cluster):
    newest = max(o["metadata"]["creationTimestamp"] for o in cluster)
    assert newest <= "2026-06-01T12:00:00Z"
    assert min(n["metadata"]["creationTimestamp"] for n in of(cluster, "Node")) >= "2026-04-21T00:00:00Z"


def test_small_specs_and_zero_sizes_work():
    objs = generate("nodes=0,gpu-nodes=0,pods=3,events=2", now=NOW)
    pods = of(objs, "Pod")
    assert len(pods) == 3 and all(p["status"]["phase"] == "Pending" for p in pods)
    assert len(of(objs, "Event")) == 2
    assert of(generate("nodes=1,gpu-nodes=1,pods=0,events=0", now=NOW), "Pod") == []


def test_every_generated_object_parses_into_the_typed_client_models(cluster):
    from kubernetes.client import models

    lists = {
        "Node": models.V1NodeList,
        "Pod": models.V1PodList,
        "Event": models.CoreV1EventList,
        "Namespace": models.V1NamespaceList,
        "DaemonSet": models.V1DaemonSetList,
        "Deployment": models.V1DeploymentList,
        "ReplicaSet": models.V1ReplicaSetList,
        "Job": models.V1JobList,
        "CustomResourceDefinition": models.V1CustomResourceDefinitionList,
    }
    parsed = 0
    for kind, model in lists.items():
        items = of(cluster, kind)
        parsed += len(model.from_dict({"items": items}).items)
    custom = {"NodePool", "NodeClaim", "EC2NodeClass", "ClusterPolicy"}
    assert parsed + sum(1 for o in cluster if o["kind"] in custom) == len(cluster)


def test_loads_into_the_store(cluster):
    from gputui.sim.store import Store

    store = Store()
    assert store.bulk_load(generate("nodes=6,gpu-nodes=2,pods=40,events=10", now=NOW)) > 0
    pods = store.type_for("v1", "Pod")
    claims = store.type_for("karpenter.sh/v1", "NodeClaim")
    assert len(store.list(pods)[0]) == 40
    assert len(store.list(claims)[0]) == 6


def test_served_synthetic_cluster_reads_through_the_typed_apis(start_sim, api_client_for):
    from kubernetes import client as k

    sim = start_sim(synthetic="nodes=8,gpu-nodes=3,pods=50,events=20")
    api = api_client_for(sim)
    core = k.CoreV1Api(api)
    assert len(core.list_node().items) == 8
    assert len(core.list_pod_for_all_namespaces().items) == 50
    assert len(core.list_event_for_all_namespaces().items) == 20
    assert len(k.AppsV1Api(api).list_daemon_set_for_all_namespaces().items) == 4
    claims = k.CustomObjectsApi(api).list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"]
    assert len(claims) == 8
