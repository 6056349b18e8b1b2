"""Every fix, end to end against the simulator over HTTP: preview, server dry run, apply
with a resourceVersion precondition, verification, audit and undo."""

from __future__ import annotations

from pathlib import Path

import pytest

import gputui.sim
from checks import fixplans
from checks.kinds import Object, Taint, to_struct
from checks.registry import run_checks
from gputui.errors import RefusedError
from gputui.fixes.apply import Applier, ReadOnlyError
from gputui.fixes.audit import AuditLog
from gputui.fixes.plan import delete_options, with_precondition
from gputui.fixes.targets import object_path
from gputui.fixes.verify import fresh_plan, verify
from gputui.kube.client import connect
from gputui.kube.errors import KubeApiError
from gputui.kube.gather import gather
from tests.helpers.cluster import (
    GPU_NODE_A,
    GPU_TOL,
    cpu_node,
    ec2nodeclass,
    gpu_node,
    gpu_pod,
    nodeclaim,
    nodepool,
    workload,
)
from tests.helpers.sim import sim_http
from tests.helpers.wait import wait_until

CRDS = Path(gputui.sim.__file__).parent / "crds"
CRD_SOURCES = [str(CRDS / "karpenter" / "v1"), str(CRDS / "gpu-operator")]
DEDICATED = Taint(key="example.com/dedicated", value="true", effect="NoSchedule")
DEDICATED_TOL = {"key": "example.com/dedicated", "operator": "Exists", "effect": "NoSchedule"}


@pytest.fixture
def cluster(start_sim, tmp_path):
    """cluster(sources=..., objects=..., behaviour=...) -> (kube, applier)."""

    def make(sources=(), objects=(), behaviour=False):
        sim = start_sim(sources=list(sources), objects=list(objects), behaviour=behaviour)
        kube = connect(str(sim.kubeconfig), sim.context)
        return sim, kube, Applier(kube, AuditLog(tmp_path / "audit.jsonl"))

    return make


def _pick(kube, code, name, plan_id):
    findings = run_checks(gather(kube))
    f = next(f for f in findings if f.code == code and f.subject.name == name)
    return f, next(p for p in f.fixes if p.id == plan_id)


def _get(kube, ref):
    return kube.request("GET", object_path(ref)).json()


def _apply(ap, plan):
    pv = ap.preview(plan)
    dr = ap.dry_run(plan, pv)
    assert dr.ok, dr.message
    res = ap.apply(plan, pv.resource_version, pv)
    assert res.ok, res.message
    return pv, dr, res


def _struct(kube, kind, name, namespace=None):
    from checks.model import ObjectRef

    return to_struct(_get(kube, ObjectRef(kind, name, namespace)), Object)


