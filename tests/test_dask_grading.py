"""Tests of grading on a Dask cluster: a real `dask scheduler` and two `dask worker` processes on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import autograder_toy as toy
from autograder import cluster, grade_submissions
from autograder.settings import GradingOptions, Limits

distributed = pytest.importorskip("distributed")

LIMITS = Limits(cell_timeout=10, notebook_timeout=60)
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_env() -> dict:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    return env


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return toy.make_course(tmp_path_factory.mktemp("toy_course"))


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A scheduler and two single-thread workers, separate processes as on separate machines; always stopped."""
    root = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    env = cluster_env()
    procs = []
    logs = []

    def start(*args, name):
        log = open(root / f"{name}.log", "wb")
        logs.append(log)
        procs.append(subprocess.Popen([str(BIN / "dask"), *args], env=env, cwd=root, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard",
              "--no-show", name="scheduler")
        for n in (1, 2):
            start("worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--name", f"w{n}",
                  "--local-directory", str(root / f"w{n}"), name=f"w{n}")
        yield address  # not waited for here: the workers start while a test grades its local run
    finally:
        for proc in procs:  # the process groups we started: nanny, worker and their grading processes
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for log in logs:
            log.close()


def ready(address: str) -> str:
    """Wait until the scheduler at `address` has both workers; return the address."""
    with distributed.Client(address, timeout=60, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=90)
    return address


def class_folder(course: Path, root: Path) -> Path:
    """Honest; partial with an edited test cell; a deleted test cell; corrupt JSON; a wrong file name."""
    sub = root / "submitted"
    toy.write_submitted(sub, "alice", toy.submission(course))
    toy.write_submitted(sub, "bob", toy.submission(course, toy.PARTIAL, edit={"test_greet": "pass"}))
    toy.write_submitted(sub, "carol", toy.submission(course, drop=("test_add",)))
    toy.write_submitted(sub, "erin", "{not json")
    toy.write_submitted(sub, "frank", toy.submission(course), name="Toy (1).ipynb")
    (sub / "alice" / "toy" / "notes.txt").write_text("a file beside the notebook goes to the worker too")
    return sub


def test_cluster_grades_csv_identical_to_local_run(course, dask_cluster, tmp_path):
    """Is grades.csv of a class graded on the Dask workers byte-identical to a local run of the same class?"""
    sub = class_folder(course, tmp_path)
    local = grade_submissions("toy", sub, workers=2, workspace=tmp_path / "local", course_root=course,
                              limits=LIMITS)
    remote = grade_submissions("toy", sub, workspace=tmp_path / "remote", course_root=course, limits=LIMITS,
                               scheduler=ready(dask_cluster))
    assert (tmp_path / "remote" / "grades.csv").read_bytes() == (tmp_path / "local" / "grades.csv").read_bytes()
    assert remote == local
    by_student = {r.student: r for r in remote}
    assert (by_student["alice"].score, by_student["bob"].score) == (6, 3)
    assert "test_greet" in by_student["bob"].detail  # the edited cell restored and named, as locally
    for student in ("alice", "bob"):  # executed notebook and feedback written by the client
        assert (tmp_path / "remote" / "autograded" / student / "toy" / "toy.ipynb").is_file()
        html = (tmp_path / "remote" / "feedback" / student / "toy" / "toy.html").read_text()
        assert not any(hidden in html for hidden in toy.HIDDEN_TEXTS)
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{tmp_path / 'remote' / 'gradebook.db'}") as gb:
        assert gb.find_submission("toy", "bob").score == 3


def test_workers_refuse_a_batch_they_cannot_match(course, dask_cluster):
    """Does every worker refuse (and nobody get graded) when its source notebook differs from the client's?"""
    options = GradingOptions(course_root=course, limits=LIMITS)
    req = cluster.requirements("toy", options)
    req["notebook_sha256"] = "0" * 64  # as if the client had another version of the answer key
    with distributed.Client(ready(dask_cluster), timeout=10, set_as_default=False) as client:
        with pytest.raises(cluster.ClusterUnavailable, match="differs from the client's source notebook"):
            cluster.check_workers(client, req, timeout=60)


def test_killed_worker_loses_no_student_and_grades_none_twice(course, dask_cluster, tmp_path):
    """When a worker is SIGKILLed in the middle of a batch, is every student still graded exactly once?"""
    sub = tmp_path / "submitted"
    students = [f"s{i}" for i in range(5)]
    for s in students:
        toy.write_submitted(sub, s, toy.submission(course))
    ws = tmp_path / "ws"
    outcome: dict = {}
    ready(dask_cluster)

    def run():
        try:
            outcome["results"] = grade_submissions("toy", sub, workspace=ws, course_root=course, limits=LIMITS,
                                                   scheduler=dask_cluster)
        except BaseException as err:  # noqa: BLE001 - reported by the test below
            outcome["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    killed = None  # (notebooks in flight on the victim, students recorded) when it was killed
    with distributed.Client(dask_cluster, timeout=10, set_as_default=False) as client:
        deadline = time.monotonic() + 240
        busy_since = None
        while time.monotonic() < deadline and thread.is_alive():
            busy = {w: keys for w, keys in client.processing().items()
                    if any(str(k).startswith("autograde-") for k in keys)}
            if not busy:
                busy_since = None
            elif busy_since is None:
                busy_since = time.monotonic()
            elif time.monotonic() - busy_since >= 1.0:  # its kernel is running a student's notebook
                victim = sorted(busy)[0]
                pid = client.run(os.getpid, workers=[victim])[victim]
                os.kill(pid, signal.SIGKILL)
                folder = ws / "results" / "toy"
                killed = (busy[victim], len(list(folder.glob("*.json"))) if folder.exists() else 0)
                break
            time.sleep(0.1)
    thread.join(timeout=240)
    assert "error" not in outcome, outcome.get("error")
    assert killed is not None and killed[1] < len(students), "the worker was not killed in the middle of the batch"
    results = outcome["results"]
    assert sorted(r.student for r in results) == students  # nobody lost, nobody twice
    assert all((r.outcome, r.score) == ("graded", 6) for r in results), results
    assert sorted(p.stem for p in (ws / "results" / "toy").glob("*.json")) == students
    rows = (ws / "grades.csv").read_text().splitlines()[1:]
    assert len(rows) == len(students)


def test_unreachable_scheduler_is_one_clear_error_before_grading(course, tmp_path):
    """Does an address where no scheduler listens give one clear error, fast, with nobody graded?"""
    sub = tmp_path / "submitted"
    toy.write_submitted(sub, "alice", toy.submission(course))
    ws = tmp_path / "ws"
    start = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "autograder", "toy", str(sub), "--workspace", str(ws),
                          "--course-root", str(course), "--no-progress", "--scheduler",
                          f"tcp://127.0.0.1:{free_port()}", "--scheduler-timeout", "2"],
                         capture_output=True, text=True, env=cluster_env(), timeout=60)
    assert res.returncode == 2, res.stderr
    assert "cannot reach the Dask scheduler" in res.stderr and "nobody was graded" in res.stderr
    assert res.stderr.count("error:") == 1
    assert time.monotonic() - start < 45  # the CLI imports nbgrader first; the connection gives up after 2 s
    assert not (ws / "results").exists() and not (ws / "submitted").exists()


