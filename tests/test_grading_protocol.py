"""The plain-data protocol between a student's kernel and the trusted checker (lstm_course.grading), and the
rules read from a student's code (autograder.rules)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest

from autograder import rules
from autograder.checker import free_names, split_hidden
from lstm_course import grading


def test_values_cross_as_plain_data():
    """Do numbers, strings, tuples, dicts with int keys, arrays and seeded generators survive pack/unpack?"""
    value = {"a": np.arange(6).reshape(2, 3), 3: [np.float32(1.5), (1, "x", None, True)], "s": {1, 2},
             "r": np.random.default_rng(7)}
    back = grading.unpack(grading.pack(value))
    assert np.array_equal(back["a"], value["a"]) and back[3] == [1.5, (1, "x", None, True)] and back["s"] == {1, 2}
    assert back["r"].integers(0, 1000, 5).tolist() == np.random.default_rng(7).integers(0, 1000, 5).tolist()


def test_hostile_objects_lose_their_behaviour_on_the_way():
    """Does an ndarray subclass or an int whose comparisons always agree arrive as a plain array or int?"""
    class Agree(np.ndarray):
        def __eq__(self, other):
            return True

    class AgreeInt(int):
        def __eq__(self, other):
            return True

    arr = grading.unpack(grading.pack(np.zeros(3).view(Agree)))
    assert type(arr) is np.ndarray and not (arr == np.ones(3)).all()
    num = grading.unpack(grading.pack(AgreeInt(3)))
    assert type(num) is int and num != 4
    assert isinstance(grading.unpack(grading.pack(object())), grading.Unsupported)


def test_unpack_refuses_pickles_and_garbage():
    """Is an object array (which needs pickle), a non-base64 text or an oversized answer refused?"""
    buf = io.BytesIO()
    np.savez(buf, skeleton=np.frombuffer(json.dumps({"__nd__": 0}).encode(), dtype=np.uint8),
             a0=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        grading.unpack(base64.b64encode(buf.getvalue()).decode())
    for bad in ("not base64 !", "", 17):
        with pytest.raises(Exception):
            grading.unpack(bad)


def test_serve_answers_and_never_raises():
    """Does the kernel side call functions, report errors as data and survive a function that exits?"""
    def boom():
        raise SystemExit("no")

    ns = {"f": lambda a, b: a + b, "boom": boom, "x": np.ones(2), "m": grading.TableModel(5)}
    call = grading.unpack(grading.serve(grading.pack({"op": "call", "name": "f", "args": (2, 3)}), ns))
    assert call == {"result": 5}
    err = grading.unpack(grading.serve(grading.pack({"op": "call", "name": "boom", "args": ()}), ns))
    assert err["error"]["type"] == "SystemExit"
    desc = grading.unpack(grading.serve(grading.pack({"op": "describe", "name": "x"}), ns))
    assert desc["kind"] == "value" and np.array_equal(desc["value"], np.ones(2))
    assert grading.unpack(grading.serve(grading.pack({"op": "describe", "name": "nope"}), ns)) == {"kind": "missing"}


def test_probe_substitution_tells_a_loop_over_the_cell_from_a_shortcut():
    """Does call_with put the probe cell in place of the student's global for one call, then restore it?"""
    ns: dict = {"np": np}
    exec("def lstm_cell(x, h, c, p):\n    raise AssertionError('the student cell must not run')\n"
         "def loop(xs, p):\n    h = c = np.zeros((xs.shape[0], p['U_f'].shape[0]))\n    hs = []\n"
         "    for t in range(xs.shape[1]):\n        h, c = lstm_cell(xs[:, t], h, c, p)\n        hs.append(h)\n"
         "    return np.stack(hs, 1), h, c\n", ns)
    lstm_cell, loop = ns["lstm_cell"], ns["loop"]
    rng = np.random.default_rng(0)
    p = {"W_f": rng.normal(size=(2, 3)), "U_f": rng.normal(size=(3, 3))}
    xs = rng.normal(size=(2, 4, 2))
    got = grading.call_with(loop, {"lstm_cell": "probe_cell"}, xs, p)
    for g, w in zip(got, grading.probe_forward(xs, p)):
        assert np.allclose(g, w)
    assert ns["lstm_cell"] is lstm_cell
    # a loop that calls the cell through another name bound to it reaches the probe too, and is restored after
    exec("step = lstm_cell\ndef loop2(xs, p, cell=lstm_cell):\n    h = c = np.zeros((xs.shape[0], p['U_f'].shape[0]))\n"
         "    hs = []\n    for t in range(xs.shape[1]):\n        h, c = cell(xs[:, t], h, c, p)\n"
         "        hs.append(h)\n    return np.stack(hs, 1), h, c\n", ns)
    for g, w in zip(grading.call_with(ns["loop2"], {"lstm_cell": "probe_cell"}, xs, p), grading.probe_forward(xs, p)):
        assert np.allclose(g, w)
    with pytest.raises(AssertionError, match="must not run"):
        ns["step"](xs[:, 0], None, None, p)


