"""Built-in scenario names -> the files and directories that hold them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from gputui.errors import InputError
from gputui.kube.manifests import ManifestLoader as _ManifestLoader
from gputui.kube.manifests import Source

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


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


class GeneratedScenario(NamedTuple):
    """A built-in scenario built from base.yaml and its overlay (gputui.sim.scenario_build)."""

    name: str


def _scenario_paths(name: str, entry: dict[str, Any]) -> list[Path | GeneratedScenario]:
    paths: list[Path | GeneratedScenario] = []
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
    else:
        from gputui.sim import scenario_build

        if scenario_build.has_scenario(name, SCENARIO_DIR):
            paths.append(GeneratedScenario(name))
    return paths


def resolve_sources(sources: Iterable[Source]) -> list[Path | GeneratedScenario]:
    """Scenario names, files and directories -> the files and directories to read, and the
    built-in scenarios to build.

    An existing path wins over a scenario of the same name. Duplicates are dropped,
    first occurrence kept, so "base + incident" with a shared include reads it once.
    """
    index: dict[str, dict[str, Any]] | None = None
    out: list[Path | GeneratedScenario] = []
    seen: set[Path | GeneratedScenario] = set()
    for src in sources:
        path = Path(src).expanduser()
        if path.exists():
            candidates: list[Path | GeneratedScenario] = [path.resolve()]
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
