"""Discovery documents derived from the types registered in the store: legacy
(APIVersions, APIGroupList, APIResourceList) and aggregated (apidiscovery.k8s.io v2/v2beta1)."""

from __future__ import annotations

from typing import Any

from gputui.sim.resources import ResourceType
from gputui.sim.store import Store

DISCOVERY_AS = "APIGroupDiscoveryList"


# (verbs, response kind override) for each subresource name in ResourceType.subresources.
SUBRESOURCES = {
    "status": (("get", "patch", "update"), None),
    "log": (("get",), None),
    "eviction": (("create",), ("policy", "v1", "Eviction")),
    "binding": (("create",), ("", "v1", "Binding")),
    "scale": (("get", "patch", "update"), ("autoscaling", "v1", "Scale")),
}


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


def api_resource_list(store: Store, group: str, version: str) -> dict | None:
    rts = [rt for rt in _groups(store).get(group, []) if version in rt.served_versions]
    if not rts:
        return None
    resources = []
    for rt in rts:
        resources.append(
            {
                "name": rt.plural,
                "singularName": rt.singular,
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": list(rt.verbs),
                **({"shortNames": list(rt.short_names)} if rt.short_names else {}),
                **({"categories": list(rt.categories)} if rt.categories else {}),
            }
        )
        for sub in rt.subresources:
            verbs, kind = SUBRESOURCES.get(sub, (("get",), None))
            item = {
                "name": f"{rt.plural}/{sub}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": kind[2] if kind else rt.kind,
                "verbs": list(verbs),
            }
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
        groups.append(
            {
                "name": group,
                "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
            }
        )
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
                    "resource": rt.plural,
                    "responseKind": {"group": rt.group, "version": v, "kind": rt.kind},
                    "scope": "Namespaced" if rt.namespaced else "Cluster",
                    "singularResource": rt.singular,
                    "verbs": list(rt.verbs),
                }
                if rt.short_names:
                    res["shortNames"] = list(rt.short_names)
                if rt.categories:
                    res["categories"] = list(rt.categories)
                subs = []
                for sub in rt.subresources:
                    verbs, kind = SUBRESOURCES.get(sub, (("get",), None))
                    g, ver, k = kind or (rt.group, v, rt.kind)
                    subs.append(
                        {
                            "subresource": sub,
                            "responseKind": {"group": g, "version": ver, "kind": k},
                            "verbs": list(verbs),
                        }
                    )
                if subs:
                    res["subresources"] = subs
                resources.append(res)
            versions.append({"version": v, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}


def requested_version(accept: str) -> str | None:
    """The aggregated discovery version the client asks for first, if any."""
    for part in accept.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in part.split(";")[1:])}
        if (
            params.get("g") == "apidiscovery.k8s.io"
            and params.get("as") == DISCOVERY_AS
            and params.get("v") in ("v2", "v2beta1")
        ):
            return params["v"]
    return None
