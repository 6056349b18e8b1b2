"""Every command run as a user who holds exactly its shipped role (`gputui rbac`), and with less.

The simulator judges the user's requests by the roles and records each decision, so these
tests also prove the roles are exactly sufficient: every request a command makes is
allowed, and (for the read-only and debug roles) every permission granted is used. A new
API call without a role update fails here.
"""

from __future__ import annotations

import copy
import json
import time

import pytest
import yaml

from checks import fixplans
from checks.kinds import Node, Object, Pod, Taint, to_struct
from checks.model import ObjectRef
from checks.snapshot import KIND_TO_ATTR
from gputui.cli import main
from gputui.commands.rbac import manifests
from gputui.fixes.apply import Applier
from gputui.fixes.audit import AuditLog
from gputui.fixes.targets import object_path
from gputui.kube.client import connect
from gputui.kube.errors import KubeApiError
from gputui.kube.gather import gather
from gputui.kube.live import Live
from gputui.nodepool import templates
from gputui.nodepool.model import NodePoolDraft
from gputui.nodepool.save import NodePoolSaver
from gputui.tui import object_reads
from tests.helpers.debugpod import HOST, namespace, node, poll_debug_pods_quickly, wait_no_pods
from tests.helpers.sim import identity_kubeconfig, sim_http

