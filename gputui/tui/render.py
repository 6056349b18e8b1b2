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
