"""Rich renderables shared by screens: severity labels, object references, the header lines.
User-supplied text (messages, evidence, log lines) is always rich.Text, never markup."""

from __future__ import annotations

from rich.text import Text

from checks.model import Severity

SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold cyan"}


def severity_text(sev: Severity) -> Text:
    return Text(sev.label.upper(), style=SEVERITY_STYLE[sev])


def ref_text(ref) -> str:
    ns = f"{ref.namespace}/" if ref.namespace else ""
    return f"{ref.kind}/{ns}{ref.name}"


def describe_command(ref) -> str:
    """The paste-ready `kubectl describe` of an object, e.g. `kubectl describe
    nodepools.karpenter.sh gpu`, `kubectl describe pod web-0 -n ml`."""
    from checks.snapshot import KIND_TO_ATTR, RESOURCES

    what = ref.kind.lower()
    attr = KIND_TO_ATTR.get(ref.kind)
    if attr is not None:
        group, _, plural = RESOURCES[attr]
        if group and group not in ("apps", "batch", "policy", "autoscaling"):
            what = f"{plural}.{group}"
    ns = f" -n {ref.namespace}" if ref.namespace else ""
    return f"kubectl describe {what} {ref.name}{ns}"


def summary_text(s, demo: str | None = None) -> Text:
    """The fleet header: where we are, what runs there, and the counts that matter."""
    t = Text()
    t.append("gputui ", style="bold")
    t.append(s.context or "?", style="bold cyan")
    if demo:
        t.append(f" (simulated: {demo})", style="magenta")
    t.append(f"  {s.server}", style="dim")
    t.append("\n")
    # One fact group per line, each under 80 columns, so an 80x24 terminal shows all of it.
    if s.kubernetes_version:
        t.append("Kubernetes ", style="dim")
        t.append(f"{s.kubernetes_version}  ")
    t.append("Karpenter ", style="dim")
    t.append(s.karpenter_version)
    t.append("  GPU Operator ", style="dim")
    t.append(s.operator_version, style="yellow" if "notReady" in s.operator_version else "")
    t.append("\n")
    ready_style = "green" if s.gpu_nodes_ready == s.gpu_nodes_total else "bold red"
    t.append("GPU nodes ", style="dim")
    t.append(f"{s.gpu_nodes_ready}/{s.gpu_nodes_total} ready", style=ready_style)
    t.append("  GPUs used/allocatable/capacity ", style="dim")
    short = s.gpus_allocatable < s.gpus_expected
    t.append(f"{s.gpus_allocated}/{s.gpus_allocatable}/{s.gpus_capacity}", style="bold red" if short else "")
    if short:
        t.append(f" ({s.gpus_expected} expected)", style="red")
    t.append("\n")
    t.append("pending GPU pods ", style="dim")
    t.append(str(s.pending_gpu_pods), style="bold yellow" if s.pending_gpu_pods else "green")
    t.append("  ")
    t.append(f"{s.errors} errors", style="bold red" if s.errors else "green")
    t.append(" ")
    t.append(f"{s.warnings} warnings", style="bold yellow" if s.warnings else "green")
    if s.unreadable:
        t.append(f"  unreadable: {', '.join(s.unreadable)}", style="bold magenta")
    return t
