"""Tests of the one-command autograder on the toy course (pure Python, sandboxed kernels)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import autograder_toy as toy
from autograder import StudentResult, grade_submissions
from autograder.settings import Limits

REPO = Path(__file__).resolve().parent.parent

LIMITS = Limits(cell_timeout=10, notebook_timeout=60)


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Path:
    return toy.make_course(tmp_path_factory.mktemp("toy_course"))


@pytest.fixture(scope="session")
def graded_batch(course, tmp_path_factory):
    """One batch: honest, partial, deleted cell, edited cell, corrupt JSON, wrong name, wrong assignment."""
    root = tmp_path_factory.mktemp("batch")
    sub = root / "submitted"
    toy.write_submitted(sub, "alice", toy.submission(course))
    toy.write_submitted(sub, "bob", toy.submission(course, toy.PARTIAL))
    toy.write_submitted(sub, "carol", toy.submission(course, drop=("test_add",)))
    toy.write_submitted(sub, "dave", toy.submission(course, edit={"test_greet": "pass"}))
    toy.write_submitted(sub, "erin", "{not json")
    toy.write_submitted(sub, "frank", toy.submission(course), name="Toy (1).ipynb")
    toy.write_submitted(sub, "grace", toy.submission(course), assignment="other")
    ws = root / "workspace"
    results = grade_submissions("toy", sub, workers=2, workspace=ws, course_root=course, limits=LIMITS)
    return ws, {r.student: r for r in results}


def test_honest_and_partial_scores(graded_batch):
    """Does an honest submission get full marks and one failing a hidden test lose just those points?"""
    _, res = graded_batch
    assert (res["alice"].score, res["alice"].max_score, res["alice"].outcome) == (6, 6, "graded")
    assert (res["bob"].score, res["bob"].outcome) == (3, "graded")
    assert isinstance(res["alice"], StudentResult)


def test_bad_submissions_get_clear_outcomes(graded_batch):
    """Does each broken submission get its own outcome while the batch goes on?"""
    _, res = graded_batch
    assert (res["carol"].outcome, res["carol"].score) == ("tampered", 0)
    assert "test_add" in res["carol"].detail
    assert (res["dave"].outcome, res["dave"].score) == ("graded", 6)
    assert "test_greet" in res["dave"].detail
    assert res["erin"].outcome == "corrupt_notebook"
    assert res["frank"].outcome == "missing_notebook" and "Toy (1).ipynb" in res["frank"].detail
    assert res["grace"].outcome == "wrong_assignment"


def test_csv_and_result_files(graded_batch):
    """Is grades.csv rebuilt from per-student result files, one row a student?"""
    ws, res = graded_batch
    rows = list(csv.DictReader(open(ws / "grades.csv")))
    assert [r["student"] for r in rows] == sorted(res)
    assert {r["student"]: float(r["score"]) for r in rows}["alice"] == 6
    data = json.loads((ws / "results" / "toy" / "bob.json").read_text())
    assert data["tests"]["test_count"]["passed"] is False


def test_feedback_never_shows_hidden_tests(graded_batch):
    """Does no feedback file contain the text of a hidden test, while pass/fail and docstrings are shown?"""
    ws, _ = graded_batch
    files = list((ws / "feedback").rglob("*.html"))
    assert len(files) == 7
    for path in files:
        text = path.read_text()
        for hidden in toy.HIDDEN_TEXTS:
            assert hidden not in text, (path, hidden)
    bob = (ws / "feedback" / "bob" / "toy" / "toy.html").read_text()
    assert "Does count_lstm_params() return an int?" in bob and "Failed" in bob
    assert "hidden-count-64-32" in bob, "the failed hidden assertion's own message says why"


def test_gradebook_has_auto_scores(graded_batch):
    """Are the auto scores stored in nbgrader's gradebook?"""
    from nbgrader.api import Gradebook
    ws, _ = graded_batch
    with Gradebook(f"sqlite:///{ws / 'gradebook.db'}") as gb:
        assert gb.find_submission("toy", "bob").score == 3


