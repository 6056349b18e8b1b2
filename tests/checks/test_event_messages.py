"""Every FailedScheduling / Nominated / NodeClaim event wording the parsers must know.

The strings are facts about kube-scheduler and Karpenter output (their exact wording
across releases, and real messages users reported)."""

from __future__ import annotations

import re

import pytest

from checks.event_messages import (
    KarpenterMessage,
    SchedulerMessage,
    classify_scheduler_reason,
    parse_failed_scheduling,
    parse_karpenter_message,
    parse_nodeclaim_event,
    parse_nominated,
    parse_scheduler_message,
    parse_taint,
)

# -- kube-scheduler ----------------------------------------------------------------------

REAL_INSUFFICIENT = (
    "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: "
    "1 No preemption victims found for incoming pod.."
)
REAL_TAINT_126 = (
    "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. "
    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.."
)
REAL_TAINT_135 = (
    "0/2 nodes are available: 2 node(s) had untolerated taint(s). no new claims to deallocate, "
    "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
)
REAL_MIG = "0/1 nodes are available: 1 Insufficient nvidia.com/GA100_A100_SXM4_40GB."
REAL_OLD_TAINT = "0/1 nodes are available: 1 node(s) had taints that the pod didn't tolerate."


def test_insufficient_with_double_period_preemption():
    m = parse_scheduler_message(REAL_INSUFFICIENT)
    assert (m.kind, m.total_nodes) == ("fit-error", 1)
    assert [(r.count, r.kind, r.detail) for r in m.reasons] == [(1, "resources", "nvidia.com/gpu")]
    assert m.preemption_text == "0/1 nodes are available: 1 No preemption victims found for incoming pod.."
    assert [(r.count, r.kind) for r in m.preemption.reasons] == [(1, "preemption")]
    assert m.post_filter == []
    assert m.raw == REAL_INSUFFICIENT


def test_taint_with_key_only_value_v126():
    m = parse_scheduler_message(REAL_TAINT_126)
    (r,) = m.reasons
    assert (r.kind, r.taint_key, r.taint_value, r.detail) == (
        "taint",
        "node-role.kubernetes.io/control-plane",
        "",
        "node-role.kubernetes.io/control-plane",
    )
    assert m.preemption.reasons[0].text == "Preemption is not helpful for scheduling"


def test_taint_hidden_v135_with_dra_post_filter_and_single_period():
    m = parse_scheduler_message(REAL_TAINT_135)
    (r,) = m.reasons
    assert (r.count, r.kind, r.detail, r.taint_key) == (2, "taint", "", None)
    assert m.post_filter == ["no new claims to deallocate"]
    assert m.preemption.total_nodes == 2


def test_extended_resource_name():
    (r,) = parse_scheduler_message(REAL_MIG).reasons
    assert (r.kind, r.detail) == ("resources", "nvidia.com/GA100_A100_SXM4_40GB")


def test_taints_wording_before_1_18():
    (r,) = parse_scheduler_message(REAL_OLD_TAINT).reasons
    assert (r.kind, r.detail) == ("taint", "")


def test_taint_wording_1_18_to_1_24_with_comma_inside_reason():
    m = parse_scheduler_message(
        "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) had taint {nvidia.com/gpu: "
        "present}, that the pod didn't tolerate."
    )
    assert [(r.count, r.kind, r.detail) for r in m.reasons] == [
        (1, "resources", "cpu"),
        (3, "taint", "nvidia.com/gpu=present"),
    ]
    assert m.reasons[1].taint_value == "present"


