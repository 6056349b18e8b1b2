"""Turn transport and API failures into words a user can act on.

Two kinds of failure come out of a request:
* the server could not be reached, spoken to, or refused who we are — the whole
  run is pointless, so it becomes a `ConnectError` (exit 4) with one line and a hint;
* the server answered one request with a Status (403, 404, 5xx...) — a `KubeApiError`
  the caller may tolerate (the gatherer records it and goes on).
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

from gputui.errors import ConnectError

# Status codes worth another attempt: the server is overloaded or a proxy hiccuped.
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class KubeApiError(Exception):
    """The API server answered with a non-2xx Status."""

    def __init__(
        self, status: int, reason: str, message: str, details: dict | None = None, retry_after: float | None = None
    ):
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details or {}
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUS

    @classmethod
    def from_response(cls, status: int, body: bytes, headers: Any = None) -> KubeApiError:
        """Read a `kind: Status` body; fall back to the HTTP status when it is not one."""
        reason, message, details = _default_reason(status), "", None
        try:
            doc = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError):
            doc = None
        if isinstance(doc, dict) and doc.get("kind") == "Status":
            reason = doc.get("reason") or reason
            message = doc.get("message") or ""
            details = doc.get("details")
        elif body:
            message = body[:300].decode("utf-8", "replace").strip()
        retry_after = None
        if headers is not None:
            value = headers.get("Retry-After")
            try:
                retry_after = float(value) if value else None
            except ValueError:
                retry_after = None
        return cls(status, reason, message or reason, details, retry_after)


def _default_reason(status: int) -> str:
    return {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        405: "MethodNotAllowed",
        409: "Conflict",
        410: "Expired",
        422: "Invalid",
        429: "TooManyRequests",
        500: "InternalError",
        503: "ServiceUnavailable",
        504: "Timeout",
    }.get(status, "ServerError" if status >= 500 else f"HTTP{status}")


class TransportTimeout(Exception):
    """A request that got no (complete) answer in time; the caller may retry it."""


def unauthorized(server: str, user: str | None, err: KubeApiError, exec_command: str | None) -> ConnectError:
    who = f"user {user!r}" if user else "the credentials in use"
    if exec_command and "aws" in exec_command:
        hint = (
            "the token from `aws eks get-token` was refused: refresh the AWS credentials it uses "
            "(`aws sso login`, or check AWS_PROFILE) and confirm the IAM identity is mapped in the "
            "cluster's access entries / aws-auth"
        )
    elif exec_command:
        hint = f"the token from the exec plugin `{exec_command}` was refused: run it by hand and check its output"
    else:
        hint = "the token or client certificate in the kubeconfig has expired or was revoked: get fresh credentials"
    return ConnectError(f"the API server at {server} rejected {who}: 401 Unauthorized ({err.message})", hint=hint)


def transport_error(exc: BaseException, server: str, timeout: float | None = None) -> ConnectError:
    """One line and a next step for a request that never got an HTTP answer."""
    root = _root_cause(exc)
    text = str(root)
    low = text.lower()
    if (
        isinstance(root, (ssl.SSLError, ssl.CertificateError))
        or "ssl" in type(root).__name__.lower()
        or "certificate" in low
        or "tls" in low
    ):
        detail = _short(text)
        return ConnectError(
            f"TLS handshake with {server} failed: {detail}",
            hint="the cluster's certificate-authority(-data) in the kubeconfig does not match the server; "
            "regenerate it (EKS: `aws eks update-kubeconfig --name CLUSTER`)",
        )
    if (
        isinstance(root, socket.gaierror)
        or "name resolution" in low
        or "name or service not known" in low
        or "nodename nor servname" in low
    ):
        return ConnectError(
            f"cannot resolve the API server host in {server}",
            hint="check the server address in the kubeconfig, DNS, and VPN if the endpoint is private",
        )
    if isinstance(root, ConnectionRefusedError) or "connection refused" in low:
        return ConnectError(
            f"cannot reach the API server at {server}: connection refused",
            hint="is the cluster (or `gputui sim serve`) running, and is this the right context? "
            "try `kubectl cluster-info`",
        )
    if _is_timeout(root) or _is_timeout(exc):
        after = f" within {timeout:g}s" if timeout else ""
        return ConnectError(
            f"the API server at {server} did not answer{after}",
            hint="a private endpoint needs VPN/bastion access; a slow server needs a larger --request-timeout",
        )
    return ConnectError(
        f"cannot talk to the API server at {server}: {_short(text) or type(root).__name__}",
        hint="check the server address and network path; `kubectl cluster-info` should work with the same context",
    )


def is_timeout(exc: BaseException) -> bool:
    return _is_timeout(exc) or _is_timeout(_root_cause(exc))


def _is_timeout(exc: BaseException) -> bool:
    name = type(exc).__name__
    return isinstance(exc, (TimeoutError, socket.timeout, TransportTimeout)) or "Timeout" in name


def _root_cause(exc: BaseException) -> BaseException:
    """urllib3 wraps the socket error in MaxRetryError/NewConnectionError; find the innermost one."""
    seen = set()
    cur: BaseException = exc
    while id(cur) not in seen:
        seen.add(id(cur))
        nxt = getattr(cur, "reason", None)
        if isinstance(nxt, BaseException):
            cur = nxt
            continue
        nxt = cur.__cause__ or cur.__context__
        if isinstance(nxt, BaseException) and not isinstance(cur, (ssl.SSLError, ConnectionRefusedError)):
            cur = nxt
            continue
        break
    return cur


def _short(text: str) -> str:
    text = " ".join(text.split())
    # urllib3 prefixes messages with the connection object's repr; keep what follows.
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    return text[:200]
