"""Dropout vs no dropout on a small IMDB subset: learning curves for chapters/lstm_in_practice.md.

Trains Embedding(10000, 32) -> LSTM(32) -> Dense(1) on 2,000 training reviews (the last 120 tokens of each)
and validates on 2,000 test reviews, for every configuration and seed below, in Keras and PyTorch, and
writes one row per epoch to chapters/data/dropout_imdb.csv (+ the settings in dropout_imdb.json).

Both frameworks start the same way: the PyTorch model is the course's builder
(lstm_course.imdb_models.build_torch_classifier: embedding U(-0.05, 0.05) like Keras' default, where
nn.Embedding alone would start at N(0, 1)) with the forget-gate bias set to 1 like Keras'
unit_forget_bias=True (PyTorch's own start is uniform around 0). Dropout differs in its masks: Keras'
LSTM(dropout=...) draws one mask per sequence, nn.Dropout on the embeddings a new one at every step.

Run from the repository root (about 11 CPU minutes; an hour of wall time on 2 cores shared with other jobs):

    TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 LSTM_COURSE_DATA=/path/to/mirror \
        .venv/bin/python benchmarks/dropout_imdb.py
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

SETTINGS = dict(
    vocab_size=10_000, seq_len=120, n_train=2_000, n_val=2_000, embed_dim=32, units=32,
    epochs=10, batch_size=64, learning_rate=2e-3, rate=0.3, seeds=[0, 1],
)
# (framework, configuration name, input dropout, recurrent dropout, dropout before the output layer)
CONFIGS = [
    ("keras", "no dropout", 0.0, 0.0, 0.0),
    ("keras", "dropout", SETTINGS["rate"], 0.0, 0.0),
    ("keras", "dropout + recurrent_dropout", SETTINGS["rate"], SETTINGS["rate"], 0.0),
    ("torch", "no dropout", 0.0, 0.0, 0.0),
    ("torch", "dropout on embeddings and output", SETTINGS["rate"], 0.0, SETTINGS["rate"]),
]
OUT = Path(__file__).resolve().parents[1] / "chapters" / "data"


def load_subset(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """2,000 training and 2,000 validation reviews (from the test split), the last seq_len tokens of each."""
    import lstm_course as lc

    x_train, y_train, x_test, y_test, _ = lc.vectorize.load_imdb_sequences(vocab_size=SETTINGS["vocab_size"])
    rng = np.random.default_rng(seed)
    tr = rng.choice(len(x_train), SETTINGS["n_train"], replace=False)
    va = rng.choice(len(x_test), SETTINGS["n_val"], replace=False)
    L = SETTINGS["seq_len"]
    return x_train[tr][:, -L:], y_train[tr], x_test[va][:, -L:], y_test[va]  # pre-padded: keep the ends


def run_keras(data, dropout: float, recurrent_dropout: float, head_dropout: float, seed: int) -> list[dict]:
    import keras

    x_tr, y_tr, x_va, y_va = data
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((SETTINGS["seq_len"],), dtype="int32"),
        keras.layers.Embedding(SETTINGS["vocab_size"], SETTINGS["embed_dim"]),
        keras.layers.LSTM(SETTINGS["units"], dropout=dropout, recurrent_dropout=recurrent_dropout),
        keras.layers.Dropout(head_dropout),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(keras.optimizers.Adam(SETTINGS["learning_rate"]), "binary_crossentropy", metrics=["accuracy"])

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs["seconds"] = time.perf_counter() - self.start
            # training loss/accuracy after the epoch without dropout (as for PyTorch below), not the running mean
            logs["loss"], logs["accuracy"] = self.model.evaluate(x_tr, y_tr, batch_size=512, verbose=0)

    history = model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=SETTINGS["epochs"],
                        batch_size=SETTINGS["batch_size"], callbacks=[Timer()], verbose=0).history
    return [
        dict(epoch=e + 1, loss=history["loss"][e], accuracy=history["accuracy"][e], val_loss=history["val_loss"][e],
             val_accuracy=history["val_accuracy"][e], seconds=history["seconds"][e])
        for e in range(SETTINGS["epochs"])
    ]


def torch_classifier(dropout: float, head_dropout: float):
    """The course's PyTorch classifier with forget bias 1 and dropout on the embeddings and before the head."""
    import torch
    from torch import nn

    from lstm_course import imdb_models as im

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            base = im.build_torch_classifier("single", vocab_size=SETTINGS["vocab_size"],
                                             embed_dim=SETTINGS["embed_dim"], units=SETTINGS["units"])
            self.embedding, self.lstm, self.head = base.embedding, base.lstm, base.head  # embedding U(-0.05, 0.05)
            h = SETTINGS["units"]
            with torch.no_grad():  # gate order i, f, g, o: b_f = 1 as Keras' unit_forget_bias (the two biases add)
                self.lstm.bias_ih_l0[h : 2 * h] = 1.0
                self.lstm.bias_hh_l0[h : 2 * h] = 0.0
            self.drop_in = nn.Dropout(dropout)  # a new mask at every step (Keras: one per sequence)
            self.drop_out = nn.Dropout(head_dropout)

        def forward(self, ids):  # ids (batch, T)
            _, (h_n, _) = self.lstm(self.drop_in(self.embedding(ids)))  # h_n (1, batch, units)
            return self.head(self.drop_out(h_n[-1])).squeeze(-1)  # logits (batch,)

    return Classifier()


