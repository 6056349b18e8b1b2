"""The real-world message corpus: texts copied verbatim from public issues and discussions,
each with its source URL and what gputui must read from it.

Files: tests/corpus/real_world/*.yaml, each `texts: [...]` with entries

    id:       unique across the corpus, e.g. ice-03
    source:   the URL the text was copied from (a public issue, PR or discussion)
    version:  emitter and version where known ("karpenter v0.37", "gpu-operator v23.9")
    where:    where the text appears on a cluster (event reason, condition, pod status, log)
    text:     the text, verbatim (JSON string escapes removed)
    family:   the family (checks.recognise.FAMILIES) it must be recognised into
    subject:  the kind, or kind/name, the remedy changes
    remedy:   the remedy key (checks.recognise.REMEDIES)
    facts:    optional; each key must equal the recognition's fact of that name
    missed:   optional; why gputui does not recognise this text (counted as a miss)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpus" / "real_world"
REQUIRED = ("id", "source", "where", "text", "family", "subject", "remedy")


@dataclass(frozen=True)
class CorpusText:
    id: str
    source: str
    where: str
    text: str
    family: str
    subject: str
    remedy: str
    version: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    missed: str = ""
    file: str = ""


def load_corpus(directory: Path = CORPUS_DIR) -> list[CorpusText]:
    out: list[CorpusText] = []
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in doc.get("texts") or []:
            missing = [k for k in REQUIRED if not raw.get(k)]
            if missing:
                raise ValueError(f"{path.name}: entry {raw.get('id', '?')} lacks {', '.join(missing)}")
            out.append(
                CorpusText(
                    id=str(raw["id"]),
                    source=str(raw["source"]),
                    where=str(raw["where"]),
                    text=str(raw["text"]),
                    family=str(raw["family"]),
                    subject=str(raw["subject"]),
                    remedy=str(raw["remedy"]),
                    version=str(raw.get("version") or ""),
                    facts=dict(raw.get("facts") or {}),
                    missed=str(raw.get("missed") or ""),
                    file=path.name,
                )
            )
    return out


def judge(entry: CorpusText) -> list[str]:
    """What the recognition gets wrong for `entry` (empty when it is right)."""
    from checks.recognise import recognise

    got = recognise(entry.text)
    if got is None:
        return ["not recognised"]
    wrong = []
    for name in ("family", "subject", "remedy"):
        if getattr(got, name) != getattr(entry, name):
            wrong.append(f"{name}: got {getattr(got, name)!r}, want {getattr(entry, name)!r}")
    for key, want in entry.facts.items():
        if got.facts.get(key) != want:
            wrong.append(f"fact {key}: got {got.facts.get(key)!r}, want {want!r}")
    return wrong
