"""GPU5xx: disruption risk for long-running GPU work, and disruptions that already happened."""

import pytest

from checks.disruption import go_duration_seconds, voluntary_risks
from checks.kinds import Object, to_struct
from checks.model import Severity
from checks.registry import REGISTRY
from tests.helpers.cluster import (
    GPU_NODE_A,
    GPU_NODE_B,
    blocked_idle_node,
    event,
    gpu_node,
    gpu_pod,
    healthy_cluster,
    nodepool,
    replace,
    run,
    snapshot,
    workload,
)

CONSOLIDATING = {
    "consolidationPolicy": "WhenEmptyOrUnderutilized",
    "consolidateAfter": "1m",
    "budgets": [{"nodes": "10%"}],
}


def _cluster(disruption=CONSOLIDATING, pods=(), capacity_type="on-demand", expire_after="720h"):
    objs = replace(healthy_cluster(), "NodePool", "gpu", nodepool(disruption=disruption, expire_after=expire_after))
    if capacity_type != "on-demand":
        objs = replace(objs, "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, capacity_type=capacity_type))
    return objs + list(pods)


def _train_pods(annotations=None):
    return [
        workload("Job", "llama-ft"),
        gpu_pod("llama-ft-abcde", node=GPU_NODE_A, owner=("Job", "llama-ft"), annotations=annotations),
        gpu_pod("llama-ft-fghij", node=GPU_NODE_B, owner=("Job", "llama-ft"), annotations=annotations),
    ]


@pytest.mark.parametrize(
    "text,seconds",
    [("30m", 1800), ("1h30m", 5400), ("90s", 90), ("2h", 7200), ("true", None), ("", None), ("5x", None)],
)
def test_go_duration(text, seconds):
    assert go_duration_seconds(text) == seconds


def test_healthy_cluster_has_no_disruption_findings():
    snap = snapshot(healthy_cluster())
    assert run(snap, "GPU501") == [] and run(snap, "GPU502") == []


def test_gpu501_job_on_consolidating_nodepool():
    [f] = run(snapshot(_cluster(pods=_train_pods())), "GPU501")
    assert f.severity is Severity.WARNING
    assert f.subject.kind == "Job" and f.subject.namespace == "ml" and f.subject.name == "llama-ft"
    assert f.message.startswith("Job ml/llama-ft: 2 GPU pod(s) on NodePool gpu can be evicted by consolidation")
    assert "does not stop expiration, spot interruption or node repair" in f.message
    assert (
        "NodePool gpu: consolidationPolicy WhenEmptyOrUnderutilized, consolidateAfter 1m, budgets nodes=10%"
        in f.evidence
    )
    assert "2 running GPU pod(s) without karpenter.sh/do-not-disrupt: llama-ft-abcde, llama-ft-fghij" in f.evidence
    assert any(e.startswith(f"node {GPU_NODE_A} expires in ") and "expireAfter 720h" in e for e in f.evidence)
    # Job templates are immutable: only the running pods are annotated, without restarting anything.
    assert [x.id for x in f.fixes] == ["add-do-not-disrupt", "add-do-not-disrupt"]
    assert f.fixes[0].target.kind == "Pod" and not f.fixes[0].disruptive
    assert f.fixes[0].patch == {"metadata": {"annotations": {"karpenter.sh/do-not-disrupt": "true"}}}
    assert (
        f.fixes[0].kubectl == "kubectl annotate pod llama-ft-abcde -n ml karpenter.sh/do-not-disrupt=true --overwrite"
    )


def test_gpu501_statefulset_template_fix_is_marked_disruptive():
    pods = [workload("StatefulSet", "trainer"), gpu_pod("trainer-0", node=GPU_NODE_A, owner=("StatefulSet", "trainer"))]
    [f] = run(snapshot(_cluster(pods=pods)), "GPU501")
    tpl = f.fixes[-1]
    assert tpl.target.kind == "StatefulSet" and tpl.disruptive
    assert tpl.patch == {"spec": {"template": {"metadata": {"annotations": {"karpenter.sh/do-not-disrupt": "true"}}}}}


@pytest.mark.parametrize(
    "annotations", [{"karpenter.sh/do-not-disrupt": "true"}, {"karpenter.sh/do-not-disrupt": "2h"}]
)
def test_gpu501_protected_pods_are_fine(annotations):
    assert run(snapshot(_cluster(pods=_train_pods(annotations))), "GPU501") == []


def test_gpu501_elapsed_duration_annotation_no_longer_protects():
    # pods started 30 minutes ago with a 10-minute grace period
    assert len(run(snapshot(_cluster(pods=_train_pods({"karpenter.sh/do-not-disrupt": "10m"}))), "GPU501")) == 1


@pytest.mark.parametrize(
    "disruption",
    [
        {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "1m"},
        {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "Never"},
        {"consolidationPolicy": "WhenEmptyOrUnderutilized", "budgets": [{"nodes": "0"}]},
        {"consolidationPolicy": "WhenEmptyOrUnderutilized", "budgets": [{"nodes": "0", "reasons": ["Underutilized"]}]},
    ],
)
def test_gpu501_silent_when_nodepool_does_not_consolidate(disruption):
    assert run(snapshot(_cluster(disruption=disruption, pods=_train_pods())), "GPU501") == []


def test_gpu501_scheduled_zero_budget_does_not_count_as_blocking():
    risks = voluntary_risks(
        to_struct(
            nodepool(
                disruption={
                    "consolidationPolicy": "WhenEmptyOrUnderutilized",
                    "budgets": [{"nodes": "0", "schedule": "0 9 * * 1-5", "duration": "8h"}],
                }
            ),
            Object,
        )
    )
    assert "consolidation" in risks and "drift" in risks


def test_gpu501_spot_even_without_consolidation():
    pods = [workload("Job", "sweep"), gpu_pod("sweep-1", node=GPU_NODE_A, owner=("Job", "sweep"))]
    [f] = run(
        snapshot(_cluster(disruption={"consolidationPolicy": "WhenEmpty"}, pods=pods, capacity_type="spot")), "GPU501"
    )
    assert "can be evicted by spot interruption" in f.message
    assert any("do-not-disrupt does not stop it" in e for e in f.evidence)


def test_gpu501_ignores_inference_deployments_but_catches_training_label():
    inference = gpu_pod("serve-5f-abc", node=GPU_NODE_A, owner=("ReplicaSet", "serve-5f"))
    labelled = gpu_pod("bert-pretrain", node=GPU_NODE_B, labels={"workload-type": "training"})
    [f] = run(snapshot(_cluster(pods=[inference, labelled])), "GPU501")
    assert f.subject.kind == "Pod" and f.subject.name == "bert-pretrain"
    assert "long-running because: label workload-type=training" in f.evidence


def test_gpu502_node_disruption_and_pod_evictions_of_a_deleted_job_pod():
    objs = healthy_cluster() + [workload("Job", "llama-ft")]
    objs.append(
        event(
            "DisruptionTerminating",
            "Disrupting Node: Underutilized",
            kind="Node",
            name=GPU_NODE_A,
            type_="Normal",
            minutes_ago=12,
        )
    )
    objs.append(
        event(
            "Evicted",
            "Evicted pod: Underutilized",
            kind="Pod",
            name="llama-ft-zzzzz",
            namespace="ml",
            type_="Normal",
            minutes_ago=11,
        )
    )
    objs.append(
        event(
            "Evicted",
            "Evicted pod: Underutilized",
            kind="Pod",
            name="web-abc",
            namespace="ml",
            type_="Normal",
            minutes_ago=11,
        )
    )  # no GPU, unknown owner: ignored
    objs.append(
        event(
            "DisruptionTerminating",
            "Disrupting Node: Empty",
            kind="Node",
            name="ip-10-0-1-10.ec2.internal",
            type_="Normal",
        )
    )  # CPU node: ignored
    findings = run(snapshot(objs), "GPU502")
    assert [(f.subject.kind, f.subject.name) for f in findings] == [("Node", GPU_NODE_A), ("Job", "llama-ft")]
    node_f, job_f = findings
    assert node_f.message.startswith(f"Karpenter disrupted GPU node {GPU_NODE_A} (Underutilized) 12m ago")
    assert "event DisruptionTerminating (12m ago): Disrupting Node: Underutilized" in node_f.evidence
    assert job_f.message.startswith("Job ml/llama-ft: 1 GPU pod(s) were Evicted in the last 11m")
    assert "event Evicted on pod llama-ft-zzzzz (11m ago): Evicted pod: Underutilized" in job_f.evidence


def test_gpu502_disrupted_event_says_it_bypasses_do_not_disrupt_and_old_events_are_ignored():
    msg = (
        "Deleting the pod to accommodate the terminationTime 2026-11-30T01:50:00Z of the node. The pod was granted "
        "30 seconds of grace-period of its 600 terminationGracePeriodSeconds. This bypasses the PDB of the pod and "
        "the do-not-disrupt annotation."
    )
    objs = healthy_cluster() + [gpu_pod("solo", node=GPU_NODE_A)]
    objs.append(event("Disrupted", msg, kind="Pod", name="solo", namespace="ml", minutes_ago=9))
    objs.append(
        event("DisruptionTerminating", "Disrupting Node: Drifted", kind="Node", name=GPU_NODE_B, minutes_ago=500)
    )
    [f] = run(snapshot(objs), "GPU502")
    assert f.subject.kind == "Pod" and f.subject.name == "solo"
    assert "Disrupted bypasses PDBs and do-not-disrupt" in f.message
    assert f.fixes[0].id == "add-do-not-disrupt" and f.fixes[0].target.name == "solo"


def test_gpu502_nodeclaim_of_gpu_nodepool_already_gone():
    objs = healthy_cluster() + [
        event(
            "DisruptionTerminating", "Disrupting NodeClaim: Drifted", kind="NodeClaim", name="gpu-zzzzz", type_="Normal"
        )
    ]
    [f] = run(snapshot(objs), "GPU502")
    assert f.subject.kind == "NodeClaim" and "(Drifted)" in f.message


def test_docstrings_have_the_three_sections():
    for code in ("GPU501", "GPU502"):
        assert {"what it checks", "why it matters", "how to fix"} <= set(REGISTRY.find(code).doc_sections()), code


# -- GPU503: idle GPU nodes Karpenter cannot reclaim -----------------------------------


@pytest.mark.parametrize(
    ("message", "reason", "subject", "says"),
    [
        (
            'Cannot disrupt Node: Pod "ml/notebook-7f9c" has "karpenter.sh/do-not-disrupt" annotation',
            "DisruptionBlocked",
            ("Pod", "notebook-7f9c"),
            "do-not-disrupt",
        ),
        (
            'Cannot disrupt Node: PDB "kube-system/coredns-pdb" prevents pod evictions',
            "DisruptionBlocked",
            ("PodDisruptionBudget", "coredns-pdb"),
            "maxUnavailable",
        ),
        (
            "Pdb prevents pod evictions (PodDisruptionBudget=ml/keeper)",
            "DisruptionBlocked",
            ("PodDisruptionBudget", "keeper"),
            "maxUnavailable",
        ),
        (
            'NodePool "gpu" has consolidation policy WhenEmpty, but node is not empty',
            "Unconsolidatable",
            None,
            "WhenEmptyOrUnderutilized",
        ),
        ("Can't replace with a cheaper node", "Unconsolidatable", None, "no cheaper"),
    ],
)
def test_gpu503_names_what_keeps_an_idle_gpu_node(message, reason, subject, says):
    [f] = run(snapshot(blocked_idle_node(message, reason=reason)), "GPU503")
    assert f.subject.kind == "Node" and f.subject.name == GPU_NODE_A
    assert f.severity == Severity.WARNING
    assert says in f.message, f.message
    assert f"Idle GPU node {GPU_NODE_A} is not reclaimed for 45m" in f.message
    if subject:
        assert subject in [(r.kind, r.name) for r in f.related]


def test_gpu503_is_info_while_young_and_silent_for_busy_or_uninitialized_nodes():
    msg = 'Cannot disrupt Node: PDB "ml/x" prevents pod evictions'
    [f] = run(snapshot(blocked_idle_node(msg, minutes=10)), "GPU503")
    assert f.severity == Severity.INFO
    busy = blocked_idle_node(msg) + [gpu_pod("train-0", node=GPU_NODE_A, phase="Running")]
    assert run(snapshot(busy), "GPU503") == []
    assert run(snapshot(blocked_idle_node("Node isn't initialized")), "GPU503") == []
    assert run(snapshot(healthy_cluster()), "GPU503") == []


def test_gpu503_reads_nodeclaim_events_of_the_node():
    objs = healthy_cluster() + [
        event(
            "DisruptionBlocked",
            "Cannot disrupt NodeClaim: disruption budget allows no disruption (No allowed disruptions)",
            kind="NodeClaim",
            name="gpu-aaaaa",
            minutes_ago=1,
            type_="Normal",
        )
    ]
    [f] = run(snapshot(objs), "GPU503")
    assert f.subject.name == GPU_NODE_A and "budget" in f.message


def test_gpu503_says_what_the_idle_node_has_cost_so_far():
    msg = 'Cannot disrupt Node: PDB "ml/keeper" prevents pod evictions'
    [f] = run(snapshot(blocked_idle_node(msg)), "GPU503")
    # g5.xlarge on demand ($1.006/h), idle since it was created 60 minutes ago.
    assert "for 45m ($1.01 so far)" in f.message, f.message
    assert "costs $1.01/h (g5.xlarge, on-demand); about $1.01 since it went idle 60m ago" in f.evidence
    spot = blocked_idle_node(msg)
    for o in spot:
        if o["kind"] == "Node" and o["metadata"]["name"] == GPU_NODE_A:
            o["metadata"]["labels"]["karpenter.sh/capacity-type"] = "spot"
    [f] = run(snapshot(spot), "GPU503")
    assert "for 45m (~$0.30 so far)" in f.message, f.message  # g5.xlarge spot estimate, $0.302/h
    assert "costs ~$0.30/h (g5.xlarge, spot estimate); about $0.30 since it went idle 60m ago" in f.evidence
    for o in spot:
        if o["kind"] == "Node" and o["metadata"]["name"] == GPU_NODE_A:
            o["metadata"]["labels"]["karpenter.sh/capacity-type"] = "spot"
            o["metadata"]["labels"]["node.kubernetes.io/instance-type"] = "m7i.unknown"
    [f] = run(snapshot(spot), "GPU503")
    assert "so far" not in f.message and not any(e.startswith("costs") for e in f.evidence)


def test_gpu503_on_scenarios_with_and_without_idle_gpu_nodes():
    from checks.registry import run_checks
    from tests.helpers.sim import scenario_snapshot

    idle = [f for f in run_checks(scenario_snapshot("idle-gpu-node-blocked")) if f.code == "GPU503"]
    assert idle and all("so far)" in f.message for f in idle)
    healthy = [f for f in run_checks(scenario_snapshot("healthy")) if f.code == "GPU503"]
    assert all(f.severity <= Severity.INFO for f in healthy)
