"""Parsers for the scheduling messages a pending GPU pod collects.

* kube-scheduler `FailedScheduling` ("0/N nodes are available: ..."), every wording
  since v1.17: the taint reason changed three times, PreFilter messages replace the
  per-node histogram, the preemption suffix ends in ".." on older releases.
* Karpenter `FailedScheduling` ("Failed to schedule pod, ..."): the <= v1.4 form that
  names each NodePool first (`incompatible with nodepool "x", daemonset overhead={...},
  <error>`) and the >= v1.5 form with one error per clause and `(NodePool=x)` fields.
* Karpenter `Nominated` ("Pod should schedule on: nodeclaim/x, node/y").
* Karpenter NodeClaim events ("NodeClaim x event: ..."), e.g. InsufficientCapacityError.

Every parse keeps the raw text; a message no pattern recognises comes back with
`kind == "unknown"` rather than raising, so a new wording degrades to quoting it.

Public API:
    parse_scheduler_message(text) -> SchedulerMessage
    parse_karpenter_message(text) -> KarpenterMessage
    parse_failed_scheduling(text) -> SchedulerMessage | KarpenterMessage
    parse_nominated(text) -> Nominated
    parse_nodeclaim_event(text) -> NodeClaimEvent
    split_ice_zones(text) -> (failed zones, suggested zones)
    classify_scheduler_reason(text, count=None) -> Reason
    parse_taint(text) -> (key, value, effect)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# -- kube-scheduler ------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """One entry of the scheduler's per-node histogram ("3 Insufficient nvidia.com/gpu").

    kind: taint | resources | too-many-pods | node-affinity | pod-affinity | topology |
          volume | unschedulable | ports | node-condition | preemption | dra | other
    detail: the taint ("key=value" or "key"; "" when the wording hides it) or the
          resource name; "" otherwise.
    """

    count: int | None
    text: str
    kind: str
    detail: str = ""
    taint_key: str | None = None
    taint_value: str | None = None
    stage: str = "filter"  # filter | prefilter


@dataclass
class SchedulerMessage:
    raw: str
    kind: str = "unknown"  # fit-error | no-nodes | unknown
    total_nodes: int | None = None
    reasons: list[Reason] = field(default_factory=list)
    # text after the histogram that is neither the histogram nor preemption
    # (e.g. "no new claims to deallocate")
    post_filter: list[str] = field(default_factory=list)
    preemption: SchedulerMessage | None = None
    preemption_text: str | None = None

    source = "scheduler"

    @property
    def recognised(self) -> bool:
        return self.kind != "unknown"

    def reasons_of(self, kind: str) -> list[Reason]:
        return [r for r in self.reasons if r.kind == kind]

    @property
    def main_reason(self) -> Reason | None:
        """The reason that excluded the most nodes (ties: the more actionable kind)."""
        if not self.reasons:
            return None
        return max(self.reasons, key=lambda r: (r.count or 0, _KIND_WEIGHT.get(r.kind, 0)))

    def summary(self) -> str:
        """Plain words: '2 of 3 nodes have a taint the pod does not tolerate (nvidia.com/gpu), 1 lacks nvidia.com/gpu'."""
        if self.kind == "no-nodes":
            return "the cluster has no nodes the scheduler can use"
        if not self.reasons:
            return self.raw
        parts = [_reason_words(r) for r in sorted(self.reasons, key=lambda r: -(r.count or 0))]
        head = f"none of the {self.total_nodes} nodes fit: " if self.total_nodes is not None else ""
        return head + "; ".join(parts)


_KIND_WEIGHT = {"resources": 5, "taint": 4, "node-affinity": 3, "volume": 2, "topology": 2}

_REASON_WORDS = {
    "taint": "{n} have a taint the pod does not tolerate{d}",
    "resources": "{n} lack free {detail}",
    "too-many-pods": "{n} are at their pod limit",
    "node-affinity": "{n} do not match the pod's nodeSelector/affinity",
    "pod-affinity": "{n} conflict with pod (anti-)affinity",
    "topology": "{n} break the topology spread constraints",
    "volume": "{n} cannot reach the pod's volumes",
    "unschedulable": "{n} are cordoned",
    "ports": "{n} lack the requested host ports",
    "node-condition": "{n} are not ready or under pressure",
}


def _reason_words(r: Reason) -> str:
    n = f"{r.count} node(s)" if r.count is not None else "nodes"
    tmpl = _REASON_WORDS.get(r.kind)
    if tmpl is None:
        return f"{n}: {r.text}" if r.count is not None else r.text
    d = f" ({r.detail})" if r.detail else ""
    return tmpl.format(n=n, d=d, detail=r.detail or "resources")


_FIT_RE = re.compile(r"^\s*0/(\d+) nodes (?:are )?available(?::\s*(.*))?$", re.S | re.I)
_ENTRY_RE = re.compile(r"(\d+) (.+?)(?=, \d+ |\.+\s|\.*$)", re.S)
_NO_NODES = "no nodes available to schedule pods"
_PREEMPTION = "preemption: "

# (pattern, kind); the first match wins.
_REASON_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Insufficient (\S+)$", re.I), "resources"),
    (re.compile(r"^Too many pods$", re.I), "too-many-pods"),
    (re.compile(r"^node\(s\) had untolerated taint\(s\)$"), "taint"),
    (re.compile(r"^node\(s\) had untolerated taint \{(.*)\}$"), "taint"),
    (re.compile(r"^node\(s\) had taint \{(.*)\}, that the pod didn't tolerate$"), "taint"),
    (re.compile(r"^node\(s\) had taints that the pod didn(?:'|’)t tolerate$", re.I), "taint"),
    (re.compile(r"volume|PersistentVolumeClaim|persistentvolumeclaim|storageclass", re.I), "volume"),
    (
        re.compile(r"node affinity|node selector|nodeSelector|pod affinity terms conflict|didn't match Pod's node"),
        "node-affinity",
    ),
    (re.compile(r"pod affinity|anti-affinity|pod anti"), "pod-affinity"),
    (re.compile(r"topology spread"), "topology"),
    (re.compile(r"were unschedulable"), "unschedulable"),
    (re.compile(r"free ports"), "ports"),
    (re.compile(r"Preemption is not helpful|No preemption victims|preemption for this pod"), "preemption"),
    (re.compile(r"were not ready|not-ready|pressure|network unavailable|out of disk", re.I), "node-condition"),
    (re.compile(r"claims?|ResourceClaim|device class", re.I), "dra"),
]


def classify_scheduler_reason(text: str, count: int | None = None, stage: str = "filter") -> Reason:
    text = text.strip()
    for pat, kind in _REASON_PATTERNS:
        m = pat.search(text)
        if not m:
            continue
        if kind == "resources":
            return Reason(count, text, kind, detail=m.group(1), stage=stage)
        if kind == "too-many-pods":
            return Reason(count, text, kind, detail="pods", stage=stage)
        if kind == "taint" and m.groups():
            key, value = _split_brace_taint(m.group(1))
            detail = f"{key}={value}" if value else key
            return Reason(count, text, kind, detail=detail, taint_key=key, taint_value=value, stage=stage)
        return Reason(count, text, kind, stage=stage)
    return Reason(count, text, "other", stage=stage)


def _split_brace_taint(inner: str) -> tuple[str, str]:
    # "{key: value}" as printed by the scheduler; the value is empty for key-only taints.
    key, _, value = inner.partition(":")
    return key.strip(), value.strip()


def parse_scheduler_message(text: str) -> SchedulerMessage:
    raw = text
    msg = SchedulerMessage(raw=raw)
    # Pasted texts wrap lines anywhere (after a clause's comma, inside a clause): one space each.
    stripped = " ".join(text.split())
    if _NO_NODES in stripped:
        msg.kind = "no-nodes"
        msg.total_nodes = 0
        return msg
    m = _FIT_RE.match(stripped)
    if not m:
        return msg
    msg.kind = "fit-error"
    msg.total_nodes = int(m.group(1))
    body = (m.group(2) or "").strip()
    idx = body.find(_PREEMPTION)
    if idx >= 0:
        preempt = body[idx + len(_PREEMPTION) :].strip()
        body = body[:idx].rstrip()
        msg.preemption_text = preempt
        msg.preemption = parse_scheduler_message(preempt) if preempt.startswith("0/") else None
    body = body.rstrip(", ").strip()
    if body and body[0].isdigit() and _ENTRY_RE.match(body):
        rest = _parse_histogram(body, msg)
    else:
        # A PreFilter message stands instead of the histogram and applies to every node.
        head, rest = _split_sentence(body)
        if head:
            msg.reasons.append(classify_scheduler_reason(head, msg.total_nodes, stage="prefilter"))
    for part in re.split(r"[.,]\s+", rest.strip().rstrip(".,")):
        if part.strip():
            msg.post_filter.append(part.strip())
    return msg


def _parse_histogram(body: str, msg: SchedulerMessage) -> str:
    pos = 0
    while pos < len(body):
        m = _ENTRY_RE.match(body, pos)
        if not m:
            break
        msg.reasons.append(classify_scheduler_reason(m.group(2), int(m.group(1))))
        pos = m.end()
        if body.startswith(", ", pos) and pos + 2 < len(body) and body[pos + 2].isdigit():
            pos += 2
            continue
        break
    return body[pos:].lstrip(".")


def _split_sentence(body: str) -> tuple[str, str]:
    m = re.search(r"\.(\s|$)", body)
    if not m:
        return body, ""
    return body[: m.start()], body[m.end() :]


# -- Karpenter -------------------------------------------------------------------


@dataclass
class KarpenterError:
    """One clause of Karpenter's FailedScheduling message.

    kind: taint | requirements | no-instance-type | limits | min-values | volume | dra |
          truncated (a quoted message cut short) | other
    """

    raw: str
    kind: str = "other"
    nodepool: str | None = None
    detail: str = ""
    taint: str | None = None  # "key=value:Effect"
    taint_key: str | None = None
    label: str | None = None  # requirement key in conflict
    requirements: str | None = None
    resources: dict[str, str] | None = None
    daemonset_overhead: dict[str, str] | None = None
    fields: dict[str, str] = field(default_factory=dict)  # trailing "(Key=value)" fields


@dataclass
class KarpenterMessage:
    raw: str
    kind: str = "unknown"  # failed-scheduling | unknown
    format: str = ""  # "v1.5+" | "<=v1.4" (NodePool named first) | "fragment" (no prefix)
    errors: list[KarpenterError] = field(default_factory=list)

    source = "karpenter"

    @property
    def recognised(self) -> bool:
        return self.kind != "unknown" and all(e.kind != "other" for e in self.errors)

    @property
    def nodepools(self) -> list[str]:
        return list(dict.fromkeys(e.nodepool for e in self.errors if e.nodepool))

    def errors_of(self, kind: str) -> list[KarpenterError]:
        return [e for e in self.errors if e.kind == kind]

    def summary(self) -> str:
        parts = []
        for e in self.errors:
            where = f"NodePool {e.nodepool}: " if e.nodepool else ""
            parts.append(where + _karpenter_words(e))
        # v1.5+ repeats an error once per NodePool without naming it.
        return "; ".join(dict.fromkeys(parts)) if parts else self.raw


def _karpenter_words(e: KarpenterError) -> str:
    if e.kind == "taint":
        return f"taint {e.taint} not tolerated"
    if e.kind == "requirements":
        return f"requirements conflict on {e.label}" if e.label else "requirements conflict"
    if e.kind == "no-instance-type":
        return "no instance type fits the request" + (f" ({e.detail})" if e.detail else "")
    if e.kind == "limits":
        return "NodePool limits reached"
    if e.kind == "truncated":
        return "(message cut short)"
    if e.kind == "min-values":
        return "minValues cannot be met"
    return e.detail or e.raw


_KARPENTER_PREFIXES = ("Failed to schedule pod, ", "Could not schedule pod, ", "could not schedule pod, ")
_OLD_POOL_RE = re.compile(
    r'^incompatible with (?:nodepool|provisioner) "([^"]*)"(?:, daemonset overhead=(\{[^}]*\}))?(?:,\s*(.*))?$', re.S
)
_TAINT_NEW_RE = re.compile(r"^did not tolerate taint(?: \(taint=(.*)\))?$")
_TAINT_OLD_RE = re.compile(r"^did not tolerate (?!taint\b)(.+)$")
_REQ_KEY_RE = re.compile(r"key (\S+), (.*) not in (.*)$", re.S)
_REQ_LABEL_RE = re.compile(r'label "([^"]*)" does not have known values(.*)$', re.S)
_IT_NEW_RE = re.compile(r"^(no instance type .*?), requirements=(.*), resources=(\{.*\})$", re.S)
_IT_OLD_RE = re.compile(
    r"^no instance type satisfied resources (\{.*?\}) and requirements (.*?)(?: \((no instance type[^()]*)\))?$", re.S
)
_LIMITS_RE = re.compile(
    r"^(all available instance types exceed limits|node limits have been exhausted|exceeds? (?:nodepool )?limits?)"
    r"(?: for nodepool)?(?::\s*\"([^\"]*)\")?",
    re.S,
)
_MIN_VALUES_RE = re.compile(r"^pod didn(?:’|')t schedule because NodePool couldn(?:’|')t meet minValues requirements")
_TRAILING_FIELDS_RE = re.compile(r"\s\(((?:[A-Za-z][\w./-]*=[^()]*?)(?:, [A-Za-z][\w./-]*=[^()]*?)*)\)\s*$")


def parse_karpenter_message(text: str) -> KarpenterMessage:
    msg = KarpenterMessage(raw=text)
    body = " ".join(text.split())
    for prefix in _KARPENTER_PREFIXES:
        if body.startswith(prefix):
            body = body[len(prefix) :]
            break
    else:
        # A fragment pasted from a log or an issue: accept it only when every clause is known.
        fragment = _parse_clauses(body.strip("() "))
        if fragment and all(e.kind != "other" for e in fragment):
            msg.kind, msg.format, msg.errors = "failed-scheduling", "fragment", fragment
        return msg
    msg.kind = "failed-scheduling"
    msg.errors = _parse_clauses(body)
    msg.format = (
        "<=v1.4"
        if any(e.daemonset_overhead is not None or e.raw.startswith("incompatible with ") for e in msg.errors)
        else "v1.5+"
    )
    return msg


def _parse_clauses(body: str) -> list[KarpenterError]:
    errors = []
    for clause in _split_clauses(body):
        m = _OLD_POOL_RE.match(clause)
        if m:
            inner = (m.group(3) or "").strip(_ELLIPSIS)
            err = parse_karpenter_error(inner) if inner else KarpenterError(raw=clause, kind="truncated")
            err.raw = clause
            err.nodepool = m.group(1)
            err.daemonset_overhead = _json_or_none(m.group(2))
        else:
            err = parse_karpenter_error(clause)
        errors.append(err)
    return errors


_ELLIPSIS = " …."


def _split_clauses(body: str) -> list[str]:
    # multierr joins with "; "; JSON and requirement strings never contain it. Quoted
    # messages are often cut short with an ellipsis, which is not part of any clause.
    return [c.strip().strip("…").strip() for c in body.split("; ") if c.strip().strip("…").strip()]


def parse_karpenter_error(clause: str) -> KarpenterError:
    err = KarpenterError(raw=clause)
    text = clause.strip()
    fm = _TRAILING_FIELDS_RE.search(text)
    if fm:
        err.fields = _parse_fields(fm.group(1))
        text = text[: fm.start()].rstrip()
    err.nodepool = err.fields.get("NodePool") or err.fields.get("nodepool")
    if "taint" in err.fields and text == "did not tolerate taint":
        _set_taint(err, err.fields["taint"])
        return err
    m = _TAINT_NEW_RE.match(text)
    if m:
        if m.group(1):
            _set_taint(err, m.group(1))
        else:
            err.kind = "taint"
        return err
    m = _TAINT_OLD_RE.match(text)
    if m:
        _set_taint(err, m.group(1).strip())
        return err
    if text.startswith("incompatible requirements") or _REQ_KEY_RE.match(text) or _REQ_LABEL_RE.match(text):
        err.kind = "requirements"
        m = _REQ_LABEL_RE.search(text)
        if m:
            err.label = m.group(1)
            err.detail = f'label "{m.group(1)}" is not offered by the NodePool{m.group(2).rstrip()}'
            return err
        m = _REQ_KEY_RE.search(text)
        if m:
            err.label = m.group(1)
            err.requirements = m.group(3).strip()
            err.detail = f"pod wants {m.group(2).strip()}, NodePool allows {m.group(3).strip()}"
        return err
    m = _IT_NEW_RE.match(text)
    if m:
        err.kind = "no-instance-type"
        err.detail = m.group(1)
        err.requirements = m.group(2).strip()
        err.resources = _json_or_none(m.group(3))
        return err
    m = _IT_OLD_RE.match(text)
    if m:
        err.kind = "no-instance-type"
        err.resources = _json_or_none(m.group(1))
        err.requirements = m.group(2).strip()
        err.detail = m.group(3) or "no instance type satisfied resources and requirements"
        return err
    if text.startswith("no instance type") or text.startswith("nodepool requirements filtered out all"):
        err.kind = "no-instance-type"
        err.detail = text
        return err
    m = _LIMITS_RE.match(text)
    if m:
        err.kind = "limits"
        err.detail = m.group(1)
        if m.group(2):
            err.nodepool = m.group(2)
        return err
    if _MIN_VALUES_RE.match(text):
        err.kind = "min-values"
        err.detail = text
        return err
    if text.startswith("incompatible volume requirements"):
        err.kind = "volume"
        err.detail = text
        return err
    if "dynamic resource" in text.lower() or "Dynamic Resource Allocation" in text:
        err.kind = "dra"
        err.detail = text
        return err
    err.detail = text
    return err


def _set_taint(err: KarpenterError, taint: str) -> None:
    err.kind = "taint"
    err.taint = taint
    err.taint_key = parse_taint(taint)[0]
    err.detail = taint


def parse_taint(text: str) -> tuple[str, str | None, str | None]:
    """'nvidia.com/gpu=true:NoSchedule' -> ('nvidia.com/gpu', 'true', 'NoSchedule');
    'nvidia.com/gpu:NoSchedule' -> ('nvidia.com/gpu', None, 'NoSchedule')."""
    text = text.strip()
    effect = None
    m = re.match(r"^(.*):(NoSchedule|PreferNoSchedule|NoExecute)$", text)
    if m:
        text, effect = m.group(1), m.group(2)
    key, sep, value = text.partition("=")
    return key, (value if sep else None), effect


def _parse_fields(inner: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in re.split(r", (?=[A-Za-z][\w./-]*=)", inner):
        k, _, v = part.partition("=")
        out[k.strip()] = v.strip()
    return out


def _json_or_none(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# -- dispatch, Nominated, NodeClaim events -------------------------------------------


def parse_failed_scheduling(text: str) -> SchedulerMessage | KarpenterMessage:
    """Whichever emitter wrote it: kube-scheduler's text starts with "0/N nodes" (or says
    no nodes are available), Karpenter's with "Failed to schedule pod"."""
    s = parse_scheduler_message(text)
    if s.recognised:
        return s
    k = parse_karpenter_message(text)
    if k.kind != "unknown":
        return k
    return s


