"""In-between states and their clocks: how long each normal transition takes, in one place.

A GPU node on first boot, a NodeClaim on its way to a node, a pod nominated for a node that
is still coming up: each looks broken while it is merely in progress. Inside its window a
check says what is in progress and by when it should be done (an info finding); past the
window the real check fires, with the elapsed time as evidence. Ages are always judged
against the snapshot's own clock (ClusterSnapshot.now), never the reader's.

The README's "In-between states" table is generated from TRANSITIONS
(`python -m gputui.report.catalogue --write`).
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.findings import age_text


@dataclass(frozen=True)
class Transition:
    """One normal transition: what is in progress and how long it may take."""

    name: str
    in_progress: str  # what is happening meanwhile, for messages and the README
    window_seconds: int
    clock: str  # what the age is measured from
    defers: tuple[str, ...]  # codes of the checks that wait for the window to pass
    meanwhile: str  # what gputui says inside the window

    @property
    def window_text(self) -> str:
        return age_text(self.window_seconds)


# Seconds, one definition each. The names are imported where they are used.
YOUNG_NODE_SECONDS = 600  # node first boot: NFD labels, driver build, device-plugin registration
NODECLAIM_LAUNCH_SECONDS = 300  # Karpenter deletes a NodeClaim not launched after this
NODECLAIM_REGISTER_SECONDS = 300  # a launched GPU instance normally joins within this
REGISTRATION_TTL_SECONDS = 900  # Karpenter's registration TTL: it deletes the NodeClaim after this
NODECLAIM_INITIALIZE_SECONDS = YOUNG_NODE_SECONDS  # registered → initialized (GPUs advertised)
LAUNCH_PATIENCE_SECONDS = 600  # a pending pod's nominated NodeClaim becomes a usable node within this
NOMINATION_PATIENCE_SECONDS = 900  # a nomination turns into a bound pod within this
NODE_DELETION_SECONDS = 900  # Karpenter drains and deletes a disrupted node within this
STUCK_SECONDS = 600  # an operand pod still starting after this long is stuck, not starting
PENDING_GRACE_SECONDS = 30  # a GPU pod this young has not been looked at by the scheduler yet


NODE_FIRST_BOOT = Transition(
    "node first boot",
    "NFD labels the node, the driver container builds and loads, the device plugin registers nvidia.com/gpu",
    YOUNG_NODE_SECONDS,
    "node creationTimestamp",
    ("GPU101", "GPU202", "GPU203"),
    "GPU102 (info): what is still starting on the node",
)
NODECLAIM_LAUNCH = Transition(
    "NodeClaim launch",
    "Karpenter creates the instance",
    NODECLAIM_LAUNCH_SECONDS,
    "NodeClaim creationTimestamp",
    ("GPU301",),
    "nothing while Launched is Unknown without a failure reason (first 2 minutes)",
)
NODECLAIM_REGISTRATION = Transition(
    "NodeClaim launch → registration",
    "the instance boots and its kubelet joins the cluster (Karpenter's 15-minute registration TTL)",
    NODECLAIM_REGISTER_SECONDS,
    "Launched condition lastTransitionTime",
    ("GPU303",),
    "GPU303 as info, with the registration deadline",
)
NODECLAIM_INITIALIZATION = Transition(
    "NodeClaim registration → initialization",
    "the node's GPU operands start and the device plugin registers nvidia.com/gpu",
    NODECLAIM_INITIALIZE_SECONDS,
    "Initialized condition lastTransitionTime",
    ("GPU304",),
    "GPU304 as info, naming the link still starting",
)
POD_NOMINATED = Transition(
    "pod Pending, nominated to an in-flight NodeClaim",
    "Karpenter launches the node the pod was nominated for",
    LAUNCH_PATIENCE_SECONDS,
    "NodeClaim creationTimestamp",
    ("GPU401",),
    "GPU401 as info: Karpenter is launching the NodeClaim",
)
NOMINATION_BINDING = Transition(
    "pod nominated → bound",
    "kube-scheduler binds the pod once the nominated node offers nvidia.com/gpu",
    NOMINATION_PATIENCE_SECONDS,
    "first Nominated event for the current target",
    ("GPU402",),
    "nothing (GPU401 info covers the launch)",
)
NODE_DELETION = Transition(
    "node cordoned / drained / deleted by Karpenter",
    "Karpenter taints the node karpenter.sh/disrupted, evicts its pods (DisruptionTarget) and deletes it",
    NODE_DELETION_SECONDS,
    "node or NodeClaim deletionTimestamp, else the NodeClaim's DisruptionReason condition",
    ("GPU101", "GPU104"),
    "GPU305 (info) for the NodeClaim; the node's own checks as info",
)
OPERAND_POD_START = Transition(
    "operand pod starting (rolling update)",
    "a GPU Operator DaemonSet pod pulls its image and runs its init containers",
    STUCK_SECONDS,
    "pod creationTimestamp",
    ("GPU203",),
    "nothing: a starting pod is not failing",
)
POD_SCHEDULING = Transition(
    "GPU pod just created",
    "kube-scheduler and Karpenter look at the new pod",
    PENDING_GRACE_SECONDS,
    "pod creationTimestamp",
    ("GPU401",),
    "nothing",
)

TRANSITIONS: tuple[Transition, ...] = (
    NODE_FIRST_BOOT,
    NODECLAIM_LAUNCH,
    NODECLAIM_REGISTRATION,
    NODECLAIM_INITIALIZATION,
    POD_SCHEDULING,
    POD_NOMINATED,
    NOMINATION_BINDING,
    NODE_DELETION,
    OPERAND_POD_START,
)


def within(transition: Transition, age_seconds: float | None) -> bool:
    """Still inside the transition's window (an unknown age is not)."""
    return age_seconds is not None and age_seconds < transition.window_seconds


def deadline_text(transition: Transition, age_seconds: float | None) -> str:
    """'normally done within 10m, 8m left' for a finding inside the window."""
    if age_seconds is None:
        return f"{transition.name} normally takes up to {transition.window_text}"
    left = transition.window_seconds - age_seconds
    return f"{transition.name} normally takes up to {transition.window_text} ({age_text(left)} left)"


def elapsed_text(transition: Transition, age_seconds: float | None) -> str:
    """'12m elapsed, past the 10m node first boot window' for the real check's evidence."""
    if age_seconds is None:
        return f"elapsed time unknown; {transition.name} normally takes up to {transition.window_text}"
    return f"{age_text(age_seconds)} elapsed, past the {transition.window_text} {transition.name} window"


def markdown_table() -> str:
    """The README table of in-between states."""
    lines = [
        "| transition | in progress | window | measured from | checks that wait | meanwhile |",
        "|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        lines.append(
            f"| {t.name} | {t.in_progress} | {t.window_text} | {t.clock} | {', '.join(t.defers)} | {t.meanwhile} |"
        )
    return "\n".join(lines)
