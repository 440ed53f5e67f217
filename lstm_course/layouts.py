"""Converters between Keras, PyTorch and our NumPy per-gate parameter dicts (RNN, LSTM, GRU)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

# Weight layouts handled here (x = input size, h = units):
#
#                 Keras (row vectors, x_t @ kernel)            PyTorch (column vectors, weight_ih @ x_t)
#   LSTM          kernel (x, 4h), recurrent_kernel (h, 4h)     weight_ih (4h, x), weight_hh (4h, h)
#                 bias (4h,)              order i, f, c, o     bias_ih (4h,), bias_hh (4h,)   order i, f, g, o
#   GRU           kernel (x, 3h), recurrent_kernel (h, 3h)     weight_ih (3h, x), weight_hh (3h, h)
#                 order z, r, h                                bias_ih (3h,), bias_hh (3h,)   order r, z, n
#                 bias (2, 3h) [input; recurrent] if reset_after=True, (3h,) if False
#                                                              (PyTorch always computes reset_after=True)
#   SimpleRNN     kernel (x, h), recurrent_kernel (h, h),      weight_ih (h, x), weight_hh (h, h),
#                 bias (h,)                                    bias_ih (h,), bias_hh (h,)
#
# Our dicts (see lstm_course.cells) hold one matrix per gate in the Keras orientation:
# W_g (x, h), U_g (h, h), b_g (h,) (+ rb_g (h,) recurrent biases of the GRU).
# PyTorch's two LSTM/RNN biases only ever appear as a sum, so from_torch adds them and to_torch
# puts everything in bias_ih and zeros in bias_hh.

Params = dict[str, np.ndarray]

LSTM_KERAS_ORDER = ("i", "f", "c", "o")
LSTM_TORCH_ORDER = ("i", "f", "c", "o")  # PyTorch calls the candidate "g": i, f, g, o
GRU_KERAS_ORDER = ("z", "r", "h")
GRU_TORCH_ORDER = ("r", "z", "h")  # PyTorch calls the candidate "n": r, z, n


def _split(a: np.ndarray, gates: tuple[str, ...], axis: int) -> dict[str, np.ndarray]:
    """Split a stacked array into equal blocks along axis, one per gate name."""
    return dict(zip(gates, np.split(np.asarray(a), len(gates), axis=axis)))


def _stack(p: Params, prefix: str, gates: tuple[str, ...], axis: int) -> np.ndarray:
    """Concatenate p[prefix_g] for the gates g along axis."""
    return np.concatenate([p[f"{prefix}_{g}"] for g in gates], axis=axis)


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------


def lstm_from_keras(kernel: ArrayLike, recurrent_kernel: ArrayLike, bias: ArrayLike | None = None) -> Params:
    """Keras LSTM weights [kernel (x, 4h), recurrent_kernel (h, 4h), bias (4h,)] -> per-gate dict."""
    kernel, recurrent_kernel = np.asarray(kernel), np.asarray(recurrent_kernel)
    if bias is None:  # use_bias=False
        bias = np.zeros(kernel.shape[1], dtype=kernel.dtype)
    p: Params = {}
    for g, w in _split(kernel, LSTM_KERAS_ORDER, axis=1).items():
        p[f"W_{g}"] = w  # (x, h)
    for g, u in _split(recurrent_kernel, LSTM_KERAS_ORDER, axis=1).items():
        p[f"U_{g}"] = u  # (h, h)
    for g, b in _split(np.asarray(bias), LSTM_KERAS_ORDER, axis=0).items():
        p[f"b_{g}"] = b  # (h,)
    return p


def lstm_to_keras(p: Params) -> list[np.ndarray]:
    """Per-gate dict -> [kernel (x, 4h), recurrent_kernel (h, 4h), bias (4h,)] for `layer.set_weights`."""
    return [
        _stack(p, "W", LSTM_KERAS_ORDER, axis=1),  # (x, 4h)
        _stack(p, "U", LSTM_KERAS_ORDER, axis=1),  # (h, 4h)
        _stack(p, "b", LSTM_KERAS_ORDER, axis=0),  # (4h,)
    ]


def lstm_from_torch(
    weight_ih: ArrayLike, weight_hh: ArrayLike, bias_ih: ArrayLike | None = None, bias_hh: ArrayLike | None = None
) -> Params:
    """PyTorch LSTM weights (weight_ih (4h, x), weight_hh (4h, h), bias_ih, bias_hh (4h,)) -> per-gate dict.

    The two biases are added: b_g = bias_ih_g + bias_hh_g.
    """
    weight_ih, weight_hh = _to_numpy(weight_ih), _to_numpy(weight_hh)
    bias = _bias_sum(bias_ih, bias_hh, weight_ih.shape[0], weight_ih.dtype)
    p: Params = {}
    for g, w in _split(weight_ih, LSTM_TORCH_ORDER, axis=0).items():
        p[f"W_{g}"] = w.T  # (x, h)
    for g, u in _split(weight_hh, LSTM_TORCH_ORDER, axis=0).items():
        p[f"U_{g}"] = u.T  # (h, h)
    for g, b in _split(bias, LSTM_TORCH_ORDER, axis=0).items():
        p[f"b_{g}"] = b  # (h,)
    return p


def lstm_to_torch(p: Params) -> dict[str, np.ndarray]:
    """Per-gate dict -> dict(weight_ih (4h, x), weight_hh (4h, h), bias_ih (4h,), bias_hh (4h,) zeros)."""
    bias = _stack(p, "b", LSTM_TORCH_ORDER, axis=0)  # (4h,)
    return {
        "weight_ih": _stack(p, "W", LSTM_TORCH_ORDER, axis=1).T.copy(),  # (4h, x)
        "weight_hh": _stack(p, "U", LSTM_TORCH_ORDER, axis=1).T.copy(),  # (4h, h)
        "bias_ih": bias,  # (4h,)
        "bias_hh": np.zeros_like(bias),  # (4h,)
    }


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------


def gru_from_keras(
    kernel: ArrayLike, recurrent_kernel: ArrayLike, bias: ArrayLike | None = None, reset_after: bool = True
) -> Params:
    """Keras GRU weights -> per-gate dict (W_*, U_*, b_*, rb_* for z, r, h).

    bias is (2, 3h) = [input bias; recurrent bias] when reset_after=True, (3h,) otherwise
    (then rb_* are zeros, and unused by `cells.gru_cell`).
    """
    kernel, recurrent_kernel = np.asarray(kernel), np.asarray(recurrent_kernel)
    three_h = kernel.shape[1]
    if bias is None:  # use_bias=False
        bias = np.zeros((2, three_h) if reset_after else (three_h,), dtype=kernel.dtype)
    bias = np.asarray(bias)
    if reset_after:
        if bias.shape != (2, three_h):
            raise ValueError(f"reset_after=True expects a bias of shape (2, {three_h}), got {bias.shape}")
        input_bias, recurrent_bias = bias[0], bias[1]
    else:
        if bias.shape != (three_h,):
            raise ValueError(f"reset_after=False expects a bias of shape ({three_h},), got {bias.shape}")
        input_bias, recurrent_bias = bias, np.zeros_like(bias)
    p: Params = {}
    for g, w in _split(kernel, GRU_KERAS_ORDER, axis=1).items():
        p[f"W_{g}"] = w  # (x, h)
    for g, u in _split(recurrent_kernel, GRU_KERAS_ORDER, axis=1).items():
        p[f"U_{g}"] = u  # (h, h)
    for g, b in _split(input_bias, GRU_KERAS_ORDER, axis=0).items():
        p[f"b_{g}"] = b  # (h,)
    for g, rb in _split(recurrent_bias, GRU_KERAS_ORDER, axis=0).items():
        p[f"rb_{g}"] = rb  # (h,)
    return p


def gru_to_keras(p: Params, reset_after: bool = True) -> list[np.ndarray]:
    """Per-gate dict -> [kernel (x, 3h), recurrent_kernel (h, 3h), bias] in Keras order z, r, h.

    bias is (2, 3h) when reset_after=True, (3h,) otherwise; with reset_after=False the
    recurrent biases rb_* are dropped (the reset_after=False cell does not use them).
    """
    kernel = _stack(p, "W", GRU_KERAS_ORDER, axis=1)  # (x, 3h)
    recurrent_kernel = _stack(p, "U", GRU_KERAS_ORDER, axis=1)  # (h, 3h)
    input_bias = _stack(p, "b", GRU_KERAS_ORDER, axis=0)  # (3h,)
    if not reset_after:
        return [kernel, recurrent_kernel, input_bias]
    recurrent_bias = _stack(_with_zero_rb(p), "rb", GRU_KERAS_ORDER, axis=0)  # (3h,)
    return [kernel, recurrent_kernel, np.stack([input_bias, recurrent_bias])]  # bias (2, 3h)


def gru_from_torch(
    weight_ih: ArrayLike, weight_hh: ArrayLike, bias_ih: ArrayLike | None = None, bias_hh: ArrayLike | None = None
) -> Params:
    """PyTorch GRU weights (weight_ih (3h, x), weight_hh (3h, h), bias_ih, bias_hh (3h,), order r, z, n) -> dict.

    bias_ih becomes b_*, bias_hh becomes rb_* (PyTorch's GRU is the reset_after=True GRU).
    """
    weight_ih, weight_hh = _to_numpy(weight_ih), _to_numpy(weight_hh)
    three_h = weight_ih.shape[0]
    bias_ih = np.zeros(three_h, weight_ih.dtype) if bias_ih is None else _to_numpy(bias_ih)
    bias_hh = np.zeros(three_h, weight_ih.dtype) if bias_hh is None else _to_numpy(bias_hh)
    p: Params = {}
    for g, w in _split(weight_ih, GRU_TORCH_ORDER, axis=0).items():
        p[f"W_{g}"] = w.T  # (x, h)
    for g, u in _split(weight_hh, GRU_TORCH_ORDER, axis=0).items():
        p[f"U_{g}"] = u.T  # (h, h)
    for g, b in _split(bias_ih, GRU_TORCH_ORDER, axis=0).items():
        p[f"b_{g}"] = b  # (h,)
    for g, rb in _split(bias_hh, GRU_TORCH_ORDER, axis=0).items():
        p[f"rb_{g}"] = rb  # (h,)
    return _reorder(p, GRU_KERAS_ORDER)


def gru_to_torch(p: Params) -> dict[str, np.ndarray]:
    """Per-gate dict -> dict(weight_ih (3h, x), weight_hh (3h, h), bias_ih (3h,), bias_hh (3h,)), order r, z, n."""
    p = _with_zero_rb(p)
    return {
        "weight_ih": _stack(p, "W", GRU_TORCH_ORDER, axis=1).T.copy(),  # (3h, x)
        "weight_hh": _stack(p, "U", GRU_TORCH_ORDER, axis=1).T.copy(),  # (3h, h)
        "bias_ih": _stack(p, "b", GRU_TORCH_ORDER, axis=0),  # (3h,)
        "bias_hh": _stack(p, "rb", GRU_TORCH_ORDER, axis=0),  # (3h,)
    }


# ----------------------------------------------------------------------------------------------
# Simple RNN
# ----------------------------------------------------------------------------------------------


def rnn_from_keras(kernel: ArrayLike, recurrent_kernel: ArrayLike, bias: ArrayLike | None = None) -> Params:
    """Keras SimpleRNN weights [kernel (x, h), recurrent_kernel (h, h), bias (h,)] -> {"W", "U", "b"}."""
    kernel, recurrent_kernel = np.asarray(kernel), np.asarray(recurrent_kernel)
    bias = np.zeros(kernel.shape[1], kernel.dtype) if bias is None else np.asarray(bias)
    return {"W": kernel, "U": recurrent_kernel, "b": bias}


def rnn_to_keras(p: Params) -> list[np.ndarray]:
    """{"W", "U", "b"} -> [kernel (x, h), recurrent_kernel (h, h), bias (h,)]."""
    return [p["W"], p["U"], p["b"]]


def rnn_from_torch(
    weight_ih: ArrayLike, weight_hh: ArrayLike, bias_ih: ArrayLike | None = None, bias_hh: ArrayLike | None = None
) -> Params:
    """PyTorch RNN weights (weight_ih (h, x), weight_hh (h, h), bias_ih, bias_hh (h,)) -> {"W", "U", "b"}."""
    weight_ih, weight_hh = _to_numpy(weight_ih), _to_numpy(weight_hh)
    bias = _bias_sum(bias_ih, bias_hh, weight_ih.shape[0], weight_ih.dtype)
    return {"W": weight_ih.T, "U": weight_hh.T, "b": bias}


def rnn_to_torch(p: Params) -> dict[str, np.ndarray]:
    """{"W", "U", "b"} -> dict(weight_ih (h, x), weight_hh (h, h), bias_ih (h,), bias_hh (h,) zeros)."""
    return {
        "weight_ih": p["W"].T.copy(),  # (h, x)
        "weight_hh": p["U"].T.copy(),  # (h, h)
        "bias_ih": p["b"],  # (h,)
        "bias_hh": np.zeros_like(p["b"]),  # (h,)
    }


# ----------------------------------------------------------------------------------------------
# Reading (and writing) framework objects
# ----------------------------------------------------------------------------------------------


def _keras_direction(layer: Any, reverse: bool) -> Any:
    """The forward (or, with reverse=True, backward) layer of a Keras Bidirectional; the layer itself otherwise."""
    if hasattr(layer, "forward_layer") and hasattr(layer, "backward_layer"):
        return layer.backward_layer if reverse else layer.forward_layer
    if reverse:
        raise ValueError(f"reverse=True needs a keras.layers.Bidirectional, got {type(layer).__name__}")
    return layer


def _keras_weights(layer: Any) -> list[np.ndarray]:
    """[kernel, recurrent_kernel, bias or None] of a built Keras recurrent layer."""
    weights = [np.asarray(w) for w in layer.get_weights()]
    if len(weights) == 2:  # use_bias=False
        weights.append(None)
    if len(weights) != 3:
        raise ValueError(f"expected kernel, recurrent_kernel, bias; got {len(weights)} arrays (is the layer built?)")
    return weights


def _cast(p: Params, dtype: DTypeLike | None) -> Params:
    return {k: (np.asarray(v) if dtype is None else np.asarray(v, dtype=dtype)) for k, v in p.items()}


def lstm_from_keras_layer(layer: Any, reverse: bool = False, dtype: DTypeLike | None = np.float64) -> Params:
    """Per-gate dict of a built keras.layers.LSTM (or one direction of a Bidirectional(LSTM)).

    dtype: cast of the result (float64 by default so the NumPy reference is the precise side; None keeps it).
    """
    return _cast(lstm_from_keras(*_keras_weights(_keras_direction(layer, reverse))), dtype)


def gru_from_keras_layer(layer: Any, reverse: bool = False, dtype: DTypeLike | None = np.float64) -> Params:
    """Per-gate dict of a built keras.layers.GRU (or one direction of a Bidirectional(GRU)); reads reset_after."""
    layer = _keras_direction(layer, reverse)
    reset_after = getattr(layer, "reset_after", None)
    if reset_after is None:
        reset_after = layer.cell.reset_after
    return _cast(gru_from_keras(*_keras_weights(layer), reset_after=bool(reset_after)), dtype)


def rnn_from_keras_layer(layer: Any, reverse: bool = False, dtype: DTypeLike | None = np.float64) -> Params:
    """{"W", "U", "b"} of a built keras.layers.SimpleRNN (or one direction of a Bidirectional(SimpleRNN))."""
    return _cast(rnn_from_keras(*_keras_weights(_keras_direction(layer, reverse))), dtype)


def torch_weights(module: Any, layer: int = 0, reverse: bool = False) -> dict[str, np.ndarray | None]:
    """dict(weight_ih=, weight_hh=, bias_ih=, bias_hh=) as NumPy arrays of one layer/direction of a torch RNN.

    Works for nn.RNN/nn.LSTM/nn.GRU (names like weight_ih_l1_reverse) and for the *Cell modules.
    Biases are None when the module has bias=False.
    """
    if getattr(module, "proj_size", 0):
        raise ValueError("LSTMs with proj_size > 0 are not supported")
    is_cell = not hasattr(module, "num_layers")
    if is_cell:
        if layer != 0 or reverse:
            raise ValueError("a torch *Cell module has a single layer and direction")
        suffix = ""
    else:
        if not 0 <= layer < module.num_layers:
            raise ValueError(f"layer={layer} but the module has num_layers={module.num_layers}")
        if reverse and not module.bidirectional:
            raise ValueError("reverse=True needs a module with bidirectional=True")
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    out: dict[str, np.ndarray | None] = {}
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        t = getattr(module, name + suffix, None)
        out[name] = None if t is None else _to_numpy(t)
    return out


def lstm_from_torch_module(
    module: Any, layer: int = 0, reverse: bool = False, dtype: DTypeLike | None = np.float64
) -> Params:
    """Per-gate dict of one layer (and direction) of a torch.nn.LSTM, or of a torch.nn.LSTMCell."""
    return _cast(lstm_from_torch(**torch_weights(module, layer, reverse)), dtype)


def gru_from_torch_module(
    module: Any, layer: int = 0, reverse: bool = False, dtype: DTypeLike | None = np.float64
) -> Params:
    """Per-gate dict of one layer (and direction) of a torch.nn.GRU, or of a torch.nn.GRUCell (reset_after=True)."""
    return _cast(gru_from_torch(**torch_weights(module, layer, reverse)), dtype)


def rnn_from_torch_module(
    module: Any, layer: int = 0, reverse: bool = False, dtype: DTypeLike | None = np.float64
) -> Params:
    """{"W", "U", "b"} of one layer (and direction) of a torch.nn.RNN (tanh), or of a torch.nn.RNNCell."""
    return _cast(rnn_from_torch(**torch_weights(module, layer, reverse)), dtype)


def set_torch_weights(module: Any, weights: dict[str, np.ndarray], layer: int = 0, reverse: bool = False) -> None:
    """Copy dict(weight_ih=, weight_hh=, bias_ih=, bias_hh=) (e.g. from lstm_to_torch) into a torch module in place."""
    import torch

    is_cell = not hasattr(module, "num_layers")
    suffix = "" if is_cell else f"_l{layer}" + ("_reverse" if reverse else "")
    with torch.no_grad():
        for name, value in weights.items():
            param = getattr(module, name + suffix)
            if tuple(param.shape) != tuple(np.shape(value)):
                raise ValueError(f"{name}{suffix}: shape {tuple(np.shape(value))} != {tuple(param.shape)}")
            param.copy_(torch.as_tensor(np.asarray(value), dtype=param.dtype))


# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


def _to_numpy(a: Any) -> np.ndarray:
    """NumPy copy of an array or a torch tensor (detached, on the CPU)."""
    if hasattr(a, "detach"):  # torch.Tensor, without importing torch
        return a.detach().cpu().numpy()
    return np.asarray(a)


def _bias_sum(bias_ih: Any, bias_hh: Any, size: int, dtype: DTypeLike) -> np.ndarray:
    """bias_ih + bias_hh, a missing bias counting as zeros."""
    total = np.zeros(size, dtype=dtype)
    for b in (bias_ih, bias_hh):
        if b is not None:
            total = total + _to_numpy(b)
    return total


def _with_zero_rb(p: Params) -> Params:
    """Copy of a GRU dict with zero recurrent biases rb_* added where missing."""
    p = dict(p)
    for g in GRU_KERAS_ORDER:
        if f"rb_{g}" not in p:
            p[f"rb_{g}"] = np.zeros_like(p[f"b_{g}"])
    return p


def _reorder(p: Params, gates: tuple[str, ...]) -> Params:
    """Same dict with keys grouped W, U, b, rb and gates in the given order (for readable printing)."""
    keys = [f"{prefix}_{g}" for prefix in ("W", "U", "b", "rb") for g in gates]
    return {k: p[k] for k in keys if k in p}
