"""Turn the recorded results of a batch into the files an LMS takes: Canvas' gradebook CSV, Gradescope's results.json.

Both are rebuilt from `<workspace>/results/<assignment>/<student>.json` (autograder/report.py), so an export can be
made again at any time without grading anyone. See autograder/README.md, "Grades for the LMS".
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .report import StudentResult, csv_cell, load_results, results_dir

EXPORTS = ("canvas", "gradescope")
#: Outcomes whose score is no grade yet (the instructor must look first): Canvas gets an empty cell, which its
#: import leaves unchanged, so a provisional 0 never overwrites a grade.
PROVISIONAL = ("needs_review", "error", "duplicate_student")
#: Gradescope shows names and outputs as plain text, never as HTML or Markdown (a message may quote a student).
PLAIN = {"name_format": "text", "output_format": "text"}
#: Gradescope's visibility settings of a test (and of the whole result).
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
#: Canvas' gradebook import reads these five columns before the assignment columns (with "SIS User ID" third,
#: the fifth must be "Section"); it matches a row to a student by ID (the Canvas user id) first.
CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


class ExportError(ValueError):
    """An export cannot be made as asked (unknown kind, bad option, nothing recorded)."""


def parse_exports(values: list[str] | tuple[str, ...] | str | None) -> list[str]:
    """The export kinds asked for: repeated options and comma lists (`canvas,gradescope`), in order, once each."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    kinds: list[str] = []
    for value in values:
        for kind in (part.strip().lower() for part in str(value).split(",")):
            if not kind:
                continue
            if kind not in EXPORTS:
                raise ExportError(f"unknown export {kind!r}: choose from {', '.join(EXPORTS)} "
                                  "(e.g. --export canvas --export gradescope, or --export canvas,gradescope)")
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def points(value: float) -> str:
    """A score as Canvas shows it: at most two decimals, no exponent, no trailing zeros (6, 2.5, 0.33)."""
    text = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)
    return path


def exports_dir(workspace: Path, assignment: str) -> Path:
    return Path(workspace) / "exports" / assignment


def _recorded(workspace: Path, assignment: str) -> list[StudentResult]:
    results = load_results(workspace, assignment) if results_dir(workspace, assignment).is_dir() else []
    if not results:
        raise ExportError(f"no recorded results of {assignment!r} in {results_dir(workspace, assignment)}: "
                          f"grade first (python -m autograder {assignment} SUBMISSIONS --workspace {workspace})")
    return results


# ---------------------------------------------------------------------------------------------------- Canvas