@pytest.mark.parametrize(
    "reason,kind,detail",
    [
        ("Insufficient cpu", "resources", "cpu"),
        ("Insufficient memory", "resources", "memory"),
        ("Too many pods", "too-many-pods", "pods"),
        ("node(s) had untolerated taint {nvidia.com/gpu: true}", "taint", "nvidia.com/gpu=true"),
        ("node(s) had untolerated taint(s)", "taint", ""),
        ("node(s) had taint {dedicated: gpu}, that the pod didn't tolerate", "taint", "dedicated=gpu"),
        ("node(s) had taints that the pod didn't tolerate", "taint", ""),
        ("node(s) didn't match Pod's node affinity/selector", "node-affinity", ""),
        ("node(s) didn't match scheduler-enforced node affinity", "node-affinity", ""),
        ("node(s) didn't match node selector", "node-affinity", ""),
        ("pod affinity terms conflict", "node-affinity", ""),
        ("node(s) didn't satisfy existing pods anti-affinity rules", "pod-affinity", ""),
        ("node(s) didn't match pod affinity rules", "pod-affinity", ""),
        ("node(s) didn't match pod anti-affinity rules", "pod-affinity", ""),
        ("node(s) didn't match pod topology spread constraints", "topology", ""),
        ("node(s) didn't match pod topology spread constraints (missing required label)", "topology", ""),
        ("node(s) had volume node affinity conflict", "volume", ""),
        ("node(s) had no available volume zone", "volume", ""),
        ("node(s) were unschedulable", "unschedulable", ""),
        ("node(s) didn't have free ports for the requested pod ports", "ports", ""),
        ("Preemption is not helpful for scheduling", "preemption", ""),
        ("No preemption victims found for incoming pod", "preemption", ""),
        ("node(s) had untolerated taint {node.kubernetes.io/not-ready: }", "taint", "node.kubernetes.io/not-ready"),
        ("something new in v1.40", "other", ""),
    ],
)
def test_every_filter_reason(reason, kind, detail):
    r = classify_scheduler_reason(reason, 2)
    assert (r.count, r.kind, r.detail, r.text) == (2, kind, detail, reason)
    m = parse_scheduler_message(f"0/2 nodes are available: 2 {reason}.")
    assert [(x.count, x.kind, x.detail) for x in m.reasons] == [(2, kind, detail)]


def test_histogram_sorted_as_strings_with_many_entries():
    m = parse_scheduler_message(
        "0/12 nodes are available: 1 node(s) were unschedulable, 10 Insufficient "
        "nvidia.com/gpu, 1 node(s) had untolerated taint {nvidia.com/gpu: true}. preemption: "
        "0/12 nodes are available: 1 Preemption is not helpful for scheduling, 11 No preemption "
        "victims found for incoming pod."
    )
    assert [(r.count, r.kind) for r in m.reasons] == [(1, "unschedulable"), (10, "resources"), (1, "taint")]
    assert m.main_reason.kind == "resources"
    assert [(r.count, r.kind) for r in m.preemption.reasons] == [(1, "preemption"), (11, "preemption")]
    assert m.summary().startswith("none of the 12 nodes fit: 10 node(s) lack free nvidia.com/gpu; ")


def test_prefilter_message_replaces_histogram():
    m = parse_scheduler_message(
        '0/3 nodes are available: persistentvolumeclaim "data" not found. preemption: 0/3 '
        "nodes are available: 3 Preemption is not helpful for scheduling."
    )
    (r,) = m.reasons
    assert (r.stage, r.kind, r.count, r.text) == ("prefilter", "volume", 3, 'persistentvolumeclaim "data" not found')
    m = parse_scheduler_message("0/5 nodes are available: pod affinity terms conflict.")
    assert [(r.stage, r.kind) for r in m.reasons] == [("prefilter", "node-affinity")]


def test_pre_1_20_without_preemption():
    m = parse_scheduler_message("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.")
    assert m.preemption is None and m.preemption_text is None
    assert [(r.count, r.detail) for r in m.reasons] == [(3, "nvidia.com/gpu")]


def test_async_preemption_waiting():
    m = parse_scheduler_message(
        "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: waiting for the "
        "preemption for this pod to be finished"
    )
    assert m.preemption is None
    assert m.preemption_text == "waiting for the preemption for this pod to be finished"


def test_no_nodes_available():
    m = parse_scheduler_message("no nodes available to schedule pods")
    assert (m.kind, m.total_nodes, m.recognised) == ("no-nodes", 0, True)
    assert m.summary() == "the cluster has no nodes the scheduler can use"


