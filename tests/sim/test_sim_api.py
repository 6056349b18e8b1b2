"""The simulated API server, driven over HTTP by the real `kubernetes` client."""

from __future__ import annotations

import gzip
import json
import threading
import time

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from gputui.sim.faults import Faults
from gputui.sim.store import Store
from tests.helpers.sim import api_client_for, sim_http
from tests.helpers.wait import wait_until

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.gputui.dev"},
    "spec": {
        "group": "example.gputui.dev",
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wd"],
            "categories": ["all"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}
NODECLAIM_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "nodeclaims.karpenter.sh"},
    "spec": {
        "group": "karpenter.sh",
        "scope": "Cluster",
        "names": {"plural": "nodeclaims", "singular": "nodeclaim", "kind": "NodeClaim"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}


def pod(name, ns="default", labels=None, node=None, phase=None, containers=("main",), finalizers=None):
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {})},
        "spec": {"containers": [{"name": c, "image": "busybox:1.36"} for c in containers]},
    }
    if node:
        obj["spec"]["nodeName"] = node
    if phase:
        obj["status"] = {"phase": phase}
    if finalizers:
        obj["metadata"]["finalizers"] = list(finalizers)
    return obj


def status_of(exc: ApiException) -> dict:
    return json.loads(exc.body)


@pytest.fixture
def sim(start_sim):
    return start_sim(
        objects=[
            pod("a", labels={"app": "web", "tier": "front"}, node="gpu-1", phase="Running"),
            pod("b", labels={"app": "web", "tier": "back"}, node="gpu-2", phase="Pending"),
            pod("c", labels={"app": "db"}, node="gpu-1", phase="Running"),
            pod("d", ns="ml", labels={"app": "train", "gpu": "yes"}, node="gpu-2", phase="Failed"),
            pod("e", ns="ml", labels={}, phase="Pending"),
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "a.1", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "name": "a", "namespace": "default"},
                "reason": "Pulled",
                "type": "Normal",
                "message": "pulled",
                "source": {"component": "kubelet"},
            },
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "b.1", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "name": "b", "namespace": "default"},
                "reason": "FailedScheduling",
                "type": "Warning",
                "message": "0/2 nodes are available",
                "source": {"component": "default-scheduler"},
            },
            WIDGET_CRD,
        ]
    )


@pytest.fixture
def core(sim):
    return client.CoreV1Api(api_client_for(sim))


def names(items):
    return [i.metadata.name for i in items]


# --- server basics, auth, discovery ---------------------------------------------------


def test_version_and_health_answer_without_token(sim):
    code, _, body = sim_http(sim, "GET", "/version", token=None)
    assert code == 200
    info = json.loads(body)
    assert (info["gitVersion"], info["major"], info["minor"]) == ("v1.32.4", "1", "32")
    for path in ("/healthz", "/livez", "/readyz"):
        assert sim_http(sim, "GET", path, token=None)[:3:2] == (200, b"ok")


def test_missing_or_wrong_token_is_unauthorized(sim, tmp_path):
    code, _, body = sim_http(sim, "GET", "/api/v1/pods", token=None)
    assert code == 401
    assert json.loads(body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
    bad = tmp_path / "bad.kubeconfig"
    bad.write_text(sim.kubeconfig.read_text().replace(sim.token, "wrong-token"))
    api = config.new_client_from_config(config_file=str(bad), context=sim.context)
    with pytest.raises(ApiException) as e:
        client.CoreV1Api(api).list_namespaced_pod("default")
    assert e.value.status == 401
    assert status_of(e.value)["reason"] == "Unauthorized"


def test_kubeconfig_is_private_and_names_the_context(sim):
    assert sim.kubeconfig.stat().st_mode & 0o777 == 0o600
    text = sim.kubeconfig.read_text()
    assert sim.url in text and sim.token in text and "current-context: gputui-sim" in text


def test_legacy_discovery(sim):
    versions = json.loads(sim_http(sim, "GET", "/api")[2])
    assert versions["kind"] == "APIVersions" and versions["versions"] == ["v1"]
    core = json.loads(sim_http(sim, "GET", "/api/v1")[2])
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["categories"] == ["all"]
    assert by_name["pods"]["namespaced"] is True and "watch" in by_name["pods"]["verbs"]
    assert by_name["pods/log"]["verbs"] == ["get"]
    assert by_name["pods/eviction"]["kind"] == "Eviction" and by_name["pods/eviction"]["group"] == "policy"
    assert by_name["nodes/status"]["verbs"] == ["get", "patch", "update"]
    groups = json.loads(sim_http(sim, "GET", "/apis")[2])
    widget_group = next(g for g in groups["groups"] if g["name"] == "example.gputui.dev")
    assert widget_group["preferredVersion"] == {"groupVersion": "example.gputui.dev/v1", "version": "v1"}
    widgets = json.loads(sim_http(sim, "GET", "/apis/example.gputui.dev/v1")[2])
    assert [r["name"] for r in widgets["resources"]] == ["widgets", "widgets/status"]
    assert widgets["resources"][0]["shortNames"] == ["wd"]
    assert sim_http(sim, "GET", "/apis/nope.example/v1")[0] == 404


@pytest.mark.parametrize("version", ["v2", "v2beta1"])
def test_aggregated_discovery(sim, version):
    accept = f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList,application/json"
    code, headers, body = sim_http(sim, "GET", "/api", headers={"Accept": accept})
    assert code == 200
    assert headers["content-type"] == f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
    doc = json.loads(body)
    assert doc["kind"] == "APIGroupDiscoveryList" and doc["apiVersion"] == f"apidiscovery.k8s.io/{version}"
    (legacy,) = doc["items"]
    pods = next(r for r in legacy["versions"][0]["resources"] if r["resource"] == "pods")
    assert pods["scope"] == "Namespaced" and pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert {s["subresource"] for s in pods["subresources"]} == {"status", "log", "eviction", "binding"}
    doc = json.loads(sim_http(sim, "GET", "/apis", headers={"Accept": accept})[2])
    groups = {i["metadata"]["name"]: i for i in doc["items"]}
    assert "" not in groups and "apps" in groups
    widgets = groups["example.gputui.dev"]["versions"][0]["resources"][0]
    assert widgets["resource"] == "widgets" and widgets["shortNames"] == ["wd"]


# --- create / get / errors --------------------------------------------------------------


def test_create_get_generate_name_and_error_statuses(core):
    created = core.create_namespaced_pod(
        "default",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"generateName": "job-"},
            "spec": {"containers": [{"name": "c", "image": "x:1"}]},
        },
    )
    assert created.metadata.name.startswith("job-") and len(created.metadata.name) == 9
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
    assert created.status.phase == "Pending"
    assert core.read_namespaced_pod(created.metadata.name, "default").metadata.uid == created.metadata.uid

    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod("nope", "default")
    assert e.value.status == 404
    st = status_of(e.value)
    assert (st["reason"], st["message"]) == ("NotFound", 'pods "nope" not found')

    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", pod("a"))
    assert (e.value.status, status_of(e.value)["reason"]) == (409, "AlreadyExists")
    assert status_of(e.value)["message"] == 'pods "a" already exists'

    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod(
            "default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "z"}, "spec": {"containers": []}}
        )
    st = status_of(e.value)
    assert (e.value.status, st["reason"]) == (422, "Invalid")
    assert st["message"] == 'Pod "z" is invalid: spec.containers: Required value'

    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("nope", pod("x", ns="nope"))
    assert (e.value.status, status_of(e.value)["message"]) == (404, 'namespaces "nope" not found')

    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", pod("x", ns="ml"))
    assert (e.value.status, status_of(e.value)["reason"]) == (400, "BadRequest")


