"""Long-memory experiments: the recall-the-first-token task, small RNN/LSTM classifiers, gradient norms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported lazily so that `import lstm_course` stays cheap
    import torch

# ----------------------------------------------------------------------------------------------
# The task
# ----------------------------------------------------------------------------------------------
# A sequence is   [s, d_1, ..., d_N, q]
#   s   : the symbol to remember, one of n_symbols tokens   (ids 0 .. n_symbols-1)
#   d_k : N distractors, drawn from n_noise other tokens   (ids n_symbols .. n_symbols+n_noise-1)
#   q   : a query marker that says "answer now"            (id n_symbols+n_noise)
# The label is s. Only the first step carries information, so a model that forgets it can do no
# better than guessing: accuracy 1 / n_symbols.


@dataclass(frozen=True)
class RecallTask:
    """Sizes of the recall-the-first-token task (defaults: 4 symbols, 4 noise tokens, 9 token ids)."""

    n_symbols: int = 4
    n_noise: int = 4

    @property
    def vocab_size(self) -> int:
        """Number of token ids: symbols, noise tokens and the query marker."""
        return self.n_symbols + self.n_noise + 1

    @property
    def query_token(self) -> int:
        """Id of the final "answer now" marker."""
        return self.n_symbols + self.n_noise

    @property
    def chance_level(self) -> float:
        """Accuracy of a model that has forgotten the first token (uniform guessing)."""
        return chance_level(self.n_symbols)


def chance_level(n_symbols: int) -> float:
    """Expected accuracy of guessing among `n_symbols` equally likely classes."""
    return 1.0 / n_symbols


def recall_tokens(
    n_samples: int, n_distractors: int, rng: np.random.Generator, task: RecallTask = RecallTask()
) -> tuple[np.ndarray, np.ndarray]:
    """Draw `n_samples` sequences of the recall task with `n_distractors` noise steps.

    Returns (tokens int64 (n_samples, n_distractors + 2), labels int64 (n_samples,)); labels == tokens[:, 0].
    """
    if n_distractors < 0:
        raise ValueError(f"n_distractors must be >= 0, got {n_distractors}")
    labels = rng.integers(0, task.n_symbols, size=n_samples)  # (n,)
    noise = rng.integers(task.n_symbols, task.n_symbols + task.n_noise, size=(n_samples, n_distractors))  # (n, N)
    query = np.full((n_samples, 1), task.query_token)  # (n, 1)
    tokens = np.concatenate([labels[:, None], noise, query], axis=1).astype(np.int64)  # (n, N + 2)
    return tokens, labels.astype(np.int64)


def one_hot(tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    """One-hot encode int tokens (..., T) -> float32 (..., T, vocab_size)."""
    return np.eye(vocab_size, dtype=np.float32)[tokens]


def recall_batch(
    n_samples: int, n_distractors: int, rng: np.random.Generator, task: RecallTask = RecallTask()
) -> tuple[np.ndarray, np.ndarray]:
    """One-hot inputs float32 (n, N + 2, vocab) and labels int64 (n,) of the recall task."""
    tokens, labels = recall_tokens(n_samples, n_distractors, rng, task)
    return one_hot(tokens, task.vocab_size), labels


# ----------------------------------------------------------------------------------------------
# Models (PyTorch)
# ----------------------------------------------------------------------------------------------


def make_classifier(
    kind: str, input_size: int, hidden_size: int, num_classes: int, forget_bias: float | None = None
) -> "torch.nn.Module":
    """A recurrent layer (`kind` = "rnn" (tanh), "lstm" or "gru") read at its last step by a linear layer.

    PyTorch default initialisation; for the LSTM, `forget_bias` (e.g. 1.0, the Keras default
    `unit_forget_bias=True`) sets b_f = forget_bias (bias_ih_f = forget_bias, bias_hh_f = 0).
    """
    import torch
    from torch import nn

    class SequenceClassifier(nn.Module):
        """xs (batch, T, input_size) -> logits (batch, num_classes), from the last hidden state."""

        def __init__(self) -> None:
            super().__init__()
            layers = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
            if kind not in layers:
                raise ValueError(f"kind must be one of {sorted(layers)}, got {kind!r}")
            self.kind = kind
            self.recurrent = layers[kind](input_size, hidden_size, batch_first=True)
            self.head = nn.Linear(hidden_size, num_classes)

        def forward(self, xs: torch.Tensor) -> torch.Tensor:
            hs, _ = self.recurrent(xs)  # (batch, T, hidden)
            return self.head(hs[:, -1, :])  # (batch, num_classes)

    model = SequenceClassifier()
    if forget_bias is not None:
        if kind != "lstm":
            raise ValueError("forget_bias applies to the LSTM only")
        h = hidden_size
        with torch.no_grad():  # PyTorch gate order i, f, g, o: the forget rows are h:2h
            model.recurrent.bias_ih_l0[h : 2 * h] = forget_bias
            model.recurrent.bias_hh_l0[h : 2 * h] = 0.0
    return model


@dataclass
class TrainResult:
    """Outcome of `train_recall`: loss per step and the final test accuracy."""

    kind: str
    n_distractors: int
    losses: list[float] = field(default_factory=list)
    test_accuracy: float = float("nan")
    model: "torch.nn.Module | None" = None


def train_recall(
    kind: str,
    n_distractors: int,
    *,
    hidden_size: int = 32,
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 1e-2,
    clip_norm: float = 1.0,
    n_test: int = 1000,
    seed: int = 0,
    task: RecallTask = RecallTask(),
    forget_bias: float | None = None,
    stop_loss: float | None = 0.01,
) -> TrainResult:
    """Train a fresh classifier on freshly drawn batches of the recall task; test on `n_test` new sequences.

    Adam, cross-entropy, gradient clipping at `clip_norm` (global norm). Training stops early once the
    mean loss of the last 20 steps is below `stop_loss` (None: never). Deterministic for a given seed.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = make_classifier(kind, task.vocab_size, hidden_size, task.n_symbols, forget_bias=forget_bias)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    result = TrainResult(kind=kind, n_distractors=n_distractors)
    for _ in range(steps):
        xs, ys = recall_batch(batch_size, n_distractors, rng, task)  # (batch, N + 2, vocab), (batch,)
        logits = model(torch.from_numpy(xs))  # (batch, n_symbols)
        loss = loss_fn(logits, torch.from_numpy(ys))
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimiser.step()
        result.losses.append(loss.item())
        if stop_loss is not None and len(result.losses) >= 20 and np.mean(result.losses[-20:]) < stop_loss:
            break
    test_rng = np.random.default_rng(10_000 + seed)  # test sequences never seen in training
    xs, ys = recall_batch(n_test, n_distractors, test_rng, task)
    with torch.no_grad():
        predictions = model(torch.from_numpy(xs)).argmax(dim=1).numpy()  # (n_test,)
    result.test_accuracy = float((predictions == ys).mean())
    result.model = model
    return result