def test_unknown_text_is_kept():
    m = parse_scheduler_message("binding rejected: something else")
    assert (m.kind, m.recognised, m.raw) == ("unknown", False, "binding rejected: something else")
    assert m.summary() == "binding rejected: something else"


# -- Karpenter -----------------------------------------------------------------------------

REAL_OLD_5703 = (
    'Failed to schedule pod, incompatible with nodepool "rag-nodepool", daemonset overhead={"cpu":"210m",'
    '"memory":"240Mi","pods":"7"}, no instance type satisfied resources {"cpu":"210m","ephemeral-storage":'
    '"20Gi","memory":"240Mi","nvidia.com/gpu":"1","pods":"8"} and requirements karpenter.sh/capacity-type '
    "In [on-demand spot], karpenter.sh/nodepool In [rag-nodepool]"
)
REAL_OLD_5527 = (
    'Could not schedule pod, incompatible with nodepool "gpu", daemonset overhead={"cpu":"185m","memory":'
    '"240Mi","pods":"6"}, no instance type satisfied resources {"cpu":"185m","memory":"240Mi",'
    '"nvidia.com/gpu":"1","pods":"7"} and requirements gpu-type In [nvidia], karpenter.sh/nodepool In [gpu], '
    "node.kubernetes.io/instance-type In [g5.12xlarge g5.16xlarge g5.24xlarge g5.4xlarge g5.8xlarge] (no "
    "instance type which met the scheduling requirements and had enough resources, had a required "
    'offering); incompatible with nodepool "general-purpose", …'
)
REAL_OLD_5169 = (
    '… did not tolerate arch=arm64:NoSchedule; … incompatible requirements, label "karpenter.sh/nodepool" '
    "does not have known values; all available instance types exceed limits for pr…"
)


def test_old_format_nodepool_first_with_overhead():
    m = parse_karpenter_message(REAL_OLD_5703)
    assert (m.kind, m.format, m.recognised) == ("failed-scheduling", "<=v1.4", True)
    (e,) = m.errors
    assert (e.kind, e.nodepool) == ("no-instance-type", "rag-nodepool")
    assert e.daemonset_overhead == {"cpu": "210m", "memory": "240Mi", "pods": "7"}
    assert e.resources["nvidia.com/gpu"] == "1" and e.resources["ephemeral-storage"] == "20Gi"
    assert e.requirements == "karpenter.sh/capacity-type In [on-demand spot], karpenter.sh/nodepool In [rag-nodepool]"
    assert m.nodepools == ["rag-nodepool"]


def test_old_format_log_with_reason_in_parentheses_and_truncated_second_pool():
    m = parse_karpenter_message(REAL_OLD_5527)
    assert m.format == "<=v1.4"
    first, second = m.errors
    assert (first.kind, first.nodepool) == ("no-instance-type", "gpu")
    assert first.detail == (
        "no instance type which met the scheduling requirements and had enough resources, had a required offering"
    )
    assert first.requirements.endswith(
        "node.kubernetes.io/instance-type In [g5.12xlarge g5.16xlarge g5.24xlarge g5.4xlarge g5.8xlarge]"
    )
    assert (second.kind, second.nodepool) == ("truncated", "general-purpose")
    assert m.nodepools == ["gpu", "general-purpose"]


def test_old_format_fragment_taint_requirements_limits():
    m = parse_failed_scheduling(REAL_OLD_5169)
    assert isinstance(m, KarpenterMessage) and m.format == "fragment"
    assert [e.kind for e in m.errors] == ["taint", "requirements", "limits"]
    assert m.errors[0].taint == "arch=arm64:NoSchedule" and m.errors[0].taint_key == "arch"
    assert m.errors[1].label == "karpenter.sh/nodepool"


def test_old_format_limits_with_quoted_nodepool_and_taint():
    m = parse_karpenter_message(
        'Failed to schedule pod, incompatible with nodepool "gpu", daemonset overhead={"cpu":'
        '"100m"}, all available instance types exceed limits for nodepool: "gpu"; incompatible '
        'with nodepool "default", did not tolerate nvidia.com/gpu=true:NoSchedule'
    )
    assert [(e.kind, e.nodepool) for e in m.errors] == [("limits", "gpu"), ("taint", "default")]
    assert m.errors[1].taint == "nvidia.com/gpu=true:NoSchedule"


