"""Turn scenario names, manifest files and directories into objects the simulator can serve.

Input is whatever holds Kubernetes objects: YAML (multi-document), JSON, `kind: List`
dumps as `kubectl get -o yaml` writes them, and directories of such files. Every
document is checked before anything is served, and a bad one is reported as
"<file>, document <n>: <reason>" so the author can go straight to it.

Objects are then made to look served by a real API server: timestamps move so the
newest lands at "now" (ages stay realistic whenever a scenario is played), and the
fields a server or kubelet would have set — and that the typed `kubernetes` client
models insist on — are filled in when a hand-written manifest leaves them out.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from checks import timestamps
from gputui.errors import InputError
from gputui.sim.resources import BUILTIN_TYPES, ResourceType

log = logging.getLogger("gputui.sim")

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
CRD_DIR = Path(__file__).resolve().parent / "crds"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

# Objects the server answers itself and never stores.
_NEVER_STORED = {"SelfSubjectAccessReview"}

_UID_NAMESPACE = uuid.UUID("6f1c2a9e-4b7d-4e0a-9c55-2d0b8f3e7a11")

Source = str | Path


# -- YAML without implicit timestamps -------------------------------------------------

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ManifestLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that keeps timestamps as the strings the API writes, not datetimes."""


_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


# -- built-in scenarios -----------------------------------------------------------------


def _scenario_index() -> dict[str, dict[str, Any]]:
    index_file = SCENARIO_DIR / "index.yaml"
    if not index_file.is_file():
        return {}
    try:
        data = yaml.load(index_file.read_text(encoding="utf-8"), Loader=_ManifestLoader) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{index_file}: {exc}", hint="the built-in scenario index is broken") from exc
    if isinstance(data.get("scenarios"), dict):
        data = data["scenarios"]
    return {
        str(name): (entry if isinstance(entry, dict) else {})
        for name, entry in data.items()
        if not str(name).startswith("_")
    }


def scenario_names() -> list[str]:
    """Built-in scenario names, in index order."""
    return list(_scenario_index())


def scenario_description(name: str) -> str:
    entry = _scenario_index().get(name)
    if entry is None:
        raise _unknown_scenario(name)
    return str(entry.get("description") or "").strip()


def _unknown_scenario(name: str) -> InputError:
    names = scenario_names()
    valid = ", ".join(names) if names else "(none installed)"
    return InputError(
        f"no such file, directory or built-in scenario: {name}",
        hint=f"built-in scenarios: {valid}; or give a path to YAML/JSON manifests",
    )


def _scenario_paths(name: str, entry: dict[str, Any]) -> list[Path]:
    paths: list[Path] = []
    for rel in entry.get("include") or []:
        p = (SCENARIO_DIR / str(rel)).resolve()
        if not p.exists():
            raise InputError(
                f"built-in scenario {name!r} includes {rel}, which does not exist",
                hint=f"fix the include list in {SCENARIO_DIR / 'index.yaml'}",
            )
        paths.append(p)
    own = SCENARIO_DIR / name
    if own.is_dir():
        paths.append(own.resolve())
    return paths


def resolve_sources(sources: Iterable[Source]) -> list[Path]:
    """Scenario names, files and directories -> the files and directories to read.

    An existing path wins over a scenario of the same name. Duplicates are dropped,
    first occurrence kept, so "base + incident" with a shared include reads it once.
    """
    index: dict[str, dict[str, Any]] | None = None
    out: list[Path] = []
    seen: set[Path] = set()
    for src in sources:
        path = Path(src).expanduser()
        if path.exists():
            candidates = [path.resolve()]
        else:
            if index is None:
                index = _scenario_index()
            name = str(src)
            if name not in index:
                raise _unknown_scenario(name)
            candidates = _scenario_paths(name, index[name])
        for p in candidates:
            if p not in seen:
                seen.add(p)
                out.append(p)
    return out


def _manifest_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() in MANIFEST_SUFFIXES
        and not p.name.startswith(".")
        and p.name != "index.yaml"
    )


# -- reading documents ------------------------------------------------------------------


class _Origin:
    """Where a document came from, for error messages."""

    __slots__ = ("file", "doc", "item")

    def __init__(self, file: str, doc: int, item: int | None = None):
        self.file, self.doc, self.item = file, doc, item

    def __str__(self) -> str:
        s = f"{self.file}, document {self.doc}"
        return s if self.item is None else f"{s}, item {self.item}"


_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MANIFEST_HINT = "each document needs apiVersion, kind and metadata.name, as in `kubectl get <kind> <name> -o yaml`"


