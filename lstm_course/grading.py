"""Plain-data protocol between a student's kernel and the grader's trusted checker, and test helpers for both.

The grader never trusts an object from the student's process: its kernel only answers requests with plain
data (numbers, strings, lists, dicts and NumPy arrays), packed by :func:`pack` and read back by :func:`unpack`
with ``allow_pickle=False``, so no ``__eq__``, subclass or patched method survives the crossing.

Kernel side: :func:`serve` answers one request (describe a name, call a function, report or run a model).
Test side: :func:`call_many` and :func:`call_with` let one hidden test run unchanged in a plain kernel
(``nbgrader autograde``) and in the checker, where the student's functions are remote.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import sys
import types
from typing import Any, Callable, Iterable

import numpy as np

#: Largest packed answer the grader accepts from a kernel (bytes of base64 text).
MAX_PACKED = 96 * 2**20


# ----------------------------------------------------------------------------------------------- codec
class Unsupported:
    """Stands for a value of a type that cannot cross as plain data (the checker sees only its type name)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} (not plain data)>"


def _to_array(value: Any) -> np.ndarray | None:
    """A plain ndarray copy of an array-like from NumPy, TensorFlow, Keras or PyTorch, else None."""
    if isinstance(value, np.ndarray):
        arr = np.array(value, copy=True, subok=False)
    elif hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):  # torch.Tensor
        arr = np.array(value.detach().cpu().numpy(), copy=True, subok=False)
    elif type(value).__module__.startswith(("tensorflow", "keras")) and hasattr(value, "numpy"):
        arr = np.array(value.numpy(), copy=True, subok=False)
    elif type(value).__module__.startswith(("tensorflow", "keras")) and hasattr(value, "shape"):
        arr = np.array(value, copy=True, subok=False)
    else:
        return None
    if arr.dtype == object:
        return None
    return arr


def _encode(value: Any, arrays: list, depth: int = 0) -> Any:
    if depth > 40:
        raise ValueError("value nested too deeply to send")
    if value is None or type(value) in (bool, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return {"__int__": str(int(value))}
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return {"__float__": repr(f)}
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (complex, np.complexfloating)):
        return {"__unsupported__": "complex"}
    arr = _to_array(value)
    if arr is not None:
        arrays.append(arr)
        return {"__nd__": len(arrays) - 1}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"__set__": [_encode(v, arrays, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, arrays, depth + 1), _encode(v, arrays, depth + 1)] for k, v in value.items()]}
    if isinstance(value, np.random.Generator):
        return {"__rng__": _encode(value.bit_generator.state, arrays, depth + 1)}
    return {"__unsupported__": type(value).__qualname__}


def pack(value: Any) -> str:
    """Value -> one ASCII string: JSON skeleton plus the arrays in an .npz, base64-encoded."""
    arrays: list = []
    skeleton = _encode(value, arrays)
    buf = io.BytesIO()
    np.savez(buf, skeleton=np.frombuffer(json.dumps(skeleton).encode(), dtype=np.uint8),
             **{f"a{k}": a for k, a in enumerate(arrays)})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _decode(node: Any, arrays: dict, depth: int = 0) -> Any:
    if depth > 60:
        raise ValueError("value nested too deeply")
    if node is None or isinstance(node, (bool, str)):
        return node
    if isinstance(node, (int, float)):  # JSON numbers (not produced by pack, accepted anyway)
        return node
    if isinstance(node, list):
        return [_decode(v, arrays, depth + 1) for v in node]
    if isinstance(node, dict) and len(node) == 1:
        (tag, body), = node.items()
        if tag == "__int__":
            return int(str(body))
        if tag == "__float__":
            return float(str(body))
        if tag == "__nd__":
            return arrays[f"a{int(body)}"]
        if tag == "__tuple__":
            return tuple(_decode(v, arrays, depth + 1) for v in body)
        if tag == "__set__":
            return {_hashable(_decode(v, arrays, depth + 1)) for v in body}
        if tag == "__dict__":
            return {_hashable(_decode(k, arrays, depth + 1)): _decode(v, arrays, depth + 1) for k, v in body}
        if tag == "__rng__":
            state = _decode(body, arrays, depth + 1)
            gen = np.random.Generator(getattr(np.random, state["bit_generator"])())
            gen.bit_generator.state = state
            return gen
        if tag == "__unsupported__":
            return Unsupported(str(body))
    raise ValueError(f"not plain data: {str(node)[:80]}")


def _hashable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        raise ValueError("an array cannot be a dict key")
    if isinstance(value, list):
        raise ValueError("a list cannot be a dict key")
    return value


