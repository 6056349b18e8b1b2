"""The patch flavours the Kubernetes API accepts, as pure functions: JSON merge patch
(RFC 7386), JSON patch (RFC 6902), strategic merge patch (lists of built-in kinds merge by
their patchMergeKey) and server-side apply (without field ownership).

Used by the fix plans (the local preview of a patch) and by the simulator (the server's
answer). Every function leaves its inputs alone and returns the result. Failures raise
`PatchError` with the message the API server writes and the HTTP status it answers
(400 for a malformed patch, 422 for one that does not apply).
"""

from __future__ import annotations

import copy
from typing import Any


class PatchError(ValueError):
    """The patch cannot be applied to the document as it is."""

    def __init__(self, message: str, code: int = 422):
        super().__init__(message)
        self.message = message
        self.code = code


# --- JSON merge patch ----------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge key by key, null deletes, anything else replaces."""
    return _merge(copy.deepcopy(target), patch)


def _merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge(target.get(key), value)
    return target


# --- JSON patch ----------------------------------------------------------------------


def pointer(path: str) -> list[str]:
    """A JSON pointer (RFC 6901) -> its unescaped reference tokens."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'JSON pointer must be empty or start with a "/": {path!r}', 400)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], op: str, path: str) -> Any:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return cur


def _index(container: list, token: str, op: str, path: str, insert: bool) -> int:
    if token == "-" and insert:
        return len(container)
    if not token.isdigit():
        raise PatchError(f'{op} operation does not apply: invalid array index {token!r} in "{path}"')
    i = int(token)
    if i > len(container) or (not insert and i == len(container)):
        raise PatchError(f'{op} operation does not apply: index out of bounds: {i} in "{path}"')
    return i


def _get(doc: Any, path: str, op: str) -> Any:
    cur = doc
    for p in pointer(path):
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return cur


def _remove(doc: Any, path: str, op: str) -> Any:
    parts = pointer(path)
    if not parts:
        raise PatchError(f"{op} operation does not apply: cannot remove the whole document")
    parent = _parent(doc, parts, op, path)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"{op} operation does not apply: doc is missing key: {path}: missing value")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, op, path, insert=False))
    raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')


def _add(doc: Any, path: str, value: Any, op: str) -> Any:
    parts = pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, op, path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, op, path, insert=True), value)
    else:
        raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902: add, remove, replace, move, copy and test, in order; all or nothing."""
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400)
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError('Unexpected kind: missing "op"', 400)
        kind, path = op["op"], op.get("path")
        if path is None:
            raise PatchError(f"{kind} operation does not apply: missing path", 400)
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")), kind)
        elif kind == "remove":
            _remove(doc, path, kind)
        elif kind == "replace":
            parts = pointer(path)
            if parts:
                _get(doc, path, kind)  # must exist
                _remove(doc, path, kind)
            doc = _add(doc, path, copy.deepcopy(op.get("value")), kind)
        elif kind == "move":
            value = _remove(doc, op.get("from", ""), kind)
            doc = _add(doc, path, value, kind)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from", ""), kind)), kind)
        elif kind == "test":
            if _get(doc, path, kind) != op.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}", 400)
    return doc


# --- strategic merge patch -------------------------------------------------------------

# patchMergeKey of the list fields that merge instead of being replaced (k8s.io/api tags).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "addresses": "type",
}
# Lists of scalars merged as sets.
SET_LISTS = frozenset({"finalizers"})


def merge_key(field: str, kind: str | None) -> str | None:
    """The key a list field's items merge by (None: the list is replaced whole)."""
    if field == "ports" and kind == "Service":
        return "port"
    return MERGE_KEYS.get(field)


def strategic_merge(target: Any, patch: Any, kind: str | None = None) -> Any:
    """A strategic merge patch on an object of a built-in `kind`."""
    return _strategic(copy.deepcopy(target), patch, kind)


def _strategic(target: Any, patch: Any, kind: str | None) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(target.get(field), list):
                target[field] = [v for v in target[field] if v not in (value or [])]
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            merged = _strategic(target.get(key), value, kind)
            if merged is None:
                target.pop(key, None)
            else:
                target[key] = merged
        elif isinstance(value, list):
            target[key] = _merge_list(key, target.get(key), value, kind)
        else:
            target[key] = value
    return target


def _merge_list(field: str, current: Any, patch: list, kind: str | None) -> list:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" and len(p) == 1 for p in patch):
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and p.get("$patch") == "replace")]
    current = list(current) if isinstance(current, list) else []
    if field in SET_LISTS:
        out = list(current)
        for v in patch:
            if v not in out:
                out.append(v)
        return out
    key = merge_key(field, kind)
    if key is None:
        return [copy.deepcopy(p) for p in patch]
    out = list(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PatchError(f"map: {item!r} does not contain declared merge key: {key}", 400)
        at = next((i for i, cur in enumerate(out) if isinstance(cur, dict) and cur.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if at is not None:
                out.pop(at)
            continue
        if at is None:
            out.append(_strategic({}, item, kind))
        else:
            merged = _strategic(out[at], item, kind)
            if merged is None:
                out.pop(at)
            else:
                out[at] = merged
    return out


def apply_patch(target: dict | None, patch: dict, *, builtin: bool) -> dict:
    """Server-side apply without field ownership: the applied configuration wins.

    Lists merge by the same keys as a strategic merge for built-in kinds (their
    listMapKeys match the patchMergeKeys) and are replaced for custom resources.
    """
    base = target if target is not None else {}
    if builtin:
        return strategic_merge(base, patch, patch.get("kind"))
    return merge_patch(base, patch)