def _read_documents(path: Path, shown: str) -> list[tuple[int, Any]]:
    """(1-based document index, parsed document) for every non-empty document."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{shown}: cannot read: {exc}", hint="give a readable UTF-8 YAML or JSON file") from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{shown}, line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}",
                hint="fix the JSON at that position",
            ) from exc
        if isinstance(data, list):  # a bare JSON array of objects
            return [(i, d) for i, d in enumerate(data, 1)]
        return [(1, data)]
    docs: list[tuple[int, Any]] = []
    n = 0
    try:
        for n, doc in enumerate(yaml.load_all(text, Loader=_ManifestLoader), 1):
            if doc is not None:
                docs.append((n, doc))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise InputError(
            f"{shown}, document {n + 1}{where}: YAML syntax error: {problem}",
            hint="check indentation, a missing space after ':' or a tab character on that line",
        ) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{shown}, document {n + 1}: YAML error: {exc}", hint="fix the YAML syntax") from exc
    return docs


def _flatten(doc: Any, origin: _Origin) -> Iterable[tuple[_Origin, Any]]:
    """`kind: List` and `<Kind>List` documents yield their items."""
    if isinstance(doc, dict) and isinstance(doc.get("kind"), str) and doc["kind"].endswith("List") and "items" in doc:
        items = doc.get("items") or []
        if not isinstance(items, list):
            raise InputError(f"{origin}: items must be a list", hint=_MANIFEST_HINT)
        for i, item in enumerate(items, 1):
            yield _Origin(origin.file, origin.doc, i), item
    else:
        yield origin, doc


def _check_document(obj: Any, origin: _Origin) -> None:
    def bad(reason: str, hint: str = _MANIFEST_HINT) -> InputError:
        return InputError(f"{origin}: {reason}", hint=hint)

    if not isinstance(obj, dict):
        raise bad(f"expected a mapping (an object), got {_type_name(obj)}")
    for key in ("apiVersion", "kind"):
        if not obj.get(key):
            raise bad(f"{key} is missing")
        if not isinstance(obj[key], str):
            raise bad(f"{key} must be a string, got {_type_name(obj[key])}")
    md = obj.get("metadata")
    if md is None:
        raise bad("metadata is missing")
    if not isinstance(md, dict):
        raise bad(f"metadata must be a mapping, got {_type_name(md)}")
    if not md.get("name") and not md.get("generateName"):
        raise bad("metadata.name is missing (and no metadata.generateName)")
    name = md.get("name")
    if isinstance(name, str) and name and (len(name) > 253 or not _NAME_RE.match(name)):
        raise bad(
            f"metadata.name {name!r} is not a valid name",
            hint="names are lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
        )
    for key in ("name", "generateName", "namespace"):
        if key in md and md[key] is not None and not isinstance(md[key], str):
            raise bad(f"metadata.{key} must be a string, got {_type_name(md[key])}")
    for field in ("labels", "annotations"):
        values = md.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise bad(f"metadata.{field} must be a mapping, got {_type_name(values)}")
        for k, v in values.items():
            if not isinstance(v, str):
                raise bad(
                    f"metadata.{field}[{k!r}] must be a string, got {_type_name(v)} {v!r}",
                    hint='quote the value in YAML, e.g. "true" or "1"',
                )


def _type_name(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "nothing",
    }.get(type(value), type(value).__name__)


# -- public entry points ----------------------------------------------------------------


def load_objects(
    sources: Iterable[Source], *, shift_time: bool = True, now: _dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Read, validate and complete every object from scenario names, files and directories.

    Custom resource definitions come first and namespaces second in the result, so
    the objects can be created in order.
    """
    read: list[tuple[_Origin, dict[str, Any]]] = []
    cwd = Path.cwd()
    for root in resolve_sources(sources):
        for path in _manifest_files(root):
            shown = _shown_path(path, cwd)
            for doc_index, doc in _read_documents(path, shown):
                for origin, obj in _flatten(doc, _Origin(shown, doc_index)):
                    _check_document(obj, origin)
                    read.append((origin, obj))
    return _prepare(read, shift_time=shift_time, now=now)


def prepare_objects(
    objects: Iterable[dict[str, Any]],
    *,
    shift_time: bool = False,
    now: _dt.datetime | None = None,
    label: str = "objects",
) -> list[dict[str, Any]]:
    """The same validation and completion for manifest dicts that did not come from files.

    The caller's dicts are left as they were; the result holds completed copies.
    """
    read = []
    for i, obj in enumerate(objects, 1):
        origin = _Origin(label, i)
        _check_document(obj, origin)
        read.append((origin, copy.deepcopy(obj)))
    return _prepare(read, shift_time=shift_time, now=now)


def _shown_path(path: Path, cwd: Path) -> str:
    for base in (cwd, SCENARIO_DIR.parent):
        try:
            return str(path.relative_to(base))
        except ValueError:
            pass
    return str(path)


def _prepare(
    read: list[tuple[_Origin, dict[str, Any]]], *, shift_time: bool, now: _dt.datetime | None
) -> list[dict[str, Any]]:
    explicit_now = now is not None
    now = (now or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc).replace(microsecond=0)
    types = _types_for(obj for _, obj in read)
    kept: list[tuple[_Origin, dict[str, Any]]] = []
    skipped: dict[str, int] = {}
    for origin, obj in read:
        kind = obj["kind"]
        if kind in _NEVER_STORED or (obj["apiVersion"], kind) not in types:
            skipped[f"{obj['apiVersion']} {kind}"] = skipped.get(f"{obj['apiVersion']} {kind}", 0) + 1
            continue
        kept.append((origin, obj))
    if skipped:
        log.warning(
            "ignored objects of kinds the simulator does not serve (no built-in type or CRD): %s",
            ", ".join(f"{k} ({n})" for k, n in sorted(skipped.items())),
        )
    if shift_time:
        shift_times([obj for _, obj in kept], now)
    elif not explicit_now:
        # Unshifted data keeps its own clock: timestamps filled in (objects written without
        # one) must not jump to the wall clock, or offline ages would all be measured from now.
        now = newest_time(obj for _, obj in kept) or now
    objects = complete([(str(o), obj, types[(obj["apiVersion"], obj["kind"])]) for o, obj in kept], now, types)
    order = {"CustomResourceDefinition": 0, "Namespace": 1}
    objects.sort(key=lambda o: order.get(o["kind"], 2))
    return objects


