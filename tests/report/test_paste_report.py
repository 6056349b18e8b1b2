"""The text report an on-call engineer pastes into a ticket or chat: it starts with what could
not be seen and the summary, says when the cluster was read, and keeps every line within 80
columns without splitting an object's name, a `Kind name` pair or a uid; paste-ready commands
stay whole on one line."""

from __future__ import annotations

import io
import re

import pytest

from checks.model import Finding, ObjectRef, Severity
from checks.snapshot import ClusterSnapshot, Incomplete
from gputui.cli import main
from gputui.report import render
from gputui.report.text import line_spans

UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _is_command(line: str) -> bool:
    return line.lstrip().startswith("$ ") or "`" in line


@pytest.fixture(scope="module")
def incident(tmp_path_factory) -> tuple[str, str]:
    text_out, json_out = io.StringIO(), io.StringIO()
    mp = pytest.MonkeyPatch()
    mp.setenv("COLUMNS", "80")
    try:
        mp.setattr("sys.stdout", text_out)
        main(["diagnose", "--from", "incident", "--no-progress"])
        mp.setattr("sys.stdout", json_out)
        main(["diagnose", "--from", "incident", "--no-progress", "-o", "json"])
    finally:
        mp.undo()
    return text_out.getvalue(), json_out.getvalue()


def test_every_line_fits_80_columns_except_paste_ready_commands(incident):
    lines = incident[0].splitlines()
    assert len(lines) > 100
    too_wide = [line for line in lines if len(line) > 80 and not _is_command(line)]
    assert too_wide == []
    # A command quoted in a message is whole on its line, as is every `$ kubectl` line.
    for line in lines:
        assert line.count("`") % 2 == 0, line


def test_names_kind_name_pairs_and_uids_are_never_split(incident):
    import json

    text, doc = incident[0], json.loads(incident[1])
    lines = text.splitlines()
    subjects = {(f["subject"]["kind"], f["subject"]["namespace"], f["subject"]["name"]) for f in doc["findings"]}
    for kind, ns, name in subjects:
        ref = f"{kind} {ns + '/' if ns else ''}{name}"
        assert any(ref in line for line in lines), ref
    uids = set(UID.findall(" ".join(text.split())))
    assert uids, "the incident scenario quotes pod uids in its evidence"
    for uid in uids:
        assert any(uid in line for line in lines), uid


def test_the_report_says_when_and_leads_with_the_summary(incident):
    lines = incident[0].splitlines()
    assert re.fullmatch(
        r"gputui diagnose  incident \(offline snapshot\) as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", lines[0]
    )
    summary = next(i for i, line in enumerate(lines) if re.match(r"\d+ problems? \(", line))
    first_section = next(i for i, line in enumerate(lines) if line.startswith("ERROR ("))
    assert summary < 8 < first_section
    causes = lines[summary + 1 : first_section]
    assert causes[0].startswith("  - GPU205 ")  # the cause that explains most comes first


def test_could_not_see_comes_before_the_summary():
    snap = ClusterSnapshot(context="prod", server="https://x", source="live")
    snap.incomplete = [Incomplete("nodeclaims.karpenter.sh", "Forbidden", "nodeclaims.karpenter.sh is forbidden")]
    finding = Finding(
        code="GPU101",
        name="gpu-not-allocatable",
        severity=Severity.ERROR,
        area="nodes",
        title="GPU node reports no allocatable nvidia.com/gpu",
        message="no GPUs",
        subject=ObjectRef("Node", "ip-10-0-3-7.us-west-2.compute.internal"),
    )
    out = io.StringIO()
    render("text", snap, [finding], out)
    text = out.getvalue()
    assert text.index("Could not see") < text.index("1 problem (") < text.index("ERROR (1)")
    assert text.count("Could not see") == 1


def test_wrapping_breaks_between_words_and_keeps_pairs():
    text = "x" * 60 + " Pod gpu-operator/nvidia-driver-daemonset-fbxjp is failing"
    lines = [text[s:e] for s, e in line_spans(text, 80, 76)]
    assert lines == ["x" * 60, "Pod gpu-operator/nvidia-driver-daemonset-fbxjp is failing"]
    long = "pod=nvidia-driver-daemonset-fbxjp_gpu-operator(3e30af98-fe0a-4975-a682-5093d8128514)"
    assert [long[s:e] for s, e in line_spans(long, 50, 50)] == [
        "pod=nvidia-driver-daemonset-fbxjp_gpu-operator",
        "(3e30af98-fe0a-4975-a682-5093d8128514)",
    ]


def test_markdown_lists_what_could_not_be_seen_before_the_findings():
    snap = ClusterSnapshot(context="prod", server="https://x", source="live")
    snap.incomplete = [Incomplete("nodeclaims.karpenter.sh", "Forbidden", "nodeclaims.karpenter.sh is forbidden")]
    finding = Finding(
        code="GPU101",
        name="gpu-not-allocatable",
        severity=Severity.ERROR,
        area="nodes",
        title="GPU node reports no allocatable nvidia.com/gpu",
        message="no GPUs",
        subject=ObjectRef("Node", "n1"),
    )
    out = io.StringIO()
    render("markdown", snap, [finding], out)
    text = out.getvalue()
    assert text.index("### Could not see") < text.index("| Severity |") < text.index("### Error")
    assert text.count("### Could not see") == 1 and "as of " in text
