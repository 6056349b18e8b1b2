"""Field ownership for the simulator's server-side apply: which fields a manager's applied
configuration sets, who owns them, how conflicts name them, and removing the ones a manager
gave up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gputui.kube.patch import merge_key
from gputui.sim.resources import ResourceType
from gputui.sim.statuses import ApiError, bad_request

# A path is a tuple of map keys (str) and list-item selectors ((merge key, value) tuples).
Path = tuple
_UNOWNED_META = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "managedFields",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    }
)


def leaf_values(obj: dict, *, builtin: bool, kind: str | None = None) -> dict[Path, Any]:
    """Every field a manager can own, with its value: map entries recursively, lists whole
    unless their items merge by key (built-in kinds), then item by item."""
    out: dict[Path, Any] = {}

    def walk(node: Any, path: Path, field: str | None) -> None:
        if isinstance(node, dict) and node:
            for k, v in node.items():
                if not k.startswith("$"):
                    walk(v, path + (k,), k)
            return
        key = merge_key(field, kind) if builtin and field else None
        if isinstance(node, list) and node and key and all(isinstance(i, dict) and key in i for i in node):
            for item in node:
                walk(item, path + ((key, item[key]),), None)
            return
        out[path] = node

    for top, value in obj.items():
        if top in ("apiVersion", "kind", "status"):
            continue
        if top == "metadata" and isinstance(value, dict):
            for k, v in value.items():
                if k not in _UNOWNED_META:
                    walk(v, ("metadata", k), k)
            continue
        walk(value, (top,), top)
    return out


def format_path(path: Path) -> str:
    """`.spec.template.spec.containers[name="main"].image`, as conflict messages print it."""
    return "".join(f'[{p[0]}="{p[1]}"]' if isinstance(p, tuple) else f".{p}" for p in path)


def remove_path(obj: dict, path: Path) -> None:
    """Delete the field at `path` if it is there; emptied parents stay (as the server leaves them)."""
    cur: Any = obj
    for p in path[:-1]:
        if isinstance(p, tuple):
            cur = (
                next((i for i in cur if isinstance(i, dict) and i.get(p[0]) == p[1]), None)
                if isinstance(cur, list)
                else None
            )
        else:
            cur = cur.get(p) if isinstance(cur, dict) else None
        if cur is None:
            return
    last = path[-1]
    if isinstance(last, tuple):
        if isinstance(cur, list):
            cur[:] = [i for i in cur if not (isinstance(i, dict) and i.get(last[0]) == last[1])]
    elif isinstance(cur, dict):
        cur.pop(last, None)


@dataclass(frozen=True)
class FieldOwner:
    manager: str
    operation: str  # "Apply" | "Update"
    api_version: str
    time: str

    def shown(self) -> str:
        """How apply conflict messages name a manager."""
        if self.operation == "Apply":
            return f'"{self.manager}"'
        return f'"{self.manager}" using {self.api_version} at {self.time}'


def apply_conflict(conflicts: dict[FieldOwner, list[tuple]]) -> ApiError:
    total = sum(len(paths) for paths in conflicts.values())
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {owner.shown()}",
            "field": format_path(path),
        }
        for owner, paths in conflicts.items()
        for path in paths
    ]
    if total == 1:
        ((owner, (path,)),) = conflicts.items()
        text = f"Apply failed with 1 conflict: conflict with {owner.shown()}: {format_path(path)}"
    else:
        lines = []
        for owner, paths in conflicts.items():
            lines.append(f"conflicts with {owner.shown()}:")
            lines.extend(f"- {format_path(p)}" for p in paths)
        text = f"Apply failed with {total} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", text, {"causes": causes})


def check_apply_target(rt: ResourceType, body: dict, name: str) -> None:
    if body.get("kind") and body["kind"] != rt.kind:
        raise bad_request(f"the kind in the patch ({body['kind']}) does not match the kind of the object ({rt.kind})")
    got = (body.get("metadata") or {}).get("name")
    if got and got != name:
        raise bad_request(f"the name of the object ({got}) does not match the name on the URL ({name})")
