"""Just enough of the Kubernetes protobuf encoding to read what kubectl sends.

`kubectl auth can-i` posts its SelfSubjectAccessReview, and `kubectl create
configmap|namespace|serviceaccount|deployment|job` their objects, as `application/vnd.kubernetes.protobuf`:
the 4-byte magic `k8s\\x00` followed by a runtime.Unknown message whose `raw` field
holds the typed message. Field numbers follow the generated.proto files of k8s.io/api. A hand-written wire-format
reader keeps the simulator free of a protobuf dependency.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

MAGIC = b"k8s\x00"

WIRE_VARINT, WIRE_FIXED64, WIRE_BYTES, WIRE_FIXED32 = 0, 1, 2, 5


class ProtobufError(ValueError):
    """The body is not a well-formed Kubernetes protobuf message."""


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint longer than 64 bits")


def iter_fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value): ints for varints/fixed, bytes for length-delimited."""
    pos = 0
    value: int | bytes
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == WIRE_VARINT:
            value, pos = read_varint(buf, pos)
        elif wire == WIRE_BYTES:
            length, pos = read_varint(buf, pos)
            if pos + length > len(buf):
                raise ProtobufError(f"field {number} runs past the end of the message")
            value, pos = buf[pos : pos + length], pos + length
        elif wire == WIRE_FIXED64:
            if pos + 8 > len(buf):
                raise ProtobufError("truncated fixed64")
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        elif wire == WIRE_FIXED32:
            if pos + 4 > len(buf):
                raise ProtobufError("truncated fixed32")
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire} for field {number}")
        yield number, wire, value


