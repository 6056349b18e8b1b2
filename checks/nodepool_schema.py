"""gputui's built-in schema of the Karpenter NodePool fields a GPU NodePool uses, for when
no CRD with a schema is at hand (offline lint, a cluster whose CRD keeps unknown fields)."""

from __future__ import annotations

from typing import Any

V1 = "karpenter.sh/v1"
V1BETA1 = "karpenter.sh/v1beta1"

# gputui's own statement of the NodePool fields a GPU NodePool uses, for when no CRD
# with a schema is at hand (offline lint, a cluster whose CRD keeps unknown fields).

_LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
_QUALIFIED = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\/))?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
)
_QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_DURATION_OR_NEVER = r"^(([0-9]+(s|m|h))+|Never)$"


def _taints_schema() -> dict[str, Any]:
    return {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["key", "effect"],
            "properties": {
                "key": {"type": "string", "minLength": 1, "pattern": _QUALIFIED},
                "value": {"type": "string", "pattern": _QUALIFIED},
                "effect": {"type": "string", "enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
                "timeAdded": {"type": "string"},
            },
        },
    }


def builtin_schema(kind: str, api_version: str) -> dict[str, Any] | None:
    if kind != "NodePool" or api_version not in (V1, V1BETA1):
        return None
    v1 = api_version == V1
    operators = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] + (["Gte", "Lte"] if v1 else [])
    requirement: dict[str, Any] = {
        "type": "object",
        "required": ["key", "operator"],
        "properties": {
            "key": {"type": "string", "maxLength": 316, "pattern": _QUALIFIED},
            "operator": {"type": "string", "enum": operators},
            "values": {"type": "array", "items": {"type": "string", "maxLength": 63, "pattern": _LABEL_VALUE}},
            "minValues": {"type": "integer", "minimum": 1, "maximum": 50},
        },
    }
    budget: dict[str, Any] = {
        "type": "object",
        "required": ["nodes"],
        "properties": {
            "nodes": {"type": "string", "pattern": r"^((100|[0-9]{1,2})%|[0-9]+)$"},
            "schedule": {"type": "string"},
            "duration": {"type": "string", "pattern": r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$"},
        },
    }
    if v1:
        budget["properties"]["reasons"] = {
            "type": "array",
            "items": {"type": "string", "enum": ["Underutilized", "Empty", "Drifted"]},
        }
    disruption: dict[str, Any] = {
        "type": "object",
        "properties": {
            "consolidationPolicy": {
                "type": "string",
                "enum": (
                    ["WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"] if v1 else ["WhenEmpty", "WhenUnderutilized"]
                ),
            },
            "consolidateAfter": {"type": "string", "pattern": _DURATION_OR_NEVER},
            "budgets": {
                "type": "array",
                "maxItems": 50,
                "items": budget,
                "x-kubernetes-validations": [
                    {
                        "rule": "self.all(x, has(x.schedule) == has(x.duration))",
                        "message": "'schedule' must be set with 'duration'",
                    }
                ],
            },
        },
    }
    if v1:
        disruption["required"] = ["consolidateAfter"]
    else:
        disruption["properties"]["expireAfter"] = {"type": "string", "pattern": _DURATION_OR_NEVER}
    node_class_ref: dict[str, Any] = {
        "type": "object",
        "required": ["group", "kind", "name"] if v1 else ["name"],
        "properties": {"kind": {"type": "string"}, "name": {"type": "string"}},
    }
    node_class_ref["properties"]["group" if v1 else "apiVersion"] = {"type": "string"}
    tspec: dict[str, Any] = {
        "type": "object",
        "required": ["nodeClassRef", "requirements"],
        "properties": {
            "nodeClassRef": node_class_ref,
            "requirements": {
                "type": "array",
                "maxItems": 100,
                "items": requirement,
                "x-kubernetes-validations": [
                    {
                        "rule": "self.all(x, x.operator == 'In' ? x.values.size() != 0 : true)",
                        "message": "requirements with operator 'In' must have a value defined",
                    },
                    {
                        "rule": "self.all(x, (x.operator == 'Gt' || x.operator == 'Lt') ? "
                        "(x.values.size() == 1 && int(x.values[0]) >= 0) : true)",
                        "message": "requirements operator 'Gt' or 'Lt' must have a single positive integer value",
                    },
                ],
            },
            "taints": _taints_schema(),
            "startupTaints": _taints_schema(),
        },
    }
    if v1:
        tspec["properties"]["expireAfter"] = {"type": "string", "pattern": _DURATION_OR_NEVER}
        tspec["properties"]["terminationGracePeriod"] = {"type": "string", "pattern": r"^([0-9]+(s|m|h))+$"}
    else:
        tspec["properties"]["kubelet"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        tspec["properties"]["resources"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    spec: dict[str, Any] = {
        "type": "object",
        "required": ["template"],
        "properties": {
            "template": {
                "type": "object",
                "required": ["spec"],
                "properties": {
                    "metadata": {
                        "type": "object",
                        "properties": {
                            "labels": {
                                "type": "object",
                                "maxProperties": 100,
                                "additionalProperties": {"type": "string", "maxLength": 63, "pattern": _LABEL_VALUE},
                            },
                            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    },
                    "spec": tspec,
                },
            },
            "disruption": disruption,
            "limits": {
                "type": "object",
                "additionalProperties": {"x-kubernetes-int-or-string": True, "pattern": _QUANTITY},
            },
            "weight": {"type": "integer", "minimum": 1, "maximum": 100},
        },
    }
    if v1:
        spec["properties"]["replicas"] = {"type": "integer", "minimum": 0}
    return {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
