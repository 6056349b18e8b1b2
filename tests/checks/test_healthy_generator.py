"""Healthy clusters stay quiet: hundreds of generated clusters (tests/helpers/healthy_clusters.py)
give no finding above info, and each in-between state pushed past its window fires its check.

A seeded loop, not examples: every seed is a different cluster (GPU families, MIG, time-slicing,
Neuron and AMD pools, AMIs, operator and Karpenter versions, spot and on-demand, scale-to-zero,
in-between states). A failure prints the seed, the variation and the findings; rebuild it with
`healthy_clusters.generate(seed)`. `bench/false_alarms.py` runs thousands.
"""

from __future__ import annotations

import pytest

from checks.model import Severity
from checks.registry import run_checks
from tests.helpers import healthy_clusters as hc

CLUSTERS = 300
CHUNK = 50

# States the node and scheduling checks still flag inside their window, with the code that fires
# (see the list in tests/helpers/healthy_clusters.py): left out of the quiet property for now.


def _loud(cluster: hc.Cluster) -> list:
    return [f for f in run_checks(hc.snapshot(cluster)) if f.severity > Severity.INFO]


def _report(cluster: hc.Cluster, findings: list) -> str:
    lines = [cluster.variation.describe()]
    lines += [f"  {f.code} {f.severity.label}: {f.message}" for f in findings]
    return "\n".join(lines)


@pytest.mark.parametrize("start", range(0, CLUSTERS, CHUNK))
def test_generated_healthy_clusters_give_nothing_above_info(start):
    tried = failures = 0
    reports = []
    for seed in range(start, start + CHUNK):
        cluster = hc.generate(seed)
        tried += 1
        loud = _loud(cluster)
        if loud:
            failures += 1
            reports.append(_report(cluster, loud))
    assert tried >= CHUNK // 3, f"only {tried} clusters of seeds {start}..{start + CHUNK - 1} were judged"
    assert not failures, f"{failures} of {tried} healthy clusters gave findings above info:\n" + "\n".join(reports)


def test_the_generator_covers_the_variation_space():
    seen: dict[str, set] = {"family": set(), "kind": set(), "mig": set(), "ami": set(), "api": set(), "op": set()}
    seen |= {"capacity": set(), "time_slicing": set(), "zero": set(), "state": set(), "selector": set(), "taint": set()}
    for seed in range(CLUSTERS):
        v = hc.variation(seed)
        seen["ami"].add(v.ami)
        seen["api"].add(v.karpenter_api)
        seen["op"].add(v.operator_version)
        seen["state"].update(v.states)
        seen.setdefault("image", set()).update(v.image_operands)
        for p in v.pools:
            seen["family"].add(p.family)
            seen["kind"].add(p.kind)
            seen["mig"].add(p.mig)
            seen["capacity"].add(p.capacity_type)
            seen["time_slicing"].add(bool(p.time_slicing))
            seen["zero"].add(p.nodes == 0)
            seen["selector"].add(p.selector)
            seen["taint"].add(p.taint_value)
    assert seen["family"] >= set(hc.GPU_FAMILIES) | {"neuron", "amd"}
    assert seen["kind"] == {"nvidia", "neuron", "amd"}
    assert seen["mig"] == {"", "single", "mixed"}
    assert seen["ami"] == set(hc.AMIS)
    assert seen["api"] == set(hc.KARPENTER_APIS)
    assert seen["op"] == set(hc.OPERATOR_VERSIONS)
    assert seen["capacity"] == {"spot", "on-demand"}
    assert seen["time_slicing"] == {True, False}
    assert seen["zero"] == {True, False}
    assert seen["state"] == set(hc.STATES)
    assert seen["selector"] == {"instance-type", "family", "gpu-name", "category"}
    assert seen["taint"] == {"true", ""}
    assert seen["image"] == set(hc.OPERAND_DAEMONSETS)


def test_generated_clusters_are_reproducible():
    assert hc.generate(7).objects == hc.generate(7).objects
    assert hc.generate(7).objects != hc.generate(8).objects


# Each state pushed past its window, and the check that must then fire above info.
PAST_WINDOW = {
    "node-no-gpus-yet": "GPU101",  # 30 min without GPUs advertised
    "nodeclaim-not-registered": "GPU303",  # launched 20 min ago, no node
    "pod-nominated": "GPU401",  # Pending 20 min for a NodeClaim that never registered
    "operand-rolling-update": "GPU203",  # the replaced operand pod ContainerCreating for 15 min
}


