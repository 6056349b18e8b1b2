"""NodePool editing without a cluster: templates, the editor model, the budget cron
matcher, the preview's instance matching and limits, the schema validator, the draft
checks and `gputui nodepool lint|templates|new`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

import checks  # noqa: F401  (registers every check)
from checks.crd_schema import is_permissive, validate, version_schema
from checks.cron import Cron, budget_active, parse_duration
from checks.registry import REGISTRY, run_checks
from checks.snapshot import ClusterSnapshot
from gputui.cli import main
from gputui.nodepool import templates
from gputui.nodepool.model import NodePoolDraft, parse_budgets, parse_requirement, parse_taints
from gputui.nodepool.preview import build_preview, capacity_types, disruption_now, preview_lines
from gputui.nodepool.schema import validate_manifest

UTC = dt.timezone.utc


def _crd(reference: Path, version: str) -> dict:
    return yaml.safe_load((reference / f"karpenter/crds/{version}/karpenter.sh_nodepools.yaml").read_text())


def _pool(**spec_overrides) -> dict:
    base = templates.get("inference").build("np")[0]
    base["spec"].update(spec_overrides)
    return base


def _types(obj: dict) -> list[str]:
    return [r.name for r in build_preview(obj).instance_types]


# -- templates -------------------------------------------------------------------------


def test_template_list_is_the_documented_set():
    assert list(templates.TEMPLATES) == [
        "general-gpu",
        "inference",
        "training",
        "spot-inference",
        "tiered-spot",
        "inferentia",
    ]
    assert [d["metadata"]["name"] for d in templates.get("tiered-spot").build("team-a")] == [
        "team-a-tier1-spot",
        "team-a-tier2-spot",
        "team-a-tier3-on-demand",
    ]
    assert [d["spec"]["weight"] for d in templates.get("tiered-spot").build()] == [100, 50, 10]


def test_unknown_template_is_an_input_error():
    from gputui.errors import InputError

    with pytest.raises(InputError, match="unknown NodePool template: nope"):
        templates.get("nope")


@pytest.mark.parametrize("name", list(templates.TEMPLATES))
def test_every_template_validates_against_the_real_crd(name, reference):
    crd = _crd(reference, "v1")
    for doc in templates.get(name).build():
        result = validate_manifest(doc, crd)
        assert result.errors == [], (name, [str(e) for e in result.errors])
        assert result.source == "the installed nodepools.karpenter.sh CRD (v1)"
        assert result.unchecked == []  # every CEL rule of the v1 NodePool CRD is implemented


@pytest.mark.parametrize("name", list(templates.TEMPLATES))
def test_every_template_passes_the_builtin_rules_and_the_draft_checks(name, tmp_path, capsys):
    f = tmp_path / f"{name}.yaml"
    code = main(["nodepool", "new", "--template", name, "-o", "yaml"])
    f.write_text(capsys.readouterr().out)
    assert code == 0
    code = main(["nodepool", "lint", str(f), "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["findings"] == []


def test_templates_admit_the_intended_instances():
    assert _types(templates.get("training").build()[0]) == [
        "p4d.24xlarge",
        "p4de.24xlarge",
        "p5.48xlarge",
        "p5e.48xlarge",
        "p5en.48xlarge",
    ]
    assert set(_types(templates.get("inferentia").build()[0])) == {
        "inf2.xlarge",
        "inf2.8xlarge",
        "inf2.24xlarge",
        "inf2.48xlarge",
    }
    assert capacity_types(templates.get("training").build()[0]) == ["on-demand"]
    assert capacity_types(templates.get("spot-inference").build()[0]) == ["spot"]
    tier2 = templates.get("tiered-spot").build()[1]
    assert {t.split(".")[0] for t in _types(tier2)} == {"g4dn"}


# -- instance matching ---------------------------------------------------------------------

SMALL_INFERENCE = {
    "g4dn.xlarge",
    "g4dn.2xlarge",
    "g4dn.4xlarge",
    "g5.xlarge",
    "g5.2xlarge",
    "g5.4xlarge",
    "g6.xlarge",
    "g6.2xlarge",
    "g6.4xlarge",
    "gr6.4xlarge",
}


def test_gpu_names_and_sizes_give_exactly_the_expected_types():
    obj = templates.get("inference").build()[0]
    assert set(_types(obj)) == SMALL_INFERENCE
    d = NodePoolDraft(obj)
    d.set_text("categories", "g")  # gr6 is category "gr"
    assert set(_types(d.obj)) == SMALL_INFERENCE - {"gr6.4xlarge"}
    d.set_text("generations", "> 5")
    assert set(_types(d.obj)) == {"g6.xlarge", "g6.2xlarge", "g6.4xlarge"}
    d.set_text("arch", "arm64")
    assert _types(d.obj) == []


def test_matching_agrees_with_the_reference_instance_facts(reference):
    from checks import instances

    ref = json.loads((reference / "karpenter/instance-types-nvidia-gpu.json").read_text())
    matched = {
        n
        for n, v in ref.items()
        if v["labels"].get("karpenter.k8s.aws/instance-gpu-name") in ("t4", "a10g", "l4")
        and v["labels"]["karpenter.k8s.aws/instance-size"] in ("xlarge", "2xlarge", "4xlarge")
    }
    ours = set(_types(templates.get("inference").build()[0]))
    assert ours == {n for n in matched if n in instances.INSTANCE_TYPES}
    # Fractional-GPU L4 types the catalogue does not list yet.
    assert matched - ours == {"g6f.xlarge", "g6f.2xlarge", "g6f.4xlarge", "gr6f.4xlarge"}
    for name in ours:
        labels = ref[name]["labels"]
        it = instances.get(name)
        assert (it.gpu_count, it.gpu_memory_mib, it.vcpu) == (
            int(labels["karpenter.k8s.aws/instance-gpu-count"]),
            int(labels["karpenter.k8s.aws/instance-gpu-memory"]),
            int(labels["karpenter.k8s.aws/instance-cpu"]),
        ), name


def test_preview_rows_prices_and_largest_pod():
    p = build_preview(templates.get("inference").build()[0])
    row = next(r for r in p.instance_types if r.name == "g5.xlarge")
    assert (row.gpu_model, row.gpu_count, row.vcpu, row.memory_gib, row.on_demand_usd, row.spot_usd) == (
        "NVIDIA A10G",
        1,
        4,
        16,
        1.006,
        0.302,
    )
    assert p.capacity_types == ["spot", "on-demand"]
    # The roomiest admitted type: 16 vCPU - 110m kube-reserved - 200m daemonsets; 128 GiB less VM overhead,
    # kube-reserved, eviction threshold and 256 MiB of daemonsets.
    assert p.largest_pod == "1 GPU (NVIDIA L4), 15.69 CPU, 115.3Gi memory on one gr6.4xlarge (after daemonset overhead)"
    text = "\n".join(preview_lines(p))
    assert "$/h spot" in text and "g5.xlarge" in text


def test_limits_in_nodes_and_dollars():
    obj = templates.get("training").build()[0]  # 32 GPUs over 8-GPU types
    p = build_preview(obj)
    gpu = next(line for line in p.limits if line.resource == "nvidia.com/gpu")
    assert gpu.text == "at most 4 nodes"
    # The dearest admitted type is p5en.48xlarge at ~$63.30/h on-demand: 4 of them.
    assert p.spend == "at the limits: up to $253/h (4 x p5en.48xlarge)"
    d = NodePoolDraft(obj)
    d.set_text("limit_gpu", "")
    assert build_preview(d.obj).spend == "no limit caps the node count: spend is unbounded"


# -- cron and budgets --------------------------------------------------------------------------


def test_cron_fields_ranges_steps_names_and_macros():
    c = Cron.parse("*/15 9-17 * * mon-fri")
    assert c.minutes == frozenset({0, 15, 30, 45}) and c.hours == frozenset(range(9, 18))
    assert c.weekdays == frozenset({1, 2, 3, 4, 5})
    assert c.matches(dt.datetime(2026, 11, 30, 9, 45, tzinfo=UTC))  # a Monday
    assert not c.matches(dt.datetime(2026, 11, 29, 9, 45, tzinfo=UTC))  # Sunday
    assert not c.matches(dt.datetime(2026, 11, 30, 18, 0, tzinfo=UTC))
    assert Cron.parse("@daily").matches(dt.datetime(2026, 1, 5, 0, 0, tzinfo=UTC))
    assert Cron.parse("@hourly").minutes == frozenset({0})
    assert Cron.parse("0 0 1,15 jan,JUL *").months == frozenset({1, 7})
    assert Cron.parse("5/20 * * * *").minutes == frozenset({5, 25, 45})


def test_cron_day_of_month_or_day_of_week():
    both = Cron.parse("0 0 13 * fri")  # both restricted: either matches
    assert both.matches(dt.datetime(2026, 11, 13, tzinfo=UTC))  # the 13th (a Friday)
    assert both.matches(dt.datetime(2026, 11, 6, tzinfo=UTC))  # a Friday
    assert both.matches(dt.datetime(2026, 10, 13, tzinfo=UTC))  # a Tuesday the 13th
    star = Cron.parse("0 0 */2 * fri")  # a * field: both must match
    assert not star.matches(dt.datetime(2026, 11, 6, tzinfo=UTC))  # Friday the 6th (even)
    assert star.matches(dt.datetime(2026, 11, 13, tzinfo=UTC))


@pytest.mark.parametrize(
    "bad,why",
    [
        ("0 9 * *", "has 4 fields"),
        ("61 * * * *", "outside 0-59"),
        ("* * * * funday", "not a number"),
        ("5-1 * * * *", "runs backwards"),
        ("*/0 * * * *", "positive"),
        ("@often", "unknown macro"),
    ],
)
def test_cron_errors_say_what_is_wrong(bad, why):
    with pytest.raises(ValueError, match=why):
        Cron.parse(bad)


def test_durations():
    assert parse_duration("10h5m") == dt.timedelta(hours=10, minutes=5)
    assert parse_duration("1h0m0s") == dt.timedelta(hours=1)
    with pytest.raises(ValueError):
        parse_duration("10d")


def test_budget_window():
    sched, dur = "0 9 * * mon-fri", "10h"
    mon = dt.datetime(2026, 11, 30, tzinfo=UTC)
    assert not budget_active(sched, dur, mon.replace(hour=8, minute=59))
    assert budget_active(sched, dur, mon.replace(hour=9))
    assert budget_active(sched, dur, mon.replace(hour=18, minute=59))
    assert not budget_active(sched, dur, mon.replace(hour=19))
    assert budget_active(None, None, mon)


def test_disruption_now_takes_the_most_restrictive_active_budget():
    obj = _pool(
        disruption={
            "consolidationPolicy": "WhenEmptyOrUnderutilized",
            "consolidateAfter": "5m",
            "budgets": [
                {"nodes": "20%"},
                {"nodes": "0", "schedule": "0 9 * * mon-fri", "duration": "8h", "reasons": ["Drifted"]},
            ],
        }
    )
    at = dt.datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Monday 10:00
    states = {s.reason: s for s in disruption_now(obj, at, total_nodes=9)}
    assert states["Empty"].allowed == 2  # ceil(9 * 20%)
    assert states["Drifted"].allowed == 0
    assert "blocked by budget 2" in states["Drifted"].text and "active until Mon 17:00 UTC" in states["Drifted"].text
    evening = {s.reason: s for s in disruption_now(obj, at.replace(hour=18), total_nodes=9)}
    assert evening["Drifted"].allowed == 2
    assert "budgets change in 15h (Tue 09:00 UTC)" in evening["Drifted"].text
    when_empty = _pool(disruption={"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m"})
    states = {s.reason: s for s in disruption_now(when_empty, at, total_nodes=3)}
    assert states["Underutilized"].allowed is None and states["Empty"].allowed == 1  # default 10%


# -- the editor model ------------------------------------------------------------------------


def test_model_text_fields_round_trip():
    d = NodePoolDraft(templates.get("inference").build()[0])
    assert d.get_text("gpu_names") == "t4, a10g, l4"
    assert d.get_text("taints") == "nvidia.com/gpu=true:NoSchedule"
    d.set_text("taints", "nvidia.com/gpu=true:NoSchedule, dedicated=ml:noexecute")
    assert d.obj["spec"]["template"]["spec"]["taints"][1] == {"key": "dedicated", "value": "ml", "effect": "NoExecute"}
    d.set_text("gpu_count", "> 1")
    assert d.requirement("karpenter.k8s.aws/instance-gpu-count") == {
        "key": "karpenter.k8s.aws/instance-gpu-count",
        "operator": "Gt",
        "values": ["1"],
    }
    d.set_text("zones", "not us-west-2d")
    assert d.get_text("zones") == "not us-west-2d"
    d.set_text("zones", "")
    assert d.requirement("topology.kubernetes.io/zone") is None
    d.set_text("limit_gpu", "80")
    d.set_text("consolidation_policy", "whenempty")
    d.set_text("budgets", '0 at "0 9 * * mon-fri" for 10h on Drifted; 1')
    assert d.obj["spec"]["disruption"]["budgets"] == [
        {"nodes": "0", "schedule": "0 9 * * mon-fri", "duration": "10h", "reasons": ["Drifted"]},
        {"nodes": "1"},
    ]
    assert d.get_text("budgets") == '0 at "0 9 * * mon-fri" for 10h on Drifted; 1'
    assert d.obj["spec"]["limits"]["nvidia.com/gpu"] == "80"
    assert d.obj["spec"]["disruption"]["consolidationPolicy"] == "WhenEmpty"
    assert d.changed


@pytest.mark.parametrize(
    "field,text,message",
    [
        ("weight", "101", "1 to 100"),
        ("taints", "a=b", "needs an effect"),
        ("taints", "a:Never", "effect"),
        ("limit_gpu", "lots", "not a quantity"),
        ("consolidate_after", "5 min", "not a duration"),
        ("budgets", "always", "nodes"),
        ("budgets", '1 at "0 25 * * *" for 1h', "outside 0-23"),
        ("budgets", "1 on Sometimes", "reason"),
        ("gpu_count", "> x", "non-negative"),
        ("gpu_names", "A 10", "valid"),
        ("consolidation_policy", "Always", "not one of"),
        ("node_class", "", "needs a node class"),
    ],
)
def test_model_rejects_bad_input_with_a_message(field, text, message):
    d = NodePoolDraft(templates.get("inference").build()[0])
    before = json.dumps(d.obj, sort_keys=True)
    with pytest.raises(ValueError, match=message):
        d.set_text(field, text)
    assert json.dumps(d.obj, sort_keys=True) == before


def test_v1beta1_draft_is_edited_in_place_and_never_converted(request):
    from checks.nodepool_draft import to_v1, v1_changes

    old = {
        "apiVersion": "karpenter.sh/v1beta1",
        "kind": "NodePool",
        "metadata": {"name": "old"},
        "spec": {
            "disruption": {"consolidationPolicy": "WhenUnderutilized", "expireAfter": "720h"},
            "template": {
                "spec": {
                    "nodeClassRef": {"apiVersion": "karpenter.k8s.aws/v1beta1", "kind": "EC2NodeClass", "name": "gpu"},
                    "requirements": [],
                }
            },
        },
    }
    d = NodePoolDraft(old)
    assert d.get_text("expire_after") == "720h"
    d.set_text("expire_after", "336h")
    assert d.obj["spec"]["disruption"]["expireAfter"] == "336h" and d.api_version == "karpenter.sh/v1beta1"
    with pytest.raises(ValueError, match="v1beta1"):
        d.set_text("termination_grace_period", "1h")
    with pytest.raises(ValueError, match="WhenEmpty, WhenUnderutilized"):
        d.set_text("consolidation_policy", "WhenEmptyOrUnderutilized")
    changes = v1_changes(d.obj)
    assert "spec.disruption.expireAfter (336h) moves to spec.template.spec.expireAfter" in changes
    v1 = to_v1(d.obj)
    assert v1["spec"]["template"]["spec"]["expireAfter"] == "336h"
    assert v1["spec"]["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws",
        "kind": "EC2NodeClass",
        "name": "gpu",
    }
    # Only this last step needs the reference CRD; the rest runs without it.
    assert validate_manifest(v1, _crd(request.getfixturevalue("reference"), "v1")).errors == []
    assert d.obj["apiVersion"] == "karpenter.sh/v1beta1"  # to_v1 returned a copy


def test_parsers_directly():
    assert parse_requirement("exists") == ("Exists", [])
    assert parse_requirement(">= 4") == ("Gte", ["4"])
    assert parse_taints("") == []
    assert parse_budgets("10%") == [{"nodes": "10%"}]


# -- schema validator ----------------------------------------------------------------------------


def _errors(obj, schema, **kw) -> list[str]:
    return [str(e) for e in validate(obj, schema, **kw).errors]


def test_validator_structural_rules():
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {
            "a": {"type": "integer", "minimum": 1, "maximum": 5},
            "b": {"type": "array", "maxItems": 2, "items": {"type": "string", "enum": ["x", "y"]}},
            "c": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 3}},
            "d": {"x-kubernetes-int-or-string": True, "pattern": "^[0-9]+%?$"},
            "e": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {"k": {"type": "string"}},
            },
            "f": {
                "type": "object",
                "properties": {"g": {"type": "string", "default": "z", "minLength": 1}},
                "required": ["g"],
            },
        },
    }
    assert _errors({"a": 3, "b": ["x"], "c": {"k": "abc"}, "d": 10, "e": {"other": 1}, "f": {}}, schema) == []
    errs = _errors({"b": ["x", "z", "y"], "c": {"k": "abcd"}, "d": "ten", "extra": 1, "f": {"g": ""}}, schema)
    assert errs == [
        "a: Required value",
        "b: Too many: 3: must have at most 2 items",
        'b[1]: Unsupported value: "z": supported values: "x", "y"',
        "c[k]: Too long: may not be more than 3 bytes",
        "d: Invalid value: \"ten\": d in body should match '^[0-9]+%?$'",
        'f.g: Invalid value: "": f.g in body should be at least 1 chars long',
        'extra: unknown field "extra" (not declared in the schema)',
    ]
    assert _errors({"a": "3"}, schema) == ['a: Invalid value: "string": a in body must be of type integer: "3"']
    assert _errors({"a": 9}, schema) == ["a: Invalid value: 9: a in body should be less than or equal to 5"]
    assert _errors({"a": 1, "d": True}, schema) == [
        "d: Invalid value: True: d in body must be of type integer or string"
    ]


def test_validator_reports_paths_like_the_api_server_against_the_real_crd(reference):
    obj = templates.get("inference").build()[0]
    obj["spec"]["template"]["spec"]["requirements"][2]["operator"] = "Equals"
    obj["spec"]["template"]["spec"]["requirements"].append(
        {"key": "karpenter.sh/nodepool", "operator": "In", "values": ["x"]}
    )
    obj["spec"]["template"]["spec"]["taints"][0]["effect"] = "Sometimes"
    obj["spec"]["disruption"]["budgets"] = [{"nodes": "120%"}, {"nodes": "1", "schedule": "@daily"}]
    obj["spec"]["limits"]["cpu"] = "a lot"
    obj["spec"]["weight"] = 0
    errs = [str(e) for e in validate_manifest(obj, _crd(reference, "v1")).errors]
    assert (
        'spec.template.spec.requirements[2].operator: Unsupported value: "Equals": supported values: "Gte", '
        '"Lte", "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"' in errs
    )
    assert 'spec.template.spec.requirements[4].key: Invalid value: label "karpenter.sh/nodepool" is restricted' in errs
    assert any(e.startswith('spec.template.spec.taints[0].effect: Unsupported value: "Sometimes"') for e in errs)
    assert any(e.startswith('spec.disruption.budgets[0].nodes: Invalid value: "120%"') for e in errs)
    assert "spec.disruption.budgets: Invalid value: 'schedule' must be set with 'duration'" in errs
    assert any(e.startswith('spec.limits[cpu]: Invalid value: "a lot"') for e in errs)
    assert "spec.weight: Invalid value: 0: spec.weight in body should be greater than or equal to 1" in errs


def test_transition_rules_only_on_update(reference):
    crd = _crd(reference, "v1")
    new = templates.get("inference").build()[0]
    old = json.loads(json.dumps(new))
    new["spec"]["template"]["spec"]["nodeClassRef"]["group"] = "example.com"
    assert validate_manifest(new, crd).errors == []
    errs = [str(e) for e in validate_manifest(new, crd, old=old).errors]
    assert errs == ["spec.template.spec.nodeClassRef: Invalid value: nodeClassRef.group is immutable"]


def test_unimplemented_cel_rules_are_left_to_the_server():
    schema = {"type": "object", "x-kubernetes-validations": [{"rule": "self.x.matches('^a')", "message": "starts a"}]}
    report = validate({"x": "b"}, schema)
    assert report.errors == [] and report.unchecked == [("", "starts a")]


def test_v1beta1_objects_against_the_v1beta1_crd(reference):
    crd = _crd(reference, "v1beta1")
    from gputui.sim.scenario_build import build

    docs = [d for d in build("karpenter-v1beta1") if d.get("kind") == "NodePool"]
    assert len(docs) == 3
    for d in docs:
        assert validate_manifest(d, crd).errors == [], d["metadata"]["name"]
    # The same objects are not v1 NodePools.
    as_v1 = dict(docs[0], apiVersion="karpenter.sh/v1")
    errs = [str(e) for e in validate_manifest(as_v1, _crd(reference, "v1")).errors]
    assert (
        'spec.disruption.expireAfter: unknown field "spec.disruption.expireAfter" (not declared in the schema)' in errs
    )


def test_permissive_schemas_are_recognised(request):
    compact = yaml.safe_load(
        (
            Path(__file__).resolve().parents[2]
            / "gputui"
            / "sim"
            / "crds"
            / "karpenter"
            / "v1"
            / "karpenter.sh_nodepools.yaml"
        ).read_text()
    )
    assert is_permissive(version_schema(compact, "v1"))
    result = validate_manifest(dict(templates.get("inference").build()[0], spec={"weight": 0}), compact)
    assert result.source.startswith("gputui's built-in NodePool rules (the installed nodepools.karpenter.sh CRD")
    assert "spec.template: Required value" in [str(e) for e in result.errors]
    assert not is_permissive(version_schema(_crd(request.getfixturevalue("reference"), "v1"), "v1"))


# -- draft checks ------------------------------------------------------------------------------


def _draft_codes(objs: list[dict]) -> list[tuple[str, str]]:
    from checks.nodepool_draft import mark_draft

    snap = ClusterSnapshot.from_manifests([mark_draft(o) if o["kind"] == "NodePool" else o for o in objs])
    selected = [c for c in REGISTRY.all() if c.scope == "nodepool-draft"]
    return sorted((f.code, f.subject.name) for f in run_checks(snap, selected))


def test_draft_checks_fire_on_what_they_describe():
    d = NodePoolDraft(templates.get("training").build("llm-train")[0])
    assert _draft_codes([d.obj]) == []
    d.set_text("capacity_types", "spot, on-demand")
    d.set_text("taints", "")
    d.set_text("limit_gpu", "")
    assert _draft_codes([d.obj]) == [("GPU601", "llm-train"), ("GPU602", "llm-train"), ("GPU603", "llm-train")]
    d.set_text("taints", "example.com/gpu=true:NoSchedule")
    d.set_text("limit_gpu", "16")
    d.set_text("gpu_names", "a10")  # a typo: no such GPU name
    assert _draft_codes([d.obj]) == [("GPU601", "llm-train"), ("GPU604", "llm-train"), ("GPU605", "llm-train")]
    d.set_text("gpu_names", "a100")
    d.set_text("arch", "arm64")
    assert ("GPU604", "llm-train") in _draft_codes([d.obj])


def test_operand_taint_check_uses_the_clusterpolicy():
    np = templates.get("inference").build("p")[0]
    np["spec"]["template"]["spec"]["taints"] = [{"key": "team", "value": "ml", "effect": "NoSchedule"}]
    cp = {
        "apiVersion": "nvidia.com/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "cluster-policy"},
        "spec": {"daemonsets": {"tolerations": [{"key": "team", "operator": "Exists"}]}},
    }
    assert ("GPU605", "p") in _draft_codes([np])  # chart default: nvidia.com/gpu only
    assert ("GPU605", "p") not in _draft_codes([np, cp])


def test_draft_checks_are_listed_and_quiet_on_the_healthy_scenario(capsys):
    assert main(["checks", "list", "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    codes = {r["code"]: r for r in rows}
    for code in ("GPU601", "GPU602", "GPU603", "GPU604", "GPU605", "GPU606", "GPU607", "GPU608", "GPU609"):
        assert codes[code]["area"] == "nodepool", code
    assert main(["diagnose", "--from", "healthy", "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [f for f in doc["findings"] if f["code"].startswith("GPU6")] == []


def test_healthy_nodepools_as_drafts_raise_nothing():
    from checks.kinds import to_dict
    from gputui.nodepool.preview import draft_findings
    from tests.helpers.sim import scenario_snapshot

    snap = scenario_snapshot("healthy")
    for np in snap.nodepools:
        d = to_dict(np)
        d.update(apiVersion="karpenter.sh/v1", kind="NodePool")
        assert [(f.code, f.message) for f in draft_findings(snap, d)] == [], np.metadata.name


def test_v1beta1_scenario_is_shown_with_its_v1_changes(capsys):
    main(["diagnose", "--from", "karpenter-v1beta1", "-o", "json", "--check", "GPU607"])
    doc = json.loads(capsys.readouterr().out)
    found = {f["subject"]["name"]: f for f in doc["findings"]}
    assert set(found) == {"general", "gpu-inference", "gpu-training"}
    assert (
        "spec.disruption.consolidationPolicy: WhenUnderutilized → WhenEmptyOrUnderutilized"
        in found["gpu-inference"]["evidence"]
    )


# -- preview on a scenario ------------------------------------------------------------------------


def test_preview_on_the_incident_snapshot():
    from checks.kinds import to_dict
    from tests.helpers.sim import scenario_snapshot

    snap = scenario_snapshot("incident")
    np = next(n for n in snap.nodepools if n.metadata.name == "gpu-inference")
    d = NodePoolDraft(dict(to_dict(np), apiVersion="karpenter.sh/v1", kind="NodePool"))
    d.set_text("taints", "nvidia.com/gpu=true:NoSchedule, team=ml:NoExecute")
    p = build_preview(d.obj, snap)
    codes = sorted(f.code for f in p.findings)
    assert codes == ["GPU605", "GPU606", "GPU606"]
    unfit = {f.related[0].name: f.message for f in p.findings if f.code == "GPU606"}
    assert set(unfit) == {"llm-chat", "sdxl-image-gen"}
    assert "taint team=ml:NoExecute is not tolerated" in unfit["llm-chat"]
    gpu = next(line for line in p.limits if line.resource == "nvidia.com/gpu")
    assert gpu.used == "31" and "31 in use, 33 left" in gpu.text


# -- CLI ---------------------------------------------------------------------------------------------


def test_templates_command_puts_the_name_first(capsys):
    assert main(["nodepool", "templates"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(templates.TEMPLATES)
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_new_prints_yaml_with_the_given_name(capsys):
    assert main(["nodepool", "new", "--template", "spot-inference", "--name", "edge-gpu", "-o", "yaml"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["metadata"]["name"] for d in docs] == ["edge-gpu"]


def test_new_errors(capsys):
    assert main(["nodepool", "new", "--template", "nope", "-o", "yaml"]) == 5
    assert "unknown NodePool template: nope" in capsys.readouterr().err
    assert main(["nodepool", "new", "--template", "tiered-spot"]) == 5
    assert "defines 3 NodePools" in capsys.readouterr().err
    assert main(["nodepool", "new", "--template", "inference", "--name", "Bad_Name", "-o", "yaml"]) == 2


BAD = """\
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: gpu-train-spot}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: missing}
      requirements:
      - {key: karpenter.sh/capacity-type, operator: In, values: [spot]}
      - {key: karpenter.k8s.aws/instance-gpu-name, operator: In, values: [a100]}
      - {key: kubernetes.io/arch, operator: Equals, values: [amd64]}
  disruption: {consolidationPolicy: WhenEmpty, consolidateAfter: 5m}
  limits: {nvidia.com/gpu: "16"}
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: gpu}
spec: {amiSelectorTerms: [{alias: al2023@latest}], role: r}
"""


def test_lint_bad_file(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text(BAD)
    code = main(["nodepool", "lint", str(f), "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    got = {f["code"]: f for f in doc["findings"]}
    # An unknown operator matches no instance type, hence GPU604 as well.
    assert set(got) == {"GPU601", "GPU602", "GPU604", "GPU608", "GPU609"}
    assert 'spec.template.spec.requirements[2].operator: Unsupported value: "Equals"' in got["GPU608"]["message"]
    assert got["GPU608"]["evidence"][-1] == f"in {f} (document 1)"
    assert "EC2NodeClass missing" in got["GPU609"]["message"]
    # Warnings alone pass unless --fail-on says otherwise.
    f.write_text(BAD.replace("Equals", "In").replace("name: missing", "name: gpu"))
    assert main(["nodepool", "lint", str(f)]) == 0
    out = capsys.readouterr().out
    assert "GPU601" in out and "GPU602" in out
    assert out.startswith("gputui nodepool lint")
    assert main(["nodepool", "lint", str(f), "--fail-on", "warning", "-o", "markdown"]) == 1
    assert capsys.readouterr().out.startswith("## gputui nodepool lint: ")


def test_lint_good_directory_and_crd_option(tmp_path, capsys, reference):
    for name in ("inference", "training"):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(templates.get(name).build()[0]))
    (tmp_path / "notes.txt").write_text("not a manifest")
    crd = reference / "karpenter/crds/v1/karpenter.sh_nodepools.yaml"
    assert main(["nodepool", "lint", str(tmp_path), "--crd", str(crd), "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


@pytest.mark.parametrize(
    "content,message",
    [
        ("a: [\n", "YAML syntax error"),
        ("- just\n- a list\n", "must be a mapping"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "no NodePool or EC2NodeClass"),
    ],
)
def test_lint_bad_input_exit_5(tmp_path, capsys, content, message):
    f = tmp_path / "in.yaml"
    f.write_text(content)
    assert main(["nodepool", "lint", str(f)]) == 5
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_lint_missing_path_exit_5(capsys):
    assert main(["nodepool", "lint", "/nonexistent/np.yaml"]) == 5
    assert "no such file or directory" in capsys.readouterr().err


def test_edit_refuses_read_only(capsys):
    assert main(["nodepool", "edit", "gpu-inference", "--read-only"]) == 2
    assert "not available with --read-only" in capsys.readouterr().err


def test_lint_ec2nodeclass_against_its_crd(tmp_path, capsys, reference):
    crd = reference / "karpenter/crds/v1/karpenter.k8s.aws_ec2nodeclasses.yaml"
    f = tmp_path / "nodeclass.yaml"
    f.write_text("""\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: gpu}
