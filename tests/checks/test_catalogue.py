"""One test over the whole catalogue: every registered check is documented, has a
fixture that triggers it and one that does not, offers only fix kinds it declares, and
the README's check tables and checks/INDEX.md say what the registry says."""

from __future__ import annotations

import pytest

import checks  # noqa: F401  (registers every check)
from checks.check_docs import SECTIONS
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
