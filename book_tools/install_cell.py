"""Write, or check, the install cell (lstm_course/install.py) of every chapter and every exercise's source.

    .venv/bin/python book_tools/install_cell.py          # writes or updates the cells, then run `make exercises`
    .venv/bin/python book_tools/install_cell.py --check  # exit 1, naming the files, when a cell is missing or stale

Chapters (the notebook pages of _toc.yml, MyST Markdown): the cell goes right before the first code cell, tagged
`remove-cell` (the page does not show it; the notebook a reader downloads or opens on Colab starts with it).
Exercise sources (solutions/<a>/<a>.ipynb): a locked nbgrader cell, id `install`, right before the first code
cell; `make exercises` carries it into the released notebooks. What a cell installs is computed from the
notebook's own imports and requirements.txt, so it follows the code: rerun this script when imports change
(the test suite runs --check).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import release_notebooks  # noqa: E402  (book_tools/, beside this script)
from lstm_course import install  # noqa: E402

CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(?P<options>(?::[^\n]*\n)*)\n?(?P<body>.*?)^```[ \t]*\n",
                       re.M | re.S)
#: Modules the exercises' self-check cell (lstm_course.selfcheck) needs besides what the notebook imports.
EXERCISE_EXTRA: list[str] = []


def requirements() -> dict[str, str]:
    return install.requirement_specs((ROOT / "requirements.txt").read_text(encoding="utf-8"))


def chapter_files() -> list[Path]:
    """The notebook pages of _toc.yml (MyST Markdown with a kernelspec), in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    paths = [ROOT / f"{name}.md" for name in release_notebooks.toc_docnames(toc)]
    return [p for p in paths if p.is_file() and release_notebooks.is_notebook(p.read_text(encoding="utf-8"))]


def exercise_sources() -> list[Path]:
    return sorted(p for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)


def chapter_with_cell(text: str, reqs: dict[str, str]) -> str:
    """The chapter's MyST text with its install cell written or brought up to date."""
    cells = list(CODE_CELL.finditer(text))
    if not cells:
        raise ValueError("a notebook page without code cells needs no install cell")
    existing = [m for m in cells if install.is_install_cell(m.group("body"))]
    code = "\n".join(m.group("body") for m in cells if m not in existing)
    block = ("```{code-cell} ipython3\n:tags: [remove-cell]\n\n" + install.cell_source(install.needs(code, reqs))
             + "\n```\n")
    if existing:
        first = existing[0]
        return text[:first.start()] + block + text[first.end():]
    first = cells[0]
    return text[:first.start()] + block + "\n" + text[first.start():]


def exercise_with_cell(nb: nbformat.NotebookNode, reqs: dict[str, str]) -> nbformat.NotebookNode:
    """The source notebook with its locked install cell written or brought up to date (in place)."""
    others = [c for c in nb.cells if not (c.cell_type == "code" and install.is_install_cell(c.source))]
    code = "\n".join(c.source for c in others if c.cell_type == "code")
    source = install.cell_source(install.needs(code, reqs, EXERCISE_EXTRA))
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "grade": False, "grade_id": install.GRADE_ID, "locked": True, "schema_version": 3, "solution": False,
        "task": False}})
    cell.pop("id", None)
    old = next((c for c in nb.cells if c.cell_type == "code" and install.is_install_cell(c.source)), None)
    if old is not None:
        old.source = source
        old.metadata = cell.metadata
        return nb
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    if any(c.metadata.get("nbgrader", {}).get("grade_id") == install.GRADE_ID for c in nb.cells):
        raise ValueError(f"a cell other than the install cell has the grade_id {install.GRADE_ID!r}")
    if "id" in nb.cells[first]:  # nbformat 4.5 notebooks give every cell an id
        cell["id"] = install.GRADE_ID
    nb.cells.insert(first, cell)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report missing or stale cells (exit 1)")
    parser.add_argument("files", nargs="*", type=Path, help="only these chapters or sources (default: all)")
    args = parser.parse_args(argv)
    only = {p.resolve() for p in args.files}
    reqs = requirements()
    stale = []
    for path in [p for p in chapter_files() if not only or p in only]:
        text = path.read_text(encoding="utf-8")
        new = chapter_with_cell(text, reqs)
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in [p for p in exercise_sources() if not only or p in only]:
        before = path.read_text(encoding="utf-8")
        nb = nbformat.reads(before, as_version=4)
        after = nbformat.writes(exercise_with_cell(nb, reqs)) + "\n"
        if after.rstrip("\n") != before.rstrip("\n"):
            stale.append(path)
            if not args.check:
                path.write_text(after, encoding="utf-8")
    for path in stale:
        print(("stale or missing: " if args.check else "updated: ") + str(path.relative_to(ROOT)))
    if args.check and stale:
        print("run: .venv/bin/python book_tools/install_cell.py && make exercises")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
