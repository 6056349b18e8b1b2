"""Fix-plan builders: patch bodies, preconditions, kubectl equivalents, GitOps warnings."""

import json
import shlex

import pytest

from checks import fixplans
from checks.kinds import Node, Object, Pod, Taint, to_struct
from tests.helpers.cluster import clusterpolicy, daemonset, gpu_node, gpu_pod, nodeclaim, nodepool, workload


def _obj(d):
    return to_struct(d, Object)


def _kubectl_body(cmd: str):
    """The JSON the kubectl command would send, parsed back the way a shell would split it."""
    argv = shlex.split(cmd)
    return json.loads(argv[argv.index("-p") + 1])


@pytest.mark.parametrize(
    "labels,annotations,expected",
    [
        (
            {},
            {"argocd.argoproj.io/tracking-id": "gpu-stack:apps/Deployment:ml/serve"},
            "Argo CD application 'gpu-stack'",
        ),
        (
            {"app.kubernetes.io/instance": "gpu-stack", "argocd.argoproj.io/instance": "gpu-stack"},
            {},
            "Argo CD application 'gpu-stack'",
        ),
        (
            {"kustomize.toolkit.fluxcd.io/name": "infra", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"},
            {},
            "Flux Kustomization flux-system/infra",
        ),
        (
            {
                "helm.toolkit.fluxcd.io/name": "gpu-operator",
                "helm.toolkit.fluxcd.io/namespace": "flux-system",
                "app.kubernetes.io/managed-by": "Helm",
            },
            {"meta.helm.sh/release-name": "gpu-operator"},
            "Flux HelmRelease flux-system/gpu-operator",
        ),
        (
            {"app.kubernetes.io/managed-by": "Helm"},
            {"meta.helm.sh/release-name": "karpenter", "meta.helm.sh/release-namespace": "kube-system"},
            "Helm release 'karpenter' (namespace kube-system)",
        ),
        # Argo CD rendering a Helm chart: Argo CD is the one that reverts
        (
            {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "ops"},
            {"meta.helm.sh/release-name": "ops", "argocd.argoproj.io/tracking-id": "ops:karpenter.sh/NodePool:/gpu"},
            "Argo CD application 'ops'",
        ),
    ],
)
def test_gitops_manager(labels, annotations, expected):
    np = nodepool()
    np["metadata"]["labels"], np["metadata"]["annotations"] = labels, annotations
    assert fixplans.gitops_manager(_obj(np).metadata) == expected
    plan = fixplans.raise_nodepool_limit(_obj(np), "nvidia.com/gpu", "8")
    assert plan.gitops_warning.startswith(f"managed by {expected}: ")


def test_no_gitops_manager_for_plain_objects_or_helm_label_alone():
    np = nodepool()
    np["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "x"}
    assert fixplans.gitops_manager(_obj(np).metadata) is None
    assert fixplans.raise_nodepool_limit(_obj(nodepool()), "cpu", "64").gitops_warning is None


def test_add_toleration_keeps_existing_and_skips_duplicates():
    ds = _obj(daemonset("gpu-feature-discovery", tolerations=[{"key": "a", "operator": "Exists"}]))
    plan = fixplans.add_toleration(
        ds,
        [Taint(key="gpu", value="true", effect="NoSchedule"), Taint(key="gpu", value="other", effect="NoSchedule")],
        kind="DaemonSet",
    )
    tols = plan.patch["spec"]["template"]["spec"]["tolerations"]
    assert tols == [{"key": "a", "operator": "Exists"}, {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert plan.patch_type == "merge" and plan.resource_version == "77"
    assert plan.target.kind == "DaemonSet" and plan.target.namespace == "gpu-operator"
    assert plan.target.api_version == "apps/v1"
    assert _kubectl_body(plan.kubectl) == plan.patch
    assert plan.kubectl.startswith("kubectl patch daemonset gpu-feature-discovery -n gpu-operator --type merge -p ")
    # operator-owned DaemonSets are rewritten from the ClusterPolicy
    assert "prefer the clusterpolicy-tolerations fix" in plan.gitops_warning


def test_add_toleration_needs_a_kind_for_list_items_without_one():
    d = workload("Deployment", "serve")
    del d["kind"]
    with pytest.raises(ValueError, match="pass kind="):
        fixplans.add_toleration(_obj(d), [Taint(key="k", effect="NoSchedule")])
    plan = fixplans.add_toleration(_obj(d), [Taint(key="k", effect="NoSchedule")], kind="Deployment")
    assert plan.kubectl.startswith("kubectl patch deployment serve -n ml ")


def test_add_node_selector_merges_into_the_map():
    plan = fixplans.add_node_selector(_obj(workload("StatefulSet", "trainer")), "karpenter.sh/nodepool", "gpu")
    assert plan.patch == {"spec": {"template": {"spec": {"nodeSelector": {"karpenter.sh/nodepool": "gpu"}}}}}
    assert plan.id == "add-node-selector"


def test_clusterpolicy_tolerations():
    cp = _obj(clusterpolicy(tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]))
    plan = fixplans.clusterpolicy_tolerations(cp, [Taint(key="dedicated", value="ml", effect="NoExecute")])
    assert plan.target.kind == "ClusterPolicy" and plan.target.namespace is None
    assert plan.patch["spec"]["daemonsets"]["tolerations"][-1] == {
        "key": "dedicated",
        "operator": "Exists",
        "effect": "NoExecute",
    }
    assert len(plan.patch["spec"]["daemonsets"]["tolerations"]) == 2
    assert "Helm value daemonsets.tolerations" in plan.gitops_warning
    assert _kubectl_body(plan.kubectl) == plan.patch


def test_widen_requirements_adds_values_or_a_new_requirement():
    np = _obj(nodepool())
    plan = fixplans.widen_nodepool_requirements(np, "node.kubernetes.io/instance-type", ["g6.xlarge", "g5.xlarge"])
    reqs = plan.patch["spec"]["template"]["spec"]["requirements"]
    assert reqs[1]["values"] == ["g5.xlarge", "g5.2xlarge", "g6.xlarge"]
    assert reqs[0]["key"] == "karpenter.k8s.aws/instance-family"  # untouched, still there
    plan2 = fixplans.widen_nodepool_requirements(np, "karpenter.sh/capacity-type", ["spot", "on-demand"])
    assert plan2.patch["spec"]["template"]["spec"]["requirements"][-1] == {
        "key": "karpenter.sh/capacity-type",
        "operator": "In",
        "values": ["spot", "on-demand"],
    }
    assert "not drifted" in plan2.description  # wider requirements keep existing nodes valid


def test_raise_limit():
    plan = fixplans.raise_nodepool_limit(_obj(nodepool(limits={"nvidia.com/gpu": "8"})), "nvidia.com/gpu", "12")
    assert plan.patch == {"spec": {"limits": {"nvidia.com/gpu": "12"}}}
    assert "8 → 12" in plan.title and plan.resource_version == "9"


def test_do_not_disrupt_on_pod_job_and_deployment():
    pod = to_struct(gpu_pod("p", node="n"), Pod)
    p = fixplans.add_do_not_disrupt(pod)
    assert p.patch == {"metadata": {"annotations": {"karpenter.sh/do-not-disrupt": "true"}}} and not p.disruptive
    assert "does not stop expiration" in p.description
    job = fixplans.add_do_not_disrupt(_obj(workload("Job", "j")))
    assert not job.disruptive and job.target.api_version == "batch/v1"
    dep = fixplans.add_do_not_disrupt(_obj(workload("Deployment", "d")), value="4h")
    assert dep.disruptive and "restarts the pods" in dep.description
    assert dep.patch["spec"]["template"]["metadata"]["annotations"] == {"karpenter.sh/do-not-disrupt": "4h"}


def test_restart_operand_pod_disruptive_only_for_driver_and_toolkit():
    from tests.helpers.cluster import operand_pod

    driver = fixplans.restart_operand_pod(to_struct(operand_pod("nvidia-driver-daemonset", "n"), Pod))
    gfd = fixplans.restart_operand_pod(to_struct(operand_pod("gpu-feature-discovery", "n"), Pod))
    assert driver.disruptive and not gfd.disruptive
    assert driver.patch_type == "delete" and driver.patch is None
    assert gfd.kubectl == "kubectl delete pod gpu-feature-discovery-abcde -n gpu-operator"


def test_delete_nodeclaim_cordon_uncordon():
    nc = fixplans.delete_nodeclaim(_obj(nodeclaim("gpu-abcde", node="ip-1")))
    assert nc.disruptive and nc.patch_type == "delete" and nc.target.kind == "NodeClaim"
    assert nc.kubectl == "kubectl delete nodeclaims.karpenter.sh gpu-abcde" and "(node ip-1)" in nc.title
    node = to_struct(gpu_node("ip-1"), Node)
    c, u = fixplans.cordon_node(node), fixplans.uncordon_node(node)
    assert (c.patch, u.patch) == ({"spec": {"unschedulable": True}}, {"spec": {"unschedulable": False}})
    assert (c.kubectl, u.kubectl) == ("kubectl cordon ip-1", "kubectl uncordon ip-1")
    assert c.resource_version == "101" and not c.disruptive


def test_plans_serialise():
    plan = fixplans.clusterpolicy_tolerations(_obj(clusterpolicy()), [Taint(key="x", effect="NoSchedule")])
    d = plan.to_json()
    assert d["id"] == "clusterpolicy-tolerations" and d["patchType"] == "merge"
    assert d["target"] == {"kind": "ClusterPolicy", "namespace": None, "name": "cluster-policy"}
    assert json.loads(json.dumps(d)) == d
