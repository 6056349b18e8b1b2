"""Unit tests of the fix engine's pure parts: patches, preconditions, diffs, manifest
fragments and the audit log. The simulator tests (test_fixes_sim.py) cover the wire."""

from __future__ import annotations

import json
import os
import stat

import pytest

from checks import fixplans
from checks.kinds import Object, Taint, to_struct
from checks.model import FixPlan, ObjectRef
from gputui.fixes import plan as plans
from gputui.fixes.apply import Applier, ReadOnlyError
from gputui.fixes.audit import AuditEntry, AuditLog
from gputui.fixes.diff import changed_line_count, deletion_summary, readable, yaml_diff
from gputui.fixes.targets import collection_path, object_path

GPU_TOL = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def _deployment(tolerations=None, rv="10"):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "ml",
            "resourceVersion": rv,
            "generation": 2,
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "main", "image": "img"}], "tolerations": list(tolerations or [])},
            },
        },
    }


def _toleration_plan(obj):
    return fixplans.add_toleration(
        to_struct(obj, Object), [Taint(key="example.com/dedicated", effect="NoSchedule")], kind="Deployment"
    )


def test_merge_patch_follows_rfc7386():
    doc = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    out = plans.merge_patch(doc, {"a": {"b": None, "c": [3]}, "e": {"f": 1}})
    assert out == {"a": {"c": [3]}, "d": "x", "e": {"f": 1}}
    assert doc == {"a": {"b": 1, "c": [1, 2]}, "d": "x"}  # input untouched


def test_json_patch_ops_and_failed_test():
    doc = {"metadata": {"resourceVersion": "5"}, "spec": {"l": [1, 3]}}
    out = plans.json_patch(
        doc,
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
            {"op": "add", "path": "/spec/l/1", "value": 2},
            {"op": "add", "path": "/spec/l/-", "value": 4},
            {"op": "add", "path": "/spec/x~1y", "value": 1},
            {"op": "remove", "path": "/metadata/resourceVersion"},
        ],
    )
    assert out == {"metadata": {}, "spec": {"l": [1, 2, 3, 4], "x/y": 1}}
    with pytest.raises(plans.PatchError, match="test failed"):
        plans.json_patch(doc, [{"op": "test", "path": "/metadata/resourceVersion", "value": "4"}])
    with pytest.raises(plans.PatchError, match="doc is missing path"):
        plans.json_patch(doc, [{"op": "replace", "path": "/spec/nope", "value": 1}])


def test_preconditions_for_each_patch_type():
    merge = FixPlan(id="x", title="t", target=ObjectRef("Node", "n"), patch_type="merge", patch={"spec": {"a": 1}})
    body = plans.with_precondition(merge, merge.patch, "42")
    assert body == {"spec": {"a": 1}, "metadata": {"resourceVersion": "42"}}
    assert merge.patch == {"spec": {"a": 1}}  # the plan's own patch is not modified
    js = FixPlan(
        id="x",
        title="t",
        target=ObjectRef("Node", "n"),
        patch_type="json",
        patch=[{"op": "add", "path": "/spec/a", "value": 1}],
    )
    assert plans.with_precondition(js, js.patch, "42")[0] == {
        "op": "test",
        "path": "/metadata/resourceVersion",
        "value": "42",
    }
    assert plans.delete_options("42", dry_run=True) == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "preconditions": {"resourceVersion": "42"},
        "dryRun": ["All"],
    }


def test_rebase_keeps_a_toleration_added_after_the_check_ran():
    plan = _toleration_plan(_deployment([GPU_TOL]))
    # Someone added another toleration meanwhile: the plan's whole-list patch would drop it.
    now = _deployment([GPU_TOL, {"key": "spot", "operator": "Exists"}], rv="11")
    patch = plans.rebase(plan, now)
    tols = patch["spec"]["template"]["spec"]["tolerations"]
    assert tols == [
        GPU_TOL,
        {"key": "spot", "operator": "Exists"},
        {"key": "example.com/dedicated", "operator": "Exists", "effect": "NoSchedule"},
    ]
    after = plans.patched(plan, now, patch)
    assert after["spec"]["template"]["spec"]["tolerations"] == tols
    assert after["spec"]["replicas"] == 2


def test_diff_shows_only_the_change_without_noise():
    before = _deployment([GPU_TOL])
    plan = _toleration_plan(before)
    diff = yaml_diff(before, plans.patched(plan, before), name="Deployment/ml/web")
    assert diff.startswith("--- Deployment/ml/web (now)\n+++ Deployment/ml/web (after the fix)\n@@")
    assert changed_line_count(diff) == (3, 0)
    assert "+  - effect: NoSchedule\n" not in diff  # indented under the template
    assert "+        key: example.com/dedicated\n" in diff
    for noise in ("managedFields", "resourceVersion", "last-applied-configuration", "generation"):
        assert noise not in diff
    assert yaml_diff(before, before) == ""


