"""Recognition rules for EC2 capacity, launch failures, readiness Unknown, vanished NodeClaims and disruption texts (Karpenter, EC2).

Registered with `checks.recognise.rule`; see that module for the vocabulary.

Each family has one rule: it lowercases the text once, returns None at once when none
of the family's key tokens occurs (rules run on every event of a large cluster), and
then reads the cause, the object to change and the facts. Launch failures are tried
before capacity, since EC2 appends "UnfulfillableCapacity" to other errors (a bad
instance profile reads "InvalidParameterValue ...; UnfulfillableCapacity ...").

Facts, by name:
    error_code       the EC2 error code (InsufficientInstanceCapacity, VcpuLimitExceeded, ...)
    zones_failed     zones EC2 had no capacity in ("the Availability Zone you requested (x)")
    zones_suggested  zones EC2 offers instead ("or choosing y, z"), failed ones left out
    instance_types   instance types the text names
    subnet           the subnet id the text names
    vcpu_limit       the account's vCPU limit the text names
    action           the IAM action refused (ec2:CreateFleet)
    role             the IAM role the refused call came from
    instance_profile the instance profile value EC2 refused; profile_is_arn when an ARN
    amis             AMI ids the text names
    nodeclaim        the NodeClaim the text names
    pdb / pod        the PodDisruptionBudget or pod that blocks disruption (namespace/name)
"""

from __future__ import annotations

import functools
import re

from checks.event_messages import parse_nodeclaim_event, parse_nominated
from checks.recognise import Recognition, mentions, recognition, remedy, rule

# -- remedies -----------------------------------------------------------------------

