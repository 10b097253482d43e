"""The analyst's tools (issue #34): report.html self-contained and responsive, the notebook view formatted, the
e-mail body from its templates."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from campaign_report.analysis.tables import readable_cell
from campaign_report.renderers.email import email_parts
from campaign_report.renderers.notebook import notebook_html
from campaign_report.renderers.pdf import render_html
from campaign_report.renderers.view import build_view


class _Resources(HTMLParser):
    """Every reference to something outside the document."""

    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster") and value and not value.startswith("#"):
                self.external.append(f"<{tag} {name}={value}>")
        if tag in ("link", "script", "iframe", "img", "object", "embed"):
            self.external.append(f"<{tag}>")


@pytest.fixture(scope="module")
def demo_results(small_run):  # type: ignore[no-untyped-def]
    return small_run.results


@pytest.fixture(scope="module")
def demo_view(demo_results):  # type: ignore[no-untyped-def]
    return build_view(demo_results)


def test_report_html_is_self_contained_and_fits_a_phone(demo_view) -> None:  # type: ignore[no-untyped-def]
    page = render_html(demo_view, web=True)
    finder = _Resources()
    finder.feed(page)
    assert finder.external == []
    assert not re.search(r"url\((?!#)|@import", page)  # no stylesheet or font fetched
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    # Every chart twice, as scalable SVG with its text: one drawing for wide screens, one for phones.
    charts = sum(len(s.charts) for s in demo_view.sections)
    assert page.count('class="chart-svg"') == 2 * charts > 0
    assert page.count("<text ") > 10 * charts
    assert 'class="t"' not in page  # no absolutely placed text boxes: they do not scale
    assert page.count('<div class="table-scroll">') == sum(len(s.tables) for s in demo_view.sections)
    css = (Path(__file__).resolve().parents[1] / "campaign_report" / "templates" / "report.css").read_text()
    assert "@media (max-width: 600px)" in css
    # A contents line jumps to every section; its links are separate words, so the line wraps on a phone.
    nav = re.search(r'<nav class="toc".*?</nav>', page, re.S)
    assert nav is not None and nav.group(0).count("<a href=\"#") == len(demo_view.sections)
    assert "</a><a" not in nav.group(0)
    assert all(f'id="{s.key}"' in page for s in demo_view.sections)
    # The print brief stays as it was: positioned text, fixed column widths, no viewport.
    brief = render_html(demo_view)
    assert "viewport" not in brief and "<colgroup>" in brief and 'class="chart-svg"' not in brief


def test_notebook_view_prints_the_documents_formatting(demo_results) -> None:  # type: ignore[no-untyped-def]
    page = notebook_html(demo_results)
    text = re.sub(r"<[^>]+>", " ", page)
    assert "₽" in text and "%" in text and " … " in text
    assert "None" not in text and "nan" not in text.lower().split()
    assert not re.search(r"\(\s*-?\d+\.\d{5,}", text)  # no raw float tuples such as (0.0123456, 0.04567)
    assert page.count("<svg") >= 3


def test_section_tables_show_readable_cells() -> None:
    assert readable_cell(None) == "—"
    assert readable_cell(float("nan")) == "—"
    assert readable_cell((0.01234567, 0.0456789)) == "0.01235 … 0.04568"
    assert readable_cell(("a", "b")) == "a, b"
    assert readable_cell(0.123456789) == "0.1235"


def test_email_body_from_templates_says_page_one(demo_view) -> None:  # type: ignore[no-untyped-def]
    parts = email_parts(demo_view)
    summary = demo_view.summary
    for verdict in summary.verdicts:
        assert verdict.sentence in parts["text"]
    for i, step in enumerate(summary.next_steps, 1):
        assert f"{i}. {step}" in parts["text"]
    assert "<script" not in parts["html"] and "&lt;" not in parts["text"]
    assert parts["report_name"].endswith(".html")
