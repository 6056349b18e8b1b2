"""Pick another kubeconfig context; dismisses with its name, or None."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


def list_contexts(kubeconfig: str | None) -> tuple[list[str], str | None, str | None]:
    """(context names, current-context, error text) from the kubeconfig files kubectl would read."""
    import yaml

    from gputui.errors import GputuiError
    from gputui.kube.config import kubeconfig_paths

    try:
        paths = kubeconfig_paths(kubeconfig)
    except GputuiError as e:
        return [], None, e.message
    names: list[str] = []
    current = None
    for p in paths:
        try:
            doc = yaml.safe_load(p.read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            return names, current, f"cannot read {p}: {e}"
        current = current or doc.get("current-context")
        for c in doc.get("contexts") or []:
            if isinstance(c, dict) and c.get("name") and c["name"] not in names:
                names.append(c["name"])
    return names, current, None if names else "no contexts in the kubeconfig"


class ContextScreen(ModalScreen["str | None"]):
    DEFAULT_CSS = """
    ContextScreen {
        align: center middle;
    }
    ContextScreen > Vertical {
        width: 70;
        max-width: 95%;
        height: auto;
        max-height: 80%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ContextScreen OptionList {
        height: auto;
        max-height: 20;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, kubeconfig: str | None, active: str | None) -> None:
        super().__init__()
        self.kubeconfig = kubeconfig
        self.active = active

    def compose(self) -> ComposeResult:
        names, current, error = list_contexts(self.kubeconfig)
        active = self.active or current
        with Vertical():
            yield Static(Text.assemble(("Switch context", "bold"), ("  enter connects, escape cancels", "dim")))
            if error:
                yield Static(Text(error, style="bold red"))
            options = [Option(Text(f"{'● ' if n == active else '  '}{n}"), id=n) for n in names]
            yield OptionList(*options, id="context-list")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        names = [o.id for o in ol.options]
        if self.active in names:
            ol.highlighted = names.index(self.active)
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
