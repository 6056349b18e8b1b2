"""The Karpenter/EC2 recognition rules on generated variations of the real wordings: other
names, zones, numbers, case and line breaks, so a rule reads the text rather than one example."""

from __future__ import annotations

import random

import pytest

from checks.event_messages import parse_nodeclaim_event, split_ice_zones
from checks.recognise import REMEDIES, recognise

RNG = random.Random(7)
REGIONS = ["us-west-2", "us-east-1", "eu-west-3", "ap-southeast-2", "eu-central-1", "ca-central-1"]
TYPES = ["g5.xlarge", "g6e.12xlarge", "p4d.24xlarge", "p5.48xlarge", "g4dn.2xlarge", "p3.8xlarge", "g6.4xlarge"]
NAMES = ["gpu-a1b2c", "training-x9y8z", "default-uswest2aprod-mf7bc", "inference-7q2w3"]

ICE = (
    "InsufficientInstanceCapacity: We currently do not have sufficient {t} capacity in the Availability Zone you "
    "requested ({bad}). Our system will be working on provisioning additional capacity. You can currently get {t} "
    "capacity by not specifying an Availability Zone in your request or choosing {good}."
)
PREFIXES = [
    "",
    "creating instance, insufficient capacity, with fleet error(s), ",
    "NodeClaim {nc} event: insufficient capacity, with fleet error(s), ",
    "launching nodeclaim, creating instance, ",
    "An error occurred (InsufficientInstanceCapacity) when calling the RunInstances operation: ",
]


def _zones(region: str, k: int) -> list[str]:
    return [f"{region}{c}" for c in RNG.sample("abcdef", k)]


def _wrap(text: str) -> str:
    """Break the text at a few spaces, as terminals and issue pastes do."""
    words = text.split(" ")
    for i in RNG.sample(range(1, len(words)), min(3, len(words) - 1)):
        words[i] = "\n" + words[i]
    return " ".join(words).replace(" \n", "\n")


def _ice_cases(n: int = 60):
    for i in range(n):
        region = RNG.choice(REGIONS)
        zones = _zones(region, RNG.randint(2, 5))
        bad, good = zones[0], zones[1:]
        text = RNG.choice(PREFIXES).format(nc=RNG.choice(NAMES)) + ICE.format(
            t=RNG.choice(TYPES), bad=bad, good=", ".join(good)
        )
        if i % 3 == 1:
            text = _wrap(text)
        if i % 5 == 2:
            text = text.replace("Availability Zone", "availability zone").replace("choosing", "Choosing")
        yield pytest.param(text, bad, good, id=f"ice-{i}")


@pytest.mark.parametrize(("text", "bad", "good"), list(_ice_cases()))
def test_ice_reads_the_failed_zone_apart_from_the_suggested_ones(text, bad, good):
    rec = recognise(text)
    assert rec is not None and rec.family == "ec2-capacity" and rec.remedy == "widen-capacity-options"
    assert rec.facts["zones_failed"] == [bad]
    assert rec.facts["zones_suggested"] == good
    assert bad in rec.headline  # the key token survives in the headline
    ev = parse_nodeclaim_event(text)
    assert (ev.zones_failed, ev.zones_suggested) == ([bad], good)


def test_ice_with_several_fleet_errors_counts_a_zone_that_failed_once_as_failed():
    a, b, c = "us-west-2a", "us-west-2b", "us-west-2c"
    text = ICE.format(t="p5.48xlarge", bad=a, good=f"{b}, {c}") + "; " + ICE.format(t="p5.48xlarge", bad=b, good=a)
    assert split_ice_zones(text) == ([a, b], [c])


@pytest.mark.parametrize(
    ("template", "remedy", "fact"),
    [
        (
            "VcpuLimitExceeded: You have requested more vCPU capacity than your current vCPU limit of {n} allows "
            "for the instance bucket that the specified instance type belongs to.",
            "raise-vcpu-quota",
            "vcpu_limit",
        ),
        ("MaxSpotInstanceCountExceeded: Max spot instance count exceeded", "raise-spot-quota", None),
        (
            "InsufficientFreeAddressesInSubnet: There are not enough free addresses in subnet 'subnet-0{n}abc' "
            "to satisfy the requested number of instances.",
            "free-subnet-addresses",
            "subnet",
        ),
        ("insufficient capacity, all requested instance types were unavailable during launch", None, None),
        ("UnfulfillableCapacity: Unable to fulfill capacity due to your request configuration.", None, None),
    ],
)
def test_capacity_and_quota_wordings(template, remedy, fact):
    for n in (8, 64, 1536):
        for text in (template.format(n=n), template.format(n=n).upper(), _wrap(template.format(n=n))):
            rec = recognise(f"NodeClaim gpu-x event: {text}")
            assert rec is not None and rec.family == "ec2-capacity", text
            assert rec.remedy == (remedy or "widen-capacity-options")
            if fact == "vcpu_limit":
                assert rec.facts[fact] == n
            elif fact == "subnet":
                assert rec.facts[fact] == f"subnet-0{n}abc"


