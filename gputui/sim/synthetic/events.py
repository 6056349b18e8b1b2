"""Events for the generated objects: kubelet and scheduler events, FailedScheduling for the
Pending GPU pods.
"""

from __future__ import annotations

from typing import Any

from gputui.sim.synthetic.plan import _Gen
from gputui.sim.synthetic.pods import _NO_NODES, _PodRef

# -- events ------------------------------------------------------------------------------------


def _events(g: _Gen, pending: list[_PodRef]) -> None:
    budget = g.spec.events
    node_uids = (
        {o["metadata"]["name"]: o["metadata"]["uid"] for o in g.out[-3 * len(g.nodes) - 1 :] if o.get("kind") == "Node"}
        if g.nodes
        else {}
    )
    serial = 0

    def add(
        ns: str,
        io: dict[str, Any],
        reason: str,
        message: str,
        when: str,
        *,
        type_: str = "Normal",
        component: str = "kubelet",
        host: str = "",
        count: int = 1,
        first: str | None = None,
        event_time: bool = False,
    ) -> None:
        nonlocal serial
        serial += 1
        ev: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{io['name']}.{g.hexid(16)}",
                "namespace": ns,
                "uid": g.uid(),
                "creationTimestamp": first or when,
            },
            "involvedObject": io,
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": component, **({"host": host} if host else {})},
            "reportingComponent": component,
            "reportingInstance": host,
        }
        if event_time:  # written through events.k8s.io, as the scheduler does
            ev.update(
                eventTime=when.replace("Z", ".000000Z"),
                action="Binding",
                firstTimestamp=None,
                lastTimestamp=None,
                reportingInstance=f"{component}-{g.hexid(8)}",
            )
        else:
            ev.update(firstTimestamp=first or when, lastTimestamp=when, count=count)
        g.out.append(ev)

    def pod_ref(p: _PodRef, field: str | None = None) -> dict[str, Any]:
        ref = {"kind": "Pod", "namespace": p.ns, "name": p.name, "uid": p.uid, "apiVersion": "v1"}
        if field:
            ref["fieldPath"] = field
        return ref

    for p in pending[:budget]:
        add(
            p.ns,
            pod_ref(p),
            "FailedScheduling",
            p.message,
            g.ts(g.rng.uniform(5, 120)),
            type_="Warning",
            component="default-scheduler",
            count=g.rng.randint(5, 80),
            first=p.created,
        )
    left = budget - min(budget, len(pending))
    running, nodes, claims = g.running, g.nodes, g.claims
    for _ in range(left):
        roll = g.rng.random()
        if running and (roll < 0.6 or not nodes):
            p = g.rng.choice(running)
            what = g.rng.random()
            field = "spec.containers{main}"
            if what < 0.2:
                add(
                    p.ns,
                    pod_ref(p),
                    "Scheduled",
                    f"Successfully assigned {p.ns}/{p.name} to {p.node}",
                    p.created,
                    component="default-scheduler",
                    event_time=True,
                )
            elif what < 0.4:
                add(
                    p.ns,
                    pod_ref(p, field),
                    "Pulled",
                    f'Container image "{p.image}" already present on machine',
                    p.created,
                    host=p.node or "",
                )
            elif what < 0.6:
                add(p.ns, pod_ref(p, field), "Created", "Created container: main", p.created, host=p.node or "")
            elif what < 0.85:
                add(p.ns, pod_ref(p, field), "Started", "Started container main", p.created, host=p.node or "")
            else:
                add(
                    p.ns,
                    pod_ref(p, field),
                    "Unhealthy",
                    "Readiness probe failed: HTTP probe failed with statuscode: 503",
                    g.ts(g.rng.uniform(30, 3000)),
                    type_="Warning",
                    host=p.node or "",
                    count=g.rng.randint(1, 12),
                )
        elif nodes and (roll < 0.8 or not claims):
            name, _inst, created, _zone = g.rng.choice(nodes)
            io = {"kind": "Node", "name": name, "uid": node_uids.get(name, name), "apiVersion": "v1"}
            what = g.rng.random()
            if what < 0.3:
                add("default", io, "Starting", "Starting kubelet.", created, host=name)
            elif what < 0.6:
                add(
                    "default",
                    io,
                    "RegisteredNode",
                    f"Node {name} event: Registered Node {name} in Controller",
                    created,
                    component="node-controller",
                )
            else:
                add("default", io, "NodeReady", f"Node {name} status is now: NodeReady", created, host=name)
        elif claims or not g.pending:
            if not claims:
                break
            name, uid, created = g.rng.choice(claims)
            io = {"kind": "NodeClaim", "name": name, "uid": uid, "apiVersion": "karpenter.sh/v1"}
            cond = g.rng.choice(("Launched", "Registered", "Initialized", "Ready"))
            add(
                "default",
                io,
                cond,
                f"Status condition transitioned, Type: {cond}, Status: Unknown -> True, Reason: {cond}",
                created,
                component="karpenter",
            )
        else:  # an empty cluster: the scheduler keeps retrying
            p = g.rng.choice(g.pending)
            add(
                p.ns,
                pod_ref(p),
                "FailedScheduling",
                p.message or _NO_NODES,
                g.ts(g.rng.uniform(5, 600)),
                type_="Warning",
                component="default-scheduler",
                count=g.rng.randint(2, 30),
                first=p.created,
            )
