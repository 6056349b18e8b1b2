"""Start and stop a simulator in-process: store, loaded objects, HTTP server, kubeconfig."""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import yaml

from gputui.errors import InputError
from gputui.sim.faults import Faults
from gputui.sim.rbac import Identity
from gputui.sim.server import SimServer
from gputui.sim.store import ApiError, Store

__all__ = ["start_simulator", "RunningSim", "Faults"]

_encode, _decode = msgspec.json.encode, msgspec.json.decode
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class RunningSim:
    def __init__(
        self,
        server: SimServer,
        store: Store,
        kubeconfig: Path,
        context: str,
        token: str,
        faults: Faults,
        owns_kubeconfig: bool,
        simulation: Any = None,
        controllers: Any = None,
        churn: Any = None,
    ):
        self.server = server
        self.store = store
        self.kubeconfig = kubeconfig
        self.context = context
        self.token = token
        self.faults = faults
        self.simulation = simulation
        self.controllers = controllers
        self.churn = churn
        self._owns_kubeconfig = owns_kubeconfig
        host, port = server.server_address[:2]
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=f"gputui-sim:{port}", daemon=True
        )
        self._thread.start()
        self._stopped = False

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.churn is not None:
            self.churn.stop()
        if self.controllers is not None:
            self.controllers.stop()
        if self.simulation is not None:
            self.simulation.stop()
        self.server.stop()
        self._thread.join(timeout=5)
        if self._owns_kubeconfig:
            try:
                self.kubeconfig.unlink()
            except OSError:
                pass

    def __enter__(self) -> RunningSim:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def load_sources(sources: Sequence[str], synthetic: str | None, extra: Sequence[dict] = ()) -> list[dict]:
    """Scenario/file objects, generated objects and extra manifest dicts, completed by the loader."""
    from gputui.sim import loader

    objects: list[dict] = []
    if sources:
        objects.extend(loader.load_objects(list(sources)))
    if synthetic:
        from gputui.sim import synthetic as generator

        objects.extend(generator.generate(synthetic))
    extra = [dict(o) for o in extra]
    if extra:
        # The CRDs already loaded let the loader recognise custom resources among the extras.
        known = [o for o in objects if o.get("kind") == "CustomResourceDefinition"]
        known_names = {o["metadata"]["name"] for o in known}
        extra_names = {
            (o.get("metadata") or {}).get("name") for o in extra if o.get("kind") == "CustomResourceDefinition"
        }
        prepared = loader.prepare_objects(_decode(_encode(known)) + extra)
        extra = [
            o
            for o in prepared
            if not (o.get("kind") == "CustomResourceDefinition" and o["metadata"]["name"] in known_names - extra_names)
        ]
    return objects + extra


def _with_namespaces(objects: list[dict]) -> list[dict]:
    """Namespaces that objects live in exist, as they must on a real cluster."""
    have = {(o.get("metadata") or {}).get("name") for o in objects if o.get("kind") == "Namespace"}
    wanted = list(DEFAULT_NAMESPACES)
    for o in objects:
        ns = (o.get("metadata") or {}).get("namespace")
        if ns and ns not in wanted:
            wanted.append(ns)
    extra = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        for ns in wanted
        if ns not in have
    ]
    return extra + objects


def write_kubeconfig(path: Path, url: str, token: str, context: str) -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}}],
        "current-context": context,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    os.chmod(path, 0o600)  # an existing file keeps its old mode otherwise


def start_simulator(
    sources: Iterable[str] = ("incident",),
    objects: Iterable[dict] = (),
    synthetic: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    kubeconfig_out: str | os.PathLike | None = None,
    faults: Faults | None = None,
    context_name: str = "gputui-sim",
    behaviour: bool = True,
    identities: Mapping[str, Identity] | None = None,
    controllers: bool = True,
    delays: Any = None,
    unavailable: Iterable[str] | None = None,
    churn: str | None = None,
    seed: int = 0,
) -> RunningSim:
    """`identities`: bearer token -> user and groups; their requests are judged by the RBAC objects
    served (gputui.sim.rbac). The kubeconfig's own token stays the cluster admin.

    With `behaviour`, the scheduler and kubelet run and, with `controllers`, the GPU Operator,
    Karpenter and workload controllers (gputui.sim.controllers) react to changes after `delays`
    (a Delays, or "fast", "demo", "realistic"); `unavailable` instance types fail to launch
    (default: what the scenarios mark). `churn` ("pods=50/s,nodes=1/min") makes pods and nodes
    come and go (gputui.sim.churn), repeatably for a `seed`."""
    faults = faults if faults is not None else Faults()
    sources = list(sources or ())
    loaded = load_sources(sources, synthetic, list(objects or ()))
    store = Store()
    try:
        store.bulk_load(_with_namespaces(loaded))
    except ApiError as e:
        raise InputError(
            f"cannot serve the objects: {e.message}",
            hint="load the CustomResourceDefinition for every custom resource kind",
        )
    token = secrets.token_urlsafe(24)
    try:
        server = SimServer((host, port), store, token, faults)
    except OSError as e:
        raise InputError(
            f"cannot listen on {host}:{port}: {e.strerror or e}", hint="choose another --port (0 picks a free one)"
        )
    server.identities.update(identities or {})
    owns = kubeconfig_out is None
    if kubeconfig_out is None:
        fd, name = tempfile.mkstemp(prefix="gputui-sim-", suffix=".kubeconfig")
        os.close(fd)
        path = Path(name)
    else:
        path = Path(kubeconfig_out).expanduser()
    host_, port_ = server.server_address[:2]
    write_kubeconfig(path, f"http://{host_}:{port_}", token, context_name)
    churner = None
    if churn:
        from gputui.sim.churn import Churn, parse_churn

        churner = Churn(store, parse_churn(churn), seed=seed)
    simulation = ctl = None
    if behaviour:
        from gputui.sim.behaviour import Simulation

        simulation = Simulation(store)
        if controllers:
            from gputui.sim.controllers import PRESETS, Controllers, scenario_unavailable

            if isinstance(delays, str):
                delays = PRESETS[delays]()
            if unavailable is None:
                unavailable = scenario_unavailable(sources or ())
            ctl = Controllers(store, simulation, delays=delays, unavailable=unavailable)
    sim = RunningSim(server, store, path, context_name, token, faults, owns, simulation, ctl, churner)
    if simulation is not None:
        simulation.start()
    if ctl is not None:
        ctl.start()
    if churner is not None:
        churner.start()
    return sim