def test_table_model_depends_on_every_position():
    """Does the stand-in character model change its argmax when any one position of the window changes?"""
    model = grading.TableModel(7)
    base = np.arange(10, dtype=float).reshape(1, 10, 1)
    first = np.argmax(model.predict(base))
    for k in range(10):
        other = base.copy()
        other[0, k, 0] += 1
        assert np.argmax(model.predict(other)) != first


def test_split_hidden_keeps_line_numbers_and_free_names_skip_locals():
    """Are the visible and hidden parts of a test cell split with the same line numbers, and are the names a test
    defines itself (assignments, loop variables, arguments, imports) not asked of the student?"""
    src = 'x = f(1)\n### BEGIN HIDDEN TESTS\nfor _k in range(3):\n    assert g(_k)\n### END HIDDEN TESTS\n'
    visible, hidden = split_hidden(src)
    assert visible.splitlines()[0] == "x = f(1)" and "g(_k)" in hidden.splitlines()[3]
    assert free_names(src) == ["f", "g"]
    assert free_names("import numpy as np\ndef h(a):\n    return a + b\nnp.sum(h(2))") == ["b"]


@pytest.mark.parametrize("code, broken", [
    ("import keras", True),
    ("from lstm_course import cells as ref", True),
    ("import lstm_course.cells as q", True),
    ("y = lc.cells.lstm_cell(1, 2, 3, 4)", True),
    ("from lstm_course.cells import lstm_cell as mine", True),
    ("t = torch.zeros(3)", True),
    ("import numpy as np\nz = np.tanh(1.0)", False),
    ("lc.checks.check_shape(a, (1,), 'a')", False),
    ("n = getattr(a, 'shape')", False),
])
def test_rules_read_the_code_whatever_the_import_is_called(code, broken):
    """Is a forbidden module caught under any alias, attribute path or import form, and plain NumPy left alone?"""
    rule = {"name": "numpy only", "tests": ["t"], "forbidden_modules": ["keras", "torch", "lstm_course.cells"],
            "forbidden_names": ["keras", "torch"], "forbidden_attributes": ["cells"]}
    report = rules.check_notebook([rule], [("answer", code)])
    assert ("t" in report.failed) == broken, report
    assert not report.review


@pytest.mark.parametrize("code", [
    "m = __import__('lstm_' + 'course.cells')",
    "import importlib\nm = importlib.import_module(name)",
    "f = getattr(lc, 'ce' + 'lls')",
    "f = eval('lc.cells')",
    "import sys\nm = sys.modules['lstm_course.cells']",
    "g = globals()['lc']",
    "f = lc.__dict__['cells']",
])
def test_rules_send_code_that_hides_its_names_to_an_instructor(code):
    """Does code that builds names at run time get no points and a review, never full marks?"""
    rule = {"name": "numpy only", "tests": ["t"], "forbidden_modules": ["lstm_course.cells"],
            "forbidden_attributes": ["cells"]}
    report = rules.check_notebook([rule], [("answer", code)])
    assert report.review and "t" in report.failed


