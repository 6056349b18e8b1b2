"""/openapi/v3 documents: what kubectl reads from them (GVK, PATCH parameters, merge keys, CRD schemas)."""

from __future__ import annotations

import copy

from gputui.sim.openapi import v3_document, v3_index
from gputui.sim.resources import BUILTIN_TYPES, ResourceType

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "description": "A widget.",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {"size": {"type": "integer", "description": "How big."}},
                            }
                        },
                    }
                },
            }
        ],
    },
}


def types(*extra):
    return list(BUILTIN_TYPES) + list(extra)


def patch_op(doc: dict, kind: str) -> dict:
    for item in doc["paths"].values():
        op = item.get("patch")
        if op and op["x-kubernetes-group-version-kind"]["kind"] == kind:
            return op
    raise AssertionError(f"no PATCH for {kind}")


def schema_for(doc: dict, kind: str) -> dict:
    for schema in doc["components"]["schemas"].values():
        if any(g["kind"] == kind for g in schema.get("x-kubernetes-group-version-kind", [])):
            return schema
    raise AssertionError(f"no schema for {kind}")


def resolve(doc: dict, prop: dict) -> dict:
    ref = (prop.get("allOf") or [prop])[0].get("$ref", "")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_index_lists_every_group_version_with_a_hashed_url():
    paths = v3_index(types(ResourceType.from_crd(WIDGET_CRD)))["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/autoscaling/v2", "apis/example.com/v1"} <= set(paths)
    url = paths["apis/example.com/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/example.com/v1?hash=") and len(url.split("=")[1]) == 128


def test_hash_follows_the_crd_schema():
    changed = copy.deepcopy(WIDGET_CRD)
    changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] = "Another widget."
    before = v3_index(types(ResourceType.from_crd(WIDGET_CRD)))["paths"]
    after = v3_index(types(ResourceType.from_crd(changed)))["paths"]
    assert before["apis/example.com/v1"] != after["apis/example.com/v1"]
    assert before["api/v1"] == after["api/v1"]


def test_builtin_document_has_gvk_field_validation_and_merge_keys():
    doc = v3_document(types(), "api/v1")
    op = patch_op(doc, "Pod")
    assert "fieldValidation" in [p["name"] for p in op["parameters"] if p["in"] == "query"]
    assert "application/strategic-merge-patch+json" in op["requestBody"]["content"]
    pod = schema_for(doc, "Pod")
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    spec = resolve(doc, pod["properties"]["spec"])
    assert pod["properties"]["spec"]["description"] == spec["description"] == "PodSpec is a description of a pod."
    containers = spec["properties"]["containers"]
    assert (containers["x-kubernetes-patch-strategy"], containers["x-kubernetes-patch-merge-key"]) == ("merge", "name")
    assert spec["properties"]["volumes"]["x-kubernetes-patch-strategy"] == "merge,retainKeys"
    container = resolve(doc, containers["items"])
    assert container["properties"]["env"]["x-kubernetes-patch-merge-key"] == "name"
    assert container["properties"]["ports"]["x-kubernetes-patch-merge-key"] == "containerPort"
    assert "name" in container["required"]
    assert container["properties"]["env"]["description"].startswith("List of environment variables")


def test_custom_resource_document_uses_the_crd_schema_without_strategic_merge():
    doc = v3_document(types(ResourceType.from_crd(WIDGET_CRD)), "apis/example.com/v1")
    widget = schema_for(doc, "Widget")
    assert widget["description"] == "A widget."
    assert widget["properties"]["spec"]["properties"]["size"] == {"type": "integer", "description": "How big."}
    assert resolve(doc, widget["properties"]["metadata"])["properties"]["name"]["type"] == "string"
    content = patch_op(doc, "Widget")["requestBody"]["content"]
    assert "application/strategic-merge-patch+json" not in content
    assert "application/merge-patch+json" in content
    assert "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}" in doc["paths"]


def test_unknown_group_version_is_none():
    assert v3_document(types(), "apis/nothing.example/v9") is None