@pytest.mark.parametrize(
    ("text", "remedy", "subject"),
    [
        (
            "UnauthorizedOperation: You are not authorized to perform this operation. User: "
            "arn:aws:sts::123456789012:assumed-role/{x}/1768 is not authorized to perform: ec2:RunInstances on "
            "resource: arn:aws:ec2:us-east-1:123456789012:instance/*. Encoded authorization failure message: zz",
            "fix-controller-iam",
            "IAMRole/{x}",
        ),
        (
            "UnauthorizedOperation: You are not authorized to perform this operation. User: "
            "arn:aws:sts::123456789012:assumed-role/{x}/1 is not authorized to perform: ec2:CreateFleet with an "
            "explicit deny in a service control policy",
            "lift-scp-deny",
            "ServiceControlPolicy",
        ),
        (
            "InvalidParameterValue: Value ({x}) for parameter iamInstanceProfile.name is invalid. Invalid IAM "
            "Instance Profile name; UnfulfillableCapacity: Unable to fulfill capacity due to your request "
            "configuration.",
            "fix-instance-profile",
            "EC2NodeClass",
        ),
        ("no amis exist given constraints", "fix-ami-selector", "EC2NodeClass"),
        ("InvalidAMIID.NotFound: The image id '[ami-0abc{n}def]' does not exist", "fix-ami-selector", "EC2NodeClass"),
        (
            "creating instance, getting launch template configs, getting launch templates, no instance types "
            "satisfy requirements of amis [ami-0{n}aa]",
            "match-ami-to-instance-types",
            "EC2NodeClass",
        ),
        ("no subnets found", "fix-subnet-selector", "EC2NodeClass"),
        ("InvalidSubnetID.NotFound: The subnet ID 'subnet-{n}' does not exist", "fix-subnet-selector", "EC2NodeClass"),
        (
            "InvalidGroup.NotFound: The security group 'sg-{n}' does not exist",
            "fix-security-group-selector",
            "EC2NodeClass",
        ),
        (
            "no subnets exist given constraints; no security groups exist given constraints",
            "fix-nodeclass-selectors",
            "EC2NodeClass",
        ),
    ],
)
def test_launch_failures_name_the_object_to_fix(text, remedy, subject):
    for x, n in (("KarpenterController-ml", 7), ("karpenter-irsa", 123456), ("abc", 42)):
        t = text.format(x=x, n=n)
        for variant in (t, _wrap(t), f"Launched=False LaunchFailed: {t}"):
            rec = recognise(variant)
            assert rec is not None and rec.family == "launch-failure", variant
            assert rec.remedy == remedy and rec.subject == subject.format(x=x), variant
            assert "EC2NodeClass" in REMEDIES[remedy] or "IAM" in REMEDIES[remedy] or "policy" in REMEDIES[remedy]


@pytest.mark.parametrize(
    ("text", "subject", "remedy"),
    [
        (
            "Status condition transitioned, Type: Ready, Status: True -> Unknown, Reason: AwaitingReconciliation, "
            "Message: object is awaiting reconciliation",
            "NodePool",
            "check-karpenter-controller",
        ),
        ("NodeClassReadinessUnknown: Node Class Readiness Unknown", "EC2NodeClass", "check-nodeclass-conditions"),
        ("UnhealthyDependents: AMIsReady=Unknown", "EC2NodeClass", "check-nodeclass-conditions"),
    ],
)
def test_readiness_unknown(text, subject, remedy):
    for variant in (text, text.lower(), _wrap(text)):
        rec = recognise(variant)
        assert rec is not None and rec.family == "readiness-unknown"
        assert (rec.subject, rec.remedy) == (subject, remedy)