WIDEN_CAPACITY = remedy(
    "widen-capacity-options",
    "NodePool: allow more GPU instance types of the same GPU count, the zones EC2 suggests and "
    "both spot and on-demand (or buy an On-Demand Capacity Reservation); check the NodePool's "
    "instance-type, zone and capacity-type requirements",
)
RAISE_VCPU_QUOTA = remedy(
    "raise-vcpu-quota",
    "Service Quotas: request a higher EC2 vCPU quota for this instance family (Running On-Demand "
    "G and VT / P instances, or the Spot equivalent); retries fail until the quota is raised",
)
RAISE_INSTANCE_QUOTA = remedy(
    "raise-instance-quota",
    "Service Quotas: the account reached its instance limit for this type; request a higher limit "
    "or let the NodePool use other instance types",
)
RAISE_SPOT_QUOTA = remedy(
    "raise-spot-quota",
    "Service Quotas: the account reached its Spot instance quota; request more Spot vCPUs, or let the "
    "NodePool also launch on-demand (karpenter.sh/capacity-type In [spot, on-demand])",
)
FREE_SUBNET_ADDRESSES = remedy(
    "free-subnet-addresses",
    "EC2NodeClass subnetSelectorTerms: the subnet has no free IP addresses; select more or larger "
    "subnets (check AvailableIpAddressCount), or lower the VPC CNI warm-IP settings",
)
PLAN_SPOT_INTERRUPTION = remedy(
    "plan-for-spot-interruption",
    "NodePool: EC2 reclaimed the Spot instance (2-minute notice); run GPU jobs that cannot be "
    "interrupted on on-demand or reserved capacity, and checkpoint the rest",
)
FIX_CONTROLLER_IAM = remedy(
    "fix-controller-iam",
    "Karpenter controller IAM role: allow the EC2 action the text names (ec2:CreateFleet, "
    "ec2:RunInstances, ec2:CreateLaunchTemplate, iam:PassRole, ...) and look for explicit denies "
    "(permission boundary, SCP); decode the message with `aws sts decode-authorization-message`",
)
LIFT_SCP_DENY = remedy(
    "lift-scp-deny",
    "AWS Organizations service control policy: an SCP denies the action for this account; ask the "
    "organization admins to exempt the Karpenter controller role (tags, regions, instance types)",
)
FIX_INSTANCE_PROFILE = remedy(
    "fix-instance-profile",
    "EC2NodeClass spec.role / spec.instanceProfile: the instance profile must exist in this account "
    "and region and be given by name, not ARN; check the node role and Karpenter's iam:PassRole on it",
)
FIX_AMI_SELECTOR = remedy(
    "fix-ami-selector",
    "EC2NodeClass spec.amiSelectorTerms: the selector (alias, id, name, tags, owner) resolves no AMI "
    "in this account and region; use an alias such as al2023@latest or check the AMI exists and is shared",
)
MATCH_AMI_TO_TYPES = remedy(
    "match-ami-to-instance-types",
    "EC2NodeClass spec.amiSelectorTerms: the AMIs found fit none of the NodePool's instance types "
    "(architecture, NVIDIA/accelerated variant); select an AMI for the GPU types or narrow the types",
)
FIX_SUBNET_SELECTOR = remedy(
    "fix-subnet-selector",
    "EC2NodeClass spec.subnetSelectorTerms: the selector matches no subnet (or names one that does not "
    "exist); check the ids and the karpenter.sh/discovery tags on the VPC's subnets",
)
FIX_SG_SELECTOR = remedy(
    "fix-security-group-selector",
    "EC2NodeClass spec.securityGroupSelectorTerms: the selector matches no security group (or names "
    "one that does not exist in this VPC); check the ids and tags",
)
FIX_NODECLASS_SELECTORS = remedy(
    "fix-nodeclass-selectors",
    "EC2NodeClass: the subnet, security-group and AMI selector terms resolve nothing; check the tags "
    "and ids they name, and the region and account Karpenter runs against",
)
FIX_LAUNCH_TEMPLATE = remedy(
    "fix-launch-template",
    "EC2NodeClass (or its launch template): the launch template is missing or incomplete (no AMI); "
    "let Karpenter manage it through amiSelectorTerms instead of a custom template",
)
CHECK_NODECLASS_CONDITIONS = remedy(
    "check-nodeclass-conditions",
    "EC2NodeClass status.conditions: the NodePool waits until its EC2NodeClass is Ready; find the "
    "condition that is not True (SubnetsReady, SecurityGroupsReady, AMIsReady, InstanceProfileReady, "
    "ValidationSucceeded) and fix what it names; pods that need the NodePool stay Pending meanwhile",
)
CHECK_KARPENTER_CONTROLLER = remedy(
    "check-karpenter-controller",
    "Karpenter controller: no controller has reconciled this object's current generation; check the "
    "controller pods run and lead, and their logs for this object; while Ready is Unknown the "
    "NodePool launches nothing",
)
CHECK_VANISHED_NODECLAIM = remedy(
    "check-vanished-nodeclaim",
    "NodeClaim named in the text: if it no longer exists, read its events "
    "(InsufficientCapacityError: no capacity; launch errors: the EC2NodeClass; registration TTL: the "
    "node never joined), fix that cause; Karpenter nominates the pods to a new NodeClaim",
)
FIX_NODE_REGISTRATION = remedy(
    "fix-node-registration",
    "NodeClaim's instance never joined the cluster within the 15-minute registration TTL; check the "
    "instance console output, the EC2NodeClass user data and AMI, the node role's access entry and "
    "the cluster endpoint and security groups",
)
ALLOW_POD_DISRUPTION = remedy(
    "allow-pod-disruption",
    'Pod annotation karpenter.sh/do-not-disrupt: "true" blocks voluntary disruption of its node; remove '
    "it once the work may be interrupted, or set the NodePool's terminationGracePeriod so expiry still drains",
)
REMOVE_NODE_DO_NOT_DISRUPT = remedy(
    "remove-node-do-not-disrupt",
    "Node/NodeClaim annotation karpenter.sh/do-not-disrupt blocks its disruption; remove it when the node "
    "may be replaced (an idle GPU node that keeps it is billed until then)",
)
RELAX_PDB = remedy(
    "relax-pdb",
    "PodDisruptionBudget named in the text allows no eviction now; raise maxUnavailable or lower "
    "minAvailable (or add replicas) so the node can drain",
)
FINISH_INITIALIZATION = remedy(
    "finish-node-initialization",
    "NodeClaim/Node: Karpenter disrupts only initialized nodes; find why the node did not initialize "
    "(no Node object, nvidia.com/gpu not registered, startup taint left) -- until then it is billed "
    "and never consolidated",
)
ACCEPT_OR_RESIZE = remedy(
    "accept-or-resize",
    "NodePool: consolidation found no cheaper or fewer nodes for these pods; nothing is wrong unless "
    "the GPU node is mostly idle, then allow smaller GPU instance types or fix the pods' requests",
)
PODS_WOULD_NOT_SCHEDULE = remedy(
    "make-pods-reschedulable",
    "NodePool: consolidation would leave pods that fit no other node or NodePool; widen a NodePool "
    "for them (requirements, taints, limits) or accept that this node stays",
)
USE_UNDERUTILIZED_POLICY = remedy(
    "use-when-empty-or-underutilized",
    "NodePool spec.disruption.consolidationPolicy WhenEmpty reclaims only empty nodes; use "
    "WhenEmptyOrUnderutilized so underused GPU nodes are reclaimed too",
)
WIDEN_DISRUPTION_BUDGET = remedy(
    "widen-disruption-budget",
    "NodePool spec.disruption.budgets allows no disruption now (nodes: 0, or outside its schedule); "
    "widen the budget or wait for its window",
)


