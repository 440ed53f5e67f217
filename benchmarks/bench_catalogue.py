"""Grade the mutation catalogue and print, per assignment: submissions, wrong ones caught, right ones accepted,
exact scores as predicted, and the grading time per notebook. As in CI, crafted submissions that change
independent parts of the notebook are packed into one notebook (tests/make_submissions.py); --single grades each
alone, which is what the counts below are about either way.

    .venv/bin/python benchmarks/bench_catalogue.py                       # every assignment
    .venv/bin/python benchmarks/bench_catalogue.py --assignments lstm_cell --workers 2
    .venv/bin/python benchmarks/bench_catalogue.py --single     # every crafted submission in its own notebook

The catalogue is tests/catalogue/<assignment>.py (built into notebooks by tests/make_submissions.py); the same
grading runs in CI as tests/test_assignments.py::test_grades. A wrong submission is "caught" when it scores
below full marks; a right one is "accepted" at full marks; "exact" counts the scores equal to the prediction.
"""

from __future__ import annotations

import argparse
import json
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


def run(assignment: str, workers: int, single: bool) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="ag_cat_", dir="/tmp"))
    try:
        subs = make_submissions.write_submissions(assignment, tmp / "subs", single=single)
        start = time.monotonic()
        results = grade_submissions(assignment, subs, workers=workers, workspace=tmp / "ws",
                                    unsafe=sandbox.probe() is not None)
        seconds = time.monotonic() - start
        tests = {r.student: json.loads((tmp / "ws" / "results" / assignment / f"{r.student}.json").read_text())
                 .get("tests", {}) for r in results}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    full = make_submissions.MAX_AUTO[assignment]
    packs = {p.student: p for p in make_submissions.packed(assignment, single)}
    by = {r.student: r for r in results}
    problems = {s: make_submissions.grading_problems(p, by[s].score, by[s].outcome, tests[s])
                for s, p in packs.items()}
    misses = [m for s in packs for m in problems[s]]
    # a crafted submission counts as caught / accepted / exact when its notebook, and its part, scored as predicted
    scored = {c.student: not any(m.startswith((f"{s} (", f"{c.student} (")) for m in problems[s])
              for s, p in packs.items() for c in p.members}
    crafted = make_submissions.CRAFTED[assignment]
    wrong = [c for c in crafted if c.expected < full]
    right = [c for c in crafted if c.expected == full]
    return {"assignment": assignment, "submissions": len(crafted) + 2, "notebooks": len(results),
            "wrong": len(wrong), "caught": sum(scored[c.student] for c in wrong), "right": len(right),
            "accepted": sum(scored[c.student] for c in right),
            "exact": sum(scored.values()) + sum(not problems[s] for s in ("reference", "blank")),
            "seconds": seconds, "per_notebook": seconds / max(1, len(results)) * workers, "misses": misses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="*", default=list(make_submissions.ASSIGNMENTS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--single", action="store_true", help="every crafted submission alone (no packing)")
    args = parser.parse_args()
    rows = [run(a, args.workers, args.single) for a in args.assignments]
    print(f"{'assignment':<22} {'subs':>5} {'notebooks':>10} {'wrong':>6} {'caught':>7} {'right':>6} {'accepted':>9} "
          f"{'exact':>6} {'time':>8} {'s/notebook':>11}")
    for r in rows:
        print(f"{r['assignment']:<22} {r['submissions']:>5} {r['notebooks']:>10} {r['wrong']:>6} {r['caught']:>7} "
              f"{r['right']:>6} {r['accepted']:>9} {r['exact']:>6} {r['seconds']:>7.0f}s {r['per_notebook']:>10.1f}s")
        for miss in r["misses"]:
            print(f"    score differs: {miss}")
    print("(s/notebook = wall time x workers / notebooks: the cost of one notebook on one worker)")
    return 0 if all(not r["misses"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