def test_self_check_finds_the_assignment_from_the_file_name(tmp_path, capsys):
    """Is a notebook named like an LMS download (jane_doe_lstm_cell.ipynb) checked against lstm_cell, and does
    the notebook-side helper say what to do when the file was not saved?"""
    from autograder.selfcheck import assignment_of
    from autograder.settings import COURSE_ROOT
    from lstm_course import selfcheck

    assert assignment_of(Path("lstm_cell.ipynb"), COURSE_ROOT) == "lstm_cell"
    assert assignment_of(Path("jane_doe_imdb_sentiment.ipynb"), COURSE_ROOT) == "imdb_sentiment"
    with pytest.raises(SystemExit, match="cannot tell"):
        assignment_of(Path("homework.ipynb"), COURSE_ROOT)
    assert selfcheck.run(tmp_path / "lstm_cell.ipynb") == 2
    assert "save the notebook" in capsys.readouterr().out


def test_checker_rebuilds_keras_losses_saved_as_functions():
    """Is a model compiled with the function keras.losses.binary_crossentropy (saved as {"class_name":
    "function"}) accepted, while a function from elsewhere is refused?"""
    from autograder.checker import StudentError, _check_keras_config

    _check_keras_config({"loss": {"module": "builtins", "class_name": "function", "config": "binary_crossentropy",
                                  "registered_name": "function"}}, "model")
    with pytest.raises(StudentError):
        _check_keras_config({"loss": {"module": "builtins", "class_name": "function", "config": "system",
                                      "registered_name": "function"}}, "model")


def test_checker_reuses_a_rebuilt_model_only_with_the_current_students_weights():
    """The checker keeps a rebuilt Keras model for the next student with the same architecture: is every weight
    the new student's, is a lying description still caught, do two names of one architecture get two models, and
    is a model whose weights did not load never handed out again?"""
    keras = pytest.importorskip("keras")
    from autograder.checker import ModelCache, StudentError, rebuild_keras
    from lstm_course.grading import _keras_report

    def student_model(seed):  # as a fresh kernel builds it (the key is the exact configuration, names included)
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input(shape=(6,), dtype="int32"), keras.layers.Embedding(20, 4),
                                  keras.layers.LSTM(3), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model

    class Kernel:  # the student's kernel: answers run_model with the model it holds
        def __init__(self, models):
            self.models = models

        def ask(self, request, what):
            return {"result": np.asarray(self.models[request["name"]].predict_on_batch(request["x"]))}

    rng = np.random.default_rng(0)
    cache = ModelCache(limit=3)
    a = student_model(1)
    first = rebuild_keras("m", _keras_report(a), Kernel({"m": a}), rng, cache)
    cache.new_student()
    b, b2 = student_model(2), student_model(3)
    again = rebuild_keras("m", _keras_report(b), Kernel({"m": b}), rng, cache)
    assert again is first  # reused ...
    assert all(np.array_equal(x, y) for x, y in zip(again.get_weights(), b.get_weights()))  # ... with b's weights
    other = rebuild_keras("m2", _keras_report(b2), Kernel({"m2": b2}), rng, cache)
    assert other is not again  # two names, one architecture: two models
    assert all(np.array_equal(x, y) for x, y in zip(again.get_weights(), b.get_weights()))

    cache.new_student()
    c = student_model(4)
    liar = _keras_report(c)
    liar["weights"] = _keras_report(b)["weights"]  # describes b's weights, computes with c's
    with pytest.raises(StudentError, match="does not compute"):
        rebuild_keras("m", liar, Kernel({"m": c}), rng, cache)

    cache.new_student()
    broken = _keras_report(c)
    broken["weights"] = broken["weights"][:-1]
    with pytest.raises(StudentError, match="do not fit"):
        rebuild_keras("m", broken, Kernel({"m": c}), rng, cache)
    assert first not in cache.models[json.dumps([broken["config"], broken["compile"]])]
    cache.new_student()
    fresh = rebuild_keras("m", _keras_report(c), Kernel({"m": c}), rng, cache)
    assert fresh is not first
    for seed in range(5, 9):  # more than the limit: emptied at the next student
        cache.new_student()
        rebuild_keras("m", _keras_report(student_model(seed)), Kernel({"m": student_model(seed)}), rng, cache)
        rebuild_keras("n", _keras_report(student_model(seed + 10)), Kernel({"n": student_model(seed + 10)}), rng,
                      cache)
    assert sum(len(v) for v in cache.models.values()) <= 3 + 2


