"""The slice of /openapi/v3 that kubectl needs.

kubectl 1.32 fetches `/openapi/v3` and then one document per group/version:
* `apply`, `create`, `patch` check that the PATCH operation of the kind accepts the
  `fieldValidation` query parameter (server-side validation) — without it kubectl
  falls back to downloading /openapi/v2 and fails;
* client-side `apply` computes a strategic merge patch for built-in kinds from the
  component schemas: it follows `$ref`s and reads `x-kubernetes-patch-merge-key` /
  `x-kubernetes-patch-strategy`; a custom resource's PATCH lists no strategic-merge
  content type, so kubectl sends a JSON merge patch;
* `explain` renders the schema (descriptions, types) found by
  `x-kubernetes-group-version-kind`.

Built-in schemas are derived from the kubernetes client's generated models
(field names, types, descriptions); patch strategies come from a small table.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from functools import lru_cache
from importlib import metadata
from typing import Any

from gputui.sim.resources import ResourceType

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
_REF = "#/components/schemas/"

# Model class names that live in apimachinery's meta/v1, not in the kind's API package.
_META_MODELS = {
    "ObjectMeta",
    "ListMeta",
    "LabelSelector",
    "LabelSelectorRequirement",
    "OwnerReference",
    "ManagedFieldsEntry",
    "Condition",
    "Status",
    "StatusDetails",
    "StatusCause",
    "DeleteOptions",
    "Preconditions",
    "APIResourceList",
    "APIResource",
    "WatchEvent",
    "Patch",
    "Time",
    "MicroTime",
}

# (model, json field) -> (x-kubernetes-patch-strategy, x-kubernetes-patch-merge-key or "")
PATCH_STRATEGIES: dict[tuple[str, str], tuple[str, str]] = {
    ("ObjectMeta", "finalizers"): ("merge", ""),
    ("ObjectMeta", "ownerReferences"): ("merge", "uid"),
    ("PodSpec", "containers"): ("merge", "name"),
    ("PodSpec", "initContainers"): ("merge", "name"),
    ("PodSpec", "ephemeralContainers"): ("merge", "name"),
    ("PodSpec", "volumes"): ("merge,retainKeys", "name"),
    ("PodSpec", "imagePullSecrets"): ("merge", "name"),
    ("PodSpec", "hostAliases"): ("merge", "ip"),
    ("PodSpec", "topologySpreadConstraints"): ("merge", "topologyKey"),
    ("PodSpec", "resourceClaims"): ("merge,retainKeys", "name"),
    ("PodSpec", "schedulingGates"): ("merge", "name"),
    ("Container", "env"): ("merge", "name"),
    ("Container", "ports"): ("merge", "containerPort"),
    ("Container", "volumeMounts"): ("merge", "mountPath"),
    ("Container", "volumeDevices"): ("merge", "devicePath"),
    ("EphemeralContainer", "env"): ("merge", "name"),
    ("EphemeralContainer", "ports"): ("merge", "containerPort"),
    ("EphemeralContainer", "volumeMounts"): ("merge", "mountPath"),
    ("EphemeralContainer", "volumeDevices"): ("merge", "devicePath"),
    ("PodStatus", "conditions"): ("merge", "type"),
    ("PodStatus", "podIPs"): ("merge", "ip"),
    ("NodeSpec", "podCIDRs"): ("merge", ""),
    ("NodeStatus", "conditions"): ("merge", "type"),
    ("NodeStatus", "addresses"): ("merge", "type"),
    ("ServiceSpec", "ports"): ("merge", "port"),
    ("DeploymentSpec", "strategy"): ("retainKeys", ""),
    ("DeploymentStatus", "conditions"): ("merge", "type"),
    ("DaemonSetStatus", "conditions"): ("merge", "type"),
    ("ReplicaSetStatus", "conditions"): ("merge", "type"),
    ("StatefulSetStatus", "conditions"): ("merge", "type"),
    ("JobStatus", "conditions"): ("merge", "type"),
    ("PodDisruptionBudgetStatus", "conditions"): ("merge", "type"),
    ("HorizontalPodAutoscalerStatus", "conditions"): ("merge", "type"),
}

_PACKAGE = {
    "": "io.k8s.api.core",
    "apps": "io.k8s.api.apps",
    "batch": "io.k8s.api.batch",
    "policy": "io.k8s.api.policy",
    "autoscaling": "io.k8s.api.autoscaling",
    "coordination.k8s.io": "io.k8s.api.coordination",
    "authorization.k8s.io": "io.k8s.api.authorization",
    "rbac.authorization.k8s.io": "io.k8s.api.rbac",
    "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
}

_PATCH_TYPES_BUILTIN = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
_PATCH_TYPES_CUSTOM = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json")


# --------------------------------------------------------------------------- which types exist


def _resource_types(store: Any) -> list[ResourceType]:
    """Every registered type of a Store, or the given ResourceTypes."""
    found = store if isinstance(store, (list, tuple, set)) else store.types()
    return [t for t in found if isinstance(t, ResourceType)]


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _types_by_gv(store: Any) -> dict[str, list[tuple[ResourceType, str]]]:
    by_gv: dict[str, list[tuple[ResourceType, str]]] = {}
    for rt in _resource_types(store):
        for version in rt.served_versions:
            by_gv.setdefault(_gv_path(rt.group, version), []).append((rt, version))
    return by_gv


# --------------------------------------------------------------------------- built-in schemas from client models


def _model_package(model: str, group: str, version: str) -> str:
    return (
        f"{META}.{model}"
        if model in _META_MODELS
        else f"{_PACKAGE.get(group, 'io.k8s.api.' + group)}.{version}.{model}"
    )


def _strip_version_prefix(class_name: str) -> str:
    # V1Pod -> Pod, V2HorizontalPodAutoscaler -> HorizontalPodAutoscaler, CoreV1ResourceClaim -> ResourceClaim
    return re.sub(r"^(?:[A-Z][a-z]+)?V\d+(?:alpha\d+|beta\d+)?(?=[A-Z])", "", class_name)


def _describe_class(cls: Any) -> str:
    doc = (cls.__doc__ or "").strip()
    first = doc.split("\n\n")[0].strip()
    return "" if first.startswith("Attributes:") or "openapi_types" in first else " ".join(first.split())


def _type_schema(type_name: str, models: Any, group: str, version: str, out: dict) -> dict:
    text = type_name.strip()
    lower = text.lower()
    if lower.startswith("list["):
        return {"type": "array", "items": _type_schema(text[5:-1], models, group, version, out)}
    if lower.startswith("dict("):
        inner = text[5:-1].split(",", 1)[1]
        return {"type": "object", "additionalProperties": _type_schema(inner, models, group, version, out)}
    if lower.startswith("dict["):
        inner = text[5:-1].split(",", 1)[1]
        return {"type": "object", "additionalProperties": _type_schema(inner, models, group, version, out)}
    scalars = {
        "str": {"type": "string"},
        "int": {"type": "integer", "format": "int64"},
        "bool": {"type": "boolean"},
        "float": {"type": "number", "format": "double"},
        "datetime": {"type": "string", "format": "date-time"},
        "date": {"type": "string", "format": "date"},
        "bytearray": {"type": "string", "format": "byte"},
    }
    if lower in scalars:
        return dict(scalars[lower])
    if lower == "object":
        return {"x-kubernetes-preserve-unknown-fields": True}
    cls = getattr(models, text, None)
    if cls is None or not hasattr(cls, "openapi_types"):
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    name = _model_package(_strip_version_prefix(text), group, version)
    _add_model(cls, name, models, group, version, out)
    return {"allOf": [{"$ref": _REF + name}]}


def _add_model(cls: Any, name: str, models: Any, group: str, version: str, out: dict) -> None:
    if name in out:
        return
    schema: dict = {"type": "object", "properties": {}}
    out[name] = schema  # registered first so recursive types terminate
    description = _describe_class(cls)
    if description:
        schema["description"] = description
    short = name.rsplit(".", 1)[-1]
    attribute_map = getattr(cls, "attribute_map", {}) or {}
    fields = getattr(cls, "model_fields", {}) or {}
    for attr, type_name in cls.openapi_types.items():
        json_name = attribute_map.get(attr, attr)
        prop = _type_schema(type_name, models, group, version, out)
        field = fields.get(attr)
        desc = getattr(field, "description", None) if field is not None else None
        if not desc:
            # The client models describe referenced fields only on the referenced type.
            target = prop.get("items", prop).get("allOf", [{}])[0].get("$ref", "")
            desc = out.get(target[len(_REF) :], {}).get("description") if target else None
        if desc:
            prop["description"] = desc
        strategy = PATCH_STRATEGIES.get((short, json_name))
        if strategy:
            prop["x-kubernetes-patch-strategy"] = strategy[0]
            if strategy[1]:
                prop["x-kubernetes-patch-merge-key"] = strategy[1]
        schema["properties"][json_name] = prop
        if field is not None and field.is_required():
            schema.setdefault("required", []).append(json_name)


@lru_cache(maxsize=64)
def _builtin_schemas(group: str, version: str, kind: str) -> tuple[str, str]:
    """(root schema name, JSON of every schema it needs) — cached: deriving Pod walks ~150 models."""
    import kubernetes.client.models as models  # heavy; only when kubectl asks

    class_name = f"{version[0].upper()}{version[1:]}{kind}"
    cls = getattr(models, class_name, None)
    out: dict = {}
    name = _model_package(kind, group, version)
    if cls is None or not hasattr(cls, "openapi_types"):
        out[name] = {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"allOf": [{"$ref": _REF + f"{META}.ObjectMeta"}]},
            },
        }
        _add_model(models.V1ObjectMeta, f"{META}.ObjectMeta", models, group, version, out)
    else:
        _add_model(cls, name, models, group, version, out)
    return name, json.dumps(out, sort_keys=True)


# --------------------------------------------------------------------------- custom resource schemas


def _crd_version(rt: ResourceType, version: str) -> dict:
    for v in (rt.crd or {}).get("spec", {}).get("versions") or []:
        if v.get("name") == version:
            return v
    return {}


def _reverse_group(group: str) -> str:
    return ".".join(reversed(group.split(".")))


def _custom_schemas(rt: ResourceType, version: str, out: dict) -> str:
    import kubernetes.client.models as models

    name = f"{_reverse_group(rt.group)}.{version}.{rt.kind}"
    schema = copy.deepcopy(_g(_crd_version(rt, version), "schema", "openAPIV3Schema") or {})
    if not schema:
        schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    props = schema.setdefault("properties", {})
    meta_desc = (
        (props.get("metadata") or {}).get("description")
        or "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/"
        "api-conventions.md#metadata"
    )
    props["metadata"] = {"allOf": [{"$ref": _REF + f"{META}.ObjectMeta"}], "description": meta_desc}
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    schema["type"] = "object"
    out[name] = schema
    _add_model(models.V1ObjectMeta, f"{META}.ObjectMeta", models, rt.group, version, out)
    return name


def _g(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


# --------------------------------------------------------------------------- paths


def _param(name: str, where: str, description: str, schema_type: str = "string", required: bool = False) -> dict:
    p: dict[str, Any] = {
        "name": name,
        "in": where,
        "description": description,
        "schema": {"type": schema_type, "uniqueItems": True},
    }
    if required:
        p["required"] = True
    return p


_Q_DRY_RUN = _param("dryRun", "query", "When present, indicates that modifications should not be persisted.")
_Q_FIELD_MANAGER = _param(
    "fieldManager", "query", "fieldManager is a name associated with the actor or entity that is making these changes."
)
_Q_FIELD_VALIDATION = _param(
    "fieldValidation",
    "query",
    "fieldValidation instructs the server on how to handle "
    "objects in the request containing unknown or duplicate "
    "fields.",
)
_Q_FORCE = _param("force", "query", 'Force is going to "force" Apply requests.', "boolean")
_Q_PRETTY = _param("pretty", "query", "If 'true', then the output is pretty printed.")


def _operations(rt: ResourceType, version: str, schema_name: str) -> dict[str, dict]:
    gvk = {"group": rt.group, "version": version, "kind": rt.kind}
    base = f"/api/{version}" if not rt.group else f"/apis/{rt.group}/{version}"
    scope = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
    ref = {"$ref": _REF + schema_name}
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
    path_params = [_param("name", "path", f"name of the {rt.kind}", required=True)]
    if rt.namespaced:
        path_params.append(
            _param("namespace", "path", "object name and auth scope, such as for teams and projects", required=True)
        )
    patch_types = _PATCH_TYPES_CUSTOM if rt.crd is not None else _PATCH_TYPES_BUILTIN

    def op(action: str, verb_id: str, **extra) -> dict:
        body = {
            "operationId": f"{verb_id}{rt.kind}",
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            "responses": ok,
        }
        body.update(extra)
        return body

    item = {
        "get": op("get", "read", parameters=[_Q_PRETTY]),
        "put": op(
            "put",
            "replace",
            parameters=[_Q_PRETTY, _Q_DRY_RUN, _Q_FIELD_MANAGER, _Q_FIELD_VALIDATION],
            requestBody={"content": {"*/*": {"schema": ref}}, "required": True},
        ),
        "patch": op(
            "patch",
            "patch",
            parameters=[_Q_PRETTY, _Q_DRY_RUN, _Q_FIELD_MANAGER, _Q_FIELD_VALIDATION, _Q_FORCE],
            requestBody={
                "content": {t: {"schema": {"$ref": _REF + f"{META}.Patch"}} for t in patch_types},
                "required": True,
            },
        ),
        "delete": op("delete", "delete", parameters=[_Q_PRETTY, _Q_DRY_RUN]),
        "parameters": path_params,
    }
    collection = {
        "post": op(
            "post",
            "create",
            parameters=[_Q_PRETTY, _Q_DRY_RUN, _Q_FIELD_MANAGER, _Q_FIELD_VALIDATION],
            requestBody={"content": {"*/*": {"schema": ref}}, "required": True},
        ),
        "parameters": path_params[1:],
    }
    return {f"{scope}/{{name}}": item, scope: collection}


# --------------------------------------------------------------------------- public API


def v3_document(store: Any, path: str) -> dict | None:
    """The OpenAPI 3 document for `api/v1` or `apis/<group>/<version>`; None when no such group/version."""
    path = path.strip("/").split("?", 1)[0]
    entries = _types_by_gv(store).get(path)
    if not entries:
        return None
    import kubernetes.client.models as models

    schemas: dict[str, dict] = {}
    paths: dict[str, dict] = {}
    for rt, version in sorted(entries, key=lambda e: e[0].kind):
        if rt.crd is not None:
            name = _custom_schemas(rt, version, schemas)
        else:
            name, blob = _builtin_schemas(rt.group, version, rt.kind)
            for key, value in json.loads(blob).items():
                schemas.setdefault(key, value)
        schemas[name]["x-kubernetes-group-version-kind"] = [{"group": rt.group, "kind": rt.kind, "version": version}]
        paths.update(_operations(rt, version, name))
    schemas.setdefault(
        f"{META}.Patch",
        {
            "type": "object",
            "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
        },
    )
    if f"{META}.ObjectMeta" not in schemas:
        _add_model(models.V1ObjectMeta, f"{META}.ObjectMeta", models, "", "v1", schemas)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


_SCHEMA_REVISION = "1"  # bump when the way documents are built changes


@lru_cache(maxsize=1)
def _client_version() -> str:
    try:
        return metadata.version("kubernetes")
    except metadata.PackageNotFoundError:  # installed without its metadata: the hash then follows the kinds only
        return ""


def _document_hash(store: Any, path: str, entries: list[tuple[ResourceType, str]]) -> str:
    # The hash only has to change when the document would: the kinds, their CRDs and the models behind them
    # (kubectl keeps documents in its HTTP cache under this URL across simulator runs).
    h = hashlib.sha512(f"{_SCHEMA_REVISION}/{_client_version()}".encode())
    for rt, version in sorted(entries, key=lambda e: (e[0].kind, e[1])):
        h.update(f"{rt.group}/{version}/{rt.kind}".encode())
        if rt.crd is not None:
            h.update(json.dumps(_crd_version(rt, version), sort_keys=True, default=str).encode())
    return h.hexdigest().upper()


def v3_index(store: Any) -> dict:
    """`/openapi/v3`: every group/version with the URL of its document (the hash lets kubectl cache it)."""
    out = {}
    for path, entries in sorted(_types_by_gv(store).items()):
        out[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={_document_hash(store, path, entries)}"}
    return {"paths": out}
