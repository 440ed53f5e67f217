"""The trusted checker: runs every test cell (visible and hidden tests) in a process that ran no student code.

Started by the grader (``python -m autograder.checker``), one per worker, sandboxed like a kernel but with no
student files. It speaks JSON lines with the grader on stdin and on a private copy of stdout (fd 1 itself
is pointed at stderr, so a library printing at C level cannot corrupt the protocol):

* ``{"op": "prelude", "key": K, "cells": [source, ...]}``: run the assignment's trusted locked cells (setup,
  data) once; their names are every test's starting namespace.
* ``{"op": "student"}``: a new student: forget every object of the previous one.
* ``{"op": "test", "grade_id": G, "source": S}``: run one test cell. Each name S uses that the prelude does not
  define is asked of the student's kernel, through the grader, as plain data (``lstm_course.grading``):
  functions become remote calls, models are rebuilt here from their reported configuration and weights with
  Keras' safe loader and cross-checked against the outputs the student's model gives on inputs chosen here,
  other values arrive as plain numbers, strings and arrays. While it runs, the checker writes
  ``{"op": "request", "payload": P}`` and reads ``{"op": "response", "payload": P}`` (or ``"error"``).
  It ends with ``{"op": "result", "passed": bool, "message": str, "student_message": bool, "stdout": str,
  "traceback": str}``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import io
import json
import os
import re
import sys
import threading
import traceback
import types
from typing import Any

import numpy as np

from lstm_course import grading

#: Keras classes a reported model may use (everything else, custom or Lambda layers included, is refused).
KERAS_MODULE_PREFIX = "keras"
REFUSED_CLASSES = {"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"}
#: Modules a test may receive by name from the student's namespace (the checker imports its own copy).
IMPORTABLE = ("numpy", "math", "keras", "torch", "tensorflow", "lstm_course", "matplotlib", "time", "os")
#: Tolerance of the cross-check between a rebuilt model and the student's model: the same weights in the same
#: framework give the same outputs to float32 rounding (~1e-7), while a barely trained model whose description
#: lies still differs by ~1e-3 after its final sigmoid, so the margin stays wide on both sides.
CROSS_ATOL, CROSS_RTOL = 1e-5, 1e-4
#: Rows of the inputs the checker draws for the cross-check.
CROSS_ROWS = 8


class StudentError(AssertionError):
    """Something about the student's own objects (shown to the student in full)."""


class Channel:
    """The JSON-lines connection to the grader."""

    def __init__(self, inp, out):
        self.inp, self.out = inp, out

    def send(self, msg: dict) -> None:
        self.out.write(json.dumps(msg) + "\n")
        self.out.flush()

    def receive(self) -> dict:
        line = self.inp.readline()
        if not line:
            raise SystemExit(0)
        return json.loads(line)


class Kernel:
    """Requests to the student's kernel, relayed by the grader."""

    def __init__(self, channel: Channel):
        self.channel = channel

    def ask(self, request: dict, what: str) -> Any:
        self.channel.send({"op": "request", "payload": grading.pack(request)})
        msg = self.channel.receive()
        if msg.get("op") != "response":
            raise RuntimeError(f"protocol error: expected a response, got {msg.get('op')!r}")
        if msg.get("error"):
            raise StudentError(f"{what}: {msg['error']}")
        try:
            answer = grading.unpack(msg["payload"])
        except Exception as err:  # noqa: BLE001 - a broken or hostile answer
            raise StudentError(f"{what}: the notebook's answer was not plain data ({type(err).__name__})") from None
        if not isinstance(answer, dict):
            raise StudentError(f"{what}: the notebook's answer was not plain data")
        if "error" in answer:
            err = answer["error"] if isinstance(answer["error"], dict) else {}
            raise StudentError(f"{what} raised {err.get('type', 'an error')}: {str(err.get('message', ''))[:500]}")
        return answer


class Remote:
    """A name in the student's namespace that is used by reference (a function, a model, a stand-in)."""

    def __init__(self, name: str):
        self._ag_name = name


