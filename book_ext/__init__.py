"""Sphinx extension of the LSTM course book: local MathJax, launch links, repository, page footer, citation.

Loaded by Jupyter Book through `sphinx.local_extensions` in _config.yml. What it does:

1. At `builder-inited`, checks that `mathjax_path` points at a file inside one of the
   `html_extra_path` folders (the local MathJax copy), and runs book_tools/fetch_mathjax.sh once
   when the copy is missing (fresh clone). Without it the maths would load from a CDN and show
   as raw TeX offline, so a missing copy is an error, not a warning.
2. At `html-page-context` (after sphinx-book-theme built its buttons), points the Colab and
   Binder launch buttons of every notebook page at the paired notebook `chapters/<name>.ipynb`
   on the release branch `lstm_notebooks_branch` (default ``notebooks``), written by
   book_tools/release_notebooks.py. sphinx-book-theme would otherwise link the MyST `.md`
   source, which Colab cannot open (it switches to `.ipynb` only when an `.ipynb` sits beside
   the `.md` in the work tree, and uses the same branch as the edit button).
3. At `html-page-context`, removes repeated inline scripts (sphinx-thebe's configuration is
   added twice with this stack, a JavaScript SyntaxError in every page's console).
4. At `build-finished`, drops stderr streams from the executed notebooks that the theme copies to
   `_build/html/_sources/` for the ".ipynb" download button, as on the pages (no TF log lines).
5. At `config-inited`, settles the course's repository in one place: `repository.url` of
   _config.yml, overridden by the environment variable LSTM_COURSE_REPOSITORY (``owner/name`` or
   a URL; the deployment workflow sets it to the repository the site is built from). With a
   repository the repository, issue and edit buttons and the Colab/Binder launch buttons are
   shown; without one none of them is, and notebook pages keep their ".ipynb" download button.
   `build-finished` writes `build-info.json` at the site root (version, repository, commit), so
   tests of the built site know what it was built with.
6. On every page (`html-page-context` + templates/page-provenance.html in the footer): the
   course version (pyproject.toml) and the date of the page source's last commit (git), or a
   plain "not recorded" when the book is built outside a git checkout.
7. The directive ``{course-citation}`` renders the BibTeX entry of the course from CITATION.cff,
   with the version from pyproject.toml and the configured repository as its URL.
8. In LaTeX builds (`make pdf`), notebook outputs whose HTML is a table (pandas DataFrames and
   Stylers) become real tables instead of their text/plain fallback (latex_tables.py).
9. Notebooks that run anywhere: at `build-finished` the helper package is built as a wheel into
   `packages/` of the site (`lstm_course-<version>-py3-none-any.whl`), and the install cell that
   starts every notebook the site serves (`_sources/`, `_downloads/`: lstm_course/install.py) gets
   the wheel's address on the site. The site's address is set in one place, `html.baseurl` of
   _config.yml, overridden by $LSTM_COURSE_SITE_URL (the deployment workflow sets it to the GitHub
   Pages address); without one the cells keep an empty address and say what to do.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

import yaml

MATHJAX_VERSION = "3.2.2"  # keep in step with book_tools/fetch_mathjax.sh
ROOT = Path(__file__).resolve().parent.parent
FETCH_SCRIPT = ROOT / "book_tools" / "fetch_mathjax.sh"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: overrides `repository.url` of _config.yml: ``owner/name`` (GitHub) or https://github.com/owner/name
REPOSITORY_ENV = "LSTM_COURSE_REPOSITORY"
#: overrides `html.baseurl` of _config.yml: the address of the site's root, e.g. https://owner.github.io/name/
SITE_URL_ENV = "LSTM_COURSE_SITE_URL"
#: theme options of the buttons that link into the repository (sphinx-book-theme, pydata-sphinx-theme)
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")
#: `launch_buttons` keys of services that open a page's notebook from the repository
LAUNCH_SERVICES = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "jupyterlite_url",
                   "thebe")
#: written at the root of the built site: what it was built with (read by tests/test_links.py)
BUILD_INFO = "build-info.json"
#: the page footer's items: the theme's defaults plus our version/last-change line
FOOTER_ITEMS = ["author.html", "copyright.html", "page-provenance.html", "last-updated.html",
                "extra-footer.html"]


def mathjax_site_path(mathjax_path: str) -> str | None:
    """Where `mathjax_path` lands relative to the site root, or None for a URL.

    Sphinx joins a relative `mathjax_path` to `_static/`, so ``../mathjax/tex-chtml.js``
    means ``mathjax/tex-chtml.js`` at the root of the built site.
    """
    if "://" in mathjax_path or mathjax_path.startswith("//"):
        return None
    site = posixpath.normpath(posixpath.join("_static", mathjax_path))
    if site.startswith("../") or site == "..":
        raise ValueError(f"mathjax_path {mathjax_path!r} points outside the built site")
    return site


def find_mathjax_file(confdir: Path, extra_paths: list[str], mathjax_path: str) -> Path | None:
    """The file in one of the `html_extra_path` folders that is served as `mathjax_path`."""
    site = mathjax_site_path(mathjax_path)
    if site is None:
        return None
    for extra in extra_paths:
        candidate = (Path(confdir) / extra / site).resolve()
        if candidate.is_file():
            return candidate
    return None


def launch_url(provider: str, repo_url: str, branch: str, path_in_repo: str,
               provider_url: str, notebook_interface: str = "classic") -> str:
    """URL that opens `path_in_repo` (an .ipynb) of a GitHub repository in Colab or Binder."""
    org, repo = repo_url.rstrip("/").split("github.com/")[-1].split("/")[:2]
    provider_url = provider_url.rstrip("/")
    if provider == "Colab":
        return f"{provider_url}/github/{org}/{repo}/blob/{branch}/{path_in_repo}"
    if provider == "Binder":
        ui = {"classic": "tree", "jupyterlab": "lab/tree"}[notebook_interface]
        return f"{provider_url}/v2/gh/{org}/{repo}/{quote(branch)}?urlpath={ui}/{path_in_repo}"
    raise ValueError(f"no .ipynb launch link for provider {provider!r}")


def _check_mathjax(app) -> None:
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    if app.builder.format != "html":
        return
    mathjax_path = app.config.mathjax_path
    if mathjax_site_path(mathjax_path) is None:
        logger.warning("mathjax_path %s is a URL: maths will not render offline", mathjax_path)
        return
    extra = list(app.config.html_extra_path)
    found = find_mathjax_file(Path(app.confdir), extra, mathjax_path)
    if found is None and FETCH_SCRIPT.is_file():
        logger.info("local MathJax missing, running %s", FETCH_SCRIPT)
        subprocess.run(["bash", str(FETCH_SCRIPT)], check=False)
        found = find_mathjax_file(Path(app.confdir), extra, mathjax_path)
    if found is None:
        raise ExtensionError(
            f"local MathJax not found: mathjax_path={mathjax_path!r} is not inside any of "
            f"html_extra_path={extra!r}. Run book_tools/fetch_mathjax.sh (needs npm) first."
        )


def _launch_ipynb(app, pagename, templatename, context, doctree) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    theme = app.config.html_theme_options
    repo_url = theme.get("repository_url", "")
    options = theme.get("launch_buttons", {})
    branch = app.config.lstm_notebooks_branch
    source = app.env.doc2path(pagename, False)
    book_dir = theme.get("path_to_docs", "").strip("/")
    path_in_repo = posixpath.join(book_dir, str(Path(source).with_suffix(".ipynb").as_posix()))
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("type") != "link":
                continue
            provider = button.get("text")
            key = {"Colab": "colab_url", "Binder": "binderhub_url"}.get(provider)
            if key is None:
                logger.warning("launch button %s is not rewritten to .ipynb", provider,
                               location=pagename)
                continue
            button["url"] = launch_url(provider, repo_url, branch, path_in_repo, options[key],
                                       options.get("notebook_interface", "classic"))


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated inline scripts: sphinx-thebe's `const THEBE_JS_URL = ...` appears twice on
    every page with this Sphinx/Jupyter Book stack, and the second copy is a console SyntaxError."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for js in scripts:
        # the same inline script comes once with filename None and once with "" (registry vs builder)
        key = (getattr(js, "filename", js) or "", tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def strip_stderr(notebook: Path) -> bool:
    """Remove stderr stream outputs from an .ipynb file in place; True if it changed."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    changed = False
    for cell in nb.get("cells", []):
        outputs = cell.get("outputs")
        if not outputs:
            continue
        kept = [o for o in outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        if len(kept) != len(outputs):
            cell["outputs"] = kept
            changed = True
    if changed:
        notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def _clean_downloads(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    if sources.is_dir():
        for notebook in sources.rglob("*.ipynb"):
            strip_stderr(notebook)


def build_wheel(root: Path, target: Path) -> Path:
    """Build the helper package's wheel (lstm_course and autograder, pyproject.toml) into `target`, from a copy of
    the sources (a build in the checkout would leave build/ behind); returns the wheel's path."""
    import tempfile

    from lstm_course import install

    target.mkdir(parents=True, exist_ok=True)
    name = install.wheel_name(course_version(root))
    with tempfile.TemporaryDirectory(prefix="lstm_wheel_") as tmp:
        copy = Path(tmp) / "src"
        copy.mkdir()
        shutil.copy2(root / "pyproject.toml", copy / "pyproject.toml")
        for package in ("lstm_course", "autograder"):
            shutil.copytree(root / package, copy / package,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "workspace"))
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                                 "--no-build-isolation", "--wheel-dir", str(Path(tmp) / "dist"), str(copy)],
                                capture_output=True, text=True)
        built = Path(tmp) / "dist" / name
        if result.returncode != 0 or not built.is_file():
            raise RuntimeError(f"building the helper package's wheel {name} failed: {result.stderr[-2000:]}")
        for old in target.glob("lstm_course-*.whl"):
            old.unlink()
        shutil.copy2(built, target / name)
    return target / name