def test_every_state_with_a_window_has_a_past_the_window_check():
    assert set(PAST_WINDOW) == set(hc.PASTABLE)


@pytest.mark.parametrize("state", sorted(PAST_WINDOW))
def test_a_state_past_its_window_fires_its_check(state):
    code = PAST_WINDOW[state]
    for seed in range(12):
        cluster = hc.generate(seed, past={state})
        loud = _loud(cluster)
        assert any(f.code == code for f in loud), f"{state} past its window: no {code}\n" + _report(cluster, loud)


def test_an_operand_pod_replaced_90s_ago_and_still_starting_is_not_a_gpu202():
    """The last node of an operand rolling update: the DaemonSet counts every pod as updated, the
    new pod is ContainerCreating for 90 s. Starting within the window is not unavailable."""
    seed = next(
        s
        for s in range(2000)
        if set(hc.variation(s).states) == {"operand-rolling-update"}
        and sum(p.nodes for p in hc.variation(s).pools if p.kind == "nvidia") == 1
    )
    cluster = hc.generate(seed)
    ds = next(
        o for o in cluster.objects if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "nvidia-dcgm-exporter"
    )
    assert ds["status"]["updatedNumberScheduled"] == ds["status"]["desiredNumberScheduled"] == 1
    assert ds["status"]["numberAvailable"] == 0
    assert _loud(cluster) == [], _report(cluster, _loud(cluster))
    # Past the window the same pod is a problem for both checks.
    past = _loud(hc.generate(seed, past={"operand-rolling-update"}))
    assert {"GPU202", "GPU203"} <= {f.code for f in past}


@pytest.mark.parametrize("api", hc.KARPENTER_APIS)
def test_training_pods_lose_their_protection_and_gpu501_fires(api):
    """Negative control for the disruption checks: a training pool that consolidates, its Job's
    pods stripped of karpenter.sh/do-not-disrupt. v1beta1 spells the policy WhenUnderutilized."""
    seed = next(
        s
        for s in range(2000)
        if hc.variation(s).karpenter_api == api
        and not hc.variation(s).states
        and any(p.training and p.protection == "pod" and p.nodes for p in hc.variation(s).pools)
    )
    cluster = hc.generate(seed)
    assert _loud(cluster) == [], _report(cluster, _loud(cluster))
    for o in cluster.objects:
        if o["kind"] == "Pod":
            o["metadata"].get("annotations", {}).pop("karpenter.sh/do-not-disrupt", None)
    loud = _loud(cluster)
    assert any(f.code == "GPU501" and "consolidation" in f.message for f in loud), _report(cluster, loud)


def test_a_drifted_gpu_node_karpenter_replaces_is_info_unless_a_job_runs_there():
    """Karpenter's DisruptionTerminating events for a drift replacement of a node running no job
    are routine (GPU502 info); a training Job pod still on the node keeps the warning."""
    seed = next(s for s in range(2000) if hc.variation(s).states == ["node-deleting"])
    cluster = hc.generate(seed)
    events = [o for o in cluster.objects if o["kind"] == "Event" and o["reason"] == "DisruptionTerminating"]
    assert {e["involvedObject"]["kind"] for e in events} == {"Node", "NodeClaim"}
    gpu502 = [f for f in run_checks(hc.snapshot(cluster)) if f.code == "GPU502"]
    assert gpu502 and all(f.severity == Severity.INFO for f in gpu502)
    assert _loud(cluster) == [], _report(cluster, _loud(cluster))
    node = next(o for o in cluster.objects if o["kind"] == "Node" and o["metadata"].get("deletionTimestamp"))
    job_pod = next(
        o
        for o in cluster.objects
        if o["kind"] == "Pod" and o["metadata"]["namespace"] == "ml-serving" and "-worker-" in o["metadata"]["name"]
    )
    job_pod = hc._clone(job_pod)
    job_pod["metadata"]["name"] += "-job"
    job_pod["metadata"]["ownerReferences"] = [
        {"apiVersion": "batch/v1", "kind": "Job", "name": "finetune", "uid": "u", "controller": True}
    ]
    job_pod["spec"]["nodeName"] = node["metadata"]["name"]
    cluster.objects.append(job_pod)
    loud = [f for f in _loud(cluster) if f.code == "GPU502"]
    assert {f.subject.kind for f in loud} == {"Node", "NodeClaim"}, _report(cluster, loud)
