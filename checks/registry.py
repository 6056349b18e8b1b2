"""The check registry: checks register themselves with a decorator.

A check is a pure function `fn(snapshot) -> Iterable[Finding]`. Its docstring has the
sections *What it checks*, *Why it matters*, *How to fix* and *Severity* (its default
severity and when it raises another; rendered by `gputui checks explain`). The runner, not the check, turns an exception into one
internal-error finding so one broken check never hides the others.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from checks.causes import link_causes, pools_waited_for
from checks.check_docs import doc_sections
from checks.fix_kinds import FixKind
from checks.model import Finding, FixPlan, ObjectRef, Severity

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

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
# cluster: runs on snapshots; nodepool-draft: also on edited and linted NodePools;
# debug: runs on nvidia-smi observations (gputui.debugpod); internal: raised by the runner.
SCOPES = ("cluster", "nodepool-draft", "debug", "internal")
SNAPSHOT_SCOPES = ("cluster", "nodepool-draft")


@dataclass(frozen=True)
class Check:
    """One catalogue entry, declared once by @check: the check builds its own findings
    (`check.finding(...)`), so its code, name, title and severity are never typed again."""

    code: str
    name: str
    severity: Severity
    title: str
    reads: tuple[str, ...]
    fn: Callable[..., Iterable[Finding] | None]
    scope: str = "cluster"  # see SCOPES
    fix_kinds: tuple[FixKind, ...] = ()  # the fix plans its findings may offer

    def __call__(self, subject: Any) -> Iterable[Finding]:
        """Run the check on a snapshot (or, for debug checks, on one node's observation)."""
        found = self.fn(subject)
        return () if found is None else found

    @property
    def area(self) -> str:
        return AREAS.get(int(self.code[3]), "other")

    @property
    def module(self) -> str:
        """Where the check lives, as a path from the repository root: checks/nodes.py."""
        return self.fn.__module__.replace(".", "/") + ".py"

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()

    def doc_sections(self) -> dict[str, str]:
        """The docstring's summary and sections (see checks.check_docs)."""
        return doc_sections(self.fn.__doc__)

    def finding(
        self,
        message: str,
        subject: ObjectRef,
        *,
        severity: Severity | None = None,
        title: str | None = None,
        related: Iterable[ObjectRef] = (),
        evidence: Iterable[str] = (),
        fixes: Iterable[FixPlan] = (),
    ) -> Finding:
        """A finding of this check: its code, name, area, and its default severity and title
        unless the situation calls for others."""
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            title=title or self.title,
            message=message,
            subject=subject,
            area=self.area,
            related=list(related),
            evidence=list(evidence),
            fixes=list(fixes),
        )


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
        fixes: Iterable[FixKind] = (),
    ) -> Callable[[Callable[..., Any]], Check]:
        if not CODE_RE.match(code):
            raise ValueError(f"check code {code!r} must look like GPU123")
        if not NAME_RE.match(name):
            raise ValueError(f"check name {name!r} must be kebab-case")
        if scope not in SCOPES:
            raise ValueError(f"check scope {scope!r} must be one of {', '.join(SCOPES)}")
        fix_kinds = tuple(FixKind(k) for k in fixes)

        def deco(fn: Callable[..., Any]) -> Check:
            if code in self._checks:
                raise ValueError(f"check code {code} registered twice")
            if any(c.name == name for c in self._checks.values()):
                raise ValueError(f"check name {name} registered twice")
            c = Check(code, name, severity, title, tuple(reads), fn, scope, fix_kinds)
            self._checks[code] = c
            return c

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


@check("GPU901", "check-internal-error", Severity.WARNING, "A check failed", scope="internal")
def check_internal_error(snapshot: ClusterSnapshot) -> Iterable[Finding]:
    """A check raised an exception instead of answering; its findings are missing.

    What it checks:
        Nothing of the cluster: the runner reports a check that crashed (a field of an
        unexpected shape, a bug in gputui) as this finding and runs every other check.

    Why it matters:
        The crashed check's problems are not in the report, so a clean-looking result may
        be incomplete. The message names the check, the exception and where it was raised.

    How to fix:
        Re-run with the same input to confirm, then report it with the message (and, if
        you can share it, a snapshot from `gputui snapshot -o FILE`). Meanwhile read that
        check's area by hand (`gputui checks explain CODE`).

    Severity:
        Always warning: the cluster is not known to be hurt, but the report is
        incomplete.
    """
    return ()


INTERNAL_ERROR = check_internal_error
INTERNAL_ERROR_CODE = INTERNAL_ERROR.code


def run_checks(snapshot: ClusterSnapshot, checks: Iterable[Check] | None = None) -> list[Finding]:
    """Run checks over a snapshot; a check that raises yields one internal-error finding.
    Findings that follow from another one name their root cause (checks.causes)."""
    # Debug checks read nvidia-smi results, not a snapshot: gputui.debugpod runs them.
    selected = list(checks) if checks is not None else [c for c in REGISTRY.all() if c.scope in SNAPSHOT_SCOPES]
    findings: list[Finding] = []
    for c in selected:
        try:
            for f in c(snapshot):
                if not f.area:
                    f.area = c.area
                findings.append(f)
        except Exception as e:  # noqa: BLE001 - one broken check must not hide the rest
            tb = traceback.extract_tb(e.__traceback__)
            where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else "?"
            findings.append(
                INTERNAL_ERROR.finding(
                    f"check {c.code} {c.name} raised {type(e).__name__}: {e} (at {where}); "
                    "its findings are missing from this report",
                    ObjectRef(kind="Check", name=c.code),
                    title=f"Check {c.code} ({c.name}) failed",
                    evidence=[f"{type(e).__name__}: {e}"],
                )
            )
    findings.sort(key=lambda f: f.sort_key)
    return link_causes(findings, pools_waited_for(snapshot))
