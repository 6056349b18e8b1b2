"""Reports for CI systems: JUnit XML (`-o junit`) and SARIF 2.1.0 (`-o sarif`).

JUnit: one testcase per check that ran; each finding at or above --fail-on is a <failure> of
its check, findings below it are listed in the testcase's <system-out>; a resource that could
not be read is an <error> of a `read` testcase. SARIF: one run whose rules are the check
catalogue; each finding is a result with the level its severity maps to and the Kubernetes
object it is about as a logical location.
"""

from __future__ import annotations

import json
from typing import Any, TextIO
from xml.etree import ElementTree as ET

from checks.model import Finding, Severity
from gputui import __version__
from gputui.report import as_of, blocking_incomplete, document, ref_words

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _ran(checks_run, findings: list[Finding]):
    """The checks this run asked for (every check that reads a snapshot when none were named),
    and any other check a finding came from (GPU901, a check that crashed)."""
    from checks.registry import SNAPSHOT_SCOPES
    from gputui.report.catalogue import all_checks

    codes = {f.code for f in findings}
    chosen = {c.code for c in checks_run} if checks_run else None
    return [
        c
        for c in all_checks()
        if c.code in codes or (c.code in chosen if chosen is not None else c.scope in SNAPSHOT_SCOPES)
    ]


def _at_or_above(f: Finding, fail_on: str) -> bool:
    return fail_on != "none" and f.severity >= Severity.parse(fail_on)


def _finding_text(f: Finding) -> str:
    lines = [f"{f.severity.label} {f.code} on {ref_words(f.subject)}", f.message]
    lines += [f"evidence: {e}" for e in f.evidence]
    lines += [f"related: {ref_words(r)}" for r in f.related]
    for fix in f.fixes:
        lines.append(f"fix: {fix.title}" + (" (disruptive)" if fix.disruptive else ""))
        if fix.kubectl:
            lines.append(f"  $ {fix.kubectl}")
    if f.cause:
        lines.append(f"because of: {f.cause}")
    return "\n".join(lines)


def write_junit(snapshot, findings: list[Finding], out: TextIO, *, fail_on: str = "error", checks_run=None) -> None:
    cluster = snapshot.context or "cluster"
    suite = ET.Element("testsuite", name=f"gputui diagnose {cluster}", timestamp=as_of(snapshot).replace(" ", "T"))
    props = ET.SubElement(suite, "properties")
    for name, value in (("context", cluster), ("server", snapshot.server or ""), ("source", snapshot.source)):
        ET.SubElement(props, "property", name=name, value=value)
    tests = failures = errors = 0
    for c in _ran(checks_run, findings):
        mine = [f for f in findings if f.code == c.code]
        case = ET.SubElement(suite, "testcase", classname=f"gputui.{c.area}", name=f"{c.code} {c.name}", time="0")
        tests += 1
        failing = [f for f in mine if _at_or_above(f, fail_on)]
        for f in failing:
            failure = ET.SubElement(
                case, "failure", type=f.severity.label, message=f"{ref_words(f.subject)}: {f.title}"
            )
            failure.text = _finding_text(f)
        failures += bool(failing)
        below = [f for f in mine if f not in failing]
        if below:
            ET.SubElement(case, "system-out").text = "\n\n".join(_finding_text(f) for f in below)
    unread = blocking_incomplete(snapshot)
    if unread:
        case = ET.SubElement(suite, "testcase", classname="gputui.read", name="read the cluster", time="0")
        tests += 1
        errors += 1
        for i in unread:
            error = ET.SubElement(case, "error", type=i.reason, message=f"could not read {i.resource}")
            error.text = f"{i.resource}: {i.reason}: {i.message}; checks that need it may miss findings"
    for key, value in (("tests", tests), ("failures", failures), ("errors", errors), ("skipped", 0)):
        suite.set(key, str(value))
    root = ET.Element("testsuites", name="gputui diagnose", tests=str(tests), failures=str(failures))
    root.set("errors", str(errors))
    root.append(suite)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


def sarif(snapshot, findings: list[Finding], checks_run=None) -> dict[str, Any]:
    """The SARIF 2.1.0 log of a run."""
    from gputui.report.catalogue import all_checks

    catalogue = all_checks()
    index = {c.code: i for i, c in enumerate(catalogue)}
    rules = []
    for c in catalogue:
        doc = c.doc_sections()
        rule: dict[str, Any] = {
            "id": c.code,
            "name": c.name,
            "shortDescription": {"text": c.title},
            "fullDescription": {"text": " ".join(doc.get("what it checks", doc.get("summary", c.title)).split())},
            "defaultConfiguration": {"level": SARIF_LEVEL[c.severity.label]},
            "properties": {"area": c.area, "module": c.module},
        }
        if doc.get("how to fix"):
            rule["help"] = {"text": " ".join(doc["how to fix"].split())}
        rules.append(rule)
    results = []
    for f in document(snapshot, findings)["findings"]:
        subject = f["subject"]
        qualified = "/".join(x for x in (subject["kind"], subject["namespace"] or "", subject["name"]) if x)
        result: dict[str, Any] = {
            "ruleId": f["code"],
            "level": SARIF_LEVEL[f["severity"]],
            "message": {"text": f["message"] or f["title"]},
            "locations": [
                {"logicalLocations": [{"name": subject["name"], "fullyQualifiedName": qualified, "kind": "resource"}]}
            ],
            "partialFingerprints": {"gputuiFindingId/v1": f["id"]},
            "properties": {
                "severity": f["severity"],
                "subjectKind": subject["kind"],
                "evidence": f["evidence"],
                "cause": f["cause"],
                "fixes": f["fixes"],
            },
        }
        if f["code"] in index:
            result["ruleIndex"] = index[f["code"]]
        if f["related"]:
            result["relatedLocations"] = [
                {
                    "id": n,
                    "logicalLocations": [
                        {
                            "name": r["name"],
                            "fullyQualifiedName": "/".join(
                                x for x in (r["kind"], r["namespace"] or "", r["name"]) if x
                            ),
                            "kind": "resource",
                        }
                    ],
                }
                for n, r in enumerate(f["related"])
            ]
        results.append(result)
    notes = [
        {
            "level": "error" if i in blocking_incomplete(snapshot) else "note",
            "message": {"text": f"could not read {i.resource}: {i.reason}: {i.message}"},
        }
        for i in snapshot.incomplete
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gputui",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
                "results": results,
                "properties": {
                    "context": snapshot.context,
                    "server": snapshot.server,
                    "source": snapshot.source,
                    "asOf": as_of(snapshot),
                },
            }
        ],
    }


def write_sarif(snapshot, findings: list[Finding], out: TextIO, checks_run=None) -> None:
    json.dump(sarif(snapshot, findings, checks_run), out, indent=2, ensure_ascii=False)
    out.write("\n")