def test_provisioner_era():
    m = parse_karpenter_message(
        'Failed to schedule pod, incompatible with provisioner "default", daemonset '
        'overhead={"cpu":"125m"}, did not tolerate nvidia.com/gpu:NoSchedule'
    )
    (e,) = m.errors
    assert (e.kind, e.nodepool, e.taint) == ("taint", "default", "nvidia.com/gpu:NoSchedule")


def test_new_format_taint_and_unknown_label():
    m = parse_karpenter_message(
        "Failed to schedule pod, did not tolerate taint (taint=CriticalAddonsOnly:NoSchedule); "
        'incompatible requirements, label "NodeGroupType" does not have known values'
    )
    assert m.format == "v1.5+"
    taint, req = m.errors
    assert (taint.kind, taint.taint, taint.taint_key, taint.nodepool) == (
        "taint",
        "CriticalAddonsOnly:NoSchedule",
        "CriticalAddonsOnly",
        None,
    )
    assert (req.kind, req.label) == ("requirements", "NodeGroupType")


def test_summary_collapses_repeated_clauses():
    m = parse_karpenter_message(
        "Failed to schedule pod, did not tolerate taint (taint=nvidia.com/gpu=true:NoSchedule); "
        "did not tolerate taint (taint=nvidia.com/gpu=true:NoSchedule); incompatible "
        "requirements, key workload-type, workload-type In [a] not in workload-type In [b]"
    )
    assert len(m.errors) == 3
    assert m.summary() == ("taint nvidia.com/gpu=true:NoSchedule not tolerated; requirements conflict on workload-type")


def test_new_format_taint_with_value_and_nodepool_field():
    m = parse_karpenter_message(
        "Failed to schedule pod, did not tolerate taint (taint=nvidia.com/gpu=true:NoSchedule) (NodePool=gpu)"
    )
    (e,) = m.errors
    assert (e.kind, e.taint, e.nodepool) == ("taint", "nvidia.com/gpu=true:NoSchedule", "gpu")


def test_new_format_limits():
    m = parse_karpenter_message(
        "Failed to schedule pod, all available instance types exceed limits for nodepool "
        "(NodePool=gpu); node limits have been exhausted for nodepool (NodePool=train)"
    )
    assert [(e.kind, e.nodepool, e.fields) for e in m.errors] == [
        ("limits", "gpu", {"NodePool": "gpu"}),
        ("limits", "train", {"NodePool": "train"}),
    ]


def test_new_format_requirement_key_conflict():
    m = parse_karpenter_message(
        "Failed to schedule pod, incompatible requirements, key karpenter.k8s.aws/instance-gpu"
        "-name, karpenter.k8s.aws/instance-gpu-name In [h100] not in karpenter.k8s.aws/instance-"
        "gpu-name In [a10g l4]"
    )
    (e,) = m.errors
    assert (e.kind, e.label) == ("requirements", "karpenter.k8s.aws/instance-gpu-name")
    assert e.requirements == "karpenter.k8s.aws/instance-gpu-name In [a10g l4]"


def test_new_format_label_typo_hint():
    m = parse_karpenter_message(
        'Failed to schedule pod, incompatible requirements, label "karpenter.sh/capacity_type" '
        'does not have known values (typo of "karpenter.sh/capacity-type"?)'
    )
    (e,) = m.errors
    assert (e.kind, e.label) == ("requirements", "karpenter.sh/capacity_type")
    assert 'typo of "karpenter.sh/capacity-type"?' in e.detail