def _types_for(objects: Iterable[dict[str, Any]]) -> dict[tuple[str, str], ResourceType]:
    """(apiVersion, kind) -> type, for built-ins and for every CRD among the objects."""
    objects = list(objects)
    types: dict[tuple[str, str], ResourceType] = {}
    for rt in BUILTIN_TYPES:
        for v in rt.served_versions:
            types[(rt.api_version(v), rt.kind)] = rt
    for obj in objects:
        if obj["kind"] == "CustomResourceDefinition" and isinstance(obj.get("spec"), dict):
            try:
                rt = ResourceType.from_crd(obj)
            except (KeyError, TypeError, AttributeError):
                continue  # _fill_crd reports what is wrong with it
            for v in rt.served_versions:
                types[(rt.api_version(v), rt.kind)] = rt
    return types


def deterministic_uid(*parts: str) -> str:
    """A stable uid, so the same scenario always serves the same uids (and owner refs line up)."""
    return str(uuid.uuid5(_UID_NAMESPACE, "/".join(parts)))


def short_hash(*parts: str, length: int = 5) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


# -- time shifting ----------------------------------------------------------------------

_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# Keys under `status` (of any kind, CRs included) whose values are points in time.
_STATUS_TIME_SUFFIXES = ("Time", "Timestamp", "At")
_TOP_TIME_KEYS = ("firstTimestamp", "lastTimestamp", "eventTime")
_SPEC_TIME_KEYS = ("acquireTime", "renewTime")  # Lease


def parse_time(value: Any) -> _dt.datetime | None:
    """A timestamp field's value, when it is one in the API's own form (RFC 3339, date and time)."""
    if not isinstance(value, str) or not _TS_RE.match(value):
        return None
    return timestamps.parse_time(value)


