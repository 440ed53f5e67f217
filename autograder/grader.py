"""Grade one student's notebook: assemble, execute in a sandboxed kernel with the guard, score each test."""

from __future__ import annotations

import json
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .guard import restore_expression
from .kernel import GradingKernel, KernelStopped
from .settings import GradingOptions
from . import rules
from .tamper import assemble
from .template import Template

RESOURCE_ERRORS = (("MemoryError", ""), ("OSError", "File too large"), ("OSError", "No space left"),
                   ("BlockingIOError", "Resource temporarily unavailable"), ("OSError", "Disk quota"),
                   ("RuntimeError", "can't start new thread"))


@dataclass
class GradedNotebook:
    """Result of grading one notebook (before it becomes a StudentResult)."""

    score: float
    max_score: float
    outcome: str
    detail: str
    tests: dict = field(default_factory=dict)  # grade_id -> {"points", "max", "passed", "message"}
    notebook: nbformat.NotebookNode | None = None
    seconds: float = 0.0


def _error_output(ename: str, evalue: str) -> dict:
    return nbformat.from_dict({"output_type": "error", "ename": ename, "evalue": evalue,
                               "traceback": [f"{ename}: {evalue}"]})


def _test_outputs(result: dict) -> list:
    """The outputs of a test cell as the checker ran it: its printed text, then the failure if any."""
    outputs = []
    if result.get("stdout"):
        outputs.append(nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": result["stdout"]}))
    if not result.get("passed"):
        message = str(result.get("message", "failed"))
        ename, _, evalue = message.partition(": ") if not result.get("student_message") else ("AssertionError", "",
                                                                                               message)
        if not evalue:
            ename, evalue = "AssertionError", message
        tb = str(result.get("traceback") or f"{ename}: {evalue}").splitlines()
        outputs.append(nbformat.from_dict({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": tb}))
    return outputs


def _may_show(result: dict, tcell) -> bool:
    """May the student see why this test failed? Yes for their own objects and for visible lines."""
    if result.get("passed") or result.get("student_message"):
        return True
    line = result.get("lineno")
    if line is None:
        return False
    from .feedback import hidden_lines

    return line not in hidden_lines(tcell.source)


def grade_notebook(path: Path, template: Template, options: GradingOptions, slot: int, run_dir: Path,
                   files_dir: Path | None, hide: list[Path], checker=None) -> GradedNotebook:
    """Grade the notebook at `path`; never raises for problems of the submission itself.

    `checker` is the worker's TrustedChecker (autograder/trusted.py): it runs every test cell.
    """
    start = time.monotonic()
    max_score = template.max_score
    __import__("autograder.limits").limits.check_notebook_file(path, options.limits)  # NotebookTooLarge: too_large
    try:
        student_nb = nbformat.read(str(path), as_version=4)
        if not isinstance(student_nb.get("cells"), list):
            raise ValueError("no list of cells")
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same outcome
        return GradedNotebook(0.0, max_score, "corrupt_notebook", f"cannot read the notebook: {str(err)[:200]}")
    asm = assemble(template, student_nb)
    notes: list[str] = list(asm.notes)
    if asm.edited:
        notes.append(f"edited protected cells restored from the source: {', '.join(asm.edited)}")
    if asm.deleted:
        return GradedNotebook(0.0, max_score, "tampered",
                              f"deleted nbgrader cells: {', '.join(asm.deleted)} (scored 0; nbgrader would "
                              "silently grade such a notebook by hand)", notebook=asm.notebook)
    nb = asm.notebook
    by_id = template.by_id()
    protected = {c.grade_id for c in template.cells if c.kind in ("locked", "test")}
    student_cells = [(str(c.metadata.get("nbgrader", {}).get("grade_id") or f"cell {k}"), c.source)
                     for k, c in enumerate(nb.cells) if c.cell_type == "code"
                     and c.metadata.get("nbgrader", {}).get("grade_id") not in protected]
    ruled = rules.check_notebook(template.rules, student_cells)
    tests: dict = {t.grade_id: {"points": 0.0, "max": t.points, "passed": False, "message": "not run"}
                   for t in template.cells if t.kind == "test"}
    tamper_found: list[str] = []
    events: list[str] = []
    stopped: KernelStopped | None = None
    timeouts: list[str] = []
    empty = run_dir / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    try:
        with GradingKernel(options, slot, run_dir, files_dir or empty, hide) as kernel:
            # 1. every cell but the tests, in order; 2. the tests, in order, in the trusted checker. No student
            # code runs after the checker's first request, so nothing a student's function was given (a hidden
            # test's inputs) can reach a later cell's output, and nothing of a test ever enters the kernel.
            pending = []
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                tcell = by_id.get(gid) if gid else None
                kind = tcell.kind if tcell else "student"
                if kind == "test":
                    pending.append((cell, gid, tcell))
                    continue
                if kind == "locked":
                    kernel.user_expression("__import__('sys').modules['_ag_guard'].mark()")
                ex = kernel.execute(cell.source)
                if kind == "locked":
                    kernel.user_expression("__import__('sys').modules['_ag_guard'].capture()")
                cell.outputs = ex.outputs
                cell.execution_count = (ex.reply or {}).get("execution_count")
                if ex.status == "timeout":
                    timeouts.append(gid or f"cell {index}")
                for out in ex.outputs:
                    if out.get("output_type") == "error":
                        for ename, text in RESOURCE_ERRORS:
                            if out.get("ename") == ename and text in str(out.get("evalue", "")):
                                events.append(f"{gid or f'cell {index}'}: {ename}: {str(out.get('evalue'))[:80]}")
            if pending:
                # second line: the in-kernel guard restores the machinery and says what it had to restore
                report = kernel.user_expression(restore_expression("AG-" + secrets.token_hex(16)))
                found = json.loads(report) if isinstance(report, str) else {}
                if found.get("found"):
                    tamper_found.append("before the tests: " + ", ".join(dict.fromkeys(found["found"])))
            for cell, gid, tcell in pending:
                result = checker.run_test(gid, tcell.source, kernel, options.limits.cell_timeout)
                cell.outputs = _test_outputs(result)
                cell.execution_count = None
                passed = bool(result.get("passed"))
                tests[gid] = {"points": tcell.points if passed else 0.0, "max": tcell.points,
                              "passed": passed, "message": str(result.get("message", ""))[:600],
                              "show": _may_show(result, tcell), "visible": result.get("visible_passed")}
                if gid in ruled.failed:  # the code breaks a rule of the assignment: no points, and why
                    tests[gid].update(points=0.0, passed=False, message=ruled.failed[gid][:600], show=True)
    except KernelStopped as err:
        stopped = err
    score = float(sum(t["points"] for t in tests.values()))
    manual = sum(t.points for t in template.cells if t.kind in ("manual", "task"))
    if manual:
        notes.append(f"{manual:g} points need manual grading")
    graded_part = f"{score:g}/{max_score:g}"
    if ruled.review and not tamper_found:
        notes.insert(0, "; ".join(ruled.review))
    if tamper_found:
        outcome, detail_head = "tampered", (f"grading machinery was altered and restored ({'; '.join(tamper_found)}); "
                                            f"scored 0, the restored run scored {graded_part}")
        score = 0.0
    elif stopped is not None:
        outcome, detail_head = stopped.reason, stopped.detail + "; later cells not run"
    elif timeouts:
        outcome, detail_head = "timeout", f"interrupted after the cell time limit: {', '.join(timeouts)}"
    elif events:
        outcome, detail_head = "resource_limit", "; ".join(events[:3])
    elif ruled.review:
        outcome, detail_head = "needs_review", "code that cannot be checked by reading it"
    else:
        outcome, detail_head = "graded", ""
    if stopped is not None and stopped.reason == "error" and not any(t["passed"] for t in tests.values()):
        detail_head = stopped.detail
    if outcome == "graded" and events:
        notes.append("; ".join(events[:3]))
    detail = "; ".join(x for x in [detail_head, *notes] if x)
    shutil.rmtree(run_dir, ignore_errors=True)
    return GradedNotebook(score, max_score, outcome, detail, tests, nb, time.monotonic() - start)