def test_worker_without_sandbox_refuses_instead_of_grading(course, monkeypatch):
    """Does a worker whose bubblewrap cannot run return a refusal for a grading task, never a grade?"""
    from autograder import sandbox

    monkeypatch.setattr(sandbox, "probe", lambda: "bubblewrap (bwrap) is not installed")
    req = cluster.requirements("toy", GradingOptions(course_root=course, limits=LIMITS))
    report = cluster.worker_report(req)
    assert report["ok"] is False and "no sandbox" in report["reasons"][0]
    nb = toy.submission(course)
    import nbformat
    job = {"student": "alice", "name": "toy.ipynb", "notebook": nbformat.writes(nb).encode(), "files": {}}
    answer = cluster.grade_task(req, job)
    assert "refused" in answer and "bubblewrap" in answer["refused"] and "score" not in answer


def test_worker_that_cannot_prepare_refuses_with_the_reason(course, monkeypatch):
    """Does a worker whose preparation fails (here: its template cannot be read) refuse and say why?"""
    def broken(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr("autograder.template.load_template", broken)
    monkeypatch.setattr("autograder.sandbox.probe", lambda: None)
    report = cluster.worker_report(cluster.requirements("toy", GradingOptions(course_root=course, limits=LIMITS)))
    assert report["ok"] is False and "disk gone" in report["reasons"][0]


def test_refusing_worker_grades_nothing_and_the_others_grade_all(course, tmp_path, monkeypatch):
    """With one of two workers unable to sandbox, does the other grade every notebook and the first none?"""
    from autograder import core, sandbox

    sub = tmp_path / "submitted"
    for s in ("s0", "s1", "s2"):
        toy.write_submitted(sub, s, toy.submission(course))
    real_probe, real_grade = sandbox.probe, core.grade_in_slot
    graded_by: list[str] = []

    def grade_and_note(*args, **kwargs):
        graded_by.append(cluster._worker_name())
        return real_grade(*args, **kwargs)

    monkeypatch.setattr(core, "grade_in_slot", grade_and_note)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                      dashboard_address=None) as local:  # two workers in this process (threads)
            bad = sorted(local.scheduler.workers)[0]
            monkeypatch.setattr(sandbox, "probe", lambda: "bwrap missing here" if cluster._worker_name() == bad
                                else real_probe())
            results = grade_submissions("toy", sub, workspace=tmp_path / "ws", course_root=course, limits=LIMITS,
                                        scheduler=local.scheduler_address)
    finally:
        cluster.close_checkers()  # the workers' checker processes live in this process's states
    assert [(r.student, r.outcome, r.score) for r in results] == [(s, "graded", 6) for s in ("s0", "s1", "s2")]
    assert len(graded_by) == 3 and bad not in graded_by
