"""The check catalogue: pure functions from a ClusterSnapshot to findings.

Nothing here imports gputui, textual or kubernetes. Importing the package registers
every check module's checks in `checks.registry.REGISTRY`.
"""

# Check modules register themselves on import; keep this list in code order.
from checks import debug, disruption, karpenter, nodepool_draft, nodes, operator, scheduling  # noqa: E402,F401
from checks.model import Finding, FixPlan, ObjectRef, Severity  # noqa: F401
from checks.registry import REGISTRY, check, run_checks  # noqa: F401
from checks.snapshot import ClusterSnapshot  # noqa: F401
