"""Feedback for students without hidden tests: a hidden test shows its docstring and pass/fail only."""

from __future__ import annotations

import ast
import copy
import html
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from lstm_course.framework_logs import strip_notebook_logs

from .template import Template

ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: Whoever opens a feedback file runs nothing of it: no script, frame, font, remote image or form target; only
#: the page's own inline styles and data: images. A second line behind nbconvert's sanitizer (sanitize_html).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def docstring(source: str) -> str:
    """The docstring that opens a grade cell ('' if none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    return ast.get_docstring(tree) or ""


def hidden_lines(source: str) -> set[int]:
    """1-based numbers of the lines inside hidden-test blocks."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), 1):
        if BEGIN in line:
            inside = True
        if inside:
            lines.add(number)
        if END in line:
            inside = False
    return lines


def _failing_line(outputs) -> int | None:
    for out in outputs:
        if out.get("output_type") == "error":
            text = ANSI.sub("", "\n".join(out.get("traceback", [])))
            m = re.search(r"(?:Cell In\s*\[\d*\]|<ipython-input-[^>]*>|Input In \[\d*\]),\s*line (\d+)", text)
            if m:
                return int(m.group(1))
    return None


def redact(graded: nbformat.NotebookNode, template: Template, tests: dict) -> nbformat.NotebookNode:
    """Return the feedback notebook: every test cell that holds hidden tests is replaced by its docstring."""
    nb = copy.deepcopy(graded)
    by_id = template.by_id()
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        tcell = by_id.get(gid)
        if tcell is None or tcell.kind != "test" or cell.cell_type != "code":
            continue
        result = tests.get(gid, {})
        if gid not in template.hidden_cells:
            continue
        doc = docstring(tcell.source)
        cell.source = f'"""{doc}"""\n# This test includes hidden tests: only its result is shown.'
        if result.get("passed"):
            text = f"Passed ({result.get('points', 0):g}/{result.get('max', 0):g} points)\n"
        else:
            if "show" in result:  # graded by the trusted checker: it says whether the reason may be shown
                message = f": {result.get('message')}" if result.get("show") else " (a hidden test failed)"
            else:
                line = _failing_line(cell.outputs)
                visible = line is not None and line not in hidden_lines(tcell.source) \
                    and line <= len(tcell.source.splitlines())
                message = ""
                if visible:
                    err = next(o for o in cell.outputs if o.get("output_type") == "error")
                    message = f": {err.get('ename')}: {err.get('evalue')}"
                elif line is None and cell.outputs and any(o.get("ename") == "TimeoutError" for o in cell.outputs):
                    message = ": the test ran out of time"
                else:
                    message = " (a hidden test failed)" if line is not None else ""
            text = f"Failed (0/{result.get('max', 0):g} points){message}\n"
        cell.outputs = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": text})]
    return nb


def summary_cell(student: str, assignment: str, score: float, max_score: float, outcome: str, detail: str,
                 tests: dict) -> nbformat.NotebookNode:
    rows = "\n".join(f"| {gid} | {t['points']:g} / {t['max']:g} | {'passed' if t['passed'] else 'failed'} |"
                     for gid, t in tests.items())
    detail_line = f"\n\n{html.escape(detail)}" if detail else ""
    text = (f"# Feedback: {assignment}\n\nStudent: **{student}** — score **{score:g} / {max_score:g}** "
            f"({outcome}){detail_line}\n\n| test | points | result |\n|---|---|---|\n{rows}")
    return nbformat.v4.new_markdown_cell(text)


def neutralise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what the student controls and the exporter would pass on raw: notebook metadata (widget state,
    title), raw cells' output formats (a raw cell marked text/html is copied into the page as is)."""
    nb.metadata = nbformat.from_dict({"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                     "language": "python"}, "language_info": {"name": "python"}})
    for cell in nb.cells:
        if cell.get("cell_type") == "raw":
            cell.metadata = nbformat.from_dict({})
    return nb


def add_csp(body: str) -> str:
    """Put the Content-Security-Policy meta tag first in <head> (before anything it must govern)."""
    m = re.search(r"<head[^>]*>", body, flags=re.IGNORECASE)
    if m is None:
        return f"<!DOCTYPE html><html><head>{CSP_META}</head><body>{body}</body></html>"
    return body[:m.end()] + CSP_META + body[m.end():]


def write_feedback(path: Path, graded: nbformat.NotebookNode | None, template: Template, student: str,
                   score: float, max_score: float, outcome: str, detail: str, tests: dict) -> Path:
    """Write the student's feedback HTML (hidden tests removed)."""
    if graded is None:
        nb = nbformat.v4.new_notebook()
    else:
        nb = redact(graded, template, tests)
        strip_notebook_logs(nb)  # TensorFlow's C++ start-up lines are noise to a student
    nb.cells.insert(0, summary_cell(student, template.assignment, score, max_score, outcome, detail, tests))
    neutralise(nb)
    body, _ = HTMLExporter(template_name="lab", sanitize_html=True).from_notebook_node(nb)
    body = add_csp(body)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)
    return path
