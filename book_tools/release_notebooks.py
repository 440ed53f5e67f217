"""Release step: commit the book's chapters as .ipynb notebooks on the branch the launch buttons open.

The chapters are MyST Markdown notebooks (`chapters/<name>.md`); Colab can only open `.ipynb`.
The Colab/Binder buttons of the website (book_ext) open `chapters/<name>.ipynb` on the branch
`lstm_notebooks_branch` of `repository.url` (_config.yml; default ``notebooks``). This script
makes that branch: one commit whose tree is the tree of REF (default HEAD: the Markdown sources,
requirements.txt for Binder, the helper package) plus a paired notebook, without outputs, for every
notebook page listed in _toc.yml. Its parents are the branch's previous commit and REF, so the
branch only grows. It works on git objects only (a temporary index): the work tree, the index and
the current branch are not touched, and the generated notebooks are never committed to main.

Usage, from the repository root, after the release commit is on main:
    .venv/bin/python book_tools/release_notebooks.py            # updates refs/heads/notebooks
    git push origin notebooks
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lstm_course import install  # noqa: E402


def git(repo: Path, *args: str, input: bytes | None = None, env: dict | None = None) -> str:
    """Run a git command in `repo` and return its stdout (stripped)."""
    result = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True,
                            check=True, env={**os.environ, **(env or {})})
    return result.stdout.decode().strip()


def toc_docnames(toc: dict) -> list[str]:
    """Document names (paths without suffix) of a jb-book _toc.yml, in reading order."""
    names = [toc["root"]] if "root" in toc else []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                names.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []):
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [str(Path(n).with_suffix("")) if Path(n).suffix in (".md", ".ipynb") else n for n in names]


def is_notebook(text: str) -> bool:
    """Is this Markdown file a MyST notebook (jupytext header with a kernelspec)?"""
    if not text.startswith("---"):
        return False
    header = text.split("---", 2)[1]
    meta = yaml.safe_load(header) or {}
    return "kernelspec" in meta


def markdown_to_ipynb(text: str, package_url: str = "") -> str:
    """The .ipynb (JSON text, no outputs) of a MyST Markdown notebook; its install cell gets `package_url`
    (the helper package's wheel on the course website, lstm_course/install.py) when one is given."""
    notebook = jupytext.reads(text, fmt="md:myst")
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"  # jupytext draws random ids; fixed ones keep releases reproducible
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.source = install.fill(cell.source, package_url)
    nbformat.validate(notebook)
    return jupytext.writes(notebook, fmt="ipynb")


def package_url_at(repo: Path, ref: str, environ=os.environ) -> str:
    """The wheel's address on the course website for the sources at `ref`: the site's address from
    $LSTM_COURSE_SITE_URL or html.baseurl of _config.yml (book_ext.resolve_site_url), the version from
    pyproject.toml; "" when no site address is configured."""
    import tomllib

    from book_ext import resolve_site_url

    def show(path: str) -> str:
        try:
            return git(repo, "show", f"{ref}:{path}")
        except subprocess.CalledProcessError:
            return ""

    config = yaml.safe_load(show("_config.yml")) or {}
    site = resolve_site_url((config.get("html") or {}).get("baseurl", ""), environ)
    if not site:
        return ""
    project = tomllib.loads(show("pyproject.toml")).get("project", {})
    if "version" not in project:
        raise ValueError(f"pyproject.toml at {ref} sets no project.version: the wheel's name needs it")
    return install.package_url(site, project["version"])


def paired_notebooks(repo: Path, ref: str = "HEAD", toc_path: str = "_toc.yml") -> dict[str, str]:
    """{path of the .ipynb: its JSON text} for every notebook page of the book at `ref`."""
    toc = yaml.safe_load(git(repo, "show", f"{ref}:{toc_path}"))
    package_url = package_url_at(repo, ref)
    tracked = set(git(repo, "ls-tree", "-r", "--name-only", ref).splitlines())
    notebooks = {}
    for name in toc_docnames(toc):
        source = f"{name}.md"
        if source not in tracked:
            continue  # an .ipynb page is already a notebook; a missing page is the build's business
        text = git(repo, "show", f"{ref}:{source}")
        if is_notebook(text):
            notebooks[f"{name}.ipynb"] = markdown_to_ipynb(text, package_url)
    return notebooks


def release(repo: Path, ref: str = "HEAD", branch: str = "notebooks") -> str:
    """Commit REF's tree plus the paired notebooks to `branch`; return the new commit's id."""
    repo = Path(repo)
    ref_commit = git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}")
    notebooks = paired_notebooks(repo, ref_commit)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(repo, "read-tree", ref_commit, env=env)
        for path, text in sorted(notebooks.items()):
            blob = git(repo, "hash-object", "-w", "--stdin", input=text.encode())
            git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = git(repo, "write-tree", env=env)
    parents = []
    try:
        previous = git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
    except subprocess.CalledProcessError:
        previous = ""
    if previous:
        if git(repo, "rev-parse", f"{previous}^{{tree}}") == tree:
            return previous  # nothing changed since the last release
        parents += ["-p", previous]
    parents += ["-p", ref_commit]
    message = (f"Release notebooks of {ref_commit[:12]}\n\nGenerated by book_tools/release_notebooks.py "
               f"from the MyST sources ({len(notebooks)} notebooks, no outputs).")
    commit = git(repo, "commit-tree", tree, *parents, "-m", message)
    git(repo, "update-ref", f"refs/heads/{branch}", commit)
    return commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--ref", default="HEAD", help="commit whose sources are released")
    parser.add_argument("--branch", default="notebooks",
                        help="branch to update (the book's `lstm_notebooks_branch`)")
    args = parser.parse_args(argv)
    commit = release(args.repo, args.ref, args.branch)
    names = git(args.repo, "diff-tree", "-r", "--name-only", "--no-commit-id", args.ref, commit)
    print(f"{args.branch} -> {commit[:12]}")
    for name in names.splitlines():
        print(f"  {name}")
    print(f"publish with: git push origin {args.branch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
