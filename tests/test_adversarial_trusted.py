"""Attacks on the checks themselves, with a real assignment (lstm_cell): the tests run in the trusted checker.

Every hostile notebook below leaves its answers blank or wrong and attacks what an in-kernel test would have
trusted: the reference cells, the checking helpers, NumPy's comparison functions, Keras, the arrays it returns.
The assignment's code rules are stripped from this copy of the course, so what stops the attacks is the design
(tests in another process, plain data across), not the rules. One sandboxed batch, two honest students.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from autograder import grade_submissions
from autograder.sandbox import probe
from autograder.settings import Limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_submissions import filled, released  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(probe() is not None, reason=f"no bubblewrap sandbox: {probe()}")]

REPO = Path(__file__).resolve().parents[1]
ZERO = {"sigmoid": "def sigmoid(z):\n    return np.zeros(np.shape(z)) + 0.5",
        "lstm_cell": "def lstm_cell(x_t, h_prev, c_prev, params):\n    z = np.zeros_like(np.asarray(h_prev, float))\n"
                     "    return z, z",
        "lstm_forward": "def lstm_forward(xs, params, h0=None, c0=None):\n    b, t = np.shape(xs)[:2]\n"
                        "    n = np.shape(params['U_f'])[0]\n    return np.zeros((b, t, n)), np.zeros((b, n)), np.zeros((b, n))"}
#: text of lstm_cell's hidden tests that no feedback may show
HIDDEN = ("_zero_params", "_make_inputs", "default_rng(100 + _seed)", "BEGIN HIDDEN TESTS", "probe_forward",
          "uniform_(-0.8, 0.8)")

ATTACKS = {
    "patch_reference_cells": "import lstm_course.cells as C\n"
                             "C.lstm_cell = lambda *a, **k: lstm_cell(*a, **k)\n"
                             "C.lstm_forward = lambda *a, **k: lstm_forward(*a, **k)",
    "patch_checking_helpers": "import lstm_course.checks as K\nK.check_same_function = lambda *a, **k: None\n"
                              "K.check_shape = lambda *a, **k: None\nimport lstm_course\nlstm_course.checks = K",
    "swap_allclose_code": "np.allclose.__code__ = (lambda *a, **k: True).__code__\n"
                          "np.array_equal.__code__ = (lambda *a, **k: True).__code__",
    "patch_keras_and_torch": "import keras, torch\n"
                             "keras.layers.LSTM.call = lambda self, x, *a, **k: x\n"
                             "torch.nn.LSTM.forward = lambda self, x, *a, **k: (x, (x, x))",
    "agreeing_arrays": "class Agree(np.ndarray):\n"
                       "    def __array_function__(self, func, types, args, kwargs):\n        return True\n"
                       "    def __eq__(self, other):\n        return np.ones(np.shape(self), bool)\n"
                       "_zero_cell = lstm_cell\n"
                       "def lstm_cell(x_t, h_prev, c_prev, params):\n"
                       "    h, c = _zero_cell(x_t, h_prev, c_prev, params)\n"
                       "    return h.view(Agree), c.view(Agree)\n"
                       "_zero_sigmoid = sigmoid\n"
                       "def sigmoid(z):\n    return _zero_sigmoid(z).view(Agree)",
    "replace_numpy_in_namespace": "import types\nnp = types.SimpleNamespace(**{k: getattr(__import__('numpy'), k) "
                                  "for k in dir(__import__('numpy')) if not k.startswith('__')})\n"
                                  "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True",
    "fake_serve_answers": "import lstm_course.grading as g\n_real = g.serve\n"
                          "def serve(request, ns):\n    req = g.unpack(request)\n"
                          "    if req['op'] == 'call':\n        return g.pack({'result': req['args'][0]})\n"
                          "    return _real(request, ns)\ng.serve = serve",
}


def _notebook(name: str):
    nb = filled("lstm_cell", cells=ZERO)
    import nbformat

    code = ATTACKS[name]
    idx = next(k for k, c in enumerate(nb.cells)
               if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "lstm_forward")
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell(code))
    return nb


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    import nbformat

    root = tmp_path_factory.mktemp("trusted")
    course = root / "course"
    for folder in ("solutions", "exercises"):
        shutil.copytree(REPO / folder / "lstm_cell", course / folder / "lstm_cell")
        path = course / folder / "lstm_cell" / "lstm_cell.ipynb"
        nb = json.loads(path.read_text())
        nb["metadata"]["lstm_course"].pop("rules", None)  # the design must hold without the code rules
        path.write_text(json.dumps(nb))
    sub = root / "submitted"
    students = {"honest_a": filled("lstm_cell"), "honest_b": filled("lstm_cell"),
                "zeros": filled("lstm_cell", cells=ZERO), "blank": released("lstm_cell"),
                **{name: _notebook(name) for name in ATTACKS}}
    for student, nb in students.items():
        (sub / student / "lstm_cell").mkdir(parents=True)
        nbformat.write(nb, sub / student / "lstm_cell" / "lstm_cell.ipynb")
    ws = root / "workspace"
    limits = Limits(cell_timeout=120, notebook_timeout=600)
    results = grade_submissions("lstm_cell", sub, workers=2, workspace=ws, course_root=course, limits=limits)
    return {r.student: r for r in results}, ws


def test_honest_students_get_full_marks(batch):
    """Do the two honest students get 14/14 next to the attackers?"""
    results, _ = batch
    for student in ("honest_a", "honest_b"):
        assert (results[student].score, results[student].outcome) == (14, "graded"), results[student].detail


@pytest.mark.parametrize("student", ["zeros", "blank", *ATTACKS])
def test_attacks_on_the_checks_earn_nothing_beyond_their_answers(batch, student):
    """Does an attack on the reference, the helpers, NumPy, Keras, PyTorch or the arrays themselves earn no
    point beyond what its answers earn (the zero answers pass only the shape checks: 1 point)?"""
    results, _ = batch
    r = results[student]
    assert r.outcome in ("graded", "tampered"), (r.outcome, r.detail)
    assert r.score <= (1 if student != "blank" else 0), (r.score, r.detail)


def test_no_hidden_test_text_in_any_feedback(batch):
    """Does no feedback page contain the code of a hidden test?"""
    _, ws = batch
    pages = list((ws / "feedback").rglob("*.html"))
    assert len(pages) == 4 + len(ATTACKS)
    for page in pages:
        text = page.read_text()
        for hidden in HIDDEN:
            assert hidden not in text, (page, hidden)
