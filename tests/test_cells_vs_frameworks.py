"""Do the NumPy cells reproduce keras.layers.* and torch.nn.* (every step, final states) on random weights?"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_course import cells, layouts  # noqa: E402

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

BATCH, T, X, H = 3, 7, 5, 4
ATOL = 1e-5  # NumPy runs in float64, the frameworks in float32


@pytest.fixture(scope="module")
def xs() -> np.ndarray:
    """Inputs (batch, T, x) in float32, the frameworks' dtype."""
    return np.random.default_rng(0).normal(size=(BATCH, T, X)).astype(np.float32)


@pytest.fixture(scope="module")
def xs64(xs: np.ndarray) -> np.ndarray:
    return xs.astype(np.float64)


def to_numpy(a: object) -> np.ndarray:
    if hasattr(a, "detach"):
        return a.detach().numpy()
    return np.asarray(keras.ops.convert_to_numpy(a))


# ----------------------------------------------------------------------------------------------
# Keras
# ----------------------------------------------------------------------------------------------


def randomize_keras(layer: object, seed: int) -> None:
    """Replace every weight (biases too: Keras initialises them to zero) by uniform(-0.6, 0.6) noise."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-0.6, 0.6, size=w.shape).astype(np.float32) for w in layer.get_weights()])


def keras_run(layer: object, xs: np.ndarray, seed: int) -> list[np.ndarray]:
    layer.build((None,) + xs.shape[1:])
    randomize_keras(layer, seed)
    out = layer(xs)
    return [to_numpy(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.fixture(scope="module")
def keras_lstm(xs: np.ndarray) -> tuple[object, list[np.ndarray]]:
    layer = keras.layers.LSTM(H, return_sequences=True, return_state=True)
    return layer, keras_run(layer, xs, seed=1)


def test_keras_lstm(keras_lstm: tuple, xs64: np.ndarray) -> None:
    """Does lstm_forward give Keras' outputs at every step and its final h and c?"""
    layer, (hs, h_T, c_T) = keras_lstm
    p = layouts.lstm_from_keras_layer(layer)
    my_hs, my_h, my_c = cells.lstm_forward(xs64, p)
    np.testing.assert_allclose(my_hs, hs, atol=ATOL)
    np.testing.assert_allclose(my_h, h_T, atol=ATOL)
    np.testing.assert_allclose(my_c, c_T, atol=ATOL)


def test_keras_lstm_from_our_weights(xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does lstm_to_keras load our per-gate dict so that Keras computes what lstm_forward computes?"""
    p = cells.init_lstm_params(X, H, np.random.default_rng(2))
    layer = keras.layers.LSTM(H, return_sequences=True)
    layer.build((None, T, X))
    layer.set_weights([w.astype(np.float32) for w in layouts.lstm_to_keras(p)])
    np.testing.assert_allclose(to_numpy(layer(xs)), cells.lstm_forward(xs64, p)[0], atol=ATOL)


@pytest.mark.parametrize("reset_after", [True, False])
def test_keras_gru(reset_after: bool, xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does gru_forward give Keras' GRU outputs and final state, for both reset_after settings?"""
    layer = keras.layers.GRU(H, return_sequences=True, return_state=True, reset_after=reset_after)
    hs, h_T = keras_run(layer, xs, seed=3)
    p = layouts.gru_from_keras_layer(layer)
    my_hs, my_h = cells.gru_forward(xs64, p, reset_after=reset_after)
    np.testing.assert_allclose(my_hs, hs, atol=ATOL)
    np.testing.assert_allclose(my_h, h_T, atol=ATOL)
    # and back: our dict loads into a fresh layer with the same result
    fresh = keras.layers.GRU(H, return_sequences=True, reset_after=reset_after)
    fresh.build((None, T, X))
    fresh.set_weights([w.astype(np.float32) for w in layouts.gru_to_keras(p, reset_after=reset_after)])
    np.testing.assert_allclose(to_numpy(fresh(xs)), hs, atol=ATOL)


def test_keras_simple_rnn(xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does rnn_forward give keras.layers.SimpleRNN's outputs and final state?"""
    layer = keras.layers.SimpleRNN(H, return_sequences=True, return_state=True)
    hs, h_T = keras_run(layer, xs, seed=4)
    my_hs, my_h = cells.rnn_forward(xs64, layouts.rnn_from_keras_layer(layer))
    np.testing.assert_allclose(my_hs, hs, atol=ATOL)
    np.testing.assert_allclose(my_h, h_T, atol=ATOL)


def test_keras_bidirectional_lstm(xs: np.ndarray, xs64: np.ndarray) -> None:
    """Is Keras Bidirectional(LSTM) the forward and backward NumPy passes concatenated, step by step?"""
    layer = keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True, return_state=True))
    hs, h_f, c_f, h_b, c_b = keras_run(layer, xs, seed=5)
    assert hs.shape == (BATCH, T, 2 * H)
    my_hs, (my_h_f, my_c_f), (my_h_b, my_c_b) = cells.bidirectional_forward(
        cells.lstm_forward, xs64, layouts.lstm_from_keras_layer(layer), layouts.lstm_from_keras_layer(layer, reverse=True)
    )
    np.testing.assert_allclose(my_hs, hs, atol=ATOL)
    for mine, theirs in [(my_h_f, h_f), (my_c_f, c_f), (my_h_b, h_b), (my_c_b, c_b)]:
        np.testing.assert_allclose(mine, theirs, atol=ATOL)


