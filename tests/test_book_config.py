"""Fast checks of the book's configuration and sources (no build): toc, citations, MathJax, repository and
launch links, version, last change and how to cite the course."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "book_tools"))

import book_ext  # noqa: E402
import release_notebooks  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
SPHINX = CONFIG["sphinx"]["config"]
DESIGN_KEYS = """hochreiter1997lstm gers2000forget bengio1994learning pascanu2013difficulty cho2014learning
chung2014empirical greff2017odyssey jozefowicz2015empirical britz2017massive pennington2014glove maas2011imdb
graves2013generating karpathy2015unreasonable olah2015understanding gal2016dropout chollet2021deep
srivastava2014dropout protopapas_cs109b_lstm kingma2015adam bahdanau2015attention sutskever2014sequence
vaswani2017attention""".split()
#: the five documents the course was written from (../shared/sources): unpublished slide decks and a lab,
#: found by their title and institution, not by a DOI or URL, and dated only where the document gives a date
SOURCE_KEYS = """wang_lstm_slides protopapas_cs109b_lstm lab_heart_of_darkness chouhan_patil_srh_lstm
selpi2020chalmers""".split()
CITE_ROLE = re.compile(r"\{(?:foot)?cite(?::[a-z]+)?\}`([^`]+)`")


def bib_entries() -> dict:
    from pybtex.database import parse_file

    return parse_file(str(ROOT / "references.bib"), bib_format="bibtex").entries


def chapter_sources() -> list[Path]:
    return sorted((ROOT / "chapters").glob("*.md"))


def test_every_toc_file_exists():
    """Does every page that _toc.yml lists exist as chapters/<name>.md (or .ipynb)?"""
    names = release_notebooks.toc_docnames(TOC)
    assert names[0] == "chapters/intro"
    missing = [n for n in names if not any((ROOT / f"{n}{s}").is_file() for s in (".md", ".ipynb"))]
    assert not missing, f"pages in _toc.yml without a file: {missing}"
    assert len(names) == len(set(names)), "a page is listed twice in _toc.yml"


def test_every_chapter_file_is_in_the_toc():
    """Is every Markdown file in chapters/ part of the book (only_build_toc_files drops the rest)?"""
    listed = {f"{n}.md" for n in release_notebooks.toc_docnames(TOC)}
    stray = [p.relative_to(ROOT).as_posix() for p in chapter_sources()
             if p.relative_to(ROOT).as_posix() not in listed]
    assert not stray, f"chapter files missing from _toc.yml: {stray}"


def test_every_cited_key_is_in_references_bib():
    """Does every {cite}`key` used in the chapters have an entry in references.bib?"""
    entries = {key.lower() for key in bib_entries()}
    unknown = {}
    for path in chapter_sources():
        for match in CITE_ROLE.finditer(path.read_text(encoding="utf-8")):
            for key in (k.strip() for k in match.group(1).split(",")):
                if key.lower() not in entries:
                    unknown.setdefault(path.name, []).append(key)
    assert not unknown, f"citation keys missing from references.bib: {unknown}"


def test_references_bib_is_complete():
    """Has references.bib every key of the course design, each with authors, title, year and a
    venue, and a DOI, URL or ISBN to find it?"""
    entries = bib_entries()
    missing = set(DESIGN_KEYS + SOURCE_KEYS) - set(entries)
    assert not missing, f"missing keys: {missing}"
    venue = {"article": "journal", "inproceedings": "booktitle", "book": "publisher", "misc": "howpublished",
             "phdthesis": "school", "mastersthesis": "school", "techreport": "institution"}
    for key, entry in entries.items():
        fields = {k.lower() for k in entry.fields}
        assert entry.persons.get("author"), f"{key}: no authors"
        assert "title" in fields, f"{key}: no title"
        needed = venue.get(entry.type)
        if needed and not (entry.type == "misc" and "eprint" in fields):
            assert needed in fields, f"{key}: no {needed}"
        if key in SOURCE_KEYS:
            # a source document: where it gives no date, the entry says so instead of inventing a year
            note = entry.fields.get("note", "")
            assert "year" in fields or note.startswith("Undated"), f"{key}: neither a year nor 'Undated'"
            assert "source documents" in note, f"{key}: the note does not say it is a source document"
            continue
        assert "year" in fields, f"{key}: no year"
        assert fields & {"doi", "url", "isbn"}, f"{key}: no DOI, URL or ISBN"


def test_chapters_store_no_outputs():
    """Are the chapters Markdown notebooks without outputs: no .ipynb tracked in chapters/, and
    every notebook page in the MyST text format (which has no place for outputs)?"""
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "chapters"], capture_output=True,
                             text=True, check=True).stdout.split()
    assert not [p for p in tracked if p.endswith(".ipynb")], "an .ipynb is committed in chapters/"
    for path in chapter_sources():
        text = path.read_text(encoding="utf-8")
        if release_notebooks.is_notebook(text):
            header = yaml.safe_load(text.split("---", 2)[1])
            fmt = header.get("jupytext", {}).get("text_representation", {}).get("format_name")
            assert fmt == "myst", f"{path.name}: jupytext format {fmt!r}, expected 'myst'"
            assert header["kernelspec"]["name"] == "python3", f"{path.name}: kernel is not python3"


def test_mathjax_is_served_from_html_extra_path_not_static():
    """Does mathjax_path point at a file of an html_extra_path folder (outside _static/), the
    folder that book_tools/fetch_mathjax.sh fills with a pinned MathJax 3?"""
    site = book_ext.mathjax_site_path(SPHINX["mathjax_path"])
    assert site is not None, "mathjax_path is a URL: maths would need the network"
    assert not site.startswith("_static/"), "MathJax must not live under _static/"
    extra = SPHINX["html_extra_path"]
    assert all(not e.strip("/").startswith("_static") for e in extra)
    script = (ROOT / "book_tools" / "fetch_mathjax.sh").read_text(encoding="utf-8")
    version = re.search(r'MATHJAX_VERSION="([^"]+)"', script).group(1)
    assert version == book_ext.MATHJAX_VERSION and re.fullmatch(r"3\.\d+\.\d+", version)
    target = re.search(r'TARGET="\$CACHE/([^"]+)"', script).group(1)
    assert (Path(".book_cache") / target) in [Path(e) / Path(site).parent for e in extra]


def test_mathjax_site_path_follows_sphinx_static_prefix():
    """Does a relative mathjax_path resolve as Sphinx resolves it, from _static/?"""
    assert book_ext.mathjax_site_path("../mathjax/tex-chtml.js") == "mathjax/tex-chtml.js"
    assert book_ext.mathjax_site_path("mathjax/tex-chtml.js") == "_static/mathjax/tex-chtml.js"
    assert book_ext.mathjax_site_path("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js") is None
    with pytest.raises(ValueError):
        book_ext.mathjax_site_path("../../mathjax.js")


def test_execution_and_parsing_settings():
    """Is execution cached, strict and quiet, and are only the book's files read?"""
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["allow_errors"] is False
    assert execute["stderr_output"] == "remove"
    assert execute["timeout"] >= 600
    assert CONFIG["only_build_toc_files"] is True
    excluded = set(CONFIG["exclude_patterns"])
    assert {".venv", "exercises", "solutions", "autograder", "tests", "benchmarks", "README.md",
            "_build", ".book_cache", "node_modules", "chapters/*.ipynb"} <= excluded
    assert {"amsmath", "colon_fence", "deflist", "dollarmath", "substitution"} <= set(
        CONFIG["parse"]["myst_enable_extensions"])
    assert "sphinx_design" in CONFIG["sphinx"]["extra_extensions"]
    assert CONFIG["bibtex_bibfiles"] == ["references.bib"]


