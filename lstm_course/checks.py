"""Framework-neutral checking helpers for the graded exercises (Keras and PyTorch adapters).

The hidden tests of the exercises never trust ``model.count_params()`` or ``summary()``: a
student (or a bug) can replace those. They read the weight tensors themselves, check every
shape against the one the layer's configuration implies, and count parameters from those
shapes. Every check raises ``AssertionError`` with a message a student can act on.

Main entry points:

* :func:`describe_layer` -> :class:`LayerInfo` (kind, units, sizes, flags, weight shapes, counts)
* :func:`model_layers` -> the list of layers of a Keras model or a torch module that hold weights
* :func:`expected_weight_shapes` -> the shapes a layer of a given configuration must have
* :func:`check_recurrent`, :func:`check_embedding`, :func:`check_dense` -> one layer against a spec
* :func:`check_param_counts` -> per-layer counts computed from the weight shapes
* :func:`check_same_function` -> a student's function against a reference on random inputs
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

Shape = tuple[int, ...]

RECURRENT_KINDS = ("lstm", "gru", "simple_rnn")
GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


@dataclass
class LayerInfo:
    """What a layer is, read from the framework object (never from count_params).

    kind: "lstm" | "gru" | "simple_rnn" | "embedding" | "dense" | "dropout" | "other".
    units: hidden size (recurrent), output size (dense), vector size (embedding).
    input_size: size of the input vector (recurrent, dense) or vocabulary size (embedding); None when unknown.
    return_sequences: Keras flag; None for torch (a torch RNN always returns the whole sequence).
    bidirectional: True for keras Bidirectional(...) and torch modules with bidirectional=True.
    reset_after: GRU only.
    weights: name -> shape of every weight tensor (both directions of a bidirectional layer).
    trainable_weights: names of the weights that an optimizer updates.
    """

    kind: str
    framework: str
    name: str = ""
    units: int | None = None
    input_size: int | None = None
    return_sequences: bool | None = None
    bidirectional: bool = False
    reset_after: bool | None = None
    num_layers: int = 1
    trainable: bool = True
    activation: str | None = None
    rate: float | None = None
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    weights: dict[str, Shape] = field(default_factory=dict)
    trainable_weights: list[str] = field(default_factory=list)

    @property
    def n_params(self) -> int:
        """Number of parameters, the sum of the products of the weight shapes."""
        return sum(math.prod(s) for s in self.weights.values())

    @property
    def n_trainable(self) -> int:
        """Parameters in trainable weights only."""
        return sum(math.prod(self.weights[n]) for n in self.trainable_weights)

    @property
    def n_non_trainable(self) -> int:
        return self.n_params - self.n_trainable


# ----------------------------------------------------------------------------------------------
# Expected shapes (pure arithmetic, no framework)
# ----------------------------------------------------------------------------------------------


def expected_weight_shapes(
    kind: str, units: int, input_size: int, framework: str = "keras", reset_after: bool = True, use_bias: bool = True
) -> list[Shape]:
    """Shapes of the weights of ONE direction of a layer, in the framework's order.

    Keras   LSTM/GRU/SimpleRNN: kernel (x, g*h), recurrent_kernel (h, g*h), bias (g*h,) -- GRU with
            reset_after=True: bias (2, 3h). Dense: kernel (x, units), bias (units,). Embedding: (vocab, dim).
    PyTorch LSTM/GRU/RNN: weight_ih (g*h, x), weight_hh (g*h, h), bias_ih (g*h,), bias_hh (g*h,).
            Linear: weight (units, x), bias (units,). Embedding: (vocab, dim).
    g = 4 (LSTM), 3 (GRU), 1 (simple RNN). For "embedding", input_size is the vocabulary size.
    """
    if framework not in ("keras", "torch"):
        raise ValueError(f"framework must be 'keras' or 'torch', got {framework!r}")
    h, x = int(units), int(input_size)
    if kind == "embedding":
        return [(x, h)]
    if kind == "dense":
        w = (x, h) if framework == "keras" else (h, x)
        return [w, (h,)] if use_bias else [w]
    if kind not in GATES:
        raise ValueError(f"unknown layer kind {kind!r}")
    gh = GATES[kind] * h
    if framework == "keras":
        shapes: list[Shape] = [(x, gh), (h, gh)]
        if use_bias:
            shapes.append((2, gh) if kind == "gru" and reset_after else (gh,))
        return shapes
    if kind == "gru" and not reset_after:
        raise ValueError("torch.nn.GRU always has reset_after=True")
    shapes = [(gh, x), (gh, h)]
    if use_bias:
        shapes += [(gh,), (gh,)]
    return shapes


def expected_param_count(
    kind: str, units: int, input_size: int, framework: str = "keras", reset_after: bool = True,
    bidirectional: bool = False, use_bias: bool = True,
) -> int:
    """Parameter count implied by :func:`expected_weight_shapes` (doubled for a bidirectional layer)."""
    one = sum(math.prod(s) for s in expected_weight_shapes(kind, units, input_size, framework, reset_after, use_bias))
    return 2 * one if bidirectional else one


# ----------------------------------------------------------------------------------------------
# Adapters: Keras 3 and PyTorch objects -> LayerInfo
# ----------------------------------------------------------------------------------------------


def _is_torch(obj: Any) -> bool:
    return any(c.__module__.startswith("torch") for c in type(obj).__mro__)


def _short(name: str) -> str:
    """Last part of a variable path: 'lstm/lstm_cell/kernel' -> 'kernel'."""
    return name.rsplit("/", 1)[-1].split(":")[0]


def _keras_kind(layer: Any) -> str:
    names = [c.__name__ for c in type(layer).__mro__]
    for cls, kind in (("LSTM", "lstm"), ("GRU", "gru"), ("SimpleRNN", "simple_rnn"), ("Embedding", "embedding"),
                      ("Dense", "dense"), ("Dropout", "dropout")):
        if cls in names:
            return kind
    return "other"


def _keras_weights(layer: Any, prefix: str = "") -> tuple[dict[str, Shape], list[str]]:
    trainable_ids = {id(v) for v in layer.trainable_weights}
    shapes: dict[str, Shape] = {}
    trainable: list[str] = []
    for v in layer.weights:
        name = prefix + _short(getattr(v, "path", None) or v.name)
        while name in shapes:  # keep names unique
            name += "'"
        shapes[name] = tuple(int(d) for d in v.shape)
        if id(v) in trainable_ids:
            trainable.append(name)
    return shapes, trainable


def _keras_input_size(layer: Any, kind: str) -> int | None:
    if kind == "embedding":
        return int(layer.input_dim)
    kernel = None
    for v in layer.weights:
        if _short(getattr(v, "path", None) or v.name) == "kernel":
            kernel = v
            break
    return None if kernel is None else int(kernel.shape[0])


def _keras_describe(layer: Any) -> LayerInfo:
    inner = getattr(layer, "forward_layer", None)
    bidirectional = inner is not None and hasattr(layer, "backward_layer")
    base = inner if bidirectional else layer
    kind = _keras_kind(base)
    info = LayerInfo(kind=kind, framework="keras", name=layer.name, bidirectional=bidirectional,
                     trainable=bool(layer.trainable))
    if bidirectional:
        fw, fw_t = _keras_weights(layer.forward_layer, "forward/")
        bw, bw_t = _keras_weights(layer.backward_layer, "backward/")
        info.weights, info.trainable_weights = {**fw, **bw}, fw_t + bw_t
        if not layer.trainable:
            info.trainable_weights = []
        info.return_sequences = bool(getattr(layer, "return_sequences", base.return_sequences))
    else:
        info.weights, info.trainable_weights = _keras_weights(layer)
    if kind in RECURRENT_KINDS:
        info.units = int(base.units)
        info.input_size = _keras_input_size(base, kind)
        if not bidirectional:
            info.return_sequences = bool(base.return_sequences)
        if kind == "gru":
            info.reset_after = bool(getattr(base, "reset_after", getattr(getattr(base, "cell", None), "reset_after", True)))
        cell = getattr(base, "cell", base)
        info.dropout = float(getattr(cell, "dropout", 0.0) or 0.0)
        info.recurrent_dropout = float(getattr(cell, "recurrent_dropout", 0.0) or 0.0)
    elif kind == "embedding":
        info.units = int(base.output_dim)
        info.input_size = int(base.input_dim)
    elif kind == "dense":
        info.units = int(base.units)
        info.input_size = _keras_input_size(base, kind)
        act = getattr(base, "activation", None)
        info.activation = getattr(act, "__name__", None) if act is not None else None
        folded = getattr(layer, "_ag_folded_activation", None)
        if folded and info.activation in (None, "linear"):
            info.activation = folded
    elif kind == "dropout":
        info.rate = float(base.rate)
    return info


def _torch_describe(module: Any) -> LayerInfo:
    import torch.nn as nn

    info = LayerInfo(kind="other", framework="torch", name=type(module).__name__)
    params = dict(module.named_parameters(recurse=False))
    info.weights = {n: tuple(p.shape) for n, p in params.items()}
    info.trainable_weights = [n for n, p in params.items() if p.requires_grad]
    info.trainable = bool(info.trainable_weights) or not params
    if isinstance(module, (nn.LSTM, nn.GRU, nn.RNN)):
        info.kind = "lstm" if isinstance(module, nn.LSTM) else "gru" if isinstance(module, nn.GRU) else "simple_rnn"
        info.units = int(module.hidden_size)
        info.input_size = int(module.input_size)
        info.bidirectional = bool(module.bidirectional)
        info.num_layers = int(module.num_layers)
        info.dropout = float(module.dropout)
        if info.kind == "gru":
            info.reset_after = True
    elif isinstance(module, nn.Embedding):
        info.kind = "embedding"
        info.units, info.input_size = int(module.embedding_dim), int(module.num_embeddings)
    elif isinstance(module, nn.Linear):
        info.kind = "dense"
        info.units, info.input_size = int(module.out_features), int(module.in_features)
    elif isinstance(module, nn.Dropout):
        info.kind = "dropout"
        info.rate = float(module.p)
    return info


def _linear(layer: Any) -> bool:
    """Is this a Keras layer whose own activation is the identity (so a following Activation can be folded in)?"""
    act = getattr(layer, "activation", None)
    return _keras_kind(layer) == "dense" and getattr(act, "__name__", None) in (None, "linear") and \
        not getattr(layer, "_ag_folded_activation", None)


def describe_layer(layer: Any) -> LayerInfo:
    """LayerInfo of a Keras layer (incl. Bidirectional) or a torch module (its own parameters only)."""
    return _torch_describe(layer) if _is_torch(layer) else _keras_describe(layer)


def model_layers(model: Any, with_weights_only: bool = False) -> list[Any]:
    """Layers of a Keras Sequential/functional model (no InputLayer) or leaf modules of a torch module.

    with_weights_only=True keeps only the layers that own weights (drops Dropout, activations ...).
    """
    if _is_torch(model):
        layers = [m for m in model.modules() if not list(m.children())]
        if with_weights_only:
            layers = [m for m in layers if list(m.parameters(recurse=False))]
        return layers
    layers = []
    for lay in model.layers:
        if type(lay).__name__ == "InputLayer":
            continue
        act_name = getattr(getattr(lay, "activation", None), "__name__", None)
        if type(lay).__name__ == "Activation" and layers and (
                _linear(layers[-1]) or getattr(layers[-1], "_ag_folded_activation", None) == act_name):
            # Dense(1) followed by Activation("sigmoid") computes what Dense(1, activation="sigmoid") computes,
            # with the same parameters: read the pair as one layer (the same way on every call)
            object.__setattr__(layers[-1], "_ag_folded_activation", act_name)
            continue
        layers.append(lay)
    if with_weights_only:
        layers = [lay for lay in layers if lay.weights]
    return layers


def output_shape(model: Any, x: Any) -> Shape:
    """Shape of the model's output for the input x, by running it (Keras: model(x), torch: model(tensor))."""
    if _is_torch(model):
        import torch

        with torch.no_grad():
            out = model(torch.as_tensor(np.asarray(x)))
        if isinstance(out, (tuple, list)):
            out = out[0]
        return tuple(out.shape)
    out = model(np.asarray(x), training=False)
    return tuple(int(d) for d in np.shape(out))


