"""The real-world corpus (tests/corpus/real_world): every text is recognised into the right
family, subject and remedy, except the few marked `missed` with the reason; at least 95%."""

from __future__ import annotations

import re

import pytest

from checks.recognise import FAMILIES, REMEDIES, recognise
from tests.helpers.corpus import judge, load_corpus

CORPUS = load_corpus()
URL_RE = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+/(issues|pull|discussions)/\d+")


def test_corpus_is_large_and_sourced():
    assert len(CORPUS) >= 150
    ids = [t.id for t in CORPUS]
    assert len(ids) == len(set(ids)), "corpus ids must be unique"
    for t in CORPUS:
        assert URL_RE.match(t.source), f"{t.id}: source {t.source!r} is not a public issue, PR or discussion"
        assert t.family in FAMILIES, f"{t.id}: unknown family {t.family}"
    assert {t.family for t in CORPUS} == set(FAMILIES), "every family has real texts"


@pytest.mark.parametrize("entry", [t for t in CORPUS if not t.missed], ids=lambda t: t.id)
def test_text_is_recognised_right(entry):
    assert entry.remedy in REMEDIES, f"{entry.id}: remedy {entry.remedy!r} is not registered"
    assert judge(entry) == [], entry.text


@pytest.mark.parametrize("entry", [t for t in CORPUS if t.missed], ids=lambda t: t.id)
def test_missed_texts_are_really_missed(entry):
    """A text marked missed that gputui now reads right must lose its mark."""
    assert judge(entry) != []


def test_recognition_rate_at_least_95_percent():
    right = sum(1 for t in CORPUS if not judge(t))
    assert right / len(CORPUS) >= 0.95, f"{right}/{len(CORPUS)} recognised"


@pytest.mark.parametrize("text", ["", "   ", "hello world", "0 errors, all good"])
def test_plain_text_is_not_recognised(text):
    assert recognise(text) is None