def _ns(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


# -- scenario fixes whose verification the simulator shows ---------------------------------


def test_do_not_disrupt_on_a_running_pod_clears_gpu501_and_undo_brings_it_back(cluster):
    _, kube, ap = cluster(["incident"])
    finding, plan = _pick(kube, "GPU501", "llm-sweep-lr3e5", "add-do-not-disrupt")
    assert plan.target.kind == "Pod" and not plan.disruptive
    pv, dr, res = _apply(ap, plan)
    assert "+    karpenter.sh/do-not-disrupt: 'true'" in pv.diff and dr.diff == pv.diff
    v = verify(kube, finding, plan, before=pv.before)
    assert v.resolved and v.change_in_place
    assert "GPU501 no longer reports Job/ml-research/llm-sweep-lr3e5" in v.message

    entry = ap.audit.find(res.entry_id)
    assert entry.before["metadata"]["name"] == plan.target.name
    assert "karpenter.sh/do-not-disrupt" not in (entry.before["metadata"].get("annotations") or {})
    assert entry.after["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"] == "true"
    assert entry.plan["id"] == "add-do-not-disrupt" and entry.server == kube.server

    up = ap.preview_undo()
    assert up.entry.id == res.entry_id and up.action == "put" and not up.warnings
    assert "-    karpenter.sh/do-not-disrupt: 'true'" in up.diff
    undo = ap.undo(expected_resource_version=up.resource_version)
    assert undo.ok, undo.message
    assert "karpenter.sh/do-not-disrupt" not in (_get(kube, plan.target)["metadata"].get("annotations") or {})
    assert any(f.code == "GPU501" and f.subject.name == "llm-sweep-lr3e5" for f in run_checks(gather(kube)))
    assert ap.undo_candidates() == []
    assert [e.action for e in ap.audit.entries()] == ["apply", "undo"]


def test_job_pod_gains_the_toleration_in_place_and_schedules(cluster):
    job = workload("Job", "train")
    job["metadata"]["uid"] = "job-uid"
    pod = gpu_pod("train-abcde", tolerations=[], owner=("Job", "train"))
    pod["metadata"]["ownerReferences"][0].update(apiVersion="batch/v1", uid="job-uid")
    del pod["status"]  # unscripted: the simulated scheduler tries to place it
    objs = [_ns("ml"), gpu_node(GPU_NODE_A), cpu_node(), nodepool(), ec2nodeclass(), job, pod]
    _, kube, ap = cluster(CRD_SOURCES, objs, behaviour=True)
    # the scheduler's first attempt writes FailedScheduling
    wait_until(lambda: (_get(kube, _ref("Pod", "train-abcde", "ml")).get("status") or {}).get("conditions"), timeout=5)
    finding, plan = _pick(kube, "GPU401", "train", "add-toleration")
    assert plan.target.kind == "Pod" and not plan.disruptive  # a Job's template is immutable: the pod is patched
    _apply(ap, plan)
    v = verify(kube, finding, plan, attempts=20, interval=0.2)
    assert v.resolved, v.message
    assert _get(kube, plan.target)["spec"]["nodeName"] == GPU_NODE_A


def test_raising_a_nodepool_limit_clears_gpu308(cluster):
    np = nodepool(limits={"nvidia.com/gpu": "1"}, resources={"nvidia.com/gpu": "1"})
    pending = gpu_pod("infer-1", owner=None)
    objs = [
        _ns("ml"),
        np,
        ec2nodeclass(),
        gpu_node(GPU_NODE_A),
        nodeclaim("gpu-aaaaa", node=GPU_NODE_A),
        pending,
        gpu_pod("infer-0", node=GPU_NODE_A),
    ]
    _, kube, ap = cluster(CRD_SOURCES, objs)
    finding, plan = _pick(kube, "GPU308", "gpu", "raise-nodepool-limit")
    pv, _, _ = _apply(ap, plan)
    assert "-    nvidia.com/gpu: '1'\n+    nvidia.com/gpu: '2'" in pv.diff
    v = verify(kube, finding, plan)
    assert v.resolved, v.message
    assert _get(kube, plan.target)["spec"]["limits"] == {"nvidia.com/gpu": "2"}


def test_cpu_and_memory_limits_are_added(cluster):
    _, kube, ap = cluster(CRD_SOURCES, [nodepool(limits={"nvidia.com/gpu": "8"}), ec2nodeclass()])
    np = _struct(kube, "NodePool", "gpu")
    _apply(ap, fixplans.raise_nodepool_limit(np, "cpu", "256"))
    _apply(ap, fixplans.raise_nodepool_limit(_struct(kube, "NodePool", "gpu"), "memory", "1Ti"))
    assert _get(kube, _ref("NodePool", "gpu"))["spec"]["limits"] == {
        "nvidia.com/gpu": "8",
        "cpu": "256",
        "memory": "1Ti",
    }


# -- scenario fixes the simulator cannot finish: verification says what still blocks ---------


def test_deployment_toleration_is_applied_and_verification_names_the_rollout(cluster):
    _, kube, ap = cluster(["incident"])
    finding, plan = _pick(kube, "GPU401", "sdxl-image-gen", "add-toleration")
    assert plan.disruptive  # the rollout replaces running replicas
    pv, dr, res = _apply(ap, plan)
    assert "+      - effect: NoSchedule\n+        key: nvidia.com/gpu\n+        operator: Exists" in dr.diff
    tols = _get(kube, plan.target)["spec"]["template"]["spec"]["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tols
    v = verify(kube, finding, plan, before=pv.before)
    assert not v.resolved and v.change_in_place
    assert v.details == [
        "the Deployment's pod template has the change now, but 3 of its pod(s) were created "
        "before the change and the Deployment controller has not replaced them yet"
    ]


def test_clusterpolicy_tolerations_show_the_gitops_fragment_and_an_honest_verification(cluster):
    _, kube, ap = cluster(["device-plugin-taint"])
    finding, plan = _pick(kube, "GPU205", "cluster-policy", "clusterpolicy-tolerations")
    pv, _, _ = _apply(ap, plan)
    assert "Helm release 'gpu-operator'" in pv.gitops_warning
    assert pv.manifest.startswith("# values.yaml of the gpu-operator Helm release\ndaemonsets:\n  tolerations:\n")
    assert "key: example.com/gpu-dedicated" in pv.manifest and "driver:" not in pv.manifest
    tols = _get(kube, plan.target)["spec"]["daemonsets"]["tolerations"]
    assert {"key": "example.com/gpu-dedicated", "operator": "Exists", "effect": "NoSchedule"} in tols
    v = verify(kube, finding, plan)
    assert not v.resolved and v.change_in_place
    assert "the GPU Operator has not re-rendered the operand DaemonSets yet" in v.message
    assert "nvidia-device-plugin-daemonset" in v.message


def test_widen_nodepool_requirements(cluster):
    _, kube, ap = cluster(["incident"])
    finding, plan = _pick(kube, "GPU302", "gpu-training", "widen-nodepool-requirements")
    _apply(ap, plan)
    reqs = _get(kube, plan.target)["spec"]["template"]["spec"]["requirements"]
    types = next(r for r in reqs if r["key"] == "node.kubernetes.io/instance-type")["values"]
    assert {"p5.48xlarge", "p5e.48xlarge"} <= set(types)
    v = verify(kube, finding, plan)
    assert (
        not v.resolved
        and "NodePool gpu-training now has the new requirements; Karpenter has not launched a node yet" in v.message
    )


def test_restart_operand_pod_is_disruptive_verified_by_its_replacement_and_not_undoable(cluster):
    # The toolkit's crash is cured by a restart once its config is fixed (a driver that cannot build for
    # the kernel is not: no restart is offered for it).
    _, kube, ap = cluster(["nvidia-runtime-missing"])
    finding, plan = _pick(kube, "GPU203", "nvidia-container-toolkit-daemonset-qt2fv", "restart-operand-pod")
    assert plan.disruptive and plan.patch_type == "delete"
    pv, dr, res = _apply(ap, plan)
    assert dr.message.endswith("would be deleted") and pv.diff.startswith("--- Pod/gpu-operator/")
    with pytest.raises(KubeApiError) as e:
        _get(kube, plan.target)
    assert e.value.status == 404
    v = verify(kube, finding, plan, before=pv.before)
    assert not v.resolved
    assert v.details == [
        "DaemonSet nvidia-container-toolkit-daemonset has not started a new pod on "
        "ip-10-0-58-31.us-west-2.compute.internal yet; until it does, that node runs without it"
    ]
    from gputui.errors import RefusedError

    with pytest.raises(RefusedError, match="nothing to restore"):
        ap.undo(res.entry_id)
    assert ap.undo_candidates() == []  # not offered: its DaemonSet replaces it


def test_delete_stuck_nodeclaim_waits_for_its_finalizer(cluster):
    _, kube, ap = cluster(["incident"])
    finding, plan = _pick(kube, "GPU304", "gpu-inference-4frzj", "delete-nodeclaim")
    assert plan.disruptive
    pv, dr, _ = _apply(ap, plan)
    assert "karpenter.sh/termination" in dr.message
    assert _get(kube, plan.target)["metadata"]["deletionTimestamp"]
    v = verify(kube, finding, plan, before=pv.before)
    assert v.change_in_place and "is being deleted (waiting for finalizers karpenter.sh/termination)" in v.message


def test_deleted_nodeclaim_without_finalizers_is_recreated_by_undo(cluster):
    nc = nodeclaim("gpu-zzzzz", node=None)
    _, kube, ap = cluster(CRD_SOURCES, [nodepool(), ec2nodeclass(), nc])
    plan = fixplans.delete_nodeclaim(_struct(kube, "NodeClaim", "gpu-zzzzz"))
    _apply(ap, plan)
    with pytest.raises(KubeApiError):
        _get(kube, plan.target)
    up = ap.preview_undo()
    assert up.action == "create" and "Karpenter launches a new instance" in up.message
    res = ap.undo()
    assert res.ok, res.message
    back = _get(kube, plan.target)
    assert back["spec"]["resources"] == {"requests": {"nvidia.com/gpu": "1"}}
    assert back["metadata"]["labels"]["karpenter.sh/nodepool"] == "gpu"


def test_a_deleted_object_whose_credentials_were_not_recorded_is_not_recreated(cluster):
    nc = nodeclaim("gpu-yyyyy", node=None)
    nc["metadata"].setdefault("annotations", {})["example.com/api-token"] = "tok-123"
    _, kube, ap = cluster(CRD_SOURCES, [nodepool(), ec2nodeclass(), nc])
    plan = fixplans.delete_nodeclaim(_struct(kube, "NodeClaim", "gpu-yyyyy"))
    _apply(ap, plan)
    assert "tok-123" not in ap.audit.path.read_text()
    with pytest.raises(RefusedError) as e:
        ap.undo()
    assert e.value.message == (
        "NodeClaim/gpu-yyyyy cannot be re-created from the audit log: values that look like credentials "
        "were not recorded and the object is gone"
    )
    assert e.value.hint == "re-create it from your manifests"


# -- workload kinds -------------------------------------------------------------------------


def _workloads():
    sts = workload("StatefulSet", "db")
    sts["spec"]["selector"] = {"matchLabels": {"app": "db"}}
    ds = workload("DaemonSet", "agent")
    ds["spec"]["selector"] = {"matchLabels": {"app": "agent"}}
    dep = workload("Deployment", "web")
    dep["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    dep["spec"]["template"]["spec"]["nodeSelector"] = {"team": "ml"}
    return [_ns("ml"), sts, ds, dep, workload("Job", "train")]


@pytest.mark.parametrize("kind,name", [("StatefulSet", "db"), ("DaemonSet", "agent"), ("Deployment", "web")])
def test_add_toleration_to_workload_templates(cluster, kind, name):
    _, kube, ap = cluster([], _workloads())
    plan = fixplans.add_toleration(_struct(kube, kind, name, "ml"), [DEDICATED], kind=kind)
    pv, _, _ = _apply(ap, plan)
    assert "+      - effect: NoSchedule\n+        key: example.com/dedicated\n+        operator: Exists" in pv.diff
    assert _get(kube, plan.target)["spec"]["template"]["spec"]["tolerations"] == [DEDICATED_TOL]


def test_add_node_selector_keeps_the_other_keys(cluster):
    _, kube, ap = cluster([], _workloads())
    plan = fixplans.add_node_selector(
        _struct(kube, "Deployment", "web", "ml"), "karpenter.sh/nodepool", "gpu", kind="Deployment"
    )
    _apply(ap, plan)
    assert _get(kube, plan.target)["spec"]["template"]["spec"]["nodeSelector"] == {
        "team": "ml",
        "karpenter.sh/nodepool": "gpu",
    }


def test_do_not_disrupt_on_a_deployment_template_is_disruptive(cluster):
    _, kube, ap = cluster([], _workloads())
    plan = fixplans.add_do_not_disrupt(_struct(kube, "Deployment", "web", "ml"), kind="Deployment")
    assert plan.disruptive
    _apply(ap, plan)
    tpl = _get(kube, plan.target)["spec"]["template"]["metadata"]
    assert tpl["annotations"] == {"karpenter.sh/do-not-disrupt": "true"} and tpl["labels"] == {"app": "web"}


def test_job_template_change_is_stopped_by_the_dry_run(cluster):
    _, kube, ap = cluster([], _workloads())
    plan = fixplans.add_toleration(_struct(kube, "Job", "train", "ml"), [DEDICATED], kind="Job")
    pv = ap.preview(plan)
    assert pv.diff  # locally the change looks fine; the server knows better
    dr = ap.dry_run(plan, pv)
    assert not dr.ok and dr.status == 422 and not dr.conflict
    assert dr.message.startswith("the API server (dry run) rejected the change (422 Invalid): ")
    assert "spec.template: Invalid value" in dr.message and "field is immutable" in dr.message
    res = ap.apply(plan, pv.resource_version, pv)
    assert not res.ok and res.status == 422
    assert _get(kube, plan.target)["metadata"]["resourceVersion"] == pv.resource_version
    assert [(e.ok, e.action) for e in ap.audit.entries()] == [(False, "apply")]
    assert ap.undo_candidates() == []


# -- cordon / uncordon ------------------------------------------------------------------------


def test_cordon_then_undo_uncordons(cluster):
    _, kube, ap = cluster([], [gpu_node(GPU_NODE_A)])
    plan = fixplans.cordon_node(to_struct(_get(kube, _ref("Node", GPU_NODE_A)), Object))
    pv, _, _ = _apply(ap, plan)
    assert "+  unschedulable: true" in pv.diff
    assert _get(kube, plan.target)["spec"]["unschedulable"] is True
    up = ap.preview_undo()
    assert up.action == "patch" and up.message == f"uncordon {GPU_NODE_A} again"
    assert ap.undo().ok
    node = _get(kube, plan.target)
    assert not node["spec"].get("unschedulable")
    assert node["spec"]["taints"] == [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]  # the rest untouched


def test_uncordon(cluster):
    node = gpu_node(GPU_NODE_A)
    node["spec"]["unschedulable"] = True
    _, kube, ap = cluster([], [node])
    plan = fixplans.uncordon_node(to_struct(_get(kube, _ref("Node", GPU_NODE_A)), Object))
    _apply(ap, plan)
    assert _get(kube, plan.target)["spec"]["unschedulable"] is False
    assert ap.undo().ok
    assert _get(kube, plan.target)["spec"]["unschedulable"] is True


# -- conflicts and preconditions ----------------------------------------------------------------


def test_change_between_preview_and_apply_is_a_conflict_then_recomputed(cluster):
    sim, kube, ap = cluster(["incident"])
    finding, plan = _pick(kube, "GPU401", "sdxl-image-gen", "add-toleration")
    pv = ap.preview(plan)
    # Someone else adds a toleration of their own after the preview.
    path = object_path(plan.target)
    status, _, _ = sim_http(
        sim,
        "PATCH",
        path,
        {"spec": {"template": {"spec": {"tolerations": [{"key": "spot", "operator": "Exists"}]}}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert status == 200
    res = ap.apply(plan, pv.resource_version, pv)
    assert not res.ok and res.conflict and "changed since the fix was computed" in res.message
    assert _get(kube, plan.target)["spec"]["template"]["spec"]["tolerations"] == [{"key": "spot", "operator": "Exists"}]
    # The stale plan stays refused, whatever the preview read; the recomputed one applies.
    again = ap.preview(plan)
    assert again.stale and again.resource_version != pv.resource_version
    assert ap.apply(plan, again.resource_version, again).conflict
    fresh = fresh_plan(kube, finding, plan)
    assert fresh is not None and fresh.resource_version == again.resource_version
    fpv = ap.preview(fresh)
    assert fpv.stale is None
    assert "         operator: Exists\n+      - effect: NoSchedule\n+        key: nvidia.com/gpu\n" in fpv.diff
    res = ap.apply(fresh, fpv.resource_version, fpv)
    assert res.ok, res.message
    assert _get(kube, plan.target)["spec"]["template"]["spec"]["tolerations"] == [
        {"key": "spot", "operator": "Exists"},
        GPU_TOL,
    ]


def test_stale_resource_version_is_refused_by_the_server_for_every_patch_type(cluster):
    _, kube, _ = cluster([], [gpu_node(GPU_NODE_A)])
    ref = _ref("Node", GPU_NODE_A)
    stale = str(int(_get(kube, ref)["metadata"]["resourceVersion"]) - 1)
    merge = fixplans.cordon_node(to_struct(_get(kube, ref), Object))
    with pytest.raises(KubeApiError) as e:
        kube.request(
            "PATCH",
            object_path(ref),
            body=with_precondition(merge, merge.patch, stale),
            content_type="application/merge-patch+json",
        )
    assert e.value.status == 409
    merge.patch_type, merge.patch = "json", [{"op": "add", "path": "/spec/unschedulable", "value": True}]
    with pytest.raises(KubeApiError) as e:
        kube.request(
            "PATCH",
            object_path(ref),
            body=with_precondition(merge, merge.patch, stale),
            content_type="application/json-patch+json",
        )
    assert e.value.status == 422 and "/metadata/resourceVersion" in e.value.message
    with pytest.raises(KubeApiError) as e:
        kube.request("DELETE", object_path(ref), body=delete_options(stale))
    assert e.value.status == 409
    assert not _get(kube, ref)["spec"].get("unschedulable")


def test_read_only_applier_never_writes(cluster, tmp_path):
    _, kube, _ = cluster(["incident"])
    _, plan = _pick(kube, "GPU401", "sdxl-image-gen", "add-toleration")
    ap = Applier(kube, AuditLog(tmp_path / "read-only.jsonl"), read_only=True)
    rv = _get(kube, plan.target)["metadata"]["resourceVersion"]
    pv = ap.preview(plan)  # reading is fine
    for call in (lambda: ap.dry_run(plan, pv), lambda: ap.apply(plan, pv.resource_version, pv), lambda: ap.undo()):
        with pytest.raises(ReadOnlyError):
            call()
    assert _get(kube, plan.target)["metadata"]["resourceVersion"] == rv
    assert not (tmp_path / "read-only.jsonl").exists()


def _ref(kind, name, namespace=None):
    from checks.model import ObjectRef

    return ObjectRef(kind, name, namespace)


# -- a custom resource that breaks its CRD's schema ------------------------------------------

_QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


def _strict_nodepool_crd():
    """A NodePool CRD whose schema judges limits and weight, as the real one does."""
    spec = {
        "type": "object",
        "properties": {
            "limits": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [{"type": "integer"}, {"type": "string"}],
                    "pattern": _QUANTITY,
                    "x-kubernetes-int-or-string": True,
                },
            },
            "weight": {"type": "integer", "minimum": 1, "maximum": 100},
            "template": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "disruption": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "nodepools.karpenter.sh"},
        "spec": {
            "group": "karpenter.sh",
            "scope": "Cluster",
            "names": {"kind": "NodePool", "plural": "nodepools", "singular": "nodepool", "listKind": "NodePoolList"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec,
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            },
                        }
                    },
                }
            ],
        },
    }


