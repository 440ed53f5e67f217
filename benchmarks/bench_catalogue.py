"""Grade the mutation catalogue and print, per assignment: submissions, wrong ones caught, right ones accepted,
exact scores as predicted, and the grading time per notebook.

    .venv/bin/python benchmarks/bench_catalogue.py                       # all four assignments
    .venv/bin/python benchmarks/bench_catalogue.py --assignments lstm_cell --workers 2

The catalogue is tests/catalogue/<assignment>.py (built into notebooks by tests/make_submissions.py); the same
grading runs in CI as tests/test_assignments.py::test_grades. A wrong submission is "caught" when it scores
below full marks; a right one is "accepted" at full marks; "exact" counts the scores equal to the prediction.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import make_submissions  # noqa: E402

from autograder import grade_submissions, sandbox  # noqa: E402


def run(assignment: str, workers: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="ag_cat_", dir="/tmp"))
    try:
        subs = make_submissions.write_submissions(assignment, tmp / "subs")
        start = time.monotonic()
        results = grade_submissions(assignment, subs, workers=workers, workspace=tmp / "ws",
                                    unsafe=sandbox.probe() is not None)
        seconds = time.monotonic() - start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    full = make_submissions.MAX_AUTO[assignment]
    expected = make_submissions.EXPECTED[assignment]
    by = {r.student: r for r in results}
    wrong = [s for s, e in expected.items() if e < full]
    right = [s for s, e in expected.items() if e == full]
    misses = [f"{s}: {by[s].score:g} (expected {expected[s]:g}, {by[s].outcome})" for s in expected
              if by[s].score != expected[s]]
    return {"assignment": assignment, "submissions": len(results), "wrong": len(wrong),
            "caught": sum(by[s].score < full for s in wrong), "right": len(right),
            "accepted": sum(by[s].score == full for s in right), "exact": len(expected) - len(misses),
            "seconds": seconds, "per_notebook": seconds / max(1, len(results)) * workers, "misses": misses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="*", default=list(make_submissions.ASSIGNMENTS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows = [run(a, args.workers) for a in args.assignments]
    print(f"{'assignment':<16} {'subs':>5} {'wrong':>6} {'caught':>7} {'right':>6} {'accepted':>9} {'exact':>6} "
          f"{'time':>8} {'s/notebook':>11}")
    for r in rows:
        print(f"{r['assignment']:<16} {r['submissions']:>5} {r['wrong']:>6} {r['caught']:>7} {r['right']:>6} "
              f"{r['accepted']:>9} {r['exact']:>6} {r['seconds']:>7.0f}s {r['per_notebook']:>10.1f}s")
        for miss in r["misses"]:
            print(f"    score differs: {miss}")
    print("(s/notebook = wall time x workers / notebooks: the cost of one notebook on one worker)")
    return 0 if all(not r["misses"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