def test_launch_links_open_ipynb():
    """Do the rewritten Colab and Binder links open the paired .ipynb on the notebooks branch of the
    configured repository?"""
    repo = book_ext.resolve_repository("", {book_ext.REPOSITORY_ENV: "someone/their-course"})
    colab = book_ext.launch_url("Colab", repo, "notebooks", "chapters/lstm_cell.ipynb",
                                CONFIG["launch_buttons"]["colab_url"])
    assert colab == ("https://colab.research.google.com/github/someone/their-course/blob/"
                     "notebooks/chapters/lstm_cell.ipynb")
    binder = book_ext.launch_url("Binder", repo, "notebooks", "chapters/lstm_cell.ipynb",
                                 CONFIG["launch_buttons"]["binderhub_url"], "jupyterlab")
    assert binder == ("https://mybinder.org/v2/gh/someone/their-course/notebooks"
                      "?urlpath=lab/tree/chapters/lstm_cell.ipynb")
    assert SPHINX["lstm_notebooks_branch"] == "notebooks"


def test_repository_is_set_in_one_place():
    """Is the repository set only by _config.yml's repository.url (empty: none configured, no
    placeholder), with the buttons left to book_ext, and named nowhere else in the book's sources?"""
    url = CONFIG["repository"]["url"]
    assert url == "" or book_ext.resolve_repository(url, {}) == url.rstrip("/")
    assert "lstm-course/lstm-course" not in (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert not set(CONFIG["html"]) & set(book_ext.REPOSITORY_BUTTONS), (
        "use_*_button in _config.yml: book_ext switches them on when a repository is configured")
    for path in [*chapter_sources(), ROOT / "_toc.yml"]:
        text = path.read_text(encoding="utf-8")
        assert "lstm-course/lstm-course" not in text, f"{path.name} links to the old placeholder repository"
        if url:
            assert url.rstrip("/") not in text, f"{path.name} types the repository URL: use the one setting"


def test_repository_env_var_overrides_the_config():
    """Does $LSTM_COURSE_REPOSITORY win over repository.url, accept owner/name and a URL (with .git
    or a trailing slash), and does an empty setting mean no repository?"""
    env = book_ext.REPOSITORY_ENV
    assert book_ext.resolve_repository("https://github.com/a/b", {env: "c/d"}) == "https://github.com/c/d"
    assert book_ext.resolve_repository("https://github.com/a/b/", {}) == "https://github.com/a/b"
    assert book_ext.resolve_repository("", {env: "https://github.com/c/d.git"}) == "https://github.com/c/d"
    assert book_ext.resolve_repository("", {env: "  "}) == ""
    assert book_ext.resolve_repository(None, {}) == ""


@pytest.mark.parametrize("value", ["http://github.com/a/b", "https://gitlab.com/a/b", "github.com/a/b",
                                   "https://github.com/a", "https://github.com/a/b/tree/main", "a/b/c"])
def test_a_repository_that_is_not_one_is_refused(value):
    """Is a value that is not a GitHub repository refused with a message naming where it was set
    and what to write instead?"""
    with pytest.raises(ValueError, match=r"LSTM_COURSE_REPOSITORY.*owner/name.*leave it empty"):
        book_ext.resolve_repository("", {book_ext.REPOSITORY_ENV: value})
    with pytest.raises(ValueError, match=r"repository.url in _config.yml"):
        book_ext.resolve_repository(value, {})


def test_buttons_follow_the_repository():
    """With a repository, are the repository, issue and edit buttons on and the launch services kept;
    without one, are all of them off and the launch services dropped (sphinx-book-theme would
    otherwise build launch links from no repository)?"""
    theme = {"launch_buttons": dict(CONFIG["launch_buttons"]), "repository_branch": "main"}
    with_repo = book_ext.repository_theme_options(theme, "https://github.com/a/b")
    assert with_repo["repository_url"] == "https://github.com/a/b"
    assert all(with_repo[key] is True for key in book_ext.REPOSITORY_BUTTONS)
    assert with_repo["launch_buttons"] == CONFIG["launch_buttons"]
    without = book_ext.repository_theme_options(theme, "")
    assert all(without[key] is False for key in book_ext.REPOSITORY_BUTTONS)
    assert not set(without["launch_buttons"]) & set(book_ext.LAUNCH_SERVICES)
    assert without["launch_buttons"]["notebook_interface"] == "jupyterlab"
    assert theme["launch_buttons"] == CONFIG["launch_buttons"], "the caller's options were changed"


def test_citation_file_matches_the_package():
    """Has CITATION.cff the fields the Citation File Format requires, the book's title and the
    version of pyproject.toml (the one the footer shows), and no repository URL of its own?"""
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert {"cff-version", "message", "title", "authors"} <= set(cff)
    assert cff["title"] == CONFIG["title"]
    assert str(cff["version"]) == book_ext.course_version(), "CITATION.cff and pyproject.toml disagree"
    assert not {"repository-code", "url", "repository"} & set(cff), (
        "the repository is set in _config.yml / $LSTM_COURSE_REPOSITORY only")


def test_citation_bibtex_parses_and_carries_version_and_url():
    """Is the BibTeX of the intro page valid (pybtex reads it back) with the version and, only when
    a repository is configured, its URL; are corporate and personal authors written correctly?"""
    from pybtex.database import parse_string

    cff = {"title": "LSTM networks: a course", "authors": [
        {"name": "The LSTM course authors"}, {"family-names": "Doe", "given-names": "Jane"}]}
    entry = parse_string(book_ext.citation_bibtex(cff, "1.2.3", "https://github.com/a/b", "2026"),
                         "bibtex").entries["lstm_course"]
    assert entry.fields["version"] == "1.2.3" and entry.fields["note"] == "Version 1.2.3"
    assert entry.fields["url"] == "https://github.com/a/b" and entry.fields["year"] == "2026"
    assert [str(p) for p in entry.persons["author"]] == ["{The LSTM course authors}", "Doe, Jane"]
    bare = parse_string(book_ext.citation_bibtex(cff, "1.2.3"), "bibtex").entries["lstm_course"]
    assert "url" not in bare.fields
    with pytest.raises(ValueError, match="CITATION.cff lacks authors"):
        book_ext.citation_bibtex({"title": "x"}, "1.0")


def test_last_change_comes_from_git(tmp_path):
    """Is a page's date the date of the last commit of its source, marked when the file has edits
    not yet committed, and plainly "not recorded" outside a git repository?"""
    page = tmp_path / "page.md"
    page.write_text("# A page\n")
    assert book_ext.last_change(page, tmp_path).startswith("date of the last change not recorded")
    git = lambda *a: subprocess.run(["git", "-C", str(tmp_path), *a], check=True, capture_output=True)
    git("init", "-q")
    git("add", "page.md")
    date = "2024-02-29T12:00:00+00:00"
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org",
                    "commit", "-q", "-m", "page"], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    assert book_ext.last_change(page, tmp_path) == "this page last changed on 2024-02-29"
    page.write_text("# A page, edited\n")
    assert book_ext.last_change(page, tmp_path).endswith("(and has edits not yet committed)")