spec:
  role: KarpenterNodeRole-x
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: x}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: x}}]
  blockDeviceMappings:
  - {deviceName: /dev/xvda, ebs: {volumeSize: 200Gi, volumeType: gp9}}
""")
    assert main(["nodepool", "lint", str(f), "--crd", str(crd), "-o", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert finding["code"] == "GPU608" and finding["subject"] == {
        "kind": "EC2NodeClass",
        "namespace": None,
        "name": "gpu",
    }
    assert finding["evidence"][:2] == [
        "spec.amiSelectorTerms: Required value",
        'spec.blockDeviceMappings[0].ebs.volumeType: Unsupported value: "gp9": supported values: "standard", "io1", '
        '"io2", "gp2", "sc1", "st1", "gp3"',
    ]
    # The scenario's EC2NodeClasses pass the real schema.
    from gputui.sim.scenario_build import build

    scenario = f.parent / "scenario-ec2nodeclasses.yaml"
    scenario.write_text(yaml.safe_dump_all([d for d in build("healthy") if d["kind"] == "EC2NodeClass"]))
    assert main(["nodepool", "lint", str(scenario), "--crd", str(crd), "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_draft_snapshot_reuses_indexes_but_not_the_nodepool_ones():
    from checks.kinds import to_dict
    from checks.nodepool_draft import is_draft
    from gputui.nodepool.preview import draft_snapshot
    from tests.helpers.sim import scenario_snapshot

    snap = scenario_snapshot("incident")
    _ = snap.pods_by_node, snap.nodepool_by_name
    np = snap.nodepool_by_name["gpu-inference"]
    d = dict(to_dict(np), apiVersion="karpenter.sh/v1", kind="NodePool")
    d["spec"]["weight"] = 77
    draft = draft_snapshot(snap, d)
    assert draft.pods_by_node is snap.pods_by_node
    assert draft.nodepool_by_name["gpu-inference"].spec["weight"] == 77
    assert is_draft(draft.nodepool_by_name["gpu-inference"]) and not is_draft(np)
    assert snap.nodepool_by_name["gpu-inference"].spec["weight"] == 50
    assert len(draft.nodepools) == len(snap.nodepools)


def test_bare_nodepool_command_shows_its_own_usage(capsys):
    assert main(["nodepool"]) == 2
    assert capsys.readouterr().err.startswith("usage: gputui nodepool")


def test_live_nodepools_without_the_gpu_operator_are_not_judged_for_operand_taints():
    np = templates.get("inference").build("p")[0]
    np["spec"]["template"]["spec"]["taints"] = [{"key": "team", "value": "ml", "effect": "NoSchedule"}]
    snap = ClusterSnapshot.from_manifests([np])
    assert [f.code for f in run_checks(snap, [REGISTRY.find("GPU605")])] == []
    assert _draft_codes([np]).count(("GPU605", "p")) == 1  # as a draft or a file it is warned about


def test_last_and_next_hits_over_long_spans():
    c = Cron.parse("30 2 29 2 *")  # 02:30 on 29 February only
    at = dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert c.last_hit(at, dt.timedelta(days=3 * 366)) == dt.datetime(2024, 2, 29, 2, 30, tzinfo=UTC)
    assert c.last_hit(at, dt.timedelta(days=366)) is None
    assert c.next_hit(at, dt.timedelta(days=4 * 366)) == dt.datetime(2028, 2, 29, 2, 30, tzinfo=UTC)
    weekly = Cron.parse("@weekly")
    assert weekly.last_hit(at, dt.timedelta(days=7)) == dt.datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    assert budget_active("@weekly", "8760h", at)


def test_instance_table_fits_the_preview_pane_and_names_the_chip():
    from gputui.nodepool import templates
    from gputui.nodepool.preview import build_preview, instance_table

    (np,) = [o for o in templates.get("training").build("t") if o["kind"] == "NodePool"]
    p = build_preview(np)
    lines = instance_table(p.instance_types, p.capacity_types)
    assert max(len(line) for line in lines) <= 70
    assert lines[1].split()[:3] == ["p4d.24xlarge", "A100", "8"]