@pytest.mark.parametrize("name", NAMES)
def test_vanished_nodeclaim_names_it(name):
    for text, remedy in (
        (f"Pod should schedule on: nodeclaim/{name}", "check-vanished-nodeclaim"),
        (f"Pod should schedule on: nodeclaim/{name}, node/ip-10-0-1-2.ec2.internal", "check-vanished-nodeclaim"),
        (f'nodeclaims.karpenter.sh "{name}" not found', "check-vanished-nodeclaim"),
        (
            f'{{"message":"terminating due to registration ttl","NodeClaim":{{"name":"{name}"}},"ttl":"15m0s"}}',
            "fix-node-registration",
        ),
    ):
        rec = recognise(text)
        assert rec is not None and rec.family == "vanished-nodeclaim", text
        assert rec.subject == f"NodeClaim/{name}" and rec.remedy == remedy
        assert rec.facts["nodeclaim"] == name


@pytest.mark.parametrize("kind", ["Node", "NodeClaim"])
@pytest.mark.parametrize(
    ("body", "subject", "remedy"),
    [
        ('Pod "{ns}/{n}" has "karpenter.sh/do-not-disrupt" annotation', "Pod/{ns}/{n}", "allow-pod-disruption"),
        ('PDB "{ns}/{n}" prevents pod evictions', "PodDisruptionBudget/{ns}/{n}", "relax-pdb"),
        ("state node isn't initialized", "NodeClaim", "finish-node-initialization"),
        ("nodeclaim does not have an associated node", "NodeClaim", "finish-node-initialization"),
        (
            'Disruption is blocked with the "karpenter.sh/do-not-disrupt" annotation',
            "{kind}",
            "remove-node-do-not-disrupt",
        ),
    ],
)
def test_disruption_blocked(kind, body, subject, remedy):
    for ns, n in (("ml", "train-0"), ("kube-system", "coredns-pdb"), ("team-a", "notebook-7f9c4")):
        text = f"Cannot disrupt {kind}: " + body.format(ns=ns, n=n)
        rec = recognise(text)
        assert rec is not None and rec.family == "disruption", text
        assert (rec.subject, rec.remedy) == (subject.format(ns=ns, n=n, kind=kind), remedy)


@pytest.mark.parametrize(
    ("text", "remedy"),
    [
        ("Can't replace with a cheaper node", "accept-or-resize"),
        ("Can't remove without creating 2 candidates", "accept-or-resize"),
        (
            'NodePool "gpu-training" has consolidation policy WhenEmpty, but node is not empty',
            "use-when-empty-or-underutilized",
        ),
        ('not all pods would schedule, ml/x => incompatible with nodepool "gpu"', "make-pods-reschedulable"),
        (
            "No allowed disruptions for disruption reason Underutilized due to blocking budget",
            "widen-disruption-budget",
        ),
    ],
)
def test_unconsolidatable(text, remedy):
    for variant in (text, text.upper(), _wrap(text)):
        rec = recognise(variant)
        assert rec is not None and rec.family == "disruption" and rec.remedy == remedy, variant


@pytest.mark.parametrize(
    "text",
    [
        "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
        "Failed to schedule pod, would schedule against uninitialized nodeclaim/gpu-abcde, node/ip-1",
        "Successfully assigned ml/x to ip-10-0-1-2.ec2.internal",
        "Status condition transitioned, Type: Ready, Status: Unknown -> True, Reason: Ready",
        "Disrupting Node: Underutilized/Delete",
        "launched nodeclaim",
        "poddisruptionbudget.policy/llm-chat created",
        "Disruption budget for NodePool gpu allows 2 disruptions",
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    ],
)
def test_texts_of_other_families_or_healthy_states_are_not_read_as_karpenter_failures(text):
    rec = recognise(text)
    mine = ("ec2-capacity", "launch-failure", "readiness-unknown", "vanished-nodeclaim", "disruption")
    assert rec is None or rec.family not in mine, (text, rec)


def test_rules_never_raise_on_noise():
    alphabet = "abc \n\t\"'{}[]():;,./\\-_=>0123456789ÄΩ漢"
    tokens = [
        "nodeclaim/",
        "Pod should schedule on:",
        'PDB "',
        "Value (",
        "iamInstanceProfile",
        "choosing ",
        "Availability Zone you requested (",
        "subnet-",
        "assumed-role/",
        "do-not-disrupt",
        "-> Unknown",
    ]
    for _ in range(400):
        parts = [
            RNG.choice(tokens) if RNG.random() < 0.4 else "".join(RNG.choices(alphabet, k=RNG.randint(0, 12)))
            for _ in range(RNG.randint(1, 12))
        ]
        recognise("".join(parts))  # must not raise
    recognise("x" * 200_000 + "InsufficientInstanceCapacity")
