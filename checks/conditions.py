"""Status conditions of typed objects (Node, Pod) and custom resources, looked up one way."""

from __future__ import annotations

from typing import Any

from checks.kinds import KubeObject


def condition(obj: KubeObject, type_: str) -> dict[str, Any] | None:
    """A condition as a dict, from a typed object (Node/Pod) or a generic CR."""
    conds = obj.status.get("conditions") if isinstance(obj.status, dict) else obj.status.conditions
    for c in conds or []:
        if isinstance(c, dict):
            if c.get("type") == type_:
                return c
        elif c.type == type_:
            return {
                "type": c.type,
                "status": c.status,
                "reason": c.reason,
                "message": c.message,
                "lastTransitionTime": c.last_transition_time,
            }
    return None


def condition_text(c: dict[str, Any] | None) -> str:
    if not c:
        return "absent"
    text = f"{c.get('type')}={c.get('status')}"
    if c.get("reason"):
        text += f" ({c['reason']})"
    if c.get("message"):
        text += f": {c['message']}"
    return text
