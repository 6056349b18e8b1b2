"""Internal consistency of the built-in scenarios, checked without the checks: what a real API server and
its controllers would never show (a pod on a missing node, DaemonSet counts that disagree with its pods,
dangling owner references) would make every diagnosis built on a scenario meaningless."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from checks import instances
from gputui.sim.scenario_build import has_scenario

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "gputui" / "sim" / "scenarios"
INDEX = yaml.safe_load((SCENARIOS_DIR / "index.yaml").read_text())
CLUSTER_SCOPED = {"Node", "Namespace", "NodeClaim", "NodePool", "EC2NodeClass", "ClusterPolicy"}
CODE_RE = re.compile(r"^GPU[1-5]0[0-9]$")
# Events may outlive what they are about: Karpenter deletes a NodeClaim right after an insufficient-capacity
# error, and disrupted nodes and evicted pods are gone by the time anyone looks.
REASONS_ABOUT_DELETED = {
    "InsufficientCapacityError",
    "NodeClassNotReady",
    "Evicted",
    "Disrupted",
    "DisruptionTerminating",
    "DisruptionLaunching",
    "DisruptionWaitingReadiness",
    "Killing",
    "Preempted",
    "TerminationGracePeriodExpiring",
    "RemovingNode",
    "NodeNotReady",
    "FailedDraining",
    "Launched",
    "Registered",
    "Initialized",
    "Scheduled",
    "Pulled",
    "Pulling",
    "Created",
    "Started",
    "SuccessfulCreate",
    "SuccessfulDelete",
    "FailedScheduling",
    "Nominated",
    "Completed",
    "BackoffLimitExceeded",
}


def load(name: str) -> list[dict]:
    from gputui.sim.loader import load_objects

    return load_objects([name], shift_time=False)


_CACHE: dict[str, list[dict]] = {}


@pytest.fixture(params=sorted(INDEX))
def scenario(request):
    name = request.param
    if name not in _CACHE:
        _CACHE[name] = load(name)
    return name, _CACHE[name]


def by_kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


def key(o):
    return (o["kind"], o["metadata"].get("namespace") or "", o["metadata"]["name"])


def tolerates(tols, taint):
    for t in tols or []:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        op = t.get("operator", "Equal")
        if not t.get("key") and op == "Exists":
            return True
        if t.get("key") == taint["key"] and (op == "Exists" or t.get("value", "") == taint.get("value", "")):
            return True
    return False


def pod_ready(p):
    cs = p["status"].get("containerStatuses") or []
    return p["status"].get("phase") == "Running" and bool(cs) and all(c.get("ready") for c in cs)


def controller_of(o):
    return next((r for r in o["metadata"].get("ownerReferences") or [] if r.get("controller")), None)


# ------------------------------------------------------------------------------------------------ index


def test_index_entries_are_complete():
    assert "healthy" in INDEX
    for name, entry in INDEX.items():
        assert has_scenario(name), name
        assert entry["description"] and "\n" not in entry["description"], name
        for inc in entry["include"]:
            if not inc.startswith(".."):
                assert (SCENARIOS_DIR / inc).exists(), (name, inc)
        assert isinstance(entry["expect"], list), name
        for e in entry["expect"]:
            assert CODE_RE.match(e["code"]), (name, e)
            assert e["kind"] and e["name"] and e["evidence"], (name, e)


def test_expected_subjects_exist(scenario):
    name, objs = scenario
    keys = {key(o) for o in objs}
    for e in INDEX[name]["expect"]:
        assert (e["kind"], e.get("namespace", ""), e["name"]) in keys, (name, e)


# ------------------------------------------------------------------------------------------------ identity


def test_names_are_unique(scenario):
    name, objs = scenario
    dupes = [k for k, n in Counter(key(o) for o in objs).items() if n > 1]
    assert dupes == [], name


def test_namespaces_exist(scenario):
    name, objs = scenario
    nss = {o["metadata"]["name"] for o in by_kind(objs, "Namespace")}
    used = {o["metadata"]["namespace"] for o in objs if o["metadata"].get("namespace")}
    assert used <= nss, used - nss


# ------------------------------------------------------------------------------------------------ references


def test_pods_run_on_existing_nodes(scenario):
    name, objs = scenario
    nodes = {o["metadata"]["name"] for o in by_kind(objs, "Node")}
    for p in by_kind(objs, "Pod"):
        node = p["spec"].get("nodeName")
        if node:
            assert node in nodes, (p["metadata"]["name"], node)
        else:
            assert p["status"]["phase"] == "Pending", p["metadata"]["name"]


def test_owner_references_resolve(scenario):
    name, objs = scenario
    index = {key(o): o for o in objs}
    for o in objs:
        for ref in o["metadata"].get("ownerReferences") or []:
            ns = "" if ref["kind"] in CLUSTER_SCOPED else o["metadata"].get("namespace") or ""
            owner = index.get((ref["kind"], ns, ref["name"]))
            assert owner is not None, (key(o), ref)
            if owner["metadata"].get("uid") and ref.get("uid"):
                assert owner["metadata"]["uid"] == ref["uid"], (key(o), ref)


def test_events_point_at_objects(scenario):
    name, objs = scenario
    index = {key(o) for o in objs}
    for e in by_kind(objs, "Event"):
        io = e["involvedObject"]
        k = (io["kind"], io.get("namespace") or "", io["name"])
        if k not in index:
            assert e["reason"] in REASONS_ABOUT_DELETED, (name, k, e["reason"])


def test_sim_log_annotations_name_real_containers(scenario):
    name, objs = scenario
    for p in by_kind(objs, "Pod"):
        names = {c["name"] for c in p["spec"]["containers"] + (p["spec"].get("initContainers") or [])}
        for a in p["metadata"].get("annotations") or {}:
            m = re.match(r"sim\.gputui\.dev/(previous-)?log\.(.+)$", a)
            if m:
                assert m.group(2) in names, (p["metadata"]["name"], a)


# ------------------------------------------------------------------------------------------------ controllers


def test_daemonset_status_agrees_with_nodes_and_pods(scenario):
    name, objs = scenario
    nodes = by_kind(objs, "Node")
    pods = by_kind(objs, "Pod")
    for ds in by_kind(objs, "DaemonSet"):
        tmpl = ds["spec"]["template"]["spec"]
        sel = tmpl.get("nodeSelector") or {}
        tols = tmpl.get("tolerations") or []
        eligible = [
            n
            for n in nodes
            if all(n["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())
            and all(
                tolerates(tols, t) for t in n["spec"].get("taints") or [] if t["effect"] in ("NoSchedule", "NoExecute")
            )
        ]
        mine = [p for p in pods if (controller_of(p) or {}).get("uid") == ds["metadata"]["uid"]]
        st = ds["status"]
        where = (name, ds["metadata"]["name"])
        assert st["desiredNumberScheduled"] == len(eligible), where
        assert st["currentNumberScheduled"] == len(mine), where
        assert st["numberReady"] == sum(pod_ready(p) for p in mine), where
        assert st.get("numberUnavailable", 0) == st["desiredNumberScheduled"] - st.get("numberAvailable", 0), where
        eligible_names = {n["metadata"]["name"] for n in eligible}
        assert {p["spec"]["nodeName"] for p in mine} <= eligible_names, where
        assert len({p["spec"]["nodeName"] for p in mine}) == len(mine), where


def test_replicasets_and_deployments_agree_with_pods(scenario):
    name, objs = scenario
    pods = by_kind(objs, "Pod")
    for rs in by_kind(objs, "ReplicaSet"):
        mine = [p for p in pods if (controller_of(p) or {}).get("uid") == rs["metadata"]["uid"]]
        assert rs["status"]["replicas"] == len(mine), rs["metadata"]["name"]
        assert rs["status"].get("readyReplicas", 0) == sum(pod_ready(p) for p in mine), rs["metadata"]["name"]
    for d in by_kind(objs, "Deployment"):
        rss = [r for r in by_kind(objs, "ReplicaSet") if (controller_of(r) or {}).get("uid") == d["metadata"]["uid"]]
        assert rss, d["metadata"]["name"]
        assert d["status"]["replicas"] == sum(r["status"]["replicas"] for r in rss), d["metadata"]["name"]


def test_nodeclaims_match_their_nodes(scenario):
    name, objs = scenario
    nodes = {o["metadata"]["name"]: o for o in by_kind(objs, "Node")}
    for nc in by_kind(objs, "NodeClaim"):
        node_name = nc["status"].get("nodeName")
        if not node_name:
            continue
        assert node_name in nodes, nc["metadata"]["name"]
        node = nodes[node_name]
        assert node["spec"]["providerID"] == nc["status"]["providerID"], nc["metadata"]["name"]
        assert node["metadata"]["labels"]["karpenter.sh/nodepool"] == nc["metadata"]["labels"]["karpenter.sh/nodepool"]
        init = next(c for c in nc["status"]["conditions"] if c["type"] == "Initialized")
        assert (init["status"] == "True") == (node["metadata"]["labels"].get("karpenter.sh/initialized") == "true"), nc[
            "metadata"
        ]["name"]


def test_nodepool_resources_add_up(scenario):
    name, objs = scenario
    claims = by_kind(objs, "NodeClaim")
    for np_ in by_kind(objs, "NodePool"):
        mine = [c for c in claims if c["metadata"]["labels"].get("karpenter.sh/nodepool") == np_["metadata"]["name"]]
        res = np_["status"].get("resources") or {}
        if "nodes" in res:  # karpenter.sh/v1 only
            assert int(res["nodes"]) == len(mine), np_["metadata"]["name"]
        gpus = sum(int(c["status"].get("capacity", {}).get("nvidia.com/gpu", "0")) for c in mine)
        assert int(res.get("nvidia.com/gpu", "0")) == gpus, np_["metadata"]["name"]


def test_gpu_node_allocatable_never_exceeds_instance(scenario):
    name, objs = scenario
    for n in by_kind(objs, "Node"):
        labels = n["metadata"]["labels"]
        it = instances.get(labels.get("node.kubernetes.io/instance-type"))  # a node Karpenter did not label
        want = int(labels.get("karpenter.k8s.aws/instance-gpu-count", it.gpu_count if it else 0))
        have = int(n["status"].get("allocatable", {}).get("nvidia.com/gpu", "0"))
        assert have <= want, n["metadata"]["name"]


def test_running_gpu_pods_fit_their_nodes(scenario):
    name, objs = scenario
    nodes = {o["metadata"]["name"]: o for o in by_kind(objs, "Node")}
    used: Counter = Counter()
    for p in by_kind(objs, "Pod"):
        if p["status"].get("phase") in ("Running", "Pending") and p["spec"].get("nodeName"):
            for c in p["spec"]["containers"]:
                used[p["spec"]["nodeName"]] += int(
                    (c.get("resources") or {}).get("limits", {}).get("nvidia.com/gpu", 0)
                )
            node = nodes[p["spec"]["nodeName"]]
            for t in node["spec"].get("taints") or []:
                if t["effect"] in ("NoSchedule", "NoExecute"):
                    assert tolerates(p["spec"].get("tolerations"), t), (p["metadata"]["name"], t)
    for node, n in used.items():
        assert n <= int(nodes[node]["status"]["allocatable"].get("nvidia.com/gpu", "0")), node


# ------------------------------------------------------------------------------------------------ healthy


def test_healthy_is_healthy():
    objs = _CACHE.get("healthy") or load("healthy")
    for p in by_kind(objs, "Pod"):
        assert p["status"]["phase"] in ("Running", "Succeeded"), p["metadata"]["name"]
        for c in (p["status"].get("containerStatuses") or []) + (p["status"].get("initContainerStatuses") or []):
            assert "waiting" not in c["state"], (p["metadata"]["name"], c["name"])
            assert c["restartCount"] == 0 or p["metadata"]["namespace"] != "gpu-operator", p["metadata"]["name"]
    for n in by_kind(objs, "Node"):
        ready = next(c for c in n["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", n["metadata"]["name"]
        want = n["metadata"]["labels"].get("karpenter.k8s.aws/instance-gpu-count")
        if want:
            assert n["status"]["allocatable"].get("nvidia.com/gpu") == want, n["metadata"]["name"]
            assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"} in n["spec"]["taints"]
    assert [e["message"] for e in by_kind(objs, "Event") if e.get("type") == "Warning"] == []
    for ds in by_kind(objs, "DaemonSet"):
        assert ds["status"]["numberReady"] == ds["status"]["desiredNumberScheduled"] > 0, ds["metadata"]["name"]
    (cp,) = by_kind(objs, "ClusterPolicy")
    assert cp["status"]["state"] == "ready"
    for nc in by_kind(objs, "NodeClaim"):
        assert all(
            c["status"] == "True"
            for c in nc["status"]["conditions"]
            if c["type"] in ("Launched", "Registered", "Initialized", "Ready")
        )
    for np_ in by_kind(objs, "NodePool"):
        limit = np_["spec"].get("limits", {}).get("nvidia.com/gpu")
        if limit:
            assert int(np_["status"]["resources"]["nvidia.com/gpu"]) < int(limit)
    for p in by_kind(objs, "Pod"):
        gpus = sum(
            int((c.get("resources") or {}).get("limits", {}).get("nvidia.com/gpu", 0)) for c in p["spec"]["containers"]
        )
        if gpus and p["metadata"]["namespace"] == "ml-training":
            assert p["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"] == "true"


def test_every_node_has_a_kubelet_lease(scenario):
    name, objs = scenario
    leases = {o["metadata"]["name"] for o in by_kind(objs, "Lease") if o["metadata"]["namespace"] == "kube-node-lease"}
    assert {n["metadata"]["name"] for n in by_kind(objs, "Node")} == leases, name


def test_pdb_status_counts_its_pods(scenario):
    name, objs = scenario
    pods = by_kind(objs, "Pod")
    for pdb in by_kind(objs, "PodDisruptionBudget"):
        sel = pdb["spec"]["selector"]["matchLabels"]
        mine = [
            p
            for p in pods
            if p["metadata"]["namespace"] == pdb["metadata"]["namespace"]
            and all(p["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())
        ]
        st = pdb["status"]
        assert st["expectedPods"] == len(mine), (name, pdb["metadata"]["name"])
        assert st["currentHealthy"] == sum(pod_ready(p) for p in mine), (name, pdb["metadata"]["name"])
        assert st["disruptionsAllowed"] == max(st["currentHealthy"] - st["desiredHealthy"], 0), (
            name,
            pdb["metadata"]["name"],
        )


def _t(value):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_pods_start_after_their_node_exists(scenario):
    name, objs = scenario
    born = {n["metadata"]["name"]: _t(n["metadata"]["creationTimestamp"]) for n in by_kind(objs, "Node")}
    for p in by_kind(objs, "Pod"):
        node = p["spec"].get("nodeName")
        if node and p["status"].get("startTime"):
            assert _t(p["status"]["startTime"]) > born[node], (name, p["metadata"]["name"])
            assert _t(p["metadata"]["creationTimestamp"]) <= _t(p["status"]["startTime"]), (name, p["metadata"]["name"])


def test_event_times_are_ordered(scenario):
    name, objs = scenario
    for e in by_kind(objs, "Event"):
        if e.get("firstTimestamp") and e.get("lastTimestamp"):
            assert _t(e["firstTimestamp"]) <= _t(e["lastTimestamp"]), (name, e["metadata"]["name"])
            assert (e.get("count") or 1) >= 1
        series = e.get("series")
        if series:
            assert _t(e["eventTime"]) <= _t(series["lastObservedTime"]), (name, e["metadata"]["name"])


# ------------------------------------------------------------------------------------------------ generation


@pytest.mark.parametrize("name", sorted(INDEX))
def test_a_scenario_builds_the_same_objects_every_time(name):
    """The overlays are applied deterministically, and each build is a fresh copy the caller may change."""
    from gputui.sim import scenario_build

    first = scenario_build.build(name)
    first[0]["metadata"]["name"] = "changed"
    scenario_build._cache.clear()
    again = scenario_build.build(name)
    assert again[0]["metadata"]["name"] != "changed"
    assert json.dumps(scenario_build.build(name)) == json.dumps(again)
    keys = [scenario_build.object_key(o) for o in again]
    assert len(keys) == len(set(keys)), [k for k, n in Counter(keys).items() if n > 1]


def test_copied_pods_get_their_own_uid_and_container_ids():
    from gputui.sim.scenario_build import build, derived_uid

    pods = [o for o in build("incident") if o["kind"] == "Pod"]
    for pod in pods:
        md = pod["metadata"]
        assert md["uid"] == derived_uid("Pod", md["namespace"], md["name"])
    ids = [
        cs["containerID"] for p in pods for cs in p["status"].get("containerStatuses") or [] if cs.get("containerID")
    ]
    assert len(ids) == len(set(ids))


def test_overlay_errors_name_the_step(tmp_path):
    from gputui.sim import scenario_build

    (tmp_path / "base.yaml").write_text("steps:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n")
    (tmp_path / "x.yaml").write_text("steps:\n- 1\n- {like: Namespace//missing}\n")
    with pytest.raises(ValueError, match=r"x.yaml, step 2: like Namespace//missing"):
        scenario_build.build("x", tmp_path)
    (tmp_path / "y.yaml").write_text("steps:\n- 2\n")
    with pytest.raises(ValueError, match="runs past"):
        scenario_build.build("y", tmp_path)
    (tmp_path / "z.yaml").write_text("steps:\n- {like: -1, sub: {a: b}, set: {/metadata/labels: {k: v}}}\n- -1\n")
    with pytest.raises(ValueError, match="step 1: like -1"):
        scenario_build.build("z", tmp_path)
    (tmp_path / "loop.yaml").write_text("base: loop\nsteps: []\n")
    with pytest.raises(ValueError, match="loop"):
        scenario_build.build("loop", tmp_path)
    # The loader reports a broken built-in scenario as an input error, not a traceback.
    from gputui.errors import InputError

    with pytest.raises(InputError, match="built-in scenario 'x' cannot be built"):
        scenario_build.scenario_documents("x", tmp_path)


def test_encode_round_trips(tmp_path):
    """What `encode` writes builds back the manifests it was given."""
    from gputui.sim import scenario_build

    objs = scenario_build.build("driver-crashloop")
    (tmp_path / "in.yaml").write_text(yaml.safe_dump_all(objs, sort_keys=False))
    scenario_build.main(["encode", "base", str(tmp_path / "in.yaml"), "--root", str(tmp_path)])
    (tmp_path / "copy.yaml").write_text(f"base: base\nsteps: [{len(objs)}]\n")
    assert scenario_build.same(scenario_build.build("copy", tmp_path), objs)
    assert scenario_build.has_scenario("copy", tmp_path) and not scenario_build.has_scenario("base", tmp_path)


def test_encode_keeps_what_the_overlays_built_on_it_build(tmp_path):
    from gputui.sim import scenario_build

    def cm(name, value):
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "x"},
            "data": {"k": value},
        }

    (tmp_path / "base.yaml").write_text(yaml.safe_dump({"steps": [cm("one", "1"), cm("two", "2")]}))
    (tmp_path / "a.yaml").write_text("# story of a\n" + yaml.safe_dump({"steps": [2, cm("three", "3")]}))
    (tmp_path / "b.yaml").write_text(
        yaml.safe_dump({"base": "a", "steps": [-1, {"like": "ConfigMap/x/one", "set": {"/data/k": "b"}}, 2]})
    )
    b_before = scenario_build.build("b", tmp_path)
    (tmp_path / "a-edited.yaml").write_text(yaml.safe_dump_all([cm("one", "1"), cm("three", "changed")]))
    scenario_build.main(["encode", "a", str(tmp_path / "a-edited.yaml"), "--root", str(tmp_path)])
    assert (tmp_path / "a.yaml").read_text().startswith("# story of a\n")
    assert [o["data"]["k"] for o in scenario_build.build("a", tmp_path)] == ["1", "changed"]
    assert scenario_build.build("b", tmp_path) == b_before
