"""A student's own check: run a notebook exactly as the grader will, with the visible tests only.

    python -m autograder.selfcheck lstm_cell.ipynb            # or: lstm_course.selfcheck("lstm_cell.ipynb")

It goes through the grader's own steps (the file name, deleted or edited locked cells, a fresh sandboxed kernel
in fast mode, the trusted checker running the test cells) with the released notebook in exercises/ as the
template, so it reports for every test what the grader will report for that test's visible part. The hidden
tests are not here: passing this check is not the grade.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from .settings import COURSE_ROOT, Limits


def assignment_of(notebook: Path, course_root: Path) -> str:
    """The assignment a notebook belongs to: a folder of exercises/ whose name ends the file's name."""
    names = sorted((p.name for p in (course_root / "exercises").iterdir() if p.is_dir()), key=len, reverse=True)
    stem = notebook.stem
    for name in names:
        if stem == name or stem.endswith(("_" + name, "-" + name, " " + name)):
            return name
    raise SystemExit(f"cannot tell which assignment {notebook.name} is: name it <assignment>.ipynb (one of "
                     f"{', '.join(sorted(names))}) or pass --assignment")


def self_check(notebook: Path, assignment: str | None = None, course_root: Path | None = None,
               unsafe: bool | None = None, limits: Limits | None = None, extra_env: dict | None = None) -> dict:
    """Grade `notebook` against the released notebook; returns {"outcome", "detail", "tests": {gid: {...}}}."""
    from . import sandbox
    from .core import grade_submissions

    course_root = Path(course_root or COURSE_ROOT).resolve()
    notebook = Path(notebook).resolve()
    assignment = assignment or assignment_of(notebook, course_root)
    if unsafe is None:  # your own notebook: without bubblewrap it runs unsandboxed, as Jupyter would run it
        unsafe = sandbox.probe() is not None
    work = Path(tempfile.mkdtemp(prefix="ag_self_", dir="/tmp"))
    try:
        folder = work / "submitted" / "me" / assignment
        folder.mkdir(parents=True)
        shutil.copy2(notebook, folder / f"{assignment}.ipynb")
        (result,) = grade_submissions(assignment, work / "submitted", workers=1, workspace=work / "ws",
                                      unsafe=unsafe, course_root=course_root, limits=limits, extra_env=extra_env,
                                      template_folder="exercises")
        import json

        data = json.loads((work / "ws" / "results" / assignment / "me.json").read_text())
        return {"outcome": result.outcome, "detail": result.detail, "tests": data.get("tests", {})}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(check: dict) -> str:
    """What a student reads."""
    lines = [f"outcome: {check['outcome']}" + (f" ({check['detail']})" if check["detail"] else "")]
    for gid, t in check["tests"].items():
        state = "passed" if t.get("passed") else "FAILED"
        why = "" if t.get("passed") else f": {t.get('message', '')}"
        lines.append(f"  {gid}: visible checks {state}{why}")
    lines.append("Only the visible checks ran: the grade also comes from hidden tests.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.selfcheck", description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--assignment", default=None)
    parser.add_argument("--course-root", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        print(f"error: no notebook at {args.notebook} (save it first)", file=sys.stderr)
        return 2
    check = self_check(args.notebook, args.assignment, args.course_root)
    print(report(check))
    return 0 if check["outcome"] == "graded" and all(t.get("passed") for t in check["tests"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