def test_unknown_path_and_method(sim):
    code, _, body = sim_http(sim, "GET", "/api/v1/widgets")
    assert (code, json.loads(body)["reason"]) == (404, "NotFound")
    code, _, body = sim_http(sim, "PUT", "/api/v1/namespaces/default/pods", body={})
    assert (code, json.loads(body)["reason"]) == (405, "MethodNotAllowed")


# --- selectors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "selector,expected",
    [
        ("app=web", ["a", "b"]),
        ("app==web", ["a", "b"]),
        ("app!=web", ["c", "d", "e"]),
        ("app in (web,train)", ["a", "b", "d"]),
        ("app notin (web,train)", ["c", "e"]),
        ("gpu", ["d"]),
        ("!app", ["e"]),
        ("app=web,tier=back", ["b"]),
    ],
)
def test_label_selectors(core, selector, expected):
    assert names(core.list_pod_for_all_namespaces(label_selector=selector).items) == expected


@pytest.mark.parametrize(
    "selector,expected",
    [
        ("spec.nodeName=gpu-1", ["a", "c"]),
        ("spec.nodeName==gpu-2,status.phase=Failed", ["d"]),
        ("status.phase!=Running", ["b", "d", "e"]),
        ("metadata.name=e", ["e"]),
        ("metadata.namespace=ml", ["d", "e"]),
        ("spec.nodeName=", ["e"]),
    ],
)
def test_field_selectors(core, selector, expected):
    assert names(core.list_pod_for_all_namespaces(field_selector=selector).items) == expected


def test_event_field_selectors(core):
    evs = core.list_namespaced_event("default", field_selector="involvedObject.name=b,involvedObject.kind=Pod")
    assert names(evs.items) == ["b.1"]
    assert names(core.list_namespaced_event("default", field_selector="reason=Pulled").items) == ["a.1"]
    assert names(core.list_namespaced_event("default", field_selector="type=Warning").items) == ["b.1"]
    assert names(core.list_namespaced_event("default", field_selector="source=kubelet").items) == ["a.1"]


def test_bad_selector_is_bad_request(core):
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod("default", label_selector="app in web)")
    assert (e.value.status, status_of(e.value)["reason"]) == (400, "BadRequest")
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod("default", field_selector="nonsense")
    assert e.value.status == 400


# --- pagination --------------------------------------------------------------------------


def test_pagination_in_namespace_name_order(core):
    page = core.list_pod_for_all_namespaces(limit=2)
    assert names(page.items) == ["a", "b"]
    assert page.metadata.remaining_item_count == 3 and page.metadata._continue
    page2 = core.list_pod_for_all_namespaces(limit=2, _continue=page.metadata._continue)
    assert [(p.metadata.namespace, p.metadata.name) for p in page2.items] == [("default", "c"), ("ml", "d")]
    page3 = core.list_pod_for_all_namespaces(limit=2, _continue=page2.metadata._continue)
    assert names(page3.items) == ["e"] and page3.metadata._continue is None
    assert page3.metadata.remaining_item_count is None


def test_pagination_with_selector_skips_non_matching(core):
    page = core.list_pod_for_all_namespaces(limit=1, label_selector="app=web")
    assert names(page.items) == ["a"]
    rest = core.list_pod_for_all_namespaces(limit=1, label_selector="app=web", _continue=page.metadata._continue)
    assert names(rest.items) == ["b"] and rest.metadata._continue is None


def test_continue_token_expires_after_compaction(sim, core):
    page = core.list_pod_for_all_namespaces(limit=2)
    sim.store.compact()
    with pytest.raises(ApiException) as e:
        core.list_pod_for_all_namespaces(limit=2, _continue=page.metadata._continue)
    st = status_of(e.value)
    assert (e.value.status, st["reason"]) == (410, "Expired")
    assert st["message"].startswith(
        "The provided continue parameter is too old to display a consistent list "
        "result. You can start a new list without the continue parameter"
    )


def test_garbage_continue_token_is_bad_request(core):
    with pytest.raises(ApiException) as e:
        core.list_pod_for_all_namespaces(limit=2, _continue="not-a-token")
    assert e.value.status == 400


# --- watch -------------------------------------------------------------------------------


def _later(fn, delay=0.3):
    t = threading.Timer(delay, fn)
    t.start()
    return t


def test_watch_sends_existing_objects_then_changes(core):
    w = watch.Watch()
    seen = []
    t = _later(
        lambda: (
            core.create_namespaced_pod("default", pod("new", labels={"app": "web"})),
            core.patch_namespaced_pod("new", "default", {"metadata": {"labels": {"x": "1"}}}, _content_type=MERGE),
            core.delete_namespaced_pod("new", "default"),
        )
    )
    for ev in w.stream(core.list_namespaced_pod, "default", label_selector="app=web", timeout_seconds=3):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ev["type"] == "DELETED":
            w.stop()
    t.join()
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "new")]


