"""NumPy reference cells (simple RNN, GRU, GRU++, LSTM) and loops over a sequence."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

# Conventions used throughout (the same as Keras):
#   * row vectors: x_t has shape (batch, x) and is multiplied on the right, x_t @ W with W (x, h);
#   * sequences are batch-first: xs has shape (batch, T, x);
#   * parameters live in a dict with one matrix per gate, named as in the book:
#       W_* (x, h) input weights, U_* (h, h) recurrent weights, b_* (h,) biases.

Params = dict[str, np.ndarray]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-z)), computed without overflow warnings."""
    z = np.asarray(z)
    e = np.exp(-np.abs(z))  # in (0, 1], never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ----------------------------------------------------------------------------------------------
# Single time steps
# ----------------------------------------------------------------------------------------------


def rnn_cell(x_t: np.ndarray, h_prev: np.ndarray, p: Params) -> np.ndarray:
    """One step of the simple (Elman) RNN.

    h_t = tanh(x_t W + h_{t-1} U + b)
    """
    h_t = np.tanh(x_t @ p["W"] + h_prev @ p["U"] + p["b"])  # (batch, h)
    return h_t


def gru_cell(x_t: np.ndarray, h_prev: np.ndarray, p: Params, reset_after: bool = True) -> np.ndarray:
    """One step of the GRU, in the Keras/PyTorch convention (z keeps the old state).

    z_t = sigmoid(x_t W_z + b_z + h_{t-1} U_z + rb_z)              update gate
    r_t = sigmoid(x_t W_r + b_r + h_{t-1} U_r + rb_r)              reset gate
    reset_after=True  (Keras default, PyTorch, cuDNN):
        h~_t = tanh(x_t W_h + b_h + r_t * (h_{t-1} U_h + rb_h))
    reset_after=False (Cho et al. 2014):
        h~_t = tanh(x_t W_h + b_h + (r_t * h_{t-1}) U_h)
    h_t = z_t * h_{t-1} + (1 - z_t) * h~_t

    The recurrent biases rb_* are used only when reset_after=True (Keras has a
    single bias otherwise); they may be zero or missing.
    """
    h = h_prev.shape[-1]
    zeros = np.zeros(h, dtype=h_prev.dtype)
    rb_z = p.get("rb_z", zeros) if reset_after else zeros  # (h,)
    rb_r = p.get("rb_r", zeros) if reset_after else zeros  # (h,)
    rb_h = p.get("rb_h", zeros) if reset_after else zeros  # (h,)

    z_t = sigmoid(x_t @ p["W_z"] + p["b_z"] + h_prev @ p["U_z"] + rb_z)  # (batch, h)
    r_t = sigmoid(x_t @ p["W_r"] + p["b_r"] + h_prev @ p["U_r"] + rb_r)  # (batch, h)
    if reset_after:
        h_tilde = np.tanh(x_t @ p["W_h"] + p["b_h"] + r_t * (h_prev @ p["U_h"] + rb_h))  # (batch, h)
    else:
        h_tilde = np.tanh(x_t @ p["W_h"] + p["b_h"] + (r_t * h_prev) @ p["U_h"])  # (batch, h)
    h_t = z_t * h_prev + (1.0 - z_t) * h_tilde  # (batch, h)
    return h_t


def grupp_cell(x_t: np.ndarray, h_prev: np.ndarray, p: Params) -> np.ndarray:
    """One step of "GRU++", as built in the CS109B lecture (Protopapas, Glickman and Tanner).

    f_t  = sigmoid(x_t W_f + h_{t-1} U_f + b_f)                    forget gate (the GRU's z, renamed)
    i_t  = sigmoid(x_t W_i + h_{t-1} U_i + b_i)                    input gate (the GRU's reset gate, moved)
    h~_t = tanh(x_t W_h + h_{t-1} U_h + b_h)                       candidate, computed without a reset
    h_t  = f_t * h_{t-1} + i_t * h~_t

    The GRU's reset gate no longer scales h_{t-1} inside the candidate: it gates the candidate itself
    and is called the input gate, and the GRU's tied factor 1 - z_t is gone. Three blocks (f, i and the
    candidate), the size of the GRU. f_t + i_t is not tied to 1, so |h_t| can grow without bound (up to
    t in the worst case). With i_t = 1 - f_t it is the GRU with its reset gate held open (r_t = 1).
    """
    f_t = sigmoid(x_t @ p["W_f"] + h_prev @ p["U_f"] + p["b_f"])  # (batch, h)
    i_t = sigmoid(x_t @ p["W_i"] + h_prev @ p["U_i"] + p["b_i"])  # (batch, h)
    h_tilde = np.tanh(x_t @ p["W_h"] + h_prev @ p["U_h"] + p["b_h"])  # (batch, h)
    h_t = f_t * h_prev + i_t * h_tilde  # (batch, h)
    return h_t


