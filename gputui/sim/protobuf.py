"""Just enough of the Kubernetes protobuf encoding to read what kubectl sends.

`kubectl auth can-i` posts its SelfSubjectAccessReview, and `kubectl create
configmap|namespace|serviceaccount` their objects, as `application/vnd.kubernetes.protobuf`:
the 4-byte magic `k8s\\x00` followed by a runtime.Unknown message whose `raw` field
holds the typed message. Field numbers follow the generated.proto files of k8s.io/api. A hand-written wire-format
reader keeps the simulator free of a protobuf dependency.
"""

from __future__ import annotations

import base64
from typing import Any, Iterator

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
            value, pos = buf[pos:pos + length], pos + length
        elif wire == WIRE_FIXED64:
            if pos + 8 > len(buf):
                raise ProtobufError("truncated fixed64")
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == WIRE_FIXED32:
            if pos + 4 > len(buf):
                raise ProtobufError("truncated fixed32")
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
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
    for number, wire, value in iter_fields(body[len(MAGIC):]):
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


_RESOURCE_ATTRIBUTES = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource",
                        7: "name"}
_NON_RESOURCE_ATTRIBUTES = {1: "path", 2: "verb"}


def decode_self_subject_access_review(body: bytes) -> dict:
    """A protobuf SelfSubjectAccessReview body → the same dict its JSON form would decode to."""
    envelope = decode_unknown(body)
    review: dict[str, Any] = {"apiVersion": envelope["apiVersion"] or "authorization.k8s.io/v1",
                              "kind": envelope["kind"] or "SelfSubjectAccessReview",
                              "metadata": {}, "spec": {}}
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


def _map_entry(buf: bytes, as_bytes: bool = False) -> tuple[str, Any]:
    key, value = "", b"" if as_bytes else ""
    for number, wire, item in iter_fields(buf):
        if wire != WIRE_BYTES:
            continue
        if number == 1:
            key = item.decode("utf-8", errors="replace")
        elif number == 2:
            value = item if as_bytes else item.decode("utf-8", errors="replace")
    return key, value


def decode_object_meta(buf: bytes) -> dict:
    """ObjectMeta fields a client sets on create; empty strings are dropped as JSON's omitempty would."""
    meta: dict[str, Any] = {}
    scalars = {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion"}
    for number, wire, value in iter_fields(buf):
        if wire != WIRE_BYTES:
            continue
        if number in scalars and value:
            meta[scalars[number]] = value.decode("utf-8", errors="replace")
        elif number in (11, 12):
            key, text = _map_entry(value)
            meta.setdefault("labels" if number == 11 else "annotations", {})[key] = text
        elif number == 14:
            meta.setdefault("finalizers", []).append(value.decode("utf-8", errors="replace"))
    return meta


def _decode_config_map(raw: bytes, obj: dict) -> None:
    for number, wire, value in iter_fields(raw):
        if number == 2 and wire == WIRE_BYTES:
            key, text = _map_entry(value)
            obj.setdefault("data", {})[key] = text
        elif number == 3 and wire == WIRE_BYTES:
            key, data = _map_entry(value, as_bytes=True)
            obj.setdefault("binaryData", {})[key] = base64.b64encode(data).decode()
        elif number == 4 and wire == WIRE_VARINT:
            obj["immutable"] = bool(value)


def _decode_namespace(raw: bytes, obj: dict) -> None:
    for number, wire, value in iter_fields(raw):
        if number == 2 and wire == WIRE_BYTES:
            finalizers = [v.decode() for n, w, v in iter_fields(value) if n == 1 and w == WIRE_BYTES]
            obj["spec"] = {"finalizers": finalizers} if finalizers else {}


def _decode_service_account(raw: bytes, obj: dict) -> None:
    for number, wire, value in iter_fields(raw):
        if number == 3 and wire == WIRE_BYTES:
            name = _strings(value, {1: "name"}).get("name", "")
            obj.setdefault("imagePullSecrets", []).append({"name": name})
        elif number == 4 and wire == WIRE_VARINT:
            obj["automountServiceAccountToken"] = bool(value)


_OBJECT_DECODERS = {("v1", "ConfigMap"): _decode_config_map, ("v1", "Namespace"): _decode_namespace,
                    ("v1", "ServiceAccount"): _decode_service_account}


def decode_object(body: bytes) -> dict:
    """A protobuf object body → its JSON-shaped dict, for the kinds `kubectl create <generator>` posts.

    Raises ProtobufError for any other kind, which the server answers with 415.
    """
    envelope = decode_unknown(body)
    key = (envelope["apiVersion"], envelope["kind"])
    decoder = _OBJECT_DECODERS.get(key)
    if decoder is None:
        raise ProtobufError(f"cannot decode {envelope['kind'] or 'an object'} ({envelope['apiVersion']}) "
                            f"from protobuf")
    obj: dict[str, Any] = {"apiVersion": key[0], "kind": key[1], "metadata": {}}
    for number, wire, value in iter_fields(envelope["raw"]):
        if number == 1 and wire == WIRE_BYTES:
            obj["metadata"] = decode_object_meta(value)
    decoder(envelope["raw"], obj)
    return obj
