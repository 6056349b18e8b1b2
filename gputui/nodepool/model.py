"""The NodePool editor's model: a draft NodePool dict and the fields a person edits.

Every form field has a text form (what an input box shows) and parses back into the
NodePool, so the editor screen, the CLI and tests drive the same code:

    draft = NodePoolDraft(live_object)
    draft.set_text("limit_gpu", "80")
    draft.set_text("taints", "nvidia.com/gpu=true:NoSchedule, dedicated=ml:NoExecute")
    draft.set_text("capacity_types", "on-demand")
    draft.obj   # the edited NodePool

Requirement fields take `a, b` (In), `not a, b` (NotIn), `> 3` / `< 8` (Gt / Lt),
`exists`, or nothing (drop the requirement). Budgets are separated by `;`, each
`NODES [at "CRON" for DURATION] [on REASON,...]`, e.g. `0 at "0 9 * * mon-fri" for 10h; 1`.

A karpenter.sh/v1beta1 NodePool keeps its version and field locations: the draft edits
it in place (expireAfter under spec.disruption, nodeClassRef.apiVersion) and
`v1_changes()` lists what moving to v1 would change, without changing anything.

Public API:
    NodePoolDraft(obj), .obj, .name, .api_version, .is_v1beta1, .changed
    FIELDS: list[Field]; draft.get_text(id) -> str; draft.set_text(id, text) (ValueError on bad input)
    requirement(key) / set_requirement(key, operator, values) / remove_requirement(key)
    set_limit(resource, value|None); set_taints(list); set_budgets(list)
    parse_budgets(text) / format_budgets(list); parse_taints(text) / format_taints(list)
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

GPU = "nvidia.com/gpu"
V1 = "karpenter.sh/v1"
V1BETA1 = "karpenter.sh/v1beta1"
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
CONSOLIDATION_POLICIES = {V1: ("WhenEmpty", "WhenEmptyOrUnderutilized"), V1BETA1: ("WhenEmpty", "WhenUnderutilized")}
BUDGET_REASONS = ("Underutilized", "Empty", "Drifted")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DURATION = re.compile(r"^(([0-9]+(s|m|h))+|Never)$")
_BUDGET_DURATION = re.compile(r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$")
_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    group: str
    help: str
    requirement_key: str | None = None


def _rf(id_: str, label: str, key: str, help_: str) -> Field:
    return Field(id_, label, "requirements", help_, key)


FIELDS: list[Field] = [
    Field("weight", "Weight", "general", "1-100; higher weights are tried first; empty for none"),
    Field("labels", "Node labels", "general", "key=value, ... (set on every node)"),
    Field("taints", "Taints", "general", "key=value:Effect, ... (Effect: NoSchedule, PreferNoSchedule, NoExecute)"),
    Field("node_class", "Node class", "general", "EC2NodeClass name (or Kind/name)"),
    _rf("capacity_types", "Capacity type", "karpenter.sh/capacity-type", "spot, on-demand, reserved"),
    _rf("gpu_names", "GPU names", "karpenter.k8s.aws/instance-gpu-name", "t4, a10g, l4, l40s, a100, h100, h200 ..."),
    _rf("gpu_count", "GPU count", "karpenter.k8s.aws/instance-gpu-count", "e.g. > 0, 1, 4, 8"),
    _rf("categories", "Instance categories", "karpenter.k8s.aws/instance-category", "g, p, ..."),
    _rf("families", "Instance families", "karpenter.k8s.aws/instance-family", "g5, g6, p5 ..."),
    _rf("sizes", "Instance sizes", "karpenter.k8s.aws/instance-size", "xlarge, 2xlarge, 12xlarge ..."),
    _rf("generations", "Instance generations", "karpenter.k8s.aws/instance-generation", "e.g. > 4"),
    _rf("instance_types", "Instance types", "node.kubernetes.io/instance-type", "g5.xlarge, p5.48xlarge ..."),
    _rf("zones", "Zones", "topology.kubernetes.io/zone", "us-west-2a, us-west-2b ..."),
    _rf("arch", "Architecture", "kubernetes.io/arch", "amd64, arm64"),
    Field("limit_cpu", "Limit cpu", "limits", "total vCPUs of all nodes; empty for no limit"),
    Field("limit_memory", "Limit memory", "limits", "e.g. 2048Gi; empty for no limit"),
    Field("limit_gpu", "Limit nvidia.com/gpu", "limits", "total GPUs; empty for no limit"),
    Field("consolidation_policy", "Consolidation", "disruption", "WhenEmpty or WhenEmptyOrUnderutilized"),
    Field("consolidate_after", "Consolidate after", "disruption", "e.g. 30s, 5m, 1h, Never"),
    Field(
        "budgets",
        "Budgets",
        "disruption",
        'NODES [at "CRON" for DURATION] [on REASON,...]; ...  e.g. 0 at "0 9 * * mon-fri" for 10h; 1',
    ),
    Field("expire_after", "Expire after", "lifetime", "e.g. 720h, Never"),
    Field("termination_grace_period", "Termination grace", "lifetime", "e.g. 24h; empty for none (v1 only)"),
]
FIELD_BY_ID = {f.id: f for f in FIELDS}
_LIMIT_FIELDS = {"limit_cpu": "cpu", "limit_memory": "memory", "limit_gpu": GPU}


class NodePoolDraft:
    def __init__(self, obj: dict):
        if not isinstance(obj, dict) or obj.get("kind") != "NodePool":
            raise ValueError("not a NodePool")
        self.original = copy.deepcopy(obj)
        self.obj = copy.deepcopy(obj)
        self.obj.setdefault("spec", {})

    # -- identity -------------------------------------------------------------------

    @property
    def name(self) -> str:
        return (self.obj.get("metadata") or {}).get("name", "")

    @property
    def api_version(self) -> str:
        return self.obj.get("apiVersion") or V1

    @property
    def is_v1beta1(self) -> bool:
        return self.api_version == V1BETA1

    @property
    def changed(self) -> bool:
        return self.obj != self.original

    # -- places -----------------------------------------------------------------------

    @property
    def spec(self) -> dict:
        return self.obj.setdefault("spec", {})

    @property
    def template_spec(self) -> dict:
        return self.spec.setdefault("template", {}).setdefault("spec", {})

    @property
    def template_labels(self) -> dict:
        return self.spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})

    @property
    def disruption(self) -> dict:
        return self.spec.setdefault("disruption", {})

    def _prune(self) -> None:
        """Drop containers an edit emptied, so the YAML diff shows only real changes."""
        tpl = self.spec.get("template") or {}
        md = tpl.get("metadata")
        if md is not None and not md.get("labels"):
            md.pop("labels", None)
            if not md:
                tpl.pop("metadata", None)
        for key in ("taints",):
            if key in (tpl.get("spec") or {}) and not tpl["spec"][key]:
                tpl["spec"].pop(key)
        if "limits" in self.spec and not self.spec["limits"]:
            self.spec.pop("limits")

    # -- requirements -------------------------------------------------------------------

    def requirements(self) -> list[dict]:
        return self.template_spec.setdefault("requirements", [])

    def requirement(self, key: str) -> dict | None:
        return next((r for r in self.requirements() if r.get("key") == key), None)

    def set_requirement(self, key: str, operator: str, values: list[str]) -> None:
        new: dict[str, Any] = {"key": key, "operator": operator}
        if operator not in ("Exists", "DoesNotExist"):
            new["values"] = list(values)
        reqs = self.requirements()
        for i, r in enumerate(reqs):
            if r.get("key") == key:
                if "minValues" in r and operator == "In":
                    new["minValues"] = r["minValues"]
                reqs[i] = new
                # A second requirement on the same key would AND with this one: drop it.
                reqs[:] = [x for j, x in enumerate(reqs) if j <= i or x.get("key") != key]
                return
        reqs.append(new)

    def remove_requirement(self, key: str) -> None:
        self.requirements()[:] = [r for r in self.requirements() if r.get("key") != key]

    # -- limits, taints, budgets ------------------------------------------------------------

    def set_limit(self, resource: str, value: str | None) -> None:
        limits = self.spec.setdefault("limits", {})
        if value in (None, ""):
            limits.pop(resource, None)
        else:
            from checks.k8s import parse_quantity

            parse_quantity(value)  # ValueError on nonsense
            limits[resource] = str(value)
        self._prune()

    def set_taints(self, taints: list[dict]) -> None:
        self.template_spec["taints"] = taints
        self._prune()

    def set_budgets(self, budgets: list[dict]) -> None:
        if budgets:
            self.disruption["budgets"] = budgets
        else:
            self.disruption.pop("budgets", None)

    # -- text fields ----------------------------------------------------------------------

    def get_text(self, field_id: str) -> str:
        f = FIELD_BY_ID[field_id]
        if f.requirement_key:
            return format_requirement(self.requirement(f.requirement_key))
        if field_id in _LIMIT_FIELDS:
            v = (self.spec.get("limits") or {}).get(_LIMIT_FIELDS[field_id])
            return "" if v is None else str(v)
        tspec = (self.spec.get("template") or {}).get("spec") or {}
        disruption = self.spec.get("disruption") or {}
        if field_id == "weight":
            w = self.spec.get("weight")
            return "" if w is None else str(w)
        if field_id == "labels":
            labels = ((self.spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            return ", ".join(f"{k}={v}" for k, v in labels.items())
        if field_id == "taints":
            return format_taints(tspec.get("taints") or [])
        if field_id == "node_class":
            ref = tspec.get("nodeClassRef") or {}
            kind, name = ref.get("kind", ""), ref.get("name", "")
            return name if kind in ("", "EC2NodeClass") else f"{kind}/{name}"
        if field_id == "consolidation_policy":
            return disruption.get("consolidationPolicy", "")
        if field_id == "consolidate_after":
            return str(disruption.get("consolidateAfter", ""))
        if field_id == "budgets":
            return format_budgets(disruption.get("budgets") or [])
        if field_id == "expire_after":
            where = disruption if self.is_v1beta1 else tspec
            return str(where.get("expireAfter", ""))
        if field_id == "termination_grace_period":
            return str(tspec.get("terminationGracePeriod", ""))
        raise KeyError(field_id)

    def set_text(self, field_id: str, text: str) -> None:
        """Parse one field's text into the draft; ValueError (message for the person) on bad input."""
        f = FIELD_BY_ID[field_id]
        text = (text or "").strip()
        if f.requirement_key:
            parsed = parse_requirement(text)
            if parsed is None:
                self.remove_requirement(f.requirement_key)
            else:
                self.set_requirement(f.requirement_key, *parsed)
            return
        if field_id in _LIMIT_FIELDS:
            try:
                self.set_limit(_LIMIT_FIELDS[field_id], text or None)
            except ValueError:
                raise ValueError(f"{f.label}: {text!r} is not a quantity (examples: 64, 512, 2048Gi)") from None
            return
        setter = getattr(self, f"_set_{field_id}")
        setter(text)

    def _set_weight(self, text: str) -> None:
        if not text:
            self.spec.pop("weight", None)
            return
        if not text.isdigit() or not 1 <= int(text) <= 100:
            raise ValueError(f"Weight: {text!r} must be a whole number from 1 to 100")
        self.spec["weight"] = int(text)

    def _set_labels(self, text: str) -> None:
        labels: dict[str, str] = {}
        for item in _split(text):
            key, eq, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not eq or not key:
                raise ValueError(f"Node labels: {item!r} must be key=value")
            if not _LABEL_VALUE.match(value) or len(value) > 63:
                raise ValueError(f"Node labels: value {value!r} of {key} is not a valid label value")
            labels[key] = value
        tpl = self.spec.setdefault("template", {})
        tpl.setdefault("metadata", {})["labels"] = labels
        self._prune()

    def _set_taints(self, text: str) -> None:
        self.set_taints(parse_taints(text))

    def _set_node_class(self, text: str) -> None:
        if not text:
            raise ValueError("Node class: a NodePool needs a node class (an EC2NodeClass name)")
        kind, _, name = text.rpartition("/")
        ref = self.template_spec.setdefault("nodeClassRef", {})
        ref["name"] = name
        ref["kind"] = kind or ref.get("kind") or "EC2NodeClass"
        if self.is_v1beta1:
            ref.setdefault("apiVersion", "karpenter.k8s.aws/v1beta1")
        else:
            ref.setdefault("group", "karpenter.k8s.aws")

    def _set_consolidation_policy(self, text: str) -> None:
        allowed = CONSOLIDATION_POLICIES[V1BETA1 if self.is_v1beta1 else V1]
        match = next((p for p in allowed if p.lower() == text.lower()), None)
        if match is None:
            raise ValueError(f"Consolidation: {text!r} is not one of {', '.join(allowed)}")
        self.disruption["consolidationPolicy"] = match

    def _set_consolidate_after(self, text: str) -> None:
        if not text:
            self.disruption.pop("consolidateAfter", None)
            return
        if not _DURATION.match(text):
            raise ValueError(f"Consolidate after: {text!r} is not a duration (30s, 5m, 1h) or Never")
        self.disruption["consolidateAfter"] = text

    def _set_budgets(self, text: str) -> None:
        self.set_budgets(parse_budgets(text))

    def _set_expire_after(self, text: str) -> None:
        where = self.disruption if self.is_v1beta1 else self.template_spec
        if not text:
            where.pop("expireAfter", None)
            return
        if not _DURATION.match(text):
            raise ValueError(f"Expire after: {text!r} is not a duration (720h) or Never")
        where["expireAfter"] = text

    def _set_termination_grace_period(self, text: str) -> None:
        if not text:
            self.template_spec.pop("terminationGracePeriod", None)
            return
        if self.is_v1beta1:
            raise ValueError("Termination grace: karpenter.sh/v1beta1 NodePools have no terminationGracePeriod")
        if not re.match(r"^([0-9]+(s|m|h))+$", text):
            raise ValueError(f"Termination grace: {text!r} is not a duration (e.g. 24h)")
        self.template_spec["terminationGracePeriod"] = text