@pytest.mark.parametrize("reset_after", [True, False])
def test_keras_bidirectional_gru_last_output(reset_after: bool, xs: np.ndarray, xs64: np.ndarray) -> None:
    """Without return_sequences, is Bidirectional(GRU) [forward h_T, backward h at the end of its pass]?"""
    layer = keras.layers.Bidirectional(keras.layers.GRU(H, reset_after=reset_after))
    (out,) = keras_run(layer, xs, seed=6)
    _, (h_f,), (h_b,) = cells.bidirectional_forward(
        cells.gru_forward,
        xs64,
        layouts.gru_from_keras_layer(layer),
        layouts.gru_from_keras_layer(layer, reverse=True),
        reset_after=reset_after,
    )
    np.testing.assert_allclose(out, np.concatenate([h_f, h_b], axis=-1), atol=ATOL)


def test_keras_two_stacked_lstms(xs: np.ndarray, xs64: np.ndarray) -> None:
    """Is a stack of two Keras LSTMs (return_sequences) the second NumPy loop run on the first one's outputs?"""
    first = keras.layers.LSTM(H, return_sequences=True)
    second = keras.layers.LSTM(H + 1, return_sequences=True, return_state=True)
    inputs = keras.Input(shape=(T, X))
    model = keras.Model(inputs, second(first(inputs)))
    randomize_keras(first, seed=7)
    randomize_keras(second, seed=8)
    hs, h_T, c_T = [to_numpy(o) for o in model(xs)]
    hs1, _, _ = cells.lstm_forward(xs64, layouts.lstm_from_keras_layer(first))
    my_hs, my_h, my_c = cells.lstm_forward(hs1, layouts.lstm_from_keras_layer(second))
    np.testing.assert_allclose(my_hs, hs, atol=ATOL)
    np.testing.assert_allclose(my_h, h_T, atol=ATOL)
    np.testing.assert_allclose(my_c, c_T, atol=ATOL)


# ----------------------------------------------------------------------------------------------
# PyTorch
# ----------------------------------------------------------------------------------------------


def randomize_torch(module: object, seed: int) -> object:
    """Every parameter uniform(-0.6, 0.6) (wider than PyTorch's default, so the gates saturate now and then)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.uniform_(-0.6, 0.6)
    return module


@pytest.fixture(scope="module")
def torch_lstm_bi2() -> object:
    """One nn.LSTM with two layers and both directions (covers layer and reverse indexing)."""
    return randomize_torch(torch.nn.LSTM(X, H, num_layers=2, bidirectional=True, batch_first=True), seed=10)


@pytest.fixture(scope="module")
def torch_gru_bi2() -> object:
    return randomize_torch(torch.nn.GRU(X, H, num_layers=2, bidirectional=True, batch_first=True), seed=11)


def test_torch_lstm(xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does lstm_forward give torch.nn.LSTM's outputs at every step and its final h and c, from a given (h0, c0)?"""
    module = randomize_torch(torch.nn.LSTM(X, H, batch_first=True), seed=12)
    rng = np.random.default_rng(13)
    h0, c0 = rng.normal(size=(1, BATCH, H)).astype(np.float32), rng.normal(size=(1, BATCH, H)).astype(np.float32)
    with torch.no_grad():
        hs, (h_n, c_n) = module(torch.from_numpy(xs), (torch.from_numpy(h0), torch.from_numpy(c0)))
    p = layouts.lstm_from_torch_module(module)
    my_hs, my_h, my_c = cells.lstm_forward(xs64, p, h0=h0[0].astype(np.float64), c0=c0[0].astype(np.float64))
    np.testing.assert_allclose(my_hs, to_numpy(hs), atol=ATOL)
    np.testing.assert_allclose(my_h, to_numpy(h_n)[0], atol=ATOL)
    np.testing.assert_allclose(my_c, to_numpy(c_n)[0], atol=ATOL)