# -- helpers ------------------------------------------------------------------------

_SUBNET_RE = re.compile(r"\b(subnet-[0-9a-z*]+)", re.I)
_AMI_RE = re.compile(r"\b(ami-[0-9a-f]{6,})\b", re.I)
_ACTION_RE = re.compile(
    r"(?:not\s+authorized\s+to\s+perform:?|authorized\s+to\s+call)\s+([a-z0-9-]+:[A-Za-z0-9]+)", re.I
)
_ROLE_RE = re.compile(r"assumed-role/([^/\s\"]+)/")
_PROFILE_RE = re.compile(r"value\s*\(([^)]*)\)\s*for\s+parameter\s+iaminstanceprofile", re.I)
_VCPU_LIMIT_RE = re.compile(r"vcpu\s+limit\s+of\s+(\d+)", re.I)
_NODECLAIM_JSON_RE = re.compile(r'"nodeclaim"\s*:\s*(?:\{\s*"name"\s*:\s*)?"([a-z0-9.-]+)"', re.I)
_NODECLAIM_NOT_FOUND_RE = re.compile(r'nodeclaims?(?:\.karpenter\.sh)?\s+\\?"?([a-z0-9.-]+)\\?"?\s+not\s+found', re.I)
_NODECLAIM_NAMED_RE = re.compile(r"\bnodeclaim[/\s]+\\?\"?([a-z0-9][a-z0-9.-]*)", re.I)
_PDB_RE = re.compile(r'pdb\s+\\?"([^"\\]+)\\?"|poddisruptionbudget=([\w./-]+)', re.I)
_POD_ANNOTATED_RE = re.compile(r'pod\s+\\?"([^"\\]+)\\?"\s+has\s+\\?"?karpenter\.sh/do-not-disrupt', re.I)
_NODEPOOL_NAMED_RE = re.compile(
    r'nodepool(?:[/\s]+\\?"?|\\?"\s*:\s*\{\s*\\?"name\\?"\s*:\s*\\?")([a-z0-9][a-z0-9.-]*)', re.I
)


@functools.lru_cache(maxsize=16)
def _norm(text: str) -> tuple[str, str]:
    """The text with line breaks and runs of spaces collapsed (as pasted), and its lowercase.

    Every rule of this module reads the same text in turn: normalised once, not five times.
    """
    flat = " ".join(text.split())
    return flat, flat.lower()


# -- ec2-capacity -------------------------------------------------------------------

_CAPACITY_TOKENS = (
    "insufficientinstancecapacity",
    "insufficient capacity",
    "insufficientcapacity",
    "unfulfillablecapacity",
    "unable to fulfill capacity",
    "unavailable during launch",
    "vcpulimitexceeded",
    "vcpu limit",
    "maxspotinstancecountexceeded",
    "max spot instance count",
    "instancelimitexceeded",
    "insufficientfreeaddressesinsubnet",
    "not enough free addresses",
    "spot interruption",
    "spotinterrupt",
    "spot_interrupted",
    "capacity in the availability zone",
)


