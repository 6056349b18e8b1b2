"""Recognising the texts GPU clusters speak: one entry point for any event, condition,
status, log line or tool output an engineer might paste.

`recognise(text)` returns a `Recognition` (the failure family, the specific cause, the
object to change, a headline, the remedy and the facts read from the text) or None
when no rule knows the text. Rules are small functions registered with `@rule`; they
live in the `recognise_*` modules, one per area, and are tried in registration order
(lower `order` first). A rule returns None for texts it does not know, never raises.

Recognition is honest only when it reads the text: a rule must set a family, a cause
and a remedy that follow from what the text says; quoting the text back is not
recognising it.

Vocabulary:
    family   one of FAMILIES, the kind of failure (what an engineer would search for)
    cause    kebab-case, the specific cause inside the family ("vcpu-quota")
    subject  what the remedy changes: a kind ("EC2NodeClass") or kind/name
             ("NodePool/gpu") when the text names the object
    remedy   a key of REMEDIES: what to do, in one sentence (registered with `remedy`)
    facts    what the rule read, by name (zones_failed, zones_suggested, error_code, ...)

Public API:
    recognise(text) -> Recognition | None
    Recognition, FAMILIES, REMEDIES, rule, remedy, rules()
    recognition(...) builds one; mentions(low, *needles) is the rules' cheap pre-check
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

FAMILIES: Mapping[str, str] = MappingProxyType(
    {
        "ec2-capacity": "EC2 had no capacity, quota or addresses for the instances",
        "launch-failure": "EC2 refused to launch the instance (IAM, profile, AMI, template, network)",
        "readiness-unknown": "An EC2NodeClass or NodePool is not known to be ready",
        "vanished-nodeclaim": "Pods were nominated to a NodeClaim that no longer exists",
        "gpu-admission": "kubelet refused a GPU pod at admission",
        "runtime-hook": "The NVIDIA container runtime hook failed, or a running pod lost its GPUs",
        "operator-driver": "The GPU Operator's driver cannot run on this image or kernel",
        "bottlerocket": "Bottlerocket NVIDIA node (driver and device plugin on the host)",
        "nvswitch-mig": "NVSwitch fabric manager or MIG configuration",
        "disruption": "Karpenter cannot or will not disrupt a node",
        "nvidia-smi": "nvidia-smi failed or reports unhealthy GPUs",
        "nodeclass-settings": "EC2NodeClass settings that keep pods off the node",
        "scheduling": "The scheduler or Karpenter could not place the pod",
    }
)


@dataclass(frozen=True)
class Recognition:
    family: str
    cause: str
    subject: str
    headline: str
    remedy: str
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def remedy_text(self) -> str:
        return REMEDIES[self.remedy]

    @property
    def subject_kind(self) -> str:
        return self.subject.partition("/")[0]


def recognition(family: str, cause: str, subject: str, headline: str, remedy: str, **facts: Any) -> Recognition:
    """A Recognition with the facts the rule could read: None and empty values are left out."""
    return Recognition(family, cause, subject, headline, remedy, {k: v for k, v in facts.items() if _known(v)})


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, (str, list, tuple, dict)) and not value)


def mentions(low: str, *needles: str) -> bool:
    """Whether any needle occurs in `low`: plain substring scans reject most texts before a regex runs."""
    return any(n in low for n in needles)


Rule = Callable[[str], "Recognition | None"]


@dataclass(frozen=True)
class _Registered:
    family: str
    order: int
    seq: int
    fn: Rule


_RULES: list[_Registered] = []
_REMEDIES: dict[str, str] = {}
REMEDIES: Mapping[str, str] = MappingProxyType(_REMEDIES)

# The modules that register rules, imported on first use (they import this module).
RULE_MODULES = (
    "checks.recognise_karpenter",
    "checks.recognise_node",
    "checks.recognise_tools",
)
_loaded = False


def remedy(key: str, text: str) -> str:
    """Register a remedy sentence under `key` (once) and return the key."""
    old = _REMEDIES.get(key)
    if old is not None and old != text:
        raise ValueError(f"remedy {key!r} registered twice with different texts")
    _REMEDIES[key] = text
    return key


# Remedies more than one area arrives at, registered once here.
REPLACE_GPU_NODE = remedy(
    "replace-gpu-node",
    "A GPU on this node is lost or unhealthy (fallen off the bus, an Xid fault): hardware, not scheduling. "
    "Cordon and drain the node and replace it (delete its NodeClaim so Karpenter launches another); delete "
    "the Failed pods so their controllers recreate them elsewhere. A reboot may bring the GPU back, but a GPU "
    "lost twice is a hardware fault.",
)


def rule(family: str, *, order: int = 100) -> Callable[[Rule], Rule]:
    """Register a rule for `family`; rules with a lower order are tried first."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")

    def register(fn: Rule) -> Rule:
        _RULES.append(_Registered(family, order, len(_RULES), fn))
        _RULES.sort(key=lambda r: (r.order, r.seq))
        return fn

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in RULE_MODULES:
            importlib.import_module(name)
        _loaded = True


def rules() -> list[tuple[str, Rule]]:
    """(family, rule) in the order they are tried."""
    _load()
    return [(r.family, r.fn) for r in _RULES]


def recognise(text: str) -> Recognition | None:
    """The first rule's reading of `text`, or None when no rule knows it."""
    if not text or not text.strip():
        return None
    _load()
    for r in _RULES:
        got = r.fn(text)
        if got is not None:
            if got.remedy not in _REMEDIES:
                raise ValueError(f"rule {r.fn.__name__} returned unregistered remedy {got.remedy!r}")
            return got
    return None
