"""The vocabulary of fix plans: what a plan does, as one registered value.

The plan builders (checks.fixplans and the checks that build plans themselves) stamp a
plan with its kind; verification (gputui.fixes) dispatches on it; each check declares the
kinds it may offer. A FixKind is a str, and its value is the plan `id` of the
gputui.dev/diagnose/v1 document, so scripts keep matching on the same strings.
"""

from __future__ import annotations

import enum


class FixKind(enum.StrEnum):
    ADD_TOLERATION = "add-toleration"  # tolerations on a workload's pod template (or a pod)
    ADD_NODE_SELECTOR = "add-node-selector"  # set (or drop) nodeSelector keys on a pod template
    CLUSTERPOLICY_TOLERATIONS = "clusterpolicy-tolerations"  # ClusterPolicy spec.daemonsets.tolerations
    RAISE_NODEPOOL_LIMIT = "raise-nodepool-limit"  # NodePool spec.limits
    WIDEN_NODEPOOL_REQUIREMENTS = "widen-nodepool-requirements"  # NodePool template requirements
    ADD_DO_NOT_DISRUPT = "add-do-not-disrupt"  # karpenter.sh/do-not-disrupt on pods or a template
    RESTART_OPERAND_POD = "restart-operand-pod"  # delete an operand pod; its DaemonSet re-creates it
    DELETE_NODECLAIM = "delete-nodeclaim"  # Karpenter replaces the node
    CORDON_NODE = "cordon-node"
    UNCORDON_NODE = "uncordon-node"
    EDIT_NODEPOOL = "edit-nodepool"  # the NodePool editor's draft, as a merge patch
    CREATE_NODEPOOL = "create-nodepool"  # the NodePool editor's new NodePool


def fix_kind(plan_id: str) -> FixKind | None:
    """The kind of a plan id, None for an id nobody registered."""
    try:
        return FixKind(plan_id)
    except ValueError:
        return None
