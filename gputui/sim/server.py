"""The HTTP face of the simulator: a loopback Kubernetes API server on ThreadingHTTPServer.

Routing, auth, faults and response encoding live here; object semantics live in the
store. List bodies are assembled from each object's cached JSON bytes so that listing
100,000 pods costs little more than writing them to the socket.
"""

from __future__ import annotations

import hmac
import socket
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from gputui.sim import discovery, media, openapi, protobuf
from gputui.sim.faults import Faults
from gputui.sim.rbac import ADMIN, Attributes, Authorizer, Identity
from gputui.sim.statuses import (
    CONTINUE_EXPIRED,
    ApiError,
    bad_request,
    forbidden,
    method_not_allowed,
    not_found,
    not_found_path,
    unsupported_body,
    unsupported_media,
    unsupported_patch,
)
from gputui.sim.store import Entry, Store
from gputui.sim.subresources import SubresourceHandlers
from gputui.sim.watch import BOOKMARK_SECONDS, WatchHandlers

_encode = msgspec.json.encode
_decode = msgspec.json.decode

SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T16:03:33Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}
GZIP_MIN_BYTES = 8 * 1024
WRITE_BATCH = 256 * 1024


# --- server ---------------------------------------------------------------------------


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    server_address: tuple[str, int]  # an AF_INET socket's name: the host comes back as str

    def __init__(self, address: tuple[str, int], store: Store, token: str, faults: Faults):
        super().__init__(address, Handler)
        self.store = store
        self.token = token
        self.faults = faults
        self.identities: dict[str, Identity] = {}  # token -> who; RBAC applies to these, not to `token`
        self.authorizer = Authorizer(store)
        self.stopping = False
        # How often a watch that asked for bookmarks gets one (a real API server: about a minute).
        self.bookmark_seconds = BOOKMARK_SECONDS
        self.watch_epoch = 0  # end_watches() moves it on; a watch of an older epoch ends
        # Watches by resource ("pods", "nodeclaims.karpenter.sh"): opened since the start, and open now.
        self.watches_opened: Counter[str] = Counter()
        self.watches_open: Counter[str] = Counter()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    def track(self, sock: socket.socket, alive: bool) -> None:
        with self._conns_lock:
            (self._conns.add if alive else self._conns.discard)(sock)

    @property
    def open_connections(self) -> int:
        with self._conns_lock:
            return len(self._conns)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up is routine (a cancelled kubectl, a closed watch): say nothing.
        # Anything else is a bug in the simulator and keeps socketserver's traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def end_watches(self) -> None:
        """End every open watch (as an API server restart or a load balancer's idle timeout
        does); clients reconnect."""
        self.watch_epoch += 1

    def stop(self) -> None:
        """Stop accepting, end watches and cut keep-alive connections, so clients see a dead server."""
        self.stopping = True
        self.store.close()
        self.shutdown()
        self.server_close()
        with self._conns_lock:
            conns = list(self._conns)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Route:
    """What a resource URL names: type, version, namespace, object name, subresource."""

    __slots__ = ("rt", "version", "namespace", "name", "sub")

    def __init__(self, rt, version, namespace, name, sub):
        self.rt, self.version, self.namespace, self.name, self.sub = rt, version, namespace, name, sub