def format_time(when: _dt.datetime, micro: bool = False) -> str:
    when = when.astimezone(_dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def _time_slots(obj: dict[str, Any]) -> Iterable[tuple[Any, Any]]:
    """(container, key) of every timestamp field in an object."""
    md = obj.get("metadata") or {}
    for key in ("creationTimestamp", "deletionTimestamp"):
        if md.get(key):
            yield md, key
    for mf in md.get("managedFields") or []:
        if isinstance(mf, dict) and mf.get("time"):
            yield mf, "time"
    for key in _TOP_TIME_KEYS:
        if obj.get(key):
            yield obj, key
    series = obj.get("series")
    if isinstance(series, dict) and series.get("lastObservedTime"):
        yield series, "lastObservedTime"
    spec = obj.get("spec")
    if isinstance(spec, dict):
        for key in _SPEC_TIME_KEYS:
            if spec.get(key):
                yield spec, key
    status = obj.get("status")
    if isinstance(status, (dict, list)):
        yield from _status_time_slots(status)


def _status_time_slots(node: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key.endswith(_STATUS_TIME_SUFFIXES) and _TS_RE.match(value):
                    yield node, key
            elif isinstance(value, (dict, list)):
                yield from _status_time_slots(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                yield from _status_time_slots(item)


def newest_time(objects: Iterable[dict[str, Any]]) -> _dt.datetime | None:
    """The latest timestamp anywhere in the objects (None when they carry none)."""
    newest: _dt.datetime | None = None
    for obj in objects:
        for container, key in _time_slots(obj):
            when = parse_time(container[key])
            if when is not None and (newest is None or when > newest):
                newest = when
    return newest


def shift_times(objects: Iterable[dict[str, Any]], now: _dt.datetime) -> _dt.timedelta:
    """Move every timestamp by the same whole-second delta so the newest one is `now`."""
    slots = []
    newest: _dt.datetime | None = None
    for obj in objects:
        for container, key in _time_slots(obj):
            when = parse_time(container[key])
            if when is None:
                continue
            slots.append((container, key, when))
            if newest is None or when > newest:
                newest = when
    if newest is None:
        return _dt.timedelta(0)
    delta = _dt.timedelta(seconds=round((now - newest).total_seconds()))
    for container, key, when in slots:
        container[key] = format_time(when + delta, micro="." in container[key])
    return delta


# -- completing objects -----------------------------------------------------------------


# Kinds that references (owners, involved objects) name even when the scenario does not
# load them: (apiVersion, namespaced).
_WELL_KNOWN_KINDS = {
    "NodePool": ("karpenter.sh/v1", False),
    "NodeClaim": ("karpenter.sh/v1", False),
    "EC2NodeClass": ("karpenter.k8s.aws/v1", False),
    "ClusterPolicy": ("nvidia.com/v1", False),
    "NVIDIADriver": ("nvidia.com/v1alpha1", False),
    "ControllerRevision": ("apps/v1", True),
    "CronJob": ("batch/v1", True),
    "PersistentVolume": ("v1", False),
    "PersistentVolumeClaim": ("v1", True),
    "Secret": ("v1", True),
    "PriorityClass": ("scheduling.k8s.io/v1", False),
}


class _Ctx:
    """What filling one object may look up: the other objects, types and the clock."""

    def __init__(self, now: _dt.datetime, types: dict[tuple[str, str], ResourceType]):
        self.now = now
        self.now_s = format_time(now)
        self.by_key: dict[tuple[str, str, str], dict[str, Any]] = {}  # (kind, namespace, name)
        self.kind_types: dict[str, ResourceType] = {}
        for rt in types.values():
            self.kind_types.setdefault(rt.kind, rt)

    def api_version_of(self, kind: str) -> str | None:
        rt = self.kind_types.get(kind)
        return rt.api_version() if rt else _WELL_KNOWN_KINDS.get(kind, (None, True))[0]

    def namespaced(self, kind: str) -> bool:
        rt = self.kind_types.get(kind)
        return rt.namespaced if rt else _WELL_KNOWN_KINDS.get(kind, (None, True))[1]

    def uid_of(self, kind: str, namespace: str | None, name: str) -> str:
        target = self.by_key.get((kind, namespace or "", name))
        if target is not None:
            return target["metadata"]["uid"]
        return deterministic_uid(kind, namespace or "", name)


def complete(
    items: list[tuple[str, dict[str, Any], ResourceType]],
    now: _dt.datetime,
    types: dict[tuple[str, str], ResourceType] | None = None,
) -> list[dict[str, Any]]:
    """Fill server-set fields in place; returns the objects plus any namespace they need."""
    if types is None:
        types = _types_for(obj for _, obj, _ in items)
    ctx = _Ctx(now, types)
    first_seen: dict[tuple[str, str, str, str], str] = {}
    for origin, obj, rt in items:
        md = obj["metadata"]
        if not md.get("name"):
            md["name"] = md["generateName"] + short_hash(origin, md["generateName"])
        if rt.namespaced:
            md["namespace"] = md.get("namespace") or "default"
        else:
            md.pop("namespace", None)
        key = (rt.group, rt.kind, md.get("namespace") or "", md["name"])
        if key in first_seen:
            where = f"{key[2]}/{key[3]}" if key[2] else key[3]
            raise InputError(
                f"{origin}: {rt.kind} {where} is defined twice (first in {first_seen[key]})",
                hint="names must be unique per kind and namespace: rename or remove one of them",
            )
        first_seen[key] = origin
        md["uid"] = md.get("uid") or deterministic_uid(rt.kind, md.get("namespace") or "", md["name"])
        md["creationTimestamp"] = md.get("creationTimestamp") or ctx.now_s
        ctx.by_key[(rt.kind, md.get("namespace") or "", md["name"])] = obj
    for origin, obj, rt in items:

        def bad(reason: str, hint: str = _MANIFEST_HINT, _origin: str = origin) -> InputError:
            return InputError(f"{_origin}: {reason}", hint=hint)

        _fill_owner_refs(obj, ctx, bad)
        filler = _FILLERS.get(rt.kind) if not rt.group or rt.group in _BUILTIN_GROUPS else None
        if filler is not None:
            filler(obj, ctx, bad)
    objects = [obj for _, obj, _ in items]
    objects.extend(_missing_namespaces(objects, ctx))
    return objects


_BUILTIN_GROUPS = {rt.group for rt in BUILTIN_TYPES}


def _missing_namespaces(objects: list[dict[str, Any]], ctx: _Ctx) -> list[dict[str, Any]]:
    """A real server refuses objects in a namespace that does not exist; create the ones used."""
    defined = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    oldest: dict[str, str] = {}
    for o in objects:
        ns = o["metadata"].get("namespace")
        if ns and ns not in defined:
            created = o["metadata"]["creationTimestamp"]
            if ns not in oldest or created < oldest[ns]:
                oldest[ns] = created
    out = []
    for ns in sorted(oldest):
        obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "uid": deterministic_uid("Namespace", "", ns), "creationTimestamp": oldest[ns]},
        }
        _fill_namespace(obj, ctx, None)  # type: ignore[arg-type]
        out.append(obj)
    return out


def _fill_owner_refs(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    refs = obj["metadata"].get("ownerReferences")
    if not refs:
        return
    if not isinstance(refs, list):
        raise bad("metadata.ownerReferences must be a list")
    ns = obj["metadata"].get("namespace")
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict) or not ref.get("kind") or not ref.get("name"):
            raise bad(f"metadata.ownerReferences[{i}] needs kind and name")
        owner_ns = ns if ctx.namespaced(ref["kind"]) else None
        owner = ctx.by_key.get((ref["kind"], owner_ns or "", ref["name"]))
        ref.setdefault("apiVersion", owner["apiVersion"] if owner else ctx.api_version_of(ref["kind"]) or "v1")
        ref.setdefault("uid", ctx.uid_of(ref["kind"], owner_ns, ref["name"]))


def _quantities(values: Any, where: str, bad) -> None:
    """The API accepts numbers for quantities but always serves strings."""
    if values is None:
        return
    if not isinstance(values, dict):
        raise bad(f"{where} must be a mapping of resource name to quantity")
    for k, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise bad(f"{where}[{k!r}] must be a quantity such as 1, 500m or 16Gi, got {_type_name(v)}")
        if not isinstance(v, str):
            values[k] = str(v)


def _conditions(
    status: dict[str, Any],
    where: str,
    bad,
    default_time: str,
    time_keys: tuple[str, ...] = ("lastTransitionTime",),
    full: bool = False,
) -> list[dict[str, Any]]:
    conds = status.get("conditions")
    if conds is None:
        return []
    if not isinstance(conds, list):
        raise bad(f"{where}.conditions must be a list")
    for i, c in enumerate(conds):
        if not isinstance(c, dict) or not c.get("type") or not c.get("status"):
            raise bad(f"{where}.conditions[{i}] needs type and status", hint='e.g. {type: Ready, status: "True"}')
        if not isinstance(c["status"], str):
            raise bad(
                f'{where}.conditions[{i}].status must be the string "True", "False" or "Unknown"',
                hint='quote it: status: "True"',
            )
        for key in time_keys:
            c.setdefault(key, default_time)
        if full:  # metav1.Condition: reason and message are required
            c.setdefault("reason", "")
            c.setdefault("message", "")
    return conds


def _spec(obj: dict[str, Any], bad, required: bool = True) -> dict[str, Any]:
    spec = obj.get("spec")
    if spec is None:
        if required:
            raise bad("spec is missing")
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        raise bad(f"spec must be a mapping, got {_type_name(spec)}")
    return spec


def _status(obj: dict[str, Any], bad) -> dict[str, Any] | None:
    status = obj.get("status")
    if status is not None and not isinstance(status, dict):
        raise bad(f"status must be a mapping, got {_type_name(status)}")
    return status


# Pod ------------------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _image_repo(image: str) -> str:
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _fill_pod(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _spec(obj, bad)
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        raise bad(
            "spec.containers is missing or empty", hint="a pod needs at least one container with a name and image"
        )
    by_name: dict[str, dict[str, Any]] = {}
    for field in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(field) or []):
            if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"]:
                raise bad(f"spec.{field}[{i}].name is missing")
            by_name[c["name"]] = c
            res = c.get("resources") or {}
            if not isinstance(res, dict):
                raise bad(f"spec.{field}[{i}].resources must be a mapping")
            _quantities(res.get("requests"), f"spec.{field}[{i}].resources.requests", bad)
            _quantities(res.get("limits"), f"spec.{field}[{i}].resources.limits", bad)
            image = c.get("image") or ""
            c.setdefault(
                "imagePullPolicy",
                "Always" if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1] else "IfNotPresent",
            )
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("priority", 0)
    status = _status(obj, bad)
    if status is None:
        return  # unscripted: the simulator schedules and runs it
    created = obj["metadata"]["creationTimestamp"]
    phase = status.get("phase")
    node = spec.get("nodeName")
    if node and phase and phase != "Pending":
        status.setdefault("startTime", created)
    start = status.get("startTime") or created
    init_names = [c["name"] for c in spec.get("initContainers") or []]
    main_names = [c["name"] for c in containers]
    if phase in ("Running", "Succeeded", "Failed") and node:
        if "initContainerStatuses" not in status and init_names:
            status["initContainerStatuses"] = [
                {
                    "name": n,
                    "state": {
                        "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": start}
                    },
                }
                for n in init_names
            ]
        if "containerStatuses" not in status:
            status["containerStatuses"] = [_synthesized_state(n, phase, start) for n in main_names]
    for field in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        statuses = status.get(field)
        if statuses is None:
            continue
        if not isinstance(statuses, list):
            raise bad(f"status.{field} must be a list")
        for i, cs in enumerate(statuses):
            _fill_container_status(
                cs, by_name, phase, start, f"status.{field}[{i}]", bad, init=field == "initContainerStatuses"
            )
    conds = _conditions(status, "status", bad, start, ("lastTransitionTime",))
    if not conds and phase:
        status["conditions"] = _pod_conditions(status, phase, node, start)
    else:
        for c in conds:
            c.setdefault("lastProbeTime", None)
    if phase:
        status.setdefault("qosClass", _qos_class(containers))
        if node:
            host_ip = _node_ip(ctx, node)
            status.setdefault("hostIP", host_ip)
            status.setdefault("hostIPs", [{"ip": status["hostIP"]}])
            if phase == "Running":
                pod_ip = spec.get("hostNetwork") and status["hostIP"] or _ip_for("pod", obj["metadata"]["uid"])
                status.setdefault("podIP", pod_ip)
                status.setdefault("podIPs", [{"ip": status["podIP"]}])