# ----------------------------------------------------------------------------------------------
# Gradient norms
# ----------------------------------------------------------------------------------------------


def input_jacobian_norms(recurrent: "torch.nn.Module", xs: "torch.Tensor", ord: int | str = 2) -> np.ndarray:
    """Norms of the Jacobians d h_T / d x_t for t = 1..T of a batch-first torch RNN/LSTM/GRU layer.

    xs: (T, x) a single sequence. Returns float64 (T,): entry t-1 is ||d h_T / d x_t|| (matrix norm
    `ord`: 2 = largest singular value, "fro" = Frobenius). The whole (h, x) Jacobian of every step
    comes from one backward pass: the sequence is copied h times along the batch and copy j
    back-propagates only unit j of h_T, so the gradient of copy j is row j of the Jacobian.
    """
    import torch

    T, x_size = xs.shape
    h_size = recurrent.hidden_size
    batch = xs.detach().unsqueeze(0).repeat(h_size, 1, 1).requires_grad_(True)  # (h, T, x)
    hs, _ = recurrent(batch)  # (h, T, h)
    h_last = hs[:, -1, :]  # (h, h): row j = copy j
    h_last.diagonal().sum().backward()  # copy j sends back d h_T[j]
    jac = batch.grad.permute(1, 0, 2)  # (T, h, x): jac[t] = d h_T / d x_t
    norms = torch.linalg.matrix_norm(jac.double(), ord=ord)  # (T,)
    return norms.numpy()


def rnn_state_jacobians(hs: np.ndarray, U: np.ndarray) -> np.ndarray:
    """Jacobians d h_T / d h_t of the simple RNN h_t = tanh(x_t W + h_{t-1} U + b), from its states.

    hs: (T, h) the states h_1..h_T of one sequence; U: (h, h). One step has Jacobian
    d h_k / d h_{k-1} = diag(1 - h_k^2) U^T (column convention: row i = unit i of h_k), so
    d h_T / d h_t = prod_{k=T}^{t+1} diag(1 - h_k^2) U^T (the factor of step T on the left).
    Returns (T, h, h): entry t-1 is d h_T / d h_t (the identity for t = T).
    """
    T, h = hs.shape
    jacs = np.empty((T, h, h))
    J = np.eye(h)  # d h_T / d h_T
    jacs[T - 1] = J
    for t in range(T - 1, 0, -1):  # from d h_T/d h_{t+1} to d h_T/d h_t (0-based: state index t-1)
        step = (1.0 - hs[t] ** 2)[:, None] * U.T  # d h_{t+1} / d h_t = diag(1 - h_{t+1}^2) U^T  (h, h)
        J = J @ step
        jacs[t - 1] = J
    return jacs