class RemoteFunction(Remote):
    """The student's function: called with plain data in the student's kernel."""

    def __init__(self, name: str, kernel: Kernel, refs: dict):
        super().__init__(name)
        self._kernel, self._refs = kernel, refs
        self.__name__ = name

    def _plain(self, value: Any) -> Any:
        ref = self._refs.get(id(value))
        if ref is not None:
            return {"__ref__": ref}
        if isinstance(value, Remote):
            return {"__ref__": value._ag_name}
        if isinstance(value, grading.TableModel):
            return {"__stub__": {"kind": "table_model", "n_out": value.n_out, "scale": value.scale,
                                 "sharp": value.sharp}}
        if isinstance(value, (list, tuple)):
            out = [self._plain(v) for v in value]
            return tuple(out) if isinstance(value, tuple) else out
        if isinstance(value, dict):
            return {k: self._plain(v) for k, v in value.items()}
        return value

    def __call__(self, *args, **kwargs):
        answer = self._kernel.ask({"op": "call", "name": self._ag_name, "args": self._plain(args),
                                   "kwargs": self._plain(kwargs)}, f"your {self._ag_name}")
        return answer.get("result")

    def call_many(self, calls: list) -> list:
        answer = self._kernel.ask({"op": "call_many", "name": self._ag_name,
                                   "calls": [self._plain(tuple(c)) for c in calls]}, f"your {self._ag_name}")
        out = []
        for item in answer.get("results", []):
            if "error" in item:
                err = item["error"]
                raise StudentError(f"your {self._ag_name} raised {err.get('type')}: {str(err.get('message'))[:500]}")
            out.append(item.get("result"))
        if len(out) != len(calls):
            raise StudentError(f"your {self._ag_name}: wrong number of answers")
        return out

    def call_with(self, substitutes: dict, *args, **kwargs):
        answer = self._kernel.ask({"op": "call", "name": self._ag_name, "args": self._plain(args),
                                   "kwargs": self._plain(kwargs), "substitutes": dict(substitutes)},
                                  f"your {self._ag_name}")
        return answer.get("result")


class NotCheckable(Remote):
    """A student object the checker cannot receive as plain data; any use fails with a clear message."""

    def __init__(self, name: str, why: str):
        super().__init__(name)
        self._why = why

    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        raise StudentError(f"{self._ag_name} cannot be checked: {self._why}")

    def __call__(self, *a, **k):
        raise StudentError(f"{self._ag_name} cannot be checked: {self._why}")


def _check_keras_config(node: Any, where: str) -> None:
    """Refuse any class that is not one of Keras' own (custom classes, Lambda layers, modules from elsewhere)."""
    if isinstance(node, dict):
        if "class_name" in node:
            module = str(node.get("module") or "")
            name = str(node.get("class_name"))
            if name == "function" and _keras_function(node.get("config")):
                return  # a loss, metric or activation function of Keras' own, saved by its name
            if name in REFUSED_CLASSES or (module and not (module == KERAS_MODULE_PREFIX or
                                                           module.startswith(KERAS_MODULE_PREFIX + "."))):
                raise StudentError(f"{where} uses {name} from {module or 'an unknown module'}, which the grader "
                                   "does not rebuild (use Keras' built-in layers)")
            if node.get("registered_name") and "." in str(node.get("registered_name")) and not \
                    str(node.get("registered_name")).startswith("keras"):
                raise StudentError(f"{where} uses a custom registered class {node.get('registered_name')}")
        for v in node.values():
            _check_keras_config(v, where)
    elif isinstance(node, list):
        for v in node:
            _check_keras_config(v, where)


def _keras_function(name: Any) -> bool:
    """Is `name` one of Keras' own loss, metric or activation functions (how Keras saves such a function)?"""
    if not isinstance(name, str) or not name.isidentifier():
        return False
    import keras

    return any(callable(getattr(mod, name, None)) for mod in (keras.losses, keras.metrics, keras.activations))


def _probe_input(model: Any, rng: np.random.Generator) -> np.ndarray:
    """Inputs the checker chooses for a cross-check: ints below the first embedding's vocabulary, or floats."""
    shape = [CROSS_ROWS if i == 0 else (d if d is not None else 7) for i, d in enumerate(tuple(model.inputs[0].shape))]
    dtype = str(model.inputs[0].dtype)
    vocab = next((int(layer.input_dim) for layer in _all_layers(model) if hasattr(layer, "input_dim")), None)
    if "int" in dtype or vocab is not None and "float" not in dtype:
        return rng.integers(0, vocab or 2, size=shape).astype("int32")
    if vocab is not None:  # an embedding fed float ids: keep them integral
        return rng.integers(0, vocab, size=shape).astype(dtype)
    return rng.uniform(0.0, 1.0, size=shape).astype("float32")


