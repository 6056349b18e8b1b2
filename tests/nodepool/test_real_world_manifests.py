"""`gputui nodepool lint` on the real-world manifests in ../shared/reference/real-world/manifests
(SOURCES.txt says where each comes from): every complete manifest lints without an error except
the few real mistakes listed here with what the linter must say; documentation fragments and
<<PLACEHOLDER>> templates are not meant to be applied and are left out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checks.model import Severity
from gputui.errors import InputError
from gputui.nodepool.lint import lint_objects, read_manifests
from tests.helpers.reference import REFERENCE

MANIFESTS = REFERENCE / "real-world" / "manifests"

# SOURCES.txt: documentation fragments (pseudo-values, elided nodeClassRef) and placeholder templates.
FRAGMENT = re.compile(r"^karpenter-docs/(v0\.37\.0-)?docs--node(classes|pools)-\d\.yaml$")
FRAGMENTS = {
    "karpenter-docs/docs--nodeclasses-0.yaml",
    "karpenter-docs/docs--nodeclasses-1.yaml",
    "karpenter-docs/docs--nodeclasses-2.yaml",
    *(f"karpenter-docs/docs--nodepools-{i}.yaml" for i in range(5)),
    "karpenter-docs/v0.37.0-docs--nodeclasses-0.yaml",
    *(f"karpenter-docs/v0.37.0-docs--nodepools-{i}.yaml" for i in range(4)),
}
TEMPLATES = {
    f"karpenter-blueprints/reserved-capacity__{name}.yaml"
    for name in ("migration-nodeclass", "migration-nodeclass-automode", "odcr", "odcr-automode")
}
# Real mistakes in real files: (check code, words the finding must contain).
TRUE_ERRORS = {
    # a karpenter.sh/v1 NodePool still carrying the v1beta1 kubelet block (v1 moved it to the EC2NodeClass)
    "data-on-eks/infra__terraform__manifests__karpenter__nodepool-local-provisioner.yaml": (
        "GPU608",
        "moved it to the EC2NodeClass",
    ),
    # an unquoted `true` label value (fixed in later revisions of the same README)
    "karpenter-blueprints/nvidia-gpu-workload__README@c20fa4a-1.yaml": ("GPU608", "must be of type string"),
}
RETIRED = {"issues/karpenter-provider-aws-3372--provisioner-v1alpha5.yaml"}


def _names() -> list:
    if not MANIFESTS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/reference not present"))]
    names = sorted(str(p.relative_to(MANIFESTS)) for p in MANIFESTS.glob("*/*.yaml"))
    return [n for n in names if n not in FRAGMENTS and n not in TEMPLATES]


def _fragment_names() -> list:
    if not MANIFESTS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/reference not present"))]
    return sorted(FRAGMENTS | TEMPLATES)


def _errors(name: str) -> list:
    _, findings = lint_objects(read_manifests([str(MANIFESTS / name)]))
    return [f for f in findings if f.severity >= Severity.ERROR]


def test_the_classification_matches_sources_txt(reference):
    sources = (reference / "real-world" / "manifests" / "SOURCES.txt").read_text()
    assert "(13 files)" in sources and "(4 files)" in sources
    assert len(FRAGMENTS) == 13 and len(TEMPLATES) == 4
    assert all(FRAGMENT.match(n) for n in FRAGMENTS)
    names = {str(p.relative_to(MANIFESTS)) for p in MANIFESTS.glob("*/*.yaml")}
    assert FRAGMENTS | TEMPLATES | set(TRUE_ERRORS) | RETIRED <= names


@pytest.mark.parametrize("name", _names())
def test_real_manifest_lints_without_false_errors(name, reference):
    if name in RETIRED:
        with pytest.raises(InputError) as e:
            _errors(name)
        assert "before v0.32" in str(e.value) and "NodePool" in e.value.hint
        return
    errors = _errors(name)
    if name in TRUE_ERRORS:
        code, words = TRUE_ERRORS[name]
        assert [f.code for f in errors] == [code]
        assert words in " ".join([errors[0].message, *errors[0].evidence])
    else:
        assert errors == [], [f.message for f in errors]


@pytest.mark.parametrize("name", _fragment_names())
def test_fragments_and_templates_are_judged_not_crashed_on(name, reference):
    """Documentation fragments and <<PLACEHOLDER>> templates are not meant to be applied: lint may
    find errors in them or refuse them as input, but it judges them like any file."""
    try:
        _, findings = lint_objects(read_manifests([str(MANIFESTS / name)]))
    except InputError as e:
        assert e.message and "\n" not in e.message
    else:
        assert all(f.code.startswith("GPU") and f.message for f in findings)


def test_auto_mode_nodeclass_alone_is_valid_input(tmp_path: Path):
    f = tmp_path / "nodeclass.yaml"
    f.write_text(
        "apiVersion: eks.amazonaws.com/v1\nkind: NodeClass\nmetadata:\n  name: gpu\nspec:\n"
        "  role: MyNodeRole\n  subnetSelectorTerms:\n  - tags:\n      karpenter.sh/discovery: demo\n"
    )
    snap, findings = lint_objects(read_manifests([str(f)]))
    assert [x for x in findings if x.severity >= Severity.ERROR] == []


def test_a_file_without_karpenter_objects_is_still_an_input_error(tmp_path: Path):
    f = tmp_path / "cm.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    with pytest.raises(InputError):
        lint_objects(read_manifests([str(f)]))


def test_the_maxpods_1_nodeclass_of_issue_6884_explains_the_pending_pod(reference, tmp_path: Path):
    """aws/karpenter-provider-aws#6884: an EC2NodeClass with kubelet maxPods: 1. Linted with a GPU
    NodePool that uses it and a pending GPU pod, the draft check names the setting."""
    nodeclass = MANIFESTS / "issues" / "karpenter-provider-aws-6884--ep-nodeclass.yaml"
    extra = tmp_path / "pool-and-pod.yaml"
    extra.write_text(
        """apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: ep-base}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: ep-nodeclass}
      requirements:
        - {key: karpenter.k8s.aws/instance-family, operator: In, values: [g5, g6]}
---
apiVersion: v1
kind: Pod
metadata: {name: bench-0, namespace: default, creationTimestamp: "2024-08-01T00:00:00Z"}
spec:
  containers:
    - name: bench
      image: bench:1
      resources: {limits: {nvidia.com/gpu: "1"}}
status:
  phase: Pending
  conditions: [{type: PodScheduled, status: "False", reason: Unschedulable}]
---
apiVersion: v1
kind: Event
metadata: {name: bench-0.1, namespace: default}
involvedObject: {kind: Pod, name: bench-0, namespace: default}
reason: FailedScheduling
message: "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
type: Warning
lastTimestamp: "2024-08-01T00:05:00Z"
"""
    )
    _, findings = lint_objects(read_manifests([str(nodeclass), str(extra)]))
    unfit = [f for f in findings if f.code == "GPU606"]
    assert unfit and "EC2NodeClass ep-nodeclass sets kubelet maxPods: 1" in unfit[0].message