# -- text forms ---------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def format_requirement(r: dict | None) -> str:
    if not r:
        return ""
    op, values = r.get("operator"), [str(v) for v in r.get("values") or []]
    if op == "In":
        return ", ".join(values)
    if op == "NotIn":
        return "not " + ", ".join(values)
    if op in ("Gt", "Lt"):
        return f"{'>' if op == 'Gt' else '<'} {values[0] if values else ''}".strip()
    if op in ("Gte", "Lte"):
        return f"{'>=' if op == 'Gte' else '<='} {values[0] if values else ''}".strip()
    return op.lower() if op else ""


def parse_requirement(text: str) -> tuple[str, list[str]] | None:
    """(operator, values) or None for an empty text."""
    text = (text or "").strip()
    if not text:
        return None
    low = text.lower()
    if low in ("exists", "doesnotexist", "does not exist"):
        return ("Exists", []) if low == "exists" else ("DoesNotExist", [])
    m = re.match(r"^(>=|<=|>|<|gt|lt)\s*(-?\w+)$", low)
    if m:
        op = {">": "Gt", "gt": "Gt", "<": "Lt", "lt": "Lt", ">=": "Gte", "<=": "Lte"}[m.group(1)]
        if not m.group(2).isdigit():
            raise ValueError(f"{text!r}: {op} needs one non-negative whole number")
        return op, [m.group(2)]
    if low.startswith("not "):
        values = _split(text[4:])
        op = "NotIn"
    else:
        values = _split(text)
        op = "In"
    for v in values:
        if not _LABEL_VALUE.match(v) or len(v) > 63:
            raise ValueError(f"{v!r} is not a valid label value")
    if not values:
        raise ValueError(f"{text!r}: list at least one value")
    return op, values