def test_rerun_is_idempotent_and_flat_zip_input(course, graded_batch, tmp_path):
    """Does a zip of Canvas-named notebooks grade like the nbgrader layout, and re-running give the same CSV?"""
    z = tmp_path / "canvas.zip"
    import nbformat
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("doejane_12345_678_toy.ipynb", nbformat.writes(toy.submission(course)))
        zf.writestr("roe_LATE_222_9_toy-1.ipynb", nbformat.writes(toy.submission(course, toy.PARTIAL)))
        zf.writestr("smith_333_10_lstm_vs_gru.ipynb", nbformat.writes(toy.submission(course)))
    ws = tmp_path / "ws"
    first = grade_submissions("toy", z, workers=2, workspace=ws, course_root=course, limits=LIMITS)
    csv1 = (ws / "grades.csv").read_text()
    second = grade_submissions("toy", z, workers=1, workspace=ws, course_root=course, limits=LIMITS)
    assert (ws / "grades.csv").read_text() == csv1
    assert first == second
    res = {r.student: r for r in first}
    assert (res["doejane"].score, res["roe"].score, res["smith"].outcome) == (6, 3, "wrong_assignment")


def test_cli_prints_summary(course, tmp_path):
    """Does `python -m autograder` grade a folder and print the summary table?"""
    sub = tmp_path / "flat"
    sub.mkdir()
    import nbformat
    nbformat.write(toy.submission(course), str(sub / "doejane_12345_678_toy.ipynb"))
    out = subprocess.run([sys.executable, "-m", "autograder", "toy", str(sub), "--workers", "1", "--workspace",
                          str(tmp_path / "ws"), "--course-root", str(course), "--cell-timeout", "10",
                          "--no-progress"], capture_output=True, text=True, timeout=300, cwd="/")
    assert out.returncode == 0, out.stderr
    assert "doejane" in out.stdout and "6 / 6" in out.stdout


def test_refuses_without_sandbox(course, tmp_path, monkeypatch):
    """Does grading refuse to run student code when bubblewrap is unavailable, unless unsafe?"""
    from autograder import core, sandbox
    monkeypatch.setattr(sandbox, "BWRAP", "bwrap-does-not-exist")
    with pytest.raises(core.SandboxUnavailable, match="--unsafe"):
        grade_submissions("toy", tmp_path, workspace=tmp_path / "ws", course_root=course)


def test_failed_kernel_start_releases_everything(course, tmp_path, monkeypatch):
    """When a kernel start fails after its process was launched (as `ZMQError: File name too long` did when
    connecting the control socket), does that student get `error`, the batch finish, the launched process die,
    and the NEXT batch in the same process grade normally? (It used to hang: the failed start left a socket open
    in the KernelManager's own zmq context, and the garbage collector's Context.term() then waited forever.)"""
    import gc
    import threading

    import zmq
    from jupyter_client.connect import ConnectionFileMixin

    original = ConnectionFileMixin._create_connected_socket
    launched = []

    def fail_once(self, channel, identity=None):
        if channel == "control" and not launched:
            launched.append(self.provisioner.process)
            sock = self.context.socket(zmq.DEALER)  # left open, as the real failure left it
            sock.connect("ipc://" + "x" * 200)  # raises ZMQError: File name too long
        return original(self, channel, identity)

    monkeypatch.setattr(ConnectionFileMixin, "_create_connected_socket", fail_once)
    sub = tmp_path / "submitted"
    for student in ("alice", "bob"):
        toy.write_submitted(sub, student, toy.submission(course))
    first = {r.student: r for r in grade_submissions("toy", sub, workers=1, workspace=tmp_path / "ws1",
                                                     course_root=course, limits=LIMITS)}
    assert len(launched) == 1 and launched[0].poll() is not None, "the launched kernel process was left running"
    failed = [r for r in first.values() if r.outcome == "error"]
    assert len(failed) == 1 and "did not start" in failed[0].detail and "File name too long" in failed[0].detail
    assert [r.score for r in first.values() if r.outcome == "graded"] == [6]

    done: list = []

    def next_batch():
        gc.collect()  # what used to hang: destroying the dropped context with its socket still open
        done.extend(grade_submissions("toy", sub, workers=2, workspace=tmp_path / "ws2", course_root=course,
                                      limits=LIMITS))

    thread = threading.Thread(target=next_batch, daemon=True)
    thread.start()
    thread.join(timeout=240)
    assert not thread.is_alive(), "the next batch hung after a failed kernel start"
    assert [(r.outcome, r.score) for r in done] == [("graded", 6), ("graded", 6)]


