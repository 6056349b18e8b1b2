"""What the fleet screen shows of one snapshot, worked out once, away from the screen's thread.

Summarizing a big cluster into the header and the rows of the GPU nodes, NodePools and GPU
Operator tabs takes a good part of a second at 100,000 pods; the thread that read the snapshot
(a gathering, or the watches' publisher) works it out, and the screen only puts it on show."""

from __future__ import annotations

from dataclasses import dataclass

from checks.snapshot_indexes import memo
from gputui.tui import fleet_model


@dataclass(frozen=True)
class FleetView:
    snapshot: object
    findings: tuple  # the findings the rows were worked out from (their worst per node)
    summary: fleet_model.FleetSummary
    nodes: list
    nodepools: list
    operands: list

    def fits(self, snapshot, findings: list) -> bool:
        """Whether this view shows `snapshot` with `findings` (debug runs' findings join later)."""
        return (
            self.snapshot is snapshot
            and len(self.findings) == len(findings)
            and all(a is b for a, b in zip(self.findings, findings))
        )


def fleet_view(snapshot, findings: list, kubernetes_version: str = "") -> FleetView:
    """The rows that do not depend on the findings are worked out once per snapshot: a live
    round shows its snapshot twice on a big cluster (before and after its checks)."""
    return FleetView(
        snapshot=snapshot,
        findings=tuple(findings),
        summary=fleet_model.summarize(snapshot, findings, kubernetes_version),
        nodes=fleet_model.node_rows(snapshot, findings),
        nodepools=memo(snapshot, "fleet_nodepool_rows", lambda: fleet_model.nodepool_rows(snapshot)),
        operands=memo(snapshot, "fleet_operand_rows", lambda: fleet_model.operand_rows(snapshot)),
    )
