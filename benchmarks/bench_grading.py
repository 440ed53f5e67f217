"""Print grading figures: time per notebook, sandbox overhead, and a class graded by plain nbgrader vs ours.

    .venv/bin/python benchmarks/bench_grading.py --course toy            # the toy course of the tests
    .venv/bin/python benchmarks/bench_grading.py --course real           # the four real assignments
    .venv/bin/python benchmarks/bench_grading.py --course toy --students 20 --workers 2 --repeat 3

Submissions are the instructor's notebooks themselves (every test passes), copied per student.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REAL = ("lstm_vs_gru", "imdb_sentiment", "char_generation", "lstm_cell")

from autograder import grade_submissions  # noqa: E402
from autograder.settings import Limits  # noqa: E402


def make_course(kind: str, tmp: Path) -> tuple[Path, list[str]]:
    """A course folder with solutions/ and exercises/ for 4 assignments."""
    course = tmp / "course"
    if kind == "real":
        names = [a for a in REAL if (ROOT / "solutions" / a / f"{a}.ipynb").exists()]
        for a in names:
            shutil.copytree(ROOT / "solutions" / a, course / "solutions" / a)
    else:
        names = [f"toy{i}" for i in range(1, 5)]
        src = ROOT / "tests" / "files" / "toy_course" / "solutions" / "toy" / "toy.ipynb"
        for a in names:
            (course / "solutions" / a).mkdir(parents=True)
            shutil.copy(src, course / "solutions" / a / f"{a}.ipynb")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.source_directory = 'solutions'\n"
        "c.CourseDirectory.release_directory = 'exercises'\nc.Execute.timeout = 600\n")
    for a in names:
        run_nbgrader(course, "generate_assignment", a, "--force")
    return course, names


def run_nbgrader(course: Path, *args: str) -> float:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", LSTM_COURSE_FAST="1")
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args], cwd=course, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def make_class(course: Path, names: list[str], students: int) -> Path:
    sub = course / "submitted"
    for s in range(students):
        for a in names:
            dest = sub / f"student{s:02d}" / a
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(course / "solutions" / a / f"{a}.ipynb", dest / f"{a}.ipynb")
    return sub


def ours(course: Path, names: list[str], sub: Path, workers: int, unsafe: bool, ws: Path) -> float:
    start = time.perf_counter()
    for a in names:
        results = grade_submissions(a, sub, workers=workers, workspace=ws, unsafe=unsafe, course_root=course,
                                    limits=Limits(cell_timeout=600), extra_env={"LSTM_COURSE_FAST": "1"})
        bad = [r for r in results if r.outcome != "graded" or r.score != r.max_score]
        if bad:
            print(f"  warning: {a}: {bad[:2]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", choices=("toy", "real"), default="toy")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="single-notebook timings repeated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_grading_") as tmp:
        tmp = Path(tmp)
        course, names = make_course(args.course, tmp)
        print(f"course={args.course} assignments={names} students={args.students} workers={args.workers}")
        print("\n1) grading time per notebook (fast mode, 1 worker, one student), sandbox vs --unsafe")
        single = tmp / "single"
        for a in names:
            dest = single / "student00" / a
            dest.mkdir(parents=True)
            shutil.copy(course / "solutions" / a / f"{a}.ipynb", dest / f"{a}.ipynb")
        for a in names:
            t_safe, t_unsafe = [], []
            for _ in range(args.repeat):
                t_unsafe.append(ours(course, [a], single, 1, True, tmp / "ws_single_u"))
                t_safe.append(ours(course, [a], single, 1, False, tmp / "ws_single_s"))
            s, u = statistics.median(t_safe), statistics.median(t_unsafe)
            print(f"  {a:<16} sandbox {s:6.2f} s   unsafe {u:6.2f} s   overhead {100 * (s - u) / u:+5.1f} %")
        print(f"\n2) class of {args.students} students x {len(names)} notebooks")
        sub = make_class(course, names, args.students)
        t_plain = 0.0
        for a in names:
            t_plain += run_nbgrader(course, "autograde", a, "--force")
        t_ours = ours(course, names, sub, args.workers, False, tmp / "ws_class")
        n = args.students * len(names)
        print(f"  plain serial `nbgrader autograde`   {t_plain:7.1f} s  ({t_plain / n:.2f} s/notebook, no sandbox)")
        print(f"  python -m autograder --workers {args.workers}    {t_ours:7.1f} s  ({t_ours / n:.2f} s/notebook, "
              "sandboxed, feedback + CSV included)")
        print(f"  speed-up {t_plain / t_ours:.2f}x")


if __name__ == "__main__":
    main()