@rule("ec2-capacity", order=60)
def ec2_capacity(text: str) -> Recognition | None:
    flat, low = _norm(text)
    if not mentions(low, *_CAPACITY_TOKENS):
        return None
    if "insufficientfreeaddressesinsubnet" in low or "not enough free addresses" in low:
        m = _SUBNET_RE.search(flat)
        subnet = m.group(1).lower() if m else None
        return recognition(
            "ec2-capacity",
            "subnet-addresses",
            "EC2NodeClass",
            f"InsufficientFreeAddressesInSubnet: no free IPs in {subnet or 'the subnet'}",
            FREE_SUBNET_ADDRESSES,
            error_code="InsufficientFreeAddressesInSubnet",
            subnet=subnet,
        )
    if "vcpulimitexceeded" in low or ("vcpu limit" in low and "exceed" in low):
        m = _VCPU_LIMIT_RE.search(flat)
        limit = int(m.group(1)) if m else None
        return recognition(
            "ec2-capacity",
            "vcpu-quota",
            "ServiceQuota",
            "VcpuLimitExceeded: EC2 vCPU quota reached" + (f" (limit {limit})" if limit else ""),
            RAISE_VCPU_QUOTA,
            error_code="VcpuLimitExceeded",
            vcpu_limit=limit,
        )
    if "maxspotinstancecountexceeded" in low or "max spot instance count" in low:
        return recognition(
            "ec2-capacity",
            "spot-quota",
            "ServiceQuota",
            "MaxSpotInstanceCountExceeded: Spot instance quota reached",
            RAISE_SPOT_QUOTA,
            error_code="MaxSpotInstanceCountExceeded",
        )
    if "instancelimitexceeded" in low:
        return recognition(
            "ec2-capacity",
            "instance-quota",
            "ServiceQuota",
            "InstanceLimitExceeded: EC2 instance limit reached",
            RAISE_INSTANCE_QUOTA,
            error_code="InstanceLimitExceeded",
        )
    if "spot interruption" in low or "spotinterrupt" in low or "spot_interrupted" in low:
        return recognition(
            "ec2-capacity",
            "spot-interrupted",
            "NodePool",
            "Spot interruption: EC2 reclaims the instance",
            PLAN_SPOT_INTERRUPTION,
        )
    ev = parse_nodeclaim_event(flat)
    code: str | None
    if "insufficientinstancecapacity" in low or "capacity in the availability zone" in low:
        cause, code = "insufficient-instance-capacity", "InsufficientInstanceCapacity"
    elif "unavailable during launch" in low:
        cause, code = "all-types-unavailable", ev.error_code
    elif "unfulfillablecapacity" in low or "unable to fulfill capacity" in low:
        cause, code = "unfulfillable-capacity", "UnfulfillableCapacity"
    else:
        cause, code = "insufficient-capacity", ev.error_code
    where = f" in {', '.join(ev.zones_failed)}" if ev.zones_failed else ""
    instead = f"; EC2 suggests {', '.join(ev.zones_suggested)}" if ev.zones_suggested else ""
    types = ", ".join(ev.instance_types[:4])
    what = {
        "insufficient-instance-capacity": f"InsufficientInstanceCapacity: no {types or 'instance'} capacity{where}",
        "all-types-unavailable": "insufficient capacity: all requested instance types were unavailable",
        "unfulfillable-capacity": "UnfulfillableCapacity: EC2 Fleet could not fill the request",
        "insufficient-capacity": "insufficient capacity for the requested instance types",
    }[cause]
    return recognition(
        "ec2-capacity",
        cause,
        "NodePool",
        what + instead,
        WIDEN_CAPACITY,
        error_code=code,
        zones_failed=ev.zones_failed,
        zones_suggested=ev.zones_suggested,
        instance_types=ev.instance_types,
    )


# -- launch-failure -----------------------------------------------------------------

_LAUNCH_TOKENS = (
    "unauthorized",
    "authorized to",
    "requirements of ami",
    "authorization failure",
    "iaminstanceprofile",
    "instance profile",
    "instanceprofile",
    "amis",
    "ami ",
    "amiidlist",
    "describing images",
    "invalidamiid",
    "no subnets",
    "subnetselector",
    "invalidsubnetid",
    "security groups",
    "securitygroupselector",
    "invalidgroup",
    "launchtemplate",
    "launch template",
)


