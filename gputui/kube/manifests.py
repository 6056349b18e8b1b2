"""Manifests and dumps -> plain Kubernetes objects.

Input is whatever holds Kubernetes objects: YAML (multi-document), JSON (one object or
an array), `kind: List` dumps as `kubectl get -o yaml` writes them, and directories of
such files. A bad document is reported as "<file>, document <n>: <reason>" so the
author can go straight to it.

Nothing here fills in what a server would set or knows about the simulator: this is
the reading that `gputui diagnose --from`, `gputui nodepool lint` and the simulator share.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from gputui.errors import InputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MANIFEST_HINT = "each document needs apiVersion, kind and metadata.name, as in `kubectl get <kind> <name> -o yaml`"

Source = str | Path


# -- YAML without implicit timestamps -------------------------------------------------

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ManifestLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that keeps timestamps as the strings the API writes, not datetimes."""


ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


# -- files ----------------------------------------------------------------------------


def manifest_files(path: Path) -> list[Path]:
    """The file itself, or the manifest files under a directory (hidden ones left out), sorted."""
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() in MANIFEST_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def shown_path(path: Path, bases: Iterable[Path] = ()) -> str:
    """The path as an error message shows it: relative to the working directory (or a base) when under it."""
    for base in (Path.cwd(), *bases):
        try:
            return str(path.relative_to(base))
        except ValueError:
            pass
    return str(path)


# -- documents ------------------------------------------------------------------------


class Origin:
    """Where a document came from, for error messages."""

    __slots__ = ("file", "doc", "item")

    def __init__(self, file: str, doc: int, item: int | None = None):
        self.file, self.doc, self.item = file, doc, item

    def __str__(self) -> str:
        s = f"{self.file}, document {self.doc}"
        return s if self.item is None else f"{s}, item {self.item}"


_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def read_documents(path: Path, shown: str) -> list[tuple[int, Any]]:
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
        for n, doc in enumerate(yaml.load_all(text, Loader=ManifestLoader), 1):
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


def flatten(doc: Any, origin: Origin) -> Iterable[tuple[Origin, Any]]:
    """`kind: List` and `<Kind>List` documents yield their items."""
    if isinstance(doc, dict) and isinstance(doc.get("kind"), str) and doc["kind"].endswith("List") and "items" in doc:
        items = doc.get("items") or []
        if not isinstance(items, list):
            raise InputError(f"{origin}: items must be a list", hint=MANIFEST_HINT)
        for i, item in enumerate(items, 1):
            yield Origin(origin.file, origin.doc, i), item
    else:
        yield origin, doc


def check_document(obj: Any, origin: Origin) -> None:
    """Raise InputError unless obj is a Kubernetes object an API server would accept the shape of."""

    def bad(reason: str, hint: str = MANIFEST_HINT) -> InputError:
        return InputError(f"{origin}: {reason}", hint=hint)

    if not isinstance(obj, dict):
        raise bad(f"expected a mapping (an object), got {type_name(obj)}")
    for key in ("apiVersion", "kind"):
        if not obj.get(key):
            raise bad(f"{key} is missing")
        if not isinstance(obj[key], str):
            raise bad(f"{key} must be a string, got {type_name(obj[key])}")
    md = obj.get("metadata")
    if md is None:
        raise bad("metadata is missing")
    if not isinstance(md, dict):
        raise bad(f"metadata must be a mapping, got {type_name(md)}")
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
            raise bad(f"metadata.{key} must be a string, got {type_name(md[key])}")
    for field in ("labels", "annotations"):
        values = md.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise bad(f"metadata.{field} must be a mapping, got {type_name(values)}")
        for k, v in values.items():
            if not isinstance(v, str):
                raise bad(
                    f"metadata.{field}[{k!r}] must be a string, got {type_name(v)} {v!r}",
                    hint='quote the value in YAML, e.g. "true" or "1"',
                )


def type_name(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "nothing",
    }.get(type(value), type(value).__name__)


# -- entry points ---------------------------------------------------------------------


def existing_paths(sources: Iterable[Source]) -> list[Path]:
    """The given files and directories, resolved, first occurrence kept; a missing one is an InputError."""
    out: list[Path] = []
    for src in sources:
        path = Path(src).expanduser()
        if not path.exists():
            raise InputError(
                f"no such file or directory: {src}", hint="give YAML or JSON manifest files or directories"
            )
        path = path.resolve()
        if path not in out:
            out.append(path)
    return out


def read_objects(
    roots: Iterable[Path],
    *,
    shown: Callable[[Path], str] = shown_path,
    files: Callable[[Path], list[Path]] = manifest_files,
) -> list[tuple[Origin, dict[str, Any]]]:
    """Every object in the files and directories, checked, with where it came from."""
    read: list[tuple[Origin, dict[str, Any]]] = []
    for root in roots:
        for path in files(root):
            shown_as = shown(path)
            for doc_index, doc in read_documents(path, shown_as):
                for origin, obj in flatten(doc, Origin(shown_as, doc_index)):
                    check_document(obj, origin)
                    read.append((origin, obj))
    return read


def load_manifests(sources: Iterable[Source]) -> list[dict[str, Any]]:
    """The objects in manifest files and directories, as written (nothing filled in)."""
    return [obj for _, obj in read_objects(existing_paths(sources))]
