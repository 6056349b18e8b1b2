"""One test over the whole catalogue: every registered check is documented, has a
fixture that triggers it and one that does not, offers only fix kinds it declares, and
the README's check tables and checks/INDEX.md say what the registry says."""

from __future__ import annotations

import functools
import re

import pytest

import checks  # noqa: F401  (registers every check)
from checks.check_docs import SECTIONS, SEVERITY
from checks.fix_kinds import FixKind
from checks.registry import INTERNAL_ERROR, REGISTRY, Check, Registry, run_checks
from gputui.report import catalogue
from tests.helpers.catalogue_fixtures import FIXTURES

ALL = REGISTRY.all()


def test_every_check_has_fixtures():
    missing = [c.code for c in ALL if c.code not in FIXTURES]
    assert not missing, f"add a failing and a passing fixture to tests/helpers/catalogue_fixtures.py for {missing}"
    assert not set(FIXTURES) - {c.code for c in ALL}, "fixtures for checks that do not exist"


@pytest.mark.parametrize("check", ALL, ids=lambda c: c.code)
def test_docs_have_every_section(check: Check):
    sections = check.doc_sections()
    assert sections.get("summary"), f"{check.code}: the docstring needs a one-line summary"
    for name in SECTIONS:
        assert sections.get(name), f"{check.code}: the docstring lacks '{name.capitalize()}'"


@pytest.mark.parametrize("check", ALL, ids=lambda c: c.code)
def test_declared_fix_kinds_are_registered_and_distinct(check: Check):
    assert all(isinstance(k, FixKind) for k in check.fix_kinds)
    assert len(set(check.fix_kinds)) == len(check.fix_kinds)


def _run(check: Check, subject) -> list:
    if check is INTERNAL_ERROR:
        if isinstance(subject, tuple):  # the fixture asks for a check that raises
            reg = Registry()

            @reg.register("GPU999", "always-raises", check.severity, "always raises")
            def always_raises(snapshot):
                """Raises."""
                raise RuntimeError("boom")

            return run_checks(subject[1], [always_raises])
        return run_checks(subject)
    if check.scope == "debug":
        return list(check(subject))
    return run_checks(subject, [check])


@pytest.mark.parametrize("check", ALL, ids=lambda c: c.code)
def test_failing_fixture_triggers_the_check(check: Check):
    found = [f for f in _run(check, FIXTURES[check.code].failing()) if f.code == check.code]
    assert found, f"{check.code}: its failing fixture raised no finding"
    for f in found:
        assert (f.name, f.area) == (check.name, check.area)
        undeclared = {p.id for p in f.fixes} - {k.value for k in check.fix_kinds}
        assert not undeclared, f"{check.code} offers fix kinds it does not declare: {undeclared}"


@pytest.mark.parametrize("check", ALL, ids=lambda c: c.code)
def test_passing_fixture_does_not(check: Check):
    found = [f for f in _run(check, FIXTURES[check.code].passing()) if f.code == check.code]
    assert not found, f"{check.code}: its passing fixture raised {[f.message for f in found]}"


def test_no_check_crashes_on_any_fixture():
    internal = [
        f
        for fx in FIXTURES.values()
        for build in (fx.failing, fx.passing)
        if not isinstance(subject := build(), (tuple,)) and hasattr(subject, "nodepools")
        for f in run_checks(subject)
        if f.code == INTERNAL_ERROR.code
    ]
    assert not internal, [f.message for f in internal]


# -- generated documentation -----------------------------------------------------------------


def test_readme_check_tables_match_the_registry():
    text = catalogue.README.read_text(encoding="utf-8")
    assert set(catalogue.readme_areas(text)) >= {"all", "nodepool", "debug"}
    assert catalogue.update_readme(text) == text, (
        "README's check tables drifted from the registry: run python -m gputui.report.catalogue --write"
    )


def test_index_matches_the_registry():
    assert catalogue.INDEX.read_text(encoding="utf-8") == catalogue.index_markdown(), (
        "checks/INDEX.md drifted from the registry: run python -m gputui.report.catalogue --write"
    )


def test_index_names_each_checks_module_and_function():
    index = catalogue.index_markdown()
    for c in ALL:
        assert f"| {c.code} | {c.name} |" in index and f"`{c.module}` | `{c.fn.__name__}`" in index