def _all_layers(model: Any) -> list:
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        out.extend(_all_layers(layer))
    return out


class ModelCache:
    """Rebuilt Keras models kept from one student to the next, keyed by their exact reported configuration and
    compile settings (the JSON text): a class hands in the same few architectures, and rebuilding one (deserialising,
    compiling, tracing its first prediction) costs about a second, while setting its weights costs milliseconds.

    A cached model is the checker's own object, built by the checker from a configuration it validated; each use
    sets every weight from the current student's report and cross-checks the outputs again, so nothing of an
    earlier student survives in what a test reads. A model is handed out at most once a student (two names with
    one architecture get two models); a model whose weights failed to load is dropped. Bounded: when it holds more
    than ``limit`` models it is emptied (and Keras' session cleared) at the next student.
    """

    def __init__(self, limit: int = 12):
        self.limit = limit
        self.models: dict[str, list] = {}
        self.taken: set[int] = set()

    def take(self, key: str) -> Any:
        for model in self.models.get(key, []):
            if id(model) not in self.taken:
                self.taken.add(id(model))
                return model
        return None

    def put(self, key: str, model: Any) -> None:
        self.models.setdefault(key, []).append(model)
        self.taken.add(id(model))

    def drop(self, key: str, model: Any) -> None:
        self.models[key] = [m for m in self.models.get(key, []) if m is not model]
        self.taken.discard(id(model))

    def new_student(self) -> bool:
        """Forget who holds what; True when the cache was emptied (then Keras' session may be cleared)."""
        self.taken = set()
        if sum(len(v) for v in self.models.values()) > self.limit:
            self.models = {}
            return True
        return False


def rebuild_keras(name: str, report: dict, kernel: Kernel, rng: np.random.Generator,
                  cache: ModelCache | None = None) -> Any:
    """The student's Keras model, rebuilt here from its reported configuration and weights, cross-checked."""
    import keras

    what = f"{name} ({report.get('class')})"
    try:
        config = json.loads(report["config"])
    except Exception:  # noqa: BLE001
        raise StudentError(f"{what}: its configuration could not be read") from None
    _check_keras_config(config, what)
    compile_config = report.get("compile")
    cfg = None
    if compile_config:
        try:
            cfg = json.loads(compile_config)
        except Exception:  # noqa: BLE001
            raise StudentError(f"{what}: its compile settings could not be read") from None
        _check_keras_config(cfg, f"{what}'s compile settings")
    key = json.dumps([report["config"], compile_config or ""])
    model = cache.take(key) if cache is not None else None
    fresh = model is None
    if fresh:
        try:
            model = keras.saving.deserialize_keras_object(config, safe_mode=True)
        except StudentError:
            raise
        except Exception as err:  # noqa: BLE001
            raise StudentError(f"{what} could not be rebuilt from its configuration: {type(err).__name__}: "
                               f"{str(err)[:300]}") from None
    weights = report.get("weights") or []
    if not isinstance(weights, list) or not all(isinstance(w, np.ndarray) for w in weights):
        raise StudentError(f"{what}: its weights did not arrive as arrays")
    if not weights and not fresh:  # a cached model holds an earlier student's weights: start from a new one
        cache.drop(key, model)
        return rebuild_keras(name, report, kernel, rng, None)
    if weights:
        try:
            model.set_weights(weights)
        except Exception as err:  # noqa: BLE001
            if not fresh:
                cache.drop(key, model)
            raise StudentError(f"{what}: its weights do not fit its configuration: {str(err)[:300]}") from None
    if fresh and cfg is not None:
        try:
            model.compile_from_config(cfg)
        except Exception as err:  # noqa: BLE001
            raise StudentError(f"{what}: its compile settings could not be read: {str(err)[:300]}") from None
    if fresh and cache is not None and weights:
        cache.put(key, model)
    model._ag_compile_config = cfg
    if getattr(model, "built", False) and getattr(model, "inputs", None):
        x = _probe_input(model, rng)
        theirs = kernel.ask({"op": "run_model", "name": name, "x": x}, f"running your {name}").get("result")
        ours = np.asarray(model.predict_on_batch(x))
        theirs = np.asarray(theirs) if isinstance(theirs, np.ndarray) else None
        if theirs is None or theirs.shape != ours.shape or not np.allclose(theirs, ours, atol=CROSS_ATOL,
                                                                            rtol=CROSS_RTOL):
            gap = "" if theirs is None or theirs.shape != ours.shape else f" (largest difference " \
                  f"{float(np.max(np.abs(theirs - ours))):.3g})"
            raise StudentError(f"{name}: the model described by its configuration and weights does not compute "
                               f"what {name} computes on the grader's inputs{gap}; the grader checks only models "
                               "made of Keras' built-in layers whose outputs depend on their weights alone")
    return model


