"""What findings say about objects: references to them and the age wording messages share.
(A finding itself comes from its check: `Check.finding` in checks.registry.)"""

from __future__ import annotations

from checks.kinds import KubeObject
from checks.model import ObjectRef


def ref(obj: KubeObject, kind: str | None = None) -> ObjectRef:
    kind = kind or getattr(obj, "kind", "") or ""
    return ObjectRef(
        kind=kind,
        name=obj.metadata.name,
        namespace=obj.metadata.namespace or None,
        api_version=getattr(obj, "api_version", None) or None,
    )


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(max(seconds, 0))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m" if s % 3600 >= 60 else f"{s // 3600}h"
    return f"{s // 86400}d"
