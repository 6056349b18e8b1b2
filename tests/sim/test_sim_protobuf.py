"""Reading kubectl's protobuf SelfSubjectAccessReview without a protobuf library."""

from __future__ import annotations

import base64

import pytest

from gputui.sim.protobuf import (
    ProtobufError,
    decode_object,
    decode_self_subject_access_review,
    decode_unknown,
    read_varint,
)


# A deliberately independent, minimal encoder: the test builds the bytes the way the wire format specifies.
def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_str(number: int, text: str) -> bytes:
    return field_bytes(number, text.encode())


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def envelope(raw: bytes, api_version="authorization.k8s.io/v1", kind="SelfSubjectAccessReview") -> bytes:
    type_meta = field_str(1, api_version) + field_str(2, kind)
    return b"k8s\x00" + field_bytes(1, type_meta) + field_bytes(2, raw) + field_str(3, "") + field_str(4, "")


def test_varint_multi_byte():
    assert read_varint(varint(300), 0) == (300, 2)
    assert read_varint(varint(2**40 + 5), 0)[0] == 2**40 + 5


def test_resource_attributes_round_trip():
    attrs = (
        field_str(1, "gpu-operator")
        + field_str(2, "list")
        + field_str(3, "apps")
        + field_str(4, "v1")
        + field_str(5, "daemonsets")
        + field_str(6, "status")
        + field_str(7, "nvidia-driver")
    )
    spec = field_bytes(1, attrs)
    # An unknown varint field and empty metadata must be skipped, as a real decoder would.
    raw = field_bytes(1, b"") + field_bytes(2, spec) + field_varint(9, 150)
    review = decode_self_subject_access_review(envelope(raw))
    assert review["apiVersion"] == "authorization.k8s.io/v1"
    assert review["kind"] == "SelfSubjectAccessReview"
    assert review["spec"] == {
        "resourceAttributes": {
            "namespace": "gpu-operator",
            "verb": "list",
            "group": "apps",
            "version": "v1",
            "resource": "daemonsets",
            "subresource": "status",
            "name": "nvidia-driver",
        }
    }


def test_non_resource_attributes():
    spec = field_bytes(2, field_str(1, "/healthz") + field_str(2, "get"))
    review = decode_self_subject_access_review(envelope(field_bytes(2, spec)))
    assert review["spec"] == {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}


def test_unknown_envelope_fields():
    env = decode_unknown(envelope(b"\x12\x00"))
    assert (env["apiVersion"], env["kind"], env["raw"]) == (
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        b"\x12\x00",
    )


@pytest.mark.parametrize("body", [b"{}", b"k8s\x00\x0a\x05ab", b"k8s\x00\x80"])
def test_malformed_bodies_raise(body):
    with pytest.raises(ProtobufError):
        decode_self_subject_access_review(body)


# Captured from `kubectl auth can-i list nodes` (v1.32) against the simulator.
CAPTURED_CAN_I_LIST_NODES = base64.b64decode(
    "azhzAAoyChdhdXRob3JpemF0aW9uLms4cy5pby92MRIXU2VsZlN1YmplY3RB"
    "Y2Nlc3NSZXZpZXcSPgoQCgASABoAIgAqADIAOABCABIgCh4KB2RlZmF1bHQSBGxpc3QaACIAKgVub2RlczIAOgAaCAgAEgAaACAAGgAiAA=="
)


def test_body_captured_from_real_kubectl():
    review = decode_self_subject_access_review(CAPTURED_CAN_I_LIST_NODES)
    attrs = review["spec"]["resourceAttributes"]
    assert attrs["verb"] == "list"
    assert attrs["resource"] == "nodes"
    assert attrs["group"] == "" and attrs["namespace"] == "default"
    assert review["kind"] == "SelfSubjectAccessReview"


