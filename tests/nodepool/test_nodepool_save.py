"""Saving NodePool drafts over HTTP to the simulator: diff, schema check, server dry run,
apply with a resourceVersion precondition, conflicts, creation, audit log and undo."""

from __future__ import annotations

import pytest

from gputui.errors import RefusedError
from gputui.fixes.audit import AuditLog
from gputui.kube.client import connect
from gputui.kube.errors import KubeApiError
from gputui.nodepool import templates
from gputui.nodepool.model import NodePoolDraft
from gputui.nodepool.save import NodePoolSaver, merge_diff

NP_PATH = "/apis/karpenter.sh/v1/nodepools"


@pytest.fixture
def incident(start_sim, tmp_path):
    sim = start_sim(sources=["incident"])
    kube = connect(str(sim.kubeconfig), sim.context)
    yield kube, NodePoolSaver(kube, audit=AuditLog(tmp_path / "audit.jsonl"))
    kube.close()


def _draft(kube, name: str) -> NodePoolDraft:
    return NodePoolDraft(kube.get_json(f"{NP_PATH}/{name}"))


def test_merge_diff():
    assert merge_diff({"a": 1, "b": {"c": 2, "d": 3}, "l": [1]}, {"a": 1, "b": {"c": 5}, "l": [1, 2], "n": "x"}) == {
        "b": {"c": 5, "d": None},
        "l": [1, 2],
        "n": "x",
    }


def test_edit_is_reviewed_dry_run_and_applied(incident):
    kube, saver = incident
    d = _draft(kube, "gpu-inference")
    d.set_text("limit_gpu", "96")
    d.set_text("taints", "nvidia.com/gpu=true:NoSchedule, team=ml:NoSchedule")
    d.set_text("consolidation_policy", "WhenEmpty")
    review = saver.review(d)
    assert review.dry_run_ok and review.schema.ok and review.can_save, review.dry_run_message
    assert review.dry_run_message == "the server accepts the change"
    # The installed (simulated) CRD keeps unknown fields, so the built-in rules judged the schema.
    assert review.schema.source.startswith("gputui's built-in NodePool rules")
    assert "-    nvidia.com/gpu: '64'\n+    nvidia.com/gpu: '96'" in review.diff
    assert "+    consolidationPolicy: WhenEmpty" in review.diff
    assert "+        key: team" in review.diff
    # A dry run stores nothing.
    assert kube.get_json(f"{NP_PATH}/gpu-inference")["spec"]["limits"]["nvidia.com/gpu"] == "64"
    result = saver.save(review)
    assert result.ok, result.message
    live = kube.get_json(f"{NP_PATH}/gpu-inference")
    assert live["spec"]["limits"]["nvidia.com/gpu"] == "96"
    assert live["spec"]["disruption"]["consolidationPolicy"] == "WhenEmpty"
    assert live["spec"]["template"]["spec"]["taints"][1] == {"key": "team", "value": "ml", "effect": "NoSchedule"}
    entry = saver.applier.audit.find(result.entry_id)
    assert entry.title == "Edit NodePool gpu-inference" and entry.before["spec"]["limits"]["nvidia.com/gpu"] == "64"
    undone = saver.applier.undo(result.entry_id)
    assert undone.ok, undone.message
    assert kube.get_json(f"{NP_PATH}/gpu-inference")["spec"]["limits"]["nvidia.com/gpu"] == "64"


def test_stale_resource_version_is_a_conflict_then_rediffed(incident):
    kube, saver = incident
    d = _draft(kube, "gpu-training")
    d.set_text("limit_gpu", "96")
    review = saver.review(d)
    assert review.can_save
    kube.request(
        "PATCH", f"{NP_PATH}/gpu-training", body={"spec": {"weight": 85}}, content_type="application/merge-patch+json"
    )
    result = saver.save(review)
    assert (result.ok, result.conflict) == (False, True)
    assert "changed since the fix was computed" in result.message
    assert kube.get_json(f"{NP_PATH}/gpu-training")["spec"]["limits"]["nvidia.com/gpu"] == "64"
    again = saver.review(d)
    assert again.stale and "resourceVersion" in again.stale
    assert again.resource_version != review.resource_version
    assert "weight: 85" in again.diff or "weight" not in again.diff  # the other change is not reverted
    result = saver.save(again)
    assert result.ok, result.message
    live = kube.get_json(f"{NP_PATH}/gpu-training")
    assert (live["spec"]["limits"]["nvidia.com/gpu"], live["spec"]["weight"]) == ("96", 85)


def test_schema_errors_stop_before_the_dry_run(incident):
    kube, saver = incident
    d = _draft(kube, "gpu-inference")
    d.obj["spec"]["disruption"]["consolidationPolicy"] = "Sometimes"
    review = saver.review(d)
    assert not review.can_save
    assert review.dry_run_message == "not sent for a dry run: the schema check failed"
    assert [str(e) for e in review.schema.errors] == [
        'spec.disruption.consolidationPolicy: Unsupported value: "Sometimes": supported values: "WhenEmpty", '
        '"WhenEmptyOrUnderutilized", "Balanced"'
    ]
    assert not saver.save(review).ok


def test_no_change_is_not_saved(incident):
    kube, saver = incident
    review = saver.review(_draft(kube, "general"))
    assert review.diff == "" and not review.can_save
    assert review.dry_run_message.startswith("nothing to save")


