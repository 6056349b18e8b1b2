"""The node, operator, Karpenter and disruption checks against every built-in scenario:
each `expect:` entry of theirs in gputui/sim/scenarios/index.yaml fires, and `healthy`
draws no error or warning from them."""

from pathlib import Path

import pytest
import yaml

from checks.model import Severity
from checks.registry import REGISTRY, run_checks
from checks.snapshot import ClusterSnapshot

INDEX = Path(__file__).resolve().parents[2] / "gputui" / "sim" / "scenarios" / "index.yaml"
MY_AREAS = ("GPU1", "GPU2", "GPU3", "GPU5")


def _index() -> dict:
    if not INDEX.exists():
        return {}
    return yaml.safe_load(INDEX.read_text()) or {}


def _my_checks():
    return [c for c in REGISTRY.all() if c.code.startswith(MY_AREAS)]


_CACHE: dict[str, list] = {}


def _findings(name: str):
    if name not in _CACHE:
        from gputui.sim.loader import load_objects

        snap = ClusterSnapshot.from_manifests(load_objects([name]))
        _CACHE[name] = run_checks(snap, _my_checks())
    return _CACHE[name]


_INDEX = _index()  # parsed once: collection asked for it once per scenario
SCENARIOS = sorted(_INDEX)
EXPECTATIONS = [
    (name, e)
    for name in SCENARIOS
    for e in (_INDEX[name].get("expect") or [])
    if str(e.get("code", "")).startswith(MY_AREAS)
]


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_check_crashes_on_scenario(name):
    assert [f.message for f in _findings(name) if f.code == "GPU901"] == []


@pytest.mark.parametrize("name,exp", EXPECTATIONS, ids=[f"{n}-{e['code']}-{e.get('name')}" for n, e in EXPECTATIONS])
def test_expected_finding_fires(name, exp):
    candidates = [
        f
        for f in _findings(name)
        if f.code == exp["code"]
        and f.subject.kind == exp["kind"]
        and f.subject.name == exp["name"]
        and (f.subject.namespace or None) == exp.get("namespace")
    ]
    assert candidates, f"{exp} not found; got {[(f.code, str(f.subject)) for f in _findings(name)]}"
    if exp.get("evidence"):
        assert any(exp["evidence"] in e for f in candidates for e in f.evidence), [f.evidence for f in candidates]
    if exp.get("fix"):
        assert any(exp["fix"] == x.id for f in candidates for x in f.fixes), [f.fixes for f in candidates]


def test_healthy_draws_no_error_or_warning():
    assert "healthy" in SCENARIOS
    loud = [f"{f.code} {f.subject}: {f.message}" for f in _findings("healthy") if f.severity >= Severity.WARNING]
    assert loud == []