# ----------------------------------------------------------------------------------------------
# Checks (raise AssertionError)
# ----------------------------------------------------------------------------------------------


def _shapes_of_direction(info: LayerInfo, prefix: str) -> list[Shape]:
    if info.bidirectional and info.framework == "keras":
        return [s for n, s in info.weights.items() if n.startswith(prefix)]
    if info.framework == "torch" and info.kind in RECURRENT_KINDS:
        suffix = "_reverse" if prefix == "backward/" else ""
        names = [f"{w}_l0{suffix}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        return [info.weights[n] for n in names if n in info.weights]
    return list(info.weights.values())


def check_weight_shapes(info: LayerInfo, expected: Sequence[Shape], what: str = "layer") -> None:
    """Every direction of the layer has exactly the expected weight shapes (in order)."""
    expected = [tuple(s) for s in expected]
    directions = ["forward/", "backward/"] if info.bidirectional else [""]
    for d in directions:
        got = _shapes_of_direction(info, d)
        assert got == expected, f"{what}{' (' + d[:-1] + ')' if d else ''}: weight shapes {got}, expected {expected}"


def check_recurrent(
    layer: Any,
    kind: str,
    units: int,
    input_size: int,
    return_sequences: bool | None = None,
    bidirectional: bool = False,
    reset_after: bool | None = None,
    what: str = "recurrent layer",
) -> LayerInfo:
    """Kind, units, direction, return_sequences and the weight shapes of an LSTM/GRU/SimpleRNN layer.

    Keras LSTM: kernel (x, 4h), recurrent_kernel (h, 4h), bias (4h,), per direction.
    """
    info = describe_layer(layer)
    assert info.kind == kind, f"{what}: expected a {kind.upper()} layer, found {info.kind} ({info.name})"
    assert info.bidirectional == bidirectional, (
        f"{what}: bidirectional should be {bidirectional}, is {info.bidirectional}")
    assert info.units == units, f"{what}: {units} units expected, found {info.units}"
    assert info.input_size == input_size, f"{what}: input size {input_size} expected, found {info.input_size}"
    if return_sequences is not None and info.framework == "keras":
        assert info.return_sequences == return_sequences, (
            f"{what}: return_sequences should be {return_sequences}, is {info.return_sequences}")
    ra = True if reset_after is None else reset_after
    if kind == "gru" and reset_after is not None:
        assert info.reset_after == reset_after, f"{what}: reset_after should be {reset_after}"
    if kind == "gru" and reset_after is None:
        ra = bool(info.reset_after)
    check_weight_shapes(info, expected_weight_shapes(kind, units, input_size, info.framework, ra), what)
    return info


def check_embedding(layer: Any, vocab: int, dim: int, trainable: bool | None = None, what: str = "embedding") -> LayerInfo:
    """An Embedding with a (vocab, dim) table; optionally frozen (trainable=False) or trainable."""
    info = describe_layer(layer)
    assert info.kind == "embedding", f"{what}: expected an Embedding layer, found {info.kind} ({info.name})"
    assert info.input_size == vocab, f"{what}: vocabulary of {vocab} expected, found {info.input_size}"
    assert info.units == dim, f"{what}: vectors of size {dim} expected, found {info.units}"
    check_weight_shapes(info, [(vocab, dim)], what)
    if trainable is not None:
        got = info.n_trainable > 0
        assert got == trainable, f"{what}: trainable should be {trainable}; {info.n_trainable} trainable weights found"
    return info


def check_dense(layer: Any, units: int, input_size: int, activation: str | None = None, what: str = "dense") -> LayerInfo:
    """A Dense/Linear layer of `units` outputs on `input_size` inputs, optionally with that activation (Keras)."""
    info = describe_layer(layer)
    assert info.kind == "dense", f"{what}: expected a Dense layer, found {info.kind} ({info.name})"
    assert info.units == units, f"{what}: {units} units expected, found {info.units}"
    assert info.input_size == input_size, f"{what}: {input_size} inputs expected, found {info.input_size}"
    check_weight_shapes(info, expected_weight_shapes("dense", units, input_size, info.framework), what)
    if activation is not None and info.framework == "keras":
        assert info.activation == activation, f"{what}: activation {activation!r} expected, found {info.activation!r}"
    return info


def param_counts(model: Any) -> list[tuple[str, int]]:
    """(layer name, parameter count from the weight shapes) for every layer that has weights."""
    return [(describe_layer(lay).name, describe_layer(lay).n_params) for lay in model_layers(model, with_weights_only=True)]


def check_param_counts(model: Any, expected: Sequence[int], trainable: Sequence[int] | None = None,
                       what: str = "model") -> None:
    """Per-layer parameter counts, computed from the weight shapes (not count_params), equal `expected`.

    Only layers with weights are listed (Embedding, LSTM, Dense ...; not Dropout).
    trainable: optional per-layer trainable counts.
    """
    infos = [describe_layer(lay) for lay in model_layers(model, with_weights_only=True)]
    got = [i.n_params for i in infos]
    assert got == list(expected), f"{what}: per-layer parameter counts {got}, expected {list(expected)}"
    if trainable is not None:
        got_t = [i.n_trainable for i in infos]
        assert got_t == list(trainable), f"{what}: per-layer trainable counts {got_t}, expected {list(trainable)}"


def total_params(model: Any) -> tuple[int, int]:
    """(total, trainable) parameters of a model, summed from weight shapes."""
    infos = [describe_layer(lay) for lay in model_layers(model, with_weights_only=True)]
    return sum(i.n_params for i in infos), sum(i.n_trainable for i in infos)


def check_kinds(model: Any, kinds: Sequence[str], what: str = "model") -> list[Any]:
    """The model's layers, in order, are of these kinds (e.g. ["embedding", "lstm", "dense"]); returns the layers.

    Dropout layers are listed too; a kind "bi-lstm" means Bidirectional(LSTM).
    """
    layers = model_layers(model)
    got = []
    for lay in layers:
        info = describe_layer(lay)
        got.append(("bi-" if info.bidirectional else "") + info.kind)
    assert got == list(kinds), f"{what}: layers {got}, expected {list(kinds)}"
    return layers


def check_shape(array: Any, shape: Sequence[int | None], what: str = "array") -> None:
    """np.shape(array) matches shape; None in shape matches any size."""
    got = tuple(np.shape(array))
    assert len(got) == len(shape) and all(e is None or g == e for g, e in zip(got, shape)), (
        f"{what}: shape {got}, expected {tuple(shape)}")


def weights_snapshot(layer: Any) -> list[np.ndarray]:
    """Copies of a layer's weights (Keras layer or torch module) to compare before and after training."""
    if _is_torch(layer):
        return [p.detach().cpu().numpy().copy() for p in layer.parameters()]
    return [np.array(w, copy=True) for w in layer.get_weights()]


def check_unchanged(before: Sequence[np.ndarray], after: Sequence[np.ndarray], what: str = "weights") -> None:
    """The weights are exactly equal (a frozen layer after training)."""
    assert len(before) == len(after), f"{what}: number of weight tensors changed"
    for a, b in zip(before, after):
        assert np.array_equal(a, b), f"{what}: changed although the layer should be frozen"


def check_same_function(
    student: Callable[..., Any],
    reference: Callable[..., Any],
    make_inputs: Callable[[np.random.Generator], tuple],
    trials: int = 20,
    seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    what: str | None = None,
) -> None:
    """student(*args) == reference(*args) for `trials` random argument tuples from make_inputs(rng).

    Results may be numbers, arrays or tuples/lists of them; compared with np.allclose (exactly for ints).
    The student's function is called through :func:`lstm_course.grading.call_many`: in the trusted checker
    the trials cost one request to the student's kernel instead of one each.
    """
    from lstm_course import grading

    rng = np.random.default_rng(seed)
    name = what or getattr(student, "__name__", "function")
    cases = []
    for _ in range(trials):
        args = make_inputs(rng)
        cases.append((args, reference(*args)))
    results = grading.call_many(student, [args for args, _ in cases])
    for (args, want), got in zip(cases, results):
        _assert_close(got, want, rtol, atol, f"{name}{_fmt_args(args)}")


def _fmt_args(args: Iterable[Any]) -> str:
    parts = []
    for a in args:
        parts.append(f"<array {np.shape(a)}>" if isinstance(a, np.ndarray) else repr(a) if not isinstance(a, dict) else "<dict>")
    return "(" + ", ".join(parts) + ")"


def _assert_close(got: Any, want: Any, rtol: float, atol: float, where: str) -> None:
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), (
            f"{where}: expected a sequence of {len(want)} results, got {type(got).__name__}")
        for k, (g, w) in enumerate(zip(got, want)):
            _assert_close(g, w, rtol, atol, f"{where}[{k}]")
        return
    if isinstance(want, (int, np.integer)) and not isinstance(want, bool):
        assert got == want, f"{where}: got {got}, expected {want}"
        return
    g, w = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert g.shape == w.shape, f"{where}: shape {g.shape}, expected {w.shape}"
    assert np.allclose(g, w, rtol=rtol, atol=atol), (
        f"{where}: values differ (max abs difference {np.max(np.abs(g - w)):.3g})")