def test_torch_lstm_from_our_weights(xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does lstm_to_torch + set_torch_weights load our dict so that PyTorch computes what lstm_forward computes?"""
    p = cells.init_lstm_params(X, H, np.random.default_rng(14))
    module = torch.nn.LSTM(X, H, batch_first=True)
    layouts.set_torch_weights(module, layouts.lstm_to_torch(p))
    with torch.no_grad():
        hs, _ = module(torch.from_numpy(xs))
    np.testing.assert_allclose(to_numpy(hs), cells.lstm_forward(xs64, p)[0], atol=ATOL)


def test_torch_gru_is_reset_after(xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does gru_forward(reset_after=True) give torch.nn.GRU's outputs and final state?"""
    module = randomize_torch(torch.nn.GRU(X, H, batch_first=True), seed=15)
    with torch.no_grad():
        hs, h_n = module(torch.from_numpy(xs))
    p = layouts.gru_from_torch_module(module)
    my_hs, my_h = cells.gru_forward(xs64, p, reset_after=True)
    np.testing.assert_allclose(my_hs, to_numpy(hs), atol=ATOL)
    np.testing.assert_allclose(my_h, to_numpy(h_n)[0], atol=ATOL)
    # the other variant is really different on these weights
    assert np.abs(cells.gru_forward(xs64, p, reset_after=False)[0] - to_numpy(hs)).max() > 1e-3


def test_torch_simple_rnn(xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does rnn_forward give torch.nn.RNN's (tanh) outputs and final state?"""
    module = randomize_torch(torch.nn.RNN(X, H, batch_first=True), seed=16)
    with torch.no_grad():
        hs, h_n = module(torch.from_numpy(xs))
    my_hs, my_h = cells.rnn_forward(xs64, layouts.rnn_from_torch_module(module))
    np.testing.assert_allclose(my_hs, to_numpy(hs), atol=ATOL)
    np.testing.assert_allclose(my_h, to_numpy(h_n)[0], atol=ATOL)


def test_torch_cells(xs: np.ndarray, xs64: np.ndarray) -> None:
    """Do the readers accept nn.LSTMCell / nn.GRUCell / nn.RNNCell, and does one step match?"""
    x_t, x64 = torch.from_numpy(xs[:, 0]), xs64[:, 0]
    h0 = np.random.default_rng(17).normal(size=(BATCH, H)).astype(np.float32)
    c0 = np.random.default_rng(18).normal(size=(BATCH, H)).astype(np.float32)
    with torch.no_grad():
        lstm = randomize_torch(torch.nn.LSTMCell(X, H), seed=19)
        h, c = lstm(x_t, (torch.from_numpy(h0), torch.from_numpy(c0)))
        gru = randomize_torch(torch.nn.GRUCell(X, H), seed=20)
        h_gru = gru(x_t, torch.from_numpy(h0))
        rnn = randomize_torch(torch.nn.RNNCell(X, H), seed=21)
        h_rnn = rnn(x_t, torch.from_numpy(h0))
    my_h, my_c = cells.lstm_cell(x64, h0.astype(np.float64), c0.astype(np.float64), layouts.lstm_from_torch_module(lstm))
    np.testing.assert_allclose(my_h, to_numpy(h), atol=ATOL)
    np.testing.assert_allclose(my_c, to_numpy(c), atol=ATOL)
    my_h = cells.gru_cell(x64, h0.astype(np.float64), layouts.gru_from_torch_module(gru))
    np.testing.assert_allclose(my_h, to_numpy(h_gru), atol=ATOL)
    my_h = cells.rnn_cell(x64, h0.astype(np.float64), layouts.rnn_from_torch_module(rnn))
    np.testing.assert_allclose(my_h, to_numpy(h_rnn), atol=ATOL)


def numpy_stack(forward, module, xs64: np.ndarray, num_layers: int, bidirectional: bool):  # noqa: ANN001, ANN201
    """Run a torch-shaped stack in NumPy: layer l reads the (concatenated) outputs of layer l - 1."""
    read = {cells.lstm_forward: layouts.lstm_from_torch_module, cells.gru_forward: layouts.gru_from_torch_module}[
        forward
    ]
    inputs, finals = xs64, []
    for layer in range(num_layers):
        if bidirectional:
            inputs, final_f, final_b = cells.bidirectional_forward(
                forward, inputs, read(module, layer), read(module, layer, reverse=True)
            )
            finals += [final_f, final_b]
        else:
            inputs, *final = forward(inputs, read(module, layer))
            finals.append(tuple(final))
    return inputs, finals


def test_torch_two_layer_bidirectional_lstm(torch_lstm_bi2: object, xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does a NumPy stack reproduce nn.LSTM(num_layers=2, bidirectional=True): outputs and every h_n, c_n?"""
    with torch.no_grad():
        hs, (h_n, c_n) = torch_lstm_bi2(torch.from_numpy(xs))
    my_hs, finals = numpy_stack(cells.lstm_forward, torch_lstm_bi2, xs64, num_layers=2, bidirectional=True)
    assert to_numpy(hs).shape == (BATCH, T, 2 * H)
    np.testing.assert_allclose(my_hs, to_numpy(hs), atol=ATOL)
    # h_n, c_n: (num_layers * 2, batch, h) ordered l0 forward, l0 backward, l1 forward, l1 backward
    np.testing.assert_allclose(np.stack([f[0] for f in finals]), to_numpy(h_n), atol=ATOL)
    np.testing.assert_allclose(np.stack([f[1] for f in finals]), to_numpy(c_n), atol=ATOL)


def test_torch_two_layer_bidirectional_gru(torch_gru_bi2: object, xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does a NumPy stack reproduce nn.GRU(num_layers=2, bidirectional=True): outputs and every h_n?"""
    with torch.no_grad():
        hs, h_n = torch_gru_bi2(torch.from_numpy(xs))
    my_hs, finals = numpy_stack(cells.gru_forward, torch_gru_bi2, xs64, num_layers=2, bidirectional=True)
    np.testing.assert_allclose(my_hs, to_numpy(hs), atol=ATOL)
    np.testing.assert_allclose(np.stack([f[0] for f in finals]), to_numpy(h_n), atol=ATOL)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_torch_two_layer_stack(kind: str, xs: np.ndarray, xs64: np.ndarray) -> None:
    """Does a NumPy stack reproduce a unidirectional num_layers=2 nn.LSTM / nn.GRU?"""
    cls, forward = (torch.nn.LSTM, cells.lstm_forward) if kind == "lstm" else (torch.nn.GRU, cells.gru_forward)
    module = randomize_torch(cls(X, H, num_layers=2, batch_first=True), seed=22)
    with torch.no_grad():
        hs, state = module(torch.from_numpy(xs))
    h_n = state[0] if kind == "lstm" else state
    my_hs, finals = numpy_stack(forward, module, xs64, num_layers=2, bidirectional=False)
    np.testing.assert_allclose(my_hs, to_numpy(hs), atol=ATOL)
    np.testing.assert_allclose(np.stack([f[0] for f in finals]), to_numpy(h_n), atol=ATOL)


# ----------------------------------------------------------------------------------------------
# Across frameworks
# ----------------------------------------------------------------------------------------------


def test_keras_weights_run_in_torch(keras_lstm: tuple, xs: np.ndarray) -> None:
    """Through our dict, do Keras LSTM weights loaded into torch.nn.LSTM give Keras' outputs?"""
    layer, (hs, _, _) = keras_lstm
    module = torch.nn.LSTM(X, H, batch_first=True)
    layouts.set_torch_weights(module, layouts.lstm_to_torch(layouts.lstm_from_keras_layer(layer, dtype=None)))
    with torch.no_grad():
        torch_hs, _ = module(torch.from_numpy(xs))
    np.testing.assert_allclose(to_numpy(torch_hs), hs, atol=ATOL)


def test_torch_gru_weights_run_in_keras(torch_gru_bi2: object, xs: np.ndarray) -> None:
    """Do torch GRU weights (layer 0, backward direction) run in a Keras GRU(reset_after=True) with the same result?"""
    p = layouts.gru_from_torch_module(torch_gru_bi2, layer=0, reverse=True, dtype=np.float32)
    layer = keras.layers.GRU(H, return_sequences=True, reset_after=True)
    layer.build((None, T, X))
    layer.set_weights(layouts.gru_to_keras(p, reset_after=True))
    single = torch.nn.GRU(X, H, batch_first=True)
    layouts.set_torch_weights(single, layouts.gru_to_torch(p))
    with torch.no_grad():
        torch_hs, _ = single(torch.from_numpy(xs))
    np.testing.assert_allclose(to_numpy(layer(xs)), to_numpy(torch_hs), atol=ATOL)