def unpack(text: str) -> Any:
    """Inverse of :func:`pack`, for untrusted text: plain Python values and base-class ndarrays only."""
    if not isinstance(text, str) or len(text) > MAX_PACKED:
        raise ValueError("answer missing or too large")
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        arrays = {k: np.array(npz[k], copy=True) for k in npz.files if k != "skeleton"}
        skeleton = json.loads(bytes(npz["skeleton"]).decode())
    for k, a in arrays.items():
        if type(a) is not np.ndarray or a.dtype == object:
            raise ValueError(f"array {k} is not a plain array")
    return _decode(skeleton, arrays)


# ----------------------------------------------------------------------------------------------- probes
def probe_cell(x_t, h_prev, c_prev, params):
    """A stand-in for a student's LSTM cell with a known answer: h = tanh(x W_f + h U_f), c = c + h.

    Self-contained (it imports NumPy itself): call_with also runs its code in place of the student's function.
    """
    import numpy

    h = numpy.tanh(numpy.asarray(x_t) @ params["W_f"] + numpy.asarray(h_prev) @ params["U_f"])
    return h, numpy.asarray(c_prev) + h


def probe_forward(xs, params, h0=None, c0=None):
    """What a loop that calls :func:`probe_cell` once per step from (h0, c0) (zeros when None) returns."""
    xs = np.asarray(xs)
    n_h = np.asarray(params["U_f"]).shape[0]
    h = np.zeros((xs.shape[0], n_h)) if h0 is None else np.asarray(h0)
    c = np.zeros((xs.shape[0], n_h)) if c0 is None else np.asarray(c0)
    hs = []
    for t in range(xs.shape[1]):
        h, c = probe_cell(xs[:, t, :], h, c, params)
        hs.append(h)
    return np.stack(hs, axis=1), h, c


class TableModel:
    """A deterministic stand-in for a character model whose prediction depends on its whole input window.

    ``predict(x)`` returns, for each row of x, a softmax over ``n_out`` classes whose argmax is
    ``(sum_t w_t * round(x_t * scale)) mod n_out`` with weights w_t alternating 1, 2: every position of the
    window matters (for n_out >= 3), so a
    generation loop that does not slide its window, or encodes it wrongly, gives other characters.
    """

    def __init__(self, n_out: int, scale: float = 1.0, sharp: float = 4.0):
        self.n_out, self.scale, self.sharp = int(n_out), float(scale), float(sharp)
        self.calls = 0

    def _probs(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        x = x.reshape(x.shape[0], -1)  # (batch, steps)
        ids = np.rint(x * self.scale).astype(np.int64)
        key = (ids * (1 + np.arange(ids.shape[1]) % 2)).sum(axis=1) % self.n_out
        logits = np.zeros((x.shape[0], self.n_out))
        logits[np.arange(x.shape[0]), key] = self.sharp
        logits[:, :] += 0.1 * np.cos(np.arange(self.n_out))[None, :]  # no ties for sampling tests
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def predict(self, x, verbose=0, **kwargs) -> np.ndarray:
        self.calls += 1
        return self._probs(x)

    def __call__(self, x, training=False) -> np.ndarray:
        self.calls += 1
        return self._probs(x)


def make_stub(spec: dict) -> Any:
    """Build a stand-in object from plain data (see :class:`TableModel`)."""
    if spec.get("kind") == "table_model":
        return TableModel(spec["n_out"], spec.get("scale", 1.0), spec.get("sharp", 4.0))
    raise ValueError(f"unknown stub {spec.get('kind')!r}")


# ----------------------------------------------------------------------------------------------- test helpers
def call_many(fn: Callable, calls: Iterable[tuple]) -> list:
    """fn(*args) for each args tuple; in the trusted checker one request answers them all."""
    batch = getattr(fn, "call_many", None)
    if batch is not None:
        return batch(list(calls))
    return [fn(*args) for args in calls]


def call_with(fn: Callable, substitutes: dict[str, str], *args, **kwargs) -> Any:
    """Call fn with some of the student's global names replaced by grader probes for the call.

    ``substitutes`` maps a global name (e.g. "lstm_cell") to a probe of this module (e.g. "probe_cell"). A
    function that really calls the global once per step then computes what :func:`probe_forward` computes.
    The student's function object itself runs the probe's code for the call too, so a call through another
    name bound to it (``step = lstm_cell``, a default argument ``cell=lstm_cell``) reaches the probe as well.
    """
    remote = getattr(fn, "call_with", None)
    if remote is not None:
        return remote(substitutes, *args, **kwargs)
    namespace = fn.__globals__
    saved = {name: namespace.get(name, _MISSING) for name in substitutes}
    codes = []
    try:
        for name, probe in substitutes.items():
            original = namespace.get(name)
            if isinstance(original, types.FunctionType) and original is not fn:
                try:
                    codes.append((original, original.__code__, original.__defaults__, original.__kwdefaults__))
                    original.__code__ = _PROBES[probe].__code__
                    original.__defaults__, original.__kwdefaults__ = None, None
                except ValueError:  # a closure: only the name is swapped
                    codes.pop()
            namespace[name] = _PROBES[probe]
        return fn(*args, **kwargs)
    finally:
        for original, code, defaults, kwdefaults in codes:
            original.__code__, original.__defaults__, original.__kwdefaults__ = code, defaults, kwdefaults
        for name, value in saved.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value


_MISSING = object()
_PROBES = {"probe_cell": probe_cell}


# ----------------------------------------------------------------------------------------------- kernel side
def _kind(value: Any) -> str:
    if isinstance(value, types.ModuleType):
        return "module"
    keras = sys.modules.get("keras")
    if keras is not None:
        if isinstance(value, keras.Model):
            return "keras_model"
        if isinstance(value, keras.callbacks.History):
            return "history"
        if isinstance(value, keras.layers.Layer):
            return "keras_layer"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.nn.Module):
        return "torch_module"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)) or (
            callable(value) and not isinstance(value, type) and _to_array(value) is None):
        return "function"
    return "value"


