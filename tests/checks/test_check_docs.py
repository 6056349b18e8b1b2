"""Check docstrings are read robustly and rendered once, to the width."""

from __future__ import annotations

import io

from rich.console import Console

from checks.check_docs import blocks, doc_sections
from checks.registry import REGISTRY
from gputui.report.catalogue import all_checks, explain_page, wrap_section


def test_inline_headings_and_block_structure():
    doc = """Summary line.

    What it checks: whether the thing
        is there.

    Why it matters:
        A paragraph that the docstring
        wraps by hand.

        * a list item that goes on
          over two lines
        * another item

            kubectl get pods -o wide
            --field-selector spec.nodeName=x

    How to fix: restart it.
    """
    s = doc_sections(doc)
    assert s["summary"] == "Summary line."
    assert s["what it checks"] == "Whether the thing is there."
    assert s["how to fix"] == "Restart it."
    assert blocks(s["why it matters"]) == [
        "A paragraph that the docstring wraps by hand.",
        "* a list item that goes on over two lines",
        "* another item",
        "    kubectl get pods -o wide\n    --field-selector spec.nodeName=x",
    ]


def _render(code: str, width: int = 80) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(explain_page(REGISTRY.find(code), width), end="")
    return out.getvalue().splitlines()


def test_explain_fits_80_columns_and_wraps_each_paragraph_once():
    all_checks()
    for c in REGISTRY.all():
        lines = _render(c.code)
        too_long = [ln for ln in lines if len(ln) > 80 and " " in ln.strip()]
        assert not too_long, (c.code, too_long)
        for text in c.doc_sections().values():
            for block in blocks(text):
                if "\n" in block:
                    continue  # verbatim
                wrapped = wrap_section(block, 80).splitlines()
                # Wrapped once: every line but the last is as full as the next word allows
                # (re-wrapping hard-wrapped text leaves short lines mid-paragraph).
                for a, b in zip(wrapped, wrapped[1:]):
                    assert len(a) + 1 + len(b.split()[0]) > 80, (c.code, a, b)
                    assert " ".join(line.strip() for line in wrapped) == block


def test_gpu901_is_explainable():
    lines = _render("GPU901")
    assert lines[0].startswith("GPU901 check-internal-error")
    assert "What it checks" in lines and "How to fix" in lines


def test_severity_section_is_parsed_like_the_others():
    doc = """Summary line.

    How to fix: restart it.

    Severity: error by default;
    info while it is new.
    """
    s = doc_sections(doc)
    assert s["how to fix"] == "Restart it."
    assert s["severity"] == "Error by default; info while it is new."
    block = doc_sections("Summary.\n\nSeverity:\n    Always warning.\n")
    assert block["severity"] == "Always warning."
    # Only "Severity:" starts the section; a paragraph about severity does not.
    assert "severity" not in doc_sections("Summary.\n\nSeverity depends on the node.\n")