_LOSS_ALIASES = {"bce": "binary_crossentropy", "cce": "categorical_crossentropy",
                 "scce": "sparse_categorical_crossentropy", "mse": "mean_squared_error",
                 "mae": "mean_absolute_error", "binary_cross_entropy": "binary_crossentropy",
                 "bcewithlogitsloss": "binary_crossentropy_with_logits", "crossentropyloss": "categorical_crossentropy"}


def _snake(name: str) -> str:
    import re

    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(name)).lower()
    return _LOSS_ALIASES.get(name, _LOSS_ALIASES.get(name.replace("_", ""), name))


def compile_settings(model: Any) -> dict:
    """How a compiled Keras model trains: {"loss", "from_logits", "optimizer"} in canonical snake_case names.

    Accepts every spelling Keras accepts: loss="binary_crossentropy", keras.losses.BinaryCrossentropy(),
    keras.losses.binary_crossentropy, optimizer="adam" or keras.optimizers.Adam(1e-3).
    """
    config = getattr(model, "_ag_compile_config", None)
    if config is None:
        try:
            config = model.get_compile_config()
        except Exception:  # noqa: BLE001 - not compiled
            config = None
    assert config, "the model is not compiled: call model.compile(...) in your build function"

    def name_of(node: Any) -> tuple[str | None, dict]:
        if node is None:
            return None, {}
        if isinstance(node, str):
            return _snake(node), {}
        if isinstance(node, dict):
            inner = node.get("config")
            if node.get("class_name") == "function" and isinstance(inner, str):
                return _snake(inner), {}
            return _snake(node.get("class_name", "")), inner if isinstance(inner, dict) else {}
        return _snake(type(node).__name__), {}

    loss, loss_cfg = name_of(config.get("loss"))
    optimizer, _ = name_of(config.get("optimizer"))
    return {"loss": loss, "from_logits": bool(loss_cfg.get("from_logits", False)), "optimizer": optimizer}


