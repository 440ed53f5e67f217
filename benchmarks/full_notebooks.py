"""Run the reference solutions of the graded exercises in FULL mode (what a student runs) and print the figures.

The autograder grades in fast mode (small data, few epochs); the hidden tests that only make sense on the
full data (e.g. imdb_sentiment's test accuracy > 0.75 on held-out reviews) run only here. Each source notebook
solutions/<a>/<a>.ipynb (reference answers AND hidden tests) is executed top to bottom in a fresh kernel of this
environment with NBGRADER_EXECUTION and LSTM_COURSE_FAST unset; the script prints, per assignment, the wall
time, the failing cells (none expected) and the lines the notebook printed about accuracy, loss, time and
generated samples, and exits non-zero if any cell failed.

    .venv/bin/python benchmarks/full_notebooks.py                        # all four, one after the other
    .venv/bin/python benchmarks/full_notebooks.py --assignments imdb_sentiment --save /tmp/executed
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from make_submissions import ASSIGNMENTS  # noqa: E402
INTERESTING = re.compile(r"accuracy|loss|seconds|s/epoch|params|FAST|greedy|^T = ", re.IGNORECASE)


def run(assignment: str, timeout: int, save: Path | None) -> tuple[float, list[str], list[str]]:
    """Execute one source notebook in full mode; (wall seconds, failing cells, interesting printed lines)."""
    path = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    env_before = {k: os.environ.pop(k) for k in ("NBGRADER_EXECUTION", "LSTM_COURSE_FAST") if k in os.environ}
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()  # allow_errors: a failing cell is recorded in its outputs, the run goes on
    finally:
        os.environ.update(env_before)
    wall = time.perf_counter() - start
    failed, lines = [], []
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                failed.append(f"{gid}: {out.get('ename')}: {str(out.get('evalue'))[:200]}")
            elif out.get("output_type") == "stream" and out.get("name") == "stdout":
                lines += [f"{gid}: {line}" for line in out.get("text", "").splitlines()
                          if INTERESTING.search(line) and len(line) < 200]
    if save:
        save.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(save / f"{assignment}.ipynb"))
    return wall, failed, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignments", nargs="+", choices=ASSIGNMENTS, default=list(ASSIGNMENTS))
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--save", type=Path, default=None, help="folder for the executed notebooks")
    args = parser.parse_args()
    if not os.environ.get("LSTM_COURSE_DATA"):
        print("note: LSTM_COURSE_DATA is not set: the loaders download and cache the data sets", file=sys.stderr)
    summary, bad = [], 0
    for a in args.assignments:
        print(f"== {a} (full mode)", flush=True)
        wall, failed, lines = run(a, args.timeout, args.save)
        for line in lines:
            print(f"   {line}")
        for line in failed:
            print(f"   FAILED {line}")
        bad += len(failed)
        summary.append((a, wall, len(failed)))
        print(f"   {wall:.0f} s wall, {len(failed)} failing cells", flush=True)
    print("\nassignment        wall s  failing cells")
    for a, wall, n in summary:
        print(f"{a:<16} {wall:7.0f}  {n:13d}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
