"""`gputui snapshot`: what one gathering read, as a `kind: List` file.

The file holds full objects (not the slim structs the checks use) so that it stays
useful beyond gputui's current checks: a later gputui can check more, and
`gputui sim serve FILE` replays it for kubectl and the TUI. It is meant to be
attached to tickets, so it leaves out what should not travel: Secrets are never
read, container env values are replaced, `managedFields` and the
last-applied-configuration annotation (which can embed both) are dropped. Log tails
of failing GPU Operator pods ride along as `sim.gputui.dev/log.*` annotations, which
both the simulator and `--from` understand.

One extra ConfigMap, `default/gputui-snapshot`, records where and when the snapshot was
taken and what could not be read, so an offline diagnosis reports the same
"could not see" list and judges ages against the moment of gathering.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any, Optional, TextIO

from checks.snapshot import LOG_ANNOTATION, PREVIOUS_LOG_ANNOTATION, ClusterSnapshot, Incomplete, parse_time

META_NAME = "gputui-snapshot"
META_NAMESPACE = "default"
META_LABEL = "gputui.dev/snapshot"
REDACTED = "(redacted by gputui snapshot)"
_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
# CRDs and namespaces first so a replaying server knows every kind before it meets one.
_ORDER = {"crds": 0, "namespaces": 1}


def to_manifests(snap: ClusterSnapshot, raw: dict[str, list[dict]]) -> list[dict]:
    objects: list[dict] = [_meta_object(snap)]
    logs_by_pod: dict[tuple[str, str], dict[str, str]] = {}
    for (ns, pod, container, previous), text in snap.logs.items():
        key = (PREVIOUS_LOG_ANNOTATION if previous else LOG_ANNOTATION) + container
        logs_by_pod.setdefault((ns, pod), {})[key] = text
    for attr in sorted(raw, key=lambda a: (_ORDER.get(a, 2), a)):
        for obj in raw[attr]:
            _clean(obj)
            if attr == "pods":
                extra = logs_by_pod.get((obj.get("metadata", {}).get("namespace", ""), obj["metadata"].get("name")))
                if extra:
                    obj["metadata"].setdefault("annotations", {}).update(extra)
            objects.append(obj)
    return objects


def write(path: str, objects: list[dict], out: Optional[TextIO] = None) -> None:
    """YAML (`kind: List`, as `kubectl get -o yaml` writes) unless the file name ends in .json."""
    doc = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": objects}
    if path.endswith(".json"):
        text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    else:
        import yaml

        text = yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                         allow_unicode=True, default_flow_style=False, width=120)
    if out is not None:
        out.write(text)
        return
    Path(path).write_text(text, encoding="utf-8")


def apply_meta(snap: ClusterSnapshot, objects: list[dict]) -> bool:
    """Restore context/server/time/incomplete from a snapshot file's meta object; False when absent."""
    meta = next((o for o in objects if o.get("kind") == "ConfigMap"
                 and (o.get("metadata") or {}).get("name") == META_NAME
                 and META_LABEL in ((o.get("metadata") or {}).get("labels") or {})), None)
    if meta is None:
        return False
    data = meta.get("data") or {}
    snap.context = data.get("context") or snap.context
    snap.server = data.get("server") or snap.server
    gathered = parse_time(data.get("gatheredAt"))
    if gathered is not None:
        snap.now = gathered
    try:
        items = json.loads(data.get("incomplete") or "[]")
    except ValueError:
        items = []
    for i in items:
        if isinstance(i, dict) and not snap.cannot_see(i.get("resource", "")):
            snap.incomplete.append(Incomplete(i.get("resource", ""), i.get("reason", ""), i.get("message", "")))
    snap.karpenter_api_version = snap.karpenter_api_version or data.get("karpenterApiVersion") or None
    return True


def _meta_object(snap: ClusterSnapshot) -> dict:
    now = snap.now.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": META_NAME, "namespace": META_NAMESPACE, "labels": {META_LABEL: "meta"},
                     "creationTimestamp": now},
        "data": {
            "context": snap.context or "",
            "server": snap.server or "",
            "gatheredAt": now,
            "karpenterApiVersion": snap.karpenter_api_version or "",
            "incomplete": json.dumps([i.to_json() for i in snap.incomplete]),
        },
    }


def _clean(obj: dict) -> None:
    md = obj.get("metadata")
    if isinstance(md, dict):
        md.pop("managedFields", None)
        ann = md.get("annotations")
        if isinstance(ann, dict):
            for key in _DROP_ANNOTATIONS:
                ann.pop(key, None)
    _redact_env(obj)


def _redact_env(node: Any) -> None:
    """Every `env: [{name, value}]` list anywhere (pods, workload templates, ClusterPolicy)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and "value" in item and item["value"] not in ("", None):
                        item["value"] = REDACTED
            else:
                _redact_env(value)
    elif isinstance(node, list):
        for item in node:
            _redact_env(item)