def check_compile(model: Any, loss: str, optimizer: str | None = None, what: str = "model") -> dict:
    """The model is compiled with this loss (on probabilities, not logits) and, if given, this optimizer."""
    got = compile_settings(model)
    assert got["loss"] == loss, f"{what}: compiled with loss {got['loss']!r}, expected {loss!r}"
    assert not got["from_logits"], f"{what}: the loss expects logits (from_logits=True), but the model outputs " \
                                   "probabilities"
    if optimizer is not None:
        assert got["optimizer"] == optimizer, f"{what}: compiled with optimizer {got['optimizer']!r}, expected " \
                                              f"{optimizer!r}"
    return got


# ----------------------------------------------------------------------------------------------
# PyTorch text classifiers (Embedding -> LSTM/GRU -> Linear): the lstm_vs_gru_torch exercise
# ----------------------------------------------------------------------------------------------


def _modules_with_parameters(model: Any, what: str) -> tuple[list, list[str], list[str]]:
    """The modules of a torch module that hold parameters of their own, in registration order, with their kinds
    (describe_layer) and a label for messages, "kind (path)"."""
    assert _is_torch(model), f"{what}: expected a torch.nn.Module, got a {type(model).__name__}"
    parts, kinds, found = [], [], []
    for path, mod in model.named_modules():
        if not list(mod.parameters(recurse=False)):
            continue
        parts.append(mod)
        kinds.append(describe_layer(mod).kind)
        found.append(f"{kinds[-1]} ({path or 'the model itself'})")
    return parts, kinds, found


