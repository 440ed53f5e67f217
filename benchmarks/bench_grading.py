"""Print grading figures: time per notebook, sandbox overhead, and a class graded by plain nbgrader vs ours.

    .venv/bin/python benchmarks/bench_grading.py --course toy            # the toy course of the tests
    .venv/bin/python benchmarks/bench_grading.py --course real           # the four real assignments
    .venv/bin/python benchmarks/bench_grading.py --course toy --students 20 --workers 2 --repeat 3
    .venv/bin/python benchmarks/bench_grading.py --course real --assignments lstm_cell --parts cluster  # 200 students
    .venv/bin/python benchmarks/bench_grading.py --course real --scheduler tcp://HOST:8786  # an existing cluster

Submissions are the released notebooks with every answer cell filled in from the reference solution
(tests/make_submissions.py), so every autograded test passes; a run that scores less stops with an error,
since its timings would be meaningless.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import make_submissions  # noqa: E402
import nbformat  # noqa: E402

from autograder import grade_submissions  # noqa: E402
from autograder.settings import Limits  # noqa: E402


def make_course(kind: str, tmp: Path) -> tuple[Path, list[str]]:
    """A course folder with solutions/ and exercises/ for 4 assignments."""
    course = tmp / "course"
    if kind == "real":
        names = [a for a in make_submissions.ASSIGNMENTS if (ROOT / "solutions" / a / f"{a}.ipynb").exists()]
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


def expected_score(a: str) -> float | None:
    """The autograded score of the reference submission (None: full marks, for the toy course)."""
    return make_submissions.EXPECTED.get(a, {}).get("reference")


def write_reference(course: Path, a: str, folder: Path, student: str) -> None:
    dest = folder / student / a
    dest.mkdir(parents=True, exist_ok=True)
    nbformat.write(make_submissions.filled(a, root=course), str(dest / f"{a}.ipynb"))


def make_class(course: Path, names: list[str], students: int) -> Path:
    sub = course / "submitted"
    for s in range(students):
        for a in names:
            write_reference(course, a, sub, f"student{s:02d}")
    return sub


def ours(course: Path, names: list[str], sub: Path, workers: int, unsafe: bool, ws: Path,
         scheduler: str | None = None) -> float:
    start = time.perf_counter()
    for a in names:
        results = grade_submissions(a, sub, workers=workers, workspace=ws, unsafe=unsafe, course_root=course,
                                    limits=Limits(cell_timeout=600), extra_env={"LSTM_COURSE_FAST": "1"},
                                    scheduler=scheduler)
        want = expected_score(a)
        bad = [r for r in results if r.outcome != "graded" or r.score != (r.max_score if want is None else want)]
        if bad:
            raise SystemExit(f"{a}: {len(bad)} reference submissions did not get full marks, e.g. {bad[0]}")
    return time.perf_counter() - start


def single_notebook(course: Path, names: list[str], tmp: Path, repeat: int) -> None:
    print("\n1) grading time per notebook (fast mode, 1 worker, one student), sandbox vs --unsafe")
    single = tmp / "single"
    for a in names:
        write_reference(course, a, single, "student00")
    for a in names:
        t_safe, t_unsafe = [], []
        for _ in range(repeat):
            t_unsafe.append(ours(course, [a], single, 1, True, tmp / "ws_single_u"))
            t_safe.append(ours(course, [a], single, 1, False, tmp / "ws_single_s"))
        s, u = statistics.median(t_safe), statistics.median(t_unsafe)
        print(f"  {a:<16} sandbox {s:6.2f} s   unsafe {u:6.2f} s   overhead {100 * (s - u) / u:+5.1f} %"
              f"   (runs: sandbox {', '.join(f'{t:.1f}' for t in t_safe)}; "
              f"unsafe {', '.join(f'{t:.1f}' for t in t_unsafe)})", flush=True)


def whole_class(course: Path, names: list[str], tmp: Path, students: int, workers: int) -> None:
    print(f"\n2) class of {students} students x {len(names)} notebooks")
    sub = make_class(course, names, students)
    t_plain = 0.0
    for a in names:
        t_plain += run_nbgrader(course, "autograde", a, "--force")
    t_ours = ours(course, names, sub, workers, False, tmp / "ws_class")
    n = students * len(names)
    print(f"  plain serial `nbgrader autograde`   {t_plain:7.1f} s  ({t_plain / n:.2f} s/notebook, no sandbox)")
    print(f"  python -m autograder --workers {workers}    {t_ours:7.1f} s  ({t_ours / n:.2f} s/notebook, "
          "sandboxed, feedback + CSV included)")
    print(f"  speed-up {t_plain / t_ours:.2f}x")


def class_ours(course: Path, names: list[str], tmp: Path, students: int, workers: int) -> None:
    print(f"\n3) class of {students} students x {len(names)} notebooks, this grader only (--workers {workers})")
    sub = make_class(course, names, students)
    for a in names:
        t = ours(course, [a], sub, workers, False, tmp / f"ws_ours_{a}")
        print(f"  {a:<16} {t:7.1f} s   {t / students:5.2f} s/notebook   ({t * workers / students:5.2f} s of a worker "
              "per notebook)", flush=True)


class LocalDaskCluster:
    """`dask scheduler` and `workers` single-thread `dask worker` processes on loopback; stopped on exit."""

    def __init__(self, workers: int, folder: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        self.folder, self.workers, self.procs = folder, workers, []

    def __enter__(self) -> str:
        from distributed import Client

        dask = str(Path(sys.executable).parent / "dask")
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        env.pop("DASK_SCHEDULER_ADDRESS", None)
        self.folder.mkdir(parents=True, exist_ok=True)
        argvs = [[dask, "scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
                  "--no-dashboard", "--no-show"]]
        argvs += [[dask, "worker", self.address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                   "--local-directory", str(self.folder / f"w{n}")] for n in range(self.workers)]
        try:
            for argv in argvs:
                log = open(self.folder / f"{argv[1]}-{len(self.procs)}.log", "wb")
                self.procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                   start_new_session=True))
            with Client(self.address, timeout=60, set_as_default=False) as client:
                client.wait_for_workers(self.workers, timeout=120)
        except BaseException:
            self.__exit__()
            raise
        return self.address

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def cluster_vs_local(course: Path, names: list[str], tmp: Path, students: int, workers: int,
                     scheduler: str | None = None, rounds: int = 2) -> None:
    """The same class graded by the local pool and by a local Dask cluster with as many single-thread workers
    (or by the existing cluster at `scheduler`), in `rounds` interleaved parts (local part 1, cluster part 1,
    local part 2, ...): a machine whose load drifts during the half hour this takes loads both paths alike."""
    a = "lstm_cell" if "lstm_cell" in names else names[0]
    rounds = max(1, min(rounds, students))
    print(f"\n4) {students} {a} submissions: local pool (--workers {workers}) vs a local Dask cluster "
          f"({workers} workers x 1 thread), same machine, same run, {rounds} interleaved rounds")
    parts = [tmp / "cluster_class" / f"part{r}" for r in range(rounds)]
    for s in range(students):
        write_reference(course, a, parts[s % rounds], f"student{s:03d}")
    times = {"local": [], "cluster": []}

    def run(address: str | None) -> None:
        for r, sub in enumerate(parts):
            times["local"].append(ours(course, [a], sub, workers, False, tmp / f"ws_local_{r}"))
            times["cluster"].append(ours(course, [a], sub, workers, False, tmp / f"ws_cluster_{r}",
                                         scheduler=address))
            print(f"  round {r + 1}: local {times['local'][-1]:6.1f} s, cluster {times['cluster'][-1]:6.1f} s "
                  f"({len(list(sub.iterdir()))} students)", flush=True)

    if scheduler:
        run(scheduler)
    else:
        with LocalDaskCluster(workers, tmp / "dask") as address:
            run(address)
    t_local, t_cluster = sum(times["local"]), sum(times["cluster"])
    where = f"Dask cluster at {scheduler}" if scheduler else f"Dask cluster, {workers} workers"
    for label, t in ((f"local pool, {workers} slots", t_local), (where, t_cluster)):
        print(f"  {label:<26} {t:7.1f} s   {60 * students / t:6.1f} notebooks/minute", flush=True)
    print(f"  cluster overhead {100 * (t_cluster - t_local) / t_local:+.1f} % (probe of every worker included; "
          "starting the cluster not)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", choices=("toy", "real"), default="toy")
    parser.add_argument("--students", type=int, default=None,
                        help="students a class (default 20; 200 for --parts cluster)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="single-notebook timings repeated")
    parser.add_argument("--parts", nargs="+", choices=("single", "class", "ours", "cluster"),
                        default=["single", "class"],
                        help="1) time per notebook and sandbox overhead, 2) the class vs plain nbgrader, "
                             "3) the class with this grader only, per assignment, 4) local pool vs a local Dask "
                             "cluster (--scheduler path), lstm_cell (or the first assignment) only")
    parser.add_argument("--assignments", nargs="+", default=None, help="a subset of the course's assignments")
    parser.add_argument("--rounds", type=int, default=2,
                        help="the cluster part's class graded in this many interleaved parts by each path")
    parser.add_argument("--scheduler", default=None,
                        help="the cluster part on this existing Dask cluster (tcp://HOST:8786; its workers must see "
                             "this course) instead of a local one; implies --parts cluster")
    args = parser.parse_args()
    if args.scheduler:
        args.parts = ["cluster"]
    cluster_students = args.students or 200
    args.students = args.students or 20
    with tempfile.TemporaryDirectory(prefix="bench_grading_") as tmp:
        tmp = Path(tmp)
        course, names = make_course(args.course, tmp)
        if args.assignments:
            names = [a for a in names if a in args.assignments]
        print(f"course={args.course} assignments={names} students={args.students} workers={args.workers}")
        if "single" in args.parts:
            single_notebook(course, names, tmp, args.repeat)
        if "class" in args.parts:
            whole_class(course, names, tmp, args.students, args.workers)
        if "ours" in args.parts:
            class_ours(course, names, tmp, args.students, args.workers)
        if "cluster" in args.parts:
            cluster_vs_local(course, names, tmp, cluster_students, args.workers, args.scheduler, args.rounds)


if __name__ == "__main__":
    main()
