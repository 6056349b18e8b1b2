"""Just enough of the Kubernetes protobuf encoding to read what kubectl sends.

`kubectl auth can-i` posts its SelfSubjectAccessReview as
`application/vnd.kubernetes.protobuf`: the 4-byte magic `k8s\\x00` followed by a
runtime.Unknown message whose `raw` field holds the typed message. Field numbers
follow k8s.io/api/authorization/v1/generated.proto. A hand-written wire-format
reader keeps the simulator free of a protobuf dependency.
"""

from __future__ import annotations

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