def torch_classifier_parts(model: Any, kind: str, what: str = "model") -> tuple[Any, Any, Any]:
    """(embedding, recurrent module, linear head) of a torch module made of exactly these three modules with
    parameters, in the order they were registered. Parameters of the model's own class, or any other module
    with parameters, fail the check (module settings are read, never methods of the student's class)."""
    if kind not in ("lstm", "gru", "simple_rnn"):
        raise ValueError(f"kind must be 'lstm', 'gru' or 'simple_rnn', got {kind!r}")
    parts, kinds, found = _modules_with_parameters(model, what)
    assert kinds == ["embedding", kind, "dense"], (
        f"{what}: the modules with parameters are {found or 'none'}; expected an Embedding, a "
        f"{'RNN' if kind == 'simple_rnn' else kind.upper()} and a Linear, in that order, and nothing else")
    return parts[0], parts[1], parts[2]


def torch_classifier_logits(emb: Any, rnn: Any, head: Any, x: Any) -> Any:
    """What Embedding -> recurrent module -> Linear on the last layer's final hidden state (h_n[-1]) computes for
    the integer sequences x (batch, steps), in evaluation mode and without gradients: (batch, out_features)."""
    import torch

    from lstm_course import grading

    with grading.evaluation(emb, rnn, head):
        vectors = emb(torch.as_tensor(np.asarray(x), dtype=torch.long))  # (batch, steps, embedding)
        if not rnn.batch_first:
            vectors = vectors.transpose(0, 1)  # (steps, batch, embedding)
        _, state = rnn(vectors)
        h_n = state[0] if isinstance(state, tuple) else state  # (layers * directions, batch, hidden)
        return head(h_n[-1])  # (batch, out_features)


