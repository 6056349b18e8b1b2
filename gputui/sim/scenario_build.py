"""Build the built-in scenarios from one base cluster plus a small overlay per scenario.

`scenarios/base.yaml` holds the healthy cluster, `scenarios/<name>.yaml` what a scenario changes. Both are
one format, a sequence of steps applied in order to the objects of the cluster below (none for the base):

* a positive number `n`: keep the next `n` objects of the cluster below as they are;
* a negative number `-n`: leave the next `n` objects of the cluster below out;
* a Kubernetes object (it has `apiVersion`): add it as written;
* `{like: Kind/namespace/name, ...}`: add a copy of an object already known (one of the cluster below, or
  one built earlier in this file; `like: -1` is the object just before, `-2` the one before that), changed
  by, in this order, `sub` (replace each old text with the new one in every string), `shift` (move every
  timestamp by that many seconds), `del` (remove the fields at these JSON pointers) and `set` (JSON pointer
  -> value; a new key goes last, as the API server would keep it). A copy under another name gets its own
  uid and container IDs (see `derive`).

Near-identical objects (a DaemonSet's pods, the nodes of a pool, events) are thus stored as the few fields
they differ in. Building is deterministic and cached per process; the loader takes the built objects
as they are (scenario_documents), checked like any manifest's.

To change a scenario, write it out as plain manifests, edit them and encode them again:
`python -m gputui.sim.scenario_build export NAME FILE`, then `... encode NAME FILE [--base OTHER]`
(`encode base FILE` rewrites the base; the scenarios built on it must then be encoded again).
"""

from __future__ import annotations

import collections
import datetime as _dt
import hashlib
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
import yaml

from gputui.errors import InputError
from gputui.kube.manifests import Origin, check_document

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
BASE = "base"

_TS_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$")

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that keeps timestamps as strings, as the manifest loader does."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


# -- keys, pointers, transforms ------------------------------------------------------------


