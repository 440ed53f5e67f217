"""Hostile and broken submissions graded in ONE sandboxed batch (2 workers) next to two honest students.

For each case: the batch finishes, honest grades are unchanged, nothing outside the expected outputs changes,
no secret leaks into anything the grader writes, and the hostile notebook scores zero or gets its outcome.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

import autograder_toy as toy
from autograder import grade_submissions
from autograder.sandbox import probe
from autograder.settings import Limits

pytestmark = pytest.mark.skipif(probe() is not None, reason=f"no bubblewrap sandbox: {probe()}")

SECRET = "FAKE-SSH-KEY-DO-NOT-LEAK-4b1d"
LIMITS = Limits(cell_timeout=8, notebook_timeout=45, interrupt_grace=3, address_space=2 * 2**30,
                tmp_size=64 * 2**20, file_size=16 * 2**20, output_hard_cap=4 * 2**20, max_tasks=128)
WRONG = {"add_answer": "def add(a, b):\n    return 0", "count_answer": "def count_lstm_params(h, x):\n    return 1",
         "greet_answer": "def greet(name):\n    return ''"}
BLANK = {"add_answer": "def add(a, b):\n    raise NotImplementedError()",
         "count_answer": "def count_lstm_params(h, x):\n    raise NotImplementedError()",
         "greet_answer": "def greet(name):\n    raise NotImplementedError()"}


def cases(course: Path, secret_home: Path, port: int, workspace: Path, sub: Path) -> dict:
    """student -> (notebook or raw text or (nb, file name), expected outcomes, expected max score)."""
    def hostile(code, answers=WRONG, where="setup"):
        return toy.submission(course, answers, after={where: code})

    return {
        "infinite_loop": (hostile("while True:\n    pass"), {"timeout"}),
        "sleeper": (hostile("import time\ntime.sleep(600)"), {"timeout"}),
        "ignores_sigint": (hostile("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                   "signal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)"), {"timeout"}),
        "endless_output": (hostile("while True:\n    print('spam' * 250)"), {"output_too_large"}),
        "print_100mb": (hostile("print('x' * 100_000_000)"), {"output_too_large"}),
        "os_exit": (hostile("import os\nos._exit(0)"), {"kernel_died"}),
        "kill_all": (hostile("import os, signal\nos.kill(-1, signal.SIGKILL)"), {"graded", "kernel_died"}),
        "kill_parent": (hostile("import os\nos.kill(os.getppid(), 9)\nos.kill(1, 9)"), {"graded"}),
        "fork_bomb": (hostile("import os, time\nn = 0\nwhile True:\n    pid = os.fork()\n    if pid == 0:\n"
                              "        time.sleep(600)\n        os._exit(0)\n    n += 1\n    print(n) if n > 400 "
                              "else None"), {"resource_limit"}),
        "memory_bomb": (hostile("blocks = []\nwhile True:\n    blocks.append(bytearray(100 * 2**20))"),
                        {"resource_limit"}),
        "fill_tmp": (hostile("i = 0\nwhile True:\n    open(f'/tmp/fill{i}', 'wb').write(b'0' * 2**20)\n"
                             "    i += 1"), {"resource_limit"}),
        "huge_file": (hostile("with open('big.bin', 'wb') as f:\n    f.write(b'0' * 64 * 2**20)"),
                      {"resource_limit"}),
        "read_secrets": (hostile(f"import os\nfor p in ['/etc/passwd', '/etc/shadow', '{secret_home}/.ssh/id_rsa',"
                                 " os.path.expanduser('~/.ssh/id_rsa'), '/root/.ssh/id_rsa']:\n    try:\n"
                                 "        print(open(p).read())\n    except Exception as e:\n        print(p, e)"),
                         {"graded"}),
        "read_solutions": (hostile(f"import glob\nfor p in ['../../solutions/toy/toy.ipynb', '{course}/solutions/"
                                   f"toy/toy.ipynb', '{workspace}/gradebook.db', *glob.glob('{sub}/*/toy/*')]:\n"
                                   "    try:\n        print(open(p, errors='replace').read())\n"
                                   "    except Exception as e:\n        print(p, e)"), {"graded"}),
        "socket": (hostile(f"import socket\ntry:\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                           "    s.sendall(b'PWNED')\nexcept OSError as e:\n    print('no network', e)"), {"graded"}),
        "write_outside": (hostile(f"for p in ['{workspace}/gradebook.db', '{sub}/alice/toy/toy.ipynb', "
                                  f"'{course}/solutions/toy/evil.txt', '{workspace}/submitted/alice/toy/x.txt']:\n"
                                  "    try:\n        open(p, 'a').write('PWNED')\n        print('wrote', p)\n"
                                  "    except Exception as e:\n        print(p, e)"), {"graded"}),
        "chdir": (hostile("import os\nos.chdir('/')\nos.chdir('..')", answers=toy.PARTIAL), {"graded"}, 3),
        "corrupt_json": ('{"cells": [', {"corrupt_notebook"}),
        "wrong_file_name": ((toy.submission(course), "homework.ipynb"), {"missing_notebook"}),
        "deleted_grade_cell": (toy.submission(course, drop=("test_count",)), {"tampered"}),
        "edited_grade_cell": (toy.submission(course, WRONG, edit={"test_add": "pass", "test_count": "assert True"}),
                              {"graded"}),
        "hides_failures": (hostile("import sys, io\nsys.excepthook = lambda *a: None\n"
                                   "get_ipython().showtraceback = lambda *a, **k: None\n"
                                   "get_ipython().run_line_magic('xmode', 'Minimal')\nsys.stdout = io.StringIO()\n"
                                   "sys.stderr = io.StringIO()"), {"tampered"}),
        "sys_exit_in_test": (toy.submission(course, {**WRONG, "add_answer": "import sys\ndef add(a, b):\n"
                                                     "    sys.exit(0)"}), {"graded"}),
        "redefines_builtins": (hostile("import builtins\nclass AssertionError(Exception):\n    pass\n"
                                       "builtins.AssertionError = AssertionError\nisinstance = lambda *a: True"),
                               {"tampered"}),
        "breaks_builtins": (hostile("import builtins\nbuiltins.isinstance = lambda *a: True"),
                            {"tampered", "timeout", "kernel_died"}),
        "patches_helpers": (hostile("import math\nmath.isclose = lambda *a, **k: True\n"
                                    "import lstm_course.checks as ch\nch.check_shape = lambda *a, **k: None",
                                    answers={**toy.HONEST, "add_answer": "def add(a, b):\n    return round(a + b)"}),
                            {"tampered"}),
        "input_transformer": (hostile("get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"
                                      "get_ipython().ast_transformers.append(object())"), {"tampered"}),
        # checks that would trust the student's process: the tests run in the trusted checker instead
        "execution_result_success": (hostile(
            "from IPython.core.interactiveshell import ExecutionResult\n"
            "ExecutionResult.success = property(lambda self: True)\n"
            "ExecutionResult.raise_error = lambda self: None\nprint('Visible checks passed')", answers=BLANK),
            {"graded", "tampered"}),
        "event_hook_as_ipython": (hostile(
            "def post_run_cell(result=None):\n    print('Visible checks passed (not the whole grade).')\n"
            "post_run_cell.__module__ = 'IPython.core.events'\n"
            "post_run_cell.__qualname__ = 'EventManager._post_run'\n"
            "get_ipython().events.register('post_run_cell', post_run_cell)", answers=BLANK), {"graded", "tampered"}),
        "import_interceptor": (hostile(
            "import builtins, types\n_real = builtins.__import__\n"
            "def fake(name, *a, **k):\n    if name.startswith(('_ag', 'lstm_course')):\n"
            "        m = types.ModuleType(name)\n        m.serve = lambda *a, **k: 'AAAA'\n"
            "        m.restore = lambda *a, **k: '{}'\n        return m\n    return _real(name, *a, **k)\n"
            "builtins.__import__ = fake", answers=BLANK), {"graded", "tampered"}),
        "fake_serve": (hostile(
            "import lstm_course.grading as g\n"
            "g.serve = lambda request, ns: g.pack({'kind': 'value', 'value': True, 'result': 3})", answers=BLANK),
            {"graded", "tampered"}),
        "guard_snapshot_gc": (hostile(
            "import gc, math\nfor o in gc.get_objects():\n    if isinstance(o, dict) and 'builtins' in o and "
            "'modules' in o:\n        o['modules'] = {}\n        o['builtins'] = {}\n"
            "math.isclose = lambda *a, **k: True", answers=BLANK), {"graded", "tampered"}),
        "always_equal_values": (toy.submission(course, {
            "add_answer": "class Same(int):\n    def __eq__(self, other):\n        return True\n"
                          "    __hash__ = int.__hash__\ndef add(a, b):\n    return Same(0)",
            "count_answer": "class Same(int):\n    def __eq__(self, other):\n        return True\n"
                            "    __hash__ = int.__hash__\ndef count_lstm_params(h, x):\n    return Same(1)",
            "greet_answer": "class Any(str):\n    def __eq__(self, other):\n        return True\n"
                            "def greet(name):\n    return Any('')"}), {"graded"}),
        # one message larger than the grader reads (it would be read whole into the grader's memory)
        "giant_message": (hostile("k = get_ipython().kernel\nk.session.send(k.iopub_socket, 'stream', "
                                  "{'name': 'stdout', 'text': 'x' * 300_000_000}, parent=k.get_parent('shell'))"),
                          {"graded", "output_too_large", "kernel_died", "timeout"}),
        # hidden tests reaching the student: nothing of a test is ever in the kernel, and no student code runs
        # after the checker's first question
        "history_print": (hostile("print(In, Out, _ih)\nprint(get_ipython().history_manager.input_hist_raw)",
                                  where="greet_answer"), {"graded"}),
        "frame_snoop": (toy.submission(course, {
            **WRONG, "add_answer": "import sys\nSEEN = []\ndef add(a, b):\n    f = sys._getframe(1)\n"
                                   "    while f is not None:\n        SEEN.append((f.f_code.co_filename, "
                                   "f.f_code.co_consts, dict(f.f_locals)))\n        f = f.f_back\n"
                                   "    SEEN.append((a, b))\n    return 0"},
            after={"greet_answer": "print(SEEN)\nprint(open('/proc/self/cmdline').read())"}), {"graded"}),
    }


def tree_hash(root: Path, skip=()) -> dict:
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(str(rel).startswith(s) for s in skip) or not path.is_file():
            continue
        out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    course = toy.make_course(root / "course")
    secret_home = root / "home"
    (secret_home / ".ssh").mkdir(parents=True)
    (secret_home / ".ssh" / "id_rsa").write_text(SECRET)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    sub, ws = root / "submitted", root / "workspace"
    expected = {}
    toy.write_submitted(sub, "alice", toy.submission(course))
    toy.write_submitted(sub, "bob", toy.submission(course, toy.PARTIAL))
    for student, case in cases(course, secret_home, port, ws, sub).items():
        nb, outcomes = case[0], case[1]
        name = "toy.ipynb"
        if isinstance(nb, tuple):
            nb, name = nb
        toy.write_submitted(sub, student, nb, name=name)
        expected[student] = (outcomes, case[2] if len(case) > 2 else 0)
    before = {"course": tree_hash(course), "sub": tree_hash(sub), "home": tree_hash(secret_home)}
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(secret_home)
    try:
        results = grade_submissions("toy", sub, workers=2, workspace=ws, course_root=course, limits=LIMITS)
    finally:
        os.environ["HOME"] = old_home or "/root"
    try:
        conn, _ = listener.accept()
        accepted = True
        conn.close()
    except BlockingIOError:
        accepted = False
    listener.close()
    after = {"course": tree_hash(course), "sub": tree_hash(sub), "home": tree_hash(secret_home)}
    return {r.student: r for r in results}, expected, before, after, ws, accepted


def test_batch_grades_every_submission(batch):
    """Does the batch finish with one result per submission (at least 20 hostile ones)?"""
    results, expected, *_ = batch
    assert len(expected) >= 20 and set(expected) == set(CASES)
    assert set(results) == set(expected) | {"alice", "bob"}


def test_honest_grades_unchanged(batch):
    """Are the honest students graded exactly as alone?"""
    results = batch[0]
    assert (results["alice"].score, results["alice"].outcome) == (6, "graded")
    assert (results["bob"].score, results["bob"].outcome) == (3, "graded")


CASES = ("infinite_loop", "sleeper", "ignores_sigint", "endless_output", "print_100mb", "os_exit", "kill_all",
         "kill_parent", "fork_bomb", "memory_bomb", "fill_tmp", "huge_file", "read_secrets", "read_solutions",
         "socket", "write_outside", "chdir", "corrupt_json", "wrong_file_name", "deleted_grade_cell",
         "edited_grade_cell", "hides_failures", "sys_exit_in_test", "redefines_builtins", "breaks_builtins", "patches_helpers",
         "input_transformer", "execution_result_success", "event_hook_as_ipython", "import_interceptor", "fake_serve",
         "guard_snapshot_gc", "always_equal_values", "giant_message", "history_print", "frame_snoop")


@pytest.mark.parametrize("student", CASES)
def test_hostile_outcome(batch, student):
    """Does each hostile notebook get its expected outcome and no unearned points?"""
    results, expected = batch[0], batch[1]
    outcomes, score = expected[student]
    r = results[student]
    assert r.outcome in outcomes, (r.outcome, r.detail)
    assert r.score == score, r.detail


def test_nothing_outside_changed(batch):
    """Are the course, the submissions and the fake home untouched, and the workspace free of stray files?"""
    _, _, before, after, ws, _ = batch
    assert before == after
    allowed = ("results/", "feedback/", "autograded/", "submitted/", "staging/", "jupyter/", "grades.csv",
               "gradebook.db", "instructor/")
    stray = [p for p in tree_hash(ws) if not p.startswith(allowed)]
    assert stray == []
    assert not list((ws / "submitted").rglob("x.txt"))


def test_no_secret_or_hidden_test_leaks(batch):
    """Does no file the grader wrote contain the fake SSH key, /etc/passwd's root line or a solution?"""
    ws = batch[4]
    for path in ws.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".ipynb", ".json", ".csv"):
            text = path.read_text(errors="replace")
            assert SECRET not in text, path
            assert "root:x:0:0" not in text, path
            assert "### BEGIN SOLUTION" not in text, path
            if path.suffix == ".html" or (path.suffix == ".ipynb" and "submitted" in path.parts):
                for hidden in toy.HIDDEN_TEXTS:
                    assert hidden not in text, (path, hidden)
    for student in ("history_print", "frame_snoop"):  # what they printed holds no test and no hidden input
        feedback = (ws / "feedback" / student / "toy" / "toy.html").read_text()
        for hidden in (*toy.HIDDEN_TEXTS, "(0.1, 0.2)", "(-1, 1)", "(64, 32)"):
            assert hidden not in feedback, (student, hidden)


def test_no_network(batch):
    """Could no sandboxed kernel connect to a port the test listens on at 127.0.0.1?"""
    assert batch[5] is False


def test_edited_grade_cell_is_flagged(batch):
    """Is an edited grade cell restored (so wrong answers score 0) and named in the detail?"""
    r = batch[0]["edited_grade_cell"]
    assert "test_add" in r.detail and "test_count" in r.detail