# Captured from `kubectl create configmap patchme -n default --from-literal=a=1 --from-literal=b=two` (v1.32).
CAPTURED_CREATE_CONFIGMAP = base64.b64decode(
    "azhzAAoPCgJ2MRIJQ29uZmlnTWFwEjIKHgoHcGF0Y2htZRIAGgdkZWZhdWx0IgAqADIAOABCABIGCgFhEgExEggKAWISA3R3bxoAIgA="
)
# Captured from `kubectl create namespace team-a` (v1.32).
CAPTURED_CREATE_NAMESPACE = base64.b64decode(
    "azhzAAoPCgJ2MRIJTmFtZXNwYWNlEh4KFgoGdGVhbS1hEgAaACIAKgAyADgAQgASABoCCgAaACIA"
)
# Captured from `kubectl create deployment web --image=nginx` (v1.32).
CAPTURED_CREATE_DEPLOYMENT = base64.b64decode(
    "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50EqsBCh8KA3dlYhIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEnoIARIMCgoKA2FwcBIDd2Vi"
    "GmAKHAoAEgAaACIAKgAyADgAQgBaCgoDYXBwEgN3ZWISQBIiCgVuZ2lueBIFbmdpbngqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBY"
    "AGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA=="
)
# Captured from `kubectl create job smi --image=nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04 -- nvidia-smi -L`.
CAPTURED_CREATE_JOB = base64.b64decode(
    "azhzAAoPCghiYXRjaC92MRIDSm9iErIBChMKA3NtaRIAGgAiACoAMgA4AEIAEpABMo0BChAKABIAGgAiACoAMgA4AEIAEnkSVgoDc21pEitu"
    "dmNyLmlvL252aWRpYS9jdWRhOjEyLjQuMS1iYXNlLXVidW50dTIyLjA0GgpudmlkaWEtc21pGgItTCoAQgBqAHIAgAEAiAEAkAEAogEAGgVO"
    "ZXZlcjIAQgBKAFIAWABgAGgAggEAigEAmgEAwgEAGgggACgAMAA6ABoAIgA="
)


def test_captured_create_bodies_decode_to_json_shape():
    assert decode_object(CAPTURED_CREATE_CONFIGMAP) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "patchme", "namespace": "default"},
        "data": {"a": "1", "b": "two"},
    }
    assert decode_object(CAPTURED_CREATE_NAMESPACE) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-a"},
    }
    assert decode_object(CAPTURED_CREATE_DEPLOYMENT) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
            },
        },
    }
    job = decode_object(CAPTURED_CREATE_JOB)
    assert job["spec"]["template"]["spec"] == {
        "containers": [
            {"name": "smi", "image": "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04", "command": ["nvidia-smi", "-L"]}
        ],
        "restartPolicy": "Never",
    }


def test_unknown_kinds_and_unknown_fields_are_refused():
    secret = field_bytes(1, field_str(1, "s")) + field_bytes(2, field_str(1, "k") + field_bytes(2, b"v"))
    with pytest.raises(ProtobufError, match="cannot decode Secret"):
        decode_object(envelope(secret, api_version="v1", kind="Secret"))
    # A pod-spec field the decoder does not list (hostPID=12) set to true must not be dropped silently.
    spec = field_bytes(3, field_bytes(2, field_varint(12, 1)))
    with pytest.raises(ProtobufError, match="field 12"):
        decode_object(envelope(field_bytes(2, spec), api_version="apps/v1", kind="Deployment"))
    # The same field left at its zero value, as kubectl encodes unset fields, is fine.
    spec = field_bytes(3, field_bytes(2, field_varint(12, 0) + field_str(8, "")))
    assert (
        decode_object(envelope(field_bytes(2, spec), api_version="apps/v1", kind="Deployment"))["kind"] == "Deployment"
    )


def test_object_meta_maps_and_binary_data():
    entry = lambda k, v: field_str(1, k) + (field_bytes(2, v) if isinstance(v, bytes) else field_str(2, v))  # noqa: E731
    meta = (
        field_str(1, "cfg")
        + field_str(3, "ml")
        + field_bytes(11, entry("app", "web"))
        + field_bytes(12, entry("note", "x"))
        + field_str(14, "example.com/keep")
    )
    raw = field_bytes(1, meta) + field_bytes(3, entry("blob", b"\x00\x01")) + field_varint(4, 1)
    obj = decode_object(envelope(raw, api_version="v1", kind="ConfigMap"))
    assert obj["metadata"] == {
        "name": "cfg",
        "namespace": "ml",
        "labels": {"app": "web"},
        "annotations": {"note": "x"},
        "finalizers": ["example.com/keep"],
    }
    assert obj["binaryData"] == {"blob": "AAE="} and obj["immutable"] is True
