"""The HTTP face of the simulator: a loopback Kubernetes API server on ThreadingHTTPServer.

Routing, auth, faults and response encoding live here; object semantics live in the
store. List bodies are assembled from each object's cached JSON bytes so that listing
100,000 pods costs little more than writing them to the socket.
"""

from __future__ import annotations

import gzip
import hmac
import importlib
import select
import socket
import threading
import time
import zlib
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable, Optional
from urllib.parse import parse_qs, urlsplit

import msgspec

from gputui.sim.faults import Faults
from gputui.sim.resources import ResourceType
from gputui.sim.selectors import SelectorError, labels_match, parse_field_selector, parse_label_selector
from gputui.sim.store import (ApiError, Entry, Store, bad_request, conflict, not_found, now_rfc3339,
                              unsupported_patch)

_encode = msgspec.json.encode
_decode = msgspec.json.decode

SERVER_VERSION = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean", "buildDate": "2025-04-22T16:03:33Z", "goVersion": "go1.23.6", "compiler": "gc",
    "platform": "linux/amd64",
}
USER = "system:serviceaccount:default:gputui"
DISCOVERY_AS = "APIGroupDiscoveryList"
GZIP_MIN_BYTES = 8 * 1024
WRITE_BATCH = 256 * 1024
WATCH_POLL_SECONDS = 1.0
DEFAULT_WATCH_SECONDS = 1800
PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply",
}
# (verbs, response kind override) for each subresource name in ResourceType.subresources.
SUBRESOURCES = {
    "status": (("get", "patch", "update"), None),
    "log": (("get",), None),
    "eviction": (("create",), ("policy", "v1", "Eviction")),
    "binding": (("create",), ("", "v1", "Binding")),
    "scale": (("get", "patch", "update"), ("autoscaling", "v1", "Scale")),
}