class _ServingChannel:
    """The grader and the student's kernel in one: a request from the checker is answered by grading.serve on a
    namespace, packed and unpacked as on the real path."""

    def __init__(self, ns):
        self.ns, self.reply = ns, None

    def send(self, msg):
        assert msg["op"] == "request"
        self.reply = {"op": "response", "payload": grading.serve(msg["payload"], self.ns)}

    def receive(self):
        reply, self.reply = self.reply, None
        return reply


def _torch_student(seed=0, bidirectional=True, frozen=True):
    torch = pytest.importorskip("torch")

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(50, 8, padding_idx=0)
            self.embedding.weight.requires_grad_(not frozen)
            self.lstm = torch.nn.LSTM(8, 5, num_layers=2, batch_first=True, bidirectional=bidirectional, dropout=0.2)
            self.head = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(10 if bidirectional else 5, 1))
            self.scale = torch.nn.Parameter(torch.ones(1))

        def forward(self, x):
            _, (h, _) = self.lstm(self.embedding(x))
            last = torch.cat([h[-2], h[-1]], dim=1) if self.lstm.bidirectional else h[-1]
            return torch.sigmoid(self.head(last) * self.scale)

    torch.manual_seed(seed)
    return Classifier()


def test_checker_rebuilds_a_torch_module_from_torch_nn_classes_and_weights():
    """Is a student's PyTorch module rebuilt with torch.nn's own classes, its settings, every weight (frozen ones
    too) and mode, its own class a container whose call runs the student's forward in the student's kernel?"""
    torch = pytest.importorskip("torch")
    from autograder.checker import Kernel, rebuild_torch

    student = _torch_student()
    student.eval()
    ns = {"model": student}
    model = rebuild_torch("model", grading._kind(student) == "torch_module" and grading._torch_report(student),
                          Kernel(_ServingChannel(ns)), np.random.default_rng(0))
    assert type(model.lstm) is torch.nn.LSTM and type(model.embedding) is torch.nn.Embedding
    assert (model.lstm.hidden_size, model.lstm.num_layers, model.lstm.bidirectional, model.lstm.batch_first,
            model.lstm.dropout) == (5, 2, True, True, 0.2)
    assert type(model.head[1]) is torch.nn.Linear and model.head[0].p == 0.5
    assert model.embedding.padding_idx == 0 and not model.embedding.weight.requires_grad
    assert model.lstm.weight_ih_l0.requires_grad
    want = {n: tuple(p.shape) for n, p in student.named_parameters()}
    assert {n: tuple(p.shape) for n, p in model.named_parameters()} == want
    for (n, p), q in zip(model.named_parameters(), student.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy()), n
    assert not model.training and not model.lstm.training
    x = torch.randint(0, 50, (3, 7))
    with torch.no_grad():
        assert np.allclose(model(x).numpy(), student(x).numpy())  # the student's forward, run in "their kernel"
        h = model.lstm(model.embedding(x))[1][0]  # the rebuilt parts compute what the student's parts compute
        assert np.allclose(h.numpy(), student.lstm(student.embedding(x))[1][0].numpy(), atol=1e-6)
    assert "the student's Classifier" in repr(model)
    student.train()  # dropout on: the call still runs the student's forward in evaluation mode, then restores
    with torch.no_grad():
        assert np.array_equal(model(x).numpy(), model(x).numpy()) and student.training and student.lstm.training


