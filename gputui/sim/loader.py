"""Turn scenario names, manifest files and directories into objects the simulator can serve.

Files are read by gputui.kube.manifests (YAML, JSON, `kind: List`, directories; a bad
document is reported as "<file>, document <n>: <reason>"); scenario names are resolved by
gputui.sim.scenario_index.

Objects are then made to look served by a real API server: timestamps move so the
newest lands at "now" (ages stay realistic whenever a scenario is played,
gputui.sim.timestamps), and the fields a server or kubelet would have set — and that the
typed `kubernetes` client models insist on — are filled in when a hand-written manifest
leaves them out (gputui.sim.server_fields).
"""

from __future__ import annotations

import copy
import datetime as _dt
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gputui.kube.manifests import Origin, Source, check_document, manifest_files, read_objects, shown_path
from gputui.sim import scenario_build
from gputui.sim.known_kinds import stand_in_crds
from gputui.sim.scenario_index import (
    SCENARIO_DIR,
    GeneratedScenario,
    resolve_sources,
    scenario_description,
    scenario_names,
)
from gputui.sim.server_fields import complete, types_for
from gputui.sim.shapes import check_typed_fields
from gputui.sim.timestamps import newest_time, shift_times

log = logging.getLogger("gputui.sim")

CRD_DIR = Path(__file__).resolve().parent / "crds"

__all__ = [
    "CRD_DIR",
    "Loaded",
    "SCENARIO_DIR",
    "load_objects",
    "prepare_objects",
    "resolve_sources",
    "scenario_description",
    "scenario_names",
]

# Objects the server answers itself and never stores.
_NEVER_STORED = {"SelfSubjectAccessReview"}


class Loaded(list):
    """The completed objects, and what was left out: (apiVersion, kind) -> how many objects
    of a kind the simulator does not know (no built-in type, no CRD in the input, none shipped)."""

    unknown: dict[tuple[str, str], int]

    def __init__(self, objects: Iterable[dict[str, Any]] = (), unknown: dict[tuple[str, str], int] | None = None):
        super().__init__(objects)
        self.unknown = dict(unknown or {})


def load_objects(sources: Iterable[Source], *, shift_time: bool = True, now: _dt.datetime | None = None) -> Loaded:
    """Read, validate and complete every object from scenario names, files and directories.

    Custom resource definitions come first and namespaces second in the result, so
    the objects can be created in order. Custom resources whose CRD the input lacks (a
    `kubectl get -o yaml` dump) get the one gputui ships for their kind and apiVersion
    (gputui.sim.known_kinds); objects of kinds still unknown are left out and counted in
    the result's `unknown`.
    """
    read: list[tuple[Origin, dict[str, Any]]] = []
    for source in resolve_sources(sources):
        if isinstance(source, GeneratedScenario):
            read.extend(scenario_build.scenario_documents(source.name))
        else:
            read.extend(read_objects([source], shown=_shown_path, files=_scenario_files))
    return _prepare(read, shift_time=shift_time, now=now)


def prepare_objects(
    objects: Iterable[dict[str, Any]],
    *,
    shift_time: bool = False,
    now: _dt.datetime | None = None,
    label: str = "objects",
) -> Loaded:
    """The same validation and completion for manifest dicts that did not come from files.

    The caller's dicts are left as they were; the result holds completed copies.
    """
    read = []
    for i, obj in enumerate(objects, 1):
        origin = Origin(label, i)
        check_document(obj, origin)
        read.append((origin, copy.deepcopy(obj)))
    return _prepare(read, shift_time=shift_time, now=now)


def _shown_path(path: Path) -> str:
    return shown_path(path, (SCENARIO_DIR.parent,))


def _scenario_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    # The scenarios' index.yaml describes them; it holds no objects.
    return [p for p in manifest_files(path) if p.name != "index.yaml"]


def _prepare(read: list[tuple[Origin, dict[str, Any]]], *, shift_time: bool, now: _dt.datetime | None) -> Loaded:
    explicit_now = now is not None
    now = (now or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc).replace(microsecond=0)
    types = types_for(obj for _, obj in read)
    missing = {(obj["apiVersion"], obj["kind"]) for _, obj in read} - types.keys()
    # A CRD in the input wins, even when it does not serve an object's version.
    given = {(obj.get("metadata") or {}).get("name") for _, obj in read if obj["kind"] == "CustomResourceDefinition"}
    stand_ins = [crd for crd in stand_in_crds(sorted(missing)) if crd["metadata"]["name"] not in given]
    if stand_ins:
        read = [(Origin("CRD shipped with gputui", i), crd) for i, crd in enumerate(stand_ins, 1)] + read
        types = types_for(obj for _, obj in read)
    kept: list[tuple[Origin, dict[str, Any]]] = []
    skipped: dict[tuple[str, str], int] = {}
    for origin, obj in read:
        key = (obj["apiVersion"], obj["kind"])
        if obj["kind"] in _NEVER_STORED or key not in types:
            skipped[key] = skipped.get(key, 0) + 1
            continue
        check_typed_fields(obj, origin, types[key].crd)
        kept.append((origin, obj))
    if skipped:
        log.warning(
            "ignored objects of kinds the simulator does not serve (no built-in type or CRD): %s",
            ", ".join(f"{v} {k} ({n})" for (v, k), n in sorted(skipped.items())),
        )
    unknown = {key: n for key, n in skipped.items() if key not in types}
    if shift_time:
        shift_times([obj for _, obj in kept], now)
    elif not explicit_now:
        # Unshifted data keeps its own clock: timestamps filled in (objects written without
        # one) must not jump to the wall clock, or offline ages would all be measured from now.
        now = newest_time(obj for _, obj in kept) or now
    objects = complete([(str(o), obj, types[(obj["apiVersion"], obj["kind"])]) for o, obj in kept], now, types)
    order = {"CustomResourceDefinition": 0, "Namespace": 1}
    objects.sort(key=lambda o: order.get(o["kind"], 2))
    return Loaded(objects, unknown)