def lstm_cell_gates(x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, p: Params) -> dict[str, np.ndarray]:
    """One LSTM step returning every intermediate value (gates, candidate, new states).

    f_t  = sigmoid(x_t W_f + h_{t-1} U_f + b_f)                    forget gate
    i_t  = sigmoid(x_t W_i + h_{t-1} U_i + b_i)                    input gate
    c~_t = tanh(x_t W_c + h_{t-1} U_c + b_c)                       candidate cell
    o_t  = sigmoid(x_t W_o + h_{t-1} U_o + b_o)                    output gate
    c_t  = f_t * c_{t-1} + i_t * c~_t
    h_t  = o_t * tanh(c_t)

    Returns dict(f=, i=, c_tilde=, o=, c=, h=), every value (batch, h).
    """
    f_t = sigmoid(x_t @ p["W_f"] + h_prev @ p["U_f"] + p["b_f"])  # (batch, h)
    i_t = sigmoid(x_t @ p["W_i"] + h_prev @ p["U_i"] + p["b_i"])  # (batch, h)
    c_tilde = np.tanh(x_t @ p["W_c"] + h_prev @ p["U_c"] + p["b_c"])  # (batch, h)
    o_t = sigmoid(x_t @ p["W_o"] + h_prev @ p["U_o"] + p["b_o"])  # (batch, h)
    c_t = f_t * c_prev + i_t * c_tilde  # (batch, h)
    h_t = o_t * np.tanh(c_t)  # (batch, h)
    return {"f": f_t, "i": i_t, "c_tilde": c_tilde, "o": o_t, "c": c_t, "h": h_t}