def test_checker_catches_a_torch_module_whose_report_lies():
    """A subclass passed off as torch.nn.LSTM, weights that belong to another model, settings that do not fit the
    weights (an embedding of 10^12 rows: refused before any memory is taken), a class the grader does not
    rebuild: each is the student's error, never a pass."""
    torch = pytest.importorskip("torch")
    from autograder.checker import Kernel, StudentError, rebuild_torch

    def rebuild(student, report=None):
        report = report or grading._torch_report(student)
        return rebuild_torch("model", report, Kernel(_ServingChannel({"model": student})), np.random.default_rng(1))

    student = _torch_student(seed=1)

    class Sneaky(torch.nn.LSTM):  # the student's own class: a container, not a torch.nn.LSTM
        pass

    sneaky = _torch_student(seed=1)
    sneaky.lstm.__class__ = Sneaky
    assert type(rebuild(sneaky).lstm) is not torch.nn.LSTM

    faking = _torch_student(seed=1)

    class Doubling(torch.nn.LSTM):
        def forward(self, x, hx=None):
            out, (h, c) = super().forward(x, hx)
            return 2 * out, (2 * h, c)

    report = grading._torch_report(faking)  # describes a torch.nn.LSTM (as a patched torch.nn in the kernel would)
    faking.lstm.__class__ = Doubling  # ... while the kernel computes with another class
    with pytest.raises(StudentError, match="does not compute"):
        rebuild(faking, report)

    other = grading._torch_report(_torch_student(seed=2))
    with pytest.raises(StudentError, match="does not compute"):
        rebuild(student, other)  # another model's weights

    report = grading._torch_report(student)
    next(e for e in report["modules"] if e["path"] == "lstm")["config"]["hidden_size"] = 6
    with pytest.raises(StudentError, match="do not fit"):
        rebuild(student, report)
    report = grading._torch_report(student)
    next(e for e in report["modules"] if e["path"] == "embedding")["config"]["num_embeddings"] = 10 ** 12
    with pytest.raises(StudentError, match="do not fit"):
        rebuild(student, report)
    report = grading._torch_report(student)
    next(e for e in report["modules"] if e["path"] == "head.1")["type"] = "Conv1d"
    with pytest.raises(StudentError, match="does not rebuild"):
        rebuild(student, report)
    report = grading._torch_report(student)
    next(e for e in report["modules"] if e["path"] == "lstm")["config"]["hidden_size"] = [5]
    with pytest.raises(StudentError, match="could not be read"):
        rebuild(student, report)


def test_checker_calls_the_students_own_modules_in_their_kernel_at_any_depth():
    """An nn.Sequential at the top holding a module of the student's own class: is the inner module called in the
    student's kernel, and does calling the whole model run the student's model there even when the description
    calls its top a torch.nn.Sequential (whose forward the student may have replaced)?"""
    torch = pytest.importorskip("torch")
    from autograder.checker import Kernel, rebuild_torch

    class LastState(torch.nn.Module):  # picks h_n[-1] out of the LSTM's tuple
        def forward(self, out):
            return out[1][0][-1]

    torch.manual_seed(3)
    student = torch.nn.Sequential(torch.nn.Embedding(30, 4), torch.nn.LSTM(4, 3, batch_first=True), LastState(),
                                  torch.nn.Linear(3, 1))
    kernel = Kernel(_ServingChannel({"model": student}))
    model = rebuild_torch("model", grading._torch_report(student), kernel, np.random.default_rng(2))
    assert type(model) is torch.nn.Sequential and type(model[1]) is torch.nn.LSTM and "LastState" in repr(model[2])
    x = torch.randint(0, 30, (5, 7))
    with torch.no_grad():
        want = student(x).numpy()
        assert np.allclose(model(x).numpy(), want, atol=1e-6)
        inner = model[2](model[1](model[0](x)))  # the rebuilt parts, the student's LastState run in the kernel
        assert np.allclose(model[3](inner).numpy(), want, atol=1e-6)

    student.forward = lambda x: torch.zeros(len(x), 1)  # a "Sequential" that computes something else
    with torch.no_grad():
        assert np.array_equal(model(x).numpy(), np.zeros((5, 1)))  # the student's model, not the description's