def _arg(node: Any, ns: dict) -> Any:
    """Resolve references in decoded arguments: {"__ref__": name} -> ns[name], stubs -> new stub objects."""
    if isinstance(node, dict) and set(node) == {"__ref__"}:
        return ns[node["__ref__"]]
    if isinstance(node, dict) and set(node) == {"__stub__"}:
        return make_stub(node["__stub__"])
    if isinstance(node, dict) and set(node) == {"__probe__"}:
        return _PROBES[node["__probe__"]]
    if isinstance(node, list):
        return [_arg(v, ns) for v in node]
    if isinstance(node, tuple):
        return tuple(_arg(v, ns) for v in node)
    if isinstance(node, dict):
        return {k: _arg(v, ns) for k, v in node.items()}
    return node


def _keras_report(model: Any) -> dict:
    import keras

    # a Constant initializer holding a whole table (a GloVe matrix) would be written out as 500,000 numbers of
    # JSON; the weights travel as arrays anyway, so the description names a zero start for the call
    swapped = []
    for layer in _all_keras_layers(model):
        for attr, value in list(vars(layer).items()):
            if attr.endswith("_initializer") and type(value).__name__ == "Constant" and \
                    np.size(getattr(value, "value", 0)) > 1:
                swapped.append((layer, attr, value))
                object.__setattr__(layer, attr, keras.initializers.Zeros())
    try:
        config = json.dumps(keras.saving.serialize_keras_object(model))
    finally:
        for layer, attr, value in swapped:
            object.__setattr__(layer, attr, value)
    report = {"class": type(model).__name__, "config": config,
              "weights": [np.asarray(w) for w in model.get_weights()],
              "compile": None, "built": bool(getattr(model, "built", False))}
    try:
        if getattr(model, "compiled", False) or getattr(model, "optimizer", None) is not None:
            report["compile"] = json.dumps(model.get_compile_config())
    except Exception as err:  # noqa: BLE001
        report["compile_error"] = f"{type(err).__name__}: {err}"
    return report


def _all_keras_layers(model: Any) -> list:
    out = []
    for layer in getattr(model, "layers", []) or []:
        out.append(layer)
        out.extend(_all_keras_layers(layer))
        for inner in ("forward_layer", "backward_layer", "layer", "cell"):
            sub = getattr(layer, inner, None)
            if sub is not None and sub is not layer and hasattr(sub, "get_config"):
                out.append(sub)
    return out


#: PyTorch modules the checker rebuilds, by the name a report gives them: the constructor arguments read back
#: from each (the checker builds the same class from its own copy of this table, never from a name it is sent).
TORCH_MODULES = {
    "Embedding": ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq",
                  "sparse"),
    "LSTM": ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size"),
    "GRU": ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"),
    "RNN": ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first", "dropout",
            "bidirectional"),
    "Linear": ("in_features", "out_features", "bias"),
    "Dropout": ("p",),
    "Sequential": (), "ModuleList": (), "ModuleDict": (), "Identity": (), "Flatten": ("start_dim", "end_dim"),
    "Sigmoid": (), "Tanh": (), "ReLU": (), "Softmax": ("dim",), "LogSoftmax": ("dim",),
}


def plain_setting(value: Any) -> bool:
    """Can a module's constructor setting cross as it is (a number, a string, a flag or None)?"""
    return isinstance(value, (bool, int, float, str, type(None)))


def _torch_type(module: Any) -> str | None:
    """The table's name for a module whose class is exactly torch.nn's own (a subclass is the student's class)."""
    import torch

    cls = type(module)
    name = cls.__name__
    return name if name in TORCH_MODULES and getattr(torch.nn, name, None) is cls else None


