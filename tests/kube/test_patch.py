"""The one patch engine (gputui.kube.patch) that the fix plans and the simulator share."""

from __future__ import annotations

import copy

import pytest

from gputui.kube.patch import PatchError, apply_patch, json_patch, merge_patch, strategic_merge

# RFC 7386, Appendix A: (target, patch, result)
RFC7386_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("target,patch,result", RFC7386_EXAMPLES)
def test_merge_patch_rfc7386_examples(target, patch, result):
    before = copy.deepcopy(target)
    assert merge_patch(target, patch) == result
    assert target == before  # inputs are left alone


# RFC 6902, Appendix A: (document, patch, result)
RFC6902_EXAMPLES = [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
    (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"foo": ["bar", ["abc", "def"]]}),
    ({"a": {"b": 1}}, [{"op": "copy", "from": "/a", "path": "/c"}], {"a": {"b": 1}, "c": {"b": 1}}),
]


@pytest.mark.parametrize("doc,patch,result", RFC6902_EXAMPLES)
def test_json_patch_rfc6902_examples(doc, patch, result):
    before = copy.deepcopy(doc)
    assert json_patch(doc, patch) == result
    assert doc == before


@pytest.mark.parametrize(
    "doc,patch,message",
    [
        ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], "test failed"),
        ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}], "doc is missing path"),
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}], "test failed"),
        ({"a": [1]}, [{"op": "remove", "path": "/a/1"}], "index out of bounds"),
    ],
)
def test_json_patch_rfc6902_errors_are_422(doc, patch, message):
    with pytest.raises(PatchError, match=message) as exc:
        json_patch(doc, patch)
    assert exc.value.code == 422


def test_a_failed_operation_leaves_the_document_alone():
    doc = {"a": 1}
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 2}])
    assert doc == {"a": 1}


@pytest.mark.parametrize(
    "patch",
    [{"op": "add"}, [{"path": "/a"}], [{"op": "frobnicate", "path": "/a"}], [{"op": "add", "path": "a", "value": 1}]],
)
def test_malformed_json_patches_are_400(patch):
    with pytest.raises(PatchError) as exc:
        json_patch({}, patch)
    assert exc.value.code == 400


POD = {
    "kind": "Pod",
    "metadata": {"name": "p", "finalizers": ["a"]},
    "spec": {
        "containers": [
            {"name": "main", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "proxy:1"},
        ],
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    },
    "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}]},
}


def test_strategic_merge_merges_containers_by_name():
    out = strategic_merge(
        POD,
        {"spec": {"containers": [{"name": "main", "image": "app:2", "env": [{"name": "B", "value": "2"}]}]}},
        "Pod",
    )
    main, sidecar = out["spec"]["containers"]
    assert main == {"name": "main", "image": "app:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    assert sidecar == {"name": "sidecar", "image": "proxy:1"}
    assert POD["spec"]["containers"][0]["image"] == "app:1"  # input untouched


def test_strategic_merge_adds_deletes_and_replaces_by_key():
    out = strategic_merge(
        POD,
        {
            "spec": {"containers": [{"name": "sidecar", "$patch": "delete"}, {"name": "debug", "image": "busybox"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        },
        "Pod",
    )
    assert [c["name"] for c in out["spec"]["containers"]] == ["main", "debug"]
    assert out["status"]["conditions"] == [
        {"type": "Ready", "status": "True"},
        {"type": "PodScheduled", "status": "True"},
    ]
    replaced = strategic_merge(POD, {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}})
    assert replaced["spec"]["containers"] == [{"name": "only", "image": "x"}]


def test_strategic_merge_replaces_tolerations_whole_as_the_api_server_does():
    # Toleration has no patchMergeKey in k8s.io/api: the patch's list is the new list.
    gpu = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    dedicated = {"key": "example.com/gpu-dedicated", "operator": "Exists", "effect": "NoSchedule"}
    out = strategic_merge(POD, {"spec": {"tolerations": [dedicated]}}, "Pod")
    assert out["spec"]["tolerations"] == [dedicated]
    out = strategic_merge(POD, {"spec": {"tolerations": [gpu, dedicated]}}, "Pod")
    assert out["spec"]["tolerations"] == [gpu, dedicated]


def test_strategic_merge_finalizers_are_a_set_and_service_ports_merge_by_port():
    out = strategic_merge(POD, {"metadata": {"finalizers": ["b", "a"]}}, "Pod")
    assert out["metadata"]["finalizers"] == ["a", "b"]
    out = strategic_merge(POD, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, "Pod")
    assert out["metadata"]["finalizers"] == []
    svc = {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}}
    out = strategic_merge(svc, {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}}, "Service")
    assert out["spec"]["ports"] == [{"port": 80, "name": "http"}, {"port": 443, "name": "https", "targetPort": 8443}]


def test_strategic_merge_item_without_its_merge_key_is_400():
    with pytest.raises(PatchError, match="does not contain declared merge key: name") as exc:
        strategic_merge(POD, {"spec": {"containers": [{"image": "x"}]}}, "Pod")
    assert exc.value.code == 400


def test_apply_merges_lists_by_key_for_built_in_kinds_only():
    applied = {"kind": "Pod", "spec": {"containers": [{"name": "main", "image": "app:3"}]}}
    out = apply_patch(copy.deepcopy(POD), applied, builtin=True)
    assert [c["image"] for c in out["spec"]["containers"]] == ["app:3", "proxy:1"]
    out = apply_patch(copy.deepcopy(POD), applied, builtin=False)
    assert out["spec"]["containers"] == [{"name": "main", "image": "app:3"}]
    assert apply_patch(None, {"kind": "X", "spec": {"a": 1}}, builtin=False) == {"kind": "X", "spec": {"a": 1}}