def _torch_container():
    import torch

    class StudentModule(torch.nn.Module):
        """A module of the student's own class, rebuilt as a container of its submodules and parameters. Calling
        it runs the student's module in the student's kernel (see `_remote_forward`)."""

        def __init__(self, name: str, path: str, class_name: str, kernel: Kernel):
            super().__init__()
            object.__setattr__(self, "_ag_class", class_name)
            object.__setattr__(self, "forward", _remote_forward(kernel, name, path, class_name))

        def extra_repr(self) -> str:
            return f"the student's {self._ag_class}"

    return StudentModule


def _remote_forward(kernel: Kernel, name: str, path: str, class_name: str):
    """A forward that runs the student's module `name` (its part at `path`, "" for the whole) in the student's
    kernel on one input, in evaluation mode for the call (its forward is the student's code, which the checker
    never runs), and returns the output as tensors."""
    what = f"running your {name}" + (f".{path}" if path else "")

    def forward(x, *rest):
        if rest:
            raise StudentError(f"{what}: the grader calls the student's {class_name} with one input only")
        answer = kernel.ask({"op": "run_torch_modules", "name": name, "runs": [[path, _arrays(x)]]}, what)
        result = answer.get("result")
        if not isinstance(result, list) or len(result) != 1:
            raise StudentError(f"{what}: no answer")
        return _tensors(result[0])

    return forward


