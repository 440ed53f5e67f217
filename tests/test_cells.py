"""Tests of the NumPy reference cells on their own (framework comparisons: test_cells_vs_frameworks.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lstm_course import cells

BATCH, T, X, H = 3, 6, 5, 4


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def xs(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(size=(BATCH, T, X))


def test_sigmoid_values_and_extremes() -> None:
    """Does sigmoid give 1/2 at 0, stay symmetric, and saturate without overflow warnings?"""
    z = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = cells.sigmoid(z)
    np.testing.assert_allclose(s, [0.0, 1 / (1 + np.exp(2.0)), 0.5, 1 / (1 + np.exp(-2.0)), 1.0])
    np.testing.assert_allclose(cells.sigmoid(-z), 1 - s)


def test_rnn_cell_by_hand() -> None:
    """Does the RNN step compute tanh(x W + h U + b) on a case small enough to check by hand?"""
    p = {"W": np.array([[2.0]]), "U": np.array([[0.5]]), "b": np.array([-1.0])}
    h_t = cells.rnn_cell(np.array([[1.0]]), np.array([[2.0]]), p)
    np.testing.assert_allclose(h_t, np.tanh([[2.0 + 1.0 - 1.0]]))


def test_lstm_gates_are_consistent(rng: np.random.Generator, xs: np.ndarray) -> None:
    """Do the returned gates satisfy c = f c_prev + i c~ and h = o tanh(c), with gates in (0, 1)?"""
    p = cells.init_lstm_params(X, H, rng)
    h_prev, c_prev = rng.normal(size=(BATCH, H)), rng.normal(size=(BATCH, H))
    g = cells.lstm_cell_gates(xs[:, 0], h_prev, c_prev, p)
    assert set(g) == {"f", "i", "c_tilde", "o", "c", "h"}
    for name in ("f", "i", "o"):
        assert np.all((g[name] > 0) & (g[name] < 1))
    assert np.all(np.abs(g["c_tilde"]) < 1)
    np.testing.assert_allclose(g["c"], g["f"] * c_prev + g["i"] * g["c_tilde"])
    np.testing.assert_allclose(g["h"], g["o"] * np.tanh(g["c"]))
    h_t, c_t = cells.lstm_cell(xs[:, 0], h_prev, c_prev, p)
    np.testing.assert_array_equal(h_t, g["h"])
    np.testing.assert_array_equal(c_t, g["c"])


def test_lstm_open_forget_gate_keeps_the_cell(rng: np.random.Generator, xs: np.ndarray) -> None:
    """With the forget gate open and the input gate shut, does c_T stay equal to c_0 over the whole sequence?"""
    p = cells.init_lstm_params(X, H, rng)
    p["b_f"] = np.full(H, 60.0)  # f ~ 1
    p["b_i"] = np.full(H, -60.0)  # i ~ 0
    c0 = rng.normal(size=(BATCH, H))
    _, _, c_T = cells.lstm_forward(xs, p, c0=c0)
    np.testing.assert_allclose(c_T, c0, atol=1e-12)


def test_gru_closed_update_gate_keeps_the_state(rng: np.random.Generator, xs: np.ndarray) -> None:
    """With z ~ 1, does the GRU copy h_0 through every step (h_t = z h_{t-1} + (1 - z) h~)?"""
    p = cells.init_gru_params(X, H, rng)
    p["b_z"] = np.full(H, 60.0)
    h0 = rng.normal(size=(BATCH, H))
    for reset_after in (True, False):
        hs, h_T = cells.gru_forward(xs, p, h0=h0, reset_after=reset_after)
        np.testing.assert_allclose(h_T, h0, atol=1e-12)


def test_gru_variants_agree_when_reset_is_open(rng: np.random.Generator, xs: np.ndarray) -> None:
    """With r ~ 1 and no recurrent bias, are reset_after=True and False the same GRU?"""
    p = cells.init_gru_params(X, H, rng)
    p["b_r"] = np.full(H, 60.0)
    for g in ("z", "r", "h"):
        p[f"rb_{g}"] = np.zeros(H)
    hs_after, _ = cells.gru_forward(xs, p, reset_after=True)
    hs_before, _ = cells.gru_forward(xs, p, reset_after=False)
    np.testing.assert_allclose(hs_after, hs_before, atol=1e-12)


def test_gru_reset_after_false_ignores_recurrent_biases(rng: np.random.Generator, xs: np.ndarray) -> None:
    """Are rb_* unused by the reset_after=False GRU (Keras has a single bias there)?"""
    p = cells.init_gru_params(X, H, rng)
    without_rb = {k: v for k, v in p.items() if not k.startswith("rb_")}
    np.testing.assert_array_equal(
        cells.gru_forward(xs, p, reset_after=False)[0], cells.gru_forward(xs, without_rb, reset_after=False)[0]
    )
    # ... while reset_after=True does use them:
    assert not np.allclose(cells.gru_forward(xs, p)[0], cells.gru_forward(xs, without_rb)[0])


def test_grupp_state_can_grow_without_bound(rng: np.random.Generator) -> None:
    """With f, i ~ 1 and the candidate ~ 1, does GRU++ count: h_t ~ t, unlike the bounded GRU and LSTM?"""
    steps = 50
    xs = rng.normal(size=(BATCH, steps, X))
    p = cells.init_grupp_params(X, H, rng)
    p["b_f"] = np.full(H, 60.0)
    p["b_i"] = np.full(H, 60.0)
    p["b_h"] = np.full(H, 60.0)
    p["U_f"] = p["U_i"] = p["U_h"] = np.zeros((H, H))  # keep the saturation independent of h
    hs, h_T = cells.grupp_forward(xs, p)
    np.testing.assert_allclose(hs[:, :, 0], np.broadcast_to(np.arange(1, steps + 1), (BATCH, steps)), rtol=1e-9)
    assert np.all(h_T > steps - 1)
    # the GRU and the LSTM hidden states stay in [-1, 1] whatever the weights
    big = {k: 10 * v for k, v in cells.init_gru_params(X, H, rng).items()}
    assert np.all(np.abs(cells.gru_forward(10 * xs, big)[0]) <= 1)
    big = {k: 10 * v for k, v in cells.init_lstm_params(X, H, rng).items()}
    assert np.all(np.abs(cells.lstm_forward(10 * xs, big)[0]) <= 1)


def test_grupp_cell_by_formula(rng: np.random.Generator, xs: np.ndarray) -> None:
    """Does the GRU++ step gate the un-reset candidate with i and the old state with f (CS109B's GRU++)?"""
    p = cells.init_grupp_params(X, H, rng)
    x_t, h = xs[:, 0], rng.normal(size=(BATCH, H))
    s = cells.sigmoid
    f = s(x_t @ p["W_f"] + h @ p["U_f"] + p["b_f"])
    i = s(x_t @ p["W_i"] + h @ p["U_i"] + p["b_i"])
    expected = f * h + i * np.tanh(x_t @ p["W_h"] + h @ p["U_h"] + p["b_h"])
    np.testing.assert_allclose(cells.grupp_cell(x_t, h, p), expected)


def test_grupp_with_tied_gates_is_the_gru_without_reset(rng: np.random.Generator, xs: np.ndarray) -> None:
    """Is GRU++ with i = 1 - f (negated forget weights) the GRU whose reset gate is held open?"""
    p_gru = cells.init_gru_params(X, H, rng)
    p_gru["b_r"] = np.full(H, 60.0)  # r_t = 1 in float64
    p_grupp = {"W_f": p_gru["W_z"], "U_f": p_gru["U_z"], "b_f": p_gru["b_z"],
               "W_i": -p_gru["W_z"], "U_i": -p_gru["U_z"], "b_i": -p_gru["b_z"],
               "W_h": p_gru["W_h"], "U_h": p_gru["U_h"], "b_h": p_gru["b_h"]}
    hs_gru, _ = cells.gru_forward(xs, p_gru, reset_after=False)
    np.testing.assert_allclose(cells.grupp_forward(xs, p_grupp)[0], hs_gru)


@pytest.mark.parametrize("kind", ["rnn", "gru", "gru_before", "grupp", "lstm"])
def test_loops_match_the_cells_and_shapes(kind: str, rng: np.random.Generator, xs: np.ndarray) -> None:
    """Does each sequence loop apply its cell step by step from h0, return (batch, T, h) and the last state?"""
    h0 = rng.normal(size=(BATCH, H))
    c0 = rng.normal(size=(BATCH, H))
    if kind == "rnn":
        p = cells.init_rnn_params(X, H, rng)
        hs, h_T = cells.rnn_forward(xs, p, h0=h0)
        step = lambda x_t, h: cells.rnn_cell(x_t, h, p)  # noqa: E731
    elif kind in ("gru", "gru_before"):
        reset_after = kind == "gru"
        p = cells.init_gru_params(X, H, rng)
        hs, h_T = cells.gru_forward(xs, p, h0=h0, reset_after=reset_after)
        step = lambda x_t, h: cells.gru_cell(x_t, h, p, reset_after=reset_after)  # noqa: E731
    elif kind == "grupp":
        p = cells.init_grupp_params(X, H, rng)
        hs, h_T = cells.grupp_forward(xs, p, h0=h0)
        step = lambda x_t, h: cells.grupp_cell(x_t, h, p)  # noqa: E731
    else:
        p = cells.init_lstm_params(X, H, rng)
        hs, h_T, c_T = cells.lstm_forward(xs, p, h0=h0, c0=c0)
    assert hs.shape == (BATCH, T, H)
    assert h_T.shape == (BATCH, H)
    np.testing.assert_array_equal(hs[:, -1], h_T)
    h, c = h0, c0
    for t in range(T):
        if kind == "lstm":
            h, c = cells.lstm_cell(xs[:, t], h, c, p)
        else:
            h = step(xs[:, t], h)
        np.testing.assert_allclose(hs[:, t], h)
    if kind == "lstm":
        np.testing.assert_allclose(c_T, c)


def test_loops_start_from_zero_state(rng: np.random.Generator, xs: np.ndarray) -> None:
    """Is the default initial state zeros (h0=None equals h0=0)?"""
    p = cells.init_lstm_params(X, H, rng)
    zeros = np.zeros((BATCH, H))
    np.testing.assert_array_equal(cells.lstm_forward(xs, p)[0], cells.lstm_forward(xs, p, zeros, zeros)[0])
    p = cells.init_gru_params(X, H, rng)
    np.testing.assert_array_equal(cells.gru_forward(xs, p)[0], cells.gru_forward(xs, p, zeros)[0])


def test_init_params_keys_shapes_and_seed() -> None:
    """Do the init_* helpers return the documented keys and shapes, reproducibly for one seed?"""
    expected = {
        cells.init_rnn_params: {"W": (X, H), "U": (H, H), "b": (H,)},
        cells.init_lstm_params: {
            **{f"W_{g}": (X, H) for g in "ifco"},
            **{f"U_{g}": (H, H) for g in "ifco"},
            **{f"b_{g}": (H,) for g in "ifco"},
        },
        cells.init_gru_params: {
            **{f"W_{g}": (X, H) for g in "zrh"},
            **{f"U_{g}": (H, H) for g in "zrh"},
            **{f"b_{g}": (H,) for g in "zrh"},
            **{f"rb_{g}": (H,) for g in "zrh"},
        },
        cells.init_grupp_params: {
            **{f"W_{g}": (X, H) for g in "fih"},
            **{f"U_{g}": (H, H) for g in "fih"},
            **{f"b_{g}": (H,) for g in "fih"},
        },
    }
    for init, shapes in expected.items():
        p = init(X, H, np.random.default_rng(7))
        assert {k: v.shape for k, v in p.items()} == shapes
        q = init(X, H, np.random.default_rng(7))
        for k in p:
            np.testing.assert_array_equal(p[k], q[k])
            assert np.all(np.abs(p[k]) <= 1 / np.sqrt(H))


def test_bidirectional_forward_reads_backwards(rng: np.random.Generator, xs: np.ndarray) -> None:
    """Is the second half of the bidirectional output the loop run on the reversed sequence, flipped back?"""
    p_f, p_b = cells.init_lstm_params(X, H, rng), cells.init_lstm_params(X, H, rng)
    hs, (h_f, c_f), (h_b, c_b) = cells.bidirectional_forward(cells.lstm_forward, xs, p_f, p_b)
    assert hs.shape == (BATCH, T, 2 * H)
    np.testing.assert_allclose(hs[:, :, :H], cells.lstm_forward(xs, p_f)[0])
    np.testing.assert_allclose(hs[:, -1, :H], h_f)
    np.testing.assert_allclose(hs[:, 0, H:], h_b)  # the backward pass ends at t = 0
    hs_b, _, c_b_again = cells.lstm_forward(xs[:, ::-1], p_b)
    np.testing.assert_allclose(hs[:, :, H:], hs_b[:, ::-1])
    np.testing.assert_allclose(c_b, c_b_again)
    # keyword arguments reach the loop
    pg_f, pg_b = cells.init_gru_params(X, H, rng), cells.init_gru_params(X, H, rng)
    hs, (h_f,), (h_b,) = cells.bidirectional_forward(cells.gru_forward, xs, pg_f, pg_b, reset_after=False)
    np.testing.assert_allclose(hs[:, :, :H], cells.gru_forward(xs, pg_f, reset_after=False)[0])