def format_taints(taints: list[dict]) -> str:
    out = []
    for t in taints:
        kv = t.get("key", "") + (f"={t['value']}" if t.get("value") else "")
        out.append(f"{kv}:{t.get('effect', '')}")
    return ", ".join(out)


def parse_taints(text: str) -> list[dict]:
    taints = []
    for item in _split(text):
        kv, colon, effect = item.rpartition(":")
        if not colon:
            raise ValueError(f"Taints: {item!r} needs an effect, e.g. {item}:NoSchedule")
        match = next((e for e in TAINT_EFFECTS if e.lower() == effect.strip().lower()), None)
        if match is None:
            raise ValueError(f"Taints: effect {effect!r} is not one of {', '.join(TAINT_EFFECTS)}")
        key, eq, value = kv.partition("=")
        if not key.strip():
            raise ValueError(f"Taints: {item!r} has no key")
        t = {"key": key.strip()}
        if eq:
            t["value"] = value.strip()
        t["effect"] = match
        taints.append(t)
    return taints


def format_budgets(budgets: list[dict]) -> str:
    out = []
    for b in budgets:
        s = str(b.get("nodes", "10%"))
        if b.get("schedule"):
            s += f' at "{b["schedule"]}" for {b.get("duration", "")}'
        if b.get("reasons"):
            s += " on " + ",".join(b["reasons"])
        out.append(s)
    return "; ".join(out)