def run_torch(data, dropout: float, recurrent_dropout: float, head_dropout: float, seed: int) -> list[dict]:
    import torch
    from torch import nn

    assert recurrent_dropout == 0.0, "torch.nn.LSTM has no recurrent dropout"
    x_tr, y_tr, x_va, y_va = (torch.as_tensor(a) for a in data)
    x_tr, x_va = x_tr.long(), x_va.long()
    y_tr, y_va = y_tr.float(), y_va.float()
    torch.manual_seed(seed)
    model = torch_classifier(dropout, head_dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=SETTINGS["learning_rate"])
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(seed)

    def evaluate(x, y):
        model.eval()
        with torch.no_grad():
            logits = model(x)
        return loss_fn(logits, y).item(), ((logits > 0).float() == y).float().mean().item()

    rows = []
    for epoch in range(SETTINGS["epochs"]):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_tr), generator=generator)
        for k in range(0, len(order), SETTINGS["batch_size"]):
            idx = order[k : k + SETTINGS["batch_size"]]
            optimizer.zero_grad()
            loss = loss_fn(model(x_tr[idx]), y_tr[idx])
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        loss, acc = evaluate(x_tr, y_tr)  # after the epoch, without dropout (Keras reports the running mean)
        val_loss, val_acc = evaluate(x_va, y_va)
        rows.append(dict(epoch=epoch + 1, loss=loss, accuracy=acc, val_loss=val_loss, val_accuracy=val_acc,
                         seconds=seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import pandas as pd

    data = load_subset()
    rows = []
    for framework, name, dropout, recurrent_dropout, head_dropout in CONFIGS:
        for seed in SETTINGS["seeds"]:
            run = run_keras if framework == "keras" else run_torch
            start = time.perf_counter()
            for row in run(data, dropout, recurrent_dropout, head_dropout, seed):
                rows.append(dict(framework=framework, config=name, seed=seed, **row))
            print(f"{framework:6s} {name:35s} seed {seed}: {time.perf_counter() - start:6.1f} s, "
                  f"last val_acc {rows[-1]['val_accuracy']:.3f}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out / "dropout_imdb.csv", index=False, float_format="%.5f")

    import keras
    import torch

    meta = dict(
        command="TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 LSTM_COURSE_DATA=/path/to/mirror "
        ".venv/bin/python benchmarks/dropout_imdb.py",
        settings=SETTINGS,
        torch_init="lstm_course.imdb_models.build_torch_classifier (embedding U(-0.05, 0.05)), forget-gate bias 1",
        configs=[dict(framework=f, config=n, dropout=d, recurrent_dropout=r, head_dropout=h)
                 for f, n, d, r, h in CONFIGS],
        versions=dict(python=sys.version.split()[0], keras=keras.__version__, torch=torch.__version__,
                      numpy=np.__version__),
        machine=platform.platform(),
        date=time.strftime("%Y-%m-%d"),
    )
    (args.out / "dropout_imdb.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
