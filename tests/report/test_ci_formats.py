"""`-o junit` and `-o sarif` for CI systems: structure checked against what JUnit consumers and
SARIF 2.1.0 require, on the incident scenario and on a partial read."""

from __future__ import annotations

import io
import json
from xml.etree import ElementTree as ET

import pytest

from checks.model import Finding, ObjectRef, Severity
from checks.registry import SNAPSHOT_SCOPES
from checks.snapshot import ClusterSnapshot, Incomplete
from gputui.cli import main
from gputui.report import render
from gputui.report.catalogue import all_checks


def _diagnose(capsys, *extra: str) -> tuple[int, str]:
    code = main(["diagnose", "--from", "incident", "--no-progress", *extra])
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def incident_doc():
    out = io.StringIO()
    mp = pytest.MonkeyPatch()
    mp.setattr("sys.stdout", out)
    try:
        main(["diagnose", "--from", "incident", "--no-progress", "-o", "json"])
    finally:
        mp.undo()
    return json.loads(out.getvalue())


def test_junit_has_a_testcase_per_check_and_a_failure_per_finding_at_fail_on(capsys, incident_doc):
    code, out = _diagnose(capsys, "-o", "junit")
    assert code == 1 and out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    snapshot_checks = [c for c in all_checks() if c.scope in SNAPSHOT_SCOPES]
    assert [c.get("name") for c in cases] == [f"{c.code} {c.name}" for c in snapshot_checks]
    assert all(c.get("classname").startswith("gputui.") for c in cases)
    errors = [f for f in incident_doc["findings"] if f["severity"] == "error"]
    failures = [f for c in cases for f in c.findall("failure")]
    assert len(failures) == len(errors) > 0
    assert {f.get("type") for f in failures} == {"error"}
    failing_cases = [c for c in cases if c.find("failure") is not None]
    assert suite.get("tests") == root.get("tests") == str(len(cases))
    assert suite.get("failures") == root.get("failures") == str(len(failing_cases))
    gpu101 = next(c for c in cases if c.get("name") == "GPU101 gpu-not-allocatable")
    assert any("ip-10-0-39-113.us-west-2.compute.internal" in f.get("message") for f in gpu101.findall("failure"))
    # Warnings are below the default --fail-on: listed, not failed.
    warned = {f["code"] for f in incident_doc["findings"] if f["severity"] == "warning"}
    for case in cases:
        if case.get("name").split()[0] in warned - {f["code"] for f in errors}:
            assert case.find("failure") is None and case.find("system-out") is not None


def test_junit_follows_fail_on(capsys, incident_doc):
    _, out = _diagnose(capsys, "-o", "junit", "--fail-on", "warning")
    at_least_warning = [f for f in incident_doc["findings"] if f["severity"] in ("error", "warning")]
    assert len(ET.fromstring(out).findall(".//failure")) == len(at_least_warning)
    code, out = _diagnose(capsys, "-o", "junit", "--fail-on", "none")
    assert code == 0 and ET.fromstring(out).findall(".//failure") == []
    _, out = _diagnose(capsys, "-o", "junit", "--check", "GPU101")
    assert [c.get("name") for c in ET.fromstring(out).iter("testcase")] == ["GPU101 gpu-not-allocatable"]


def test_sarif_is_a_valid_2_1_0_log(capsys, incident_doc):
    _, out = _diagnose(capsys, "-o", "sarif")
    log = json.loads(out)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "gputui" and driver["version"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [c.code for c in all_checks()]
    for r in rules:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    results = run["results"]
    assert len(results) == len(incident_doc["findings"])
    level = {"error": "error", "warning": "warning", "info": "note"}
    for result, f in zip(results, incident_doc["findings"]):
        assert result["ruleId"] == f["code"] == rules[result["ruleIndex"]]["id"]
        assert result["level"] == level[f["severity"]]
        assert result["message"]["text"]
        [loc] = result["locations"][0]["logicalLocations"]
        s = f["subject"]
        assert loc["name"] == s["name"] and loc["kind"] == "resource"
        assert loc["fullyQualifiedName"] == "/".join(x for x in (s["kind"], s["namespace"], s["name"]) if x)
        assert result["partialFingerprints"]["gputuiFindingId/v1"] == f["id"]
        for related in result.get("relatedLocations", []):
            assert isinstance(related["id"], int) and related["logicalLocations"][0]["fullyQualifiedName"]
    assert run["invocations"][0]["executionSuccessful"] is True


def test_a_partial_read_is_an_error_in_junit_and_a_notification_in_sarif():
    snap = ClusterSnapshot(context="prod", server="https://x", source="live")
    snap.incomplete = [Incomplete("nodeclaims.karpenter.sh", "Forbidden", "nodeclaims.karpenter.sh is forbidden")]
    finding = Finding(
        code="GPU101",
        name="gpu-not-allocatable",
        severity=Severity.WARNING,
        area="nodes",
        title="GPU node reports no allocatable nvidia.com/gpu",
        message="no GPUs",
        subject=ObjectRef("Node", "n1"),
    )
    out = io.StringIO()
    render("junit", snap, [finding], out, fail_on="warning")
    root = ET.fromstring(out.getvalue())
    read = next(c for c in root.iter("testcase") if c.get("classname") == "gputui.read")
    assert read.find("error").get("type") == "Forbidden" and root.get("errors") == "1"
    assert len(root.findall(".//failure")) == 1
    out = io.StringIO()
    render("sarif", snap, [finding], out)
    [note] = json.loads(out.getvalue())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "error" and "nodeclaims.karpenter.sh" in note["message"]["text"]