def torch_reference_training(emb: Any, rnn: Any, head: Any, x: Any, y: Any, x_val: Any, y_val: Any,
                             epochs: int) -> dict[str, list[float]]:
    """Train COPIES of the three parts (the originals are left alone) on one batch holding all of x, the way the
    lstm_vs_gru_torch notebook asks: Adam with its defaults, BCEWithLogitsLoss on the logits, per epoch zero_grad,
    backward and step. Returns the history the notebook's train_model must return for the same start: "loss" (the
    batch's loss before the epoch's step), "val_loss" and "val_accuracy" (after the step, logit > 0 = positive)."""
    import copy

    import torch

    emb, rnn, head = copy.deepcopy((emb, rnn, head))
    params = [p for part in (emb, rnn, head) for p in part.parameters()]
    optimizer = torch.optim.Adam(params)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    xb = torch.as_tensor(np.asarray(x), dtype=torch.long)
    yb = torch.as_tensor(np.asarray(y), dtype=torch.float32)
    y_val = torch.as_tensor(np.asarray(y_val), dtype=torch.float32)
    history: dict[str, list[float]] = {"loss": [], "val_loss": [], "val_accuracy": []}
    for _ in range(int(epochs)):
        for part in (emb, rnn, head):
            part.train()
        vectors = emb(xb)
        _, state = rnn(vectors if rnn.batch_first else vectors.transpose(0, 1))
        h_n = state[0] if isinstance(state, tuple) else state
        loss = loss_fn(head(h_n[-1]).squeeze(-1), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history["loss"].append(float(loss.detach()))
        logits = torch_classifier_logits(emb, rnn, head, x_val).squeeze(-1)
        history["val_loss"].append(float(loss_fn(logits, y_val)))
        history["val_accuracy"].append(float(((logits > 0).float() == y_val).float().mean()))
    return history


# ----------------------------------------------------------------------------------------------
# PyTorch text classifiers with several recurrent layers, dropout or two directions: imdb_sentiment_torch
# ----------------------------------------------------------------------------------------------


@dataclass
class TorchTextParts:
    """The parts of a torch text classifier, found by their torch.nn class: one Embedding, the recurrent modules
    in the order they were registered, one Linear head and the Dropout modules (which hold no parameters)."""

    embedding: Any
    recurrent: list
    head: Any
    dropouts: list


def torch_text_parts(model: Any, kind: str = "lstm", what: str = "model") -> TorchTextParts:
    """The Embedding, recurrent modules of `kind`, Linear and Dropout modules of a torch module, in any nesting
    and registration order. Anything else with parameters (another kind of module, a parameter of the student's
    own class) or a second Embedding or Linear fails the check with what was found."""
    if kind not in RECURRENT_KINDS:
        raise ValueError(f"kind must be one of {RECURRENT_KINDS}, got {kind!r}")
    assert _is_torch(model), f"{what}: expected a torch.nn.Module, got a {type(model).__name__}"
    found: dict[str, list] = {"embedding": [], kind: [], "dense": [], "dropout": [], "other": []}
    names = []
    for path, mod in model.named_modules():
        info = describe_layer(mod)
        has_own = bool(list(mod.parameters(recurse=False)))
        if info.kind == "dropout":
            found["dropout"].append(mod)
        elif has_own:
            found[info.kind if info.kind in found else "other"].append(mod)
            names.append(f"{info.kind} ({path or 'the model itself'})")
    label = "RNN" if kind == "simple_rnn" else kind.upper()
    assert len(found["embedding"]) == 1 and found[kind] and len(found["dense"]) == 1 and not found["other"], (
        f"{what}: the modules with parameters are {names or 'none'}; expected one Embedding, the {label} "
        "module(s) and one Linear, and nothing else")
    return TorchTextParts(found["embedding"][0], found[kind], found["dense"][0], found["dropout"])


def torch_recurrent_layers(rnns: Sequence[Any]) -> list[list[Shape]]:
    """The weight shapes of every layer and direction of a stack of torch recurrent modules, bottom up (a module
    with num_layers=3 gives three entries, as three one-layer modules do; a bidirectional layer gives the forward
    direction, then the backward one): [[weight_ih, weight_hh, bias_ih, bias_hh], ...]."""
    layers = []
    for rnn in rnns:
        shapes = {n: tuple(p.shape) for n, p in rnn.named_parameters()}
        for k in range(int(rnn.num_layers)):
            for suffix in ("", "_reverse") if rnn.bidirectional else ("",):
                names = [f"{w}_l{k}{suffix}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                layers.append([shapes[n] for n in names if n in shapes])
    return layers


def torch_text_logits(emb: Any, rnns: Sequence[Any], head: Any, x: Any, backward_first: bool = False) -> Any:
    """What Embedding -> the recurrent modules one after the other (each reading the whole output sequence of the
    one below) -> Linear on the top layer's final state computes for the integer sequences x (batch, steps), in
    evaluation mode and without gradients: (batch, out_features). The final state is h_n[-1], or for a
    bidirectional top module both directions' final states torch.cat([h_n[-2], h_n[-1]], dim=1) (forward first;
    backward_first=True puts the backward direction's first)."""
    import torch

    from lstm_course import grading

    with grading.evaluation(emb, *rnns, head):
        seq = emb(torch.as_tensor(np.asarray(x), dtype=torch.long))  # (batch, steps, embedding)
        for rnn in rnns:
            out, state = rnn(seq if rnn.batch_first else seq.transpose(0, 1))
            seq = out if rnn.batch_first else out.transpose(0, 1)  # (batch, steps, directions * hidden)
        h_n = state[0] if isinstance(state, tuple) else state  # (layers * directions, batch, hidden)
        if rnns[-1].bidirectional:
            pair = [h_n[-1], h_n[-2]] if backward_first else [h_n[-2], h_n[-1]]
            return head(torch.cat(pair, dim=1))  # (batch, out_features)
        return head(h_n[-1])  # (batch, out_features)


# ----------------------------------------------------------------------------------------------
# PyTorch character models (LSTM on scaled characters -> Linear, logits): the char_generation_torch exercise
# ----------------------------------------------------------------------------------------------


def torch_char_parts(model: Any, what: str = "model") -> tuple[Any, Any]:
    """(LSTM, linear head) of a torch module whose modules with parameters are exactly an LSTM and a Linear, in the
    order they were registered (Dropout has no parameters and is not listed). Parameters of the model's own class,
    or any other module with parameters, fail the check."""
    parts, kinds, found = _modules_with_parameters(model, what)
    assert kinds == ["lstm", "dense"], (
        f"{what}: the modules with parameters are {found or 'none'}; expected an LSTM and a Linear, in that order, "
        "and nothing else")
    return parts[0], parts[1]


def torch_char_logits(lstm: Any, head: Any, x: Any) -> Any:
    """What LSTM -> Linear on the last layer's final hidden state (h_n[-1]) computes for the windows x
    (batch, steps, features), in evaluation mode (so dropout does nothing) and without gradients:
    logits (batch, out_features)."""
    import torch

    from lstm_course import grading

    with grading.evaluation(lstm, head):
        inputs = torch.as_tensor(np.asarray(x), dtype=torch.float32)  # (batch, steps, features)
        _, (h_n, _c_n) = lstm(inputs if lstm.batch_first else inputs.transpose(0, 1))
        return head(h_n[-1])  # (batch, out_features)


def torch_char_reference_training(lstm: Any, head: Any, x: Any, y: Any, epochs: int) -> list[float]:
    """Train COPIES of the two parts (the originals are left alone) on one batch holding all of x, the way the
    char_generation_torch notebook asks, with no dropout: Adam with its defaults, CrossEntropyLoss on the logits of
    head(h_n[-1]) against the class indices y, per epoch zero_grad, backward and step. Returns the losses the
    notebook's train_model must report for the same start: per epoch, the batch's loss before its step."""
    import copy

    import torch

    lstm, head = copy.deepcopy((lstm, head))
    optimizer = torch.optim.Adam([p for part in (lstm, head) for p in part.parameters()])
    loss_fn = torch.nn.CrossEntropyLoss()
    inputs = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    targets = torch.as_tensor(np.asarray(y), dtype=torch.long)
    losses = []
    for _ in range(int(epochs)):
        lstm.train()
        head.train()
        _, (h_n, _c_n) = lstm(inputs if lstm.batch_first else inputs.transpose(0, 1))
        loss = loss_fn(head(h_n[-1]), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses
