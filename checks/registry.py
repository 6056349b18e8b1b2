"""The check registry: checks register themselves with a decorator.

A check is a pure function `fn(snapshot) -> Iterable[Finding]`. Its docstring has the
sections *What it checks*, *Why it matters*, *How to fix* (rendered by
`gputui checks explain`). The runner, not the check, turns an exception into one
internal-error finding so one broken check never hides the others.
"""

from __future__ import annotations

import re
import textwrap
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from checks.model import Finding, ObjectRef, Severity

CODE_RE = re.compile(r"^GPU\d{3}$")
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

AREAS = {
    1: "nodes",
    2: "operator",
    3: "karpenter",
    4: "scheduling",
    5: "disruption",
    6: "nodepool",
    7: "debug",
    9: "internal",
}


@dataclass(frozen=True)
class Check:
    code: str
    name: str
    severity: Severity
    title: str
    reads: tuple[str, ...]
    fn: Callable
    scope: str = "cluster"  # "cluster" | "nodepool-draft" (also runs on edited NodePools)

    @property
    def area(self) -> str:
        return AREAS.get(int(self.code[3]), "other")

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()

    def doc_sections(self) -> dict[str, str]:
        """Split the docstring into its named sections."""
        sections: dict[str, str] = {}
        current = "summary"
        lines: list[str] = []
        for raw in _dedent(self.fn.__doc__ or "").splitlines():
            line = raw.rstrip()
            m = re.match(r"^(What it checks|Why it matters|How to fix)\s*:?\s*$", line.strip(), re.I)
            if m:
                sections[current] = textwrap.dedent("\n".join(lines)).strip()
                current = m.group(1).lower()
                lines = []
            else:
                lines.append(line)
        sections[current] = textwrap.dedent("\n".join(lines)).strip()
        return {k: v for k, v in sections.items() if v}


def _dedent(text: str) -> str:
    import inspect

    return inspect.cleandoc(text)


class Registry:
    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def register(
        self,
        code: str,
        name: str,
        severity: Severity,
        title: str,
        reads: Iterable[str] = (),
        scope: str = "cluster",
    ) -> Callable:
        if not CODE_RE.match(code):
            raise ValueError(f"check code {code!r} must look like GPU123")
        if not NAME_RE.match(name):
            raise ValueError(f"check name {name!r} must be kebab-case")

        def deco(fn: Callable) -> Callable:
            if code in self._checks:
                raise ValueError(f"check code {code} registered twice")
            if any(c.name == name for c in self._checks.values()):
                raise ValueError(f"check name {name} registered twice")
            self._checks[code] = Check(code, name, severity, title, tuple(reads), fn, scope)
            return fn

        return deco

    def all(self) -> list[Check]:
        return sorted(self._checks.values(), key=lambda c: c.code)

    def find(self, code_or_name: str) -> Check | None:
        key = code_or_name.strip()
        if key.upper() in self._checks:
            return self._checks[key.upper()]
        for c in self._checks.values():
            if c.name == key.lower():
                return c
        return None


REGISTRY = Registry()
check = REGISTRY.register

INTERNAL_ERROR_CODE = "GPU901"


def run_checks(snapshot, checks: Iterable[Check] | None = None) -> list[Finding]:
    """Run checks over a snapshot; a check that raises yields one internal-error finding."""

    # Debug-scope checks read nvidia-smi results, not a snapshot; gputui.debugpod runs them.
    selected = list(checks) if checks is not None else [c for c in REGISTRY.all() if c.scope != "debug"]
    findings: list[Finding] = []
    for c in selected:
        try:
            for f in c.fn(snapshot) or ():
                if not f.area:
                    f.area = c.area
                findings.append(f)
        except Exception as e:  # noqa: BLE001 - one broken check must not hide the rest
            tb = traceback.extract_tb(e.__traceback__)
            where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else "?"
            findings.append(
                Finding(
                    code=INTERNAL_ERROR_CODE,
                    name="check-internal-error",
                    severity=Severity.WARNING,
                    area="internal",
                    title=f"Check {c.code} ({c.name}) failed",
                    message=f"check {c.code} {c.name} raised {type(e).__name__}: {e} (at {where}); "
                    "its findings are missing from this report",
                    subject=ObjectRef(kind="Check", name=c.code),
                    evidence=[f"{type(e).__name__}: {e}"],
                )
            )
    findings.sort(key=lambda f: f.sort_key)
    return findings