_BUDGET = re.compile(
    r'^(?P<nodes>\S+)(?:\s+at\s+"(?P<schedule>[^"]+)"\s+for\s+(?P<duration>\S+))?'
    r"(?:\s+on\s+(?P<reasons>[\w,\s]+))?$",
    re.I,
)


def parse_budgets(text: str) -> list[dict]:
    from checks.cron import Cron

    budgets = []
    for item in (p.strip() for p in (text or "").split(";")):
        if not item:
            continue
        m = _BUDGET.match(item)
        if not m:
            raise ValueError(f'Budgets: {item!r} should read NODES [at "CRON" for DURATION] [on REASON,...]')
        nodes = m.group("nodes")
        if not _NODES.match(nodes):
            raise ValueError(f"Budgets: nodes {nodes!r} must be a count (0, 1, 5) or a percentage (10%)")
        b: dict[str, Any] = {"nodes": nodes}
        if m.group("schedule"):
            try:
                Cron.parse(m.group("schedule"))
            except ValueError as e:
                raise ValueError(f"Budgets: schedule {m.group('schedule')!r}: {e}") from None
            if not _BUDGET_DURATION.match(m.group("duration")):
                raise ValueError(
                    f"Budgets: duration {m.group('duration')!r} must be hours and/or minutes (4h, 90m, 1h30m)"
                )
            b["schedule"] = m.group("schedule")
            b["duration"] = m.group("duration")
        if m.group("reasons"):
            reasons = []
            for r in _split(m.group("reasons")):
                match = next((x for x in BUDGET_REASONS if x.lower() == r.lower()), None)
                if match is None:
                    raise ValueError(f"Budgets: reason {r!r} is not one of {', '.join(BUDGET_REASONS)}")
                reasons.append(match)
            b["reasons"] = reasons
        budgets.append(b)
    return budgets
