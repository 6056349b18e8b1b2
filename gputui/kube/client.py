"""A thin client over the `kubernetes` package's transport, returning raw bytes.

The package's generated API classes build a model object for every item, which is
slow and large for big lists (see PERFORMANCE in the README). gputui keeps the
package for what it does well — kubeconfig, exec auth with token refresh, TLS, the
urllib3 pool — and decodes the bytes itself into slim structs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from gputui import __version__
from gputui.errors import ConnectError
from gputui.kube import config as kube_config
from gputui.kube.errors import KubeApiError, TransportTimeout, is_timeout, transport_error, unauthorized


@dataclass
class Response:
    status: int
    data: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.data) if self.data else None


class KubeClient:
    """One cluster connection. Thread-safe: the gatherer calls it from several workers."""

    def __init__(self, kc: kube_config.KubeConfig, request_timeout: float = 30.0):
        from kubernetes.client.api_client import ApiClient

        self.config = kc
        self.request_timeout = request_timeout
        self.api_client = ApiClient(kc.configuration)
        # The client asks for identity encoding by default; list bodies shrink 8-10x with gzip
        # and urllib3 decompresses transparently. Over loopback (a local proxy, kind, the
        # simulator) there is no link to save and compressing costs more than it brings.
        self.api_client.set_default_header("Accept-Encoding", "identity" if _is_loopback(kc.server) else "gzip")
        self.api_client.user_agent = f"gputui/{__version__}"
        self._auth_lock = threading.Lock()
        self._refreshed_after_401 = False
        self._version: dict | None = None

    # -- names for messages and reports -------------------------------------

    @property
    def server(self) -> str:
        return self.config.server

    @property
    def context(self) -> str | None:
        return self.config.context

    @property
    def namespace(self) -> str | None:
        """The namespace given with --namespace (None: all namespaces)."""
        return self.config.namespace

    @property
    def default_namespace(self) -> str:
        return self.config.default_namespace

    # -- requests -------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
        accept: str = "application/json",
        timeout: float | None = None,
    ) -> Response:
        """Send one request; non-2xx raises KubeApiError, no answer raises ConnectError/TransportTimeout.

        `body` is JSON-encoded unless it is bytes/str. 401 re-runs the exec plugin once
        (kubectl does the same) before giving up with a ConnectError.
        """
        headers = self._headers(accept, body is not None and (content_type or "application/json") or None)
        t = timeout if timeout is not None else self.request_timeout  # 0: no timeout (--request-timeout 0)
        raw = self._send(method, self._url(path, query), headers, body, (min(10.0, t), t) if t else None)
        try:
            data = raw.read()
        except Exception as e:  # noqa: BLE001 - every transport failure is classified below
            raise self._transport(e, t) from None
        if 200 <= raw.status < 300:
            self._refreshed_after_401 = False  # a later 401 (revoked, rotated) deserves its own retry
            return Response(raw.status, data, raw.headers)
        raise self._api_error(raw.status, data, raw.headers)

    def open_stream(self, path: str, query: Mapping[str, Any] | None = None, *, read_timeout: float) -> Stream:
        """GET a streaming answer (a watch): its lines as they come. Non-2xx raises KubeApiError
        and no answer ConnectError/TransportTimeout, as `request` does; a read that waits
        `read_timeout` seconds for a byte raises TransportTimeout from the line iterator."""
        connect_timeout = min(10.0, self.request_timeout) if self.request_timeout else 10.0
        raw = self._send(
            "GET",
            self._url(path, query),
            self._headers("application/json", None),
            None,
            (connect_timeout, read_timeout),
        )
        if 200 <= raw.status < 300:
            self._refreshed_after_401 = False
            return Stream(raw.response, self.server, read_timeout)
        try:
            data = raw.read()
        except Exception as e:  # noqa: BLE001 - classified below
            raise self._transport(e, read_timeout) from None
        raise self._api_error(raw.status, data, raw.headers)

    def get(self, path: str, query: Mapping[str, Any] | None = None, timeout: float | None = None) -> bytes:
        return self.request("GET", path, query=query, timeout=timeout).data

    def get_json(self, path: str, query: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, query=query).json()

    def version(self) -> dict:
        """GET /version: proves the server is there and accepts our credentials."""
        if self._version is None:
            try:
                self._version = self.get_json("/version") or {}
            except TransportTimeout as e:
                raise transport_error(e, self.server, self.request_timeout) from None
            except KubeApiError as e:
                if e.status == 403:  # some clusters forbid /version to everyone; the lists will tell.
                    self._version = {}
                else:
                    raise ConnectError(
                        f"the API server at {self.server} answered /version with {e}",
                        hint="is this a Kubernetes API server? check the context's server URL",
                    ) from None
        return self._version

    def close(self) -> None:
        try:
            self.api_client.rest_client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals --------------------------------------------------------------

    def _url(self, path: str, query: Mapping[str, Any] | None) -> str:
        url = self.server.rstrip("/") + path
        q = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
        if q:
            url += "?" + urlencode({k: (str(v).lower() if isinstance(v, bool) else v) for k, v in q.items()})
        return url

    def _headers(self, accept: str, content_type: str | None) -> dict:
        headers = dict(self.api_client.default_headers)
        headers["Accept"] = accept
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _send(self, method: str, url: str, headers: dict, body: Any, timeout: tuple[float, float] | None):
        """The answer's head, its body not read yet. 401 re-runs the exec plugin once (kubectl does
        the same) before the caller sees it."""
        for attempt in (1, 2):
            self._authorize(headers)
            try:
                raw = self.api_client.rest_client.request(
                    method, url, headers=dict(headers), body=body, _request_timeout=timeout
                )
            except Exception as e:  # noqa: BLE001 - every transport failure is classified below
                raise self._transport(e, timeout[1] if timeout else 0) from None
            if raw.status == 401 and attempt == 1 and self.config.exec_command and not self._refreshed_after_401:
                self._refreshed_after_401 = True
                raw.read()
                self.config.refresh_credentials()
                continue
            return raw
        raise AssertionError("unreachable")

    def _api_error(self, status: int, data: bytes, headers: Any) -> Exception:
        err = KubeApiError.from_response(status, data, headers)
        if status == 401:
            return unauthorized(self.server, self.config.user, err, self.config.exec_command)
        return err

    def _authorize(self, headers: dict) -> None:
        # The loader's refresh hook may run the exec plugin; one thread at a time.
        with self._auth_lock:
            auth = self.config.configuration.auth_settings().get("BearerToken")
        if auth and auth.get("value"):
            headers["authorization"] = auth["value"]

    def _transport(self, exc: BaseException, timeout: float) -> Exception:
        """A read that stalled or a connection dropped mid-answer is worth retrying (TransportTimeout);
        failing to connect at all, or TLS, means there is no usable cluster (ConnectError)."""
        import urllib3.exceptions as u3
        from kubernetes.client.exceptions import ApiException

        if isinstance(exc, (u3.ReadTimeoutError, u3.ProtocolError)) or (
            is_timeout(exc) and not isinstance(exc, u3.ConnectTimeoutError)
        ):
            within = f" within {timeout:g}s" if timeout else ""
            return TransportTimeout(f"no complete answer from {self.server}{within}: {exc}")
        if isinstance(exc, ApiException) and exc.status == 0:  # the client wraps SSL errors this way
            return transport_error(_Wrapped(str(exc.reason or exc)), self.server, timeout)
        return transport_error(exc, self.server, timeout)


class Stream:
    """The lines of a streaming answer. `close()` may be called from another thread: a read
    blocked on the socket returns at once (the iterator then ends)."""

    def __init__(self, response: Any, server: str, read_timeout: float):
        self._response = response
        self._server = server
        self._read_timeout = read_timeout
        self._closed = False

    def lines(self) -> Iterator[bytes]:
        """Each complete line (a watch event), without its newline; ends when the server ends the
        answer or `close()` is called. A silent connection raises TransportTimeout."""
        import urllib3.exceptions as u3

        buffered = b""
        try:
            while not self._closed:
                chunk = self._response.read1(65536) if hasattr(self._response, "read1") else self._response.read(65536)
                if not chunk:
                    break
                buffered += chunk
                if b"\n" not in chunk:
                    continue
                *complete, buffered = buffered.split(b"\n")
                for line in complete:
                    if line.strip():
                        yield line
        except (u3.ReadTimeoutError, TimeoutError) as e:
            if not self._closed:
                raise TransportTimeout(f"no word from {self._server} for {self._read_timeout:g}s: {e}") from None
        except (u3.ProtocolError, OSError, ValueError, AttributeError) as e:
            if not self._closed:
                raise TransportTimeout(f"the stream from {self._server} broke: {e}") from None
        if buffered.strip() and not self._closed:
            yield buffered

    def close(self) -> None:
        self._closed = True
        try:
            if hasattr(self._response, "shutdown"):
                self._response.shutdown()  # unblocks a read in another thread
            self._response.release_conn()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


def _is_loopback(server: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(server).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Wrapped(Exception):
    pass


def connect(
    kubeconfig: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
    request_timeout: float = 30.0,
) -> KubeClient:
    """Load credentials and return a client; no request is sent yet (call .version() to check)."""
    kc = kube_config.load(kubeconfig, context, namespace, request_timeout)
    return KubeClient(kc, request_timeout)


def from_args(args: Any) -> KubeClient:
    """A client from the common CLI options (--kubeconfig, --context, --namespace, --request-timeout)."""
    return connect(
        getattr(args, "kubeconfig", None),
        getattr(args, "context", None),
        getattr(args, "namespace", None),
        _request_timeout(args),
    )


def _request_timeout(args: Any) -> float:
    value = getattr(args, "request_timeout", None)
    return 30.0 if value is None else float(value)
