"""What the app was started with, and the data its screens share. No Textual here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class AppConfig:
    kubeconfig: Optional[str]
    context: Optional[str]
    namespace: Optional[str]
    read_only: bool
    refresh_seconds: Optional[float] = None
    demo_scenario: Optional[str] = None
    request_timeout: float = 30.0


@dataclass
class GatherError:
    """Why the last gathering failed, as the one line + hint the CLI would print."""

    message: str
    hint: Optional[str] = None

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message
