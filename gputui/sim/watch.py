"""Watch streams, mixed into the request handler: the initial events, then every change
that matches the selectors, as chunked JSON lines (or Table rows) until the timeout, the
client hanging up or the server stopping."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from gputui.sim import media
from gputui.sim.selectors import SelectorError, parse_field_selector, parse_label_selector
from gputui.sim.statuses import ApiError, bad_request, expired
from gputui.sim.store import Entry

if TYPE_CHECKING:
    from gputui.sim.server import Route

_encode = msgspec.json.encode
_decode = msgspec.json.decode

WATCH_POLL_SECONDS = 1.0
BOOKMARK_SECONDS = 30.0
DEFAULT_WATCH_SECONDS = 1800


class WatchHandlers:
    """Uses the handler's server, query, accept, connection, wfile and its _int_param/_flag/_raw."""

    if TYPE_CHECKING:
        # A mixin of the request handler: what it uses of the handler is typed there.
        def __getattr__(self, name: str) -> Any: ...

    def _watch(self, route: Route) -> None:
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
        table = media.wants_table(self.accept)
        include = self.query.get("includeObject") or "Metadata"
        rv_param = self.query.get("resourceVersion") or "0"
        initial_end = self._flag("sendInitialEvents")
        initial: list[Entry] = []
        epoch = self.server.watch_epoch
        try:
            if rv_param != "0" and not initial_end and self.server.faults.take_expired_watch():
                raise expired(f"too old resource version: {rv_param} ({store.resource_version})")
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
        resource = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
        self.server.watches_opened[resource] += 1
        self.server.watches_open[resource] += 1
        try:
            self._stream_events(route, table, include, initial, initial_end, since, epoch, deadline, matches)
        finally:
            self.server.watches_open[resource] -= 1

    def _stream_events(
        self,
        route: Route,
        table: bool,
        include: str,
        initial: list[Entry],
        initial_end: bool,
        since: int,
        epoch: int,
        deadline: float,
        matches: Callable[[dict], bool],
    ) -> None:
        store = self.server.store
        rt = route.rt
        bookmarks = self._flag("allowWatchBookmarks")
        bookmark_every = float(getattr(self.server, "bookmark_seconds", BOOKMARK_SECONDS))
        for entry in initial:
            self._chunk(self._event_line(route, "ADDED", entry, table, include))
        if initial_end:
            self._bookmark(route, since, initial_end=True)
        last_bookmark = time.monotonic()
        while (
            not self.server.stopping
            and epoch == self.server.watch_epoch
            and time.monotonic() < deadline
            and not self._client_gone()
        ):
            if bookmarks and time.monotonic() - last_bookmark >= bookmark_every:
                # Where the watch has got to, even when nothing of its kind changed: a client
                # that reconnects resumes from here instead of an old version that may be gone.
                self._bookmark(route, since)
                last_bookmark = time.monotonic()
            try:
                wait = min(WATCH_POLL_SECONDS, bookmark_every) if bookmarks else WATCH_POLL_SECONDS
                events = store.events_after(since, min(wait, max(0.0, deadline - time.monotonic())))
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

    def _bookmark(self, route: Route, resource_version: int, initial_end: bool = False) -> None:
        meta: dict[str, Any] = {"resourceVersion": str(resource_version)}
        if initial_end:
            # Watch-list clients wait for this bookmark to know the initial state is complete.
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        mark = {"kind": route.rt.kind, "apiVersion": route.rt.api_version(route.version), "metadata": meta}
        self._chunk(_encode({"type": "BOOKMARK", "object": mark}) + b"\n")

    def _client_gone(self) -> bool:
        """A watcher that hung up shows as a readable socket with nothing to read."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _event_line(self, route: Route, kind: str, entry: Entry, table: bool, include: str) -> bytes:
        if table:
            obj = media.render_table(route.rt, [_decode(self._raw(route, entry))], include)
            obj.setdefault("metadata", {})["resourceVersion"] = entry.obj["metadata"].get("resourceVersion", "")
            return _encode({"type": kind, "object": obj}) + b"\n"
        return b'{"type":"' + kind.encode() + b'","object":' + self._raw(route, entry) + b"}\n"

    def _start_stream(self, table: bool) -> None:
        self.streaming = True
        self.send_response(200)
        self.send_header(
            "Content-Type", "application/json;as=Table;v=v1;g=meta.k8s.io" if table else "application/json"
        )
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