def test_nodepool_limit_that_breaks_the_crd_schema_is_stopped_by_the_dry_run(cluster):
    _, kube, ap = cluster([], [_strict_nodepool_crd(), nodepool(limits={"nvidia.com/gpu": "4"})])
    plan = fixplans.raise_nodepool_limit(_struct(kube, "NodePool", "gpu"), "nvidia.com/gpu", "lots")
    pv = ap.preview(plan)
    dr = ap.dry_run(plan, pv)
    assert not dr.ok and dr.status == 422
    assert 'spec.limits[nvidia.com/gpu]: Invalid value: "lots"' in dr.message
    assert _get(kube, plan.target)["spec"]["limits"] == {"nvidia.com/gpu": "4"}
    # A valid value passes the same schema.
    _apply(ap, fixplans.raise_nodepool_limit(_struct(kube, "NodePool", "gpu"), "nvidia.com/gpu", "8"))
    assert _get(kube, plan.target)["spec"]["limits"] == {"nvidia.com/gpu": "8"}


def test_argo_managed_workload_shows_the_manifest_change_to_make(cluster):
    objs = _workloads()
    dep = next(o for o in objs if o["kind"] == "Deployment")
    dep["metadata"]["annotations"] = {"argocd.argoproj.io/tracking-id": "ml-serving:apps/Deployment:ml/web"}
    _, kube, ap = cluster([], objs)
    plan = fixplans.add_toleration(_struct(kube, "Deployment", "web", "ml"), [DEDICATED], kind="Deployment")
    assert plan.gitops_warning.startswith("managed by Argo CD application 'ml-serving'")
    pv = ap.preview(plan)
    assert pv.manifest == (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: ml\nspec:\n  template:\n"
        "    spec:\n      tolerations:\n      - key: example.com/dedicated\n        operator: Exists\n"
        "        effect: NoSchedule\n"
    )
