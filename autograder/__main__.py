"""Command line: python -m autograder ASSIGNMENT SUBMISSIONS [--workers N] [--workspace DIR] [--unsafe]."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .settings import Limits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=(
        "Import, autograde (sandboxed, in parallel) and give feedback on every submission of one assignment."))
    parser.add_argument("assignment", help="assignment name (solutions/<a>/<a>.ipynb)")
    parser.add_argument("submissions", type=Path, help="nbgrader submitted/ folder, flat folder or zip (Canvas)")
    parser.add_argument("--workers", type=int, default=2, help="notebooks graded at once (default 2)")
    parser.add_argument("--workspace", type=Path, default=None, help="instructor workspace (autograder/workspace)")
    parser.add_argument("--course-root", type=Path, default=None, help="course root (default: this repository)")
    parser.add_argument("--unsafe", action="store_true", help="run student code WITHOUT the bubblewrap sandbox")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout, help="seconds per cell")
    parser.add_argument("--notebook-timeout", type=float, default=Limits.notebook_timeout,
                        help="seconds per notebook")
    parser.add_argument("--memory", type=float, default=Limits.address_space / 2**30,
                        help="address space per kernel in GiB (TensorFlow needs 3-4)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--db-url", default=None, metavar="URL",
                        help="nbgrader's gradebook as a SQLAlchemy URL, e.g. postgresql://USER@HOST/DB, which several "
                             "graders may share (default: sqlite:///WORKSPACE/gradebook.db)")
    parser.add_argument("--scheduler", default=os.environ.get("DASK_SCHEDULER_ADDRESS") or None, metavar="ADDRESS",
                        help="grade on a Dask cluster: its scheduler, e.g. tcp://HOST:8786 (default: "
                             "$DASK_SCHEDULER_ADDRESS; unset: --workers local slots); see autograder/README.md")
    parser.add_argument("--scheduler-timeout", type=float, default=10.0,
                        help="seconds to reach the scheduler and find a worker (default 10)")
    parser.add_argument("--export", action="append", default=None, metavar="LMS",
                        help="after grading, write grades for an LMS from the recorded results: canvas (gradebook "
                             "import CSV), gradescope (results.json a student); repeat or comma list")
    parser.add_argument("--canvas-assignment-id", default=None, metavar="ID",
                        help="the Canvas assignment's id (end of its address): Canvas then updates that assignment; "
                             "without it Canvas matches the column by title or creates a new assignment")
    parser.add_argument("--canvas-assignment-name", default=None, metavar="TITLE",
                        help="the assignment's title in Canvas (default: ASSIGNMENT)")
    args = parser.parse_args(argv)
    from .exports import ExportError, canvas_column, export, parse_exports
    try:  # bad export options: one clear error before anybody is graded
        exports = parse_exports(args.export)
        canvas_column(args.canvas_assignment_name or args.assignment, args.canvas_assignment_id)
    except ExportError as err:
        parser.error(str(err))
    from .core import ClusterUnavailable, DataNotReady, GradebookUnavailable, SandboxUnavailable, grade_submissions
    from .report import summary_table
    from .settings import default_workspace
    limits = Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                    address_space=int(args.memory * 2**30))
    start = time.monotonic()
    try:
        results = grade_submissions(args.assignment, args.submissions, workers=args.workers,
                                    workspace=args.workspace, unsafe=args.unsafe, course_root=args.course_root,
                                    limits=limits, progress=not args.no_progress, db_url=args.db_url,
                                    scheduler=args.scheduler, scheduler_timeout=args.scheduler_timeout)
    except (SandboxUnavailable, DataNotReady, GradebookUnavailable, ClusterUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(summary_table(results))
    workspace = (args.workspace or default_workspace()).resolve()
    print(f"\n{len(results)} submissions in {time.monotonic() - start:.1f} s; grades: {workspace / 'grades.csv'}; "
          f"feedback: {workspace / 'feedback'}")
    if exports:
        try:
            print(export(exports, workspace, args.assignment, course_root=args.course_root,
                         canvas_assignment_id=args.canvas_assignment_id,
                         canvas_assignment_name=args.canvas_assignment_name))
        except ExportError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
