"""Full-size IMDB comparison of a SimpleRNN and an LSTM in the slides' model (Wang: "replace SimpleRNN by LSTM").

Both models are Embedding(10000, 32) -> SimpleRNN(32) or LSTM(32) -> Dense(1), built by
lstm_course.imdb_models (cell="simple_rnn" / "lstm") and trained by its train_and_evaluate loop
(RMSprop lr=1e-3, batch 128, a fixed number of epochs, no model selection) on all 25,000 training
reviews, pre-padded and pre-truncated to 500 word ids (lstm_course.vectorize.load_imdb_sequences,
vocabulary of 10,000 adapted on the training reviews). Test accuracy on all 25,000 test reviews
after every epoch (a learning curve; the reported figure is the one after the last epoch).

Writes chapters/data/rnn_vs_lstm_imdb.json (read by chapters/rnn_vs_lstm_imdb.md): one record per
run under runs["<framework>-<cell>-seed<seed>"], saved after every run so that a stopped benchmark
keeps what finished, each with the command line, the dates, the machine, the thread count, the wall
and CPU time and load-average samples (see full_run_common.Clock).

    python benchmarks/rnn_vs_lstm_imdb.py --threads 1 --epochs 3     # the stored result
    python benchmarks/rnn_vs_lstm_imdb.py --quick                   # a smoke run of a few seconds
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from full_run_common import LOAD_NOTE, ROOT, SCRATCH, Clock, command_line, machine, now, print_table, save_record  # noqa: E402
from imdb_data import load_sequences  # noqa: E402

from lstm_course import imdb_models as im  # noqa: E402

VOCAB, SEQ_LEN, EMBED, UNITS = 10_000, 500, 32, 32
LAYER_NAMES = {"simple_rnn": "SimpleRNN(32)", "lstm": "LSTM(32)"}


def run(cell: str, framework: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
        y_test: np.ndarray, epochs: int, batch_size: int, seed: int) -> dict[str, Any]:
    """Train one model of the slides' family with `cell` for `epochs` epochs; test accuracy after each epoch."""
    clock = Clock()

    def epoch_done(history: dict[str, list[float]]) -> None:  # after each epoch's training, before its evaluation
        history.setdefault("wall_seconds", []).append(round(clock.wall(), 1))
        history.setdefault("cpu_seconds", []).append(round(clock.cpu(), 1))
        load = clock.sample_load()
        print(f"  {cell} epoch {len(history['loss'])}: loss {history['loss'][-1]:.4f}, train accuracy "
              f"{history['accuracy'][-1]:.4f}, wall {clock.wall():.0f} s, cpu {clock.cpu():.0f} s, load {load[0]}",
              flush=True)

    if framework == "keras":
        import keras

        keras.utils.set_random_seed(seed)
        model = im.build_keras_classifier("single", VOCAB, EMBED, UNITS, seq_len=x_train.shape[1], cell=cell)
        recurrent_params = model.get_layer(cell).count_params()
    else:
        import torch

        torch.manual_seed(seed)
        model = im.build_torch_classifier("single", VOCAB, EMBED, UNITS, cell=cell)
        recurrent_params = sum(p.numel() for p in model.recurrent.parameters())
    result = im.train_and_evaluate(model, x_train, y_train, x_test, y_test, epochs=epochs, batch_size=batch_size,
                                   seed=seed, eval_every_epoch=True, on_epoch_end=epoch_done)
    return {
        "cell": cell,
        "model": f"Embedding(10000, 32) -> {LAYER_NAMES[cell]} -> Dense(1, sigmoid)",
        "framework": framework, "optimizer": "RMSprop(lr=1e-3, rho=0.9)", "batch_size": batch_size,
        "epochs": epochs, "params": result.params, "recurrent_params": int(recurrent_params),
        "test_accuracy": result.test_accuracy,
        "train_seconds": round(result.train_seconds, 1),  # training steps only
        "run": clock.summary(),  # wall and CPU time of the whole run: training and the per-epoch test evaluations
        "history": result.history,  # per epoch: loss, accuracy (training), test_accuracy, wall/cpu_seconds
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--framework", choices=["torch", "keras"], default="torch")
    parser.add_argument("--cells", nargs="+", choices=list(LAYER_NAMES), default=["simple_rnn", "lstm"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads (1: on a busy shared machine 2 threads spin and run far slower)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 train / 1,000 test reviews, "
                                                                "last 100 steps, 1 epoch, written to benchmarks/output/")
    parser.add_argument("--out", type=Path, default=None,
                        help="result file (default chapters/data/rnn_vs_lstm_imdb.json; --quick: benchmarks/output/)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    out = args.out or (SCRATCH / "rnn_vs_lstm_imdb_quick.json" if args.quick
                       else ROOT / "chapters" / "data" / "rnn_vs_lstm_imdb.json")
    x_train, y_train, x_test, y_test, _, pipeline = load_sequences(VOCAB, SEQ_LEN, "package")
    epochs = args.epochs
    if args.quick:
        rng = np.random.default_rng(0)
        tr, te = rng.permutation(len(x_train))[:1000], rng.permutation(len(x_test))[:1000]
        x_train, y_train, x_test, y_test = x_train[tr, -100:], y_train[tr], x_test[te, -100:], y_test[te]
        epochs = 1
    versions = {"torch": torch.__version__, "numpy": np.__version__}
    if args.framework == "keras":
        import keras

        versions["keras"] = keras.__version__
    header = {
        "benchmark": "SimpleRNN(32) against LSTM(32) in the slides' IMDB model: test accuracy on all 25,000 test "
                     "reviews and training time",
        "note": LOAD_NOTE, "machine": machine(), "versions": versions,
        "data": f"{pipeline} (TextVectorization adapted on the 25,000 training reviews; vocabulary 10,000 "
                "including 0 = padding and 1 = OOV; pre-padded and pre-truncated to 500 steps)",
        "protocol": "train on all training reviews for a fixed number of epochs, no model selection; "
                    "test_accuracy is the one after the last epoch (history.test_accuracy is a learning curve, "
                    "never used to choose anything)",
    }
    print(f"{len(x_train):,} training and {len(x_test):,} test reviews, {x_train.shape[1]} steps, "
          f"{args.framework}, {args.threads} thread(s)", flush=True)
    rows = []
    for seed in args.seeds:
        for cell in args.cells:
            started = now()
            record = run(cell, args.framework, x_train, y_train, x_test, y_test, epochs, args.batch_size, seed)
            record.update(command=command_line(), started=started, finished=now(), threads=args.threads,
                          n_train=int(len(x_train)), n_test=int(len(x_test)), seq_len=int(x_train.shape[1]),
                          vocab_size=VOCAB, padding="pre", seed=seed, quick=args.quick)
            save_record(out, f"{args.framework}-{cell}-seed{seed}", record, header)
            rows.append({"cell": cell, "seed": seed, "params": record["params"], "acc": record["test_accuracy"],
                         "train": record["train_seconds"], "wall": record["run"]["wall_seconds"],
                         "cpu": record["run"]["cpu_seconds"], "load": record["run"]["loadavg_1min_mean"]})
            print(f"{cell} (seed {seed}): test accuracy {record['test_accuracy']:.4f} after {epochs} epochs, "
                  f"{record['run']['wall_seconds']:.0f} s wall / {record['run']['cpu_seconds']:.0f} s CPU", flush=True)
    print()
    print_table(rows, [("cell", "cell"), ("seed", "seed"), ("params", "parameters"), ("acc", "test accuracy", ".4f"),
                       ("train", "train wall s", ".0f"), ("wall", "run wall s", ".0f"), ("cpu", "run CPU s", ".0f"),
                       ("load", "mean load (1 min)", ".1f")])
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
