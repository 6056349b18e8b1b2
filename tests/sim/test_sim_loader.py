"""The manifest loader: every input form, every error form, time shifting, filled defaults, log annotations."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
import yaml

from checks.snapshot import ClusterSnapshot, split_log_annotations
from gputui.errors import EXIT_INPUT, InputError
from gputui.sim import fill_context, loader, scenario_index
from gputui.sim.loader import load_objects, prepare_objects
from gputui.sim.scenario_index import resolve_sources, scenario_description, scenario_names

NOW = dt.datetime(2026, 6, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def cm(name: str, ns: str = "default", **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def names(objs: list[dict], kind: str = "ConfigMap") -> list[str]:
    return [o["metadata"]["name"] for o in objs if o["kind"] == kind]


def load_error(*sources, **kw) -> InputError:
    with pytest.raises(InputError) as info:
        load_objects([str(s) for s in sources], **kw)
    err = info.value
    assert err.exit_code == EXIT_INPUT
    assert err.hint
    return err


# -- input forms --------------------------------------------------------------------------


def test_multi_document_yaml_skips_empty_documents(tmp_path):
    f = write(tmp_path / "a.yaml", "---\n" + yaml.safe_dump(cm("one")) + "---\n---\n" + yaml.safe_dump(cm("two")))
    assert names(load_objects([f])) == ["one", "two"]


def test_json_object_and_json_array(tmp_path):
    one = write(tmp_path / "one.json", json.dumps(cm("one")))
    many = write(tmp_path / "many.json", json.dumps([cm("two"), cm("three")]))
    assert names(load_objects([one, many])) == ["one", "two", "three"]


def test_kind_list_and_typed_list_are_flattened(tmp_path):
    dump = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [cm("a"), cm("b")]}
    typed = {"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {}, "items": [cm("c")]}
    f = write(tmp_path / "dump.yaml", yaml.safe_dump(dump) + "---\n" + yaml.safe_dump(typed))
    assert names(load_objects([f])) == ["a", "b", "c"]


def test_directory_is_read_recursively_in_sorted_order_and_ignores_other_files(tmp_path):
    write(tmp_path / "b" / "z.yaml", yaml.safe_dump(cm("bz")))
    write(tmp_path / "b" / "a.yml", yaml.safe_dump(cm("ba")))
    write(tmp_path / "a.json", json.dumps(cm("a")))
    write(tmp_path / "notes.txt", "not: a manifest")
    write(tmp_path / ".hidden.yaml", "this: [is ignored")
    assert names(load_objects([tmp_path])) == ["a", "ba", "bz"]


def test_crds_come_first_then_namespaces(tmp_path):
    crd = yaml.safe_load((loader.CRD_DIR / "gpu-operator" / "nvidia.com_clusterpolicies.yaml").read_text())
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    policy = {"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "metadata": {"name": "cluster-policy"}}
    objs = prepare_objects([cm("x", "team"), policy, ns, crd])
    assert [o["kind"] for o in objs] == ["CustomResourceDefinition", "Namespace", "ConfigMap", "ClusterPolicy"]


@pytest.fixture
def scenario_dir(tmp_path, monkeypatch):
    root = tmp_path / "scenarios"
    write(
        root / "index.yaml",
        yaml.safe_dump(
            {
                "alpha": {"description": "First one.", "include": ["_shared", "../extra/extra.yaml"]},
                "beta": {"description": "Second one."},
            }
        ),
    )
    write(root / "_shared" / "ns.yaml", yaml.safe_dump(cm("shared")))
    write(root / "alpha" / "objs.yaml", yaml.safe_dump(cm("alpha-own")))
    write(root / "beta" / "objs.yaml", yaml.safe_dump(cm("beta-own")))
    write(tmp_path / "extra" / "extra.yaml", yaml.safe_dump(cm("extra")))
    monkeypatch.setattr(scenario_index, "SCENARIO_DIR", root)
    return root


def test_scenario_names_includes_and_descriptions(scenario_dir):
    assert scenario_names() == ["alpha", "beta"]
    assert scenario_description("beta") == "Second one."
    paths = resolve_sources(["alpha"])
    assert paths == [
        (scenario_dir / "_shared").resolve(),
        (scenario_dir.parent / "extra" / "extra.yaml").resolve(),
        (scenario_dir / "alpha").resolve(),
    ]
    assert names(load_objects(["alpha", "beta"])) == ["shared", "extra", "alpha-own", "beta-own"]


def test_a_source_named_twice_is_read_once(scenario_dir):
    assert names(load_objects(["alpha", "alpha"])) == ["shared", "extra", "alpha-own"]


def test_unknown_scenario_lists_the_valid_names(scenario_dir):
    err = load_error("gamma")
    assert "gamma" in err.message
    assert "alpha, beta" in err.hint


def test_built_in_scenarios_resolve():
    from gputui.sim import scenario_build

    assert (scenario_index.SCENARIO_DIR / "index.yaml").is_file()
    for name in scenario_names():
        assert scenario_description(name)
        assert scenario_index.GeneratedScenario(name) in resolve_sources([name])
        assert scenario_build.has_scenario(name)


# -- error forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc, reason",
    [
        ("- just\n- a list\n", "expected a mapping (an object), got a list"),
        ("plain text\n", "expected a mapping (an object), got a string"),
        ("kind: ConfigMap\nmetadata: {name: x}\n", "apiVersion is missing"),
        ("apiVersion: v1\nmetadata: {name: x}\n", "kind is missing"),
        ("apiVersion: v1\nkind: ConfigMap\n", "metadata is missing"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n", "metadata.name is missing"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: My_Map}\n", "metadata.name 'My_Map' is not a valid name"),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labels: {gpu: true}}\n",
            "metadata.labels['gpu'] must be a string, got a boolean True",
        ),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {n: 1}\n", "data['n'] must be a string"),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: []}\n",
            "spec.containers is missing or empty",
        ),
        ("apiVersion: v1\nkind: Event\nmetadata: {name: x}\nreason: Started\n", "involvedObject with kind and name"),
        (
            "apiVersion: v1\nkind: Node\nmetadata: {name: x}\nspec: {taints: [{key: a, effect: Never}]}\n",
            "spec.taints[0] needs a key and an effect",
        ),
        (
            "apiVersion: v1\nkind: Node\nmetadata: {name: x}\nstatus: {conditions: [{type: Ready}]}\n",
            "status.conditions[0] needs type and status",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: a, image: b}]}\n"
            "status: {phase: Running, containerStatuses: [{ready: true}]}\n",
            "status.containerStatuses[0].name is missing",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 1}\n",
            "spec.template is missing",
        ),
        (
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: wrong}\n"
            "spec: {group: a.io, scope: Cluster, names: {kind: A, plural: as}, versions: [{name: v1}]}\n",
            "metadata.name must be as.a.io",
        ),
    ],
)
def test_bad_document_names_file_document_and_reason(tmp_path, doc, reason):
    f = write(tmp_path / "bad.yaml", yaml.safe_dump(cm("fine")) + "---\n" + yaml.safe_dump(cm("fine2")) + "---\n" + doc)
    err = load_error(f)
    assert err.message.startswith(f"{f}, document 3: ")
    assert reason in err.message


def test_bad_item_in_a_list_names_the_item(tmp_path):
    dump = {"apiVersion": "v1", "kind": "List", "items": [cm("a"), {"apiVersion": "v1", "kind": "ConfigMap"}]}
    err = load_error(write(tmp_path / "dump.yaml", yaml.safe_dump(dump)))
    assert err.message == f"{tmp_path / 'dump.yaml'}, document 1, item 2: metadata is missing"


def test_yaml_syntax_error_gives_document_and_line(tmp_path):
    f = write(
        tmp_path / "broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: a: b\n",
    )
    err = load_error(f)
    # libyaml and the pure-Python parser word the problem slightly differently
    assert err.message.startswith(
        f"{f}, document 2, line 9, column 12: YAML syntax error: mapping values are not allowed"
    )


def test_invalid_json_gives_line_and_column(tmp_path):
    f = write(tmp_path / "broken.json", '{\n  "apiVersion": "v1",\n  "kind" "ConfigMap"\n}\n')
    err = load_error(f)
    assert err.message.startswith(f"{f}, line 3, column 10: invalid JSON")


def test_missing_path_is_reported_as_not_a_file_or_scenario(tmp_path):
    err = load_error(tmp_path / "nope.yaml")
    assert "no such file, directory or built-in scenario" in err.message


def test_duplicate_object_names_both_places(tmp_path):
    a = write(tmp_path / "a.yaml", yaml.safe_dump(cm("same")))
    b = write(tmp_path / "b.yaml", yaml.safe_dump(cm("other")) + "---\n" + yaml.safe_dump(cm("same")))
    err = load_error(a, b)
    assert err.message == f"{b}, document 2: ConfigMap default/same is defined twice (first in {a}, document 1)"


def test_kinds_without_a_type_are_skipped_with_a_warning(tmp_path, caplog):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with caplog.at_level(logging.WARNING, logger="gputui.sim"):
        objs = prepare_objects([secret, widget, cm("kept")])
    assert [o["kind"] for o in objs if o["kind"] != "Namespace"] == ["ConfigMap"]
    assert "example.com/v1 Widget (1)" in caplog.text and "v1 Secret (1)" in caplog.text


# -- time shifting ------------------------------------------------------------------------------


def scripted_objects() -> list[dict]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ml", "creationTimestamp": "2024-05-01T10:00:00Z"},
            "spec": {"nodeName": "n", "containers": [{"name": "main", "image": "cuda:12"}]},
            "status": {
                "phase": "Running",
                "startTime": "2024-05-01T10:00:05Z",
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-01T10:01:00Z"}],
                "containerStatuses": [
                    {
                        "name": "main",
                        "restartCount": 3,
                        "state": {"running": {"startedAt": "2024-05-01T10:30:00Z"}},
                        "lastState": {
                            "terminated": {
                                "exitCode": 1,
                                "startedAt": "2024-05-01T10:20:00Z",
                                "finishedAt": "2024-05-01T10:29:00Z",
                            }
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e", "namespace": "ml"},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "reason": "BackOff",
            "firstTimestamp": "2024-05-01T10:20:00Z",
            "lastTimestamp": "2024-05-01T11:00:00Z",
        },
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e2", "namespace": "ml"},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "reason": "Scheduled",
            "eventTime": "2024-05-01T10:00:01.123456Z",
        },
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "n", "namespace": "kube-node-lease", "creationTimestamp": "2024-05-01T09:00:00Z"},
            "spec": {"holderIdentity": "n", "renewTime": "2024-05-01T10:59:50.500000Z"},
        },
        {
            "apiVersion": "karpenter.sh/v1",
            "kind": "NodeClaim",
            "metadata": {
                "name": "gpu-abc",
                "creationTimestamp": "2024-05-01T09:58:00Z",
                "deletionTimestamp": "2024-05-01T10:50:00Z",
            },
            "status": {
                "lastPodEventTime": "2024-05-01T10:40:00Z",
                "conditions": [
                    {"type": "Initialized", "status": "Unknown", "lastTransitionTime": "2024-05-01T09:59:00Z"}
                ],
            },
        },
    ]


def nodeclaim_crd() -> dict:
    return yaml.safe_load((loader.CRD_DIR / "karpenter" / "v1" / "karpenter.sh_nodeclaims.yaml").read_text())


def test_newest_timestamp_lands_at_now_and_everything_moves_by_the_same_delta():
    objs = {
        o["metadata"]["name"]: o
        for o in prepare_objects(scripted_objects() + [nodeclaim_crd()], shift_time=True, now=NOW)
    }
    delta = NOW - dt.datetime(2024, 5, 1, 11, 0, 0, tzinfo=dt.timezone.utc)

    def at(s: str) -> str:
        when = dt.datetime.fromisoformat(s.replace("Z", "+00:00")) + delta
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if "." in s else "%Y-%m-%dT%H:%M:%SZ")

    pod, event, lease, claim = objs["p"], objs["e"], objs["n"], objs["gpu-abc"]
    assert event["lastTimestamp"] == "2026-06-01T12:00:00Z"
    assert event["firstTimestamp"] == at("2024-05-01T10:20:00Z")
    assert objs["e2"]["eventTime"] == at("2024-05-01T10:00:01.123456Z")
    assert pod["metadata"]["creationTimestamp"] == at("2024-05-01T10:00:00Z")
    assert pod["status"]["startTime"] == at("2024-05-01T10:00:05Z")
    assert pod["status"]["conditions"][0]["lastTransitionTime"] == at("2024-05-01T10:01:00Z")
    cs = pod["status"]["containerStatuses"][0]
    assert cs["state"]["running"]["startedAt"] == at("2024-05-01T10:30:00Z")
    assert cs["lastState"]["terminated"]["finishedAt"] == at("2024-05-01T10:29:00Z")
    assert lease["spec"]["renewTime"] == at("2024-05-01T10:59:50.500000Z")
    assert claim["metadata"]["deletionTimestamp"] == at("2024-05-01T10:50:00Z")
    assert claim["status"]["lastPodEventTime"] == at("2024-05-01T10:40:00Z")
    assert claim["status"]["conditions"][0]["lastTransitionTime"] == at("2024-05-01T09:59:00Z")


def test_without_shift_times_stay_and_unset_creation_times_are_now():
    objs = {
        o["metadata"]["name"]: o
        for o in prepare_objects(scripted_objects() + [nodeclaim_crd()], shift_time=False, now=NOW)
    }
    assert objs["e"]["lastTimestamp"] == "2024-05-01T11:00:00Z"
    assert objs["e"]["metadata"]["creationTimestamp"] == "2026-06-01T12:00:00Z"


def test_unquoted_yaml_timestamps_stay_api_strings(tmp_path):
    f = write(
        tmp_path / "e.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  creationTimestamp: 2024-05-01T10:00:00Z\n",
    )
    obj = load_objects([f], shift_time=False)[-1]
    assert obj["metadata"]["creationTimestamp"] == "2024-05-01T10:00:00Z"


# -- filled fields -------------------------------------------------------------------------------


def by_name(objs: list[dict]) -> dict[tuple[str, str], dict]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}


def test_server_fields_filled_and_references_resolved():
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-1", "namespace": "ml", "uid": "11111111-2222-3333-4444-555555555555"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
            }
        },
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "web-1-",
            "namespace": "ml",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1", "controller": True}],
        },
        "spec": {
            "nodeName": "ip-10-1-2-3.ec2.internal",
            "containers": [
                {"name": "c", "image": "nginx:1.27", "resources": {"limits": {"nvidia.com/gpu": 1, "cpu": 0.5}}}
            ],
        },
        "status": {"phase": "Running"},
    }
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "ev", "namespace": "ml"},
        "involvedObject": {"kind": "ReplicaSet", "name": "web-1"},
        "reason": "SuccessfulCreate",
    }
    objs = prepare_objects([rs, pod, event], now=NOW)
    got = by_name(objs)
    p = next(o for o in objs if o["kind"] == "Pod")
    assert p["metadata"]["name"].startswith("web-1-") and len(p["metadata"]["name"]) == len("web-1-") + 5
    ref = p["metadata"]["ownerReferences"][0]
    assert ref == {
        "kind": "ReplicaSet",
        "name": "web-1",
        "controller": True,
        "apiVersion": "apps/v1",
        "uid": "11111111-2222-3333-4444-555555555555",
    }
    assert p["spec"]["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": "1", "cpu": "0.5"}
    cs = p["status"]["containerStatuses"][0]
    assert (cs["name"], cs["image"], cs["ready"], cs["restartCount"], cs["started"]) == (
        "c",
        "nginx:1.27",
        True,
        0,
        True,
    )
    assert cs["imageID"].startswith("nginx@sha256:") and cs["containerID"].startswith("containerd://")
    assert [c["type"] for c in p["status"]["conditions"] if c["status"] == "True"] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert p["status"]["hostIP"] == "10.1.2.3"
    ev = got[("Event", "ev")]
    assert ev["involvedObject"]["uid"] == "11111111-2222-3333-4444-555555555555"
    assert ev["involvedObject"]["namespace"] == "ml"
    assert ev["firstTimestamp"] == ev["lastTimestamp"] == "2026-06-01T12:00:00Z" and ev["count"] == 1
    assert got[("Namespace", "ml")]["status"]["phase"] == "Active"
    assert got[("ReplicaSet", "web-1")]["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_references_to_kinds_not_loaded_use_their_well_known_api_version_and_scope():
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "ev", "namespace": "default"},
        "involvedObject": {"kind": "NodeClaim", "name": "gpu-abcde"},
        "reason": "Launched",
    }
    io = prepare_objects([event], now=NOW)[-1]["involvedObject"]
    assert io["apiVersion"] == "karpenter.sh/v1" and "namespace" not in io
    assert io["uid"] == fill_context.deterministic_uid("NodeClaim", "", "gpu-abcde")


def test_prepare_objects_leaves_the_callers_dicts_alone():
    given = cm("a")
    out = prepare_objects([given], now=NOW)
    assert given == cm("a")
    assert out[-1]["metadata"]["uid"]


def test_uids_are_stable_across_loads():
    first = prepare_objects([cm("a")], now=NOW)
    second = prepare_objects([cm("a")], now=NOW)
    assert first[-1]["metadata"]["uid"] == second[-1]["metadata"]["uid"]


def test_pod_without_status_is_left_for_the_simulator_to_run():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "cuda"}]},
    }
    out = prepare_objects([pod], now=NOW)[-1]
    assert "status" not in out
    assert out["spec"]["restartPolicy"] == "Always"


def test_every_filled_object_parses_into_the_typed_client_models():
    from kubernetes.client import models

    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n1"},
        "status": {
            "capacity": {"nvidia.com/gpu": 4},
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.30.0"},
        },
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ml"},
        "spec": {
            "nodeName": "n1",
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [{"name": "c", "image": "cuda"}],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "c",
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"reason": "Error"}},
                    "restartCount": 5,
                }
            ],
        },
    }
    failed = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "f", "namespace": "ml"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "cuda"}]},
        "status": {"phase": "Failed"},
    }
    pending = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "q", "namespace": "ml"},
        "spec": {"containers": [{"name": "c", "image": "cuda"}]},
        "status": {"phase": "Pending"},
    }
    template = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "ds", "namespace": "ml"},
        "spec": {"template": template},
        "status": {"numberReady": 1},
    }
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "st", "namespace": "ml"},
        "spec": {"template": template},
        "status": {"readyReplicas": 1},
    }
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "ml"},
        "spec": {"template": template},
        "status": {"conditions": [{"type": "Available", "status": "False"}]},
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "namespace": "ml"},
        "spec": {"template": template},
        "status": {"conditions": [{"type": "Failed", "status": "True"}]},
    }
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "pdb", "namespace": "ml"},
        "spec": {"minAvailable": 1},
        "status": {"conditions": [{"type": "DisruptionAllowed", "status": "False"}]},
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h", "namespace": "ml"},
        "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "d"}},
        "status": {"currentReplicas": 1},
    }
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s", "namespace": "ml"},
        "spec": {"ports": [{"port": 80}]},
    }
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "n1", "namespace": "kube-node-lease"},
    }
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e", "namespace": "ml"},
        "involvedObject": {"kind": "Node", "name": "n1"},
        "reason": "NodeReady",
    }
    objs = prepare_objects(
        [node, pod, failed, pending, ds, sts, deploy, job, pdb, hpa, svc, lease, event, nodeclaim_crd()], now=NOW
    )
    lists = {
        "Node": models.V1NodeList,
        "Pod": models.V1PodList,
        "Event": models.CoreV1EventList,
        "Namespace": models.V1NamespaceList,
        "DaemonSet": models.V1DaemonSetList,
        "StatefulSet": models.V1StatefulSetList,
        "Deployment": models.V1DeploymentList,
        "Job": models.V1JobList,
        "PodDisruptionBudget": models.V1PodDisruptionBudgetList,
        "HorizontalPodAutoscaler": models.V2HorizontalPodAutoscalerList,
        "Service": models.V1ServiceList,
        "Lease": models.V1LeaseList,
        "CustomResourceDefinition": models.V1CustomResourceDefinitionList,
    }
    parsed = {}
    for obj in objs:
        parsed[(obj["kind"], obj["metadata"]["name"])] = lists[obj["kind"]].from_dict({"items": [obj]}).items[0]
    assert len(parsed) == len(objs) == 16  # 14 given + the ml and kube-node-lease namespaces
    assert parsed[("Node", "n1")].status.node_info.kubelet_version == "v1.30.0"
    assert parsed[("Node", "n1")].status.capacity == {"nvidia.com/gpu": "4"}
    crash = parsed[("Pod", "p")].status
    assert crash.container_statuses[0].last_state.terminated.exit_code == 1
    assert crash.init_container_statuses[0].state.terminated.reason == "Completed"
    assert crash.container_statuses[0].ready is False
    assert parsed[("Pod", "f")].status.container_statuses[0].state.terminated.exit_code == 1
    assert parsed[("Pod", "q")].status.conditions[0].reason == "Unschedulable"
    assert parsed[("DaemonSet", "ds")].status.desired_number_scheduled == 0
    assert parsed[("HorizontalPodAutoscaler", "h")].status.desired_replicas == 1
    assert parsed[("PodDisruptionBudget", "pdb")].status.disruptions_allowed == 0
    assert parsed[("Event", "e")].involved_object.uid == parsed[("Node", "n1")].metadata.uid
    assert parsed[("CustomResourceDefinition", "nodeclaims.karpenter.sh")].status.stored_versions == ["v1"]
    assert parsed[("Service", "s")].spec.cluster_ip.startswith("172.20.")


# -- log annotations -------------------------------------------------------------------------------


def log_pod() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "drv",
            "namespace": "gpu-operator",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "annotations": {
                "sim.gputui.dev/log.nvidia-driver-ctr": "Could not resolve kernel\n",
                "sim.gputui.dev/previous-log.nvidia-driver-ctr": "older run\n",
                "keep": "me",
            },
        },
        "spec": {"containers": [{"name": "nvidia-driver-ctr", "image": "nvcr.io/nvidia/driver:570"}]},
    }


def test_split_log_annotations_reads_and_optionally_strips():
    pod = log_pod()
    expected = {("nvidia-driver-ctr", False): "Could not resolve kernel\n", ("nvidia-driver-ctr", True): "older run\n"}
    assert split_log_annotations(pod) == expected
    assert len(pod["metadata"]["annotations"]) == 3
    assert split_log_annotations(pod, remove=True) == expected
    assert pod["metadata"]["annotations"] == {"keep": "me"}
    assert split_log_annotations({"kind": "Pod", "metadata": {}}) == {}


def test_loader_keeps_log_annotations_and_the_offline_snapshot_reads_them():
    objs = prepare_objects([log_pod()], now=NOW)
    pod = next(o for o in objs if o["kind"] == "Pod")
    assert "sim.gputui.dev/log.nvidia-driver-ctr" in pod["metadata"]["annotations"]
    snap = ClusterSnapshot.from_manifests(objs)
    assert snap.logs[("gpu-operator", "drv", "nvidia-driver-ctr", False)] == "Could not resolve kernel\n"
    assert snap.logs[("gpu-operator", "drv", "nvidia-driver-ctr", True)] == "older run\n"


# -- compact CRDs -------------------------------------------------------------------------------------


def _columns(crd: dict) -> dict[str, list]:
    return {
        v["name"]: [
            (c["name"], c["type"], c["jsonPath"], c.get("priority", 0)) for c in v.get("additionalPrinterColumns") or []
        ]
        for v in crd["spec"]["versions"]
    }


@pytest.mark.parametrize(
    "compact, upstream",
    [
        ("karpenter/v1/karpenter.sh_nodepools.yaml", "karpenter/crds/v1/karpenter.sh_nodepools.yaml"),
        ("karpenter/v1/karpenter.sh_nodeclaims.yaml", "karpenter/crds/v1/karpenter.sh_nodeclaims.yaml"),
        (
            "karpenter/v1/karpenter.k8s.aws_ec2nodeclasses.yaml",
            "karpenter/crds/v1/karpenter.k8s.aws_ec2nodeclasses.yaml",
        ),
        ("karpenter/v1beta1/karpenter.sh_nodepools.yaml", "karpenter/crds/v1beta1/karpenter.sh_nodepools.yaml"),
        ("karpenter/v1beta1/karpenter.sh_nodeclaims.yaml", "karpenter/crds/v1beta1/karpenter.sh_nodeclaims.yaml"),
        (
            "karpenter/v1beta1/karpenter.k8s.aws_ec2nodeclasses.yaml",
            "karpenter/crds/v1beta1/karpenter.k8s.aws_ec2nodeclasses.yaml",
        ),
        ("gpu-operator/nvidia.com_clusterpolicies.yaml", "gpu-operator/crds/nvidia.com_clusterpolicies.yaml"),
        ("gpu-operator/nvidia.com_nvidiadrivers.yaml", "gpu-operator/crds/nvidia.com_nvidiadrivers.yaml"),
    ],
)
def test_compact_crds_match_upstream_names_and_printer_columns(compact, upstream, reference):
    ours = yaml.safe_load((loader.CRD_DIR / compact).read_text())
    theirs = yaml.safe_load((reference / upstream).read_text())
    assert ours["metadata"]["name"] == theirs["metadata"]["name"]
    for key in ("group", "scope", "names"):
        assert ours["spec"][key] == theirs["spec"][key], key
    assert _columns(ours) == _columns(theirs)
    assert [
        (v["name"], v["served"], v["storage"], sorted(v.get("subresources") or {})) for v in ours["spec"]["versions"]
    ] == [
        (v["name"], v["served"], v["storage"], sorted(v.get("subresources") or {})) for v in theirs["spec"]["versions"]
    ]


def test_compact_crd_sets_load_and_the_whole_directory_is_refused():
    objs = load_objects([loader.CRD_DIR / "karpenter" / "v1", loader.CRD_DIR / "gpu-operator"])
    assert sorted(o["metadata"]["name"] for o in objs) == [
        "clusterpolicies.nvidia.com",
        "ec2nodeclasses.karpenter.k8s.aws",
        "nodeclaims.karpenter.sh",
        "nodepools.karpenter.sh",
        "nvidiadrivers.nvidia.com",
    ]
    err = load_error(loader.CRD_DIR)
    assert "is defined twice" in err.message


def test_unshifted_load_fills_missing_timestamps_from_the_data_clock(tmp_path):
    """Offline analysis measures ages from the newest timestamp in the files, so an object
    written without one must get that time, not the wall clock."""
    f = tmp_path / "objs.yaml"
    f.write_text(
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1, creationTimestamp: '2025-01-02T03:04:05Z'}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\n"
    )
    objs = {o["metadata"]["name"]: o for o in loader.load_objects([str(f)], shift_time=False)}
    assert objs["c"]["metadata"]["creationTimestamp"] == "2025-01-02T03:04:05Z"
    assert objs["n1"]["metadata"]["creationTimestamp"] == "2025-01-02T03:04:05Z"


# -- QoS class: one rule for loaded and created pods ------------------------------------------


@pytest.mark.parametrize(
    "spec, qos",
    [
        ({"containers": [{"name": "a", "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}, "BestEffort"),
        (
            {
                "containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}],
                "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "100m"}}}],
            },
            "Burstable",
        ),
        (
            {
                "containers": [
                    {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"}}}
                ]
            },
            "Guaranteed",
        ),
        ({"containers": [{"name": "a"}], "initContainers": "not a list"}, "BestEffort"),
    ],
)
def test_qos_class_counts_cpu_and_memory_of_every_container(spec, qos):
    from gputui.sim.kind_fields import pod_qos_class

    assert pod_qos_class(spec) == qos
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": spec}
    pod["spec"] = {**spec, "containers": [dict(c, image="busybox") for c in spec["containers"]]}
    if not isinstance(spec.get("initContainers"), list):
        pod["spec"].pop("initContainers", None)
    pod["status"] = {"phase": "Running"}
    [loaded] = [o for o in loader.prepare_objects([pod]) if o["kind"] == "Pod"]
    assert loaded["status"]["qosClass"] == qos
