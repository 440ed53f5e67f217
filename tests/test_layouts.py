"""Tests of the weight-layout converters (NumPy only, plus torch for the module readers)."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_course import cells, layouts

X, H = 3, 2


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(99)


def assert_same_params(p: dict, q: dict) -> None:
    assert set(p) == set(q)
    for k in p:
        np.testing.assert_array_equal(p[k], q[k], err_msg=k)


def test_lstm_keras_round_trip_and_gate_positions(rng: np.random.Generator) -> None:
    """Does lstm_to_keras put gates in the order i, f, c, o, and does lstm_from_keras undo it?"""
    p = cells.init_lstm_params(X, H, rng)
    kernel, recurrent_kernel, bias = layouts.lstm_to_keras(p)
    assert kernel.shape == (X, 4 * H) and recurrent_kernel.shape == (H, 4 * H) and bias.shape == (4 * H,)
    for k, g in enumerate("ifco"):
        np.testing.assert_array_equal(kernel[:, k * H : (k + 1) * H], p[f"W_{g}"])
        np.testing.assert_array_equal(recurrent_kernel[:, k * H : (k + 1) * H], p[f"U_{g}"])
        np.testing.assert_array_equal(bias[k * H : (k + 1) * H], p[f"b_{g}"])
    assert_same_params(layouts.lstm_from_keras(kernel, recurrent_kernel, bias), p)


def test_lstm_torch_round_trip_and_gate_positions(rng: np.random.Generator) -> None:
    """Does lstm_to_torch transpose into rows i, f, g, o with the bias in bias_ih, and lstm_from_torch undo it?"""
    p = cells.init_lstm_params(X, H, rng)
    w = layouts.lstm_to_torch(p)
    assert w["weight_ih"].shape == (4 * H, X) and w["weight_hh"].shape == (4 * H, H)
    for k, g in enumerate("ifco"):
        np.testing.assert_array_equal(w["weight_ih"][k * H : (k + 1) * H], p[f"W_{g}"].T)
        np.testing.assert_array_equal(w["weight_hh"][k * H : (k + 1) * H], p[f"U_{g}"].T)
    np.testing.assert_array_equal(w["bias_hh"], 0)
    assert_same_params(layouts.lstm_from_torch(**w), p)


def test_torch_biases_are_added(rng: np.random.Generator) -> None:
    """Are PyTorch's two biases summed into one per gate (and a missing bias read as zeros)?"""
    w_ih, w_hh = rng.normal(size=(4 * H, X)), rng.normal(size=(4 * H, H))
    b_ih, b_hh = rng.normal(size=4 * H), rng.normal(size=4 * H)
    p = layouts.lstm_from_torch(w_ih, w_hh, b_ih, b_hh)
    np.testing.assert_allclose(layouts.lstm_to_torch(p)["bias_ih"], b_ih + b_hh)
    no_bias = layouts.lstm_from_torch(w_ih, w_hh)
    np.testing.assert_array_equal(no_bias["b_f"], 0)
    rnn = layouts.rnn_from_torch(rng.normal(size=(H, X)), rng.normal(size=(H, H)), b_ih[:H], b_hh[:H])
    np.testing.assert_allclose(rnn["b"], b_ih[:H] + b_hh[:H])


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_keras_round_trip(reset_after: bool, rng: np.random.Generator) -> None:
    """Does gru_to_keras order gates z, r, h with a (2, 3h) or (3h,) bias, and does gru_from_keras undo it?"""
    p = cells.init_gru_params(X, H, rng)
    kernel, recurrent_kernel, bias = layouts.gru_to_keras(p, reset_after=reset_after)
    assert kernel.shape == (X, 3 * H) and recurrent_kernel.shape == (H, 3 * H)
    assert bias.shape == ((2, 3 * H) if reset_after else (3 * H,))
    for k, g in enumerate("zrh"):
        np.testing.assert_array_equal(kernel[:, k * H : (k + 1) * H], p[f"W_{g}"])
        np.testing.assert_array_equal(recurrent_kernel[:, k * H : (k + 1) * H], p[f"U_{g}"])
    back = layouts.gru_from_keras(kernel, recurrent_kernel, bias, reset_after=reset_after)
    if reset_after:
        assert_same_params(back, p)
    else:  # the recurrent biases have no place in the reset_after=False layout
        expected = {k: (np.zeros_like(v) if k.startswith("rb_") else v) for k, v in p.items()}
        assert_same_params(back, expected)


def test_gru_torch_round_trip_and_gate_positions(rng: np.random.Generator) -> None:
    """Does gru_to_torch put rows in the order r, z, n with bias_ih = b, bias_hh = rb, and gru_from_torch undo it?"""
    p = cells.init_gru_params(X, H, rng)
    w = layouts.gru_to_torch(p)
    assert w["weight_ih"].shape == (3 * H, X) and w["bias_hh"].shape == (3 * H,)
    for k, g in enumerate("rzh"):
        np.testing.assert_array_equal(w["weight_ih"][k * H : (k + 1) * H], p[f"W_{g}"].T)
        np.testing.assert_array_equal(w["weight_hh"][k * H : (k + 1) * H], p[f"U_{g}"].T)
        np.testing.assert_array_equal(w["bias_ih"][k * H : (k + 1) * H], p[f"b_{g}"])
        np.testing.assert_array_equal(w["bias_hh"][k * H : (k + 1) * H], p[f"rb_{g}"])
    assert_same_params(layouts.gru_from_torch(**w), p)