def test_watch_from_resource_version_replays_history(core):
    rv = core.list_namespaced_pod("default").metadata.resource_version
    core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"seen": "yes"}}}, _content_type=MERGE)
    core.delete_namespaced_pod("c", "default")
    w = watch.Watch()
    events = []
    for ev in w.stream(core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=1):
        events.append((ev["type"], ev["object"].metadata.name))
    assert events == [("MODIFIED", "a"), ("DELETED", "c")]


def test_watch_selector_transitions(core):
    rv = core.list_namespaced_pod("default").metadata.resource_version
    core.patch_namespaced_pod("c", "default", {"metadata": {"labels": {"app": "web"}}}, _content_type=MERGE)
    core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"app": "api"}}}, _content_type=MERGE)
    w = watch.Watch()
    events = [
        (ev["type"], ev["object"].metadata.name)
        for ev in w.stream(
            core.list_namespaced_pod, "default", label_selector="app=web", resource_version=rv, timeout_seconds=1
        )
    ]
    assert events == [("ADDED", "c"), ("DELETED", "a")]


def test_watch_too_old_resource_version_is_410(sim, core):
    rv = core.list_namespaced_pod("default").metadata.resource_version
    core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"x": "y"}}}, _content_type=MERGE)
    sim.store.compact()
    # Raw stream: one ERROR event carrying the Status, then the end.
    code, _, body = sim_http(sim, "GET", f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}")
    assert code == 200
    lines = body.decode().splitlines()
    assert len(lines) == 1
    ev = json.loads(lines[0])
    assert ev["type"] == "ERROR"
    assert ev["object"]["code"] == 410 and ev["object"]["reason"] == "Expired"
    assert ev["object"]["message"].startswith(f"too old resource version: {rv} (")
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=1))
    assert e.value.status == 410


def test_watch_history_overflow_compacts(sim, core, monkeypatch):
    import gputui.sim.store as store_mod

    monkeypatch.setattr(store_mod, "HISTORY_LIMIT", 3)
    rv = core.list_namespaced_pod("default").metadata.resource_version
    page = core.list_pod_for_all_namespaces(limit=1)
    for i in range(5):
        core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"n": str(i)}}}, _content_type=MERGE)
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=1))
    assert e.value.status == 410
    with pytest.raises(ApiException) as e:
        core.list_pod_for_all_namespaces(limit=1, _continue=page.metadata._continue)
    assert e.value.status == 410


def test_watch_timeout_ends_stream(sim):
    start = time.monotonic()
    code, _, body = sim_http(sim, "GET", "/api/v1/namespaces/ml/pods?watch=true&timeoutSeconds=1")
    assert code == 200 and time.monotonic() - start >= 0.9
    assert [json.loads(line)["type"] for line in body.decode().splitlines()] == ["ADDED", "ADDED"]


# --- patches -----------------------------------------------------------------------------


def test_merge_json_and_strategic_patches(core):
    p = core.patch_namespaced_pod(
        "a", "default", {"metadata": {"labels": {"tier": None, "new": "1"}}}, _content_type=MERGE
    )
    assert p.metadata.labels == {"app": "web", "new": "1"}
    p = core.patch_namespaced_pod(
        "a",
        "default",
        [
            {"op": "add", "path": "/metadata/annotations", "value": {"k": "v"}},
            {"op": "replace", "path": "/spec/containers/0/image", "value": "busybox:2"},
        ],
        _content_type=JSON_PATCH,
    )
    assert p.metadata.annotations == {"k": "v"} and p.spec.containers[0].image == "busybox:2"
    with pytest.raises(ApiException) as e:  # a running pod's spec is immutable but for images and a few more
        core.patch_namespaced_pod(
            "a",
            "default",
            {"spec": {"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}]}]}},
            _content_type=STRATEGIC,
        )
    st = status_of(e.value)
    assert (e.value.status, st["reason"]) == (422, "Invalid")
    assert st["message"].startswith(
        'Pod "a" is invalid: spec: Forbidden: pod updates may not change fields other '
        "than `spec.containers[*].image`,`spec.initContainers[*].image`,"
        "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations)"
    )
    p = core.patch_namespaced_pod(
        "a", "default", {"spec": {"tolerations": [{"key": "k", "operator": "Exists"}]}}, _content_type=STRATEGIC
    )
    assert [t.key for t in p.spec.tolerations] == ["k"]


def _deployment(name="web", containers=None):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": containers
                    or [
                        {
                            "name": "main",
                            "image": "nginx:1",
                            "ports": [{"containerPort": 80}],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "volumeMounts": [{"name": "v", "mountPath": "/data"}],
                        }
                    ],
                    "tolerations": [{"key": "old", "operator": "Exists"}],
                },
            },
        },
    }


def test_strategic_merge_keys_on_a_pod_template(start_sim):
    sim = start_sim(objects=[_deployment()])
    apps = client.AppsV1Api(api_client_for(sim))
    patch = {
        "metadata": {"finalizers": ["a/b"]},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                            "ports": [{"containerPort": 9090, "name": "metrics"}],
                            "volumeMounts": [{"mountPath": "/data", "readOnly": True}],
                        },
                        {"name": "sidecar", "image": "envoy:1"},
                    ],
                    "tolerations": [{"key": "new", "operator": "Exists"}],
                }
            }
        },
    }
    d = apps.patch_namespaced_deployment("web", "default", patch, _content_type=STRATEGIC)
    spec = d.spec.template.spec
    main = spec.containers[0]
    assert [(c.name, c.image) for c in spec.containers] == [("main", "nginx:1"), ("sidecar", "envoy:1")]
    assert [(e.name, e.value) for e in main.env] == [("A", "1"), ("B", "20"), ("C", "3")]
    assert [p.container_port for p in main.ports] == [80, 9090]
    assert [(m.name, m.mount_path, m.read_only) for m in main.volume_mounts] == [("v", "/data", True)]
    assert [t.key for t in spec.tolerations] == ["new"]  # no merge key: replaced
    assert d.metadata.finalizers == ["a/b"] and d.metadata.generation == 2
    d = apps.patch_namespaced_deployment(
        "web",
        "default",
        {
            "metadata": {"finalizers": ["c/d"]},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "sidecar", "$patch": "delete"},
                            {"name": "main", "env": [{"name": "A", "$patch": "delete"}]},
                        ],
                        "$setElementOrder/containers": [{"name": "main"}],
                    }
                }
            },
        },
        _content_type=STRATEGIC,
    )
    assert [c.name for c in d.spec.template.spec.containers] == ["main"]
    assert [e.name for e in d.spec.template.spec.containers[0].env] == ["B", "C"]
    assert d.metadata.finalizers == ["a/b", "c/d"]  # merged as a set
    d = apps.patch_namespaced_deployment(
        "web",
        "default",
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "only", "image": "busybox:1"}, {"$patch": "replace"}]}}
            }
        },
        _content_type=STRATEGIC,
    )
    assert [c.name for c in d.spec.template.spec.containers] == ["only"]


