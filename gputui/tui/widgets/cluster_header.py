"""The fleet header: where we are (context, namespace, read-only, when it was read), what runs
there and the counts that matter. Fields are laid out to the widget's width and a line breaks
only between two fields, never inside one, so 80 columns read as well as 200."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from checks.cost import money

GAP = "  "


def header_fields(s, *, demo=None, namespace=None, read_only=False, as_of=None, freshness=None) -> list[list[Text]]:
    """Groups of fields; each group starts on a new line. `freshness` (gputui.tui.freshness) says
    how current the data is; without it, `as_of` says when it was read."""

    def field(*parts: tuple[str, str]) -> Text:
        return Text.assemble(*parts)

    where = [field(("gputui ", "bold"), (s.context or "?", "bold cyan"))]
    if demo:
        where.append(field((f"(simulated: {demo})", "magenta")))
    where.append(field(("ns ", "dim"), (namespace or "all", "")))
    if read_only:
        where.append(field(("read-only", "bold yellow")))
    if freshness is not None:
        where.append(freshness)
    elif as_of is not None:
        where.append(field(("read at ", "dim"), (as_of.astimezone().strftime("%H:%M:%S"), "")))
    if s.server:
        where.append(field((s.server, "dim")))
    versions = []
    if s.kubernetes_version:
        versions.append(field(("Kubernetes ", "dim"), (s.kubernetes_version, "")))
    versions.append(field(("Karpenter ", "dim"), (s.karpenter_version, "")))
    versions.append(
        field(("GPU Operator ", "dim"), (s.operator_version, "yellow" if "notReady" in s.operator_version else ""))
    )
    short = s.gpus_allocatable < s.gpus_expected
    counts = [
        field(
            ("GPU nodes ", "dim"),
            (
                f"{s.gpu_nodes_ready}/{s.gpu_nodes_total} ready",
                "green" if s.gpu_nodes_ready == s.gpu_nodes_total else "bold red",
            ),
        ),
        field(
            ("GPUs used/allocatable/capacity ", "dim"),
            (f"{s.gpus_allocated}/{s.gpus_allocatable}/{s.gpus_capacity}", "bold red" if short else ""),
            (f" ({s.gpus_expected} expected)" if short else "", "red"),
        ),
        field(
            ("pending GPU pods ", "dim"), (str(s.pending_gpu_pods), "bold yellow" if s.pending_gpu_pods else "green")
        ),
        field(
            (f"{s.errors} errors", "bold red" if s.errors else "green"),
            (" ", ""),
            (f"{s.warnings} warnings", "bold yellow" if s.warnings else "green"),
        ),
    ]
    counts.extend(cost_fields(s.cost))
    if s.unreadable:
        counts.append(field(("unreadable: ", "bold magenta"), (", ".join(s.unreadable), "bold magenta")))
    return [where, versions, counts]


def cost_fields(c) -> list[Text]:
    """One field, '~$123.49/h (7 unpriced)  idle GPUs 4 $5.67/h': '~' when spot estimates are in
    it (in the idle spend too); nodes of instance types the catalogue does not know are counted,
    not priced."""
    if c is None or not (c.priced_nodes or c.unpriced_nodes):
        return []
    return [
        Text.assemble(
            (f"{'~' if c.estimate else ''}{money(c.usd_per_hour)}/h", "bold"),
            (f" ({c.unpriced_nodes} unpriced)" if c.unpriced_nodes else "", "dim"),
            ("  idle GPUs ", "dim"),
            (f"{c.idle_gpus} {'~' if c.idle_estimate else ''}{money(c.idle_usd_per_hour)}/h", "bold yellow")
            if c.idle_gpus
            else ("0", "green"),
        )
    ]


def lay_out(groups: list[list[Text]], width: int) -> Text:
    """The fields, GAP apart, a new line where the next field would not fit whole (a field wider
    than the line gets a line of its own, cut by the terminal)."""
    out = Text()
    for g, group in enumerate(groups):
        if g:
            out.append("\n")
        used = 0
        for field in group:
            n = len(field.plain)
            if used and used + len(GAP) + n > width:
                out.append("\n")
                used = 0
            if used:
                out.append(GAP)
                used += len(GAP)
            out.append_text(field)
            used += n
    return out


class ClusterHeader(Static):
    """Static text until `show_summary`; then the fields, laid out again on every resize."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._groups: list[list[Text]] | None = None

    def show_summary(self, groups: list[list[Text]]) -> None:
        self._groups = groups
        self._render_groups()

    def show_text(self, text: Text) -> None:
        self._groups = None
        self.update(text)

    def _render_groups(self) -> None:
        if self._groups is not None:
            # Before its first layout the widget has no width: the screen's (less the padding) is
            # what it will get, so the first render already has the height it keeps.
            width = self.content_region.width or (self.app.size.width - 2 if self.app.size.width else 78)
            self.update(lay_out(self._groups, max(20, width)))

    def on_resize(self) -> None:
        self._render_groups()