@dataclass
class Nominated:
    raw: str
    nodeclaim: str | None = None
    node: str | None = None
    targets: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)

    @property
    def recognised(self) -> bool:
        return bool(self.targets)


_NOMINATED_RE = re.compile(r"^Pod should schedule on:?\s*(?:node:\s*)?(.*)$", re.S)


def parse_nominated(text: str) -> Nominated:
    out = Nominated(raw=text)
    m = _NOMINATED_RE.match(text.strip())
    if not m:
        return out
    for part in m.group(1).split(","):
        part = part.strip()
        if not part:
            continue
        kind, sep, name = part.partition("/")
        if not sep:
            kind, name = "node", part
        kind = kind.lower()
        out.targets.append((kind, name))
        if kind in ("nodeclaim", "machine") and out.nodeclaim is None:
            out.nodeclaim = name
        elif kind == "node" and out.node is None:
            out.node = name
    return out


@dataclass
class NodeClaimEvent:
    raw: str
    nodeclaim: str | None = None
    message: str = ""
    instance_types: list[str] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)  # every zone the text names
    zones_failed: list[str] = field(default_factory=list)  # "in the Availability Zone you requested (x)"
    zones_suggested: list[str] = field(default_factory=list)  # "... or choosing y, z", not failed
    error_code: str | None = None  # e.g. InsufficientInstanceCapacity

    @property
    def recognised(self) -> bool:
        return self.nodeclaim is not None