def test_validation_of_updates(start_sim):
    sim = start_sim(
        objects=[_deployment(), pod("p"), {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {}}]
    )
    api = api_client_for(sim)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_deployment(
            "web", "default", {"spec": {"selector": {"matchLabels": {"app": "x"}}}}, _content_type=MERGE
        )
    st = status_of(e.value)
    assert (e.value.status, st["reason"], st["details"]["causes"][0]["field"]) == (422, "Invalid", "spec.selector")
    assert st["message"].startswith('Deployment.apps "web" is invalid: spec.selector: Invalid value: ')
    assert st["message"].endswith(": field is immutable")
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"bad key!": "x"}}}, _content_type=MERGE)
    assert status_of(e.value)["message"].startswith('Pod "p" is invalid: metadata.labels: Invalid value: "bad key!"')
    with pytest.raises(ApiException) as e:
        core.patch_node("n1", {"spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}}, _content_type=MERGE)
    assert status_of(e.value)["message"] == (
        'Node "n1" is invalid: spec.taints[0].effect: Unsupported value: '
        '"Sometimes": supported values: "NoExecute", "NoSchedule", '
        '"PreferNoSchedule"'
    )


def test_json_patch_failure_and_dict_as_json_patch(sim, core):
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_pod(
            "a", "default", [{"op": "test", "path": "/metadata/name", "value": "b"}], _content_type=JSON_PATCH
        )
    assert (e.value.status, status_of(e.value)["reason"]) == (422, "Invalid")
    # The client sends a dict body as a strategic merge patch whatever content type is asked for.
    assert core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"x": "1"}}}).metadata.labels["x"] == "1"
    code, _, body = sim_http(
        sim, "PATCH", "/api/v1/namespaces/default/pods/a", body={"metadata": {}}, headers={"Content-Type": JSON_PATCH}
    )
    assert (code, json.loads(body)["reason"]) == (400, "BadRequest")  # a JSON patch is a list of operations
    code, _, body = sim_http(
        sim, "PATCH", "/api/v1/namespaces/default/pods/a", body={"metadata": {}}, headers={"Content-Type": "text/plain"}
    )
    assert (code, json.loads(body)["reason"]) == (415, "UnsupportedMediaType")


def test_strategic_patch_on_node_replaces_taints_and_merges_conditions(sim, core):
    sim.store.bulk_load(
        [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "n1"},
                "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}, {"type": "DiskPressure", "status": "False"}]
                },
            }
        ]
    )
    n = core.patch_node(
        "n1",
        {"spec": {"unschedulable": True, "taints": [{"key": "b", "effect": "NoExecute"}]}},
        _content_type=STRATEGIC,
    )
    assert n.spec.unschedulable is True and [t.key for t in n.spec.taints] == ["b"]
    n = core.patch_node_status(
        "n1", {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}, _content_type=STRATEGIC
    )
    assert [(c.type, c.status) for c in n.status.conditions] == [("Ready", "False"), ("DiskPressure", "False")]


def test_server_side_apply_creates_then_updates(sim):
    api = api_client_for(sim)
    core = client.CoreV1Api(api)
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "default"},
        "data": {"a": "1"},
    }
    out = core.patch_namespaced_config_map("cfg", "default", cm, field_manager="tests", _content_type=APPLY)
    assert out.data == {"a": "1"}
    cm["data"] = {"a": "2", "b": "3"}
    out = core.patch_namespaced_config_map("cfg", "default", cm, field_manager="tests", force=True, _content_type=APPLY)
    assert out.data == {"a": "2", "b": "3"}
    code, _, body = sim_http(
        sim,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/cfg",
        body=json.dumps(cm).encode(),
        headers={"Content-Type": APPLY},
    )
    assert (code, json.loads(body)["reason"]) == (400, "BadRequest")  # fieldManager is required


def test_custom_resources(sim):
    api = api_client_for(sim)
    co = client.CustomObjectsApi(api)
    widget = {
        "apiVersion": "example.gputui.dev/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 1, "tags": ["a"]},
    }
    co.create_namespaced_custom_object("example.gputui.dev", "v1", "default", "widgets", widget)
    got = co.get_namespaced_custom_object("example.gputui.dev", "v1", "default", "widgets", "w1")
    assert got["spec"] == {"size": 1, "tags": ["a"]} and got["metadata"]["namespace"] == "default"
    out = co.patch_namespaced_custom_object(
        "example.gputui.dev", "v1", "default", "widgets", "w1", {"spec": {"tags": ["b"]}}, _content_type=MERGE
    )
    assert out["spec"] == {"size": 1, "tags": ["b"]}
    with pytest.raises(ApiException) as e:
        co.patch_namespaced_custom_object(
            "example.gputui.dev", "v1", "default", "widgets", "w1", {"spec": {"size": 2}}, _content_type=STRATEGIC
        )
    st = status_of(e.value)
    assert (e.value.status, st["reason"]) == (415, "UnsupportedMediaType")
    assert st["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml"
    )
    listed = co.list_cluster_custom_object("example.gputui.dev", "v1", "widgets")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["w1"] and listed["kind"] == "WidgetList"
    # Status is a subresource: the main resource ignores status, /status changes only status.
    out = co.patch_namespaced_custom_object(
        "example.gputui.dev", "v1", "default", "widgets", "w1", {"status": {"ok": True}}, _content_type=MERGE
    )
    assert "status" not in out
    out = co.patch_namespaced_custom_object_status(
        "example.gputui.dev",
        "v1",
        "default",
        "widgets",
        "w1",
        {"status": {"ok": True}, "spec": {"size": 9}},
        _content_type=MERGE,
    )
    assert out["status"] == {"ok": True} and out["spec"]["size"] == 1


