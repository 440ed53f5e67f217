"""book_ext in a real Jupyter Book build of a two-page toy book with a repository configured, as the
deployment workflow builds the site (the course's own build has none configured on this machine).

The toy book is not in git, so its footer shows the fallback for a build without git history.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import book_ext  # noqa: E402

pytestmark = pytest.mark.slow  # one Jupyter Book build, ~20 s

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"

CONFIG = """\
title: Toy book
author: Toy authors
copyright: "2031"
only_build_toc_files: true
execute:
  execute_notebooks: "off"
repository:
  url: ""
  branch: main
launch_buttons:
  notebook_interface: jupyterlab
  binderhub_url: https://mybinder.org
  colab_url: https://colab.research.google.com
sphinx:
  local_extensions:
    book_ext: {root}
  config:
    html_extra_path: [extra]
    mathjax_path: ../mathjax/tex-chtml.js
"""

NOTEBOOK = """\
---
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

# A notebook page

```{code-cell} ipython3
1 + 1
```
"""


@pytest.fixture(scope="module")
def toy_site(tmp_path_factory) -> Path:
    """The toy book built strictly (-W -n) with LSTM_COURSE_REPOSITORY=someone/their-course."""
    book = tmp_path_factory.mktemp("toy_book")
    (book / "_config.yml").write_text(CONFIG.format(root=ROOT))
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: lesson\n")
    (book / "intro.md").write_text("# Toy intro\n\n## How to cite\n\n```{course-citation}\n```\n")
    (book / "lesson.md").write_text(NOTEBOOK)
    (book / "pyproject.toml").write_text('[project]\nname = "toy"\nversion = "9.8.7"\n')
    (book / "CITATION.cff").write_text(textwrap.dedent("""\
        cff-version: 1.2.0
        message: Cite it.
        title: Toy book
        authors:
          - name: Toy authors
        version: 9.8.7
        """))
    (book / "extra" / "mathjax").mkdir(parents=True)
    (book / "extra" / "mathjax" / "tex-chtml.js").write_text("/* stand-in for MathJax */\n")
    env = {**os.environ, book_ext.REPOSITORY_ENV: "someone/their-course"}
    result = subprocess.run([str(JUPYTER_BOOK), "build", str(book), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return book / "_build" / "html"


def test_buttons_use_the_repository_from_the_environment(toy_site):
    """With the repository given only by LSTM_COURSE_REPOSITORY, does the notebook page get the
    repository, issue and edit buttons and Colab/Binder links to that repository's notebooks?"""
    page = (toy_site / "lesson.html").read_text(encoding="utf-8").replace("&amp;", "&")
    repo = "https://github.com/someone/their-course"
    assert f'href="{repo}"' in page
    assert f"{repo}/issues/new?title=" in page
    assert f"{repo}/edit/main/lesson.md" in page
    assert "https://colab.research.google.com/github/someone/their-course/blob/notebooks/lesson.ipynb" in page
    assert "https://mybinder.org/v2/gh/someone/their-course/notebooks?urlpath=lab/tree/lesson.ipynb" in page
    info = json.loads((toy_site / book_ext.BUILD_INFO).read_text())
    assert info["repository"] == repo and info["course_version"] == "9.8.7"
    assert info["launch_services"] == ["binderhub_url", "colab_url"]


def test_footer_and_citation_without_git_history(toy_site):
    """Outside a git checkout, does the footer show the version and say plainly that the date of
    the last change is not recorded, and does the citation carry the version and the repository?"""
    page = (toy_site / "intro.html").read_text(encoding="utf-8")
    footer = " ".join(re.search(r'<p class="lstm-provenance">(.*?)</p>', page, re.S).group(1).split())
    assert footer == ("LSTM course version 9.8.7; date of the last change not recorded "
                      "(built without git history).")
    bibtex = re.sub(r"<[^>]+>", "", re.search(r'highlight-bibtex.*?<pre>(.*?)</pre>', page, re.S).group(1))
    assert "version = {9.8.7}" in bibtex and "url = {https://github.com/someone/their-course}" in bibtex
    assert "year = {2031}" in bibtex