def _arrays(value: Any) -> Any:
    """Tensors (also inside tuples and lists, e.g. an LSTM's (output, (h_n, c_n))) as plain arrays to send."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays(v) for v in value)
    return np.asarray(value)


def _tensors(value: Any) -> Any:
    import torch

    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.array(value))
    if isinstance(value, (list, tuple)):
        return type(value)(_tensors(v) for v in value)
    return value


def _torch_probe(kind: str, mod: Any, rng: np.random.Generator) -> np.ndarray | None:
    """An input the checker chooses for a rebuilt torch module, or None for a module it does not cross-check."""
    rows = CROSS_ROWS
    if kind == "Embedding":
        return rng.integers(0, mod.num_embeddings, size=(rows, 5)).astype("int64")
    if kind in ("LSTM", "GRU", "RNN"):
        shape = (rows, 6, mod.input_size) if mod.batch_first else (6, rows, mod.input_size)
        return rng.standard_normal(shape).astype("float32")
    if kind == "Linear":
        return rng.standard_normal((rows, mod.in_features)).astype("float32")
    return None


def rebuild_torch(name: str, report: dict, kernel: Kernel, rng: np.random.Generator) -> Any:
    """The student's PyTorch module, rebuilt here from its reported submodules and weights, cross-checked.

    torch.nn's own classes (grading.TORCH_MODULES) are built from the checker's table with the reported
    constructor arguments, on PyTorch's meta device first (no memory until the shapes agree with the arrays that
    arrived), then given the reported weights; the student's own classes become containers (`StudentModule`) of
    what they hold, and calling the top module runs the student's forward in the student's kernel. Every rebuilt
    module with weights is run here and in the student's kernel on the same chosen inputs: a report that lies
    about a class, a setting or a weight does not match the module it describes."""
    import torch

    what = f"{name} ({report.get('class')})"
    entries = report.get("modules")
    if not isinstance(entries, list) or not entries or entries[0].get("path") != "":
        raise StudentError(f"{what}: its description could not be read")
    container = _torch_container()
    built: dict[str, Any] = {}
    checks = []
    for entry in entries:
        path, kind = str(entry.get("path")), entry.get("type")
        config = entry.get("config") or {}
        if kind is not None and kind not in grading.TORCH_MODULES:
            raise StudentError(f"{what}: {path or 'the module'} is a {kind}, which the grader does not rebuild")
        if kind is None:
            mod = container(name, path, str(entry.get("class")), kernel)
        else:
            allowed = grading.TORCH_MODULES[kind]
            if set(config) - set(allowed) or not all(grading.plain_setting(v) for v in config.values()):
                raise StudentError(f"{what}: the settings of {path or 'the module'} could not be read")
            cls = getattr(torch.nn, kind)
            try:
                with torch.device("meta"):
                    mod = cls(**{k: v for k, v in config.items() if k in allowed})
            except Exception as err:  # noqa: BLE001
                raise StudentError(f"{what}: {path or 'the module'} ({kind}) could not be rebuilt from its settings: "
                                   f"{type(err).__name__}: {str(err)[:300]}") from None
        params = entry.get("parameters") or []
        buffers = entry.get("buffers") or []
        if not all(isinstance(p, list) and len(p) == 3 and isinstance(p[1], np.ndarray) for p in params) or \
                not all(isinstance(b, list) and len(b) == 2 and isinstance(b[1], np.ndarray) for b in buffers):
            raise StudentError(f"{what}: the weights of {path or 'the module'} did not arrive as arrays")
        if kind is None:
            for pname, array, grad in params:
                if not str(pname).isidentifier():
                    raise StudentError(f"{what}: a parameter name of {path or 'the module'} could not be read")
                mod.register_parameter(str(pname), torch.nn.Parameter(torch.from_numpy(np.array(array)),
                                                                       requires_grad=bool(grad)))
            for bname, array in buffers:
                if str(bname).isidentifier():
                    mod.register_buffer(str(bname), torch.from_numpy(np.array(array)))
        else:
            own = dict(mod.named_parameters(recurse=False))
            sent = {str(p[0]): p for p in params}
            if set(own) != set(sent) or any(tuple(own[n].shape) != tuple(sent[n][1].shape) for n in own):
                shapes = {n: tuple(p.shape) for n, p in own.items()}
                got = {n: tuple(p[1].shape) for n, p in sent.items()}
                raise StudentError(f"{what}: the weights of {path or 'the module'} ({kind}) do not fit its settings "
                                   f"(a {kind} with these settings has {shapes}, the report has {got})")
            mod = mod.to_empty(device="cpu")
            with torch.no_grad():
                for n, p in mod.named_parameters(recurse=False):
                    p.copy_(torch.from_numpy(np.array(sent[n][1], dtype=np.float32)))
                    p.requires_grad_(bool(sent[n][2]))
            if hasattr(mod, "flatten_parameters"):
                mod.flatten_parameters()
        mod.train(bool(entry.get("training")))
        # train() sets the children too: each child's own mode is applied when it is reached (parents come first)
        if path:
            parent_path, _, attr = path.rpartition(".")
            parent = built.get(parent_path)
            if parent is None or not attr:
                raise StudentError(f"{what}: its description lists {path} before its parent")
            parent.add_module(attr, mod)
        built[path] = mod
        if kind is not None and params:
            probe = _torch_probe(kind, mod, rng)
            if probe is not None:
                checks.append((path, kind, mod, probe))
    if checks:
        answer = kernel.ask({"op": "run_torch_modules", "name": name, "runs": [[p, x] for p, _, _, x in checks]},
                            f"running the parts of your {name}")
        theirs = answer.get("result")
        if not isinstance(theirs, list) or len(theirs) != len(checks):
            raise StudentError(f"{name}: its parts did not answer the grader's inputs")
        for (path, kind, mod, x), their in zip(checks, theirs):
            if not _same_arrays(their, grading.run_in_eval(mod, x)):  # the checker's own copy of the package
                raise StudentError(f"{name}.{path}: the {kind} described by its settings and weights does not "
                                   f"compute what {name}.{path} computes on the grader's inputs; the grader checks "
                                   f"only torch.nn's own {kind}")
    root = built[""]
    if entries[0].get("type"):
        # a torch.nn container at the top (an nn.Sequential): calling the model still runs the student's own
        # model in the kernel, whatever the description says its class is
        object.__setattr__(root, "forward", _remote_forward(kernel, name, "", str(entries[0].get("class"))))
    return root


def _same_arrays(theirs: Any, ours: Any) -> bool:
    """Same nesting of tuples/lists, same shapes, values equal to float32 rounding."""
    if isinstance(ours, (tuple, list)):
        return isinstance(theirs, (tuple, list)) and len(theirs) == len(ours) and \
            all(_same_arrays(t, o) for t, o in zip(theirs, ours))
    ours = ours.detach().cpu().numpy()
    return isinstance(theirs, np.ndarray) and theirs.shape == ours.shape and \
        np.allclose(theirs, ours, atol=CROSS_ATOL, rtol=CROSS_RTOL)


def split_hidden(source: str) -> tuple[str, str]:
    """(visible lines, hidden-test lines) of a test cell, each with the other's lines blanked (same numbering)."""
    visible, hidden, inside = [], [], False
    for line in source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            inside = True
        (hidden if inside else visible).append(line)
        (visible if inside else hidden).append("")
        if "### END HIDDEN TESTS" in line:
            inside = False
    return "\n".join(visible) + "\n", "\n".join(hidden) + "\n"