def test_course_version_is_pyprojects():
    """Is the version the footer shows the one in pyproject.toml?"""
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert book_ext.course_version() == version and re.fullmatch(r"\d+\.\d+\.\d+\S*", version)


def test_a_missing_version_is_a_clear_error(tmp_path):
    """Without a pyproject.toml that sets project.version, does the build stop with a message that
    says which file to fix?"""
    with pytest.raises(ValueError, match=r"pyproject.toml must exist and set project.version"):
        book_ext.course_version(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ValueError, match=r"must exist and set project.version"):
        book_ext.course_version(tmp_path)


def test_strip_stderr_keeps_other_outputs(tmp_path):
    """Does the download clean-up drop stderr streams and keep stdout and results?"""
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{
        "cell_type": "code", "source": "", "metadata": {}, "execution_count": 1, "outputs": [
            {"output_type": "stream", "name": "stderr", "text": "W0000 oneDNN ...\n"},
            {"output_type": "stream", "name": "stdout", "text": "ok\n"}]}]}
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb))
    assert book_ext.strip_stderr(path) is True
    outputs = json.loads(path.read_text())["cells"][0]["outputs"]
    assert [o["name"] for o in outputs] == ["stdout"]
    assert book_ext.strip_stderr(path) is False


NOTEBOOK_MD = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{code-cell} ipython3
print(1 + 1)
```
"""


def test_release_commits_paired_notebooks_on_a_branch(tmp_path, monkeypatch):
    """Does the release step put chapters/<name>.ipynb (valid, no outputs) beside the sources on
    the notebooks branch, without touching the work tree, and only for notebook pages?"""
    repo = tmp_path / "repo"
    (repo / "chapters").mkdir(parents=True)
    (repo / "_toc.yml").write_text("format: jb-book\nroot: chapters/intro\nchapters:\n"
                                   "  - file: chapters/lesson\n")
    (repo / "chapters" / "intro.md").write_text("# Intro\n\nPlain page.\n")
    (repo / "chapters" / "lesson.md").write_text(NOTEBOOK_MD)
    run = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True,
                                    text=True).stdout
    run("init", "-q", "-b", "main")
    run("add", ".")
    run("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "sources")
    for key in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(key, "t")
    for key in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(key, "t@example.org")
    first = release_notebooks.release(repo)
    again = release_notebooks.release(repo)
    assert first == again, "an unchanged release must not add a commit"
    files = run("ls-tree", "-r", "--name-only", "notebooks").split()
    assert sorted(files) == ["_toc.yml", "chapters/intro.md", "chapters/lesson.ipynb", "chapters/lesson.md"]
    notebook = json.loads(run("show", "notebooks:chapters/lesson.ipynb"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and "".join(code[0]["source"]) == "print(1 + 1)" and code[0]["outputs"] == []
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    assert run("status", "--porcelain") == "" and run("branch", "--show-current").strip() == "main"


def test_graded_exercises_page_lists_every_assignment():
    """Does the graded-exercises page offer each assignment's student notebook as a download served
    with the site (not a link into a repository), and only notebooks that exist?"""
    page = (ROOT / "chapters" / "graded_exercises.md").read_text(encoding="utf-8")
    linked = re.findall(r"\{download\}`(\w+)\.ipynb </exercises/(\w+)/(\w+)\.ipynb>`", page)
    assert linked, "no notebook downloads found on the page"
    for name, folder, notebook in linked:
        assert name == folder == notebook, (name, folder, notebook)
        assert (ROOT / "exercises" / folder / f"{notebook}.ipynb").is_file(), f"missing exercises/{folder}"
    assignments = {p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name}
    assert {name for name, _, _ in linked} == assignments
    assert "/blob/" not in page and "github.com" not in page
