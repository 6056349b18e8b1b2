"""Deleting a NodeClaim is not done while it is Terminating: verification says so until the
NodeClaim is gone and Karpenter has launched its replacement."""

from __future__ import annotations

import copy

import pytest

from checks.registry import run_checks
from gputui.fixes.apply import Applier
from gputui.fixes.audit import AuditLog
from gputui.fixes.targets import object_path
from gputui.fixes.verify import verify
from gputui.kube.client import connect
from gputui.kube.gather import gather

CLAIM = "gpu-inference-4frzj"


@pytest.fixture
def incident(start_sim, tmp_path):
    sim = start_sim(sources=["incident"])
    kube = connect(str(sim.kubeconfig), sim.context)
    return kube, Applier(kube, AuditLog(tmp_path / "audit.jsonl"))


def _delete_the_claim(kube, ap, code: str, subject: str):
    finding = next(f for f in run_checks(gather(kube)) if f.code == code and f.subject.name == subject)
    plan = next(p for p in finding.fixes if p.id == "delete-nodeclaim")
    pv = ap.preview(plan)
    assert ap.dry_run(plan, pv).ok
    assert ap.apply(plan, pv.resource_version, pv).ok
    return finding, plan, pv


def test_a_terminating_nodeclaim_is_not_called_fixed(incident):
    kube, ap = incident
    finding, plan, pv = _delete_the_claim(kube, ap, "GPU304", CLAIM)
    v = verify(kube, finding, plan, before=pv.before)
    assert not v.resolved, v.message
    assert v.change_in_place
    assert f"NodeClaim {CLAIM} is deleting (Terminating)" in v.message


def test_the_delete_is_done_once_the_claim_is_gone_and_replaced(incident):
    kube, ap = incident
    finding, plan, pv = _delete_the_claim(kube, ap, "GPU304", CLAIM)
    # Karpenter terminates the instance and drops its finalizer: the NodeClaim goes away.
    kube.request(
        "PATCH",
        object_path(plan.target),
        body={"metadata": {"finalizers": None}},
        content_type="application/merge-patch+json",
    )
    v = verify(kube, finding, plan, before=pv.before)
    assert not v.resolved and "Karpenter has not launched a replacement yet" in v.message
    # ... and launches a new one for the NodePool.
    new = copy.deepcopy(pv.before)
    md = new["metadata"]
    md["name"] = "gpu-inference-zzzzz"
    for key in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "finalizers"):
        md.pop(key, None)
    new.pop("status", None)
    kube.request("POST", object_path(plan.target).rsplit("/", 1)[0], body=new)
    v = verify(kube, finding, plan, before=pv.before)
    assert v.resolved, v.message
    assert "replaced by NodeClaim gpu-inference-zzzzz" in v.message
