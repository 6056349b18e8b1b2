"""A small structural validator for custom resources against a CRD's openAPIV3Schema.

It answers "would the API server accept this object?" for the parts that can be judged
without the server: types, required fields (after the schema's defaults are applied),
enums, patterns, numeric bounds, string and list lengths, map sizes, nested properties,
unknown fields (kubectl's strict field validation rejects them), int-or-string and
anyOf. CEL rules (x-kubernetes-validations) are evaluated only when their exact text
is one this module implements; every other rule is reported back as unchecked, for the
server's dry run to judge.

Paths read like the API server's: spec.template.spec.requirements[2].operator,
spec.limits[nvidia.com/gpu].

Public API:
    validate(obj, schema, *, old=None) -> SchemaReport
    version_schema(crd, version) -> dict | None
    is_permissive(schema) -> bool
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


@dataclass(frozen=True)
class SchemaError:
    path: str
    message: str
    rule: bool = False  # raised by a CEL rule rather than the structural schema

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class SchemaReport:
    errors: list[SchemaError] = field(default_factory=list)
    # (path, rule message) of CEL rules this validator cannot evaluate
    unchecked: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def version_schema(crd: dict[str, Any], version: str) -> dict[str, Any] | None:
    """The openAPIV3Schema served for `version` ("v1"), or None."""
    for v in (crd.get("spec") or {}).get("versions") or []:
        if v.get("name") == version:
            return ((v.get("schema") or {}).get("openAPIV3Schema")) or None
    return None


def is_permissive(schema: dict[str, Any] | None) -> bool:
    """True when the schema says nothing about spec (e.g. `type: object` that keeps
    unknown fields): validating against it proves nothing."""
    if not schema:
        return True
    spec = (schema.get("properties") or {}).get("spec")
    if spec is None:
        return bool(schema.get("x-kubernetes-preserve-unknown-fields")) or not schema.get("properties")
    return not spec.get("properties") and not spec.get("additionalProperties")


def validate(obj: Any, schema: dict[str, Any], *, old: Any = None) -> SchemaReport:
    report = SchemaReport()
    _Validator(report).check(obj, schema, "", old if old is not None else _MISSING)
    return report


# -- structural validation ---------------------------------------------------------------


_TYPE_NAMES = {
    "object": "object",
    "array": "array",
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
}


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if value is None:
        return "null"
    return type(value).__name__


def _type_ok(value: Any, wanted: str) -> bool:
    have = _type_of(value)
    return have == wanted or (wanted == "number" and have == "integer")


def _join(path: str, key: str) -> str:
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key}]"


def _quote(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


class _Validator:
    def __init__(self, report: SchemaReport) -> None:
        self.report = report

    def err(self, path: str, message: str, rule: bool = False) -> None:
        self.report.errors.append(SchemaError(path, message, rule))

    def check(self, value: Any, schema: dict[str, Any], path: str, old: Any) -> None:
        if not isinstance(schema, dict):
            return
        if value is None and schema.get("nullable"):
            return
        if not self._check_type(value, schema, path):
            return  # the rest assumes the right type
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(_quote(v) for v in schema["enum"])
            self.err(path, f"Unsupported value: {_quote(value)}: supported values: {allowed}")
        if isinstance(value, str):
            self._check_string(value, schema, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._check_number(value, schema, path)
        elif isinstance(value, list):
            self._check_array(value, schema, path, old)
        elif isinstance(value, dict):
            self._check_object(value, schema, path, old)
        for rule in schema.get("x-kubernetes-validations") or []:
            self._check_rule(value, rule, path, old)

    def _check_type(self, value: Any, schema: dict[str, Any], path: str) -> bool:
        if schema.get("x-kubernetes-int-or-string"):
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                self.err(
                    path,
                    f"Invalid value: {_quote_type(value)}: {path or 'value'} in body must be of type integer or string",
                )
                return False
            return True
        if "anyOf" in schema and "type" not in schema:
            types = [str(s["type"]) for s in schema["anyOf"] if isinstance(s, dict) and s.get("type")]
            if types and not any(_type_ok(value, t) for t in types):
                self.err(path, f"Invalid value: {_quote_type(value)}: must be of type {' or '.join(types)}")
                return False
            return True
        wanted = schema.get("type")
        if not wanted or wanted not in _TYPE_NAMES:
            return True
        if _type_ok(value, wanted):
            return True
        self.err(
            path,
            f'Invalid value: "{_type_of(value)}": {path or "value"} in body must be of type {wanted}: '
            f"{_quote_type(value)}",
        )
        return False

    def _check_string(self, value: str, schema: dict[str, Any], path: str) -> None:
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            self.err(path, f"Too long: may not be more than {schema['maxLength']} bytes")
        if "minLength" in schema and len(value) < schema["minLength"]:
            self.err(
                path,
                f"Invalid value: {_quote(value)}: {path} in body should be at least {schema['minLength']} chars long",
            )
        pattern = schema.get("pattern")
        if pattern and not _pattern(pattern).search(value):
            self.err(path, f"Invalid value: {_quote(value)}: {path} in body should match '{pattern}'")

    def _check_number(self, value: float, schema: dict[str, Any], path: str) -> None:
        if "minimum" in schema and value < schema["minimum"]:
            self.err(
                path, f"Invalid value: {value}: {path} in body should be greater than or equal to {schema['minimum']}"
            )
        if "maximum" in schema and value > schema["maximum"]:
            self.err(
                path, f"Invalid value: {value}: {path} in body should be less than or equal to {schema['maximum']}"
            )

    def _check_array(self, value: list[Any], schema: dict[str, Any], path: str, old: Any) -> None:
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.err(path, f"Too many: {len(value)}: must have at most {schema['maxItems']} items")
        if "minItems" in schema and len(value) < schema["minItems"]:
            self.err(
                path, f"Invalid value: {len(value)}: {path} in body should have at least {schema['minItems']} items"
            )
        if schema.get("x-kubernetes-list-type") == "set":
            seen = []
            for i, item in enumerate(value):
                if item in seen:
                    self.err(f"{path}[{i}]", f"Duplicate value: {_quote(item)}")
                seen.append(item)
        items = schema.get("items")
        if isinstance(items, dict):
            olds = old if isinstance(old, list) else []
            for i, item in enumerate(value):
                self.check(item, items, f"{path}[{i}]", olds[i] if i < len(olds) else _MISSING)

    def _check_object(self, value: dict[str, Any], schema: dict[str, Any], path: str, old: Any) -> None:
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        olds = old if isinstance(old, dict) else {}
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            self.err(path, f"Too many: {len(value)}: must have at most {schema['maxProperties']} items")
        for name in schema.get("required") or []:
            if name not in value and "default" not in (props.get(name) or {}):
                self.err(_join(path, name), "Required value")
        for name, sub in props.items():
            if name in value:
                self.check(value[name], sub, _join(path, name), olds.get(name, _MISSING))
            elif "default" in sub:
                self.check(sub["default"], sub, _join(path, name), _MISSING)
        for name, item in value.items():
            if name in props:
                continue
            if isinstance(extra, dict):
                # Map entries read as spec.limits[cpu], as the API server writes them.
                self.check(item, extra, f"{path}[{name}]", olds.get(name, _MISSING))
            elif extra is False or (
                props and not schema.get("x-kubernetes-preserve-unknown-fields") and path != "metadata"
            ):
                self.err(_join(path, name), f'unknown field "{_join(path, name)}" (not declared in the schema)')

    def _check_rule(self, value: Any, rule: dict[str, Any], path: str, old: Any) -> None:
        text = " ".join(str(rule.get("rule", "")).split())
        message = rule.get("message") or f"failed rule: {text}"
        impl = _RULES.get(text)
        if impl is None:
            self.report.unchecked.append((path, message))
            return
        needs_old, fn = impl
        if needs_old:
            if old is _MISSING:
                return  # a transition rule: only judged on update
            ok = fn(value, old)
        else:
            ok = fn(value, None)
        if ok is False:
            self.err(path, f"Invalid value: {message}", rule=True)


def _quote_type(value: Any) -> str:
    return _quote(value) if isinstance(value, str) else repr(value)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(p: str) -> re.Pattern[str]:
    if p not in _PATTERNS:
        _PATTERNS[p] = re.compile(p)
    return _PATTERNS[p]


# -- the CEL rules implemented -------------------------------------------------------------
# Keys are the rules' exact text with runs of whitespace collapsed; each maps to
# (needs oldSelf, fn(self, oldSelf) -> bool). Transition rules run only on update.


def _domain(key: str) -> str:
    """CEL `key.find("^([^/]+)")`: everything before the first slash (the whole key without one)."""
    return key.split("/", 1)[0]


_KUBE_WELL_KNOWN = (
    "beta.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "failure-domain.beta.kubernetes.io/zone",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "node.kubernetes.io/instance-type",
    "kubernetes.io/arch",
    "kubernetes.io/os",
    "node.kubernetes.io/windows-build",
)

# The v1beta1 template-label rule lists the same keys minus node.kubernetes.io/instance-type.
_KUBE_LABEL_MAP_KNOWN = tuple(k for k in _KUBE_WELL_KNOWN if k != "node.kubernetes.io/instance-type")


def _karpenter_domain_ok(key: str) -> bool:
    return key in ("karpenter.sh/capacity-type", "karpenter.sh/nodepool") or not _domain(key).endswith("karpenter.sh")


def _kubernetes_domain_ok(key: str, allowed: tuple[str, ...]) -> bool:
    d = _domain(key)
    return (
        key in allowed
        or d.endswith("node.kubernetes.io")
        or d.endswith("node-restriction.kubernetes.io")
        or not d.endswith("kubernetes.io")
    )


def _int_value(v: Any) -> int | None:
    try:
        return int(str(v))
    except ValueError:
        return None


def _single_non_negative(x: dict[str, Any], ops: tuple[str, ...]) -> bool:
    if x.get("operator") not in ops:
        return True
    values = x.get("values") or []
    n = _int_value(values[0]) if len(values) == 1 else None
    return n is not None and n >= 0


def _each(fn: Callable[[Any], bool]) -> Callable[[Any, Any], bool]:
    def run(self: Any, _old: Any) -> bool:
        items = self.keys() if isinstance(self, dict) else (self or [])
        return all(fn(x) for x in items)

    return run


def _has(obj: Any, key: str) -> bool:
    return isinstance(obj, dict) and key in obj


_RULES: dict[str, tuple[bool, Callable[[Any, Any], bool]]] = {
    "self != ''": (False, lambda s, _o: s != ""),
    "self.size() != 0": (False, lambda s, _o: len(s) != 0),
    "self == oldSelf": (True, lambda s, o: s == o),
    "self.group == oldSelf.group": (True, lambda s, o: (s or {}).get("group") == (o or {}).get("group")),
    "self.kind == oldSelf.kind": (True, lambda s, o: (s or {}).get("kind") == (o or {}).get("kind")),
    "has(self.replicas) == has(oldSelf.replicas)": (True, lambda s, o: _has(s, "replicas") == _has(o, "replicas")),
    "self.all(x, has(x.schedule) == has(x.duration))": (
        False,
        _each(lambda x: _has(x, "schedule") == _has(x, "duration")),
    ),
    "self.all(x, x.operator == 'In' ? x.values.size() != 0 : true)": (
        False,
        _each(lambda x: x.get("operator") != "In" or len(x.get("values") or []) != 0),
    ),
    "self.all(x, (x.operator == 'Gt' || x.operator == 'Lt') ? (x.values.size() == 1 && int(x.values[0]) >= 0) : true)": (
        False,
        _each(lambda x: _single_non_negative(x, ("Gt", "Lt"))),
    ),
    "self.all(x, (x.operator == 'Gt' || x.operator == 'Lt' || x.operator == 'Gte' || x.operator == 'Lte') ? "
    "(x.values.size() == 1 && int(x.values[0]) >= 0) : true)": (
        False,
        _each(lambda x: _single_non_negative(x, ("Gt", "Lt", "Gte", "Lte"))),
    ),
    "self.all(x, (x.operator == 'In' && has(x.minValues)) ? x.values.size() >= x.minValues : true)": (
        False,
        _each(
            lambda x: (
                not (x.get("operator") == "In" and "minValues" in x)
                or len(x.get("values") or []) >= int(x["minValues"])
            )
        ),
    ),
    'self in ["karpenter.sh/capacity-type", "karpenter.sh/nodepool"] || !self.find("^([^/]+)").endsWith("karpenter.sh")': (
        False,
        lambda s, _o: _karpenter_domain_ok(s),
    ),
    'self.all(x, x in ["karpenter.sh/capacity-type", "karpenter.sh/nodepool"] || '
    '!x.find("^([^/]+)").endsWith("karpenter.sh"))': (False, _each(_karpenter_domain_ok)),
    'self != "karpenter.sh/nodepool"': (False, lambda s, _o: s != "karpenter.sh/nodepool"),
    'self != "kubernetes.io/hostname"': (False, lambda s, _o: s != "kubernetes.io/hostname"),
    'self.all(x, x != "karpenter.sh/nodepool")': (False, _each(lambda x: x != "karpenter.sh/nodepool")),
    'self.all(x, x != "kubernetes.io/hostname")': (False, _each(lambda x: x != "kubernetes.io/hostname")),
    "self in " + "[" + ", ".join(f'"{k}"' for k in _KUBE_WELL_KNOWN) + "]"
    ' || self.find("^([^/]+)").endsWith("node.kubernetes.io") || self.find("^([^/]+)").endsWith('
    '"node-restriction.kubernetes.io") || !self.find("^([^/]+)").endsWith("kubernetes.io")': (
        False,
        lambda s, _o: _kubernetes_domain_ok(s, _KUBE_WELL_KNOWN),
    ),
    "self.all(x, x in " + "[" + ", ".join(f'"{k}"' for k in _KUBE_LABEL_MAP_KNOWN) + "]"
    ' || x.find("^([^/]+)").endsWith("node.kubernetes.io") || x.find("^([^/]+)").endsWith('
    '"node-restriction.kubernetes.io") || !x.find("^([^/]+)").endsWith("kubernetes.io"))': (
        False,
        _each(lambda x: _kubernetes_domain_ok(x, _KUBE_LABEL_MAP_KNOWN)),
    ),
    'self.find("^([^/]+)").endsWith("kops.k8s.io") || !self.find("^([^/]+)").endsWith("k8s.io")': (
        False,
        lambda s, _o: _domain(s).endswith("kops.k8s.io") or not _domain(s).endswith("k8s.io"),
    ),
    'self.all(x, x.find("^([^/]+)").endsWith("kops.k8s.io") || !x.find("^([^/]+)").endsWith("k8s.io"))': (
        False,
        _each(lambda x: _domain(x).endswith("kops.k8s.io") or not _domain(x).endswith("k8s.io")),
    ),
    "!has(self.replicas) || !has(self.weight)": (False, lambda s, _o: not _has(s, "replicas") or not _has(s, "weight")),
    "!has(self.replicas) || (!has(self.limits) || size(self.limits) == 0 || (size(self.limits) == 1 && "
    "'nodes' in self.limits))": (
        False,
        lambda s, _o: not _has(s, "replicas") or not (s.get("limits") or {}) or list(s["limits"]) == ["nodes"],
    ),
    "self.consolidationPolicy == 'WhenEmpty' ? has(self.consolidateAfter) : true": (
        False,
        lambda s, _o: s.get("consolidationPolicy") != "WhenEmpty" or "consolidateAfter" in s,
    ),
    "has(self.consolidateAfter) ? self.consolidationPolicy != 'WhenUnderutilized' || self.consolidateAfter == 'Never' "
    ": true": (
        False,
        lambda s, _o: (
            "consolidateAfter" not in s
            or s.get("consolidationPolicy") != "WhenUnderutilized"
            or s.get("consolidateAfter") == "Never"
        ),
    ),
}


def implemented_rules() -> list[str]:
    return sorted(_RULES)
