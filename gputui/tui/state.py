"""What the app was started with, and the data its screens share. No Textual here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AppConfig:
    kubeconfig: str | None
    context: str | None
    namespace: str | None
    read_only: bool
    refresh_seconds: float | None = None
    # After the first read, watches keep the data current (off: read again on `r` or the timer).
    watch: bool = True
    demo_scenario: str | None = None
    request_timeout: float = 30.0


@dataclass
class GatherError:
    """Why the last gathering failed, as the one line + hint the CLI would print."""

    message: str
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message