def lstm_cell(x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step: returns (h_t, c_t), see `lstm_cell_gates` for the equations."""
    g = lstm_cell_gates(x_t, h_prev, c_prev, p)
    return g["h"], g["c"]


# ----------------------------------------------------------------------------------------------
# Loops over a sequence xs (batch, T, x)
# ----------------------------------------------------------------------------------------------


def _zeros_state(xs: np.ndarray, h_size: int) -> np.ndarray:
    """Zero state (batch, h) in the dtype of the inputs (float64 at least for integer inputs)."""
    dtype = np.result_type(xs.dtype, np.float32)
    return np.zeros((xs.shape[0], h_size), dtype=dtype)


def rnn_forward(xs: np.ndarray, p: Params, h0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run the simple RNN over xs (batch, T, x); returns (hs (batch, T, h), h_T (batch, h))."""
    h = _zeros_state(xs, p["U"].shape[0]) if h0 is None else h0  # (batch, h)
    hs = []
    for t in range(xs.shape[1]):
        h = rnn_cell(xs[:, t, :], h, p)  # (batch, h)
        hs.append(h)
    return np.stack(hs, axis=1), h  # (batch, T, h), (batch, h)


def gru_forward(
    xs: np.ndarray, p: Params, h0: np.ndarray | None = None, reset_after: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Run the GRU over xs (batch, T, x); returns (hs (batch, T, h), h_T (batch, h))."""
    h = _zeros_state(xs, p["U_z"].shape[0]) if h0 is None else h0  # (batch, h)
    hs = []
    for t in range(xs.shape[1]):
        h = gru_cell(xs[:, t, :], h, p, reset_after=reset_after)  # (batch, h)
        hs.append(h)
    return np.stack(hs, axis=1), h  # (batch, T, h), (batch, h)


def grupp_forward(xs: np.ndarray, p: Params, h0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run GRU++ over xs (batch, T, x); returns (hs (batch, T, h), h_T (batch, h))."""
    h = _zeros_state(xs, p["U_h"].shape[0]) if h0 is None else h0  # (batch, h)
    hs = []
    for t in range(xs.shape[1]):
        h = grupp_cell(xs[:, t, :], h, p)  # (batch, h)
        hs.append(h)
    return np.stack(hs, axis=1), h  # (batch, T, h), (batch, h)


def lstm_forward(
    xs: np.ndarray, p: Params, h0: np.ndarray | None = None, c0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the LSTM over xs (batch, T, x); returns (hs (batch, T, h), h_T (batch, h), c_T (batch, h))."""
    h_size = p["U_f"].shape[0]
    h = _zeros_state(xs, h_size) if h0 is None else h0  # (batch, h)
    c = _zeros_state(xs, h_size) if c0 is None else c0  # (batch, h)
    hs = []
    for t in range(xs.shape[1]):
        h, c = lstm_cell(xs[:, t, :], h, c, p)  # (batch, h), (batch, h)
        hs.append(h)
    return np.stack(hs, axis=1), h, c  # (batch, T, h), (batch, h), (batch, h)


# ----------------------------------------------------------------------------------------------
# Random parameters (uniform in [-1/sqrt(h), 1/sqrt(h)], the PyTorch default)
# ----------------------------------------------------------------------------------------------


def _init_gates(
    gates: tuple[str, ...], x_size: int, h_size: int, rng: np.random.Generator, bias_prefixes: tuple[str, ...] = ("b",)
) -> Params:
    """Draw W_g (x, h), U_g (h, h) and <prefix>_g (h,) for every gate g, uniform in +-1/sqrt(h)."""
    bound = 1.0 / np.sqrt(h_size)
    p: Params = {}
    for g in gates:
        p[f"W_{g}"] = rng.uniform(-bound, bound, size=(x_size, h_size))  # (x, h)
        p[f"U_{g}"] = rng.uniform(-bound, bound, size=(h_size, h_size))  # (h, h)
    for prefix in bias_prefixes:
        for g in gates:
            p[f"{prefix}_{g}"] = rng.uniform(-bound, bound, size=(h_size,))  # (h,)
    return p


def _default_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def init_rnn_params(x_size: int, h_size: int, rng: np.random.Generator | int | None = None) -> Params:
    """Random simple-RNN parameters {"W": (x, h), "U": (h, h), "b": (h,)}."""
    rng = _default_rng(rng)
    bound = 1.0 / np.sqrt(h_size)
    return {
        "W": rng.uniform(-bound, bound, size=(x_size, h_size)),  # (x, h)
        "U": rng.uniform(-bound, bound, size=(h_size, h_size)),  # (h, h)
        "b": rng.uniform(-bound, bound, size=(h_size,)),  # (h,)
    }


def init_lstm_params(x_size: int, h_size: int, rng: np.random.Generator | int | None = None) -> Params:
    """Random LSTM parameters W_i W_f W_c W_o (x, h), U_* (h, h), b_* (h,)."""
    return _init_gates(("i", "f", "c", "o"), x_size, h_size, _default_rng(rng))


def init_gru_params(x_size: int, h_size: int, rng: np.random.Generator | int | None = None) -> Params:
    """Random GRU parameters W_z W_r W_h (x, h), U_* (h, h), input biases b_* and recurrent biases rb_* (h,)."""
    return _init_gates(("z", "r", "h"), x_size, h_size, _default_rng(rng), bias_prefixes=("b", "rb"))


def init_grupp_params(x_size: int, h_size: int, rng: np.random.Generator | int | None = None) -> Params:
    """Random GRU++ parameters W_f W_i W_h (x, h), U_* (h, h), b_* (h,): three blocks, like the GRU."""
    return _init_gates(("f", "i", "h"), x_size, h_size, _default_rng(rng))


# ----------------------------------------------------------------------------------------------
# Bidirectional wrapper
# ----------------------------------------------------------------------------------------------


def bidirectional_forward(
    forward: Callable[..., tuple[np.ndarray, ...]],
    xs: np.ndarray,
    p_forward: Params,
    p_backward: Params,
    **kwargs: Any,
) -> tuple[np.ndarray, tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Run a sequence loop (rnn_forward, gru_forward, lstm_forward, ...) in both directions.

    The backward pass reads xs from the last step to the first; its outputs are flipped back so
    that step t of both halves lines up (as Keras Bidirectional and torch bidirectional=True do):
        hs = concat([hs_forward, hs_backward], axis=-1)                 # (batch, T, 2h)
    Returns (hs, final states of the forward pass, final states of the backward pass),
    the final states being tuples: (h_T,) or (h_T, c_T) for the LSTM.
    """
    hs_forward, *final_forward = forward(xs, p_forward, **kwargs)  # (batch, T, h)
    hs_backward, *final_backward = forward(xs[:, ::-1, :], p_backward, **kwargs)  # (batch, T, h), reversed time
    hs = np.concatenate([hs_forward, hs_backward[:, ::-1, :]], axis=-1)  # (batch, T, 2h)
    return hs, tuple(final_forward), tuple(final_backward)