def test_long_workspace_path(course, tmp_path, monkeypatch):
    """With a workspace path of 150+ characters, are the kernels' ipc sockets still short enough (unix socket
    paths are limited to 107 bytes; this used to be `ZMQError: File name too long` and outcome `error`), and is
    each kernel's private /tmp/ag-* folder removed afterwards?"""
    from autograder import kernel

    made = []

    def spy():
        folder = kernel_private_ipc_dir()
        made.append(folder)
        return folder

    kernel_private_ipc_dir = kernel.private_ipc_dir
    monkeypatch.setattr(kernel, "private_ipc_dir", spy)
    ws = tmp_path / ("long-workspace-" + "w" * 150)
    assert len(str(ws)) > 150
    sub = tmp_path / "submitted"
    toy.write_submitted(sub, "alice", toy.submission(course))
    toy.write_submitted(sub, "bob", toy.submission(course, toy.PARTIAL))
    res = {r.student: r for r in grade_submissions("toy", sub, workers=2, workspace=ws, course_root=course,
                                                   limits=LIMITS)}
    assert (res["alice"].outcome, res["alice"].score) == ("graded", 6), res["alice"].detail
    assert (res["bob"].outcome, res["bob"].score) == ("graded", 3), res["bob"].detail
    assert len(made) == 2 and all(len(str(f)) < 40 and not f.exists() for f in made)


def _course_needing(course: Path, target: Path, data: list) -> Path:
    """A copy of the toy course whose source notebook declares `data` in its metadata."""
    import nbformat
    shutil.copytree(course, target)
    path = target / "solutions" / "toy" / "toy.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata["lstm_course"] = {"data": data}
    nbformat.write(nb, str(path))
    return target


def test_grader_warms_the_declared_data_once(course, tmp_path, monkeypatch):
    """With an empty cache folder, does grading prepare the declared data once, OUTSIDE the sandbox and before
    the kernels start (they see the cache read-only): the parsed IMDB file exists afterwards, mode 0644?"""
    import hashlib
    import os
    import stat

    from test_imdb import TINY_COUNTS, make_archive

    from lstm_course import download, imdb

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    archive = make_archive(mirror / "aclImdb_v1_text.tar.gz")  # a tiny IMDB in the official layout
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(download.RESOURCES, "imdb", download.Resource(
        url="https://example.invalid/aclImdb_v1.tar.gz", filename="aclImdb_v1.tar.gz", sha256="f" * 64, size=1,
        mirror_filename="aclImdb_v1_text.tar.gz", mirror_sha256=sha))
    monkeypatch.setattr(imdb, "EXPECTED_COUNTS", TINY_COUNTS)
    calls = []
    real_warm = download.warm_cache

    def spy(names, **kw):
        calls.append((list(names), kw))
        return real_warm(names, **kw)

    monkeypatch.setattr(download, "warm_cache", spy)
    cache = tmp_path / "cache"
    needing = _course_needing(course, tmp_path / "course", ["imdb"])
    sub = tmp_path / "submitted"
    toy.write_submitted(sub, "alice", toy.submission(needing))
    toy.write_submitted(sub, "bob", toy.submission(needing))
    old = os.umask(0o022)
    try:
        res = grade_submissions("toy", sub, workers=2, workspace=tmp_path / "ws", course_root=needing,
                                limits=LIMITS, extra_env={"LSTM_COURSE_DATA": str(mirror),
                                                          "LSTM_COURSE_CACHE": str(cache)})
    finally:
        os.umask(old)
    assert [(r.outcome, r.score) for r in res] == [("graded", 6), ("graded", 6)]
    assert len(calls) == 1 and calls[0][0] == ["imdb"]
    assert calls[0][1]["cache"] == str(cache) and calls[0][1]["mirror"] == str(mirror)
    parsed = cache / f"imdb-{sha[:16]}-v{imdb.FORMAT_VERSION}.npz"
    assert parsed.is_file() and stat.S_IMODE(parsed.stat().st_mode) == 0o644