def test_crd_created_over_the_api_serves_its_kind(sim):
    api = api_client_for(sim)
    client.ApiextensionsV1Api(api).create_custom_resource_definition(NODECLAIM_CRD)
    co = client.CustomObjectsApi(api)
    co.create_cluster_custom_object(
        "karpenter.sh",
        "v1",
        "nodeclaims",
        {"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim", "metadata": {"name": "gpu-abc"}, "spec": {}},
    )
    items = co.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"]
    assert [i["metadata"]["name"] for i in items] == ["gpu-abc"]
    client.ApiextensionsV1Api(api).delete_custom_resource_definition("nodeclaims.karpenter.sh")
    assert sim_http(sim, "GET", "/apis/karpenter.sh/v1/nodeclaims")[0] == 404


# --- dry run, conflicts, finalizers, delete ---------------------------------------------


def test_dry_run_persists_nothing(sim, core):
    rv = sim.store.resource_version
    out = core.create_namespaced_pod("default", pod("dry"), dry_run="All")
    assert out.metadata.name == "dry"
    core.patch_namespaced_pod(
        "a", "default", {"metadata": {"labels": {"dry": "1"}}}, dry_run="All", _content_type=MERGE
    )
    cur = core.read_namespaced_pod("a", "default")
    cur.metadata.labels["dry"] = "2"
    core.replace_namespaced_pod("a", "default", cur, dry_run="All")
    core.delete_namespaced_pod("b", "default", dry_run="All")
    assert sim.store.resource_version == rv
    assert "dry" not in (core.read_namespaced_pod("a", "default").metadata.labels or {})
    assert names(core.list_namespaced_pod("default").items) == ["a", "b", "c"]
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", pod("a"), dry_run="All")
    assert e.value.status == 409
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", pod("q"), dry_run="Some")
    assert e.value.status == 400


def test_stale_resource_version_conflicts(core):
    first = core.read_namespaced_pod("a", "default")
    core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"v": "2"}}}, _content_type=MERGE)
    first.metadata.labels["v"] = "stale"
    with pytest.raises(ApiException) as e:
        core.replace_namespaced_pod("a", "default", first)
    st = status_of(e.value)
    assert (e.value.status, st["reason"]) == (409, "Conflict")
    assert st["message"] == (
        'Operation cannot be fulfilled on pods "a": the object has been modified; please '
        "apply your changes to the latest version and try again"
    )
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_pod(
            "a",
            "default",
            {"metadata": {"resourceVersion": first.metadata.resource_version, "labels": {"v": "3"}}},
            _content_type=MERGE,
        )
    assert e.value.status == 409
    fresh = core.read_namespaced_pod("a", "default")
    fresh.metadata.labels["v"] = "4"
    assert core.replace_namespaced_pod("a", "default", fresh).metadata.labels["v"] == "4"


def test_finalizers_hold_deletion_until_removed(start_sim):
    sim = start_sim(objects=[pod("held", finalizers=["example.com/keep"])])
    core = client.CoreV1Api(api_client_for(sim))
    core.delete_namespaced_pod("held", "default", propagation_policy="Foreground")
    still = core.read_namespaced_pod("held", "default")
    assert still.metadata.deletion_timestamp is not None
    assert still.metadata.finalizers == ["example.com/keep"]
    core.patch_namespaced_pod(
        "held", "default", [{"op": "remove", "path": "/metadata/finalizers"}], _content_type=JSON_PATCH
    )
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod("held", "default")
    assert e.value.status == 404


def test_deleting_an_owner_removes_dependents(start_sim):
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default", "uid": "11111111-1111-1111-1111-111111111111"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "x:1"}]},
            },
        },
    }
    owned = pod("web-1", labels={"app": "web"})
    owned["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "11111111-1111-1111-1111-111111111111"}
    ]
    sim = start_sim(objects=[rs, owned, pod("other")])
    api = api_client_for(sim)
    client.AppsV1Api(api).delete_namespaced_replica_set("web", "default")
    assert names(client.CoreV1Api(api).list_namespaced_pod("default").items) == ["other"]


def test_delete_collection_with_selector(core):
    core.delete_collection_namespaced_pod("default", label_selector="app=web")
    assert names(core.list_namespaced_pod("default").items) == ["c"]


def test_delete_precondition_conflict(sim):
    code, _, body = sim_http(
        sim, "DELETE", "/api/v1/namespaces/default/pods/a", body={"preconditions": {"resourceVersion": "1"}}
    )
    assert (code, json.loads(body)["reason"]) == (409, "Conflict")


# --- logs --------------------------------------------------------------------------------


@pytest.fixture
def log_sim(start_sim):
    multi = pod("multi", containers=("app", "sidecar"), phase="Running", node="gpu-1")
    multi["metadata"]["annotations"] = {
        "sim.gputui.dev/log.app": "one\ntwo\nthree\n",
        "sim.gputui.dev/previous-log.app": "crashed\n",
        "sim.gputui.dev/log.sidecar": "side\n",
    }
    single = pod("single", phase="Running", node="gpu-1")
    single["metadata"]["annotations"] = {"sim.gputui.dev/log.main": "hello\nworld\n"}
    return start_sim(objects=[multi, single])


def test_logs(log_sim):
    core = client.CoreV1Api(api_client_for(log_sim))
    assert core.read_namespaced_pod_log("single", "default") == "hello\nworld\n"
    assert core.read_namespaced_pod_log("multi", "default", container="app", tail_lines=2) == "two\nthree\n"
    assert core.read_namespaced_pod_log("multi", "default", container="app", limit_bytes=5) == "one\nt"
    assert core.read_namespaced_pod_log("multi", "default", container="app", previous=True) == "crashed\n"
    assert core.read_namespaced_pod_log("multi", "default", container="sidecar") == "side\n"
    # The log annotations are moved into the log table, not served on the pod.
    assert core.read_namespaced_pod("multi", "default").metadata.annotations is None