def _synthesized_state(name: str, phase: str, start: str) -> dict[str, Any]:
    if phase == "Running":
        return {"name": name, "ready": True, "started": True, "state": {"running": {"startedAt": start}}}
    ok = phase == "Succeeded"
    return {
        "name": name,
        "ready": False,
        "started": False,
        "state": {
            "terminated": {
                "exitCode": 0 if ok else 1,
                "reason": "Completed" if ok else "Error",
                "startedAt": start,
                "finishedAt": start,
            }
        },
    }


_EXIT_BY_REASON = {
    "Completed": 0,
    "OOMKilled": 137,
    "Error": 1,
    "ContainerCannotRun": 128,
    "DeadlineExceeded": 137,
    "StartError": 128,
}


def _fill_container_status(
    cs: Any, by_name: dict[str, dict[str, Any]], phase: str | None, start: str, where: str, bad, init: bool
) -> None:
    if not isinstance(cs, dict) or not isinstance(cs.get("name"), str) or not cs["name"]:
        raise bad(f"{where}.name is missing", hint="name the container this status belongs to")
    spec_c = by_name.get(cs["name"]) or {}
    image = cs.get("image") or spec_c.get("image")
    if not image:
        raise bad(
            f"{where}: no image (and no container {cs['name']!r} in the pod spec)",
            hint="set image on the status or add the container to spec.containers",
        )
    cs["image"] = image
    state = cs.get("state")
    if state is None:
        if phase == "Running" and not init:
            state = {"running": {"startedAt": start}}
        elif phase in (None, "Pending"):
            state = {"waiting": {"reason": "ContainerCreating"}}
        else:
            state = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": start}}
        cs["state"] = state
    if not isinstance(state, dict):
        raise bad(f"{where}.state must be a mapping (running, waiting or terminated)")
    for which, st in (("state", state), ("lastState", cs.get("lastState") or {})):
        term = st.get("terminated") if isinstance(st, dict) else None
        if isinstance(term, dict):
            term.setdefault("exitCode", _EXIT_BY_REASON.get(term.get("reason", ""), 1))
            term.setdefault("startedAt", start)
            term.setdefault("finishedAt", term["startedAt"])
            if not isinstance(term["exitCode"], int) or isinstance(term["exitCode"], bool):
                raise bad(f"{where}.{which}.terminated.exitCode must be a number")
        run = st.get("running") if isinstance(st, dict) else None
        if isinstance(run, dict):
            run.setdefault("startedAt", start)
    cs.setdefault("lastState", {})
    ran = "running" in state or "terminated" in state or bool(cs["lastState"])
    cs.setdefault("imageID", f"{_image_repo(image)}@sha256:{_digest('image', image)}" if ran else "")
    if ran:
        cs.setdefault("containerID", f"containerd://{_digest('container', cs['name'], start, image)}")
    cs.setdefault("ready", "running" in state and phase == "Running" and not init)
    cs.setdefault("started", "running" in state)
    cs.setdefault("restartCount", 0)
    if not isinstance(cs["restartCount"], int) or isinstance(cs["restartCount"], bool):
        raise bad(f"{where}.restartCount must be a number")
    if not isinstance(cs["ready"], bool):
        raise bad(f"{where}.ready must be true or false")


