"""How old what the app shows is, in one header field: "● live" while watches keep it current,
"◌ stale 42s" with what is reconnecting when a watch is lost, "read 14:03:07 (3m ago)" when the
data is as of a read (watches off, or not started yet)."""

from __future__ import annotations

import datetime as _dt

from rich.text import Text

from checks.findings import age_text

OLD_READ_SECONDS = 300  # a read this old is shown in yellow


def freshness(status, read_at: float | None, now: float) -> Text | None:
    """`status`: gputui.kube.live.LiveStatus while watching, else None. `read_at` and `now` are
    time.time() values. None when nothing has been read yet."""
    if status is not None:
        if status.stale:
            since = status.stale_since.timestamp() if status.stale_since is not None else now
            if status.watching == 0 and not status.polled:
                what = "reconnecting to the API server"  # every watch is down: the server, not a resource
            else:
                names = ", ".join(status.stale[:3]) + (f" +{len(status.stale) - 3}" if len(status.stale) > 3 else "")
                what = f"{names} reconnecting"
            return Text.assemble(
                ("◌ stale ", "bold yellow"),
                (age_text(max(0.0, now - since)), "bold yellow"),
                (f" ({what})", "yellow"),
            )
        text = Text.assemble(("● live", "bold green"))
        if status.polled:
            text.append(f" (polling {', '.join(status.polled[:2])})", "dim")
        return text
    if read_at is None:
        return None
    age = max(0.0, now - read_at)
    clock = _dt.datetime.fromtimestamp(read_at).astimezone().strftime("%H:%M:%S")
    return Text.assemble(
        ("read ", "dim"),
        (clock, ""),
        (f" ({age_text(age)} ago)", "yellow" if age >= OLD_READ_SECONDS else "dim"),
    )
