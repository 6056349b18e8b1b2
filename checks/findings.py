"""Building findings: the registered check's name, title and severity on every finding,
object references, and the age wording messages share."""

from __future__ import annotations

from checks.model import Finding, ObjectRef, Severity


def new_finding(code: str, message: str, subject: ObjectRef, severity: Severity | None = None, **kw) -> Finding:
    """A Finding carrying the registered check's name, title and default severity."""
    from checks.registry import REGISTRY

    c = REGISTRY.find(code)
    if c is None:  # only while a module is being imported out of order
        raise LookupError(f"check {code} is not registered")
    return Finding(
        code=code, name=c.name, severity=severity or c.severity, title=c.title, message=message, subject=subject, **kw
    )


def ref(obj, kind: str | None = None) -> ObjectRef:
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
