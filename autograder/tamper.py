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

from .template import Template


@dataclass
class Assembled:
    """The notebook the grader executes, and what differed from the release version."""

    notebook: NotebookNode
    deleted: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _norm(source) -> str:
    if isinstance(source, list):
        source = "".join(source)
    return "\n".join(line.rstrip() for line in str(source).strip().splitlines())


def assemble(template: Template, student_nb: NotebookNode) -> Assembled:
    """Return the notebook to execute: student cells kept, protected cells restored from the template."""
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
            cell["metadata"]["nbgrader"] = copy.deepcopy(tcell.metadata["nbgrader"])
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