def test_deletion_summary_is_short():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns", "labels": {"a": "b"}},
        "spec": {"containers": [{"name": f"c{i}", "image": "x"} for i in range(50)]},
    }
    out = deletion_summary(pod, name="Pod/ns/p")
    assert out.splitlines()[:3] == ["--- Pod/ns/p (now)", "+++ Pod/ns/p (deleted)", "@@ the whole object is removed @@"]
    assert "-  name: p" in out and out.rstrip().endswith("more lines (labels, spec, status)")
    assert len(out.splitlines()) < 12


def test_manifest_fragment_is_identity_plus_the_patched_fields():
    cp = {
        "apiVersion": "nvidia.com/v1",
        "kind": "ClusterPolicy",
        "metadata": {
            "name": "cluster-policy",
            "resourceVersion": "3",
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "annotations": {"meta.helm.sh/release-name": "gpu-operator"},
        },
        "spec": {"driver": {"enabled": True}, "daemonsets": {"tolerations": [GPU_TOL], "priorityClassName": "x"}},
    }
    plan = fixplans.clusterpolicy_tolerations(to_struct(cp, Object), [Taint(key="dedicated", effect="NoSchedule")])
    assert plan.gitops_warning and "Helm release 'gpu-operator'" in plan.gitops_warning
    frag = plans.manifest_fragment(plan, plans.patched(plan, cp))
    assert frag == {
        "apiVersion": "nvidia.com/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "cluster-policy"},
        "spec": {
            "daemonsets": {"tolerations": [GPU_TOL, {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]}
        },
    }


def test_paths():
    assert object_path(ObjectRef("Deployment", "web", "ml")) == "/apis/apps/v1/namespaces/ml/deployments/web"
    assert object_path(ObjectRef("Pod", "p", "ml"), "eviction") == "/api/v1/namespaces/ml/pods/p/eviction"
    assert object_path(ObjectRef("Node", "n")) == "/api/v1/nodes/n"
    assert (
        collection_path(ObjectRef("NodeClaim", "x", api_version="karpenter.sh/v1beta1"))
        == "/apis/karpenter.sh/v1beta1/nodeclaims"
    )


def test_readable_drops_noise_but_keeps_content():
    r = readable(_deployment())
    assert list(r) == ["apiVersion", "kind", "metadata", "spec"]
    assert "annotations" not in r["metadata"] and "resourceVersion" not in r["metadata"]


def _entry(log, action="apply", ok=True, undoes=None, server="https://k"):
    return log.append(
        AuditEntry(
            id=AuditLog.new_id(),
            time=AuditLog.now(),
            action=action,
            context="c",
            server=server,
            title=f"{action} thing",
            plan={"id": "cordon-node"},
            target={"kind": "Node", "name": "n"},
            before={"kind": "Node"},
            after=None,
            ok=ok,
            undoes=undoes,
        )
    )


def test_audit_log_round_trip_and_undoable(tmp_path):
    log = AuditLog(tmp_path / "state" / "audit.jsonl")
    a = _entry(log)
    b = _entry(log)
    _entry(log, ok=False)
    _entry(log, server="https://other")
    _entry(log, action="undo", undoes=a.id)
    with open(log.path, "a") as f:
        f.write("{not json\n")
    assert [e.id for e in log.undoable("https://k")] == [b.id]
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600
    line = json.loads(log.path.read_text().splitlines()[0])
    assert set(line) >= {
        "id",
        "time",
        "action",
        "context",
        "server",
        "title",
        "plan",
        "target",
        "before",
        "after",
        "result",
    }
    assert line["result"] == {"ok": True, "message": ""}


def test_audit_default_path_follows_xdg_state_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert AuditLog().path == tmp_path / "gputui" / "audit.jsonl"


class _NoCluster:
    """Any request is a failure: read-only refusals must happen before one is built."""

    server = "https://k"
    context = "c"

    def request(self, *a, **kw):
        raise AssertionError("a request was sent in read-only mode")


def test_read_only_applier_refuses_every_write(tmp_path):
    plan = _toleration_plan(_deployment())
    ap = Applier(_NoCluster(), AuditLog(tmp_path / "a.jsonl"), read_only=True)
    for call in (lambda: ap.dry_run(plan), lambda: ap.apply(plan, "1"), lambda: ap.undo()):
        with pytest.raises(ReadOnlyError) as e:
            call()
        assert e.value.exit_code == 2 and "--read-only" in e.value.message
    assert not (tmp_path / "a.jsonl").exists()