def test_every_fix_kind_a_check_offers_is_known_to_verification():
    from gputui.fixes.verify import _EXPLAIN

    offered = {k for c in ALL for k in c.fix_kinds}
    assert offered <= set(_EXPLAIN), f"verification cannot explain {offered - set(_EXPLAIN)}"
    assert len({k.value for k in FixKind}) == len(FixKind), "a fix id is used for two kinds"


# -- severity policy ---------------------------------------------------------------------------
# Each check's docstring has a Severity section (README, "Severity policy"): its default
# severity and when it raises another. A check that raises a severity its section does not
# name fails here.

LEVELS = ("error", "warning", "info")
# Checks whose findings carry more than their default severity in some situation.
ESCALATING = (
    "GPU101",
    "GPU104",
    "GPU201",
    "GPU205",
    "GPU302",
    "GPU303",
    "GPU304",
    "GPU306",
    "GPU307",
    "GPU308",
    "GPU309",
    "GPU401",
    "GPU503",
    "GPU504",
    "GPU604",
    "GPU605",
    "GPU702",
    "GPU705",
    "GPU706",
    "GPU707",
)


def _severity_doc(check: Check) -> str:
    return check.doc_sections().get(SEVERITY, "")


def _named_levels(text: str) -> set[str]:
    return {level for level in LEVELS if re.search(rf"\b{level}\b", text, re.I)}