class Handler(WatchHandlers, SubresourceHandlers, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimServer
    server_version = "gputui-sim"

    # -- plumbing ---------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:  # reset or broken pipe while reading the next request: the client left
            self.close_connection = True

    def finish(self) -> None:
        self.server.track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: the simulator is not a web log
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        return b""

    def _send(
        self,
        code: int,
        parts: Iterable[bytes] | bytes,
        content_type: str = "application/json",
        headers: dict | None = None,
    ) -> None:
        if isinstance(parts, bytes):
            parts = [parts]
        use_gzip = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if use_gzip:
            parts = list(parts)
            if sum(len(p) for p in parts) < GZIP_MIN_BYTES:
                use_gzip = False
        if use_gzip:
            comp = zlib.compressobj(1, zlib.DEFLATED, 31)
            out = [comp.compress(p) for p in parts]
            out.append(comp.flush())
            parts = [b"".join(out)]
        else:
            parts = list(parts)
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache, private")
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(sum(len(p) for p in parts)))
        self.end_headers()
        if self.command == "HEAD":
            return
        batch: list[bytes] = []
        size = 0
        for p in parts:
            batch.append(p)
            size += len(p)
            if size >= WRITE_BATCH:
                self.wfile.write(b"".join(batch))
                batch, size = [], 0
        if batch:
            self.wfile.write(b"".join(batch))

    def _send_json(self, code: int, obj: Any, content_type: str = "application/json") -> None:
        self._send(code, _encode(obj), content_type)

    def _send_error(self, err: ApiError) -> None:
        self._send_json(err.code, err.status())

    # -- dispatch ---------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        self.streaming = False
        try:
            url = urlsplit(self.path)
            self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            self.accept = self.headers.get("Accept") or ""
            body = self._read_body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
            faults = self.server.faults
            if faults.latency_ms:
                time.sleep(faults.latency_ms / 1000.0)
            if method != "GET" and method != "HEAD":
                faults.writes_received += 1
                if faults.write_latency_ms:
                    time.sleep(faults.write_latency_ms / 1000.0)
            path = url.path.rstrip("/") or "/"
            self._authenticate(path)
            self._dispatch(method, path, body)
        except ConnectionError:  # BrokenPipeError, ConnectionResetError, ConnectionAbortedError
            self.close_connection = True
        except Exception as e:
            if self.streaming:  # mid-stream there is no status line left to send; hang up instead
                self.close_connection = True
                return
            if not isinstance(e, ApiError):  # a bug must answer 500, not hang the client
                e = ApiError(500, "InternalError", f"Internal error occurred: {type(e).__name__}: {e}")
            try:
                self._send_error(e)
            except ConnectionError:
                self.close_connection = True

    def _authenticate(self, path: str) -> None:
        self.identity = ADMIN
        auth = self.headers.get("Authorization") or ""
        if not auth and path in ("/version", "/healthz", "/livez", "/readyz"):
            return  # anonymous may read these, as with the default RBAC
        if not auth and _is_client_go(self.headers.get("User-Agent") or ""):
            # client-go (kubectl, k9s, helm) reads credentials from a kubeconfig only for TLS
            # servers, so over this plain-HTTP loopback it never sends the token it was given.
            # It does send the kubeconfig's `as`/`as-groups`: the admin impersonates them.
            self.identity = self._impersonated() or ADMIN
            return
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        known = self.server.identities.get(token) if token else None
        if known is not None:
            self.identity = known
        elif not token or not hmac.compare_digest(token.encode(), self.server.token.encode()):
            raise ApiError(401, "Unauthorized", "Unauthorized")
        impersonated = self._impersonated()
        if impersonated is not None:
            if not self.identity.is_admin:
                raise ApiError(
                    403,
                    "Forbidden",
                    f'users "{impersonated.user}" is forbidden: User "{self.identity.user}" cannot impersonate '
                    'resource "users" in API group "" at the cluster scope',
                    {"name": impersonated.user, "kind": "users"},
                )
            self.identity = impersonated

    def _impersonated(self) -> Identity | None:
        user = self.headers.get("Impersonate-User")
        if not user:
            return None
        return Identity(user, tuple(self.headers.get_all("Impersonate-Group") or ()))

    def _dispatch(self, method: str, path: str, body: bytes) -> None:
        if path in ("/healthz", "/livez", "/readyz"):
            return self._send(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version":
            return self._send_json(200, SERVER_VERSION)
        if path.startswith("/openapi/"):
            return self._openapi(path)
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] not in ("api", "apis"):
            raise not_found_path()
        if method == "GET" and self._discovery(parts):
            return
        route, watch = self._route(parts)
        self._check_access(method, route, watch)
        rt = route.rt
        if rt.group == "authorization.k8s.io" and rt.plural == "selfsubjectaccessreviews":
            if method != "POST" or route.name:
                raise method_not_allowed()
            return self._access_review(body)
        if route.sub:
            return self._subresource(method, route, body)
        if method == "GET":
            if self._flag("watch") or watch:
                return self._watch(route)
            if route.name:
                return self._get(route)
            return self._list(route)
        if method == "POST" and not route.name:
            return self._create(route, body)
        if method == "PUT" and route.name:
            return self._update(route, body, None)
        if method == "PATCH" and route.name:
            return self._patch(route, body, None)
        if method == "DELETE" and route.name:
            return self._delete(route, body)
        if method == "DELETE":
            return self._delete_collection(route, body)
        raise method_not_allowed()

    def _route(self, parts: list[str]) -> tuple[Route, bool]:
        store = self.server.store
        if parts[0] == "api":
            if len(parts) < 3:
                raise not_found_path()
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) < 4:
                raise not_found_path()
            group, version, rest = parts[1], parts[2], parts[3:]
        watch = False
        if rest[0] == "watch":
            watch, rest = True, rest[1:]
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            inner = store.type_for_resource(group, rest[2])
            if inner is not None and inner.namespaced:
                namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise not_found_path()
        rt = store.type_for_resource(group, rest[0])
        if rt is None or version not in rt.served_versions:
            raise not_found_path()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in rt.subresources:
            raise not_found_path()
        if rt.namespaced and name is not None and namespace is None and rt.plural != "namespaces":
            raise not_found_path()
        return Route(rt, version, namespace, name, sub), watch

    def _verb(self, method: str, route: Route, watch: bool) -> str:
        if method == "GET":
            if watch or self._flag("watch"):
                return "watch"
            return "get" if route.name else "list"
        return {
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete" if route.name else "deletecollection",
        }.get(method, method.lower())

    def _check_access(self, method: str, route: Route, watch: bool) -> None:
        rt = route.rt
        faults = self.server.faults
        verb = self._verb(method, route, watch)
        if faults.forbids(rt.plural, rt.group):
            raise forbidden(rt, verb, route.namespace, route.name, route.sub)
        # Every authenticated user may ask what it may do (system:basic-user).
        if not self.identity.is_admin and rt.plural != "selfsubjectaccessreviews":
            attrs = Attributes(verb, rt.group, rt.plural, route.sub or "", route.namespace or "", route.name or "")
            if not self.server.authorizer.allowed(self.identity, attrs):
                raise forbidden(rt, verb, route.namespace, route.name, route.sub, user=self.identity.user)
        if faults.request_fault(method, f"{rt.plural}/{route.sub}" if route.sub else rt.plural):
            raise ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
        if method == "GET" and not (watch or self._flag("watch")):
            if faults.stalls(rt.plural, rt.group, route.sub):
                faults.wait_stalled()
            if faults.is_unavailable(rt.plural, rt.group, route.sub):
                raise ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
            code = faults.fail_read()
            if code == 500:
                raise ApiError(
                    500,
                    "InternalError",
                    "Internal error occurred: etcdserver: request timed out",
                    {"causes": [{"message": "etcdserver: request timed out"}]},
                )
            if code == 503:
                raise ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
        if not route.sub and verb not in rt.verbs:
            raise method_not_allowed()

    def _flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("true", "1")

    def _manager(self) -> str:
        """The field manager of a write: as given, else the client's name from its User-Agent."""
        return self.query.get("fieldManager") or (self.headers.get("User-Agent") or "unknown").split("/")[0]

    def _dry_run(self, body_options: dict | None = None) -> bool:
        values = [self.query["dryRun"]] if "dryRun" in self.query else []
        if body_options and body_options.get("dryRun"):
            values += list(body_options["dryRun"])
        for v in values:
            if v not in ("All", ""):
                raise bad_request(f'dryRun: Unsupported value: "{v}": supported values: "All"')
        return any(v == "All" for v in values)

    # -- discovery and documents served outside the resource tree -----------------------

    def _discovery(self, parts: list[str]) -> bool:
        store = self.server.store
        agg = discovery.requested_version(self.accept)
        if parts == ["api"]:
            if agg:
                self._send_aggregated(legacy=True, version=agg)
            else:
                host, port = self.server.server_address[:2]
                self._send_json(
                    200,
                    {
                        "kind": "APIVersions",
                        "versions": ["v1"],
                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"{host}:{port}"}],
                    },
                )
            return True
        if parts == ["apis"]:
            if agg:
                self._send_aggregated(legacy=False, version=agg)
            else:
                self._send_json(200, discovery.api_group_list(store))
            return True
        if parts[0] == "api" and len(parts) == 2 or parts[0] == "apis" and len(parts) == 3:
            group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
            doc = discovery.api_resource_list(store, group, version)
            if doc is None:
                raise not_found_path()
            self._send_json(200, doc)
            return True
        if parts[0] == "apis" and len(parts) == 2:
            for g in discovery.api_group_list(store)["groups"]:
                if g["name"] == parts[1]:
                    self._send_json(200, {"kind": "APIGroup", "apiVersion": "v1", **g})
                    return True
            raise not_found_path()
        return False

    def _send_aggregated(self, legacy: bool, version: str) -> None:
        doc = discovery.aggregated_discovery(self.server.store, legacy, f"apidiscovery.k8s.io/{version}")
        self._send(
            200,
            _encode(doc),
            f"application/json;g=apidiscovery.k8s.io;v={version};as={discovery.DISCOVERY_AS}",
            {"Vary": "Accept"},
        )

    def _openapi(self, path: str) -> None:
        if not path.startswith("/openapi/v3"):
            raise not_found_path()
        store = self.server.store
        doc: dict | None
        if path.rstrip("/") == "/openapi/v3":
            doc = openapi.v3_index(store)
        else:
            doc = openapi.v3_document(store, path[len("/openapi/v3/") :])
        if doc is None:
            raise not_found_path()
        self._send(200, doc if isinstance(doc, bytes) else _encode(doc), "application/json")

    # -- reads -------------------------------------------------------------------------

    def _raw(self, route: Route, entry: Entry) -> bytes:
        if route.version == route.rt.version:
            return entry.raw
        obj = dict(entry.obj)
        obj["apiVersion"] = route.rt.api_version(route.version)
        return _encode(obj)

    def _shown(self, route: Route, obj: dict) -> dict:
        if route.version != route.rt.version:
            obj["apiVersion"] = route.rt.api_version(route.version)
        return obj

    def _get(self, route: Route) -> None:
        store = self.server.store
        entry = store.entry(route.rt, route.namespace, route.name)
        if media.wants_table(self.accept):
            table = media.render_table(
                route.rt, [_decode(self._raw(route, entry))], self.query.get("includeObject") or "Metadata"
            )
            table.setdefault("metadata", {})["resourceVersion"] = entry.obj["metadata"].get("resourceVersion", "")
            return self._send_json(200, table, "application/json;as=Table;v=v1;g=meta.k8s.io")
        if media.wants_metadata_only(self.accept):
            return self._send_json(
                200, media.partial_metadata(entry.obj), "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"
            )
        self._send(200, self._raw(route, entry))

    def _check_list_version(self) -> None:
        """resourceVersion / resourceVersionMatch on a list, judged as an API server judges them.
        Every list is served at the newest version, which satisfies "0" and NotOlderThan; an Exact
        version the store no longer keeps is 410 Gone."""
        rv = self.query.get("resourceVersion") or ""
        match = self.query.get("resourceVersionMatch") or ""
        if match and match not in ("NotOlderThan", "Exact"):
            raise bad_request(
                f'resourceVersionMatch: Unsupported value: "{match}": supported values: "Exact", "NotOlderThan"'
            )
        if match and not rv:
            raise bad_request(
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
            )
        if rv and not rv.isdigit():
            raise bad_request(f'invalid resource version: "{rv}"')
        if match == "Exact" and rv != "0":
            self.server.store.check_watch_from(int(rv))

    def _list(self, route: Route) -> None:
        store = self.server.store
        limit = self._int_param("limit")
        token = self.query.get("continue") or None
        if token and self.server.faults.expire_continue:
            raise ApiError(410, "Expired", CONTINUE_EXPIRED)
        self._check_list_version()
        sel = store.select(
            route.rt, route.namespace, self.query.get("labelSelector"), self.query.get("fieldSelector"), limit, token
        )
        meta: dict[str, Any] = {"resourceVersion": sel.resource_version}
        if sel.continue_token:
            meta["continue"] = sel.continue_token
            if sel.remaining is not None:
                meta["remainingItemCount"] = sel.remaining
        rt = route.rt
        if media.wants_table(self.accept):
            objs = [_decode(self._raw(route, e)) for e in sel.entries]
            table = media.render_table(rt, objs, self.query.get("includeObject") or "Metadata")
            table["metadata"] = {**(table.get("metadata") or {}), **meta}
            return self._send_json(200, table, "application/json;as=Table;v=v1;g=meta.k8s.io")
        if media.wants_metadata_only(self.accept):
            return self._send_json(
                200,
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                    "items": [media.partial_metadata(e.obj) for e in sel.entries],
                },
                "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
            )
        head = _encode({"kind": f"{rt.kind}List", "apiVersion": rt.api_version(route.version), "metadata": meta})
        parts = [head[:-1], b',"items":[']
        first = True
        for e in sel.entries:
            if not first:
                parts.append(b",")
            parts.append(self._raw(route, e))
            first = False
        parts.append(b"]}")
        self._send(200, parts)

    def _int_param(self, name: str) -> int | None:
        value = self.query.get(name)
        if value in (None, ""):
            return None
        try:
            n = int(value)
        except ValueError:
            raise bad_request(f'invalid value for {name}: "{value}"')
        return n if n > 0 else None

    # -- writes ------------------------------------------------------------------------

    def _body_object(self, route: Route, body: bytes) -> dict:
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if ctype == "application/vnd.kubernetes.protobuf":
            # kubectl create <generator> posts built-in objects as protobuf.
            try:
                obj = protobuf.decode_object(body)
            except ValueError:  # a kind the decoder does not know
                raise unsupported_body(ctype) from None
        elif ctype in ("application/yaml", "application/apply-patch+yaml"):
            obj = media.parse_yaml(body)
        elif ctype in ("application/json", "*/*", ""):
            obj = media.parse_json(body)
        else:
            raise unsupported_body(ctype)
        if not isinstance(obj, dict):
            raise bad_request("the body of the request was not a JSON object")
        rt = route.rt
        expected = rt.api_version(route.version)
        if obj.get("apiVersion") and obj["apiVersion"] != expected:
            raise bad_request(
                f"the API version in the data ({obj['apiVersion']}) does not match the expected API "
                f"version ({expected})"
            )
        if obj.get("kind") and obj["kind"] != rt.kind:
            raise bad_request(f"the kind in the data ({obj['kind']}) does not match the expected kind ({rt.kind})")
        obj["apiVersion"], obj["kind"] = rt.api_version(), rt.kind
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            if meta.get("namespace") and route.namespace and meta["namespace"] != route.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = route.namespace or meta.get("namespace") or "default"
        return obj

    def _create(self, route: Route, body: bytes) -> None:
        store = self.server.store
        obj = self._body_object(route, body)
        rt = route.rt
        if rt.namespaced:
            ns_type = store.type_for_resource("", "namespaces")
            ns = obj["metadata"]["namespace"]
            if ns_type is not None:
                try:
                    namespace = store.entry(ns_type, None, ns).obj
                except ApiError:
                    raise not_found(ns_type, ns)
                if rt.kind == "Pod" and not rt.group:
                    from gputui.sim.podsecurity import admit

                    admit(obj, namespace)
        out = store.create(obj, dry_run=self._dry_run(), field_manager=self._manager())
        self._send_json(201, self._shown(route, out))

    def _update(self, route: Route, body: bytes, sub: str | None) -> None:
        obj = self._body_object(route, body)
        name = obj["metadata"].get("name")
        if name and name != route.name:
            raise bad_request(f"the name of the object ({name}) does not match the name on the URL ({route.name})")
        obj["metadata"]["name"] = route.name
        out = self.server.store.update(obj, dry_run=self._dry_run(), subresource=sub, field_manager=self._manager())
        self._send_json(200, self._shown(route, out))

    def _patch(self, route: Route, body: bytes, sub: str | None) -> None:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        kind = media.PATCH_TYPES.get(ctype)
        if kind is None:
            raise unsupported_media(ctype) if route.rt.crd is None else unsupported_patch()
        existed = True
        if kind == "apply":
            try:
                self.server.store.entry(route.rt, route.namespace, route.name)
            except ApiError:
                existed = False
        manager = self.query.get("fieldManager") if kind == "apply" else self._manager()
        out = self.server.store.patch(
            route.rt,
            route.namespace,
            route.name,
            kind,
            body,
            dry_run=self._dry_run(),
            subresource=sub,
            field_manager=manager,
            force=self._flag("force"),
        )
        self._send_json(200 if existed else 201, self._shown(route, out))

    def _delete_options(self, body: bytes) -> dict:
        if not body.strip():
            return {}
        opts = media.parse_json(body)
        return opts if isinstance(opts, dict) else {}

    def _delete(self, route: Route, body: bytes) -> None:
        store = self.server.store
        opts = self._delete_options(body)
        pre = opts.get("preconditions") or {}
        if pre:
            cur = store.entry(route.rt, route.namespace, route.name).obj["metadata"]
            for field, label in (("resourceVersion", "ResourceVersion"), ("uid", "UID")):
                if pre.get(field) and pre[field] != cur.get(field):
                    raise ApiError(
                        409,
                        "Conflict",
                        f"Precondition failed: {label} in precondition: {pre[field]}, "
                        f"{label} in object meta: {cur.get(field)}",
                        {"name": route.name},
                    )
        propagation = self.query.get("propagationPolicy") or opts.get("propagationPolicy")
        if propagation not in (None, "", "Orphan", "Background", "Foreground"):
            raise bad_request(f'propagationPolicy: Unsupported value: "{propagation}"')
        out = store.delete(route.rt, route.namespace, route.name, dry_run=self._dry_run(opts), propagation=propagation)
        rt = route.rt
        if out["metadata"].get("deletionTimestamp") or rt.crd is not None or (rt.group, rt.plural) in RETURN_DELETED:
            return self._send_json(200, self._shown(route, out))
        details: dict[str, Any] = {"name": route.name}
        if rt.group:
            details["group"] = rt.group
        details.update(kind=rt.plural, uid=out["metadata"].get("uid", ""))
        self._send_json(
            200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
        )

    def _delete_collection(self, route: Route, body: bytes) -> None:
        store = self.server.store
        opts = self._delete_options(body)
        dry = self._dry_run(opts)
        sel = store.select(route.rt, route.namespace, self.query.get("labelSelector"), self.query.get("fieldSelector"))
        items = []
        for e in sel.entries:
            meta = e.obj["metadata"]
            try:
                items.append(store.delete(route.rt, meta.get("namespace"), meta["name"], dry_run=dry))
            except ApiError as err:
                if err.code != 404:
                    raise
        rt = route.rt
        self._send_json(
            200,
            {
                "kind": f"{rt.kind}List",
                "apiVersion": rt.api_version(route.version),
                "metadata": {"resourceVersion": store.resource_version},
                "items": items,
            },
        )


# Registries that answer DELETE with the deleted object; the others answer a Success Status.
RETURN_DELETED = frozenset(
    {("", "pods"), ("", "services"), ("", "namespaces"), ("apiextensions.k8s.io", "customresourcedefinitions")}
)


def _is_client_go(user_agent: str) -> bool:
    """client-go's default User-Agent: `kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07`."""
    return " kubernetes/" in user_agent and "(" in user_agent