_NODECLAIM_EVENT_RE = re.compile(r"^NodeClaim (\S+) event: (.*)$", re.S)
_INSTANCE_TYPE_RE = re.compile(
    r"\b([a-z][a-z0-9]*(?:-[a-z0-9]+)?\.(?:\d*x?large|metal(?:-\d+xl)?|nano|micro|small|medium))\b"
)
_ZONE_RE = re.compile(r"\b([a-z]{2}-[a-z]+-\d[a-z])\b")
_EC2_CODE_RE = re.compile(
    r"\b(InsufficientInstanceCapacity|InsufficientCapacity|Unsupported|InstanceLimitExceeded|"
    r"MaxSpotInstanceCountExceeded|VcpuLimitExceeded|UnfulfillableCapacity|"
    r"SpotMaxPriceTooLow|InsufficientFreeAddressesInSubnet|InvalidParameter\w*)\b"
)


_ZONE_REQUESTED_RE = re.compile(r"availability\s+zone\s+you\s+requested\s*\(\s*([a-z0-9-]+)\s*\)", re.I)
_ZONE_CHOOSING_RE = re.compile(r"\bchoosing\s+([a-z0-9-]+(?:\s*,\s*(?:and\s+)?[a-z0-9-]+)*)", re.I)


def split_ice_zones(text: str) -> tuple[list[str], list[str]]:
    """(failed, suggested) zones of EC2 InsufficientInstanceCapacity texts.

    EC2 names the zone that had no capacity ("in the Availability Zone you requested
    (us-west-2b)") and the zones it offers instead ("... or choosing us-west-2a,
    us-west-2c."). With several clauses a zone that failed in one and is offered in
    another counts as failed: Karpenter tried it.
    """
    if "hoosing" not in text and "equested" not in text:
        return [], []
    failed = list(dict.fromkeys(z.lower() for z in _ZONE_REQUESTED_RE.findall(text)))
    suggested: list[str] = []
    for group in _ZONE_CHOOSING_RE.findall(text):
        for z in re.split(r"\s*,\s*(?:and\s+)?", group.strip()):
            z = z.lower()
            if z and z not in failed and z not in suggested and any(ch.isdigit() for ch in z):
                suggested.append(z)
    return failed, suggested


def parse_nodeclaim_event(text: str) -> NodeClaimEvent:
    out = NodeClaimEvent(raw=text, message=text.strip())
    m = _NODECLAIM_EVENT_RE.match(text.strip())
    if m:
        out.nodeclaim, out.message = m.group(1), m.group(2).strip()
    out.instance_types = list(dict.fromkeys(_INSTANCE_TYPE_RE.findall(out.message)))
    out.zones = list(dict.fromkeys(_ZONE_RE.findall(out.message)))
    out.zones_failed, out.zones_suggested = split_ice_zones(out.message)
    c = _EC2_CODE_RE.search(out.message)
    out.error_code = c.group(1) if c else None
    return out
