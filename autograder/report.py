"""Per-student result files (written atomically as each student finishes), grades.csv and the summary table."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

OUTCOMES = ("graded", "corrupt_notebook", "wrong_assignment", "missing_notebook", "tampered", "timeout",
            "kernel_died", "output_too_large", "resource_limit", "error", "too_large", "rejected_link",
            "duplicate_student", "needs_review")
#: A cell starting with one of these is read as a formula by spreadsheets (OWASP "CSV Injection"); the full-width
#: forms too, which some spreadsheet locales convert to the ASCII ones on input.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
CSV_FIELDS = ("student", "assignment", "score", "max_score", "outcome", "detail")


@dataclass
class StudentResult:
    """The grade of one student for one assignment."""

    student: str
    score: float
    max_score: float
    outcome: str
    detail: str
    source: str = ""  # the input's own name (folder or LMS name): an id is never reused for another input
    lms: str = ""  # the LMS whose export file name the input had ("canvas", "moodle", "blackboard"; "" if none)
    lms_user_id: str = ""  # that LMS's user id from the file name (Canvas: the user id its gradebook import matches)


def results_dir(workspace: Path, assignment: str) -> Path:
    return Path(workspace) / "results" / assignment


def _one_component(name: str) -> str:
    """`name` if it is usable as one file name (no separator, NUL, `.`/`..`, leading dot); else ValueError."""
    if not name or "/" in name or "\0" in name or name.startswith(".") or len(name.encode("utf-8", "replace")) > 200:
        raise ValueError(f"not usable as a file name: {name!r}")
    return name


def save_result(workspace: Path, assignment: str, result: StudentResult, tests: dict,
                seconds: float | None = None) -> Path:
    """Write results/<assignment>/<student>.json atomically: a crash later loses nothing recorded.

    `seconds` (the notebook's grading time, for the cohort report's slowest notebooks) is stored when given.
    """
    _one_component(result.student)
    _one_component(assignment)
    folder = results_dir(workspace, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.student}.json"
    tmp = folder / f".{result.student}.json.tmp"
    timing = {} if seconds is None else {"seconds": round(float(seconds), 3)}
    tmp.write_text(json.dumps({"assignment": assignment, **asdict(result), "tests": tests, **timing}, indent=1,
                              sort_keys=True))
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def load_results(workspace: Path, assignment: str) -> list[StudentResult]:
    folder = results_dir(workspace, assignment)
    out = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        out.append(StudentResult(data["student"], data["score"], data["max_score"], data["outcome"], data["detail"],
                                 data.get("source", ""), data.get("lms", ""), data.get("lms_user_id", "")))
    return out


def csv_cell(value) -> str:
    """A value a spreadsheet shows as text: a leading = + - @ tab or CR gets a single quote in front (OWASP)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(workspace: Path, assignment: str) -> Path:
    """Rebuild <workspace>/grades.csv from every recorded result of every assignment (sorted, deterministic)."""
    rows = []
    base = Path(workspace) / "results"
    for adir in sorted(p for p in base.iterdir() if p.is_dir()) if base.exists() else []:
        for r in load_results(workspace, adir.name):
            rows.append({"student": csv_cell(r.student), "assignment": csv_cell(adir.name), "score": f"{r.score:g}",
                         "max_score": f"{r.max_score:g}", "outcome": csv_cell(r.outcome),
                         "detail": csv_cell(r.detail)})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows(rows)
    path = Path(workspace) / "grades.csv"
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def printable(text: str) -> str:
    """`text` without control characters (a student's file name must not drive the instructor's terminal)."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


def summary_table(results: list[StudentResult], width: int = 60) -> str:
    """A plain-text table: one line a student, then counts per outcome."""
    results = [StudentResult(printable(r.student), r.score, r.max_score, printable(r.outcome), printable(r.detail))
               for r in results]
    name_w = max([len("student"), *(len(r.student) for r in results)])
    lines = [f"{'student':<{name_w}}  {'score':>11}  {'outcome':<16}  detail", "-" * (name_w + 34 + width)]
    for r in sorted(results, key=lambda r: r.student):
        detail = r.detail if len(r.detail) <= width else r.detail[:width - 1] + "…"
        lines.append(f"{r.student:<{name_w}}  {r.score:>5g} / {r.max_score:<3g}  {r.outcome:<16}  {detail}")
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    lines.append("-" * (name_w + 34 + width))
    lines.append(", ".join(f"{n} {o}" for o, n in sorted(counts.items())) + f" ({len(results)} submissions)")
    return "\n".join(lines)
