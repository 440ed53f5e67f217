"""Gradescope's entry point: grade /autograder/submission with the course's grader, write results/results.json.

`run_autograder` (next to this file) runs `python -m autograder.gradescope.run`. The assignment comes from
`<source>/gradescope.json` (written by `python -m autograder.gradescope.package`). This process is the trusted
side: it writes results.json itself, after the student's kernel is gone, and only from the recorded result;
student code runs only in the bubblewrap sandbox, which shows it neither /autograder/source nor /autograder/results.
Where bubblewrap cannot run, no student code runs at all: results.json says the submission was not graded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT_ENV = "AUTOGRADER_GRADESCOPE_ROOT"
CONFIG = "gradescope.json"
STUDENT = "submission"  # the id of the one student graded here (when Gradescope's metadata gives none)


def write_results(path: Path, data: dict) -> Path:
    """Write results.json atomically (a temporary file in the same folder, then a rename over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def not_graded(reason: str, *, sandbox: str = "bubblewrap") -> dict:
    """A result that grades nothing: score 0 and why, for the student and the staff (who can regrade)."""
    return {"score": 0.0, "output": f"Not graded: {reason}. The course staff can see this and will regrade it.",
            "output_format": "text", "stdout_visibility": "hidden", "tests": [],
            "extra_data": {"outcome": "not_graded", "reason": reason, "sandbox": sandbox}}


def student_id(metadata_path: Path) -> str:
    """The Gradescope user id of the (first) submitter, if its metadata says so, else `submission`."""
    from ..intake import safe_student

    try:
        users = json.loads(metadata_path.read_text()).get("users") or []
        return safe_student(f"gs{int(users[0]['id'])}")
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return STUDENT


def stage(submission: Path, target: Path, assignment: str) -> str | None:
    """Copy the submission's regular files to `target` with its notebook named <assignment>.ipynb.

    The notebook is <assignment>.ipynb if submitted under that name, else the only notebook at the top of the
    submission (Gradescope keeps the student's file name). Returns why it cannot be graded, or None.
    """
    from ..intake import LinkRejected, copy_regular_tree

    try:
        copy_regular_tree(submission, target)
    except LinkRejected as err:
        return f"the submission holds a link or special file ({err}); links are never followed"
    expected = target / f"{assignment}.ipynb"
    if expected.is_file():
        return None
    notebooks = sorted(p for p in target.iterdir() if p.suffix == ".ipynb" and p.is_file())
    if len(notebooks) == 1:
        notebooks[0].rename(expected)
        return None
    found = ", ".join(p.name for p in notebooks) or "no notebook"
    return f"expected one notebook, {assignment}.ipynb; found {found}"


def grade(root: Path, work: Path) -> dict:
    """Grade the submission under `root` (Gradescope's /autograder layout) in the scratch folder `work`."""
    from .. import sandbox
    from ..core import grade_submissions
    from ..exports import gradescope_results
    from ..report import results_dir
    from ..template import load_template

    source = root / "source"
    config = json.loads((source / CONFIG).read_text())
    assignment = str(config["assignment"])
    visibility = str(config.get("hidden_visibility", "after_due_date"))
    reason = sandbox.probe()
    if reason is not None:
        print(f"NOT GRADED: bubblewrap cannot run in this container: {reason}", flush=True)
        return not_graded("the autograder's sandbox cannot start in Gradescope's container, and student code "
                          "is never run without it", sandbox=f"unavailable: {reason}"[:300])
    student = student_id(root / "submission_metadata.json")
    submitted = work / "submitted"
    problem = stage(root / "submission", submitted / student / assignment, assignment)
    if problem is not None:
        print(f"not graded: {problem}", flush=True)
        return not_graded(problem)
    results = grade_submissions(assignment, submitted, workers=1, workspace=work / "workspace",
                                course_root=source, progress=False)
    for r in results:
        print(f"{r.student}: {r.score:g}/{r.max_score:g} {r.outcome} {r.detail}", flush=True)
    record_path = results_dir(work / "workspace", assignment) / f"{student}.json"
    record = json.loads(record_path.read_text())
    return gradescope_results(record, load_template(source, assignment), hidden_visibility=visibility)


def main() -> int:
    root = Path(os.environ.get(ROOT_ENV, "/autograder"))
    results_json = root / "results" / "results.json"
    start = time.monotonic()
    # first a placeholder: if this process dies (killed, disk full), Gradescope reads this, and nothing else
    write_results(results_json, not_graded("the autograder stopped before it finished"))
    work = Path(tempfile.mkdtemp(prefix="ag-gradescope-"))
    try:
        data = grade(root, work)
    except Exception as err:  # noqa: BLE001 - the staff read the traceback in Gradescope's stdout
        traceback.print_exc(file=sys.stdout)
        data = not_graded(f"the autograder failed ({type(err).__name__})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    data.setdefault("execution_time", int(round(time.monotonic() - start)))
    write_results(results_json, data)
    print(f"results.json: score {data['score']:g}, {len(data['tests'])} tests", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
