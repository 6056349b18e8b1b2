"""The API server's validation that clients run into: field rules on create and update.

Functions return causes as (reason, field, message) tuples; the store turns them into a
422 Invalid Status. Only rules that a troubleshooting tool's changes can trip are here:
names and labels, pod containers, taint effects, and the fields that are immutable.
"""

from __future__ import annotations

import re
from typing import Any

from gputui.sim.resources import ResourceType

Cause = tuple[str, str, str]

_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")
POD_UPDATE_FORBIDDEN = (
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
    "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
# (group, kind) -> spec fields that cannot change after creation.
IMMUTABLE_SPEC = {
    ("apps", "Deployment"): ("selector",),
    ("apps", "ReplicaSet"): ("selector",),
    ("apps", "DaemonSet"): ("selector",),
    ("apps", "StatefulSet"): ("selector",),
    ("batch", "Job"): ("selector", "template", "completions"),
}


def _label_causes(labels: Any) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(labels, dict):
        return [("FieldValueInvalid", "metadata.labels", "Invalid value: must be a map of strings")]
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if (
            (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)))
            or len(name) > 63
            or not _LABEL_NAME.match(name)
        ):
            causes.append(
                (
                    "FieldValueInvalid",
                    "metadata.labels",
                    (
                        f"Invalid value: \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.', "
                        "and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
                    ),
                )
            )
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append(
                (
                    "FieldValueInvalid",
                    "metadata.labels",
                    (
                        f'Invalid value: "{value}": a valid label must be an empty string or consist of alphanumeric '
                        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                        "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
                    ),
                )
            )
    return causes


def validate_object(rt: ResourceType, obj: dict) -> list[Cause]:
    meta = obj.get("metadata") or {}
    causes = _label_causes(meta["labels"]) if meta.get("labels") is not None else []
    if rt.group:
        return causes
    spec = obj.get("spec") or {}
    if rt.kind == "Pod":
        containers = spec.get("containers")
        if not containers:
            return causes + [("FieldValueRequired", "spec.containers", "Required value")]
        for field in ("initContainers", "containers"):
            for i, c in enumerate(spec.get(field) or []):
                if not c.get("name"):
                    causes.append(("FieldValueRequired", f"spec.{field}[{i}].name", "Required value"))
                if not c.get("image"):
                    causes.append(("FieldValueRequired", f"spec.{field}[{i}].image", "Required value"))
    elif rt.kind == "Node":
        for i, taint in enumerate(spec.get("taints") or []):
            if not taint.get("key"):
                causes.append(("FieldValueRequired", f"spec.taints[{i}].key", "Required value"))
            effect = taint.get("effect")
            if effect not in TAINT_EFFECTS:
                supported = ", ".join(f'"{e}"' for e in TAINT_EFFECTS)
                causes.append(
                    (
                        "FieldValueNotSupported",
                        f"spec.taints[{i}].effect",
                        f'Unsupported value: "{effect or ""}": supported values: {supported}',
                    )
                )
    return causes


def validate_update(rt: ResourceType, old: dict, new: dict, subresource: str | None) -> list[Cause]:
    if subresource:
        return []
    causes = validate_object(rt, new)
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    if rt.kind == "Pod" and not rt.group:
        if _pod_spec_core(old_spec, old_spec) != _pod_spec_core(new_spec, old_spec) or not _is_superset(
            new_spec.get("tolerations"), old_spec.get("tolerations")
        ):
            causes.append(("FieldValueForbidden", "spec", POD_UPDATE_FORBIDDEN))
    for field in IMMUTABLE_SPEC.get((rt.group, rt.kind), ()):
        if old_spec.get(field) != new_spec.get(field):
            causes.append(
                (
                    "FieldValueInvalid",
                    f"spec.{field}",
                    f"Invalid value: {_go_value(new_spec.get(field))}: field is immutable",
                )
            )
    if rt.crd is not None:
        causes += _schema_causes(rt.crd, rt.version, old, new)
    return causes


def _schema_causes(crd: dict, served_version: str, old: dict, new: dict) -> list[Cause]:
    """An update of a custom resource that breaks its CRD's openAPIV3Schema (types, enums,
    patterns, bounds) is refused. Ratcheted as the API server does: an error the stored
    object already had is let through; unknown fields are pruned by the server, not refused."""
    from checks.crd_schema import is_permissive, validate, version_schema

    version = str(new.get("apiVersion") or "").rpartition("/")[2] or served_version
    schema = version_schema(crd, version)
    if schema is None or is_permissive(schema):
        return []
    had = {(e.path, e.message) for e in validate(old, schema).errors}
    causes: list[Cause] = []
    for e in validate(new, schema, old=old).errors:
        if (e.path, e.message) in had or e.message.startswith("unknown field"):
            continue
        reason = (
            "FieldValueRequired"
            if e.message == "Required value"
            else ("FieldValueNotSupported" if e.message.startswith("Unsupported value") else "FieldValueInvalid")
        )
        causes.append((reason, e.path, e.message))
    return causes


def _pod_spec_core(spec: dict, old_spec: dict) -> dict:
    """The pod spec without the fields an update may change.

    Setting nodeName on an unscheduled pod is let through: it is what a binding does, and
    the simulated scheduler binds that way.
    """
    skip = {"activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"}
    if not old_spec.get("nodeName"):
        skip.add("nodeName")
    out = {k: v for k, v in spec.items() if k not in skip}
    for field in ("containers", "initContainers"):
        if field in out:
            out[field] = [{k: v for k, v in c.items() if k != "image"} for c in out[field] or []]
    return out


def _is_superset(new: Any, old: Any) -> bool:
    return all(t in (new or []) for t in (old or []))


def _go_value(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"matchLabels", "matchExpressions"}:
        labels = ", ".join(f'"{k}":"{v}"' for k, v in (value.get("matchLabels") or {}).items())
        exprs = "nil" if not value.get("matchExpressions") else "..."
        return (
            f"v1.LabelSelector{{MatchLabels:map[string]string{{{labels}}}, "
            f"MatchExpressions:[]v1.LabelSelectorRequirement({exprs})}}"
        )
    return '"' + str(value) + '"' if isinstance(value, str) else str(value)