def _strings(buf: bytes, names: dict[int, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for number, wire, value in iter_fields(buf):
        if number in names and wire == WIRE_BYTES:
            out[names[number]] = value.decode("utf-8", errors="replace")
    return out


def decode_unknown(body: bytes) -> dict:
    """The runtime.Unknown envelope: {apiVersion, kind, raw, contentEncoding, contentType}."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic prefix")
    out: dict[str, Any] = {"apiVersion": "", "kind": "", "raw": b"", "contentEncoding": "", "contentType": ""}
    for number, wire, value in iter_fields(body[len(MAGIC) :]):
        if wire != WIRE_BYTES:
            continue
        if number == 1:
            out.update(_strings(value, {1: "apiVersion", 2: "kind"}))
        elif number == 2:
            out["raw"] = value
        elif number == 3:
            out["contentEncoding"] = value.decode()
        elif number == 4:
            out["contentType"] = value.decode()
    return out


_RESOURCE_ATTRIBUTES = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"}
_NON_RESOURCE_ATTRIBUTES = {1: "path", 2: "verb"}


def decode_self_subject_access_review(body: bytes) -> dict:
    """A protobuf SelfSubjectAccessReview body → the same dict its JSON form would decode to."""
    envelope = decode_unknown(body)
    review: dict[str, Any] = {
        "apiVersion": envelope["apiVersion"] or "authorization.k8s.io/v1",
        "kind": envelope["kind"] or "SelfSubjectAccessReview",
        "metadata": {},
        "spec": {},
    }
    for number, wire, value in iter_fields(envelope["raw"]):
        if wire != WIRE_BYTES:
            continue
        if number == 1:
            review["metadata"] = _strings(value, {1: "name", 2: "generateName", 3: "namespace"})
        elif number == 2:
            for sub, sub_wire, sub_value in iter_fields(value):
                if sub_wire != WIRE_BYTES:
                    continue
                if sub == 1:
                    review["spec"]["resourceAttributes"] = _strings(sub_value, _RESOURCE_ATTRIBUTES)
                elif sub == 2:
                    review["spec"]["nonResourceAttributes"] = _strings(sub_value, _NON_RESOURCE_ATTRIBUTES)
    return review


# --------------------------------------------------------------------------- typed objects (kubectl create)

# A message schema maps field numbers to (JSON name, kind). Kinds: "str", "int" (omitted when 0), "ptr_int"
# (a pointer field: kept even when 0), "bool", "ptr_bool", "map", "bytes_map", "rep_str", "quantity_map",
# "time", "skip" (read and ignored, e.g. status on create), ("msg", schema) and ("rep_msg", schema).
# Only the fields `kubectl create <generator>` can set are listed; any other field carrying a value makes
# the decoder refuse the body rather than drop what the user asked for.

_TIME = "time"
OBJECT_META = {
    1: ("name", "str"),
    2: ("generateName", "str"),
    3: ("namespace", "str"),
    5: ("uid", "str"),
    6: ("resourceVersion", "str"),
    8: ("creationTimestamp", _TIME),
    11: ("labels", "map"),
    12: ("annotations", "map"),
    14: ("finalizers", "rep_str"),
}
_LABEL_SELECTOR = {
    1: ("matchLabels", "map"),
    2: ("matchExpressions", ("rep_msg", {1: ("key", "str"), 2: ("operator", "str"), 3: ("values", "rep_str")})),
}
_CONTAINER = {
    1: ("name", "str"),
    2: ("image", "str"),
    3: ("command", "rep_str"),
    4: ("args", "rep_str"),
    5: ("workingDir", "str"),
    6: (
        "ports",
        (
            "rep_msg",
            {
                1: ("name", "str"),
                2: ("hostPort", "int"),
                3: ("containerPort", "int"),
                4: ("protocol", "str"),
                5: ("hostIP", "str"),
            },
        ),
    ),
    7: ("env", ("rep_msg", {1: ("name", "str"), 2: ("value", "str")})),
    8: ("resources", ("msg", {1: ("limits", "quantity_map"), 2: ("requests", "quantity_map")})),
    13: ("terminationMessagePath", "str"),
    14: ("imagePullPolicy", "str"),
    16: ("stdin", "bool"),
    17: ("stdinOnce", "bool"),
    18: ("tty", "bool"),
    20: ("terminationMessagePolicy", "str"),
    24: ("restartPolicy", "str"),
}
_POD_SPEC = {
    2: ("containers", ("rep_msg", _CONTAINER)),
    3: ("restartPolicy", "str"),
    4: ("terminationGracePeriodSeconds", "ptr_int"),
    5: ("activeDeadlineSeconds", "ptr_int"),
    6: ("dnsPolicy", "str"),
    7: ("nodeSelector", "map"),
    8: ("serviceAccountName", "str"),
    10: ("nodeName", "str"),
    11: ("hostNetwork", "bool"),
    16: ("hostname", "str"),
    19: ("schedulerName", "str"),
    20: ("initContainers", ("rep_msg", _CONTAINER)),
    22: (
        "tolerations",
        (
            "rep_msg",
            {
                1: ("key", "str"),
                2: ("operator", "str"),
                3: ("value", "str"),
                4: ("effect", "str"),
                5: ("tolerationSeconds", "ptr_int"),
            },
        ),
    ),
}
_POD_TEMPLATE = {1: ("metadata", ("msg", OBJECT_META)), 2: ("spec", ("msg", _POD_SPEC))}
_DEPLOYMENT = {
    1: ("metadata", ("msg", OBJECT_META)),
    2: (
        "spec",
        (
            "msg",
            {
                1: ("replicas", "ptr_int"),
                2: ("selector", ("msg", _LABEL_SELECTOR)),
                3: ("template", ("msg", _POD_TEMPLATE)),
                4: ("strategy", ("msg", {1: ("type", "str")})),
                5: ("minReadySeconds", "int"),
                6: ("revisionHistoryLimit", "ptr_int"),
                7: ("paused", "bool"),
                9: ("progressDeadlineSeconds", "ptr_int"),
            },
        ),
    ),
    3: ("status", "skip"),
}
_JOB = {
    1: ("metadata", ("msg", OBJECT_META)),
    2: (
        "spec",
        (
            "msg",
            {
                1: ("parallelism", "ptr_int"),
                2: ("completions", "ptr_int"),
                3: ("activeDeadlineSeconds", "ptr_int"),
                4: ("selector", ("msg", _LABEL_SELECTOR)),
                5: ("manualSelector", "ptr_bool"),
                6: ("template", ("msg", _POD_TEMPLATE)),
                7: ("backoffLimit", "ptr_int"),
                8: ("ttlSecondsAfterFinished", "ptr_int"),
                9: ("completionMode", "str"),
                10: ("suspend", "ptr_bool"),
            },
        ),
    ),
    3: ("status", "skip"),
}
_CONFIG_MAP = {
    1: ("metadata", ("msg", OBJECT_META)),
    2: ("data", "map"),
    3: ("binaryData", "bytes_map"),
    4: ("immutable", "ptr_bool"),
}
_NAMESPACE = {
    1: ("metadata", ("msg", OBJECT_META)),
    2: ("spec", ("msg", {1: ("finalizers", "rep_str")})),
    3: ("status", "skip"),
}
_SERVICE_ACCOUNT = {
    1: ("metadata", ("msg", OBJECT_META)),
    3: ("imagePullSecrets", ("rep_msg", {1: ("name", "str")})),
    4: ("automountServiceAccountToken", "ptr_bool"),
}

_OBJECT_SCHEMAS: dict[tuple[str, str], dict] = {
    ("v1", "ConfigMap"): _CONFIG_MAP,
    ("v1", "Namespace"): _NAMESPACE,
    ("v1", "ServiceAccount"): _SERVICE_ACCOUNT,
    ("apps/v1", "Deployment"): _DEPLOYMENT,
    ("batch/v1", "Job"): _JOB,
}


def _all_zero(wire: int, value: Any, depth: int = 0) -> bool:
    """True when an unlisted field carries nothing: 0, empty bytes, or a message of such fields."""
    if wire != WIRE_BYTES:
        return value == 0
    if not value:
        return True
    if depth > 8:
        return False
    try:
        return all(_all_zero(w, v, depth + 1) for _, w, v in iter_fields(value))
    except ProtobufError:
        return False


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _rfc3339(buf: bytes) -> str:
    seconds = next((v for n, w, v in iter_fields(buf) if n == 1 and w == WIRE_VARINT), 0)
    if not seconds:
        return ""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def decode_message(buf: bytes, schema: dict, where: str = "") -> dict:
    """Decode `buf` by `schema` into the dict its JSON form would be (zero values omitted)."""
    out: dict[str, Any] = {}
    for number, wire, value in iter_fields(buf):
        spec = schema.get(number)
        if spec is None:
            if not _all_zero(wire, value):
                raise ProtobufError(f"cannot decode field {number} of {where or 'the object'}")
            continue
        name, kind = spec
        path = f"{where}.{name}" if where else name
        if kind == "skip":
            continue
        if isinstance(kind, tuple):
            if wire != WIRE_BYTES:
                raise ProtobufError(f"{path}: expected a message")
            sub = decode_message(value, kind[1], path)
            if kind[0] == "rep_msg":
                out.setdefault(name, []).append(sub)
            elif sub:
                out[name] = sub
        elif kind in ("int", "ptr_int", "bool", "ptr_bool"):
            if wire != WIRE_VARINT:
                raise ProtobufError(f"{path}: expected a number")
            if kind in ("int", "ptr_int"):
                number_value = value - (1 << 64) if value >= 1 << 63 else value
                if number_value or kind == "ptr_int":
                    out[name] = number_value
            elif value or kind == "ptr_bool":
                out[name] = bool(value)
        elif wire != WIRE_BYTES:
            raise ProtobufError(f"{path}: expected bytes")
        elif kind == "str":
            if value:
                out[name] = _text(value)
        elif kind == "rep_str":
            out.setdefault(name, []).append(_text(value))
        elif kind in ("map", "bytes_map", "quantity_map"):
            key, item = _map_entry(value, as_bytes=True)
            if kind == "bytes_map":
                text = base64.b64encode(item).decode()
            elif kind == "quantity_map":
                text = next((_text(v) for n, w, v in iter_fields(item) if n == 1 and w == WIRE_BYTES), "")
            else:
                text = _text(item)
            out.setdefault(name, {})[key] = text
        elif kind == _TIME:
            stamp = _rfc3339(value)
            if stamp:
                out[name] = stamp
    return out


def _map_entry(buf: bytes, as_bytes: bool = False) -> tuple[str, Any]:
    key, value = "", b"" if as_bytes else ""
    for number, wire, item in iter_fields(buf):
        if wire != WIRE_BYTES:
            continue
        if number == 1:
            key = _text(item)
        elif number == 2:
            value = item if as_bytes else _text(item)
    return key, value


def decode_object(body: bytes) -> dict:
    """A protobuf object body → its JSON-shaped dict, for the kinds `kubectl create <generator>` posts
    (ConfigMap, Namespace, ServiceAccount, Deployment, Job).

    Raises ProtobufError for any other kind or a field it cannot represent; the server answers 415.
    """
    envelope = decode_unknown(body)
    key = (envelope["apiVersion"], envelope["kind"])
    schema = _OBJECT_SCHEMAS.get(key)
    if schema is None:
        raise ProtobufError(f"cannot decode {envelope['kind'] or 'an object'} ({envelope['apiVersion']}) from protobuf")
    obj: dict[str, Any] = {"apiVersion": key[0], "kind": key[1]}
    obj.update(decode_message(envelope["raw"], schema, key[1]))
    obj.setdefault("metadata", {})
    return obj
