"""IMDB sentiment classifiers (single, stacked, bidirectional LSTM) in Keras and PyTorch, and one training loop for both.

The models are the family of the course slides: ``Embedding(vocab, dim) -> LSTM(units) -> Dense(1)``,
with two variations (a stack of LSTMs, a bidirectional LSTM), an optional pretrained embedding
table (frozen or fine-tuned), and ``cell="simple_rnn"`` to put a simple (Elman, tanh) RNN where the
LSTM is, for the SimpleRNN-against-LSTM comparison. Both frameworks build the same architecture
with the same parameter count up to PyTorch's second bias vector (see :mod:`lstm_course.params`).

>>> model = build_keras_classifier("bidirectional")            # doctest: +SKIP
>>> result = train_and_evaluate(model, x_train, y_train, x_test, y_test, epochs=2)  # doctest: +SKIP
>>> result.test_accuracy, result.train_seconds                  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np

Architecture = Literal["single", "stacked", "bidirectional"]
ARCHITECTURES: tuple[str, ...] = ("single", "stacked", "bidirectional")
Cell = Literal["lstm", "simple_rnn"]
#: The recurrent layer: "lstm" (keras.layers.LSTM / nn.LSTM) or "simple_rnn" (keras.layers.SimpleRNN / nn.RNN, tanh).
CELLS: tuple[str, ...] = ("lstm", "simple_rnn")


def _check_architecture(architecture: str) -> None:
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")


def _check_cell(cell: str) -> None:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")


def _check_embedding(embedding_matrix: np.ndarray | None, vocab_size: int, embed_dim: int) -> None:
    if embedding_matrix is not None and embedding_matrix.shape != (vocab_size, embed_dim):
        raise ValueError(
            f"embedding_matrix has shape {embedding_matrix.shape}, expected (vocab_size, embed_dim) = "
            f"({vocab_size}, {embed_dim})"
        )


def param_specs(
    architecture: Architecture = "single",
    vocab_size: int = 10_000,
    embed_dim: int = 32,
    units: int = 32,
    num_layers: int = 3,
    trainable_embedding: bool = True,
    cell: Cell = "lstm",
) -> list:
    """The layer specs of :mod:`lstm_course.params` describing the model the builders make."""
    from lstm_course import params as P

    _check_architecture(architecture)
    _check_cell(cell)
    Layer = P.LSTM if cell == "lstm" else P.SimpleRNN
    specs: list = [P.Embedding(vocab_size, embed_dim, trainable=trainable_embedding)]
    if architecture == "single":
        specs.append(Layer(units))
    elif architecture == "bidirectional":
        specs.append(Layer(units, bidirectional=True))
    else:
        specs += [Layer(units, return_sequences=True) for _ in range(num_layers - 1)] + [Layer(units)]
    return specs + [P.Dense(1)]


# ----------------------------------------------------------------------------------------------
# Keras
# ----------------------------------------------------------------------------------------------


def build_keras_classifier(
    architecture: Architecture = "single",
    vocab_size: int = 10_000,
    embed_dim: int = 32,
    units: int = 32,
    num_layers: int = 3,
    seq_len: int | None = None,
    embedding_matrix: np.ndarray | None = None,
    trainable_embedding: bool = True,
    mask_zero: bool = False,
    learning_rate: float = 1e-3,
    cell: Cell = "lstm",
):
    """Compiled Keras model ``Embedding -> LSTM stack -> Dense(1, sigmoid)`` for binary sentiment.

    architecture: "single" (one LSTM), "stacked" (num_layers LSTMs, all but the last with
    return_sequences=True) or "bidirectional" (Bidirectional(LSTM), outputs concatenated: 2*units).
    embedding_matrix: optional (vocab_size, embed_dim) start values (e.g. GloVe); with
    trainable_embedding=False the table stays frozen. mask_zero=True makes the LSTM skip id 0 (padding).
    cell="simple_rnn" puts keras.layers.SimpleRNN (tanh) where the LSTM is (layer names "simple_rnn...").
    Compiled with RMSprop, binary cross-entropy and accuracy.
    """
    import keras

    _check_architecture(architecture)
    _check_cell(cell)
    _check_embedding(embedding_matrix, vocab_size, embed_dim)
    Recurrent = keras.layers.LSTM if cell == "lstm" else keras.layers.SimpleRNN
    initializer = (
        keras.initializers.Constant(embedding_matrix) if embedding_matrix is not None else "uniform"
    )
    layers: list = [
        keras.Input(shape=(seq_len,), dtype="int32", name="word_ids"),
        keras.layers.Embedding(
            vocab_size,
            embed_dim,
            embeddings_initializer=initializer,
            trainable=trainable_embedding,
            mask_zero=mask_zero,
            name="embedding",
        ),
    ]
    if architecture == "single":
        layers.append(Recurrent(units, name=cell))
    elif architecture == "bidirectional":
        layers.append(keras.layers.Bidirectional(Recurrent(units), name=f"bidirectional_{cell}"))
    else:
        for k in range(num_layers):
            last = k == num_layers - 1
            layers.append(Recurrent(units, return_sequences=not last, name=f"{cell}_{k + 1}"))
    layers.append(keras.layers.Dense(1, activation="sigmoid", name="sentiment"))
    model = keras.Sequential(layers, name=f"{architecture}_{cell}")
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


# ----------------------------------------------------------------------------------------------
# PyTorch
# ----------------------------------------------------------------------------------------------


def _torch_module_class():
    """Define the torch module lazily, so that importing this file does not import torch."""
    import torch
    from torch import nn

    class TorchLSTMClassifier(nn.Module):
        """Embedding -> nn.LSTM (1..n layers, optionally bidirectional) -> Linear(1) logit.

        forward(x) takes word ids (batch, T) and returns one logit per review (batch,).
        With packed=True, sequences are packed with pack_padded_sequence so the LSTM stops at each
        review's last real word; this needs POST-padding (real words first, id-0 padding after).
        With cell="simple_rnn" the recurrent layer is an nn.RNN (tanh), stored as `self.rnn`
        instead of `self.lstm`; `self.recurrent` names whichever of the two the model has.
        """

        def __init__(
            self,
            architecture: str = "single",
            vocab_size: int = 10_000,
            embed_dim: int = 32,
            units: int = 32,
            num_layers: int = 3,
            embedding_matrix: np.ndarray | None = None,
            trainable_embedding: bool = True,
            packed: bool = False,
            cell: str = "lstm",
        ):
            super().__init__()
            _check_architecture(architecture)
            _check_cell(cell)
            _check_embedding(embedding_matrix, vocab_size, embed_dim)
            if embedding_matrix is not None:
                self.embedding = nn.Embedding.from_pretrained(
                    torch.tensor(np.asarray(embedding_matrix), dtype=torch.float32), freeze=not trainable_embedding
                )
            else:
                self.embedding = nn.Embedding(vocab_size, embed_dim)
                # the same start as Keras' "uniform" initializer, U(-0.05, 0.05)
                nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
                self.embedding.weight.requires_grad_(trainable_embedding)
            self.bidirectional = architecture == "bidirectional"
            self.packed = packed
            self.cell = cell
            recurrent = (nn.LSTM if cell == "lstm" else nn.RNN)(
                embed_dim,
                units,
                num_layers=num_layers if architecture == "stacked" else 1,
                bidirectional=self.bidirectional,
                batch_first=True,
            )
            if cell == "lstm":
                self.lstm = recurrent
            else:
                self.rnn = recurrent  # nn.RNN's default nonlinearity is tanh, like keras.layers.SimpleRNN
            self.head = nn.Linear(2 * units if self.bidirectional else units, 1)

        def final_state(self, x: "torch.Tensor") -> "torch.Tensor":
            """Summary vector of each review: (batch, units), or (batch, 2*units) if bidirectional."""
            e = self.embedding(x)  # (batch, T, embed_dim)
            if self.packed:
                lengths = (x != 0).sum(dim=1).clamp(min=1).cpu()
                e = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
            _, state = self.recurrent(e)  # LSTM: (h_n, c_n); RNN: h_n
            h_n = state[0] if self.cell == "lstm" else state  # (num_layers * directions, batch, units)
            if self.bidirectional:
                # h_n[-2]: forward direction after the LAST step; h_n[-1]: backward direction after
                # the FIRST step (it read the review right to left). Not output[:, -1]!
                return torch.cat([h_n[-2], h_n[-1]], dim=1)
            return h_n[-1]  # last layer, last step

        @property
        def recurrent(self) -> "nn.Module":
            """The recurrent layer: self.lstm (nn.LSTM) or self.rnn (nn.RNN)."""
            return self.lstm if self.cell == "lstm" else self.rnn

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            return self.head(self.final_state(x)).squeeze(-1)  # (batch,) logits

    return TorchLSTMClassifier


def build_torch_classifier(
    architecture: Architecture = "single",
    vocab_size: int = 10_000,
    embed_dim: int = 32,
    units: int = 32,
    num_layers: int = 3,
    embedding_matrix: np.ndarray | None = None,
    trainable_embedding: bool = True,
    packed: bool = False,
    cell: Cell = "lstm",
):
    """The PyTorch twin of :func:`build_keras_classifier` (returns logits; train with BCEWithLogitsLoss).

    packed=True is PyTorch's counterpart of Keras' mask_zero=True (post-padded input only).
    cell="simple_rnn" uses nn.RNN (tanh) instead of nn.LSTM.
    """
    cls = _torch_module_class()
    return cls(architecture, vocab_size, embed_dim, units, num_layers, embedding_matrix, trainable_embedding, packed,
               cell)


# ----------------------------------------------------------------------------------------------
# Training and evaluation
# ----------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """What one training run produced.

    test_accuracy: accuracy on the test set after the last epoch.
    history: per-epoch lists ("loss", "accuracy" on the training data; "test_accuracy" when
    eval_every_epoch=True, for learning curves only: never pick the epoch on the test set).
    train_seconds: wall time spent in training steps (evaluation excluded).
    """

    test_accuracy: float
    history: dict[str, list[float]] = field(default_factory=dict)
    train_seconds: float = 0.0
    epochs: int = 0
    params: int = 0
    trainable_params: int = 0
    framework: str = ""


def count_params(model: Any) -> tuple[int, int]:
    """(total, trainable) parameter counts of a Keras model or a torch module."""
    if _is_torch(model):
        total = sum(p.numel() for p in model.parameters())
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        return int(total), int(trainable)
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return int(model.count_params()), trainable


def _is_torch(model: Any) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return isinstance(model, torch.nn.Module)


def train_and_evaluate(
    model: Any,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    epochs: int = 2,
    batch_size: int = 128,
    seed: int = 0,
    eval_every_epoch: bool = False,
    learning_rate: float = 1e-3,
    verbose: int = 0,
    on_epoch_end: Callable[[dict[str, list[float]]], None] | None = None,
) -> TrainResult:
    """Train a Keras model or a torch module on (x_train, y_train); report test accuracy, history and time.

    Keras models must be compiled (the builders do it). Torch modules are trained with RMSprop
    (rho=0.9 like Keras' default) and BCEWithLogitsLoss. Seeds: the caller seeds model creation;
    `seed` fixes the shuffling of the batches. `on_epoch_end(history)` is called after each epoch's
    training, before any test evaluation (a benchmark uses it to record clocks into `history`).
    """
    x_train = np.asarray(x_train)
    y_train = np.asarray(y_train, dtype="float32")
    x_test = np.asarray(x_test)
    y_test = np.asarray(y_test, dtype="float32")
    if _is_torch(model):
        result = _train_torch(model, x_train, y_train, x_test, y_test, epochs, batch_size, seed,
                              eval_every_epoch, learning_rate, verbose, on_epoch_end)
    else:
        result = _train_keras(model, x_train, y_train, x_test, y_test, epochs, batch_size, seed,
                              eval_every_epoch, verbose, on_epoch_end)
    result.params, result.trainable_params = count_params(model)
    result.epochs = epochs
    return result


def _train_keras(model, x_train, y_train, x_test, y_test, epochs, batch_size, seed, eval_every_epoch, verbose,
                 on_epoch_end=None):
    import keras

    keras.utils.set_random_seed(seed)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if eval_every_epoch:
        history["test_accuracy"] = []
    seconds = 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        h = model.fit(x_train, y_train, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)
        seconds += time.perf_counter() - start
        history["loss"].append(float(h.history["loss"][-1]))
        history["accuracy"].append(float(h.history["accuracy"][-1]))
        if on_epoch_end is not None:
            on_epoch_end(history)
        if eval_every_epoch or epoch == epochs - 1:
            test_accuracy = float(model.evaluate(x_test, y_test, batch_size=512, verbose=0)[1])
            if eval_every_epoch:
                history["test_accuracy"].append(test_accuracy)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.4f}, "
                  f"accuracy {history['accuracy'][-1]:.4f} ({seconds:.0f} s)", flush=True)
    return TrainResult(test_accuracy=test_accuracy, history=history, train_seconds=seconds, framework="keras")


def torch_accuracy(model, x: np.ndarray, y: np.ndarray, batch_size: int = 512) -> float:
    """Accuracy of a torch classifier (logit > 0 means positive) on word ids x and 0/1 labels y."""
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(torch.as_tensor(x[i:i + batch_size], dtype=torch.long))
            correct += int(((logits > 0).numpy() == (y[i:i + batch_size] > 0.5)).sum())
    return correct / len(x)


def _train_torch(model, x_train, y_train, x_test, y_test, epochs, batch_size, seed, eval_every_epoch,
                 learning_rate, verbose, on_epoch_end=None):
    import torch

    generator = torch.Generator().manual_seed(seed)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.RMSprop(trainable, lr=learning_rate, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    xt = torch.as_tensor(x_train, dtype=torch.long)
    yt = torch.as_tensor(y_train, dtype=torch.float32)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if eval_every_epoch:
        history["test_accuracy"] = []
    seconds = 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(xt), generator=generator)
        total_loss, correct = 0.0, 0
        for i in range(0, len(xt), batch_size):
            idx = order[i:i + batch_size]
            optimizer.zero_grad()
            logits = model(xt[idx])
            loss = loss_fn(logits, yt[idx])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            correct += int(((logits.detach() > 0).float() == yt[idx]).sum())
        seconds += time.perf_counter() - start
        history["loss"].append(total_loss / len(xt))
        history["accuracy"].append(correct / len(xt))
        if on_epoch_end is not None:
            on_epoch_end(history)
        if eval_every_epoch or epoch == epochs - 1:
            test_accuracy = torch_accuracy(model, x_test, y_test)
            if eval_every_epoch:
                history["test_accuracy"].append(test_accuracy)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.4f}, "
                  f"accuracy {history['accuracy'][-1]:.4f} ({seconds:.0f} s)", flush=True)
    return TrainResult(test_accuracy=test_accuracy, history=history, train_seconds=seconds, framework="torch")


# ----------------------------------------------------------------------------------------------
# Padding side
# ----------------------------------------------------------------------------------------------


def to_post_padding(x: np.ndarray) -> np.ndarray:
    """Move the id-0 padding of each row from the front (pre-padding) to the back (post-padding).

    The words and their order stay the same, so both versions hold exactly the same (already
    truncated) reviews; only the side of the padding changes. Id 0 must mean padding only.

    >>> to_post_padding(np.array([[0, 0, 5, 6, 7]])).tolist()
    [[5, 6, 7, 0, 0]]
    """
    x = np.asarray(x)
    steps = x.shape[1]
    lengths = (x != 0).sum(axis=1)                      # (n,) real words per row
    # row i of the result takes position (j + steps - length_i) of the input for j < length_i
    cols = np.arange(steps)[None, :] + (steps - lengths)[:, None]
    valid = np.arange(steps)[None, :] < lengths[:, None]
    out = np.take_along_axis(x, np.where(valid, cols, 0), axis=1)
    return np.where(valid, out, 0).astype(x.dtype)