def _selector_failures(low: str) -> list[str]:
    out = []
    if (
        "no subnets exist" in low
        or "no subnets found" in low
        or "no subnets matched" in low
        or ("subnetselector" in low and "did not match" in low)
        or "invalidsubnetid" in low
    ):
        out.append("subnets")
    if (
        "no security groups exist" in low
        or "no security groups found" in low
        or ("securitygroupselector" in low and "did not match" in low)
        or "invalidgroup.notfound" in low
        or ("security group" in low and "does not exist" in low)
    ):
        out.append("security groups")
    if (
        "no amis exist" in low
        or "no amis found" in low
        or ("amiselector" in low and "did not match" in low)
        or "invalidamiid" in low
        or "failed to discover any amis" in low
        or "failed to discover amis" in low
        or ("describing images" in low and "invalid" in low)
    ):
        out.append("amis")
    return out


@rule("launch-failure", order=50)
def launch_failure(text: str) -> Recognition | None:
    flat, low = _norm(text)
    if not mentions(low, *_LAUNCH_TOKENS):
        return None
    if "unauthorized" in low or "authorized to" in low or "authorization failure" in low:
        m = _ACTION_RE.search(flat)
        action = m.group(1) if m else None
        r = _ROLE_RE.search(flat)
        role = r.group(1) if r else None
        scp = "service control policy" in low
        return recognition(
            "launch-failure",
            "scp-deny" if scp else ("iam-explicit-deny" if "explicit deny" in low else "iam-unauthorized"),
            "ServiceControlPolicy" if scp else (f"IAMRole/{role}" if role else "IAMRole"),
            f"UnauthorizedOperation: Karpenter may not call {action or 'the EC2 API'}"
            + (" (denied by an SCP)" if scp else ""),
            LIFT_SCP_DENY if scp else FIX_CONTROLLER_IAM,
            error_code="UnauthorizedOperation",
            action=action,
            role=role,
        )
    if "iaminstanceprofile" in low or (
        ("instance profile" in low or "instanceprofile" in low)
        and ("not found" in low or "does not exist" in low or "invalid" in low or "notfound" in low)
    ):
        m = _PROFILE_RE.search(flat)
        profile = m.group(1).strip() if m else None
        return recognition(
            "launch-failure",
            "instance-profile",
            "EC2NodeClass",
            "InvalidParameterValue: EC2 refused the instance profile" + (f" {profile}" if profile else ""),
            FIX_INSTANCE_PROFILE,
            error_code="InvalidParameterValue" if "invalidparametervalue" in low else None,
            instance_profile=profile,
            profile_is_arn=True if profile and profile.lower().startswith("arn:") else None,
        )
    if "amiidlist" in low and "empty" in low:
        return recognition(
            "launch-failure",
            "launch-template-without-ami",
            "EC2NodeClass",
            "InvalidParameterValue: the launch template names no AMI (amiIdList empty)",
            FIX_LAUNCH_TEMPLATE,
            error_code="InvalidParameterValue",
        )
    if "no instance types satisfy requirements of ami" in low:
        return recognition(
            "launch-failure",
            "ami-fits-no-instance-type",
            "EC2NodeClass",
            "no instance types satisfy requirements of the AMIs",
            MATCH_AMI_TO_TYPES,
            amis=list(dict.fromkeys(_AMI_RE.findall(flat))),
        )
    bad = _selector_failures(low)
    if len(bad) > 1:
        return recognition(
            "launch-failure",
            "selectors-match-nothing",
            "EC2NodeClass",
            f"EC2NodeClass selectors match no {', '.join(bad)}",
            FIX_NODECLASS_SELECTORS,
        )
    if bad == ["subnets"]:
        m = _SUBNET_RE.search(flat)
        return recognition(
            "launch-failure",
            "subnet-not-found",
            "EC2NodeClass",
            ("InvalidSubnetID.NotFound" if "invalidsubnetid" in low else "no subnets match the subnet selector"),
            FIX_SUBNET_SELECTOR,
            subnet=m.group(1) if m and "invalidsubnetid" in low else None,
        )
    if bad == ["security groups"]:
        return recognition(
            "launch-failure",
            "security-group-not-found",
            "EC2NodeClass",
            "InvalidGroup.NotFound" if "invalidgroup" in low else "no security groups match the selector",
            FIX_SG_SELECTOR,
        )
    if bad == ["amis"]:
        return recognition(
            "launch-failure",
            "ami-not-found",
            "EC2NodeClass",
            "InvalidAMIID.NotFound" if "invalidamiid" in low else "no AMIs match the AMI selector",
            FIX_AMI_SELECTOR,
            amis=list(dict.fromkeys(_AMI_RE.findall(flat))),
        )
    if "invalidlaunchtemplate" in low:
        return recognition(
            "launch-failure",
            "launch-template-not-found",
            "EC2NodeClass",
            "InvalidLaunchTemplate: the launch template does not exist",
            FIX_LAUNCH_TEMPLATE,
        )
    return None


