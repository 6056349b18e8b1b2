"""The finding model shared by every check, report, the TUI and the fix machinery.

`Finding.to_json()` is the `findings[]` element of the `gputui.dev/diagnose/v1`
document; its shape is a public contract (scripts parse it), so fields are only ever
added, never renamed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use info, warning or error)") from None


@dataclass(frozen=True)
class ObjectRef:
    kind: str
    name: str
    namespace: str | None = None
    api_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}"


@dataclass
class FixPlan:
    """A proposed change, as data. Applying it is gputui.fixes' job, never a check's.

    `patch_type` is one of "merge", "json", "strategic", "apply", or "delete" /
    "evict" for plans that remove an object instead of patching it.
    """

    id: str
    title: str
    target: ObjectRef
    patch_type: str
    patch: Any = None
    disruptive: bool = False
    kubectl: str = ""
    description: str = ""
    # resourceVersion of the target as the check saw it; the applier uses it as a precondition.
    resource_version: str | None = None
    gitops_warning: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "disruptive": self.disruptive,
            "kubectl": self.kubectl,
            "target": self.target.to_json(),
            "patchType": self.patch_type,
        }
        if self.patch is not None:
            d["patch"] = self.patch
        if self.description:
            d["description"] = self.description
        if self.gitops_warning:
            d["gitopsWarning"] = self.gitops_warning
        return d


@dataclass
class Finding:
    code: str
    name: str
    severity: Severity
    title: str
    message: str
    subject: ObjectRef
    area: str = ""
    related: list[ObjectRef] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    fixes: list[FixPlan] = field(default_factory=list)
    # The id of the finding this one follows from (its root cause), set by checks.causes.
    cause: str | None = None

    @property
    def id(self) -> str:
        """Stable across runs: code and subject, e.g. GPU101:Node//ip-10-0-3-7."""
        s = self.subject
        return f"{self.code}:{s.kind}/{s.namespace or ''}/{s.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "severity": self.severity.label,
            "area": self.area,
            "title": self.title,
            "message": self.message,
            "subject": self.subject.to_json(),
            "related": [r.to_json() for r in self.related],
            "evidence": list(self.evidence),
            "fixes": [f.to_json() for f in self.fixes],
            "cause": self.cause,
        }

    @property
    def sort_key(self) -> tuple[Any, ...]:
        """Worst first, then catalogue order: codes run nodes → operator → karpenter →
        scheduling → disruption, the order in which a GPU node becomes usable."""
        return (-int(self.severity), self.code, self.subject.namespace or "", self.subject.name)
