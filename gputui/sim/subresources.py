"""Subresources with behaviour of their own (pods/log, pods/eviction, pods/binding, */scale)
and SelfSubjectAccessReview, mixed into the request handler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from checks.k8s import match_label_selector
from gputui.kube import patch as patches
from gputui.sim import protobuf
from gputui.sim.discovery import SUBRESOURCES
from gputui.sim.media import PATCH_TYPES, parse_json, parse_yaml
from gputui.sim.rbac import Attributes
from gputui.sim.statuses import ApiError, bad_request, conflict, method_not_allowed, not_found_path, unsupported_media

if TYPE_CHECKING:
    from gputui.sim.server import Route


class SubresourceHandlers:
    """Uses the handler's server, query, headers and its _send_json/_get/_update/_patch/_dry_run/_flag/_int_param."""

    if TYPE_CHECKING:
        # A mixin of the request handler: what it uses of the handler is typed there.
        def __getattr__(self, name: str) -> Any: ...

    def _access_review(self, body: bytes) -> None:
        ctype = self.headers.get("Content-Type") or ""
        if "protobuf" in ctype:
            review = protobuf.decode_self_subject_access_review(body)
        else:
            review = parse_json(body)
        attrs = (review.get("spec") or {}).get("resourceAttributes")
        allowed = True
        if attrs:
            allowed = not self.server.faults.forbids(attrs.get("resource", ""), attrs.get("group", ""))
            allowed = allowed and self.server.authorizer.allowed(
                self.identity,
                Attributes(
                    attrs.get("verb", ""),
                    attrs.get("group", ""),
                    attrs.get("resource", ""),
                    attrs.get("subresource", ""),
                    attrs.get("namespace", ""),
                    attrs.get("name", ""),
                ),
            )
        review.setdefault("apiVersion", "authorization.k8s.io/v1")
        review.setdefault("kind", "SelfSubjectAccessReview")
        review.setdefault("metadata", {})
        review["metadata"].setdefault("creationTimestamp", None)
        # RBAC denies without a reason; kubectl would print any reason after "no - ".
        review["status"] = {"allowed": allowed}
        self._send_json(201, review)

    def _subresource(self, method: str, route: Route, body: bytes) -> None:
        sub = route.sub
        verbs, _ = SUBRESOURCES.get(sub, (("get",), None))
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "POST": "create"}.get(method)
        if verb not in verbs:
            raise method_not_allowed()
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
        raise not_found_path()

    def _log(self, route: Route) -> None:
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
                    raise bad_request(
                        f'container "{container}" in pod "{pod_name}" is waiting to start: '
                        f"{waiting.get('reason') or 'ContainerCreating'}"
                    )
            text = ""
        tail = self.query.get("tailLines")
        if tail not in (None, ""):
            try:
                n = int(tail)
            except ValueError:
                raise bad_request(f'invalid value for tailLines: "{tail}"')
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-n:]) if n > 0 else ""
        if self._flag("timestamps"):
            # The kubelet prefixes each line with when it was written; here they share the pod's start.
            stamp = (pod.get("status") or {}).get("startTime") or pod["metadata"].get("creationTimestamp") or ""
            text = "".join(f"{stamp} {line}" for line in text.splitlines(keepends=True))
        data = text.encode()
        limit = self._int_param("limitBytes")
        if limit:
            data = data[:limit]
        self._send(200, data, "text/plain")

    def _evict(self, route: Route, body: bytes) -> None:
        store = self.server.store
        pod = store.entry(route.rt, route.namespace, route.name).obj
        opts = (parse_json(body) or {}).get("deleteOptions") if body.strip() else None
        dry = self._dry_run(opts or {})
        pdb_type = store.type_for_resource("policy", "poddisruptionbudgets")
        budgets = []
        if pdb_type is not None and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            labels = pod["metadata"].get("labels") or {}
            for pdb in store.select(pdb_type, pod["metadata"].get("namespace")).entries:
                spec, status = pdb.obj.get("spec") or {}, pdb.obj.get("status") or {}
                if spec.get("selector") is None or not match_label_selector(spec["selector"], labels or {}):
                    continue
                allowed = int(status.get("disruptionsAllowed", 0) or 0)
                if allowed <= 0:
                    name = pdb.obj["metadata"]["name"]
                    raise ApiError(
                        429,
                        "TooManyRequests",
                        "Cannot evict pod as it would violate the pod's disruption budget.",
                        {
                            "causes": [
                                {
                                    "reason": "DisruptionBudget",
                                    "message": (
                                        f"The disruption budget {name} needs {status.get('desiredHealthy', 0)} "
                                        f"healthy pods and has {status.get('currentHealthy', 0)} currently"
                                    ),
                                }
                            ]
                        },
                    )
                budgets.append((pdb.obj["metadata"]["name"], allowed))
        store.delete(route.rt, route.namespace, route.name, dry_run=dry)
        if not dry:
            # The eviction spends the budget at once, so a drain cannot evict past it.
            for name, allowed in budgets:
                store.patch(
                    pdb_type,
                    route.namespace,
                    name,
                    "merge",
                    {"status": {"disruptionsAllowed": allowed - 1}},
                    subresource="status",
                )
        self._send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})

    def _bind(self, route: Route, body: bytes) -> None:
        store = self.server.store
        binding = parse_json(body)
        target = (binding.get("target") or {}).get("name") if isinstance(binding, dict) else None
        if not target:
            raise bad_request("target.name: Required value")
        pod = store.get(route.rt, route.namespace, route.name)
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on pods/binding "{route.name}": pod '
                f'{route.name} is already assigned to node "{node}"',
                {"name": route.name, "kind": "pods/binding"},
            )
        if not self._dry_run():
            store.patch(route.rt, route.namespace, route.name, "merge", {"spec": {"nodeName": target}})
        self._send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})

    def _scale(self, method: str, route: Route, body: bytes) -> None:
        store = self.server.store
        obj = store.get(route.rt, route.namespace, route.name)
        scale = _scale_of(obj)
        if method == "GET":
            return self._send_json(200, scale)
        if method == "PUT":
            new = parse_json(body)
        else:
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            kind = PATCH_TYPES.get(ctype)
            if kind is None:
                raise unsupported_media(ctype)
            doc = parse_json(body) if kind != "apply" else parse_yaml(body)
            try:
                new = patches.json_patch(scale, doc) if kind == "json" else patches.merge_patch(scale, doc)
            except patches.PatchError as e:
                raise ApiError(422, "Invalid", e.message)
        rv = ((new or {}).get("metadata") or {}).get("resourceVersion")
        if rv and rv != obj["metadata"]["resourceVersion"]:
            raise conflict(route.rt, route.name)
        replicas = ((new or {}).get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError(
                422,
                "Invalid",
                f'Scale.autoscaling "{route.name}" is invalid: spec.replicas: Invalid '
                f"value: {replicas}: must be greater than or equal to 0",
            )
        out = store.patch(
            route.rt, route.namespace, route.name, "merge", {"spec": {"replicas": replicas}}, dry_run=self._dry_run()
        )
        self._send_json(200, _scale_of(out))


def _scale_of(obj: dict) -> dict:
    meta = obj["metadata"]
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in selector.items()),
        },
    }
