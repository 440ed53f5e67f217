"""Tests of lstm_course.memory_task: the recall task, the classifiers and the gradient norms."""

import numpy as np
import pytest

from lstm_course import memory_task as mt
from lstm_course.cells import rnn_forward

torch = pytest.importorskip("torch")


def test_recall_tokens_shapes_and_ranges():
    """Are tokens (n, N + 2) with a symbol first, noise in between and the query marker last?"""
    task = mt.RecallTask(n_symbols=3, n_noise=5)
    tokens, labels = mt.recall_tokens(50, 7, np.random.default_rng(0), task)
    assert tokens.shape == (50, 9) and labels.shape == (50,)
    assert tokens.dtype == np.int64 and labels.dtype == np.int64
    assert np.all((tokens[:, 0] >= 0) & (tokens[:, 0] < 3))
    assert np.all((tokens[:, 1:-1] >= 3) & (tokens[:, 1:-1] < 8))
    assert task.query_token == 8
    assert np.all(tokens[:, -1] == 8)
    assert task.vocab_size == 9


def test_label_is_the_first_token():
    """Is the label exactly the first token, and does no later token reveal it?"""
    tokens, labels = mt.recall_tokens(200, 10, np.random.default_rng(1))
    np.testing.assert_array_equal(labels, tokens[:, 0])
    assert not np.isin(tokens[:, 1:], np.arange(mt.RecallTask().n_symbols)).any()


def test_zero_distractors():
    """Does N = 0 give just the symbol and the query marker?"""
    tokens, labels = mt.recall_tokens(4, 0, np.random.default_rng(2))
    assert tokens.shape == (4, 2)
    with pytest.raises(ValueError):
        mt.recall_tokens(4, -1, np.random.default_rng(2))


def test_chance_level_and_label_balance():
    """Is chance 1/n_symbols, and are labels close to uniform (so guessing really scores about chance)?"""
    task = mt.RecallTask(n_symbols=4)
    assert task.chance_level == mt.chance_level(4) == 0.25
    _, labels = mt.recall_tokens(20_000, 1, np.random.default_rng(3), task)
    freq = np.bincount(labels, minlength=4) / labels.size
    np.testing.assert_allclose(freq, 0.25, atol=0.02)


def test_one_hot_batch():
    """Is recall_batch the one-hot encoding of recall_tokens drawn with the same generator?"""
    xs, ys = mt.recall_batch(5, 3, np.random.default_rng(4))
    tokens, labels = mt.recall_tokens(5, 3, np.random.default_rng(4))
    assert xs.shape == (5, 5, 9) and xs.dtype == np.float32
    np.testing.assert_array_equal(xs.argmax(-1), tokens)
    np.testing.assert_array_equal(xs.sum(-1), 1.0)
    np.testing.assert_array_equal(ys, labels)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_classifier_output_shape(kind):
    """Does each classifier map (batch, T, vocab) to (batch, n_symbols) logits?"""
    model = mt.make_classifier(kind, 9, 8, 4)
    assert model(torch.zeros(3, 6, 9)).shape == (3, 4)


def test_forget_bias_is_set():
    """Does forget_bias set b_f = bias_ih_f + bias_hh_f (PyTorch rows h:2h) and leave other gates alone?"""
    model = mt.make_classifier("lstm", 9, 8, 4, forget_bias=3.0)
    b = (model.recurrent.bias_ih_l0 + model.recurrent.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(b[8:16], 3.0)
    assert np.all(np.abs(b[:8]) < 1.0)
    with pytest.raises(ValueError):
        mt.make_classifier("rnn", 9, 8, 4, forget_bias=1.0)


def test_training_learns_a_short_task():
    """Does a few dozen steps of training solve the task with no distractors (and record the losses)?"""
    result = mt.train_recall("lstm", 0, hidden_size=8, steps=150, lr=3e-2, n_test=200, seed=0)
    assert result.test_accuracy == 1.0
    assert 20 <= len(result.losses) <= 150


def _scalar_rnn(w: float, u: float, b: float) -> "torch.nn.RNN":
    rnn = torch.nn.RNN(1, 1, batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.fill_(w)
        rnn.weight_hh_l0.fill_(u)
        rnn.bias_ih_l0.fill_(b)
        rnn.bias_hh_l0.fill_(0.0)
    return rnn


def test_input_jacobian_norms_scalar_hand_case():
    """For a 1-unit RNN, is |dh_T/dx_t| = |w (1-h_t^2) prod_{k>t} u (1-h_k^2)| as derived by hand?"""
    w, u, b = 0.7, 0.9, 0.1
    xs = np.array([[0.5], [-1.0], [0.3], [0.0]])  # (T=4, x=1)
    h, hs = 0.0, []
    for x in xs[:, 0]:
        h = np.tanh(w * x + u * h + b)
        hs.append(h)
    d = 1.0 - np.array(hs) ** 2  # tanh' at each step
    expected = [abs(w * d[t] * np.prod(u * d[t + 1 :])) for t in range(4)]
    got = mt.input_jacobian_norms(_scalar_rnn(w, u, b), torch.tensor(xs, dtype=torch.float64).float())
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_input_jacobian_norms_match_finite_differences():
    """Does the batched one-pass Jacobian agree with central differences for a small LSTM?"""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4, batch_first=True).double()
    xs = torch.randn(5, 3, dtype=torch.float64)
    got = mt.input_jacobian_norms(lstm, xs, ord="fro")
    eps = 1e-6
    expected = []
    for t in range(5):
        cols = []
        for j in range(3):
            plus, minus = xs.clone(), xs.clone()
            plus[t, j] += eps
            minus[t, j] -= eps
            diff = lstm(plus[None])[0][0, -1] - lstm(minus[None])[0][0, -1]  # (h,)
            cols.append((diff / (2 * eps)).detach().numpy())
        expected.append(np.linalg.norm(np.stack(cols, axis=1)))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_rnn_state_jacobians_against_autograd():
    """Does the product of diag(1 - h_k^2) U^T match torch's Jacobian of h_T with respect to h_t?"""
    rng = np.random.default_rng(0)
    h_size, T = 3, 4
    p = {"W": rng.normal(size=(2, h_size)), "U": rng.normal(size=(h_size, h_size)), "b": rng.normal(size=h_size)}
    xs = rng.normal(size=(1, T, 2))
    hs, _ = rnn_forward(xs, p)
    jacs = mt.rnn_state_jacobians(hs[0], p["U"])  # (T, h, h)
    W, U, b = (torch.tensor(p[k]) for k in ("W", "U", "b"))
    for t in range(T):  # restart the loop from h_t as a leaf and differentiate h_T
        def h_T_from(h_t, t=t):
            h = h_t
            for k in range(t + 1, T):
                h = torch.tanh(torch.tensor(xs[0, k]) @ W + h @ U + b)
            return h
        expected = torch.autograd.functional.jacobian(h_T_from, torch.tensor(hs[0, t])).numpy()
        np.testing.assert_allclose(jacs[t], expected, rtol=1e-10, atol=1e-12)


def test_rnn_state_jacobians_linear_regime():
    """With tiny states (tanh' = 1), is dh_T/dh_t = (U^T)^(T-t), so a scaled orthogonal U gives norm gamma^(T-t)?"""
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)))
    U = 0.5 * q
    jacs = mt.rnn_state_jacobians(np.zeros((6, 4)), U)
    norms = np.linalg.norm(jacs, ord=2, axis=(1, 2))
    np.testing.assert_allclose(norms, 0.5 ** np.arange(5, -1, -1))