def test_log_errors(log_sim):
    core = client.CoreV1Api(api_client_for(log_sim))
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod_log("multi", "default")
    st = status_of(e.value)
    assert (e.value.status, st["reason"]) == (400, "BadRequest")
    assert st["message"] == "a container name must be specified for pod multi, choose one of: [app sidecar]"
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod_log("multi", "default", container="sidecar", previous=True)
    assert status_of(e.value)["message"] == 'previous terminated container "sidecar" in pod "multi" not found'
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod_log("multi", "default", container="nope")
    assert e.value.status == 400
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod_log("gone", "default")
    assert e.value.status == 404


def test_log_content_type_is_text(log_sim):
    code, headers, body = sim_http(log_sim, "GET", "/api/v1/namespaces/default/pods/single/log?tailLines=1")
    assert (code, headers["content-type"], body) == (200, "text/plain", b"world\n")


# --- subresources: eviction, binding, scale ---------------------------------------------


def test_eviction_respects_disruption_budget(start_sim):
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
        "status": {
            "disruptionsAllowed": 0,
            "currentHealthy": 1,
            "desiredHealthy": 1,
            "expectedPods": 1,
            "observedGeneration": 1,
        },
    }
    batch_pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "batch", "namespace": "default"},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "batch"}}},
        "status": {
            "disruptionsAllowed": 1,
            "currentHealthy": 2,
            "desiredHealthy": 1,
            "expectedPods": 2,
            "observedGeneration": 1,
        },
    }
    sim = start_sim(
        objects=[
            pod("web-1", labels={"app": "web"}, phase="Running", node="n"),
            pod("free", phase="Running", node="n"),
            pdb,
            batch_pdb,
            pod("batch-1", labels={"app": "batch"}, phase="Running", node="n"),
            pod("batch-2", labels={"app": "batch"}, phase="Running", node="n"),
        ]
    )
    core = client.CoreV1Api(api_client_for(sim))
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-1", "namespace": "default"}}
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod_eviction("web-1", "default", eviction)
    st = status_of(e.value)
    assert (e.value.status, st["reason"]) == (429, "TooManyRequests")
    assert st["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    eviction["metadata"]["name"] = "free"
    core.create_namespaced_pod_eviction("free", "default", eviction)
    # A budget that allows one disruption lets exactly one of its pods go.
    eviction["metadata"]["name"] = "batch-1"
    core.create_namespaced_pod_eviction("batch-1", "default", eviction)
    eviction["metadata"]["name"] = "batch-2"
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod_eviction("batch-2", "default", eviction)
    assert e.value.status == 429
    assert names(core.list_namespaced_pod("default").items) == ["batch-2", "web-1"]


def test_binding_sets_node_once(start_sim):
    sim = start_sim(objects=[pod("p")])
    core = client.CoreV1Api(api_client_for(sim))
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "gpu-9"},
    }
    code, _, _ = sim_http(sim, "POST", "/api/v1/namespaces/default/pods/p/binding", body=binding)
    assert code == 201
    assert core.read_namespaced_pod("p", "default").spec.node_name == "gpu-9"
    code, _, body = sim_http(sim, "POST", "/api/v1/namespaces/default/pods/p/binding", body=binding)
    assert (code, json.loads(body)["reason"]) == (409, "Conflict")


def test_scale_subresource(start_sim):
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
            },
        },
    }
    sim = start_sim(objects=[deploy])
    apps = client.AppsV1Api(api_client_for(sim))
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert scale.spec.replicas == 2 and scale.status.selector == "app=web"
    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 5}}, _content_type=MERGE)
    d = apps.read_namespaced_deployment("web", "default")
    assert d.spec.replicas == 5 and d.metadata.generation == 2


# --- tables, gzip, access reviews --------------------------------------------------------


def test_table_rendering(sim):
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    code, headers, body = sim_http(sim, "GET", "/api/v1/namespaces/default/pods", headers={"Accept": accept})
    assert code == 200 and headers["content-type"].startswith("application/json;as=Table")
    table = json.loads(body)
    assert table["kind"] == "Table" and table["columnDefinitions"][0]["name"] == "Name"
    assert [r["cells"][0] for r in table["rows"]] == ["a", "b", "c"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert table["metadata"]["resourceVersion"] == sim.store.resource_version


def test_gzip_when_asked(start_sim):
    sim = start_sim(objects=[pod(f"p{i:03d}") for i in range(60)])
    code, headers, body = sim_http(sim, "GET", "/api/v1/pods", headers={"Accept-Encoding": "gzip"})
    assert code == 200 and headers["content-encoding"] == "gzip"
    doc = json.loads(gzip.decompress(body))
    assert len(doc["items"]) == 60 and doc["kind"] == "PodList"
    code, headers, body = sim_http(sim, "GET", "/api/v1/pods")
    assert "content-encoding" not in headers and len(json.loads(body)["items"]) == 60


def test_self_subject_access_review(sim):
    sim.faults.forbid = ("nodeclaims.karpenter.sh",)
    api = client.AuthorizationV1Api(api_client_for(sim))

    def allowed(resource, group):
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "list", "resource": resource, "group": group}},
        }
        return api.create_self_subject_access_review(review).status.allowed

    assert allowed("pods", "") is True
    assert allowed("nodeclaims", "karpenter.sh") is False


# --- faults ------------------------------------------------------------------------------


def test_forbid_answers_403_for_every_verb(start_sim):
    sim = start_sim(
        objects=[
            NODECLAIM_CRD,
            {"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim", "metadata": {"name": "c1"}, "spec": {}},
        ],
        faults=Faults(forbid=("nodeclaims", "events")),
    )
    api = api_client_for(sim)
    co = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as e:
        co.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")
    st = status_of(e.value)
    assert (e.value.status, st["reason"]) == (403, "Forbidden")
    assert st["message"] == (
        'nodeclaims.karpenter.sh is forbidden: User "system:serviceaccount:default:gputui" '
        'cannot list resource "nodeclaims" in API group "karpenter.sh" at the cluster scope'
    )
    with pytest.raises(ApiException) as e:
        co.delete_cluster_custom_object("karpenter.sh", "v1", "nodeclaims", "c1")
    assert status_of(e.value)["message"].startswith('nodeclaims.karpenter.sh "c1" is forbidden: User')
    core = client.CoreV1Api(api)
    with pytest.raises(ApiException) as e:
        core.list_namespaced_event("default")
    assert status_of(e.value)["message"] == (
        'events is forbidden: User "system:serviceaccount:default:gputui" '
        'cannot list resource "events" in API group "" in the namespace '
        '"default"'
    )
    assert core.list_namespaced_pod("default").items == []