def object_key(obj: dict[str, Any]) -> str:
    md = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{md.get('namespace') or ''}/{md.get('name') or md.get('generateName') or ''}"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"bad JSON pointer {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _parent(doc: Any, tokens: list[str]) -> Any:
    for t in tokens:
        doc = doc[int(t)] if isinstance(doc, list) else doc[t]
    return doc


def _set(doc: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    tokens = _tokens(pointer)
    if not tokens:
        return _clone(value)
    parent = _parent(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, list):
        parent[int(last)] = _clone(value)
    else:
        parent[last] = _clone(value)
    return doc


def _delete(doc: dict[str, Any], pointer: str) -> None:
    tokens = _tokens(pointer)
    parent = _parent(doc, tokens[:-1])
    if isinstance(parent, list):
        del parent[int(tokens[-1])]
    else:
        del parent[tokens[-1]]


def _map_strings(value: Any, fn) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    return value


def _clone(value: Any) -> Any:
    """A deep copy of JSON-like data (much faster than copy.deepcopy)."""
    return msgspec.json.decode(msgspec.json.encode(value))


def _parse_ts(s: str) -> _dt.datetime | None:
    m = _TS_RE.match(s)
    return _dt.datetime.fromisoformat(m.group(1)) if m else None


def _rewriter(pairs: dict[str, str], seconds: int):
    """old -> new for every string: `pairs` replaced in order, then a timestamp moved by `seconds`."""
    delta = _dt.timedelta(seconds=seconds)

    def fn(s: str) -> str:
        for old, new in pairs.items():
            if old in s:
                s = s.replace(old, new)
        if seconds and len(s) >= 20 and s[10] == "T":
            m = _TS_RE.match(s)
            if m:
                when = _dt.datetime.fromisoformat(m.group(1)) + delta
                s = when.isoformat() + (m.group(2) or "") + "Z"
        return s

    return fn


def derived_uid(kind: str, namespace: str, name: str) -> str:
    """The uid every built-in scenario object carries: a hash of its kind, namespace and name."""
    h = hashlib.sha256(f"{kind}/{namespace}/{name}".encode()).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


_CONTAINER_ID_RE = re.compile(r"^containerd://[0-9a-f]{64}$")
_QUOTED_CONTAINER_ID = re.compile(r'"(containerd://[0-9a-f]{64})"')


def derive(template: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """The object a `like` step describes, from its template.

    A copy under another name also gets its own uid (when the template's is the derived one) and its own
    container IDs, hashed from its key and the template's IDs, unless `set` gives them.
    """
    pairs, seconds = step.get("sub") or {}, int(step.get("shift") or 0)
    obj = _map_strings(template, _rewriter(pairs, seconds)) if pairs or seconds else _clone(template)
    for pointer in step.get("del") or []:
        _delete(obj, pointer)
    for pointer, value in (step.get("set") or {}).items():
        obj = _set(obj, pointer, value)
    key, template_key = object_key(obj), object_key(template)
    if key != template_key:
        md, tmd = obj.get("metadata") or {}, template.get("metadata") or {}
        uid = tmd.get("uid")
        if uid and md.get("uid") == uid and uid == derived_uid(template["kind"], *template_key.split("/", 2)[1:]):
            md["uid"] = derived_uid(obj["kind"], *key.split("/", 2)[1:])
        if isinstance(obj.get("status"), dict):
            old_ids = set(_QUOTED_CONTAINER_ID.findall(msgspec.json.encode(template.get("status")).decode()))
            if old_ids:
                text = msgspec.json.encode(obj["status"]).decode()
                for old in old_ids:
                    new = "containerd://" + hashlib.sha256(f"{key}/{old}".encode()).hexdigest()
                    text = text.replace(f'"{old}"', f'"{new}"')
                obj["status"] = msgspec.json.decode(text)
    return obj


# -- building -------------------------------------------------------------------------------


def apply_steps(below: list[dict[str, Any]], steps: Iterable[Any], where: str = "overlay") -> list[dict[str, Any]]:
    """The objects of the cluster `below` changed by an overlay's steps."""
    known: dict[str, dict[str, Any]] = {object_key(o): o for o in below}
    out: list[dict[str, Any]] = []
    pos = 0
    for i, step in enumerate(steps, 1):
        if isinstance(step, bool) or not isinstance(step, int | dict):
            raise ValueError(f"{where}, step {i}: expected a number or a mapping, got {step!r}")
        if isinstance(step, int):
            end = pos + abs(step)
            if end > len(below):
                raise ValueError(f"{where}, step {i}: runs past the {len(below)} objects below")
            if step > 0:  # shared with `below`, never changed in place: derive copies, build() copies
                for o in below[pos:end]:
                    known[object_key(o)] = o
                    out.append(o)
            pos = end
            continue
        if "like" in step:
            like = step["like"]
            if isinstance(like, int) and not isinstance(like, bool):
                template = out[like] if -len(out) <= like < 0 else None
            else:
                template = known.get(str(like))
            if template is None:
                raise ValueError(f"{where}, step {i}: like {like} names no object known at that point")
            obj = derive(template, step)
        else:
            obj = _clone(step)
        known[object_key(obj)] = obj
        out.append(obj)
    if pos != len(below):
        raise ValueError(f"{where}: {len(below) - pos} objects below are neither kept nor left out")
    return out


def _read_overlay(path: Path) -> tuple[str | None, list[Any]]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
    if not isinstance(data, dict) or not isinstance(data.get("steps") or [], list):
        raise ValueError(f"{path}: expected a mapping with base (optional) and steps (a list)")
    below = data.get("base")
    return (str(below) if below else None), list(data.get("steps") or [])


_cache: dict[tuple[Path, str], list[dict[str, Any]]] = {}


def _built(name: str, root: Path, chain: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    key = (root, name)
    if key not in _cache:
        if name in chain:
            raise ValueError(f"{name}.yaml: its bases form a loop: {' -> '.join((*chain, name))}")
        below_name, steps = _read_overlay(root / f"{name}.yaml")
        if below_name is None and name != BASE:
            below_name = BASE
        below = _built(below_name, root, (*chain, name)) if below_name else []
        _cache[key] = apply_steps(below, steps, f"{name}.yaml")
    return _cache[key]


def has_scenario(name: str, root: Path = SCENARIO_DIR) -> bool:
    return not name.startswith(("_", ".")) and name != BASE and (root / f"{name}.yaml").is_file()


def build(name: str, root: Path = SCENARIO_DIR) -> list[dict[str, Any]]:
    """The manifests of a built-in scenario (CRDs aside), in the order the loader reads them. A fresh copy."""
    return _clone(_built(name, root))


def scenario_documents(name: str, root: Path = SCENARIO_DIR) -> list[tuple[Origin, dict[str, Any]]]:
    """The built scenario's objects, checked like documents read from a file, for the loader."""
    try:
        objects = build(name, root)
    except (OSError, ValueError, KeyError, IndexError, TypeError, yaml.YAMLError) as exc:
        raise InputError(
            f"built-in scenario {name!r} cannot be built: {exc}",
            hint=f"the overlays in {root} are broken; restore them or encode the scenario again",
        ) from exc
    read = []
    for i, obj in enumerate(objects, 1):
        origin = Origin(f"built-in scenario {name}", 1, i)
        check_document(obj, origin)
        read.append((origin, obj))
    return read


# -- encoding (maintenance) -----------------------------------------------------------------


def _diff(a: Any, b: Any, pointer: str, sets: dict[str, Any], dels: list[str], loose: bool = False) -> None:
    if loose and isinstance(a, str) and isinstance(b, str) and _CONTAINER_ID_RE.match(a) and _CONTAINER_ID_RE.match(b):
        return
    if isinstance(a, dict) and isinstance(b, dict):
        index = {k: i for i, k in enumerate(a)}
        keys = list(b)
        split, last = 0, -1
        while split < len(keys) and keys[split] in index and index[keys[split]] > last:
            last = index[keys[split]]
            split += 1
        moved = [k for k in keys[split:] if k in a]
        if moved and len(moved) * 2 > len(b):
            sets[pointer] = b
            return
        for k in a:
            if k not in b or k in moved:
                dels.append(f"{pointer}/{_escape(k)}")
        for k in keys[:split]:
            _diff(a[k], b[k], f"{pointer}/{_escape(k)}", sets, dels, loose)
        for k in keys[split:]:
            sets[f"{pointer}/{_escape(k)}"] = b[k]
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{pointer}/{i}", sets, dels, loose)
    elif type(a) is not type(b) or a != b:
        sets[pointer] = b


def _leaves(value: Any, pointer: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{pointer}/{_escape(k)}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{pointer}/{i}")
    else:
        yield pointer, value


_IDENTITY = re.compile(
    r"^/(metadata/(name|ownerReferences/\d+/(name|uid)|labels/[^/]*hostname)|spec/(nodeName|providerID)"
    r"|status/(hostIP|podIP|nodeName|providerID|addresses/\d+/address)|involvedObject/(name|uid)|regarding/(name|uid))$"
)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def _step_for(template: dict[str, Any], target: dict[str, Any], like: str) -> dict[str, Any] | None:
    tleaves = dict(_leaves(template))
    subs: dict[str, str] = {}
    deltas: collections.Counter[int] = collections.Counter()
    for pointer, value in _leaves(target):
        old = tleaves.get(pointer)
        if not isinstance(value, str) or not isinstance(old, str) or old == value:
            continue
        t_old, t_new = _parse_ts(old), _parse_ts(value)
        if t_old and t_new:
            deltas[int((t_new - t_old).total_seconds())] += 1
        elif _IDENTITY.match(pointer):
            old, value = _shorten(old, value)
            if len(old) >= 4 and old not in subs:
                subs[old] = value
    subs = dict(sorted(subs.items(), key=lambda kv: -len(kv[0])))
    best: dict[str, Any] | None = None
    shifts = [0] + [d for d, _ in deltas.most_common(1) if d]
    loose = object_key(target) != object_key(template)
    for sub in ({}, subs) if subs else ({},):
        for shift in shifts:
            step: dict[str, Any] = {"like": like}
            if sub:
                step["sub"] = sub
            if shift:
                step["shift"] = shift
            base = derive(template, step)
            sets: dict[str, Any] = {}
            dels: list[str] = []
            _diff(base, target, "", sets, dels, loose)
            if dels:
                step["del"] = dels
            if sets:
                step["set"] = sets
            if not same(derive(template, step), target):
                continue
            if best is None or _size(step) < _size(best):
                best = step
    return best


def mask_container_ids(value: Any) -> Any:
    """`value` with every container ID replaced by one placeholder (IDs of copied pods are regenerated)."""
    return _map_strings(value, lambda s: "containerd://*" if _CONTAINER_ID_RE.match(s) else s)


def same(a: Any, b: Any) -> bool:
    """Equal, key order included, but for container IDs."""
    return json.dumps(mask_container_ids(a)) == json.dumps(mask_container_ids(b))


def _shorten(old: str, new: str) -> tuple[str, str]:
    """The differing middle of two strings, widened to whole '-'/'.' separated words."""
    i = 0
    while i < min(len(old), len(new)) and old[i] == new[i]:
        i += 1
    i = max(old.rfind("-", 0, i), old.rfind(".", 0, i)) + 1 if i < min(len(old), len(new)) else i
    j = 0
    while j < min(len(old), len(new)) - i and old[-1 - j] == new[-1 - j]:
        j += 1
    if j:
        tail = old[len(old) - j :]
        cut = min((p for p in (tail.find("-"), tail.find(".")) if p >= 0), default=j)
        j = j - cut
    return old[i : len(old) - j], new[i : len(new) - j]


_GROUP_LABELS = ("node.kubernetes.io/instance-type", "karpenter.sh/nodepool")


def _stem(name: str) -> str:
    return name.rsplit("-", 1)[0] if "-" in name else name


def encode(below: list[dict[str, Any]], target: list[dict[str, Any]]) -> list[Any]:
    """Steps that turn `below` into `target` (checked: applying them gives `target` exactly)."""
    import difflib

    below_keys = [object_key(o) for o in below]
    target_keys = [object_key(o) for o in target]
    known: dict[str, dict[str, Any]] = {k: o for k, o in zip(below_keys, below, strict=True)}
    by_group: dict[tuple[str, ...], list[str]] = collections.defaultdict(list)

    def remember(key: str, obj: dict[str, Any]) -> None:
        known[key] = obj
        md = obj.get("metadata") or {}
        groups = [("kind", obj["kind"]), ("stem", obj["kind"], md.get("namespace") or "", _stem(md.get("name", "")))]
        groups += [("label", obj["kind"], lbl, (md.get("labels") or {}).get(lbl)) for lbl in _GROUP_LABELS]
        for ref in md.get("ownerReferences") or []:
            groups.append(("owner", obj["kind"], str(ref.get("name"))))
        for g in groups:
            lst = by_group[g]
            if key in lst:
                lst.remove(key)
            lst.append(key)

    for k, o in zip(below_keys, below, strict=True):
        remember(k, o)
    steps: list[Any] = []
    out: list[dict[str, Any]] = []

    def emit_keep(n: int) -> None:
        if n and steps and isinstance(steps[-1], int) and (steps[-1] > 0) == (n > 0):
            steps[-1] += n
        elif n:
            steps.append(n)

    def emit_object(obj: dict[str, Any]) -> None:
        key = object_key(obj)
        md = obj.get("metadata") or {}
        cands: list[str] = []
        groups: list[tuple[Any, ...]] = [("stem", obj["kind"], md.get("namespace") or "", _stem(md.get("name", "")))]
        groups += [("owner", obj["kind"], str(r.get("name"))) for r in md.get("ownerReferences") or []]
        labels = md.get("labels") or {}
        groups += [("label", obj["kind"], lbl, labels.get(lbl)) for lbl in _GROUP_LABELS if labels.get(lbl)]
        groups.append(("kind", obj["kind"]))
        if key in known:
            cands.append(key)
        for g in groups:
            for c in reversed(by_group.get(g, [])[-3:]):
                if c not in cands:
                    cands.append(c)
        best: Any = obj
        for c in cands[:8]:
            step = _step_for(known[c], obj, c)
            if step is not None and _size(step) < _size(best):
                best = step
        made = obj
        if "like" in best:
            template = known[best["like"]]
            made = derive(template, best)
            for back in (1, 2, 3):
                if len(out) >= back and out[-back] is template:
                    best = {"like": -back, **{k: v for k, v in best.items() if k != "like"}}
                    break
        steps.append(best)
        remember(key, made)
        out.append(made)

    matcher = difflib.SequenceMatcher(None, below_keys, target_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                if same(below[i], target[j]):
                    emit_keep(1)
                    remember(target_keys[j], below[i])
                    out.append(below[i])
                else:
                    emit_keep(-1)
                    emit_object(target[j])
        else:
            emit_keep(-(i2 - i1))
            for j in range(j1, j2):
                emit_object(target[j])
    rebuilt = apply_steps(below, steps, "encoded")
    if not same(rebuilt, target):
        raise AssertionError("encoding does not round-trip")
    return steps


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    pass


def _str_presenter(dumper, data: str):
    style = "|" if "\n" in data and not data.endswith((" ", "\t")) and "\r" not in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_overlay(below: str | None, steps: list[Any], header: str = "") -> str:
    doc: dict[str, Any] = {"base": below} if below and below != BASE else {}
    doc["steps"] = steps
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096, default_flow_style=None)
    return header + text


def _read_manifests(paths: Iterable[Path]) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
        for f in files:
            if f.name == "index.yaml":
                continue
            for doc in yaml.load_all(f.read_text(encoding="utf-8"), Loader=_Loader):
                if doc is None:
                    continue
                if isinstance(doc.get("kind"), str) and doc["kind"].endswith("List") and "items" in doc:
                    objs.extend(doc["items"] or [])
                else:
                    objs.append(doc)
    return objs


def _comments(paths: Iterable[Path]) -> str:
    lines: list[str] = []
    for root in paths:
        if root.name.startswith("_") or root.parent.name.startswith("_"):
            continue  # shared pieces: their comments are the base's
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
        for f in files:
            lines += [ln for ln in f.read_text(encoding="utf-8").splitlines() if ln.startswith("#")]
    return "".join(f"{ln}\n" for ln in lines)


def _header(path: Path) -> str:
    """The comment lines a file starts with (an overlay's story)."""
    if not path.is_file():
        return ""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line + "\n")
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gputui.sim.scenario_build")
    sub = parser.add_subparsers(dest="cmd", required=True)
    enc = sub.add_parser("encode", help="write manifests (files or directories) as an overlay on the base")
    enc.add_argument("name", help="scenario name, or 'base' to write base.yaml itself")
    enc.add_argument("paths", nargs="+", type=Path)
    enc.add_argument("--root", type=Path, default=SCENARIO_DIR)
    enc.add_argument("--base", action="append", default=[], help="also try this scenario as the base (repeatable)")
    exp = sub.add_parser("export", help="write a built-in scenario's manifests (CRDs aside) as one YAML file")
    exp.add_argument("name")
    exp.add_argument("file", type=Path)
    exp.add_argument("--root", type=Path, default=SCENARIO_DIR)
    args = parser.parse_args(argv)
    if args.cmd == "export":
        text = yaml.dump_all(
            build(args.name, args.root), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096
        )
        args.file.write_text(_header(args.root / f"{args.name}.yaml") + text, encoding="utf-8")
        return 0
    target = _read_manifests(args.paths)
    header = _comments(args.paths) or _header(args.root / f"{args.name}.yaml")
    # The overlays built on this one describe changes to its objects: keep what they build.
    dependents = _dependents(args.name, args.root)
    saved = {n: build(n, args.root) for n in dependents}
    best: tuple[int, str] | None = None
    candidates = [b for b in args.base if b != args.name and b not in dependents]
    for below_name in [None] if args.name == BASE else [BASE, *candidates]:
        below = _built(below_name, args.root) if below_name else []
        text = dump_overlay(below_name, encode(below, target), header)
        if best is None or len(text) < best[0]:
            best = (len(text), text)
    assert best is not None
    (args.root / f"{args.name}.yaml").write_text(best[1], encoding="utf-8")
    _cache.clear()
    for name in dependents:
        below_name = _below_name(name, args.root)
        steps = encode(_built(below_name, args.root) if below_name else [], saved[name])
        path = args.root / f"{name}.yaml"
        path.write_text(dump_overlay(below_name, steps, _header(path)), encoding="utf-8")
        _cache.clear()
        print(f"encoded {name} again: it builds on {args.name}", file=sys.stderr)
    return 0


def _below_name(name: str, root: Path) -> str | None:
    """The scenario an overlay is built on (None for the base itself)."""
    if name == BASE:
        return None
    return _read_overlay(root / f"{name}.yaml")[0] or BASE


def _dependents(name: str, root: Path) -> list[str]:
    """The overlays built on `name`, directly or through others, each after the one it is built on."""

    def chain(n: str) -> list[str]:
        out: list[str] = []
        below = _below_name(n, root)
        while below and below not in out:
            out.append(below)
            below = _below_name(below, root)
        return out

    chains: dict[str, list[str]] = {}
    for path in sorted(root.glob("*.yaml")):
        if path.name == "index.yaml" or path.stem == name:
            continue
        try:
            chains[path.stem] = chain(path.stem)
        except (OSError, ValueError, yaml.YAMLError):
            continue  # not an overlay (manifests kept next to them, say)
    return sorted((n for n, c in chains.items() if name in c), key=lambda n: len(chains[n]))


if __name__ == "__main__":
    raise SystemExit(main())