def free_names(source: str) -> list[str]:
    """Names a test cell reads without defining them (in order of first use)."""
    tree = ast.parse(source)
    stored, loaded = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                if node.id not in loaded:
                    loaded.append(node.id)
            else:
                stored.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stored.add(node.name)
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
        elif isinstance(node, ast.alias):
            stored.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            stored.add(node.name)
    return [n for n in loaded if n not in stored and not hasattr(builtins, n)]


class Checker:
    """State of the checker process: the prelude namespaces and the current student's objects."""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.kernel = Kernel(channel)
        self.preludes: dict[str, dict] = {}
        self.current: str | None = None
        # the current student's names, asked once: the tests run after every other cell of the notebook, so
        # nothing of the student's changes between two tests
        self.asked: dict = {}
        self.refs: dict = {}
        self.models = ModelCache()

    def prelude(self, key: str, cells: list[str]) -> dict:
        if key in self.preludes:
            self.current = key
            return {"ok": True, "stdout": ""}
        ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                for source in cells:
                    exec(compile(source, "<prelude>", "exec"), ns)
        except BaseException as err:  # noqa: BLE001
            return {"ok": False, "error": f"{type(err).__name__}: {err}", "stdout": out.getvalue()[-2000:],
                    "traceback": traceback.format_exc()[-4000:]}
        self.preludes[key] = ns
        self.current = key
        return {"ok": True, "stdout": out.getvalue()[-2000:]}

    def new_student(self) -> dict:
        self.asked, self.refs = {}, {}
        keras = sys.modules.get("keras")
        if self.models.new_student() and keras is not None:
            keras.backend.clear_session()
        import gc

        gc.collect()
        return {"ok": True}

    def resolve(self, name: str, refs: dict, rng: np.random.Generator) -> Any:
        answer = self.kernel.ask({"op": "describe", "name": name}, f"looking up {name}")
        kind = answer.get("kind")
        if kind == "missing":
            return _MISSING
        if kind == "value":
            value = answer.get("value")
            if isinstance(value, grading.Unsupported):
                return NotCheckable(name, f"it is a {value.type_name}, not plain data")
            return value
        if kind == "function":
            return RemoteFunction(name, self.kernel, refs)
        if kind == "history":
            return types.SimpleNamespace(history=dict(answer.get("history") or {}), epoch=list(answer.get("epoch") or []),
                                         params=dict(answer.get("params") or {}))
        if kind == "keras_model":
            model = rebuild_keras(name, answer["report"], self.kernel, rng, self.models)
            refs[id(model)] = name
            return model
        if kind == "torch_module":
            model = rebuild_torch(name, answer["report"], self.kernel, rng)
            refs[id(model)] = name
            return model
        if kind == "module":
            module = str(answer.get("module", ""))
            if module.split(".")[0] in IMPORTABLE:
                import importlib

                return importlib.import_module(module)
            return NotCheckable(name, f"module {module} is not one the grader imports")
        return NotCheckable(name, f"it is a {answer.get('type', kind)}, which the grader does not receive")

    def _bind(self, source: str, ns: dict, refs: dict, rng: np.random.Generator) -> None:
        """Put into ns every name `source` reads that ns lacks, asked of the student's kernel."""
        for name in free_names(source):
            if name not in ns:
                if name not in self.asked:
                    self.asked[name] = self.resolve(name, refs, rng)
                if self.asked[name] is not _MISSING:
                    ns[name] = self.asked[name]

    def test(self, grade_id: str, source: str) -> dict:
        if self.current is None:
            return {"passed": False, "message": "grader error: no prelude", "student_message": False}
        base = self.preludes[self.current]
        ns = dict(base)
        refs = self.refs
        rng = np.random.default_rng(int.from_bytes(os.urandom(8), "little"))
        out = io.StringIO()
        visible, hidden = split_hidden(source)
        state = {"visible_passed": None}
        try:
            with contextlib.redirect_stdout(out):
                state["visible_passed"] = False
                self._bind(visible, ns, refs, rng)
                exec(compile(visible, f"<{grade_id}>", "exec"), ns)
                state["visible_passed"] = True
                if hidden.strip():
                    self._bind(hidden, ns, refs, rng)
                    exec(compile(hidden, f"<{grade_id}>", "exec"), ns)
        except StudentError as err:
            return {**state, "passed": False, "message": str(err)[:1000], "student_message": True,
                    "stdout": out.getvalue()[-20000:], "traceback": ""}
        except AssertionError as err:  # a test's own message is written for the student; a bare assert is not
            message = str(err).strip()
            return {**state, "passed": False, "message": message[:1000] or "a check failed", "student_message": bool(message),
                    "stdout": out.getvalue()[-20000:], "traceback": traceback.format_exc()[-6000:],
                    "lineno": _lineno(grade_id)}
        except NameError as err:
            return {**state, "passed": False, "message": f"{err} (your notebook does not define it, or it was not run)",
                    "student_message": True, "stdout": out.getvalue()[-20000:],
                    "traceback": traceback.format_exc()[-6000:], "lineno": _lineno(grade_id)}
        except BaseException as err:  # noqa: BLE001
            return {**state, "passed": False, "message": f"{type(err).__name__}: {str(err)[:800]}", "student_message": False,
                    "stdout": out.getvalue()[-20000:], "traceback": traceback.format_exc()[-6000:],
                    "lineno": _lineno(grade_id)}
        return {**state, "passed": True, "message": "passed", "student_message": False, "stdout": out.getvalue()[-20000:],
                "traceback": ""}


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _clean(result: dict) -> dict:
    """No terminal colour codes (Keras puts them in its error messages) in what a student reads."""
    for key in ("message", "traceback"):
        if isinstance(result.get(key), str):
            result[key] = ANSI.sub("", result[key])
    return result