# -- readiness-unknown --------------------------------------------------------------


_READINESS_TOKENS = (
    "awaiting reconciliation",
    "awaitingreconciliation",
    "nodeclassreadinessunknown",
    "unhealthydependents",
    "-> unknown",
    "nodeclass not ready",
    "nodeclass is not ready",
    "nodepool, not ready",
    "nodepool not ready",
)


@rule("readiness-unknown", order=55)
def readiness_unknown(text: str) -> Recognition | None:
    flat, low = _norm(text)
    if not mentions(low, *_READINESS_TOKENS):
        return None
    awaiting = "awaiting reconciliation" in low or "awaitingreconciliation" in low
    if (
        "nodeclassreadinessunknown" in low
        or "unhealthydependents" in low
        or (not awaiting and "nodeclass" in low and "not ready" in low)
    ):
        cause = "unhealthy-dependents" if "unhealthydependents" in low else "nodeclass-not-ready"
        return recognition(
            "readiness-unknown",
            cause,
            "EC2NodeClass",
            ("UnhealthyDependents" if cause == "unhealthy-dependents" else "NodeClassReadinessUnknown")
            + ": the EC2NodeClass is not Ready, its NodePools launch nothing",
            CHECK_NODECLASS_CONDITIONS,
        )
    if "nodepool, not ready" in low or "nodepool not ready" in low:
        m = _NODEPOOL_NAMED_RE.search(flat[low.index("not ready") :])
        return recognition(
            "readiness-unknown",
            "nodepool-not-ready",
            "EC2NodeClass",
            "Karpenter ignores a NodePool that is not ready",
            CHECK_NODECLASS_CONDITIONS,
            nodepool=m.group(1) if m else None,
        )
    if not awaiting and "-> unknown" in low and "type: ready" not in low:
        return None
    nodeclass_parts = ("ec2nodeclass", "amisready", "subnetsready", "securitygroupsready", "instanceprofileready")
    kind = "EC2NodeClass" if any(p in low for p in nodeclass_parts) else "NodePool"
    if "noderegistrationhealthy" in low or "nodeclassready" in low:
        kind = "NodePool"
    if "nodeclaim" in low and kind != "EC2NodeClass" and "nodepool" not in low and "noderegistration" not in low:
        kind = "NodeClaim"
    return recognition(
        "readiness-unknown",
        "awaiting-reconciliation",
        kind,
        f"AwaitingReconciliation: the {kind}'s condition is Unknown",
        CHECK_KARPENTER_CONTROLLER,
    )


# -- vanished-nodeclaim -------------------------------------------------------------


@rule("vanished-nodeclaim", order=58)
def vanished_nodeclaim(text: str) -> Recognition | None:
    flat, low = _norm(text)
    if "nodeclaim" not in low and "machine/" not in low:
        return None
    if "should schedule on" in low:
        nom = parse_nominated(flat)
        name = nom.nodeclaim
        if name is None:
            m = _NODECLAIM_NAMED_RE.search(flat)
            name = m.group(1) if m else None
        if name is None:
            return None
        return recognition(
            "vanished-nodeclaim",
            "nominated",
            f"NodeClaim/{name}",
            f"pod nominated to NodeClaim {name}; if it is gone, its events say why",
            CHECK_VANISHED_NODECLAIM,
            nodeclaim=name,
        )
    if "registration ttl" in low:
        m = _NODECLAIM_JSON_RE.search(flat)
        name = m.group(1) if m else None
        return recognition(
            "vanished-nodeclaim",
            "registration-ttl",
            f"NodeClaim/{name}" if name else "NodeClaim",
            f"NodeClaim {name or ''} deleted: its node did not register within the TTL".replace("  ", " "),
            FIX_NODE_REGISTRATION,
            nodeclaim=name,
        )
    m = _NODECLAIM_NOT_FOUND_RE.search(flat)
    if m:
        name = m.group(1)
        return recognition(
            "vanished-nodeclaim",
            "not-found",
            f"NodeClaim/{name}",
            f"NodeClaim {name} not found",
            CHECK_VANISHED_NODECLAIM,
            nodeclaim=name,
        )
    if "deleted nodeclaim" in low and re.search(r'"node"\s*:\s*""', flat):
        j = _NODECLAIM_JSON_RE.search(flat)
        name = j.group(1) if j else None
        return recognition(
            "vanished-nodeclaim",
            "deleted-before-registration",
            f"NodeClaim/{name}" if name else "NodeClaim",
            f"NodeClaim {name} deleted before a node registered",
            CHECK_VANISHED_NODECLAIM,
            nodeclaim=name,
        )
    return None