@dataclass
class CanvasExport:
    """What went into Canvas' CSV and what did not."""

    path: Path
    column: str  # the assignment column's header
    scored: list[StudentResult] = field(default_factory=list)  # a row with a score
    blank: list[StudentResult] = field(default_factory=list)  # a row with an empty cell (PROVISIONAL outcome)
    unmatched: list[StudentResult] = field(default_factory=list)  # no Canvas user id: not in the file
    conflicts: list[StudentResult] = field(default_factory=list)  # one Canvas user id, several results: left out
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Lines for the instructor: the file, what Canvas will do, and every student who needs a hand."""
        lines = [f"Canvas: {self.path} ({len(self.scored)} scores, column {self.column!r})", *self.notes]
        if self.blank:
            lines.append(f"  left empty (Canvas keeps the current grade), outcome needs a look first: "
                         + ", ".join(f"{r.student} ({r.outcome})" for r in self.blank))
        if self.unmatched:
            lines.append("  NOT in the file (no Canvas user id: the submission's file name was not a Canvas "
                         "download name), enter by hand: " + ", ".join(f"{r.student} {points(r.score)}"
                                                                      for r in self.unmatched))
        if self.conflicts:
            lines.append("  NOT in the file (several results carry one Canvas user id): "
                         + ", ".join(f"{r.student} (id {r.lms_user_id})" for r in self.conflicts))
        return "\n".join(lines)


def canvas_column(assignment_name: str, canvas_assignment_id: str | int | None) -> str:
    """The assignment column's header: `Name (id)` as Canvas' own export writes it, or the bare name."""
    if canvas_assignment_id is None or str(canvas_assignment_id).strip() == "":
        return assignment_name
    text = str(canvas_assignment_id).strip()
    if not re.fullmatch(r"\d{1,20}", text):
        raise ExportError(f"the Canvas assignment id must be the number at the end of the assignment's address "
                          f"(…/courses/123/assignments/4567 -> 4567), not {text!r}")
    return f"{assignment_name} ({text})"


def canvas_csv(workspace: Path, assignment: str, *, canvas_assignment_id: str | int | None = None,
               canvas_assignment_name: str | None = None, points_possible: float | None = None,
               path: Path | None = None) -> CanvasExport:
    """Write a CSV for Canvas' gradebook import (Grades > Import) from the recorded results of `assignment`.

    Header `Student,ID,SIS User ID,SIS Login ID,Section,<name> (<canvas assignment id>)`, a `Points Possible` row,
    then one row a student who has a Canvas user id (taken from the Canvas download's file name). Canvas matches the
    column by the id in parentheses; without an id it matches a column whose whole header equals an assignment's
    title and otherwise creates a new assignment of that title. Every text cell is protected like grades.csv.
    """
    results = _recorded(workspace, assignment)
    name = (canvas_assignment_name or assignment).strip()
    if not name:
        raise ExportError("the Canvas assignment name is empty")
    column = canvas_column(name, canvas_assignment_id)
    possible = points_possible if points_possible is not None else max(r.max_score for r in results)
    out = CanvasExport(Path(path) if path else exports_dir(workspace, assignment) / "canvas_grades.csv", column)
    if canvas_assignment_id is None or str(canvas_assignment_id).strip() == "":
        out.notes.append(f"  no --canvas-assignment-id: Canvas matches this column only to an assignment titled "
                         f"exactly {name!r}, and otherwise creates a NEW assignment {name!r} worth "
                         f"{points(possible)} points; give the id (the number at the end of the assignment's "
                         "address) to update an existing assignment whatever its title")
    by_id: dict[str, list[StudentResult]] = {}
    for r in results:
        if r.lms == "canvas" and r.lms_user_id:
            by_id.setdefault(r.lms_user_id, []).append(r)
        else:
            out.unmatched.append(r)
    rows = [list(CANVAS_HEADER) + [csv_cell(column)], ["Points Possible", "", "", "", "", points(possible)]]
    for uid in sorted(by_id, key=lambda u: (len(u), u)):
        group = by_id[uid]
        if len(group) > 1:
            out.conflicts.extend(group)
            continue
        r = group[0]
        if r.outcome in PROVISIONAL:
            score = ""
            out.blank.append(r)
        else:
            score = points(r.score)
            out.scored.append(r)
        rows.append([csv_cell(r.source or r.student), uid, "", "", "", score])
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    _write_atomic(out.path, buf.getvalue())
    return out


# ---------------------------------------------------------------------------------------------------- Gradescope

def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _reason(test: dict) -> str:
    """Why a test failed, as far as the student may know it (the grader decided `show`, see grader._may_show)."""
    message = str(test.get("message") or "").strip()
    if test.get("show") and message:
        return message
    return "a hidden test failed" if message != "not run" else "not run"


def gradescope_results(record: dict, template, *, hidden_visibility: str = "after_due_date",
                       sandbox: str = "bubblewrap") -> dict:
    """Gradescope's results.json for one recorded result (`record`: the JSON of results/<a>/<student>.json).

    One entry a test cell (name: grade id and the first line of its docstring). A cell holding hidden tests is
    worth its points in an entry shown `hidden_visibility` (default after the due date), with the reason only when
    the grader may show it; its visible checks get an entry of their own (0 points, shown at once: what the
    student's self-check already says). The whole result, whose total would tell a hidden test's outcome, is shown
    `hidden_visibility` too when the assignment has hidden tests; the grader's stdout is never shown.
    """
    if hidden_visibility not in VISIBILITIES:
        raise ExportError(f"Gradescope visibility {hidden_visibility!r}: choose from {', '.join(VISIBILITIES)}")
    from .feedback import docstring

    recorded = record.get("tests") or {}
    outcome, detail = str(record.get("outcome", "")), str(record.get("detail", ""))
    # a tampered notebook scores 0 though its restored run passed tests: no test may then show points
    zeroed = outcome == "tampered"
    hidden = template.hidden_cells
    tests = []
    for cell in (c for c in template.cells if c.kind == "test"):
        t = recorded.get(cell.grade_id)
        doc = _first_line(docstring(cell.source))
        name = f"{cell.grade_id}: {doc}" if doc else cell.grade_id
        if t is None:
            passed, score, output = False, 0.0, f"not run ({outcome})"
        else:
            passed, score = bool(t.get("passed")), float(t.get("points", 0.0))
            output = "passed" if passed else f"failed: {_reason(t)}"
            if zeroed:
                score, output = 0.0, f"{output}; scored 0 ({outcome})"
        entry = {"name": name, "score": score, "max_score": float(cell.points), "status":
                 "passed" if passed else "failed", "output": output,
                 "visibility": hidden_visibility if cell.grade_id in hidden else "visible", **PLAIN}
        if cell.grade_id in hidden:
            seen = None if t is None else t.get("visible")  # did the visible checks pass (None: not known)
            if seen is None and passed:
                seen = True
            part = {"name": f"{name} (visible checks)", "score": 0.0, "max_score": 0.0, "visibility": "visible",
                    **PLAIN}
            if t is None:
                part.update(status="failed", output=f"not run ({outcome})")
            elif seen is None:  # failed, and the grader cannot tell which part: say nothing a hidden part decided
                part.update(output="reported with the hidden checks")
            elif seen:
                part.update(status="passed", output="the visible checks passed (they are not the whole test: the "
                                                    "hidden checks are reported later)")
            else:
                part.update(status="failed", output=f"the visible checks failed: {_reason(t)}")
            tests.append(part)
        tests.append(entry)
    head = f"{outcome}: {detail}" if detail else outcome
    results = {
        "score": float(record.get("score", 0.0)),
        "output": f"{head}\nScore {points(record.get('score', 0))} of {points(record.get('max_score', 0))} "
                  "autograded points (hand-graded parts come separately).",
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"outcome": outcome, "student": record.get("student", ""), "sandbox": sandbox,
                       "max_score": float(record.get("max_score", 0.0))},
    }
    if hidden:
        results["visibility"] = hidden_visibility
    if outcome in PROVISIONAL:
        results["output"] += "\nThis result needs a look by the course staff before it counts."
    if record.get("seconds") is not None:
        results["execution_time"] = int(round(float(record["seconds"])))
    return results


def gradescope_export(workspace: Path, assignment: str, course_root: Path, *,
                      hidden_visibility: str = "after_due_date") -> list[Path]:
    """Write exports/<assignment>/gradescope/<student>/results.json for every recorded result (what the
    Gradescope entry point autograder/gradescope/run_autograder writes for one submission)."""
    from .template import load_template

    _recorded(workspace, assignment)  # a clear error when nothing is recorded
    template = load_template(Path(course_root), assignment)
    written = []
    for path in sorted(results_dir(workspace, assignment).glob("*.json")):
        record = json.loads(path.read_text())
        data = gradescope_results(record, template, hidden_visibility=hidden_visibility)
        target = exports_dir(workspace, assignment) / "gradescope" / record["student"] / "results.json"
        written.append(_write_atomic(target, json.dumps(data, indent=1, ensure_ascii=False)))
    return written


# ---------------------------------------------------------------------------------------------------- both

def export(kinds: list[str] | str, workspace: Path, assignment: str, *, course_root: Path | None = None,
           canvas_assignment_id: str | int | None = None, canvas_assignment_name: str | None = None,
           gradescope_visibility: str = "after_due_date") -> str:
    """Make every export in `kinds` from the recorded results; return what the instructor should read."""
    from .settings import COURSE_ROOT

    lines = []
    for kind in parse_exports(kinds):
        if kind == "canvas":
            lines.append(canvas_csv(workspace, assignment, canvas_assignment_id=canvas_assignment_id,
                                    canvas_assignment_name=canvas_assignment_name).summary())
        else:
            paths = gradescope_export(workspace, assignment, Path(course_root or COURSE_ROOT),
                                      hidden_visibility=gradescope_visibility)
            lines.append(f"Gradescope: {len(paths)} results.json in {exports_dir(workspace, assignment) / 'gradescope'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """python -m autograder.exports ASSIGNMENT --export canvas [...]: export again without grading anybody."""
    import argparse
    import sys

    from .settings import default_workspace

    parser = argparse.ArgumentParser(prog="python -m autograder.exports",
                                     description="Write LMS files from the recorded results (no grading).")
    parser.add_argument("assignment")
    parser.add_argument("--export", action="append", required=True, metavar="LMS", help="canvas, gradescope")
    parser.add_argument("--workspace", type=Path, default=None, help="instructor workspace (autograder/workspace)")
    parser.add_argument("--course-root", type=Path, default=None, help="course root (default: this repository)")
    parser.add_argument("--canvas-assignment-id", default=None, metavar="ID")
    parser.add_argument("--canvas-assignment-name", default=None, metavar="TITLE")
    parser.add_argument("--gradescope-visibility", default="after_due_date", choices=VISIBILITIES)
    args = parser.parse_args(argv)
    try:
        print(export(args.export, (args.workspace or default_workspace()).resolve(), args.assignment,
                     course_root=args.course_root, canvas_assignment_id=args.canvas_assignment_id,
                     canvas_assignment_name=args.canvas_assignment_name,
                     gradescope_visibility=args.gradescope_visibility))
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