def test_gru_keras_to_torch_moves_z_and_r(rng: np.random.Generator) -> None:
    """Going Keras -> dict -> torch, do the first two gate blocks swap (z, r -> r, z) and the candidate stay last?"""
    kernel, recurrent_kernel = rng.normal(size=(X, 3 * H)), rng.normal(size=(H, 3 * H))
    bias = rng.normal(size=(2, 3 * H))
    w = layouts.gru_to_torch(layouts.gru_from_keras(kernel, recurrent_kernel, bias))
    np.testing.assert_array_equal(w["weight_ih"][:H], kernel[:, H : 2 * H].T)  # r
    np.testing.assert_array_equal(w["weight_ih"][H : 2 * H], kernel[:, :H].T)  # z
    np.testing.assert_array_equal(w["weight_ih"][2 * H :], kernel[:, 2 * H :].T)  # candidate
    np.testing.assert_array_equal(w["bias_hh"][:H], bias[1, H : 2 * H])


def test_gru_missing_recurrent_biases_become_zeros(rng: np.random.Generator) -> None:
    """Can a GRU dict without rb_* be exported to the reset_after layouts (zeros)?"""
    p = {k: v for k, v in cells.init_gru_params(X, H, rng).items() if not k.startswith("rb_")}
    np.testing.assert_array_equal(layouts.gru_to_keras(p, reset_after=True)[2][1], 0)
    np.testing.assert_array_equal(layouts.gru_to_torch(p)["bias_hh"], 0)


def test_gru_bias_shape_is_checked(rng: np.random.Generator) -> None:
    """Is a bias of the wrong shape for the reset_after setting refused with a clear error?"""
    kernel, recurrent_kernel = rng.normal(size=(X, 3 * H)), rng.normal(size=(H, 3 * H))
    with pytest.raises(ValueError, match="reset_after=True"):
        layouts.gru_from_keras(kernel, recurrent_kernel, np.zeros(3 * H), reset_after=True)
    with pytest.raises(ValueError, match="reset_after=False"):
        layouts.gru_from_keras(kernel, recurrent_kernel, np.zeros((2, 3 * H)), reset_after=False)


def test_rnn_round_trips(rng: np.random.Generator) -> None:
    """Do the simple-RNN converters round-trip through both layouts?"""
    p = cells.init_rnn_params(X, H, rng)
    assert_same_params(layouts.rnn_from_keras(*layouts.rnn_to_keras(p)), p)
    w = layouts.rnn_to_torch(p)
    assert w["weight_ih"].shape == (H, X)
    assert_same_params(layouts.rnn_from_torch(**w), p)


def test_use_bias_false_reads_zero_biases(rng: np.random.Generator) -> None:
    """Does a Keras layer without bias (two weight arrays) give zero biases?"""
    p = layouts.lstm_from_keras(rng.normal(size=(X, 4 * H)), rng.normal(size=(H, 4 * H)))
    np.testing.assert_array_equal(p["b_o"], 0)
    p = layouts.gru_from_keras(rng.normal(size=(X, 3 * H)), rng.normal(size=(H, 3 * H)), reset_after=False)
    np.testing.assert_array_equal(p["b_z"], 0)


def test_torch_module_reader_checks_its_arguments() -> None:
    """Are an out-of-range layer, reverse on a unidirectional module and proj_size refused?"""
    torch = pytest.importorskip("torch")
    module = torch.nn.LSTM(X, H, num_layers=2)
    with pytest.raises(ValueError, match="num_layers"):
        layouts.lstm_from_torch_module(module, layer=2)
    with pytest.raises(ValueError, match="bidirectional"):
        layouts.lstm_from_torch_module(module, reverse=True)
    with pytest.raises(ValueError, match="proj_size"):
        layouts.lstm_from_torch_module(torch.nn.LSTM(X, H + 1, proj_size=H))
    with pytest.raises(ValueError, match="single layer"):
        layouts.lstm_from_torch_module(torch.nn.LSTMCell(X, H), layer=1)


def test_torch_module_reader_layer_and_direction() -> None:
    """Does the reader pick weight_ih_l1_reverse for layer=1, reverse=True (its input is 2h wide), in float64?"""
    torch = pytest.importorskip("torch")
    module = torch.nn.GRU(X, H, num_layers=2, bidirectional=True)
    p = layouts.gru_from_torch_module(module, layer=1, reverse=True)
    assert p["W_z"].shape == (2 * H, H) and p["W_z"].dtype == np.float64
    np.testing.assert_allclose(p["W_r"], module.weight_ih_l1_reverse.detach().numpy()[:H].T)
    np.testing.assert_allclose(p["rb_h"], module.bias_hh_l1_reverse.detach().numpy()[2 * H :])
    assert layouts.gru_from_torch_module(module, dtype=None)["W_h"].dtype == np.float32


def test_set_torch_weights_checks_shapes(rng: np.random.Generator) -> None:
    """Does set_torch_weights copy into the named layer and refuse arrays of the wrong shape?"""
    torch = pytest.importorskip("torch")
    module = torch.nn.LSTM(X, H, num_layers=2, bidirectional=True)
    w = layouts.lstm_to_torch(cells.init_lstm_params(2 * H, H, rng))
    layouts.set_torch_weights(module, w, layer=1, reverse=True)
    np.testing.assert_allclose(module.weight_ih_l1_reverse.detach().numpy(), w["weight_ih"], rtol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        layouts.set_torch_weights(module, w, layer=0)  # layer 0 reads x, not 2h, features


def test_importing_the_package_loads_no_framework() -> None:
    """Does `import lstm_course` (and its math modules) stay free of TensorFlow, Keras and torch,
    while `lc.cells` etc. load on first access?"""
    import subprocess
    import sys

    code = (
        "import sys, lstm_course as lc; "
        "lc.cells.lstm_forward, lc.layouts.lstm_to_keras, lc.params.count_lstm_params; "
        "heavy = [m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
