"""Version, last change and citation on the built pages (book_ext): every page's footer shows the
course version and its source's last commit date; the intro says how to cite the course.

Reads _build/html (`make book` first; LSTM_BOOK_HTML points elsewhere). A page whose source was
committed after the build shows an older date: rebuild before running these tests.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "book_tools"))

import release_notebooks  # noqa: E402

SITE = Path(os.environ.get("LSTM_BOOK_HTML", ROOT / "_build" / "html"))
SITE_MISSING = f"the built book is missing ({SITE}/index.html): run `make book` first"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
FOOTER = re.compile(r'<p class="lstm-provenance">(.*?)</p>', re.S)
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
CHAPTERS = release_notebooks.toc_docnames(TOC)


def page_html(page: str) -> str:
    path = SITE / page
    if not path.is_file():
        pytest.skip(SITE_MISSING)
    return path.read_text(encoding="utf-8")


def footer_text(page: str) -> str:
    found = FOOTER.findall(page_html(page))
    assert len(found) == 1, f"{page}: {len(found)} version lines in the footer, expected 1"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found[0])).split())


def git_date(source: Path) -> str | None:
    """The last commit date of `source`, asked from git here (not through book_ext)."""
    result = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%cs", "--", str(source)],
                            capture_output=True, text=True)
    return result.stdout.strip() or None


def other_pages() -> list[str]:
    """Pages of the site that are not chapters (search, index of terms), redirects left out."""
    if not (SITE / "index.html").is_file():
        return []
    chapters = {f"{name}.html" for name in CHAPTERS}
    pages = []
    for path in sorted(SITE.glob("*.html")):
        page = path.relative_to(SITE).as_posix()
        if page not in chapters and 'http-equiv="Refresh"' not in path.read_text(encoding="utf-8"):
            pages.append(page)
    return pages


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_footer_shows_version_and_last_change(chapter):
    """Does every chapter's footer give the version of pyproject.toml and the date of its source's
    last commit (or say that it has edits not yet committed, or that no history was there)?"""
    text = footer_text(f"{chapter}.html")
    assert f"LSTM course version {VERSION}" in text, text
    source = next(ROOT / f"{chapter}{suffix}" for suffix in (".md", ".ipynb") if (ROOT / f"{chapter}{suffix}").is_file())
    date = git_date(source)
    if date is None:
        assert "not recorded (built without git history)" in text, text
    else:
        assert f"this page last changed on {date}" in text, f"{text} (git says {date}: rebuild after committing)"


@pytest.mark.parametrize("page", other_pages() or [pytest.param(None, marks=pytest.mark.skip(reason=SITE_MISSING))])
def test_every_other_page_shows_the_version(page):
    """Do the pages made without a source (search, index) show the version, and no date?"""
    text = footer_text(page)
    assert text == f"LSTM course version {VERSION}.", text


def test_intro_says_how_to_cite_with_the_current_version():
    """Does the intro page (the first page of _toc.yml) have a citation section whose BibTeX entry
    carries the version of pyproject.toml and the book's title, read back by pybtex?"""
    from pybtex.database import parse_string

    page = page_html(f"{CHAPTERS[0]}.html")
    assert re.search(r"<h2>How to cite the course", page), "no 'How to cite the course' section"
    block = re.search(r'<div class="highlight-bibtex notranslate"><div class="highlight"><pre>(.*?)</pre>', page, re.S)
    assert block, "no BibTeX block on the intro page"
    bibtex = html.unescape(re.sub(r"<[^>]+>", "", block.group(1)))
    entry = parse_string(bibtex, "bibtex").entries["lstm_course"]
    assert entry.fields["version"] == VERSION
    title = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]
    assert entry.fields["title"].strip("{}") == title
