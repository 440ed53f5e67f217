"""The whole-book PDF (`make pdf`): every chapter, its outputs, figures, equations, framework tabs and
the bibliography, no LaTeX error, no unresolved reference, linked from the website.

`make test` builds the PDF after the book (the site links it); run alone, this file builds it
(`make pdf-only`) only when it is missing or older than the website's pages. Without TeX and
poppler-utils the PDF tests skip with the packages to install, except in CI (CI=true), where that
is a failure. The unit tests of book_ext/latex_tables.py (HTML output tables to LaTeX tables)
need no TeX.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from book_ext import latex_tables  # noqa: E402

SITE = ROOT / "_build" / "html"
LATEX_DIR = ROOT / "_build" / "pdf" / "_build" / "latex"
PDF = SITE / "lstm-course.pdf"            # what the site serves and `make pdf` copies there
LOG = LATEX_DIR / "lstm-course.log"
TEX = LATEX_DIR / "lstm-course.tex"
TOOLS = ("xelatex", "latexmk", "pdftotext", "pdfimages")
#: the parameter counts the course derives and the slides quote (IMDB model, Keras' LSTM(32, 32)...)
KEY_FIGURES = ("328,353", "336,705", "8,320", "8,448")


def pdf_packages() -> str:
    """The Debian packages `make pdf` needs, as the Makefile lists them (one place)."""
    found = re.search(r"^PDF_PACKAGES\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert found, "the Makefile lost its PDF_PACKAGES line"
    return found.group(1).strip()


def unavailable(reason: str, environ=os.environ):
    """Skip, or fail in CI (CI=true), where the PDF must be checked."""
    if environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI must build and check the PDF)")
    pytest.skip(reason)


def pdf_is_stale() -> bool:
    """Is the PDF missing, or older than a page of the website it was built beside?"""
    if not PDF.is_file() or not LOG.is_file():
        return True
    pages = list((SITE / "chapters").glob("*.html"))
    return any(page.stat().st_mtime > PDF.stat().st_mtime for page in pages)


@pytest.fixture(scope="module")
def built_pdf() -> Path:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        unavailable(f"no {', '.join(missing)}: apt-get install --no-install-recommends {pdf_packages()}")
    if not (SITE / "index.html").is_file():
        unavailable(f"the built book is missing ({SITE}/index.html): run `make book` (or `make pdf`) first")
    if pdf_is_stale():
        # the PDF alone (the website is there): ~30-60 s on 2 cores, nothing re-executed
        result = subprocess.run(["make", "pdf-only"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
        assert result.returncode == 0, f"`make pdf-only` failed:\n{(result.stdout + result.stderr)[-4000:]}"
    return PDF


@pytest.fixture(scope="module")
def pages(built_pdf) -> list[str]:
    """The PDF's text, one string a page (pdftotext -layout)."""
    text = subprocess.run(["pdftotext", "-layout", str(built_pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=300).stdout
    return text.split("\f")


@pytest.fixture(scope="module")
def text(pages) -> str:
    return "\n".join(pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def title_of(markdown: Path) -> str:
    """The first level-1 heading of a MyST file, without inline code marks."""
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].replace("`", "").strip()
    raise AssertionError(f"{markdown} has no level-1 heading")


# The PDF ------------------------------------------------------------------------------------------

def test_the_key_figures_appear(text):
    """Do the parameter counts 328,353; 336,705; 8,320 and 8,448 appear in the PDF's text?"""
    missing = [figure for figure in KEY_FIGURES if figure not in text]
    assert not missing, f"not in the PDF: {missing}"


def test_every_chapter_title_and_part_of_the_toc_appears(text):
    """Does every page of _toc.yml appear by its title, and every part by its caption?"""
    body = flat(text)
    titles = {name: title_of(ROOT / f"{name}.md") for name in toc_files()}
    missing = {name: title for name, title in titles.items() if flat(title) not in body}
    captions = [part["caption"] for part in yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]]
    missing.update({caption: caption for caption in captions if flat(caption) not in body})
    assert not missing, f"titles or parts not in the PDF: {missing}"


def test_no_reference_is_unresolved(text):
    """Is there no '??' (LaTeX's mark of an unresolved reference) in the text and no undefined
    reference or citation in the LaTeX log of the last run?"""
    assert "??" not in text, [line for line in text.splitlines() if "??" in line][:10]
    log = LOG.read_text(encoding="utf-8", errors="replace")
    undefined = re.findall(r"^.*(?:undefined references|(?:Reference|Citation) .* undefined).*$", log, re.M)
    assert not undefined, undefined[:10]


def test_the_latex_log_has_no_errors(built_pdf):
    """Does the last XeLaTeX run end with its output written, with no error ('! ...') and no
    character missing from the fonts?"""
    log = LOG.read_text(encoding="utf-8", errors="replace")
    errors = re.findall(r"^! .*$", log, re.M)
    lost = re.findall(r"^Missing character.*$", log, re.M)
    assert not errors and not lost, (errors + lost)[:10]
    assert re.search(r"^Output written on lstm-course\.(?:pdf|xdv) \(\d+ pages", log, re.M), "no output in the log"


def test_every_figure_of_the_site_is_in_the_pdf(text, built_pdf):
    """Does the PDF hold as many images and numbered figure captions as the website has figures
    (glued figures included)?"""
    site_figures = sum(page.read_text(encoding="utf-8").count("<figure")
                       for page in (SITE / "chapters").glob("*.html"))
    assert site_figures > 0
    captions = re.findall(r"^Fig\. \d+\.\d+:", text, re.M)
    listing = subprocess.run(["pdfimages", "-list", str(built_pdf)], capture_output=True, text=True,
                             check=True, timeout=120).stdout.splitlines()[2:]
    images = [row for row in listing if row.split()[2] == "image"]   # not the soft masks
    assert len(captions) == site_figures, (len(captions), site_figures)
    assert len(images) >= site_figures, (len(images), site_figures)


def test_every_display_equation_is_typeset(built_pdf):
    """Does every display equation of the chapters ($$...$$ and math directives) reach the LaTeX as
    an equation, so that a clean log means it was typeset?"""
    blocks = 0
    for name in toc_files():
        source = (ROOT / f"{name}.md").read_text(encoding="utf-8")
        blocks += len(re.findall(r"^\s*\$\$", source, re.M)) // 2
        blocks += len(re.findall(r"^\s*[`:]{3,}\{math\}", source, re.M))
    equations = len(re.findall(r"\\begin\{(?:equation|align|gather|multline)\*?\}",
                               TEX.read_text(encoding="utf-8")))
    assert blocks > 0 and equations >= blocks, (equations, blocks)


def test_both_framework_tabs_appear_labelled(text):
    """Does every Keras/PyTorch tab of the chapters appear in the PDF under its label (one after
    the other, as a PDF cannot switch tabs)?"""
    labels: dict[str, int] = {}
    for name in toc_files():
        for label in re.findall(r"\{tab-item\}\s+(.+)$", (ROOT / f"{name}.md").read_text(), re.M):
            labels[label.strip()] = labels.get(label.strip(), 0) + 1
    assert {"Keras", "PyTorch"} <= set(labels), labels
    lines = [line.strip() for line in text.splitlines()]
    short = {label: lines.count(label) for label in labels if lines.count(label) < labels[label]}
    assert not short, f"tab labels seen fewer times than the chapters have tabs: {short} of {labels}"


def test_the_bibliography_lists_every_entry(pages):
    """Does the bibliography (after the last 'Bibliography' heading) number every entry of
    references.bib, [1] to [n]?"""
    entries = len(re.findall(r"^@\w+\s*\{", (ROOT / "references.bib").read_text(encoding="utf-8"), re.M))
    start = max(i for i, page in enumerate(pages) if re.search(r"^\s*Bibliography\s*$", page, re.M | re.I))
    labels = {int(n) for n in re.findall(r"^\s*\[(\d+)\]", "\n".join(pages[start:]), re.M)}
    assert entries > 0 and labels == set(range(1, entries + 1)), (sorted(labels), entries)


def test_output_tables_are_tables_not_reprs(text):
    """Are pandas Stylers printed as their tables, not as '<pandas...Styler at 0x...>' (the
    text/plain fallback that LaTeX builds would otherwise show)?"""
    reprs = re.findall(r"<[\w.]+ (?:object )?at 0x[0-9a-f]+>", text)
    assert not reprs, reprs[:5]


def test_the_site_links_the_pdf(built_pdf):
    """Does the intro page link the PDF, and does the site serve the very PDF that LaTeX made?"""
    intro = (SITE / "chapters" / "intro.html").read_text(encoding="utf-8")
    assert 'href="../lstm-course.pdf"' in intro, "the intro page does not link ../lstm-course.pdf"
    assert built_pdf.read_bytes() == (LATEX_DIR / "lstm-course.pdf").read_bytes(), "stale copy: `make pdf`"


def test_the_website_keeps_its_html_tables():
    """Do the website's pages still show the Stylers as pandas' HTML tables (the conversion to
    docutils tables runs in LaTeX builds only)?"""
    if not (SITE / "index.html").is_file():
        unavailable(f"the built book is missing ({SITE}/index.html): run `make book` first")
    styled = [page.name for page in (SITE / "chapters").glob("*.html")
              if re.search(r'<table id="T_\w+"', page.read_text(encoding="utf-8"))]
    assert styled, "no page has a pandas Styler table any more"


# Skipping and failing -----------------------------------------------------------------------------

def test_missing_tex_fails_in_ci_and_skips_elsewhere():
    """Does a missing TeX fail the run in CI (CI=true) and only skip it elsewhere?"""
    with pytest.raises(pytest.fail.Exception, match="CI must build"):
        unavailable("no xelatex", environ={"CI": "true"})
    with pytest.raises(pytest.skip.Exception, match="no xelatex"):
        unavailable("no xelatex", environ={})


def test_ci_installs_the_packages_the_makefile_lists():
    """Does .ci/run install every Debian package of the Makefile's PDF_PACKAGES (the list that the
    skip message and `make pdf` name), without the recommends that would double the download?"""
    packages = pdf_packages().split()
    assert {"texlive-xetex", "latexmk", "poppler-utils"} <= set(packages)
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").replace("\\\n", " ")
    tex_line = next((line for line in script.splitlines() if "texlive-xetex" in line), "")
    assert "--no-install-recommends" in tex_line
    assert all(package in tex_line.split() for package in packages), (packages, tex_line)


# book_ext/latex_tables.py: HTML output tables as LaTeX tables --------------------------------------

STYLER_HTML = """<style type="text/css">#T_1 td {color: red}</style>
<table id="T_1"><caption>Gates</caption>
  <thead>
    <tr><th class="blank">&nbsp;</th><th class="blank level0">&nbsp;</th>
        <th class="col_heading">mean</th><th class="col_heading">max</th></tr>
    <tr><th class="index_name">library</th><th class="index_name">start</th><th></th><th></th></tr>
  </thead>
  <tbody>
    <tr><th rowspan="2">Keras</th><th>uniform</th><td>0.021</td><td>1.103</td></tr>
    <tr><th>GloVe</th><td>0.510</td><td>3.257</td></tr>
    <tr><th>PyTorch</th><th>normal</th><td>0.721</td><td>3.545</td></tr>
  </tbody>
</table>"""


def texts(lines):
    return [[None if cell is None else cell.text for cell in line] for line in lines]


def test_a_styler_table_with_a_row_span_is_laid_out_on_a_grid():
    """Does a Styler's HTML (style block, caption, two header rows, a row-spanning index label)
    become a rectangular grid with the label in the first row of its span and blanks below?"""
    table = latex_tables.parse_html_table(STYLER_HTML)
    assert table.caption == "Gates" and table.text_around == ""
    assert texts(latex_tables.grid(table.head)) == [["", "", "mean", "max"], ["library", "start", "", ""]]
    assert texts(latex_tables.grid(table.body)) == [["Keras", "uniform", "0.021", "1.103"],
                                                    ["", "GloVe", "0.510", "3.257"],
                                                    ["PyTorch", "normal", "0.721", "3.545"]]


def test_a_column_span_leaves_room_for_the_columns_it_covers():
    """Does a cell spanning two columns keep its place, so the next cell lands in the third column?"""
    table = latex_tables.parse_html_table(
        "<table><tr><th colspan='2'>both</th><th>c</th></tr><tr><td>1</td><td>2</td><td>3</td></tr></table>")
    assert texts(latex_tables.grid(table.body)) == [["both", None, "c"], ["1", "2", "3"]]


def test_only_html_with_exactly_one_table_is_converted():
    """Is HTML without a table, or with two, left alone (None), while text beside one table is kept?"""
    assert latex_tables.parse_html_table("<div><b>no table</b></div>") is None
    assert latex_tables.parse_html_table("<table><tr><td>1</td></tr></table>" * 2) is None
    table = latex_tables.parse_html_table("<div><table><tr><td>1</td></tr></table><p>5 rows × 1 columns</p></div>")
    assert table.text_around == "5 rows × 1 columns"


def test_the_table_becomes_docutils_nodes_with_a_header_and_a_title():
    """Are the docutils nodes a table titled by the caption, with a thead, bold header cells and a
    morecols entry for a column span?"""
    from docutils import nodes

    table = latex_tables.parse_html_table(STYLER_HTML)
    [node] = latex_tables.table_nodes(table)
    assert isinstance(node, nodes.table) and node[0].astext() == "Gates"
    group = node[1]
    assert group["cols"] == 4 and len(list(group.findall(nodes.thead))) == 1
    first_body_row = next(group.findall(nodes.tbody))[0]
    assert first_body_row[0].astext() == "Keras" and isinstance(first_body_row[0][0][0], nodes.strong)
    spanned = latex_tables.table_nodes(latex_tables.parse_html_table(
        "<table><tr><th colspan='2'>both</th></tr><tr><td>1</td><td>2</td></tr></table>"))[0]
    assert next(spanned.findall(nodes.entry))["morecols"] == 1
