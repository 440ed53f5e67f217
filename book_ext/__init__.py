"""Sphinx extension of the LSTM course book: local MathJax check and .ipynb launch links.

Loaded by Jupyter Book through `sphinx.local_extensions` in _config.yml. It does three things:

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
"""

from __future__ import annotations

import json
import posixpath
import subprocess
from pathlib import Path
from urllib.parse import quote

MATHJAX_VERSION = "3.2.2"  # keep in step with book_tools/fetch_mathjax.sh
ROOT = Path(__file__).resolve().parent.parent
FETCH_SCRIPT = ROOT / "book_tools" / "fetch_mathjax.sh"


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


def setup(app):
    app.add_config_value("lstm_notebooks_branch", "notebooks", "html", types=[str])
    app.connect("builder-inited", _check_mathjax)
    # sphinx-book-theme adds its launch buttons at priority 501
    app.connect("html-page-context", _launch_ipynb, priority=600)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("build-finished", _clean_downloads)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