def test_unavailable_data_stops_before_grading(course, tmp_path, monkeypatch, capsys):
    """When the declared data cannot be had (no mirror file, offline), does grading stop BEFORE anyone is graded,
    with the loader's message (the URL and LSTM_COURSE_DATA), in Python and on the command line (exit 2)?"""
    from autograder import DataNotReady
    from autograder.__main__ import main

    needing = _course_needing(course, tmp_path / "course", ["imdb"])
    empty_mirror = tmp_path / "mirror"
    empty_mirror.mkdir()
    monkeypatch.setenv("LSTM_COURSE_DATA", str(empty_mirror))
    monkeypatch.setenv("LSTM_COURSE_CACHE", str(tmp_path / "cache"))
    sub = tmp_path / "submitted"
    toy.write_submitted(sub, "alice", toy.submission(needing))
    ws = tmp_path / "ws"
    with pytest.raises(DataNotReady, match="LSTM_COURSE_DATA") as err:
        grade_submissions("toy", sub, workspace=ws, course_root=needing, limits=LIMITS)
    assert "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz" in str(err.value)
    assert "nobody was graded" in str(err.value)
    assert not (ws / "results").exists() and not (ws / "submitted").exists()
    code = main(["toy", str(sub), "--workspace", str(ws), "--course-root", str(needing), "--no-progress"])
    assert code == 2 and "LSTM_COURSE_DATA" in capsys.readouterr().err


def test_kernels_import_the_helper_package_wherever_it_is_installed(course, tmp_path):
    """Can sandboxed student code import lstm_course when the course root is not the repository?

    The toy course lives in a temporary folder without lstm_course/, the repository (which the sandbox hides)
    holds the editable install: the kernel must still see the package, read-only."""
    assert not (course / "lstm_course").exists()
    answers = {**toy.HONEST, "add_answer": "import lstm_course.params\n"
               "assert lstm_course.params.count_lstm_params(2, 3) == 4 * 2 * (2 + 3) + 4 * 2\n"
               "def add(a, b):\n    return a + b"}
    sub = tmp_path / "submitted"
    toy.write_submitted(sub, "helen", toy.submission(course, answers))
    (result,) = grade_submissions("toy", sub, workers=1, workspace=tmp_path / "ws", course_root=course, limits=LIMITS)
    assert (result.outcome, result.score) == ("graded", 6), result.detail
    graded = next((tmp_path / "ws" / "autograded" / "helen").rglob("*.ipynb")).read_text()
    assert "ModuleNotFoundError" not in graded


@pytest.mark.slow
def test_grader_from_another_checkout_grades_with_its_own_package(tmp_path):
    """Does a grader run from a second copy of the course (same virtual environment, whose editable install
    points at the first) give its kernels the package it imports itself? The sandbox shows only that copy, so a
    kernel that followed the editable install could not import lstm_course and every test would fail."""
    from autograder import sandbox

    if sandbox.probe() is not None:
        pytest.skip("needs the sandbox")

    copy = tmp_path / "copy"
    for name in ("lstm_course", "autograder"):
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "workspace"))
    course = toy.make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    toy.write_submitted(subs, "alice", toy.submission(course))
    env = dict(os.environ, PYTHONPATH=str(copy))
    run = subprocess.run([sys.executable, "-m", "autograder", "toy", str(subs), "--course-root", str(course),
                          "--workspace", str(tmp_path / "ws"), "--workers", "1", "--no-progress"],
                         cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = list(csv.DictReader((tmp_path / "ws" / "grades.csv").open()))
    assert [(r["student"], r["score"], r["outcome"]) for r in rows] == [("alice", "6", "graded")], rows


def test_a_notebook_of_the_other_edition_says_which_assignment_grades_it(course, tmp_path):
    """When the course has both editions (toy and toy_torch), is a toy_torch notebook handed in for toy given
    `wrong_assignment` with the assignment that grades it, in the results a student and an instructor read?"""
    course = Path(shutil.copytree(course, tmp_path / "course"))
    shutil.copytree(course / "solutions" / "toy", course / "solutions" / "toy_torch")
    sub = tmp_path / "flat"
    sub.mkdir()
    import nbformat
    nbformat.write(toy.submission(course), str(sub / "jane_toy_torch.ipynb"))
    result, = grade_submissions("toy", sub, workers=1, workspace=tmp_path / "ws", course_root=course, limits=LIMITS)
    assert result.outcome == "wrong_assignment" and result.score == 0
    assert "PyTorch edition: grade it with the assignment toy_torch" in result.detail