def _variants() -> dict[str, list]:
    """Subjects beyond the catalogue fixtures, one per other severity a check can raise
    that neither its fixtures nor the built-in scenarios reach."""
    from gputui.debugpod.model import SmiReport, XidEvent
    from tests.helpers.catalogue_fixtures import _NODECLASS, _idle_blocked, _pool, drafts, observation, smi
    from tests.helpers.cluster import (
        condition,
        ec2nodeclass,
        healthy_cluster,
        ice_cluster,
        leaving_node,
        nodeclaim,
        nodepool,
        replace,
        snapshot,
        vanished_nomination,
    )

    custom_taint = [{"key": "example.com/gpu", "value": "true", "effect": "NoSchedule"}]
    unknown_type = [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g99.xlarge"]}]
    booting = nodeclaim(
        "gpu-b00t1",
        age_min=2,
        provider_id="aws:///us-west-2a/i-0b00t",
        conditions=[
            condition("Launched", "True", "Launched", "", 2),
            condition("Registered", "Unknown", "NodeNotFound", "Node not registered with cluster", 2),
        ],
    )
    at_limit = nodepool(limits={"nvidia.com/gpu": "2"}, resources={"nvidia.com/gpu": "2"})
    awaiting = nodepool(conditions=[condition("Ready", "Unknown", "AwaitingReconciliation", "", 2)])
    awaiting_class = ec2nodeclass(conditions=[condition("Ready", "Unknown", "AwaitingReconciliation", "", 2)])
    leaving_without_gpus = leaving_node(3)
    for obj in leaving_without_gpus:
        if obj["kind"] == "Node" and obj["metadata"].get("deletionTimestamp"):
            for field in ("capacity", "allocatable"):
                obj["status"][field].pop("nvidia.com/gpu", None)
    return {
        "GPU101": [snapshot(leaving_without_gpus)],
        "GPU104": [snapshot(leaving_node(3))],
        "GPU205": [snapshot(healthy_cluster() + [nodepool("gpu-ml", taints=custom_taint)])],
        "GPU302": [snapshot(ice_cluster(pending=False))],
        "GPU303": [snapshot(healthy_cluster() + [booting])],
        "GPU308": [snapshot(replace(healthy_cluster(), "NodePool", "gpu", at_limit))],
        "GPU306": [snapshot(replace(healthy_cluster(), "NodePool", "gpu", awaiting))],
        "GPU307": [snapshot(replace(healthy_cluster(), "EC2NodeClass", "default", awaiting_class))],
        "GPU309": [snapshot(vanished_nomination(minutes=20))],
        "GPU503": [_idle_blocked(minutes=5)],
        "GPU604": [drafts(_pool(requirements=unknown_type))()],
        "GPU605": [drafts(_pool(taints=custom_taint), context=(_NODECLASS,))()],
        "GPU702": [smi(failure="nvidia-smi: command not found")()],
        "GPU705": [smi(gpu={"ecc_aggregate_uncorrected": 3})()],
        "GPU706": [observation(SmiReport(gpus=[], xids=[XidEvent(13, "0000:00:1b", "Graphics Exception")]))],
        "GPU707": [smi(gpu={"remapped_pending": True})()],
    }


@functools.cache
def _severities_seen() -> dict[str, set[str]]:
    """Every severity each check raised on its catalogue fixtures, on every built-in
    scenario and on the extra subjects of _variants."""
    from gputui.sim.scenario_index import scenario_names
    from tests.helpers.catalogue_fixtures import scenario

    seen: dict[str, set[str]] = {c.code: set() for c in ALL}
    for c in ALL:
        for build in (FIXTURES[c.code].failing, FIXTURES[c.code].passing):
            for f in _run(c, build()):
                seen.setdefault(f.code, set()).add(f.severity.label)
        for subject in _variants().get(c.code, []):
            for f in _run(c, subject):
                seen[f.code].add(f.severity.label)
    for name in scenario_names():
        for f in run_checks(scenario(name)()):
            seen.setdefault(f.code, set()).add(f.severity.label)
    return seen


@pytest.mark.parametrize("check", ALL, ids=lambda c: c.code)
def test_docs_have_a_severity_section_naming_the_default(check: Check):
    text = _severity_doc(check)
    assert text, f"{check.code}: the docstring lacks 'Severity:' (its default severity and when it raises another)"
    assert check.severity.label in _named_levels(text), (
        f"{check.code}: its Severity section does not name its default severity {check.severity.label!r}"
    )


@pytest.mark.parametrize("check", ALL, ids=lambda c: c.code)
def test_every_severity_a_check_raises_is_named_in_its_docs(check: Check):
    seen = _severities_seen()[check.code]
    assert seen, f"{check.code}: raised no finding on its fixtures"
    text = _severity_doc(check)
    unnamed = seen - _named_levels(text)
    assert not unnamed, f"{check.code} raises {sorted(unnamed)} but its Severity section does not say when"
    if m := re.match(r"always (\w+)", text, re.I):
        assert seen == {m.group(1).lower()}, f"{check.code} says 'always {m.group(1)}' but raises {sorted(seen)}"


def test_escalating_checks_were_seen_at_each_severity_they_name():
    """The fixtures, scenarios and variants exercise both sides of every escalation, so the
    test above is not vacuous for them; a check that is not escalating says 'Always'."""
    seen = _severities_seen()
    for code in ESCALATING:
        check = REGISTRY.find(code)
        assert check is not None
        assert len(seen[code]) >= 2, (code, seen[code])
    for check in ALL:
        if check.code not in ESCALATING:
            assert _severity_doc(check).startswith("Always "), f"{check.code}: say 'Always {check.severity.label}'"


def test_xid_severity_section_names_every_known_xid_at_its_severity():
    from checks.debug import XID_FACTS

    text = _severity_doc(REGISTRY.find("GPU706"))
    error_part, _, warning_part = text.partition("Warning")
    for code, fact in XID_FACTS.items():
        part = error_part if fact.severity.label == "error" else warning_part
        assert re.search(rf"\b{code}\b", part), (
            f"GPU706's Severity section does not list Xid {code} as {fact.severity.label}"
        )


def test_readme_states_the_severity_policy():
    text = catalogue.README.read_text(encoding="utf-8")
    start = text.index("**Severity policy.**")
    policy = text[start : text.index("\n**", start + 1)]
    for level, words in (
        ("error", "hurt now and a human must act"),
        ("warning", "will hurt, or it costs money"),
        ("info", "in progress, or worth knowing"),
    ):
        assert re.search(rf"`{level}`: [^\n]*{re.escape(words)}", policy), f"README's policy does not define {level}"
    assert "nothing above `info`" in policy
    assert "--fail-on" in policy


@pytest.mark.parametrize("name", ["healthy", "node-initializing"])
def test_healthy_or_in_between_cluster_yields_nothing_above_info(name: str):
    from tests.helpers.catalogue_fixtures import scenario

    above = [
        f"{f.code} {f.severity.label}: {f.message}" for f in run_checks(scenario(name)()) if f.severity.label != "info"
    ]
    assert not above, above


def test_checks_explain_shows_the_severity_section():
    import io

    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(catalogue.explain_page(REGISTRY.find("GPU303")), end="")
    lines = out.getvalue().splitlines()
    assert "Severity" in lines
    body = " ".join(lines[lines.index("Severity") + 1 :])
    assert "Info while the instance was launched less than 5 minutes ago" in body