def test_invalid_template_label_is_caught_before_the_server(incident):
    kube, saver = incident
    d = _draft(kube, "gpu-inference")
    d.obj["spec"]["template"]["metadata"]["labels"] = {"bad": "not a valid value!"}
    review = saver.review(d)
    assert not review.can_save
    assert [e.path for e in review.schema.errors] == ["spec.template.metadata.labels[bad]"]


def test_new_nodepool_from_a_template_is_created(incident):
    kube, saver = incident
    d = NodePoolDraft(templates.get("spot-inference").build("edge-spot")[0])
    review = saver.review(d)
    assert review.creating and review.dry_run_ok, review.dry_run_message
    assert "+  name: edge-spot" in review.diff
    result = saver.save(review)
    assert result.ok and result.message == "NodePool/edge-spot created"
    assert kube.get_json(f"{NP_PATH}/edge-spot")["spec"]["weight"] == 70
    entry = saver.applier.audit.find(result.entry_id)
    assert (entry.plan["id"], entry.op, entry.before) == ("create-nodepool", "create", None)
    # Undoing the creation deletes the NodePool (not an emptied spec).
    up = saver.applier.preview_undo(result.entry_id)
    assert (
        up.action == "delete" and up.message == "delete NodePool/edge-spot, which “Create NodePool edge-spot” created"
    )
    undone = saver.applier.undo(result.entry_id, expected_resource_version=up.resource_version)
    assert undone.ok, undone.message
    with pytest.raises(KubeApiError) as e:
        kube.get_json(f"{NP_PATH}/edge-spot")
    assert e.value.status == 404
    assert result.entry_id in saver.applier.audit.undone_ids()


def test_undoing_a_creation_of_a_nodepool_already_gone_says_so(incident):
    kube, saver = incident
    result = saver.save(saver.review(NodePoolDraft(templates.get("inference").build("gone-soon")[0])))
    assert result.ok, result.message
    kube.request("DELETE", f"{NP_PATH}/gone-soon")
    with pytest.raises(RefusedError) as e:
        saver.applier.undo(result.entry_id)
    assert e.value.message == "NodePool/gone-soon no longer exists; there is nothing to undo"


def test_read_only_never_sends(start_sim, tmp_path):
    sim = start_sim(sources=["incident"])
    kube = connect(str(sim.kubeconfig), sim.context)
    saver = NodePoolSaver(kube, read_only=True, audit=AuditLog(tmp_path / "a.jsonl"))
    d = _draft(kube, "gpu-inference")
    d.set_text("limit_gpu", "80")
    review = saver.review(d)
    assert review.dry_run_message == "read-only: nothing is sent" and not review.can_save
    assert not saver.save(review).ok
    kube.close()


def test_every_template_is_accepted_by_the_simulators_dry_run(start_sim):
    from pathlib import Path

    crds = Path(__file__).resolve().parents[2] / "gputui" / "sim" / "crds" / "karpenter" / "v1"
    sim = start_sim(sources=[str(crds)])
    kube = connect(str(sim.kubeconfig), sim.context)
    names = []
    for t in templates.TEMPLATES.values():
        for doc in t.build():
            answer = kube.request("POST", NP_PATH, query={"dryRun": "All"}, body=doc).json()
            assert answer["metadata"]["name"] == doc["metadata"]["name"]
            assert answer["spec"] == doc["spec"]
            names.append(doc["metadata"]["name"])
    assert len(names) == 8
    assert kube.get_json(NP_PATH)["items"] == []  # a dry run stores nothing
    kube.close()


def test_v1beta1_nodepool_is_saved_as_v1beta1(start_sim, tmp_path):
    sim = start_sim(sources=["karpenter-v1beta1"])
    kube = connect(str(sim.kubeconfig), sim.context)
    path = "/apis/karpenter.sh/v1beta1/nodepools/gpu-inference"
    d = NodePoolDraft(kube.get_json(path))
    assert d.is_v1beta1
    d.set_text("limit_gpu", "8")
    d.set_text("expire_after", "336h")
    saver = NodePoolSaver(kube, audit=AuditLog(tmp_path / "a.jsonl"))
    review = saver.review(d)
    assert review.can_save, (review.dry_run_message, [str(e) for e in review.schema.errors])
    assert review.schema.source.startswith("gputui's built-in NodePool rules")
    assert saver.save(review).ok
    live = kube.get_json(path)
    assert live["apiVersion"] == "karpenter.sh/v1beta1"
    assert (live["spec"]["limits"]["nvidia.com/gpu"], live["spec"]["disruption"]["expireAfter"]) == ("8", "336h")
    assert "expireAfter" not in live["spec"]["template"]["spec"]
    # A v1-only field is refused before anything is sent.
    d2 = NodePoolDraft(live)
    d2.obj["spec"]["template"]["spec"]["terminationGracePeriod"] = "1h"
    bad = saver.review(d2)
    assert not bad.can_save
    assert [str(e) for e in bad.schema.errors] == [
        'spec.template.spec.terminationGracePeriod: unknown field "spec.template.spec.terminationGracePeriod" '
        "(not declared in the schema)"
    ]
    kube.close()


def test_a_new_nodepool_never_merges_into_an_existing_one(incident):
    kube, saver = incident
    review = saver.review(NodePoolDraft(templates.get("inference").build("gpu-inference")[0]))
    assert not review.can_save
    assert review.dry_run_message.startswith("NodePool gpu-inference already exists")
    assert not saver.save(review).ok
    assert kube.get_json(f"{NP_PATH}/gpu-inference")["spec"]["limits"]["nvidia.com/gpu"] == "64"