def _pod_conditions(status: dict[str, Any], phase: str, node: str | None, start: str) -> list[dict[str, Any]]:
    def cond(type_: str, ok: bool, reason: str | None = None) -> dict[str, Any]:
        c: dict[str, Any] = {
            "type": type_,
            "status": "True" if ok else "False",
            "lastProbeTime": None,
            "lastTransitionTime": start,
        }
        if reason:
            c["reason"] = reason
        return c

    if not node:
        return [cond("PodScheduled", False, "Unschedulable")]
    if phase in ("Succeeded", "Failed"):
        return [
            cond("PodReadyToStartContainers", False),
            cond("Initialized", True),
            cond("Ready", False, "PodCompleted"),
            cond("ContainersReady", False, "PodCompleted"),
            cond("PodScheduled", True),
        ]
    statuses = status.get("containerStatuses") or []
    ready = phase == "Running" and bool(statuses) and all(cs.get("ready") for cs in statuses)
    reason = None if ready else "ContainersNotReady"
    return [
        cond("PodReadyToStartContainers", phase == "Running"),
        cond("Initialized", True),
        cond("Ready", ready, reason),
        cond("ContainersReady", ready, reason),
        cond("PodScheduled", True),
    ]


def _qos_class(containers: list[dict[str, Any]]) -> str:
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for r in ("cpu", "memory"):  # extended resources such as nvidia.com/gpu do not count
            any_set = any_set or r in req or r in lim
            if r not in lim or req.get(r, lim[r]) != lim[r]:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _ip_for(kind: str, key: str, prefix: str = "10.0") -> str:
    d = int(_digest(kind, key)[:8], 16)
    return f"{prefix}.{(d >> 8) % 250 + 1}.{d % 250 + 2}"


def _node_ip(ctx: _Ctx, node_name: str) -> str:
    node = ctx.by_key.get(("Node", "", node_name))
    for addr in ((node or {}).get("status") or {}).get("addresses") or []:
        if isinstance(addr, dict) and addr.get("type") == "InternalIP" and addr.get("address"):
            return addr["address"]
    return _ip_from_node_name(node_name)


def _ip_from_node_name(name: str) -> str:
    """EKS names nodes after their private IP: ip-10-0-3-7.ec2.internal -> 10.0.3.7."""
    m = re.match(r"ip-(\d+)-(\d+)-(\d+)-(\d+)", name)
    return ".".join(m.groups()) if m else _ip_for("node", name)


# Node -----------------------------------------------------------------------------------

_NODE_INFO_DEFAULTS = {
    "architecture": "amd64",
    "containerRuntimeVersion": "containerd://1.7.27",
    "kernelVersion": "6.1.141-155.222.amzn2023.x86_64",
    "kubeProxyVersion": "",
    "kubeletVersion": "v1.32.3-eks-473151a",
    "operatingSystem": "linux",
    "osImage": "Amazon Linux 2023.7.20250623",
}
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _fill_node(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _spec(obj, bad, required=False)
    taints = spec.get("taints") or []
    if not isinstance(taints, list):
        raise bad("spec.taints must be a list")
    for i, t in enumerate(taints):
        if not isinstance(t, dict) or not t.get("key") or t.get("effect") not in _TAINT_EFFECTS:
            raise bad(f"spec.taints[{i}] needs a key and an effect of {', '.join(_TAINT_EFFECTS)}")
    status = _status(obj, bad)
    if status is None:
        status = obj["status"] = {}
    name = obj["metadata"]["name"]
    created = obj["metadata"]["creationTimestamp"]
    _quantities(status.get("capacity"), "status.capacity", bad)
    _quantities(status.get("allocatable"), "status.allocatable", bad)
    _conditions(status, "status", bad, created, ("lastTransitionTime", "lastHeartbeatTime"))
    info = status.setdefault("nodeInfo", {})
    if not isinstance(info, dict):
        raise bad("status.nodeInfo must be a mapping")
    for key, value in _NODE_INFO_DEFAULTS.items():
        info.setdefault(key, value)
    info.setdefault("machineID", _digest("machine", name)[:32])
    info.setdefault("systemUUID", "ec2" + _digest("system", name)[3:8] + "-" + deterministic_uid("sys", name)[9:])
    info.setdefault("bootID", deterministic_uid("boot", name, created))
    addresses = status.setdefault("addresses", [])
    if not isinstance(addresses, list):
        raise bad("status.addresses must be a list")
    for i, a in enumerate(addresses):
        if not isinstance(a, dict) or not a.get("type") or not a.get("address"):
            raise bad(f"status.addresses[{i}] needs type and address")
    if not addresses:
        ip = _ip_from_node_name(name)
        addresses += [
            {"type": "InternalIP", "address": ip},
            {"type": "InternalDNS", "address": name},
            {"type": "Hostname", "address": name},
        ]
    status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 10250}})
    for i, img in enumerate(status.get("images") or []):
        if not isinstance(img, dict):
            raise bad(f"status.images[{i}] must be a mapping with names and sizeBytes")