def filled_notebook(text: str, package_url: str) -> str:
    """The .ipynb `text` with the wheel's address in its install cell, written as nbformat writes notebooks
    (sources as lists of lines, one-space indent), so that nothing else of the file changes; unchanged when
    there is no address or no install cell."""
    from lstm_course import install

    if not package_url or "COURSE_PACKAGE = " not in text:
        return text
    nb = json.loads(text)
    for cell in nb.get("cells", []):
        lines = cell.get("source", "")
        source = "".join(lines) if isinstance(lines, list) else lines
        if cell.get("cell_type") == "code" and install.is_install_cell(source):
            new = install.fill(source, package_url)
            cell["source"] = new.splitlines(keepends=True) if isinstance(lines, list) else new
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def fill_install_cells(outdir: Path, package_url: str) -> int:
    """Write the wheel's address into the install cell of every notebook (and MyST source) the site serves;
    returns how many files changed."""
    from lstm_course import install

    changed = 0
    files = [*(outdir / "_sources").rglob("*.ipynb"), *(outdir / "_sources").rglob("*.md.txt"),
             *(outdir / "_sources").rglob("*.md"), *(outdir / "_downloads").rglob("*.ipynb")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        if "COURSE_PACKAGE = " not in text:
            continue
        new = filled_notebook(text, package_url) if path.suffix == ".ipynb" else install.fill_text(text, package_url)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def _publish_package(app, exception) -> None:
    """The wheel in `packages/` of the site, and its address in every served notebook's install cell."""
    if exception is not None or app.builder.format != "html":
        return
    from lstm_course import install

    outdir = Path(app.outdir)
    build_wheel(ROOT, outdir / install.PACKAGE_DIR)
    url = install.package_url(app.config.html_baseurl, app.config.lstm_course_version)
    if url:
        fill_install_cells(outdir, url)



# The course's repository: one setting ------------------------------------------------------------

def resolve_repository(configured: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """URL of the course's repository: $LSTM_COURSE_REPOSITORY if set, else `configured`
    (_config.yml's `repository.url`); "" when neither names one.

    ``owner/name`` means a GitHub repository. Anything but https://github.com/<owner>/<name> is
    refused with a ValueError that says what to set: the Colab and Binder links are GitHub links.
    """
    from_env = environ.get(REPOSITORY_ENV, "").strip()
    value = from_env or (configured or "").strip()
    if not value:
        return ""
    if re.fullmatch(r"[\w.-]+/[\w.-]+", value):
        value = f"https://github.com/{value}"
    parts = urlsplit(value)
    path = parts.path.strip("/").removesuffix(".git")
    if (parts.scheme != "https" or parts.netloc.lower() != "github.com" or parts.query
            or parts.fragment or not re.fullmatch(r"[\w.-]+/[\w.-]+", path)):
        where = f"${REPOSITORY_ENV}" if from_env else "repository.url in _config.yml"
        raise ValueError(
            f"{where} is {value!r}, which is not a GitHub repository: set it to owner/name or "
            f"https://github.com/owner/name, or leave it empty to build the site without "
            f"repository, issue, edit and launch buttons")
    return f"https://github.com/{path}"


def resolve_site_url(configured: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The address of the site's root, ending in "/": $LSTM_COURSE_SITE_URL if set, else `configured`
    (_config.yml's `html.baseurl`); "" when neither gives one. Only https (or http for a local server)."""
    from_env = environ.get(SITE_URL_ENV, "").strip()
    value = from_env or (configured or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment \
            or any(c in value for c in '"\\ '):
        where = f"${SITE_URL_ENV}" if from_env else "html.baseurl in _config.yml"
        raise ValueError(f"{where} is {value!r}, which is not the address of a website's root: set it to e.g. "
                         f"https://owner.github.io/name/ or leave it empty")
    return value.rstrip("/") + "/"


def repository_theme_options(theme: Mapping, repository: str) -> dict:
    """A copy of `html_theme_options` with `repository` and the buttons that need it: shown when
    there is a repository, and without one no repository/issue/edit button and no launch service."""
    options = dict(theme)
    options["repository_url"] = repository
    for key in REPOSITORY_BUTTONS:
        options[key] = bool(repository)
    launch = dict(options.get("launch_buttons") or {})
    if not repository:
        launch = {key: value for key, value in launch.items() if key not in LAUNCH_SERVICES}
    options["launch_buttons"] = launch
    return options


def _configure(app, config) -> None:
    from sphinx.errors import ConfigError

    theme = config.html_theme_options
    try:
        repository = resolve_repository(theme.get("repository_url", ""))
    except ValueError as error:
        raise ConfigError(str(error)) from None
    config.html_theme_options = repository_theme_options(theme, repository)
    # a config value of its own (rebuild "env"), so that pages which show it are re-read when it changes
    config.lstm_course_repository = repository
    try:
        config.html_baseurl = resolve_site_url(config.html_baseurl)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    config.html_theme_options.setdefault("footer_content_items", list(FOOTER_ITEMS))
    config.templates_path = [*config.templates_path, str(TEMPLATES)]


def _offer_ipynb_download(app, pagename, templatename, context, doctree) -> None:
    """Copy the executed notebook to `_sources/` for the ".ipynb" download button when no launch
    service is configured: sphinx-book-theme only does it on its way to building launch links."""
    launch = app.config.html_theme_options.get("launch_buttons", {})
    if doctree is None or any(launch.get(key) for key in LAUNCH_SERVICES):
        return
    if "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


# Version and last change of every page -----------------------------------------------------------

def course_version(root: Path = ROOT) -> str:
    """The course's version: `project.version` of pyproject.toml (the helper package's version)."""
    path = Path(root) / "pyproject.toml"
    try:
        with open(path, "rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"no course version: {path} must exist and set project.version, which every "
                         f"page's footer and the citation show ({error!r})") from None


def _git(root: Path, *args: str) -> str | None:
    """stdout of a git command in `root`, or None when git or the repository is not there."""
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                                timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def last_change(source: Path, root: Path = ROOT) -> str:
    """Footer text for the last change of `source`: the date of the last commit that touched it
    (``git log -1 --format=%cs``), marked when the work tree holds uncommitted edits, or a plain
    "not recorded" when there is no git history for it (a build from a tarball, an untracked file)."""
    date = _git(root, "log", "-1", "--format=%cs", "--", str(source))
    if not date:
        return "date of the last change not recorded (built without git history)"
    if _git(root, "status", "--porcelain", "--", str(source)):
        return f"this page last changed on {date} (and has edits not yet committed)"
    return f"this page last changed on {date}"


def _outdated_by_git(app, env, added, changed, removed) -> list[str]:
    """Pages whose footer date moved since the last build without their source changing (a commit
    of an edit that was built before, or history arriving in a clone): Sphinx re-writes only changed
    pages, so these are marked changed too. Runs before reading, so the dates are kept in the
    pickled environment."""
    known = getattr(env, "lstm_last_change", {})
    current = {doc: last_change(Path(env.doc2path(doc)), Path(app.srcdir)) for doc in env.found_docs}
    env.lstm_last_change = current
    return [doc for doc, text in current.items() if doc in known and known[doc] != text]


def _page_provenance(app, pagename, templatename, context, doctree) -> None:
    """Give the footer template (templates/page-provenance.html) the version and the page's date."""
    context["lstm_course_version"] = app.config.lstm_course_version
    context["page_last_change"] = None
    if doctree is not None and pagename in app.env.found_docs:
        known = getattr(app.env, "lstm_last_change", {})
        context["page_last_change"] = known.get(pagename) or last_change(
            Path(app.env.doc2path(pagename)), Path(app.srcdir))


def _write_build_info(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from lstm_course import install

    launch = app.config.html_theme_options.get("launch_buttons", {})
    info = {
        "course_version": app.config.lstm_course_version,
        "repository": app.config.lstm_course_repository,
        "launch_services": sorted(key for key in LAUNCH_SERVICES if launch.get(key)),
        "commit": _git(Path(app.srcdir), "rev-parse", "HEAD"),
        # the wheel _publish_package builds into the site, and its address written into the served notebooks
        "site_url": app.config.html_baseurl,
        "package": f"{install.PACKAGE_DIR}/{install.wheel_name(app.config.lstm_course_version)}",
        "package_url": install.package_url(app.config.html_baseurl, app.config.lstm_course_version),
    }
    (Path(app.outdir) / BUILD_INFO).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


# How to cite the course --------------------------------------------------------------------------

def citation_bibtex(cff: Mapping, version: str, repository: str = "", year: str = "") -> str:
    """BibTeX entry (@misc, which plain BibTeX and biblatex both know) of the course from the
    data of CITATION.cff, with `version` and, when given, the repository as its URL."""
    missing = [key for key in ("title", "authors") if not cff.get(key)]
    if missing:
        raise ValueError(f"CITATION.cff lacks {', '.join(missing)}: add them (see citation-file-format.github.io)")
    authors = []
    for author in cff["authors"]:
        if "name" in author:  # an entity: braces keep BibTeX from splitting it into first/last names
            authors.append("{" + author["name"] + "}")
        else:
            authors.append(", ".join(p for p in (author.get("family-names"), author.get("given-names")) if p))
    released = str(cff.get("date-released", ""))
    fields = [("author", " and ".join(authors)), ("title", "{" + cff["title"] + "}"),
              ("year", released[:4] or year), ("version", version), ("note", f"Version {version}")]
    if repository:
        fields.append(("url", repository))
    body = ",\n".join(f"  {key} = {{{value}}}" for key, value in fields if value)
    return f"@misc{{lstm_course,\n{body}\n}}"


def _course_citation_directive():
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class CourseCitation(SphinxDirective):
        """``{course-citation}``: the course's BibTeX entry (CITATION.cff + pyproject.toml's version)."""

        has_content = False

        def run(self):
            srcdir = Path(self.env.srcdir)
            cff_path = srcdir / "CITATION.cff"
            for path in (cff_path, srcdir / "pyproject.toml"):
                self.env.note_dependency(str(path))
            cff = yaml.safe_load(cff_path.read_text(encoding="utf-8"))
            year = re.search(r"\d{4}", str(self.config.copyright))
            text = citation_bibtex(cff, self.config.lstm_course_version, self.config.lstm_course_repository,
                                   year.group(0) if year else "")
            block = nodes.literal_block(text, text, language="bibtex")
            self.set_source_info(block)
            return [block]

    return CourseCitation


def setup(app):
    app.add_config_value("lstm_notebooks_branch", "notebooks", "html", types=[str])
    # set by _configure from repository.url / $LSTM_COURSE_REPOSITORY, not in _config.yml
    app.add_config_value("lstm_course_repository", "", "env", types=[str])
    app.add_config_value("lstm_course_version", course_version(Path(app.srcdir)), "env", types=[str])
    app.connect("config-inited", _configure)
    app.add_directive("course-citation", _course_citation_directive())
    app.connect("builder-inited", _check_mathjax)
    # before sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", _offer_ipynb_download, priority=500)
    app.connect("env-get-outdated", _outdated_by_git)
    app.connect("html-page-context", _page_provenance)
    app.connect("build-finished", _write_build_info)
    # sphinx-book-theme adds its launch buttons at priority 501
    app.connect("html-page-context", _launch_ipynb, priority=600)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("build-finished", _clean_downloads)
    # after _clean_downloads (priority 500): the wheel and the install cells' address
    app.connect("build-finished", _publish_package, priority=800)
    # the PDF (LaTeX builder): notebook outputs whose HTML is a table become tables (latex_tables.py)
    from . import latex_tables
    latex_tables.setup(app)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