def _not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def _optional_module(name: str):
    """A sibling module that may not exist yet; only its own absence is tolerated."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise


# --- discovery documents ---------------------------------------------------------------

def _groups(store: Store) -> dict[str, list[ResourceType]]:
    out: dict[str, list[ResourceType]] = {}
    for rt in sorted(store.types(), key=lambda t: (t.group, t.plural)):
        out.setdefault(rt.group, []).append(rt)
    return out


def _versions(rts: list[ResourceType]) -> list[str]:
    seen: list[str] = []
    for rt in rts:
        for v in (rt.version,) + tuple(x for x in rt.served_versions if x != rt.version):
            if v not in seen:
                seen.append(v)
    return seen


def api_resource_list(store: Store, group: str, version: str) -> Optional[dict]:
    rts = [rt for rt in _groups(store).get(group, []) if version in rt.served_versions]
    if not rts:
        return None
    resources = []
    for rt in rts:
        resources.append({"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                          "kind": rt.kind, "verbs": list(rt.verbs),
                          **({"shortNames": list(rt.short_names)} if rt.short_names else {}),
                          **({"categories": list(rt.categories)} if rt.categories else {})})
        for sub in rt.subresources:
            verbs, kind = SUBRESOURCES.get(sub, (("get",), None))
            item = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                    "kind": kind[2] if kind else rt.kind, "verbs": list(verbs)}
            if kind:
                item["group"], item["version"] = kind[0], kind[1]
            resources.append(item)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def api_group_list(store: Store) -> dict:
    groups = []
    for group, rts in _groups(store).items():
        if not group:
            continue
        versions = _versions(rts)
        groups.append({"name": group, "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                       "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]}})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def aggregated_discovery(store: Store, legacy: bool, api_version: str) -> dict:
    items = []
    for group, rts in _groups(store).items():
        if legacy != (group == ""):
            continue
        versions = []
        for v in _versions(rts):
            resources = []
            for rt in rts:
                if v not in rt.served_versions:
                    continue
                res: dict[str, Any] = {
                    "resource": rt.plural, "responseKind": {"group": rt.group, "version": v, "kind": rt.kind},
                    "scope": "Namespaced" if rt.namespaced else "Cluster", "singularResource": rt.singular,
                    "verbs": list(rt.verbs)}
                if rt.short_names:
                    res["shortNames"] = list(rt.short_names)
                if rt.categories:
                    res["categories"] = list(rt.categories)
                subs = []
                for sub in rt.subresources:
                    verbs, kind = SUBRESOURCES.get(sub, (("get",), None))
                    g, ver, k = kind or (rt.group, v, rt.kind)
                    subs.append({"subresource": sub, "responseKind": {"group": g, "version": ver, "kind": k},
                                 "verbs": list(verbs)})
                if subs:
                    res["subresources"] = subs
                resources.append(res)
            versions.append({"version": v, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}


def _discovery_accept(accept: str) -> Optional[str]:
    """The aggregated discovery version the client asks for first, if any."""
    for part in accept.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in part.split(";")[1:])}
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == DISCOVERY_AS and \
                params.get("v") in ("v2", "v2beta1"):
            return params["v"]
    return None


def _wants_metadata_only(accept: str) -> bool:
    """The metadata-only form clients like the garbage collector and `kubectl delete` ask for."""
    first = accept.split(",")[0]
    return "as=PartialObjectMetadata" in first and "g=meta.k8s.io" in first


def _partial(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def _wants_table(accept: str) -> bool:
    for part in accept.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in part.split(";")[1:])}
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return True
        if part.strip().startswith("application/json") and "as=" not in part:
            return False
    return False


# --- tables ---------------------------------------------------------------------------

def render_table(rt: ResourceType, objects: list[dict], include_object: str) -> dict:
    now = datetime.now(timezone.utc)
    tables = _optional_module("gputui.sim.tables")
    if tables is not None:
        table = tables.render_table(rt, objects, include_object=include_object, now=now)
        return _decode(table) if isinstance(table, (bytes, str)) else table
    # Minimal table until the kubectl-faithful renderer is present.
    rows = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        row: dict[str, Any] = {"cells": [meta.get("name", ""), meta.get("creationTimestamp", "")]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
            "columnDefinitions": [
                {"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0},
                {"name": "Created At", "type": "date", "format": "", "description": "Creation time", "priority": 0}],
            "rows": rows}


# --- server ---------------------------------------------------------------------------

class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store, token: str, faults: Faults):
        super().__init__(address, Handler)
        self.store = store
        self.token = token
        self.faults = faults
        self.stopping = False
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    def track(self, sock: socket.socket, alive: bool) -> None:
        with self._conns_lock:
            (self._conns.add if alive else self._conns.discard)(sock)

    @property
    def open_connections(self) -> int:
        with self._conns_lock:
            return len(self._conns)

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


class _Route:
    __slots__ = ("rt", "version", "namespace", "name", "sub")

    def __init__(self, rt, version, namespace, name, sub):
        self.rt, self.version, self.namespace, self.name, self.sub = rt, version, namespace, name, sub


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimServer
    server_version = "gputui-sim"

    # -- plumbing ---------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

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

    def _send(self, code: int, parts: Iterable[bytes] | bytes, content_type: str = "application/json",
              headers: Optional[dict] = None) -> None:
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
        try:
            url = urlsplit(self.path)
            self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            self.accept = self.headers.get("Accept") or ""
            body = self._read_body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
            faults = self.server.faults
            if faults.latency_ms:
                time.sleep(faults.latency_ms / 1000.0)
            path = url.path.rstrip("/") or "/"
            self._authenticate(path)
            self._dispatch(method, path, body)
        except ApiError as e:
            self._send_error(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug must answer 500, not hang the client
            self._send_error(ApiError(500, "InternalError", f"Internal error occurred: {type(e).__name__}: {e}"))

    def _authenticate(self, path: str) -> None:
        auth = self.headers.get("Authorization") or ""
        if not auth and path in ("/version", "/healthz", "/livez", "/readyz"):
            return  # anonymous may read these, as with the default RBAC
        if not auth and _is_client_go(self.headers.get("User-Agent") or ""):
            # client-go (kubectl, k9s, helm) reads credentials from a kubeconfig only for TLS
            # servers, so over this plain-HTTP loopback it never sends the token it was given.
            return
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token or not hmac.compare_digest(token.encode(), self.server.token.encode()):
            raise ApiError(401, "Unauthorized", "Unauthorized")

    def _dispatch(self, method: str, path: str, body: bytes) -> None:
        store = self.server.store
        if path in ("/healthz", "/livez", "/readyz"):
            return self._send(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version":
            return self._send_json(200, SERVER_VERSION)
        if path.startswith("/openapi/"):
            return self._openapi(path)
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] not in ("api", "apis"):
            raise _not_found_path()
        if method == "GET" and self._discovery(parts):
            return
        route, watch = self._route(parts)
        self._check_access(method, route, watch)
        rt = route.rt
        if rt.group == "authorization.k8s.io" and rt.plural == "selfsubjectaccessreviews":
            if method != "POST" or route.name:
                raise _method_not_allowed()
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
        raise _method_not_allowed()

    def _route(self, parts: list[str]) -> tuple[_Route, bool]:
        store = self.server.store
        if parts[0] == "api":
            if len(parts) < 3:
                raise _not_found_path()
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) < 4:
                raise _not_found_path()
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
            raise _not_found_path()
        rt = store.type_for_resource(group, rest[0])
        if rt is None or version not in rt.served_versions:
            raise _not_found_path()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in rt.subresources:
            raise _not_found_path()
        if rt.namespaced and name is not None and namespace is None and rt.plural != "namespaces":
            raise _not_found_path()
        return _Route(rt, version, namespace, name, sub), watch

    def _verb(self, method: str, route: _Route, watch: bool) -> str:
        if method == "GET":
            if watch or self._flag("watch"):
                return "watch"
            return "get" if route.name else "list"
        return {"POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if route.name else "deletecollection"}.get(method, method.lower())

    def _check_access(self, method: str, route: _Route, watch: bool) -> None:
        rt = route.rt
        faults = self.server.faults
        verb = self._verb(method, route, watch)
        if faults.forbids(rt.plural, rt.group):
            raise forbidden(rt, verb, route.namespace, route.name, route.sub)
        if method == "GET" and not (watch or self._flag("watch")):
            code = faults.fail_read()
            if code == 500:
                raise ApiError(500, "InternalError", "Internal error occurred: etcdserver: request timed out",
                               {"causes": [{"message": "etcdserver: request timed out"}]})
            if code == 503:
                raise ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
        if not route.sub and verb not in rt.verbs:
            raise _method_not_allowed()

    def _flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("true", "1")

    def _manager(self) -> str:
        """The field manager of a write: as given, else the client's name from its User-Agent."""
        return self.query.get("fieldManager") or (self.headers.get("User-Agent") or "unknown").split("/")[0]

    def _dry_run(self, body_options: Optional[dict] = None) -> bool:
        values = [self.query["dryRun"]] if "dryRun" in self.query else []
        if body_options and body_options.get("dryRun"):
            values += list(body_options["dryRun"])
        for v in values:
            if v not in ("All", ""):
                raise bad_request(f'dryRun: Unsupported value: "{v}": supported values: "All"')
        return any(v == "All" for v in values)

    # -- discovery and helpers served outside the resource tree ------------------------

    def _discovery(self, parts: list[str]) -> bool:
        store = self.server.store
        agg = _discovery_accept(self.accept)
        if parts == ["api"]:
            if agg:
                self._send_aggregated(legacy=True, version=agg)
            else:
                host, port = self.server.server_address[:2]
                self._send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{host}:{port}"}]})
            return True
        if parts == ["apis"]:
            if agg:
                self._send_aggregated(legacy=False, version=agg)
            else:
                self._send_json(200, api_group_list(store))
            return True
        if parts[0] == "api" and len(parts) == 2 or parts[0] == "apis" and len(parts) == 3:
            group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
            doc = api_resource_list(store, group, version)
            if doc is None:
                raise _not_found_path()
            self._send_json(200, doc)
            return True
        if parts[0] == "apis" and len(parts) == 2:
            for g in api_group_list(store)["groups"]:
                if g["name"] == parts[1]:
                    self._send_json(200, {"kind": "APIGroup", "apiVersion": "v1", **g})
                    return True
            raise _not_found_path()
        return False

    def _send_aggregated(self, legacy: bool, version: str) -> None:
        doc = aggregated_discovery(self.server.store, legacy, f"apidiscovery.k8s.io/{version}")
        self._send(200, _encode(doc),
                   f"application/json;g=apidiscovery.k8s.io;v={version};as={DISCOVERY_AS}", {"Vary": "Accept"})

    def _openapi(self, path: str) -> None:
        openapi = _optional_module("gputui.sim.openapi")
        if openapi is None or not path.startswith("/openapi/v3"):
            raise _not_found_path()
        store = self.server.store
        if path.rstrip("/") == "/openapi/v3":
            doc = openapi.v3_index(store)
        else:
            doc = openapi.v3_document(store, path[len("/openapi/v3/"):])
        if doc is None:
            raise _not_found_path()
        self._send(200, doc if isinstance(doc, bytes) else _encode(doc), "application/json")

    def _access_review(self, body: bytes) -> None:
        ctype = self.headers.get("Content-Type") or ""
        if "protobuf" in ctype:
            proto = _optional_module("gputui.sim.protobuf")
            if proto is None:
                raise unsupported_media(ctype)
            review = proto.decode_self_subject_access_review(body)
        else:
            review = _parse_json(body)
        attrs = (review.get("spec") or {}).get("resourceAttributes")
        allowed = True
        if attrs:
            allowed = not self.server.faults.forbids(attrs.get("resource", ""), attrs.get("group", ""))
        review.setdefault("apiVersion", "authorization.k8s.io/v1")
        review.setdefault("kind", "SelfSubjectAccessReview")
        review.setdefault("metadata", {})
        review["metadata"].setdefault("creationTimestamp", None)
        # RBAC denies without a reason; kubectl would print any reason after "no - ".
        review["status"] = {"allowed": allowed}
        self._send_json(201, review)

    # -- reads -------------------------------------------------------------------------

    def _raw(self, route: _Route, entry: Entry) -> bytes:
        if route.version == route.rt.version:
            return entry.raw
        obj = dict(entry.obj)
        obj["apiVersion"] = route.rt.api_version(route.version)
        return _encode(obj)

    def _shown(self, route: _Route, obj: dict) -> dict:
        if route.version != route.rt.version:
            obj["apiVersion"] = route.rt.api_version(route.version)
        return obj

    def _get(self, route: _Route) -> None:
        store = self.server.store
        entry = store.entry(route.rt, route.namespace, route.name)
        if _wants_table(self.accept):
            table = render_table(route.rt, [_decode(self._raw(route, entry))], self.query.get("includeObject") or "Metadata")
            table.setdefault("metadata", {})["resourceVersion"] = entry.obj["metadata"].get("resourceVersion", "")
            return self._send_json(200, table, "application/json;as=Table;v=v1;g=meta.k8s.io")
        if _wants_metadata_only(self.accept):
            return self._send_json(200, _partial(entry.obj),
                                   "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io")
        self._send(200, self._raw(route, entry))

    def _list(self, route: _Route) -> None:
        store = self.server.store
        limit = self._int_param("limit")
        token = self.query.get("continue") or None
        if token and self.server.faults.expire_continue:
            raise ApiError(410, "Expired", CONTINUE_EXPIRED_MESSAGE)
        sel = store.select(route.rt, route.namespace, self.query.get("labelSelector"),
                           self.query.get("fieldSelector"), limit, token)
        meta: dict[str, Any] = {"resourceVersion": sel.resource_version}
        if sel.continue_token:
            meta["continue"] = sel.continue_token
            if sel.remaining is not None:
                meta["remainingItemCount"] = sel.remaining
        rt = route.rt
        if _wants_table(self.accept):
            objs = [_decode(self._raw(route, e)) for e in sel.entries]
            table = render_table(rt, objs, self.query.get("includeObject") or "Metadata")
            table["metadata"] = {**(table.get("metadata") or {}), **meta}
            return self._send_json(200, table, "application/json;as=Table;v=v1;g=meta.k8s.io")
        if _wants_metadata_only(self.accept):
            return self._send_json(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                                         "metadata": meta, "items": [_partial(e.obj) for e in sel.entries]},
                                   "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io")
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

    def _int_param(self, name: str) -> Optional[int]:
        value = self.query.get(name)
        if value in (None, ""):
            return None
        try:
            n = int(value)
        except ValueError:
            raise bad_request(f'invalid value for {name}: "{value}"')
        return n if n > 0 else None

    # -- watch -------------------------------------------------------------------------

    def _watch(self, route: _Route) -> None:
        store = self.server.store
        rt = route.rt
        try:
            by_label = parse_label_selector(self.query.get("labelSelector"))
            by_field = parse_field_selector(self.query.get("fieldSelector"))
        except SelectorError as e:
            raise bad_request(str(e))
        ns = route.namespace if rt.namespaced else None
        name = route.name

        def matches(obj: dict) -> bool:
            meta = obj.get("metadata") or {}
            if ns is not None and meta.get("namespace") != ns:
                return False
            if name is not None and meta.get("name") != name:
                return False
            return (by_label is None or by_label(obj)) and (by_field is None or by_field(obj))

        timeout = self._int_param("timeoutSeconds") or DEFAULT_WATCH_SECONDS
        deadline = time.monotonic() + timeout
        table = _wants_table(self.accept)
        include = self.query.get("includeObject") or "Metadata"
        rv_param = self.query.get("resourceVersion") or "0"
        initial_end = self._flag("sendInitialEvents")
        initial: list[Entry] = []
        try:
            if rv_param == "0" or initial_end:
                sel = store.select(rt, ns, self.query.get("labelSelector"), self.query.get("fieldSelector"))
                initial = [e for e in sel.entries if matches(e.obj)]
                since = int(sel.resource_version)
            else:
                try:
                    since = int(rv_param)
                except ValueError:
                    raise bad_request(f'invalid resource version: "{rv_param}"')
                store.check_watch_from(since)
        except ApiError as e:
            if e.code != 410:
                raise
            self._start_stream(table)
            self._chunk(_encode({"type": "ERROR", "object": e.status()}) + b"\n")
            return self._end_stream()
        self._start_stream(table)
        for e in initial:
            self._chunk(self._event_line(route, "ADDED", e, table, include))
        if initial_end:
            # Watch-list clients wait for this bookmark to know the initial state is complete.
            mark = {"kind": rt.kind, "apiVersion": rt.api_version(route.version),
                    "metadata": {"resourceVersion": str(since),
                                 "annotations": {"k8s.io/initial-events-end": "true"}}}
            self._chunk(_encode({"type": "BOOKMARK", "object": mark}) + b"\n")
        while not self.server.stopping and time.monotonic() < deadline and not self._client_gone():
            try:
                events = store.events_after(since, min(WATCH_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            except ApiError as e:
                self._chunk(_encode({"type": "ERROR", "object": e.status()}) + b"\n")
                break
            for ev in events:
                since = ev.rv
                if ev.rt.key != rt.key:
                    continue
                now_in = matches(ev.entry.obj)
                was_in = ev.old is not None and matches(ev.old.obj)
                kind = ev.type
                if kind == "MODIFIED":
                    if now_in and not was_in:
                        kind = "ADDED"
                    elif was_in and not now_in:
                        kind = "DELETED"
                    elif not now_in:
                        continue
                elif not now_in:
                    continue
                self._chunk(self._event_line(route, kind, ev.entry, table, include))
            if store.closed:
                break
        self._end_stream()

    def _client_gone(self) -> bool:
        """A watcher that hung up shows as a readable socket with nothing to read."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _event_line(self, route: _Route, kind: str, entry: Entry, table: bool, include: str) -> bytes:
        if table:
            obj = render_table(route.rt, [_decode(self._raw(route, entry))], include)
            obj.setdefault("metadata", {})["resourceVersion"] = entry.obj["metadata"].get("resourceVersion", "")
            return _encode({"type": kind, "object": obj}) + b"\n"
        return b'{"type":"' + kind.encode() + b'","object":' + self._raw(route, entry) + b"}\n"

    def _start_stream(self, table: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json;as=Table;v=v1;g=meta.k8s.io" if table else "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    # -- writes ------------------------------------------------------------------------

    def _body_object(self, route: _Route, body: bytes) -> dict:
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if ctype == "application/vnd.kubernetes.protobuf":
            # kubectl create <generator> posts built-in objects as protobuf.
            proto = _optional_module("gputui.sim.protobuf")
            if proto is None or not hasattr(proto, "decode_object"):
                raise unsupported_body(ctype)
            try:
                obj = proto.decode_object(body)
            except ValueError:  # a kind the decoder does not know
                raise unsupported_body(ctype) from None
        elif ctype in ("application/yaml", "application/apply-patch+yaml"):
            obj = _parse_yaml(body)
        elif ctype in ("application/json", "*/*", ""):
            obj = _parse_json(body)
        else:
            raise unsupported_body(ctype)
        if not isinstance(obj, dict):
            raise bad_request("the body of the request was not a JSON object")
        rt = route.rt
        expected = rt.api_version(route.version)
        if obj.get("apiVersion") and obj["apiVersion"] != expected:
            raise bad_request(f"the API version in the data ({obj['apiVersion']}) does not match the expected API "
                              f"version ({expected})")
        if obj.get("kind") and obj["kind"] != rt.kind:
            raise bad_request(f"the kind in the data ({obj['kind']}) does not match the expected kind ({rt.kind})")
        obj["apiVersion"], obj["kind"] = rt.api_version(), rt.kind
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            if meta.get("namespace") and route.namespace and meta["namespace"] != route.namespace:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the "
                                  "request")
            meta["namespace"] = route.namespace or meta.get("namespace") or "default"
        return obj

    def _create(self, route: _Route, body: bytes) -> None:
        store = self.server.store
        obj = self._body_object(route, body)
        rt = route.rt
        if rt.namespaced:
            ns_type = store.type_for_resource("", "namespaces")
            ns = obj["metadata"]["namespace"]
            if ns_type is not None:
                try:
                    store.entry(ns_type, None, ns)
                except ApiError:
                    raise not_found(ns_type, ns)
        out = store.create(obj, dry_run=self._dry_run(), field_manager=self._manager())
        self._send_json(201, self._shown(route, out))

    def _update(self, route: _Route, body: bytes, sub: Optional[str]) -> None:
        obj = self._body_object(route, body)
        name = obj["metadata"].get("name")
        if name and name != route.name:
            raise bad_request(f"the name of the object ({name}) does not match the name on the URL ({route.name})")
        obj["metadata"]["name"] = route.name
        out = self.server.store.update(obj, dry_run=self._dry_run(), subresource=sub, field_manager=self._manager())
        self._send_json(200, self._shown(route, out))

    def _patch(self, route: _Route, body: bytes, sub: Optional[str]) -> None:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        kind = PATCH_TYPES.get(ctype)
        if kind is None:
            raise unsupported_media(ctype) if route.rt.crd is None else unsupported_patch()
        existed = True
        if kind == "apply":
            try:
                self.server.store.entry(route.rt, route.namespace, route.name)
            except ApiError:
                existed = False
        manager = self.query.get("fieldManager") if kind == "apply" else self._manager()
        out = self.server.store.patch(route.rt, route.namespace, route.name, kind, body, dry_run=self._dry_run(),
                                      subresource=sub, field_manager=manager,
                                      force=self._flag("force"))
        self._send_json(200 if existed else 201, self._shown(route, out))

    def _delete_options(self, body: bytes) -> dict:
        if not body.strip():
            return {}
        opts = _parse_json(body)
        return opts if isinstance(opts, dict) else {}

    def _delete(self, route: _Route, body: bytes) -> None:
        store = self.server.store
        opts = self._delete_options(body)
        pre = opts.get("preconditions") or {}
        if pre:
            cur = store.entry(route.rt, route.namespace, route.name).obj["metadata"]
            for field, label in (("resourceVersion", "ResourceVersion"), ("uid", "UID")):
                if pre.get(field) and pre[field] != cur.get(field):
                    raise ApiError(409, "Conflict", f"Precondition failed: {label} in precondition: {pre[field]}, "
                                   f"{label} in object meta: {cur.get(field)}", {"name": route.name})
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
        self._send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "details": details})

    def _delete_collection(self, route: _Route, body: bytes) -> None:
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
        self._send_json(200, {"kind": f"{rt.kind}List", "apiVersion": rt.api_version(route.version),
                              "metadata": {"resourceVersion": store.resource_version}, "items": items})

    # -- subresources ------------------------------------------------------------------

    def _subresource(self, method: str, route: _Route, body: bytes) -> None:
        sub = route.sub
        verbs, _ = SUBRESOURCES.get(sub, (("get",), None))
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "POST": "create"}.get(method)
        if verb not in verbs:
            raise _method_not_allowed()
        if sub == "status":
            if method == "GET":
                return self._get(route)
            if method == "PUT":
                return self._update(route, body, "status")
            return self._patch(route, body, "status")
        if sub == "log":
            return self._log(route)
        if sub == "eviction":
            return self._evict(route, body)
        if sub == "binding":
            return self._bind(route, body)
        if sub == "scale":
            return self._scale(method, route, body)
        raise _not_found_path()

    def _log(self, route: _Route) -> None:
        store = self.server.store
        pod = store.entry(route.rt, route.namespace, route.name).obj
        spec = pod.get("spec") or {}
        names = [c.get("name") for c in spec.get("containers") or []]
        init_names = [c.get("name") for c in spec.get("initContainers") or []]
        container = self.query.get("container")
        pod_name = route.name
        if not container:
            if len(names) != 1:
                msg = f"a container name must be specified for pod {pod_name}, choose one of: [{' '.join(names)}]"
                if init_names:
                    msg += f" or one of the init containers: [{' '.join(init_names)}]"
                raise bad_request(msg)
            container = names[0]
        elif container not in names + init_names + [c.get("name") for c in spec.get("ephemeralContainers") or []]:
            raise bad_request(f"container {container} is not valid for pod {pod_name}")
        previous = self._flag("previous")
        ns = pod["metadata"].get("namespace", "default")
        text = store.get_log(ns, pod_name, container, previous=previous)
        if previous and text is None:
            raise bad_request(f'previous terminated container "{container}" in pod "{pod_name}" not found')
        if text is None:
            status = pod.get("status") or {}
            for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
                waiting = (cs.get("state") or {}).get("waiting")
                if cs.get("name") == container and waiting is not None:
                    raise bad_request(f'container "{container}" in pod "{pod_name}" is waiting to start: '
                                      f'{waiting.get("reason") or "ContainerCreating"}')
            text = ""
        tail = self.query.get("tailLines")
        if tail not in (None, ""):
            try:
                n = int(tail)
            except ValueError:
                raise bad_request(f'invalid value for tailLines: "{tail}"')
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-n:]) if n > 0 else ""
        data = text.encode()
        limit = self._int_param("limitBytes")
        if limit:
            data = data[:limit]
        self._send(200, data, "text/plain")

    def _evict(self, route: _Route, body: bytes) -> None:
        store = self.server.store
        pod = store.entry(route.rt, route.namespace, route.name).obj
        opts = (_parse_json(body) or {}).get("deleteOptions") if body.strip() else None
        dry = self._dry_run(opts or {})
        pdb_type = store.type_for_resource("policy", "poddisruptionbudgets")
        if pdb_type is not None and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            labels = pod["metadata"].get("labels") or {}
            for pdb in store.select(pdb_type, pod["metadata"].get("namespace")).entries:
                spec, status = pdb.obj.get("spec") or {}, pdb.obj.get("status") or {}
                if spec.get("selector") is not None and labels_match(spec["selector"], labels) and \
                        int(status.get("disruptionsAllowed", 0) or 0) <= 0:
                    name = pdb.obj["metadata"]["name"]
                    raise ApiError(429, "TooManyRequests",
                                   "Cannot evict pod as it would violate the pod's disruption budget.",
                                   {"causes": [{"reason": "DisruptionBudget", "message": (
                                       f"The disruption budget {name} needs {status.get('desiredHealthy', 0)} "
                                       f"healthy pods and has {status.get('currentHealthy', 0)} currently")}]})
        store.delete(route.rt, route.namespace, route.name, dry_run=dry)
        self._send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "code": 201})

    def _bind(self, route: _Route, body: bytes) -> None:
        store = self.server.store
        binding = _parse_json(body)
        target = (binding.get("target") or {}).get("name") if isinstance(binding, dict) else None
        if not target:
            raise bad_request("target.name: Required value")
        pod = store.get(route.rt, route.namespace, route.name)
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on pods/binding "{route.name}": pod '
                           f'{route.name} is already assigned to node "{node}"', {"name": route.name, "kind": "pods/binding"})
        if not self._dry_run():
            store.patch(route.rt, route.namespace, route.name, "merge", {"spec": {"nodeName": target}})
        self._send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "code": 201})

    def _scale(self, method: str, route: _Route, body: bytes) -> None:
        store = self.server.store
        obj = store.get(route.rt, route.namespace, route.name)
        scale = _scale_of(obj)
        if method == "GET":
            return self._send_json(200, scale)
        if method == "PUT":
            new = _parse_json(body)
        else:
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            kind = PATCH_TYPES.get(ctype)
            if kind is None:
                raise unsupported_media(ctype)
            from gputui.sim import patch as patches
            doc = _parse_json(body) if kind != "apply" else _parse_yaml(body)
            try:
                new = patches.json_patch(scale, doc) if kind == "json" else patches.merge_patch(scale, doc)
            except patches.PatchError as e:
                raise ApiError(422, "Invalid", e.message)
        rv = ((new or {}).get("metadata") or {}).get("resourceVersion")
        if rv and rv != obj["metadata"]["resourceVersion"]:
            raise conflict(route.rt, route.name)
        replicas = ((new or {}).get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError(422, "Invalid", f'Scale.autoscaling "{route.name}" is invalid: spec.replicas: Invalid '
                           f"value: {replicas}: must be greater than or equal to 0")
        out = store.patch(route.rt, route.namespace, route.name, "merge", {"spec": {"replicas": replicas}},
                          dry_run=self._dry_run())
        self._send_json(200, _scale_of(out))


def _scale_of(obj: dict) -> dict:
    meta = obj["metadata"]
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in selector.items())}}


# Registries that answer DELETE with the deleted object; the others answer a Success Status.
RETURN_DELETED = frozenset({("", "pods"), ("", "services"), ("", "namespaces"),
                            ("apiextensions.k8s.io", "customresourcedefinitions")})

CONTINUE_EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue token in this response to retry with the next key.")


def forbidden(rt: ResourceType, verb: str, namespace: Optional[str], name: Optional[str],
              sub: Optional[str] = None) -> ApiError:
    who = f'{rt.resource_name} "{name}"' if name else rt.resource_name
    resource = f"{rt.plural}/{sub}" if sub else rt.plural
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    return ApiError(403, "Forbidden", f'{who} is forbidden: User "{USER}" cannot {verb} resource "{resource}" in API '
                    f'group "{rt.group}" {where}', details)


def unsupported_media(ctype: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media '
                    f"types include: application/json-patch+json, application/merge-patch+json, "
                    f"application/apply-patch+yaml, application/strategic-merge-patch+json")


def unsupported_body(ctype: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media '
                    f"types include: application/json, application/yaml")


def _is_client_go(user_agent: str) -> bool:
    """client-go's default User-Agent: `kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07`."""
    return " kubernetes/" in user_agent and "(" in user_agent


def _method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def _parse_json(body: bytes) -> Any:
    try:
        return _decode(body) if body.strip() else {}
    except msgspec.DecodeError as e:
        raise bad_request(f"error decoding request body: {e}")


def _parse_yaml(body: bytes) -> Any:
    import yaml

    try:
        return yaml.load(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise bad_request(f"error decoding YAML: {e}")
