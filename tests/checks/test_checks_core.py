"""The pure core under every check: quantities, taints, selectors, the registry and
the finding contract."""

from decimal import Decimal

import pytest

from checks.k8s import (
    format_quantity,
    node_matches_pod_selectors,
    parse_quantity,
    pod_gpu_request,
    pod_requests,
    requirement_matches,
    tolerates,
    untolerated_taints,
)
from checks.kinds import Pod, Taint, Toleration, to_struct
from checks.model import Finding, FixPlan, ObjectRef, Severity
from checks.registry import INTERNAL_ERROR_CODE, Registry, run_checks
from checks.snapshot import ClusterSnapshot


@pytest.mark.parametrize(
    "text,value",
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("16Gi", Decimal(16 * 1024**3)),
        ("1.5G", Decimal("1.5e9")),
        ("14876248Ki", Decimal(14876248 * 1024)),
        ("1e3", Decimal(1000)),
    ],
)
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


def test_parse_quantity_rejects_nonsense():
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity("lots")


def test_format_quantity_is_readable():
    assert format_quantity(parse_quantity("16Gi"), "memory") == "16Gi"
    assert format_quantity(parse_quantity("1536Mi"), "memory") == "1.5Gi"
    assert format_quantity(parse_quantity("250m"), "cpu") == "250m"
    assert format_quantity(Decimal(8), "nvidia.com/gpu") == "8"


GPU_TAINT = Taint(key="nvidia.com/gpu", value="true", effect="NoSchedule")


@pytest.mark.parametrize(
    "tol,expected",
    [
        (Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule"), True),
        (Toleration(key="nvidia.com/gpu", operator="Exists"), True),
        (Toleration(key="nvidia.com/gpu", value="true"), True),  # operator defaults to Equal
        (Toleration(key="nvidia.com/gpu", value="false"), False),
        (Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoExecute"), False),
        (Toleration(operator="Exists"), True),  # tolerate everything
        (Toleration(key="example.com/other", operator="Exists"), False),
    ],
)
def test_tolerates(tol, expected):
    assert tolerates(tol, GPU_TAINT) is expected


def test_untolerated_taints_ignores_prefer_no_schedule():
    taints = [
        GPU_TAINT,
        Taint(key="soft", effect="PreferNoSchedule"),
        Taint(key="team", value="ml", effect="NoExecute"),
    ]
    left = untolerated_taints(taints, [Toleration(key="nvidia.com/gpu", operator="Exists")])
    assert [t.key for t in left] == ["team"]


@pytest.mark.parametrize(
    "op,values,labels,expected",
    [
        ("In", ["a10g", "l4"], {"k": "l4"}, True),
        ("In", ["a10g"], {}, False),
        ("NotIn", ["spot"], {}, True),
        ("NotIn", ["spot"], {"k": "spot"}, False),
        ("Exists", [], {"k": ""}, True),
        ("DoesNotExist", [], {"k": "x"}, False),
        ("Gt", ["0"], {"k": "4"}, True),
        ("Gt", ["4"], {"k": "4"}, False),
        ("Lt", ["5"], {"k": "x"}, False),
    ],
)
def test_requirement_matches(op, values, labels, expected):
    assert requirement_matches(labels, "k", op, values) is expected


def _pod(spec):
    return to_struct({"metadata": {"name": "p", "namespace": "ml"}, "spec": spec}, Pod)


def test_pod_requests_follow_scheduler_rules():
    pod = _pod(
        {
            "containers": [
                {
                    "name": "a",
                    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"nvidia.com/gpu": "2"}},
                },
                {"name": "b", "resources": {"requests": {"cpu": "500m"}}},
            ],
            "initContainers": [{"name": "init", "resources": {"requests": {"cpu": "4"}}}],
            "overhead": {"memory": "100Mi"},
        }
    )
    req = pod_requests(pod)
    assert req["cpu"] == Decimal(4)  # the init container's request dominates the sum of 1.5
    assert req["memory"] == Decimal(1024**3 + 100 * 1024**2)
    assert pod_gpu_request(pod) == 2  # limits stand in for missing extended-resource requests


def test_node_selector_and_required_affinity():
    pod = _pod(
        {
            "nodeSelector": {"workload": "inference"},
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": ["l4"]}
                                ]
                            },
                            {
                                "matchExpressions": [
                                    {"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": ["a10g"]}
                                ]
                            },
                        ]
                    }
                }
            },
        }
    )
    assert node_matches_pod_selectors({"workload": "inference", "karpenter.k8s.aws/instance-gpu-name": "a10g"}, pod)
    assert not node_matches_pod_selectors({"workload": "inference", "karpenter.k8s.aws/instance-gpu-name": "t4"}, pod)
    assert not node_matches_pod_selectors({"karpenter.k8s.aws/instance-gpu-name": "a10g"}, pod)