@pytest.mark.parametrize(
    "phrase",
    [
        "no instance type has enough resources",
        "no instance type met the scheduling requirements or had enough resources or had a required offering",
        "no instance type met the scheduling requirements or had enough resources",
        "no instance type met the scheduling requirements or had a required offering",
        "no instance type had enough resources or had a required offering",
        "no instance type met all requirements",
        "no instance type has the required offering",
        "no instance type which met the scheduling requirements and had enough resources, had a required offering",
        "no instance type which had enough resources and the required offering met the scheduling requirements",
        "no instance type which met the scheduling requirements and the required offering had the required resources",
    ],
)
def test_new_format_every_instance_type_phrase(phrase):
    text = (
        f"Failed to schedule pod, {phrase}, requirements=karpenter.sh/nodepool In [gpu], "
        'node.kubernetes.io/instance-type In [g4dn.2xlarge g4dn.4xlarge], resources={"cpu":"1","nvidia.com/gpu":'
        '"2","pods":"1"}'
    )
    (e,) = parse_karpenter_message(text).errors
    assert (e.kind, e.detail) == ("no-instance-type", phrase)
    assert e.resources == {"cpu": "1", "nvidia.com/gpu": "2", "pods": "1"}
    assert (
        e.requirements == "karpenter.sh/nodepool In [gpu], node.kubernetes.io/instance-type In [g4dn.2xlarge "
        "g4dn.4xlarge]"
    )


def test_new_format_elided_instance_type_message_and_filtered_out():
    m = parse_karpenter_message(
        "Failed to schedule pod, did not tolerate taint (taint=porter.run/node-group-id=37a3:"
        'NoSchedule); no instance type has enough resources ... resources={"cpu":"705m"}'
    )
    assert [e.kind for e in m.errors] == ["taint", "no-instance-type"]
    (e,) = parse_karpenter_message(
        "Failed to schedule pod, nodepool requirements filtered out all available instance types"
    ).errors
    assert e.kind == "no-instance-type"


def test_min_values_volume_and_dra():
    m = parse_karpenter_message(
        "Failed to schedule pod, pod didn’t schedule because NodePool couldn’t meet minValues "
        "requirements, minValues requirement is not met for label(s) (label(s)=[node.kubernetes."
        "io/instance-type]); incompatible volume requirements, zone us-east-1a not in us-east-1b;"
        " pod has Dynamic Resource Allocation requirements that are not yet supported by Karpenter"
    )
    assert [e.kind for e in m.errors] == ["min-values", "volume", "dra"]
    (e,) = parse_karpenter_message(
        "Failed to schedule pod, pod didn't schedule because NodePool couldn't meet minValues requirements, x"
    ).errors
    assert e.kind == "min-values"


def test_karpenter_unknown_clause_is_not_recognised_but_kept():
    m = parse_karpenter_message("Failed to schedule pod, the moon is in the wrong phase")
    assert m.kind == "failed-scheduling" and not m.recognised
    assert m.errors[0].kind == "other" and m.errors[0].detail == "the moon is in the wrong phase"
    assert parse_karpenter_message("hello").kind == "unknown"


def test_dispatch_by_emitter():
    assert isinstance(parse_failed_scheduling(REAL_INSUFFICIENT), SchedulerMessage)
    assert isinstance(parse_failed_scheduling(REAL_OLD_5703), KarpenterMessage)
    assert isinstance(
        parse_failed_scheduling("FailedScheduling … no nodes available to schedule pods"), SchedulerMessage
    )
    assert not parse_failed_scheduling("entirely unrelated").recognised


def test_parse_taint():
    assert parse_taint("nvidia.com/gpu=true:NoSchedule") == ("nvidia.com/gpu", "true", "NoSchedule")
    assert parse_taint("nvidia.com/gpu:NoSchedule") == ("nvidia.com/gpu", None, "NoSchedule")
    assert parse_taint("a=b=c:NoExecute") == ("a", "b=c", "NoExecute")
    assert parse_taint("plain") == ("plain", None, None)


# -- Nominated and NodeClaim events ----------------------------------------------------------------


def test_nominated():
    n = parse_nominated("Pod should schedule on: nodeclaim/gpu-abcde, node/ip-10-0-1-2.ec2.internal")
    assert (n.nodeclaim, n.node, n.recognised) == ("gpu-abcde", "ip-10-0-1-2.ec2.internal", True)
    n = parse_nominated("Pod should schedule on: nodeclaim/gpu-abcde")
    assert (n.nodeclaim, n.node) == ("gpu-abcde", None)
    assert not parse_nominated("Successfully assigned ml/x to node-1").recognised


