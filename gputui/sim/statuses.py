"""API failures as the API server words them, each rendered as a `kind: Status` body."""

from __future__ import annotations

from typing import Any

from gputui.sim.resources import ResourceType


class ApiError(Exception):
    """An API failure, rendered to clients as a `kind: Status` body."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def qualified(rt: ResourceType) -> str:
    return rt.resource_name  # "pods", "deployments.apps"


def _details(rt: ResourceType, name: str, kind: str | None = None) -> dict:
    d: dict[str, Any] = {"name": name}
    if rt.group:
        d["group"] = rt.group
    d["kind"] = kind or rt.plural
    return d


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(rt)} "{name}" not found', _details(rt, name))


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(rt)} "{name}" already exists', _details(rt, name))


def conflict(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(rt)} "{name}": the object has '
        "been modified; please apply your changes to the latest version and try again",
        _details(rt, name),
    )


def invalid(rt: ResourceType, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """causes: (reason, field, message) as in field.ErrorList."""
    text = ", ".join(f"{f}: {m}" for _, f, m in causes)
    if len(causes) > 1:
        text = "[" + text + "]"
    details = _details(rt, name, rt.kind)
    details["causes"] = [{"reason": r, "message": m, "field": f} for r, f, m in causes]
    kind = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {text}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter, or use the continue token in this response to retry "
    "with the next key."
)


def unsupported_patch() -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    )


USER = "system:serviceaccount:default:gputui"


def forbidden(
    rt: ResourceType, verb: str, namespace: str | None, name: str | None, sub: str | None = None, user: str = USER
) -> ApiError:
    who = f'{rt.resource_name} "{name}"' if name else rt.resource_name
    resource = f"{rt.plural}/{sub}" if sub else rt.plural
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    return ApiError(
        403,
        "Forbidden",
        f'{who} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API group "{rt.group}" {where}',
        details,
    )


def unsupported_media(ctype: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media "
        "types include: application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml, application/strategic-merge-patch+json",
    )


def unsupported_body(ctype: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media "
        "types include: application/json, application/yaml",
    )


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})