def test_registry_rejects_bad_codes_and_duplicates():
    reg = Registry()
    with pytest.raises(ValueError, match="GPU123"):
        reg.register("X1", "x", Severity.INFO, "t")
    reg.register("GPU999", "demo-check", Severity.INFO, "t")(lambda s: [])
    with pytest.raises(ValueError, match="twice"):
        reg.register("GPU999", "other", Severity.INFO, "t")(lambda s: [])
    assert reg.find("demo-check").code == "GPU999"
    assert reg.find("gpu999").name == "demo-check"


def test_a_raising_check_becomes_one_internal_finding_and_others_still_run():
    reg = Registry()

    @reg.register("GPU998", "boom", Severity.ERROR, "boom")
    def boom(snapshot):
        """What it checks: nothing."""
        raise KeyError("spec")

    @reg.register("GPU997", "fine", Severity.WARNING, "fine")
    def fine(snapshot):
        yield Finding(
            code="GPU997",
            name="fine",
            severity=Severity.WARNING,
            title="t",
            message="m",
            subject=ObjectRef("Node", "n1"),
        )

    findings = run_checks(ClusterSnapshot(), reg.all())
    assert sorted(f.code for f in findings) == [INTERNAL_ERROR_CODE, "GPU997"]
    internal = next(f for f in findings if f.code == INTERNAL_ERROR_CODE)
    assert "GPU998" in internal.message and "KeyError" in internal.message


def test_finding_json_contract():
    f = Finding(
        code="GPU101",
        name="gpu-not-allocatable",
        severity=Severity.ERROR,
        area="nodes",
        title="GPU node reports no allocatable nvidia.com/gpu",
        message="m",
        subject=ObjectRef("Node", "ip-10-0-3-7"),
        related=[ObjectRef("DaemonSet", "nvidia-device-plugin-daemonset", "gpu-operator")],
        evidence=["taint x"],
        fixes=[
            FixPlan(
                id="clusterpolicy-tolerations",
                title="t",
                target=ObjectRef("ClusterPolicy", "cluster-policy"),
                patch_type="merge",
                patch={"spec": {}},
                kubectl="kubectl patch ...",
            )
        ],
    )
    j = f.to_json()
    assert j["severity"] == "error"
    assert j["subject"] == {"kind": "Node", "namespace": None, "name": "ip-10-0-3-7"}
    assert j["related"][0]["namespace"] == "gpu-operator"
    assert j["fixes"][0]["id"] == "clusterpolicy-tolerations" and j["fixes"][0]["disruptive"] is False
    assert set(j) >= {"code", "name", "severity", "title", "message", "subject", "related", "evidence", "fixes"}


def test_snapshot_from_manifests_uses_newest_timestamp_as_now_and_builds_indexes():
    objs = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "creationTimestamp": "2026-11-30T00:00:00Z"}},
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p1", "namespace": "ml", "creationTimestamp": "2026-11-30T00:05:00Z"},
            "spec": {"nodeName": "n1"},
        },
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e1", "namespace": "ml"},
            "involvedObject": {"kind": "Pod", "name": "p1", "namespace": "ml"},
            "reason": "Started",
            "lastTimestamp": "2026-11-30T00:06:00Z",
        },
        {"apiVersion": "example.com/v1", "kind": "Unknown", "metadata": {"name": "ignored"}},
    ]
    snap = ClusterSnapshot.from_manifests(objs)
    assert snap.now.isoformat() == "2026-11-30T00:06:00+00:00"
    assert [p.metadata.name for p in snap.pods_by_node["n1"]] == ["p1"]
    assert snap.events_for("Pod", "p1", "ml")[0].reason == "Started"
    assert snap.age_seconds("2026-11-30T00:00:00Z") == 360


def test_debug_scope_checks_are_documented_but_never_run_on_a_snapshot():
    from checks.registry import REGISTRY

    c = REGISTRY.find("GPU703")
    assert c is not None and c.scope == "debug" and c.area == "debug"
    assert "How to fix" in c.doc
    # They read nvidia-smi observations, not a snapshot: the snapshot runner leaves them out.
    assert not [f for f in run_checks(ClusterSnapshot()) if f.code.startswith("GPU7")]