def test_error_rate_fails_reads_only(start_sim):
    sim = start_sim(objects=[pod("p")], faults=Faults(error_rate=1.0))
    core = client.CoreV1Api(api_client_for(sim))
    codes = set()
    for _ in range(12):
        with pytest.raises(ApiException) as e:
            core.list_namespaced_pod("default")
        codes.add((e.value.status, status_of(e.value)["reason"]))
    assert codes <= {(500, "InternalError"), (503, "ServiceUnavailable")} and codes
    core.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"w": "1"}}}, _content_type=MERGE)
    sim.faults.error_rate = 0.0
    assert core.read_namespaced_pod("p", "default").metadata.labels == {"w": "1"}


def test_expire_continue_fault(start_sim):
    sim = start_sim(objects=[pod("p1"), pod("p2")], faults=Faults(expire_continue=True))
    core = client.CoreV1Api(api_client_for(sim))
    page = core.list_namespaced_pod("default", limit=1)
    assert names(page.items) == ["p1"]
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod("default", limit=1, _continue=page.metadata._continue)
    assert (e.value.status, status_of(e.value)["reason"]) == (410, "Expired")


def test_latency_delays_every_request(start_sim):
    sim = start_sim(faults=Faults(latency_ms=150))
    start = time.monotonic()
    assert sim_http(sim, "GET", "/version")[0] == 200
    assert time.monotonic() - start >= 0.15


# --- store API used in-process -----------------------------------------------------------


def test_store_subscribers_and_bulk_load():
    store = Store()
    seen = []
    store.subscribe(lambda kind, rt, obj: seen.append((kind, rt.plural, obj["metadata"]["name"])))
    assert store.bulk_load([pod("x"), WIDGET_CRD]) == 2
    assert seen == []  # bulk loads notify nobody
    rt = store.type_for("v1", "Pod")
    assert store.type_for_resource("example.gputui.dev", "widgets").kind == "Widget"
    store.create(pod("y"))
    store.patch(rt, "default", "y", "merge", {"metadata": {"labels": {"a": "b"}}})
    store.delete(rt, "default", "y")
    assert seen == [("ADDED", "pods", "y"), ("MODIFIED", "pods", "y"), ("DELETED", "pods", "y")]
    objs, rv = store.list(rt, "default")
    assert [o["metadata"]["name"] for o in objs] == ["x"] and int(rv) > 1
    objs[0]["metadata"]["name"] = "mutated"  # callers get copies
    assert store.get(rt, "default", "x")["metadata"]["name"] == "x"
    store.set_log("default", "x", "main", "line\n")
    assert store.get_log("default", "x", "main") == "line\n" and store.get_log("default", "x", "main", True) is None


def test_stopped_simulator_refuses_connections(start_sim):
    sim = start_sim()
    core = client.CoreV1Api(api_client_for(sim))
    core.list_namespaced_pod("default")
    sim.stop()
    with pytest.raises(Exception):  # noqa: B017 - urllib3 or the client may raise; both mean "no server"
        core.list_namespaced_pod("default", _request_timeout=2)


def test_metadata_only_lists(sim):
    accept = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
    code, headers, body = sim_http(sim, "GET", "/api/v1/namespaces/ml/pods", headers={"Accept": accept})
    doc = json.loads(body)
    assert code == 200 and doc["kind"] == "PartialObjectMetadataList"
    assert [(i["kind"], i["metadata"]["name"]) for i in doc["items"]] == [
        ("PartialObjectMetadata", "d"),
        ("PartialObjectMetadata", "e"),
    ]
    assert "spec" not in doc["items"][0]


def test_watch_list_ends_initial_events_with_a_bookmark(sim):
    code, _, body = sim_http(
        sim,
        "GET",
        "/api/v1/namespaces/ml/pods?watch=1&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1",
    )
    events = [json.loads(line) for line in body.decode().splitlines()]
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events] == [
        ("ADDED", "d"),
        ("ADDED", "e"),
        ("BOOKMARK", None),
    ]
    mark = events[-1]["object"]["metadata"]
    assert mark["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert mark["resourceVersion"] == sim.store.resource_version


def test_watcher_that_hangs_up_frees_its_thread(sim):
    import http.client

    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=5)
    conn.request("GET", "/api/v1/namespaces/ml/pods?watch=1", headers={"Authorization": f"Bearer {sim.token}"})
    resp = conn.getresponse()
    assert resp.status == 200 and sim.server.open_connections == 1
    resp.close()
    conn.close()
    assert wait_until(lambda: sim.server.open_connections == 0, timeout=5)


def test_kubectl_talks_to_the_simulator(sim):
    """client-go never sends a kubeconfig token over plain HTTP; kubectl must still get in."""
    import shutil
    import subprocess

    if shutil.which("kubectl") is None:
        pytest.skip("kubectl not installed")

    def kubectl(*args):
        return subprocess.run(
            ["kubectl", "--kubeconfig", str(sim.kubeconfig), *args], capture_output=True, text=True, timeout=60
        )

    out = kubectl("get", "pods", "-n", "ml", "-o", "name")
    assert (out.returncode, out.stdout) == (0, "pod/d\npod/e\n")
    out = kubectl("api-resources", "--api-group", "example.gputui.dev", "--no-headers")
    assert out.returncode == 0 and out.stdout.split() == ["widgets", "wd", "example.gputui.dev/v1", "true", "Widget"]
    out = kubectl("label", "pod", "a", "checked=yes")
    assert out.returncode == 0
    assert client.CoreV1Api(api_client_for(sim)).read_namespaced_pod("a", "default").metadata.labels["checked"] == "yes"
    out = kubectl("logs", "a", "-c", "nope")
    assert out.returncode == 1 and "container nope is not valid for pod a" in out.stderr


