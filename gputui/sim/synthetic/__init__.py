"""A large, realistic EKS GPU cluster for load and speed testing: `generate("nodes=5000,gpu-nodes=2000,...")`.

The shape follows what such clusters serve: Karpenter-launched GPU nodes carrying
Karpenter, NFD and GPU Feature Discovery labels, a node image list and managed
fields (about 16 KB each), CPU nodes, the NodePools/NodeClaims behind them, the GPU
Operator's DaemonSets with a device-plugin pod per GPU node, and workload pods of
about 6 KB (managed fields about 30 % of that) owned by ReplicaSets and Jobs, mostly
Running, a few GPU pods Pending with the scheduler's FailedScheduling event.

Output is deterministic for a given spec, seed and `now`. To stay fast and small at
100,000 pods, objects SHARE read-only sub-structures (pod templates, label maps,
managed fields, image lists): copy an object before changing anything below its
metadata. The store never changes stored objects in place.
"""

from __future__ import annotations

import datetime as _dt
import gc
from pathlib import Path
from typing import Any

from gputui.sim.synthetic.cluster import _scaffolding
from gputui.sim.synthetic.events import _events
from gputui.sim.synthetic.nodes import _nodes
from gputui.sim.synthetic.plan import SPEC_FORM, SyntheticSpec, _Gen, parse_spec
from gputui.sim.synthetic.pods import _pods

__all__ = ["SPEC_FORM", "SyntheticSpec", "generate", "parse_spec"]


def generate(
    spec: str, *, now: _dt.datetime | None = None, seed: int = 7, include_crds: bool = True
) -> list[dict[str, Any]]:
    """Objects of a synthetic cluster, CRDs and namespaces first, ready for Store.bulk_load."""
    parsed = parse_spec(spec)
    now = (now or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc).replace(microsecond=0)
    g = _Gen(parsed, now, seed)
    # Millions of small acyclic containers: the cyclic collector would only rescan them.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if include_crds:
            g.out.extend(_compact_crds(g.ts(90 * 86400)))
        _scaffolding(g)
        _nodes(g)
        pending = _pods(g)
        _events(g, pending)
    finally:
        if gc_was_enabled:
            gc.enable()
    return g.out


def _compact_crds(created: str) -> list[dict[str, Any]]:
    import yaml

    from gputui.sim.loader import prepare_objects

    root = Path(__file__).resolve().parent.parent / "crds"
    docs = []
    for path in sorted((root / "karpenter" / "v1").glob("*.yaml")) + sorted((root / "gpu-operator").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc["metadata"]["creationTimestamp"] = created
        docs.append(doc)
    return prepare_objects(docs, label="compact CRDs")