def test_insufficient_capacity_event():
    e = parse_nodeclaim_event(
        "NodeClaim gpu-x7k2p event: with fleet error(s), InsufficientInstanceCapacity: We "
        "currently do not have sufficient p4d.24xlarge capacity in the Availability Zone you "
        "requested (us-east-1a)."
    )
    assert (e.nodeclaim, e.error_code, e.instance_types, e.zones) == (
        "gpu-x7k2p",
        "InsufficientInstanceCapacity",
        ["p4d.24xlarge"],
        ["us-east-1a"],
    )
    e = parse_nodeclaim_event("NodeClaim gpu-2 event: all requested instance types were unavailable during launch")
    assert (e.nodeclaim, e.message, e.error_code) == (
        "gpu-2",
        "all requested instance types were unavailable during launch",
        None,
    )
    assert parse_nodeclaim_event("NodeClaim p6-b200-q event: x p6-b200.48xlarge y").instance_types == [
        "p6-b200.48xlarge"
    ]


# -- every real example in the reference ------------------------------------------------------------


def _examples(md: str, start: str, end: str) -> list[str]:
    i = md.index(start)
    section = md[i : md.index(end, i)]
    return [m.group(1) for m in re.finditer(r"^\* [^`\n]*`([^`]+)`", section, re.M)]


def test_every_reference_example_is_recognised(reference):
    md = (reference / "messages.md").read_text()
    examples = _examples(md, "### 1.3", "\n---") + _examples(md, "Real examples (old format)", "### 2.3")
    assert len(examples) >= 9
    for text in examples:
        parsed = parse_failed_scheduling(text)
        assert parsed.recognised, text
        if isinstance(parsed, SchedulerMessage):
            assert all(r.kind != "other" for r in parsed.reasons), text


# -- pasted wordings: line breaks, lower case, the older head ------------------------------------


@pytest.mark.parametrize("sep", [", ", ",\n", ",\n  ", " ,\n"])
def test_scheduler_clauses_split_across_lines(sep):
    from checks.event_messages import parse_scheduler_message

    msg = parse_scheduler_message(
        f"0/5 nodes are available: 2 node(s) had untolerated taint {{nvidia.com/gpu: }}{sep}3 Insufficient nvidia.com/gpu."
    )
    assert [(r.count, r.kind) for r in msg.reasons] == [(2, "taint"), (3, "resources")]


@pytest.mark.parametrize(
    "text, kind, detail",
    [
        ("0/3 nodes are available: 3 insufficient nvidia.com/gpu.", "resources", "nvidia.com/gpu"),
        ("0/3 nodes are available: 3 Insufficient nvidia.com/gpu..", "resources", "nvidia.com/gpu"),
        ("0/42 nodes available: insufficient cpu", "resources", "cpu"),
        ("0/1 nodes are available: 1 too many pods.", "too-many-pods", "pods"),
        ("0/2 nodes are available: 2 node(s) had taints that the pod didn’t tolerate.", "taint", ""),
    ],
)
def test_scheduler_lower_case_and_older_wordings(text, kind, detail):
    from checks.event_messages import parse_scheduler_message

    msg = parse_scheduler_message(text)
    assert msg.kind == "fit-error"
    assert (msg.reasons[0].kind, msg.reasons[0].detail) == (kind, detail)


def test_karpenter_message_wrapped_inside_a_clause():
    from checks.event_messages import parse_karpenter_message

    msg = parse_karpenter_message(
        'Could not schedule pod, incompatible with nodepool "gpu", daemonset overhead={"cpu":"180m"}, no instance type '
        'satisfied resources {"cpu":"280m","nvidia.com/gpu":"1"} and requirements karpenter.sh/nodepool In [gpu], kubernetes.io/\n'
        "arch In [amd64] (no instance type has enough resources)"
    )
    assert [(e.kind, e.nodepool) for e in msg.errors] == [("no-instance-type", "gpu")]
    assert msg.errors[0].resources == {"cpu": "280m", "nvidia.com/gpu": "1"}