USER = "alice"
ALICE = [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": USER}]
DEDICATED = Taint(key="example.com/dedicated", value="true", effect="NoSchedule")


# -- roles, trimmed where a test wants less ------------------------------------------------------


def role_objects(*roles: str) -> list[dict]:
    """The shipped roles and alice's bindings to them, as `gputui rbac ROLE --user alice` prints them."""
    return [d for d in yaml.safe_load_all(manifests(list(roles), subjects=ALICE)) if d]


def without(objects: list[dict], resource: str, verb: str | None = None, group: str = "") -> list[dict]:
    """The roles with `verb` (or every verb) on `resource` taken away."""
    out = copy.deepcopy(objects)
    for obj in out:
        for rule in obj.get("rules") or []:
            if group not in rule["apiGroups"] or resource not in rule["resources"]:
                continue
            if verb is None:
                rule["resources"] = [r for r in rule["resources"] if r != resource]
            else:
                rule["verbs"] = [v for v in rule["verbs"] if v != verb]
        if "rules" in obj:
            obj["rules"] = [r for r in obj["rules"] if r["resources"] and r["verbs"]]
    return out


def granted(objects: list[dict]) -> set[tuple[str, str, str]]:
    """(verb, group, resource) of every rule in the roles (the role's namespace aside)."""
    return {
        (verb, group, res)
        for obj in objects
        for rule in obj.get("rules") or []
        for verb in rule["verbs"]
        for group in rule["apiGroups"]
        for res in rule["resources"]
    }


def asked(sim) -> set[tuple[str, str, str]]:
    return {(d.attributes.verb, d.attributes.group, d.attributes.full_resource) for d in decisions(sim)}


def decisions(sim):
    return sim.server.authorizer.decisions_of(USER)


def denied(sim) -> list[str]:
    return [
        f"{a.verb} {a.full_resource}.{a.group} ns={a.namespace} name={a.name}"
        for a in (d.attributes for d in decisions(sim) if not d.allowed)
    ]


@pytest.fixture
def as_alice(start_sim, tmp_path):
    """as_alice(roles, sources=..., objects=..., behaviour=...) -> (sim, alice's kubeconfig)."""

    def make(roles: list[dict], sources=(), objects=(), behaviour=False):
        sim = start_sim(sources=list(sources), objects=list(objects) + roles, behaviour=behaviour)
        return sim, identity_kubeconfig(sim, tmp_path / "alice.kubeconfig", USER)

    return make


# -- read-only: diagnose, snapshot, the app's reads ---------------------------------------------------


def diagnose_json(kubeconfig, capsys) -> tuple[int, dict, str]:
    code = main(["diagnose", "--kubeconfig", str(kubeconfig), "-o", "json", "--fail-on", "none", "--no-progress"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_diagnose_role_is_exactly_what_diagnose_snapshot_and_the_app_read(as_alice, capsys, tmp_path):
    roles = role_objects("diagnose")
    sim, kc = as_alice(roles, sources=["incident"])
    code, doc, err = diagnose_json(kc, capsys)
    assert code == 0, err
    assert doc["incomplete"] == [] and doc["findings"]

    assert main(["snapshot", "--kubeconfig", str(kc), "-o", str(tmp_path / "snap.yaml"), "--no-progress"]) == 0
    capsys.readouterr()

    # The app: its gathering pass, then the object screen (YAML read fresh, its events) for an
    # object of every kind a finding can name, and a pod's log. Kinds the scenario lacks answer
    # 404, after the authorisation that this test is about.
    kube = connect(str(kc), None)
    snap = gather(kube, namespace="")  # as the app calls it
    assert snap.incomplete == []
    for kind, attr in KIND_TO_ATTR.items():
        items = getattr(snap, attr, None) or []
        md = items[0].metadata if items else None
        ref = ObjectRef(kind, md.name if md else "absent", md.namespace if md else "default")
        if kind == "Event":
            continue  # events are only ever listed
        try:
            assert object_reads.fetch_object(kube, ref, snap.karpenter_api_version)["metadata"]["name"] == ref.name
        except KubeApiError as e:
            assert e.status == 404 and md is None, e
        object_reads.fetch_events(kube, ref)
    pod = snap.pods[0]
    object_reads.fetch_log(kube, pod.metadata.namespace, pod.metadata.name, pod.spec.containers[0].name)
    # Then the app watches what it listed, one watch per resource, to stay current.
    live = Live(kube, snap, lambda snapshot, change: None)
    live.start()
    try:
        deadline = time.monotonic() + 15
        while live.status().watching < len(snap.listed) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert live.status().watching == len(snap.listed) and live.status().polled == ()
    finally:
        live.stop()
    kube.close()

    assert denied(sim) == []
    # Exactly: nothing in the role goes unused (and nothing used is missing, see denied above).
    assert asked(sim) == granted(roles)


def test_diagnose_without_events_is_a_partial_read(as_alice, capsys):
    sim, kc = as_alice(without(role_objects("diagnose"), "events"), sources=["incident"])
    code, doc, _ = diagnose_json(kc, capsys)
    assert code == 3
    assert doc["incomplete"] == [
        {
            "resource": "events",
            "reason": "Forbidden",
            "message": 'events is forbidden: User "alice" cannot list resource "events" in API group "" '
            "at the cluster scope",
        }
    ]
    assert doc["findings"]  # the rest is still diagnosed
    code = main(["diagnose", "--kubeconfig", str(kc), "--fail-on", "none", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 3
    assert "Could not see (findings that need these may be missing)" in out
    assert 'events  Forbidden: events is forbidden: User "alice" cannot list resource' in out


def test_diagnose_without_nodeclaims_names_the_resource(as_alice, capsys):
    _, kc = as_alice(without(role_objects("diagnose"), "nodeclaims", group="karpenter.sh"), sources=["incident"])
    code, doc, _ = diagnose_json(kc, capsys)
    assert code == 3
    [gap] = doc["incomplete"]
    assert (gap["resource"], gap["reason"]) == ("nodeclaims.karpenter.sh", "Forbidden")
    assert 'cannot list resource "nodeclaims" in API group "karpenter.sh" at the cluster scope' in gap["message"]


def test_snapshot_without_pod_logs_is_partial(as_alice, capsys, tmp_path):
    _, kc = as_alice(without(role_objects("diagnose"), "pods/log"), sources=["incident"])
    code = main(["snapshot", "--kubeconfig", str(kc), "-o", str(tmp_path / "snap.yaml"), "--no-progress"])
    capsys.readouterr()
    assert code == 3
    assert (tmp_path / "snap.yaml").exists()  # what could be read is written
    code, doc, _ = diagnose_json(kc, capsys)
    assert code == 3 and [i["resource"] for i in doc["incomplete"]] == ["pods/log"]


# -- fixes, the NodePool editor, undo -----------------------------------------------------------------


NODE = "ip-10-0-21-60.us-west-2.compute.internal"  # objects of the incident scenario
OPERAND = "gpu-operator-node-feature-discovery-worker-v72r6"
OPERATOR_POD = "gpu-operator-84dd4968fb-ls4dc"


def _struct(kube, ref: ObjectRef, cls):
    return to_struct(kube.get_json(object_path(ref)), cls)


def test_fix_role_applies_and_undoes_every_kind_of_fix(as_alice, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    roles = role_objects("diagnose", "fix")
    sim, kc = as_alice(roles, sources=["incident"])
    kube = connect(str(kc), None)
    ap = Applier(kube, AuditLog())
    plans = [
        fixplans.cordon_node(_struct(kube, ObjectRef("Node", NODE), Node)),
        fixplans.clusterpolicy_tolerations(
            _struct(kube, ObjectRef("ClusterPolicy", "cluster-policy"), Object), [DEDICATED]
        ),
        fixplans.add_toleration(
            _struct(kube, ObjectRef("DaemonSet", "nvidia-dcgm-exporter", "gpu-operator"), Object),
            [DEDICATED],
            kind="DaemonSet",
        ),
        fixplans.add_node_selector(
            _struct(kube, ObjectRef("Deployment", "gpu-operator", "gpu-operator"), Object),
            "example.com/pool",
            "system",
            kind="Deployment",
        ),
        fixplans.add_do_not_disrupt(_struct(kube, ObjectRef("Pod", OPERATOR_POD, "gpu-operator"), Pod)),
        fixplans.raise_nodepool_limit(
            _struct(kube, ObjectRef("NodePool", "gpu-inference"), Object), "nvidia.com/gpu", "99"
        ),
        fixplans.restart_operand_pod(_struct(kube, ObjectRef("Pod", OPERAND, "gpu-operator"), Pod)),
        fixplans.delete_nodeclaim(_struct(kube, ObjectRef("NodeClaim", "general-fgkd4"), Object)),
    ]
    entries = {}
    for plan in plans:
        pv = ap.preview(plan)
        dry = ap.dry_run(plan, pv)
        assert dry.ok, dry.message
        res = ap.apply(plan, pv.resource_version, pv)
        assert res.ok, res.message
        entries[plan.id] = res.entry_id
    # Karpenter would remove its finalizer once the instance is gone; the admin does it here.
    sim_http(
        sim,
        "PATCH",
        "/apis/karpenter.sh/v1/nodeclaims/general-fgkd4",
        body={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    # Undo through the CLI, newest first; a restarted pod has nothing to restore.
    for plan in reversed(plans):
        if plan.id == "restart-operand-pod":
            continue
        code = main(["undo", "--kubeconfig", str(kc), "--yes", "--id", entries[plan.id]])
        _, err = capsys.readouterr()
        assert code == 0, f"{plan.id}: {err}"
    # The NodePool editor: an edit (a patch) and a new NodePool (a create), CRD schema read first.
    saver = NodePoolSaver(kube, audit=AuditLog())
    draft = NodePoolDraft(kube.get_json("/apis/karpenter.sh/v1/nodepools/gpu-training"))
    draft.set_text("limit_gpu", "16")
    for d in (draft, NodePoolDraft(templates.get("spot-inference").build("edge-spot")[0])):
        review = saver.review(d)
        assert review.can_save, review.dry_run_message
        assert saver.save(review).ok
    kube.close()
    assert denied(sim) == []
    # What the fix role grants that this run did not use: the same fixes on workload kinds
    # not tried here. Anything else unused would be a permission no fix needs.
    unused = granted(role_objects("fix")) - asked(sim)
    assert unused == {
        (verb, group, res)
        for verb in ("patch", "update", "get")
        for group, res in (("apps", "statefulsets"), ("apps", "replicasets"), ("batch", "jobs"))
    }


def test_fix_without_patch_is_refused_with_the_reason(as_alice, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    roles = without(role_objects("diagnose", "fix"), "nodes", "patch")
    sim, kc = as_alice(roles, sources=["incident"])
    kube = connect(str(kc), None)
    ap = Applier(kube, AuditLog())
    plan = fixplans.cordon_node(_struct(kube, ObjectRef("Node", NODE), Node))
    pv = ap.preview(plan)  # reading is allowed
    dry = ap.dry_run(plan, pv)
    assert not dry.ok and dry.status == 403
    assert dry.message == (
        f'the API server (dry run) does not allow it: nodes "{NODE}" is forbidden: User "alice" cannot '
        'patch resource "nodes" in API group "" at the cluster scope'
    )
    res = ap.apply(plan, pv.resource_version, pv)
    assert not res.ok and res.status == 403
    assert not kube.get_json(object_path(plan.target))["spec"].get("unschedulable")
    # An undo refused by RBAC: one line naming the missing permission, exit 7.
    admin = connect(str(sim.kubeconfig), sim.context)
    done = Applier(admin, AuditLog())
    pv = done.preview(plan)
    assert done.apply(plan, pv.resource_version, pv).ok
    admin.close()
    code = main(["undo", "--kubeconfig", str(kc), "--yes"])
    err = capsys.readouterr().err
    assert code == 7
    assert err.startswith("gputui: error: ")
    assert 'User "alice" cannot patch resource "nodes"' in err and "Traceback" not in err
    kube.close()


def test_nodepool_create_without_create_is_refused(as_alice, tmp_path):
    roles = without(role_objects("diagnose", "fix"), "nodepools", "create", group="karpenter.sh")
    _, kc = as_alice(roles, sources=["incident"])
    kube = connect(str(kc), None)
    saver = NodePoolSaver(kube, audit=AuditLog(tmp_path / "audit.jsonl"))
    review = saver.review(NodePoolDraft(templates.get("spot-inference").build("edge-spot")[0]))
    assert not review.can_save
    assert 'User "alice" cannot create resource "nodepools" in API group "karpenter.sh"' in review.dry_run_message
    kube.close()


# -- debug pods ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _quick_polling(monkeypatch):
    poll_debug_pods_quickly(monkeypatch)


def debug_cluster(*extra: dict) -> list[dict]:
    """GPU nodes; the gputui-debug namespace comes with the debug role."""
    return [
        namespace("default"),
        node("gpu-ok", labels=HOST),
        node("gpu-two", labels=HOST),
        node("cpu-1", "m5.large", 0),
        *extra,
    ]


def leftover(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "gputui-debug",
            "labels": {"app.kubernetes.io/managed-by": "gputui", "gputui.dev/debug": "true"},
            "annotations": {"gputui.dev/deadline": "2026-01-01T00:00:00Z", "gputui.dev/node": "gpu-ok"},
        },
        "spec": {"nodeName": "gpu-ok", "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Failed", "reason": "DeadlineExceeded"},
    }


def debug(kc, *args: str, capsys) -> tuple[int, str, str]:
    code = main(["debug", "--kubeconfig", str(kc), "--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_debug_role_is_exactly_what_debug_and_cleanup_need(as_alice, capsys):
    roles = role_objects("debug")
    sim, kc = as_alice(roles, objects=debug_cluster(leftover("gputui-smi-gpu-ok-old111")), behaviour=True)
    code, out, err = debug(kc, "gpu-ok", "-o", "json", capsys=capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["namespace"] == "gputui-debug" and doc["nodes"][0]["podProblem"] is None
    code, out, err = debug(kc, "--all", "-o", "json", capsys=capsys)
    assert code == 0, err
    assert sorted(n["node"] for n in json.loads(out)["nodes"]) == ["gpu-ok", "gpu-two"]
    code, out, err = debug(kc, "--cleanup", capsys=capsys)
    assert code == 0 and out.startswith("deleted gputui-debug/gputui-smi-gpu-ok-old111"), err
    assert wait_no_pods(sim) == []
    assert denied(sim) == []
    assert asked(sim) == granted(roles)
    # The pods were made, read and deleted in the debug namespace only: that is all the Role allows.
    assert {d.attributes.namespace for d in decisions(sim) if d.attributes.verb in ("create", "delete")} == {
        "gputui-debug"
    }


@pytest.mark.parametrize(
    ("resource", "verb", "needs"),
    [("pods/log", None, 'cannot get resource "pods/log"'), ("pods", "create", 'cannot create resource "pods"')],
)
def test_debug_with_less_says_which_permission_is_missing(as_alice, capsys, resource, verb, needs):
    sim, kc = as_alice(without(role_objects("debug"), resource, verb), objects=debug_cluster(), behaviour=True)
    code, out, err = debug(kc, "gpu-ok", capsys=capsys)
    assert code == 4  # Forbidden: the identity may not do what debug needs
    assert needs in out + err and 'User "alice"' in out + err
    assert "your identity needs" in out + err
    assert wait_no_pods(sim) == []  # a pod that was made is removed even when its log is forbidden


def test_cleanup_without_delete_reports_each_pod(as_alice, capsys):
    sim, kc = as_alice(
        without(role_objects("debug"), "pods", "delete"),
        objects=debug_cluster(leftover("gputui-smi-gpu-ok-old111")),
        behaviour=True,
    )
    code, out, err = debug(kc, "--cleanup", capsys=capsys)
    assert code == 3 and out == ""  # pods left behind: a partial result, named below
    assert err.startswith("gputui: error: could not delete 1 debug pod(s)")
    assert "gputui-debug/gputui-smi-gpu-ok-old111" in err
    assert "kubectl delete pod -n gputui-debug gputui-smi-gpu-ok-old111" in err
    assert 'User "alice" cannot delete resource "pods" in API group "" in the namespace "gputui-debug"' in err
    assert [p["metadata"]["name"] for p in sim.store.list(sim.store.type_for("v1", "Pod"))[0]] == [
        "gputui-smi-gpu-ok-old111"
    ]