# -- disruption ---------------------------------------------------------------------

_DISRUPTION_TOKENS = (
    "disrupt",
    "evictions",
    "consolidat",
    "cheaper node",
    "candidates",
    "would schedule",
    "not empty",
    "isn't initialized",
    "associated node",
)


@rule("disruption", order=52)
def disruption(text: str) -> Recognition | None:
    flat, low = _norm(text)
    if not mentions(low, *_DISRUPTION_TOKENS):
        return None
    if "do-not-disrupt" in low:
        m = _POD_ANNOTATED_RE.search(flat)
        if m:
            pod = m.group(1)
            return recognition(
                "disruption",
                "do-not-disrupt-pod",
                f"Pod/{pod}",
                f"pod {pod} has karpenter.sh/do-not-disrupt",
                ALLOW_POD_DISRUPTION,
                pod=pod,
            )
        return recognition(
            "disruption",
            "do-not-disrupt-node",
            "NodeClaim" if "nodeclaim" in low else "Node",
            "karpenter.sh/do-not-disrupt blocks disruption",
            REMOVE_NODE_DO_NOT_DISRUPT,
        )
    if "evictions" in low and "pdb" in low or "poddisruptionbudget=" in low:
        m = _PDB_RE.search(flat)
        pdb = (m.group(1) or m.group(2)) if m else None
        return recognition(
            "disruption",
            "pdb",
            f"PodDisruptionBudget/{pdb}" if pdb else "PodDisruptionBudget",
            f"PDB {pdb or ''} prevents pod evictions".replace("  ", " "),
            RELAX_PDB,
            pdb=pdb,
        )
    if (
        "isn't initialized" in low
        or "is not initialized" in low
        or "does not have an associated node" in low
        or "doesn't contain both a node and a nodeclaim" in low
    ):
        return recognition(
            "disruption",
            "not-initialized",
            "NodeClaim",
            "cannot disrupt: the node is not initialized (or has no NodeClaim/Node pair)",
            FINISH_INITIALIZATION,
        )
    if "cheaper node" in low or "without creating" in low and "candidates" in low:
        return recognition(
            "disruption",
            "no-cheaper-option",
            "NodePool",
            "Unconsolidatable: no cheaper replacement",
            ACCEPT_OR_RESIZE,
        )
    if "not all pods would schedule" in low:
        return recognition(
            "disruption",
            "pods-would-not-schedule",
            "NodePool",
            "Unconsolidatable: not all pods would schedule elsewhere",
            PODS_WOULD_NOT_SCHEDULE,
        )
    if "not empty" in low and ("whenempty" in low or "consolidat" in low or "disrupt" in low):
        return recognition(
            "disruption",
            "when-empty",
            "NodePool",
            "consolidationPolicy WhenEmpty: the node is not empty",
            USE_UNDERUTILIZED_POLICY,
        )
    nodepool_budget = "budget" in low.replace("poddisruptionbudget", "")
    if "no allowed disruptions" in low or (nodepool_budget and ("allows no" in low or "blocked" in low)):
        m = _NODEPOOL_NAMED_RE.search(flat)
        return recognition(
            "disruption",
            "budget",
            "NodePool",
            "disruption budget allows no disruption now",
            WIDEN_DISRUPTION_BUDGET,
            nodepool=m.group(1) if m else None,
        )
    return None