def _torch_report(module: Any) -> dict:
    """Every submodule (by path): its torch.nn class if it is one of TORCH_MODULES (else None, the student's own
    class), the constructor arguments read back from it, its own parameters and buffers, its mode."""
    modules = []
    for path, mod in module.named_modules():
        kind = _torch_type(mod)
        config = {}
        for arg in TORCH_MODULES.get(kind or "", ()):
            value = getattr(mod, arg, None)
            if arg == "bias" and kind == "Linear":
                value = mod.bias is not None
            config[arg] = value if plain_setting(value) else repr(value)
        modules.append({
            "path": path, "type": kind, "class": type(mod).__name__, "config": config, "training": bool(mod.training),
            "parameters": [[n, p.detach().cpu().numpy(), bool(p.requires_grad)]
                           for n, p in mod.named_parameters(recurse=False)],
            "buffers": [[n, b.detach().cpu().numpy()] for n, b in mod.named_buffers(recurse=False) if b is not None],
        })
    return {"class": type(module).__name__, "modules": modules}


def _torch_submodule(root: Any, path: str) -> Any:
    return root.get_submodule(path) if path else root


@contextlib.contextmanager
def evaluation(*modules: Any):
    """The torch modules in evaluation mode and without gradients for the block; every submodule's own mode is
    restored after."""
    import torch

    modes = [(m, m.training) for module in modules for m in module.modules()]
    try:
        for module in modules:
            module.eval()
        with torch.no_grad():
            yield
    finally:
        for m, mode in modes:
            m.training = mode


def run_in_eval(module: Any, x: Any) -> Any:
    """module(x) in evaluation mode and without gradients (see :func:`evaluation`)."""
    import torch

    def tensors(value):  # arrays, also inside tuples and lists (an LSTM's (output, (h_n, c_n)))
        if isinstance(value, (list, tuple)):
            return type(value)(tensors(v) for v in value)
        return torch.as_tensor(value)

    with evaluation(module):
        return module(tensors(x))


def _run_torch_modules(root: Any, runs: list) -> list:
    """Run submodules of the student's module on the checker's inputs (in the kernel), each in evaluation mode."""
    return [run_in_eval(_torch_submodule(root, path), x) for path, x in runs]


def serve(request: str, ns: dict) -> str:
    """Answer one packed request with a packed answer, in the student's kernel. Never raises."""
    try:
        req = unpack(request)
        answer = _serve(req, ns)
    except BaseException as err:  # noqa: BLE001 - the student's code may raise anything, even SystemExit
        answer = {"error": {"type": type(err).__name__, "message": str(err)[:2000]}}
    try:
        return pack(answer)
    except BaseException as err:  # noqa: BLE001
        return pack({"error": {"type": "UnsendableResult", "message": f"{type(err).__name__}: {str(err)[:500]}"}})


def _serve(req: dict, ns: dict) -> dict:
    op, name = req["op"], req.get("name")
    if op == "describe":
        if name not in ns:
            return {"kind": "missing"}
        value = ns[name]
        kind = _kind(value)
        if kind == "value":
            return {"kind": "value", "value": value}
        if kind == "history":
            return {"kind": "history", "history": dict(value.history), "epoch": list(getattr(value, "epoch", [])),
                    "params": {k: v for k, v in dict(getattr(value, "params", {}) or {}).items()
                               if isinstance(v, (int, float, str, type(None)))}}
        if kind == "keras_model":
            return {"kind": kind, "report": _keras_report(value)}
        if kind == "torch_module":
            return {"kind": kind, "report": _torch_report(value)}
        if kind == "module":
            return {"kind": kind, "module": str(getattr(value, "__name__", ""))}
        return {"kind": kind, "type": type(value).__qualname__}
    if op == "call":
        fn = ns[name]
        args = _arg(req.get("args", ()), ns)
        kwargs = _arg(req.get("kwargs", {}), ns)
        subs = req.get("substitutes") or {}
        if subs:
            return {"result": call_with(fn, subs, *args, **kwargs)}
        return {"result": fn(*args, **kwargs)}
    if op == "call_many":
        fn = ns[name]
        results = []
        for args in req["calls"]:
            try:
                results.append({"result": fn(*_arg(args, ns))})
            except Exception as err:  # noqa: BLE001
                results.append({"error": {"type": type(err).__name__, "message": str(err)[:2000]}})
        return {"results": results}
    if op == "run_torch_modules":
        return {"result": _run_torch_modules(ns[name], [(str(p), x) for p, x in req["runs"]])}
    if op == "run_model":
        model = ns[name]
        x = req["x"]
        return {"result": model.predict_on_batch(x)}  # a compiled graph: an eager call runs 500 steps op by op
    raise ValueError(f"unknown request {op!r}")
