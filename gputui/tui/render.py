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