def _lineno(grade_id: str) -> int | None:
    """Line of the test cell where the exception was raised (the innermost frame in the cell)."""
    tb = sys.exc_info()[2]
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == f"<{grade_id}>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


_MISSING = object()

#: frameworks the tests rebuild models with; those the assignment uses (AG_CHECKER_WARM, set by the grader) are
#: imported in the background when the checker starts, while the student's kernel runs the notebook, so the
#: first test that needs one does not wait ~5 s for it
WARM_IMPORTS = ("keras", "torch")


def _warm_imports() -> None:
    wanted = os.environ.get("AG_CHECKER_WARM", "").split(",")
    for name in (n for n in WARM_IMPORTS if n in wanted):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a framework that cannot load fails later, in the test that needs it
            pass


def main() -> None:
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # C-level prints (TensorFlow) go to stderr, never into the protocol
    sys.stdout = os.fdopen(1, "w", buffering=1)
    channel = Channel(sys.stdin, proto)
    checker = Checker(channel)
    warm = threading.Thread(target=_warm_imports, name="warm-imports", daemon=True)
    warm.start()
    channel.send({"op": "ready", "pid": os.getpid()})
    while True:
        msg = channel.receive()
        warm.join()  # nothing runs beside a half-imported framework
        op = msg.get("op")
        if op == "prelude":
            reply = checker.prelude(msg["key"], msg["cells"])
        elif op == "student":
            reply = checker.new_student()
        elif op == "test":
            reply = _clean(checker.test(msg["grade_id"], msg["source"]))
        elif op == "quit":
            break
        else:
            reply = {"ok": False, "error": f"unknown op {op!r}"}
        reply["op"] = "result"
        channel.send(reply)


if __name__ == "__main__":
    main()