# Event ----------------------------------------------------------------------------------


def _fill_event(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    io = obj.get("involvedObject")
    if not isinstance(io, dict) or not io.get("kind") or not io.get("name"):
        raise bad(
            "involvedObject with kind and name is required for an Event",
            hint="e.g. involvedObject: {kind: Pod, namespace: default, name: my-pod}",
        )
    ns = obj["metadata"]["namespace"]
    if ctx.namespaced(io["kind"]):
        io.setdefault("namespace", ns)
    io.setdefault("apiVersion", ctx.api_version_of(io["kind"]) or "v1")
    io.setdefault("uid", ctx.uid_of(io["kind"], io.get("namespace"), io["name"]))
    obj.setdefault("type", "Normal")
    obj.setdefault("count", 1)
    first, last = obj.get("firstTimestamp"), obj.get("lastTimestamp")
    if not first and not last and not obj.get("eventTime"):
        first = last = obj["metadata"]["creationTimestamp"]
    if first or last:
        obj["firstTimestamp"] = first or last
        obj["lastTimestamp"] = last or first
    source = obj.get("source")
    if not isinstance(source, dict):
        source = obj["source"] = {}
    if obj.get("reportingComponent") and not source.get("component"):
        source["component"] = obj["reportingComponent"]
    obj.setdefault("reportingComponent", source.get("component", ""))
    obj.setdefault("reportingInstance", source.get("host", ""))


# Namespace, ConfigMap, Service ----------------------------------------------------------


def _fill_namespace(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    labels = obj["metadata"].setdefault("labels", {})
    labels.setdefault("kubernetes.io/metadata.name", obj["metadata"]["name"])
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Terminating" if obj["metadata"].get("deletionTimestamp") else "Active")


def _fill_configmap(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    data = obj.get("data")
    if data is None:
        return
    if not isinstance(data, dict):
        raise bad("data must be a mapping of key to string")
    for k, v in data.items():
        if not isinstance(v, str):
            raise bad(f"data[{k!r}] must be a string, got {_type_name(v)}", hint="quote the value or use a | block")


def _fill_service(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _spec(obj, bad, required=False)
    spec.setdefault("type", "ClusterIP")
    for i, p in enumerate(spec.get("ports") or []):
        if not isinstance(p, dict) or not isinstance(p.get("port"), int):
            raise bad(f"spec.ports[{i}].port must be a number")
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p["port"])
    if spec["type"] != "ExternalName":
        ip = spec.setdefault("clusterIP", _ip_for("svc", obj["metadata"]["uid"], "172.20"))
        spec.setdefault("clusterIPs", [ip])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("sessionAffinity", "None")
    obj.setdefault("status", {}).setdefault("loadBalancer", {})
    _conditions(obj["status"], "status", bad, obj["metadata"]["creationTimestamp"], full=True)


# Workloads ------------------------------------------------------------------------------


def _workload_spec(obj: dict[str, Any], bad, template_required: bool = True) -> dict[str, Any]:
    spec = _spec(obj, bad)
    template = spec.get("template")
    if template is None and template_required:
        raise bad("spec.template is missing", hint="a workload needs a pod template (spec.template)")
    if template is not None:
        if not isinstance(template, dict):
            raise bad("spec.template must be a mapping")
        pod_spec = template.get("spec")
        if (
            not isinstance(pod_spec, dict)
            or not isinstance(pod_spec.get("containers"), list)
            or not pod_spec["containers"]
        ):
            raise bad("spec.template.spec.containers is missing or empty")
        for i, c in enumerate(pod_spec["containers"]):
            if not isinstance(c, dict) or not c.get("name"):
                raise bad(f"spec.template.spec.containers[{i}].name is missing")
    if "selector" not in spec and obj["kind"] != "Job":
        labels = ((template or {}).get("metadata") or {}).get("labels")
        if not labels:
            raise bad("spec.selector is missing (and the pod template has no labels to derive it from)")
        spec["selector"] = {"matchLabels": dict(labels)}
    return spec


def _fill_daemonset(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _workload_spec(obj, bad)
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    spec.setdefault("revisionHistoryLimit", 10)
    status = _status(obj, bad)
    if status is not None:
        for key in ("currentNumberScheduled", "desiredNumberScheduled", "numberMisscheduled", "numberReady"):
            status.setdefault(key, 0)
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"])


def _fill_deployment(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _workload_spec(obj, bad)
    spec.setdefault("replicas", 1)
    spec.setdefault(
        "strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    )
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    status = _status(obj, bad)
    if status is not None:
        _conditions(
            status, "status", bad, obj["metadata"]["creationTimestamp"], ("lastTransitionTime", "lastUpdateTime")
        )


def _fill_statefulset(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _workload_spec(obj, bad)
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    spec.setdefault("serviceName", "")
    status = _status(obj, bad)
    if status is not None:
        status.setdefault("replicas", 0)
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"])


def _fill_replicaset(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _workload_spec(obj, bad, template_required=False)
    spec.setdefault("replicas", 1)
    status = _status(obj, bad)
    if status is not None:
        status.setdefault("replicas", 0)
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"])


def _fill_job(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _workload_spec(obj, bad)
    for key, value in (
        ("backoffLimit", 6),
        ("completions", 1),
        ("parallelism", 1),
        ("completionMode", "NonIndexed"),
        ("suspend", False),
    ):
        spec.setdefault(key, value)
    uid, name = obj["metadata"]["uid"], obj["metadata"]["name"]
    if "selector" not in spec:
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        labels = spec["template"].setdefault("metadata", {}).setdefault("labels", {})
        labels.setdefault("batch.kubernetes.io/controller-uid", uid)
        labels.setdefault("batch.kubernetes.io/job-name", name)
        labels.setdefault("controller-uid", uid)
        labels.setdefault("job-name", name)
    status = _status(obj, bad)
    if status is not None:
        _conditions(
            status, "status", bad, obj["metadata"]["creationTimestamp"], ("lastTransitionTime", "lastProbeTime")
        )


# Policy, autoscaling, CRDs --------------------------------------------------------------


def _fill_pdb(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    _spec(obj, bad)
    status = _status(obj, bad)
    if status is not None:
        for key in ("currentHealthy", "desiredHealthy", "disruptionsAllowed", "expectedPods"):
            status.setdefault(key, 0)
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"], full=True)


def _fill_hpa(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _spec(obj, bad)
    target = spec.get("scaleTargetRef")
    if not isinstance(target, dict) or not target.get("kind") or not target.get("name"):
        raise bad("spec.scaleTargetRef with kind and name is required")
    if not isinstance(spec.get("maxReplicas"), int):
        raise bad("spec.maxReplicas must be a number")
    spec.setdefault("minReplicas", 1)
    for i, m in enumerate(spec.get("metrics") or []):
        if not isinstance(m, dict) or not m.get("type"):
            raise bad(f"spec.metrics[{i}].type is missing")
    status = _status(obj, bad)
    if status is not None:
        status.setdefault("currentReplicas", 0)
        status.setdefault("desiredReplicas", status["currentReplicas"])
        for i, m in enumerate(status.get("currentMetrics") or []):
            if not isinstance(m, dict) or not m.get("type"):
                raise bad(f"status.currentMetrics[{i}].type is missing")
        _conditions(status, "status", bad, obj["metadata"]["creationTimestamp"])


def _fill_crd(obj: dict[str, Any], ctx: _Ctx, bad) -> None:
    spec = _spec(obj, bad)
    names = spec.get("names")
    if not spec.get("group") or not isinstance(names, dict) or not names.get("kind") or not names.get("plural"):
        raise bad("a CustomResourceDefinition needs spec.group, spec.names.kind and spec.names.plural")
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        raise bad("spec.scope must be Namespaced or Cluster")
    expected = f"{names['plural']}.{spec['group']}"
    if obj["metadata"]["name"] != expected:
        raise bad(f"metadata.name must be {expected} (<plural>.<group>)")
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        raise bad("spec.versions is missing or empty")
    for i, v in enumerate(versions):
        if not isinstance(v, dict) or not v.get("name"):
            raise bad(f"spec.versions[{i}].name is missing")
        v.setdefault("served", True)
        v.setdefault("storage", False)
        for j, col in enumerate(v.get("additionalPrinterColumns") or []):
            if not isinstance(col, dict) or not all(col.get(k) for k in ("name", "type", "jsonPath")):
                raise bad(f"spec.versions[{i}].additionalPrinterColumns[{j}] needs name, type and jsonPath")
    if not any(v["storage"] for v in versions):
        versions[0]["storage"] = True
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", names["kind"] + "List")
    spec.setdefault("conversion", {"strategy": "None"})
    status = obj.setdefault("status", {})
    status.setdefault("acceptedNames", dict(names))
    status.setdefault("storedVersions", [v["name"] for v in versions if v["storage"]])
    created = obj["metadata"]["creationTimestamp"]
    if not status.get("conditions"):
        status["conditions"] = [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": created,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": created,
            },
        ]
    _conditions(status, "status", bad, created)


_FILLERS = {
    "Pod": _fill_pod,
    "Node": _fill_node,
    "Event": _fill_event,
    "Namespace": _fill_namespace,
    "ConfigMap": _fill_configmap,
    "Service": _fill_service,
    "DaemonSet": _fill_daemonset,
    "Deployment": _fill_deployment,
    "StatefulSet": _fill_statefulset,
    "ReplicaSet": _fill_replicaset,
    "Job": _fill_job,
    "PodDisruptionBudget": _fill_pdb,
    "HorizontalPodAutoscaler": _fill_hpa,
    "CustomResourceDefinition": _fill_crd,
}
