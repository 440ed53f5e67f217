"""Structural tamper checks: rebuild the notebook to grade from the student's one and the template.

Like nbgrader's OverwriteCells, locked and grade cells are restored from the instructor's source (hidden tests
included). Unlike nbgrader, a deleted locked or grade cell is not silently turned into manual grading: the
submission is reported as tampered and scores zero. An edited one is restored and reported.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from nbformat import NotebookNode
from nbformat.v4 import new_notebook

from lstm_course import install

from .template import Template


class MalformedNotebook(ValueError):
    """A student notebook whose cells or nbgrader metadata have the wrong types (e.g. a list as grade_id)."""


CELL_TYPES = ("code", "markdown", "raw")


def _type(value) -> str:
    for kind, name in ((bool, "boolean"), (dict, "mapping"), (list, "list"), (str, "string"), (int, "number"),
                       (float, "number"), (type(None), "null")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def check_cells(student_nb) -> None:
    """Raise MalformedNotebook, naming the cell, when a cell or its nbgrader metadata has the wrong type."""
    cells = student_nb.get("cells") if isinstance(student_nb, dict) else None
    if not isinstance(cells, list):
        raise MalformedNotebook("the notebook has no list of cells")
    if not isinstance(student_nb.get("metadata", {}), dict):
        raise MalformedNotebook("the notebook metadata is not a mapping")
    for index, cell in enumerate(cells):
        where = f"cell {index}"
        if not isinstance(cell, dict):
            raise MalformedNotebook(f"{where} is a {_type(cell)}, not a cell")
        if cell.get("cell_type") not in CELL_TYPES:
            raise MalformedNotebook(f"{where} has cell_type {str(cell.get('cell_type'))[:40]!r}")
        source = cell.get("source", "")
        if not isinstance(source, str) and not (isinstance(source, list) and all(isinstance(x, str) for x in source)):
            raise MalformedNotebook(f"{where}: source is a {_type(source)}, not text")
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict):
            raise MalformedNotebook(f"{where}: metadata is a {_type(meta)}, not a mapping")
        if "nbgrader" not in meta:
            continue
        nbg = meta["nbgrader"]
        if not isinstance(nbg, dict):
            raise MalformedNotebook(f"{where}: nbgrader metadata is a {_type(nbg)}, not a mapping")
        gid = nbg.get("grade_id")
        if gid is not None and not isinstance(gid, str):
            raise MalformedNotebook(f"{where}: grade_id is a {_type(gid)} ({str(gid)[:60]}), not a string")
        for flag in ("grade", "solution", "locked", "task"):
            if flag in nbg and not isinstance(nbg[flag], bool):
                raise MalformedNotebook(f"{where}: nbgrader {flag!r} is a {_type(nbg[flag])}, not true/false")
        points = nbg.get("points", 0)
        if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float, str))):
            raise MalformedNotebook(f"{where}: nbgrader points is a {_type(points)}")


@dataclass
class Assembled:
    """The notebook the grader executes, and what differed from the release version."""

    notebook: NotebookNode
    deleted: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _norm(source) -> str:
    """A cell's source for comparison: trailing spaces ignored, and the install cell without the package address
    that the course website writes into the notebooks it serves (lstm_course.install.fill)."""
    if isinstance(source, list):
        source = "".join(source)
    return "\n".join(line.rstrip() for line in install.normalize(str(source)).strip().splitlines())


def assemble(template: Template, student_nb: NotebookNode) -> Assembled:
    """Return the notebook to execute: student cells kept, protected cells restored from the template.

    Raises MalformedNotebook (the grader's caller reports `tampered`) for cells of the wrong shape.
    """
    check_cells(student_nb)
    by_id = template.by_id()
    seen: set[str] = set()
    cells = []
    result = Assembled(notebook=None)  # type: ignore[arg-type]
    for cell in student_nb.get("cells", []):
        cell = copy.deepcopy(cell)
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        gid = meta.get("grade_id")
        tcell = by_id.get(gid) if gid else None
        if tcell is None or gid in seen:
            cell.setdefault("metadata", {})
            if gid is not None:  # unknown or duplicated nbgrader cell: an ordinary cell of the student's
                cell["metadata"].pop("nbgrader", None)
                result.notes.append(f"cell {gid!r} is not part of the assignment (kept as the student's code)")
            cells.append(cell)
            continue
        seen.add(gid)
        if tcell.protected:
            if _norm(cell.get("source", "")) != _norm(tcell.release_source) or cell.get("cell_type") != tcell.cell_type:
                result.edited.append(gid)
            cell = {"cell_type": tcell.cell_type, "metadata": copy.deepcopy(tcell.metadata),
                    "source": tcell.source}
            if tcell.cell_type == "code":
                cell.update(outputs=[], execution_count=None)
        else:
            cell.setdefault("metadata", {})["nbgrader"] = copy.deepcopy(tcell.metadata["nbgrader"])
            if cell.get("cell_type") != tcell.cell_type:
                result.notes.append(f"answer cell {gid!r} changed type to {cell.get('cell_type')}")
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)
    for tcell in template.cells:
        if tcell.grade_id not in seen and (tcell.protected or tcell.kind in ("answer", "manual")):
            result.deleted.append(tcell.grade_id)
    nb = new_notebook(metadata=copy.deepcopy(student_nb.get("metadata", {})))
    from nbformat import from_dict
    nb.cells = [from_dict(c) for c in cells]
    used: set = set()
    for i, c in enumerate(nb.cells):  # nbformat 4.5 wants unique cell ids
        if not c.get("id") or c["id"] in used:
            c["id"] = f"ag-cell-{i}"
        used.add(c["id"])
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    result.notebook = nb
    return result