def test_delete_answers_object_or_success_status_like_each_registry(start_sim):
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "default", "uid": "22222222-2222-2222-2222-222222222222"},
    }
    sim = start_sim(objects=[pod("p"), cm])
    code, _, body = sim_http(sim, "DELETE", "/api/v1/namespaces/default/configmaps/cfg")
    assert (code, json.loads(body)) == (
        200,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": "cfg", "kind": "configmaps", "uid": "22222222-2222-2222-2222-222222222222"},
        },
    )
    code, _, body = sim_http(sim, "DELETE", "/api/v1/namespaces/default/pods/p")
    assert code == 200 and json.loads(body)["kind"] == "Pod"


def test_multi_version_custom_resource_served_at_each_version(start_sim):
    crd = json.loads(json.dumps(WIDGET_CRD))
    crd["spec"]["versions"].append(
        {
            "name": "v1beta1",
            "served": True,
            "storage": False,
            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        }
    )
    sim = start_sim(
        objects=[
            crd,
            {
                "apiVersion": "example.gputui.dev/v1",
                "kind": "Widget",
                "metadata": {"name": "w", "namespace": "default"},
                "spec": {},
            },
        ]
    )
    co = client.CustomObjectsApi(api_client_for(sim))
    assert (
        co.get_namespaced_custom_object("example.gputui.dev", "v1beta1", "default", "widgets", "w")["apiVersion"]
        == "example.gputui.dev/v1beta1"
    )
    listed = co.list_namespaced_custom_object("example.gputui.dev", "v1beta1", "default", "widgets")
    assert [i["apiVersion"] for i in listed["items"]] == ["example.gputui.dev/v1beta1"]
    assert (
        co.get_namespaced_custom_object("example.gputui.dev", "v1", "default", "widgets", "w")["apiVersion"]
        == "example.gputui.dev/v1"
    )
    group = json.loads(sim_http(sim, "GET", "/apis/example.gputui.dev")[2])
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1"]


def test_shared_sim_is_reused_per_source_set(shared_sim, tmp_path_factory):
    first = shared_sim(synthetic=None)
    assert shared_sim() is first
    assert client.CoreV1Api(api_client_for(first)).list_namespace().items  # default namespaces exist


def test_server_side_apply_conflicts_and_field_removal(start_sim):
    deploy = _deployment()
    sim = start_sim(objects=[])
    apps = client.AppsV1Api(api_client_for(sim))
    applied = json.loads(json.dumps(deploy))
    applied["metadata"]["labels"] = {"team": "ml", "tier": "gpu"}
    apps.patch_namespaced_deployment("web", "default", applied, field_manager="gitops", _content_type=APPLY)
    # Another writer changes a field the applier owns.
    apps.patch_namespaced_deployment(
        "web", "default", {"spec": {"replicas": 5}}, field_manager="gputui", _content_type=MERGE
    )
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_deployment("web", "default", applied, field_manager="gitops", _content_type=APPLY)
    st = status_of(e.value)
    assert (e.value.status, st["reason"]) == (409, "Conflict")
    assert st["message"].startswith('Apply failed with 1 conflict: conflict with "gputui" using apps/v1 at ')
    assert st["message"].endswith(": .spec.replicas")
    assert st["details"]["causes"][0] == {
        "reason": "FieldManagerConflict",
        "field": ".spec.replicas",
        "message": st["details"]["causes"][0]["message"],
    }
    # Applying the value the other writer set is no conflict; leaving a field out removes it.
    applied["spec"]["replicas"] = 5
    del applied["metadata"]["labels"]["tier"]
    d = apps.patch_namespaced_deployment("web", "default", applied, field_manager="gitops", _content_type=APPLY)
    assert d.metadata.labels == {"team": "ml"} and d.spec.replicas == 5
    applied["spec"]["replicas"] = 3
    apps.patch_namespaced_deployment(
        "web", "default", {"spec": {"replicas": 4}}, field_manager="gputui", _content_type=MERGE
    )
    d = apps.patch_namespaced_deployment(
        "web", "default", applied, field_manager="gitops", force=True, _content_type=APPLY
    )
    assert d.spec.replicas == 3


def test_concurrent_read_modify_write_loses_no_update(start_sim):
    sim = start_sim(
        objects=[
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "counter", "namespace": "default"},
                "data": {"n": "0"},
            }
        ]
    )
    conflicts = []

    def bump(times):
        core = client.CoreV1Api(api_client_for(sim))
        done = 0
        while done < times:
            cm = core.read_namespaced_config_map("counter", "default")
            cm.data["n"] = str(int(cm.data["n"]) + 1)
            try:
                core.replace_namespaced_config_map("counter", "default", cm)
                done += 1
            except ApiException as e:
                assert e.status == 409
                conflicts.append(1)

    threads = [threading.Thread(target=bump, args=(5,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    final = client.CoreV1Api(api_client_for(sim)).read_namespaced_config_map("counter", "default")
    assert final.data["n"] == "30"


def test_create_drops_status_where_a_status_subresource_owns_it(sim, core):
    created = core.create_namespaced_pod("default", pod("scripted", phase="Running"))
    assert created.status.phase == "Pending"
    co = client.CustomObjectsApi(api_client_for(sim))
    w = co.create_namespaced_custom_object(
        "example.gputui.dev",
        "v1",
        "default",
        "widgets",
        {"apiVersion": "example.gputui.dev/v1", "kind": "Widget", "metadata": {"name": "w"}, "status": {"ok": True}},
    )
    assert "status" not in w
    node = core.create_node(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "n9"},
            "status": {"capacity": {"nvidia.com/gpu": "1"}},
        }
    )
    assert node.status.capacity == {"nvidia.com/gpu": "1"}


def test_created_pod_with_only_a_gpu_limit_is_best_effort(start_sim, api_client_for):
    """QoS counts cpu and memory only, as the kubelet does: an nvidia.com/gpu limit alone is BestEffort."""
    sim = start_sim()
    core = client.CoreV1Api(api_client_for(sim))
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "gpu-only"},
        "spec": {"containers": [{"name": "a", "image": "cuda", "resources": {"limits": {"nvidia.com/gpu": "1"}}}]},
    }
    created = core.create_namespaced_pod("default", pod)
    assert created.status.qos_class == "BestEffort"
