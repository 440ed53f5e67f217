"""Full-run IMDB benchmark: test accuracy on all 25,000 test reviews and training time of the course's reference models.

Runs (choose with --runs; run them one at a time on a shared machine):

slides-pre   the slides' model Embedding(10000, 32) -> LSTM(32) -> Dense(1), RMSprop(1e-3), batch 128,
             pre-padded word ids (vocabulary 10,000, 500 steps), trained on all 25,000 training
             reviews for a fixed number of epochs (--epochs-pre, default 6). No model selection.
slides-post  the same model and the same (already truncated) reviews with the padding moved to the
             end (--epochs-post, default 2): the final LSTM state is read after hundreds of padding steps.
best         the course's best model (PyTorch): embedding (optionally GloVe-initialised, fine-tuned)
             -> bidirectional LSTM over post-padded, length-bucketed batches -> max and mean pooling over the real steps
             -> dropout -> Dense(1); Adam with a linearly decaying learning rate; length-bucketed
             batches. Early stopping on a validation split of the TRAINING reviews (--val-size,
             default 2,500 held out of the 25,000; the test reviews are never used to choose
             anything); training stops at --max-epochs or when --budget-seconds of wall-clock
             time (or of process CPU time, --budget-clock cpu) are spent (checked after every
             batch), and the weights of the best validation epoch
             are evaluated once on the 25,000 test reviews.

Each run is stored in benchmarks/results/imdb_full_run.json under its name (other runs are kept),
with the command, the date, the machine, the wall and CPU time and the load average.

    python benchmarks/imdb_full_run.py --runs slides-pre
    python benchmarks/imdb_full_run.py --runs best --glove --threads 2   # the stored figure (quiet machine)
    python benchmarks/imdb_full_run.py --quick          # a smoke run of a few seconds, all runs
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from full_run_common import LOAD_NOTE, RESULTS, SCRATCH, Clock, command_line, machine, now, print_table, save_record  # noqa: E402

from lstm_course import imdb_models as im  # noqa: E402

RUNS = ("slides-pre", "slides-post", "best")


# ----------------------------------------------------------------------------------------------
# The slides' model (built by lstm_course.imdb_models)
# ----------------------------------------------------------------------------------------------


def run_slides(
    framework: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
    epochs: int, batch_size: int, seed: int,
) -> dict[str, Any]:
    """Train the slides' model for `epochs` epochs on all training rows; test accuracy after the last one."""
    clock = Clock()
    train: dict = {}

    def epoch_done(history: dict[str, list[float]]) -> None:
        history.setdefault("wall_seconds", [])
        history.setdefault("cpu_seconds", [])
        _epoch_done(history, clock)
        if len(history["loss"]) == epochs:  # training ends here; the test evaluation is not timed
            train.update(clock.summary())

    if framework == "keras":
        import keras

        keras.utils.set_random_seed(seed)
        model = im.build_keras_classifier("single", vocab_size=10_000, embed_dim=32, units=32, seq_len=x_train.shape[1])
    else:
        import torch

        torch.manual_seed(seed)
        model = im.build_torch_classifier("single", vocab_size=10_000, embed_dim=32, units=32)
    # imdb_models' loop: RMSprop(lr=1e-3, rho=0.9) for torch as Keras' defaults, test accuracy after the last epoch
    result = im.train_and_evaluate(model, x_train, y_train, x_test, y_test, epochs=epochs, batch_size=batch_size,
                                   seed=seed, on_epoch_end=epoch_done)
    test_accuracy, history = result.test_accuracy, result.history
    total_params, trainable = im.count_params(model)
    return {
        "model": "Embedding(10000, 32) -> LSTM(32) -> Dense(1, sigmoid)",
        "framework": framework, "optimizer": "RMSprop(lr=1e-3, rho=0.9)", "batch_size": batch_size,
        "epochs": epochs, "params": total_params, "trainable_params": trainable,
        "test_accuracy": test_accuracy, "train": train, "history": history,
    }


def _epoch_done(history: dict[str, list[float]], clock: Clock) -> None:
    history["wall_seconds"].append(round(clock.wall(), 1))
    history["cpu_seconds"].append(round(clock.cpu(), 1))
    load = clock.sample_load()
    n = len(history["loss"])
    print(f"  epoch {n}: loss {history['loss'][-1]:.4f}, train accuracy {history['accuracy'][-1]:.4f}, "
          f"wall {clock.wall():.0f} s, cpu {clock.cpu():.0f} s, load {load[0]}", flush=True)


# ----------------------------------------------------------------------------------------------
# The best course model (PyTorch)
# ----------------------------------------------------------------------------------------------


def build_best_model(vocab_size: int, embed_dim: int, units: int, dropout: float,
                     embedding_matrix: np.ndarray | None = None):
    """Embedding -> BiLSTM over post-padded, length-bucketed batches -> [max, mean] pooling over real steps -> Linear(1) logit."""
    import torch
    from torch import nn

    class PooledBiLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
            if embedding_matrix is not None:
                with torch.no_grad():
                    self.embedding.weight.copy_(torch.as_tensor(embedding_matrix))
            self.lstm = nn.LSTM(embed_dim, units, batch_first=True, bidirectional=True)
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Linear(4 * units, 1)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            # x: (batch, T) post-padded word ids; lengths: (batch,) real words per review
            # Not packed: in torch 2.13 on CPU the backward pass of a packed LSTM with unequal lengths
            # is about 7x slower; length-bucketed batches keep the post-padding to a few steps instead.
            e = self.dropout(self.embedding(x))  # (batch, T, embed)
            out, _ = self.lstm(e)  # (batch, T, 2*units)
            real = (torch.arange(out.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)  # (batch, T, 1)
            max_pool = out.masked_fill(~real, -1e4).max(dim=1).values  # (batch, 2*units), real steps only
            mean_pool = out.masked_fill(~real, 0.0).sum(dim=1) / lengths[:, None].to(out.dtype)
            return self.head(self.dropout(torch.cat([max_pool, mean_pool], dim=1))).squeeze(-1)

    return PooledBiLSTM()


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle, sort by length inside chunks of 50 batches, cut into batches, shuffle the batches."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def best_accuracy(model, x: np.ndarray, lengths: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    """Accuracy of the best model on post-padded x (evaluated in length-sorted batches)."""
    import torch

    model.eval()
    order = np.argsort(lengths, kind="stable")
    correct = 0
    with torch.no_grad():
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            steps = int(lengths[idx].max())
            logits = model(torch.as_tensor(x[idx, :steps], dtype=torch.long), torch.as_tensor(lengths[idx]))
            correct += int(((logits > 0).numpy() == (y[idx] > 0.5)).sum())
    return correct / len(x)


def run_best(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, vocabulary: list[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Train the best model with early stopping on a held-out part of the training reviews."""
    import torch

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, x_test = im.to_post_padding(x_train), im.to_post_padding(x_test)
    len_train = np.maximum((x_train != 0).sum(axis=1), 1)
    len_test = np.maximum((x_test != 0).sum(axis=1), 1)
    # validation split of the TRAINING reviews (balanced enough: the loader's order mixes the labels)
    perm = rng.permutation(len(x_train))
    val_idx, fit_idx = perm[: args.val_size], perm[args.val_size :]

    embedding_matrix, coverage, embed_dim = None, None, args.embed_dim
    if args.glove:
        from lstm_course import glove as lg

        embedding_matrix, coverage = lg.embedding_matrix(vocabulary, lg.load_glove(dim=50))
        embed_dim = embedding_matrix.shape[1]
    model = build_best_model(len(vocabulary), embed_dim, args.units, args.dropout, embedding_matrix)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(fit_idx) / args.batch_size)
    total_steps = steps_per_epoch * args.max_epochs
    clock = Clock()

    def progress(step: int) -> float:
        """Fraction of the training done: of the planned steps or of the budget, whichever is further."""
        spent = clock.cpu() if args.budget_clock == "cpu" else clock.wall()
        return min(1.0, max(step / total_steps, spent / args.budget_seconds))

    # linear decay to 10 % over the planned epochs or the budget, whichever ends first
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 - 0.9 * progress(s))
    loss_fn = torch.nn.BCEWithLogitsLoss()

    history: dict[str, list[float]] = {"loss": [], "val_accuracy": [], "wall_seconds": [], "cpu_seconds": [],
                                       "fraction_of_epoch": []}
    best = {"val_accuracy": -1.0, "epoch": 0, "state": None}
    clock = Clock()  # restart: the training time counts from the first batch
    stopped_by = "max_epochs"
    bad_epochs = 0
    for epoch in range(1, args.max_epochs + 1):
        model.train()
        total, seen = 0.0, 0
        batches = bucketed_batches(len_train[fit_idx], args.batch_size, rng)
        out_of_time = False
        for b in batches:
            idx = fit_idx[b]
            steps = int(len_train[idx].max())
            xb = torch.as_tensor(x_train[idx, :steps], dtype=torch.long)
            yb = torch.as_tensor(y_train[idx], dtype=torch.float32)
            optimizer.zero_grad()
            loss = loss_fn(model(xb, torch.as_tensor(len_train[idx])), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
            spent = clock.cpu() if args.budget_clock == "cpu" else clock.wall()
            if spent > args.budget_seconds or clock.wall() > args.wall_limit_seconds:
                out_of_time = True
                break
        val_accuracy = best_accuracy(model, x_train[val_idx], len_train[val_idx], y_train[val_idx])
        history["loss"].append(total / max(seen, 1))
        history["val_accuracy"].append(val_accuracy)
        history["fraction_of_epoch"].append(round(seen / len(fit_idx), 3))
        history["wall_seconds"].append(round(clock.wall(), 1))
        history["cpu_seconds"].append(round(clock.cpu(), 1))
        load = clock.sample_load()
        print(f"  epoch {epoch} ({seen / len(fit_idx):.0%}): loss {history['loss'][-1]:.4f}, "
              f"validation accuracy {val_accuracy:.4f}, wall {clock.wall():.0f} s, cpu {clock.cpu():.0f} s, "
              f"load {load[0]}", flush=True)
        if val_accuracy > best["val_accuracy"]:
            best = {"val_accuracy": val_accuracy, "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
            bad_epochs = 0
        else:
            bad_epochs += 1
        if out_of_time:
            stopped_by = "budget"
            break
        if bad_epochs >= args.patience:
            stopped_by = "early_stopping"
            break
    train = clock.summary()
    model.load_state_dict(best["state"])
    test_accuracy = best_accuracy(model, x_test, len_test, y_test)
    total_params = sum(p.numel() for p in model.parameters())
    return {
        "model": (f"Embedding({len(vocabulary)}, {embed_dim}{', GloVe 6B 50d init, fine-tuned' if args.glove else ''})"
                  f" -> Dropout({args.dropout}) -> Bidirectional LSTM({args.units}) -> "
                  f"concat(max-pool, mean-pool over real steps) -> Dropout({args.dropout}) -> Dense(1)"),
        "framework": "torch",
        "optimizer": (f"Adam(lr={args.lr}) with linear decay to 10 % over {args.max_epochs} epochs or the budget, "
                      f"whichever ends first; grad-norm clip 1.0"),
        "batch_size": args.batch_size, "bucketing": "sorted by length within chunks of 50 batches",
        "padding": ("post; batches cut to their longest review, so with length bucketing the LSTM reads only a "
                    "few padding steps; pooling ignores padding steps"),
        "glove_coverage": coverage,
        "selection": (f"early stopping (patience {args.patience}) on validation accuracy of {len(val_idx):,} "
                      f"reviews held out of the TRAINING set; trained on the other {len(fit_idx):,}; "
                      f"test set used once, for the reported figure"),
        "max_epochs": args.max_epochs, "budget_seconds": args.budget_seconds, "budget_clock": args.budget_clock,
        "wall_limit_seconds": args.wall_limit_seconds if math.isfinite(args.wall_limit_seconds) else None,
        "stopped_by": stopped_by,
        "epochs": len(history["loss"]), "best_epoch": best["epoch"], "best_val_accuracy": best["val_accuracy"],
        "params": int(total_params), "test_accuracy": test_accuracy, "train": train, "history": history,
    }


# ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    parser.add_argument("--framework", choices=["torch", "keras"], default="torch", help="for the slides' model")
    parser.add_argument("--epochs-pre", type=int, default=6)
    parser.add_argument("--epochs-post", type=int, default=2)
    parser.add_argument("--slides-batch-size", type=int, default=128)
    parser.add_argument("--budget-seconds", type=float, default=600.0, help="training budget of 'best'")
    parser.add_argument("--budget-clock", choices=["wall", "cpu"], default="wall",
                        help="what --budget-seconds counts: wall-clock time, or this process's CPU time "
                             "(all threads; with --threads 1 on a shared machine, the time a dedicated core "
                             "would need, i.e. no more than the budget on 2 free cores)")
    parser.add_argument("--wall-limit-seconds", type=float, default=float("inf"),
                        help="hard wall-clock limit of 'best' training whatever --budget-clock says")
    parser.add_argument("--max-epochs", type=int, default=6, help="of 'best'")
    parser.add_argument("--patience", type=int, default=2, help="epochs without validation gain before stopping")
    parser.add_argument("--val-size", type=int, default=2_500, help="training reviews held out for early stopping")
    parser.add_argument("--vocab-size", type=int, default=30_000,
                        help="of 'best' (the slides' model uses 10,000; GloVe gives the rarer words a start)")
    parser.add_argument("--embed-dim", type=int, default=64, help="of 'best' without --glove")
    parser.add_argument("--glove", action="store_true", help="initialise the 'best' embedding with GloVe 6B 50d")
    parser.add_argument("--units", type=int, default=64, help="of 'best' (each direction)")
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=64, help="of 'best'")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads (1: on a shared machine 2 threads spin and run slower)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 train / 1,000 test reviews, 1 epoch")
    parser.add_argument("--out", type=Path, default=None,
                        help="result file (default benchmarks/results/imdb_full_run.json; --quick: benchmarks/output/)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from lstm_course.vectorize import load_imdb_sequences

    out = args.out or (SCRATCH / "imdb_full_run_quick.json" if args.quick else RESULTS / "imdb_full_run.json")
    header = {
        "benchmark": "IMDB full run: test accuracy on all 25,000 test reviews and training time",
        "note": LOAD_NOTE, "machine": machine(),
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "data": "lstm_course.vectorize.load_imdb_sequences (TextVectorization adapted on the 25,000 training "
                "reviews; pre-padded and pre-truncated; 0 = padding, 1 = OOV)",
    }
    rows = []
    for name in args.runs:
        vocab_size = args.vocab_size if name == "best" else 10_000
        x_train, y_train, x_test, y_test, vocabulary = load_imdb_sequences(vocab_size=vocab_size, seq_len=500)
        if args.quick:
            rng = np.random.default_rng(args.seed)
            tr, te = rng.permutation(len(x_train))[:1000], rng.permutation(len(x_test))[:1000]
            x_train, y_train, x_test, y_test = x_train[tr, -100:], y_train[tr], x_test[te, -100:], y_test[te]
        print(f"{name}: {len(x_train):,} training and {len(x_test):,} test reviews, {x_train.shape[1]} steps", flush=True)
        started = now()
        if name == "best":
            saved = (args.max_epochs, args.budget_seconds, args.val_size)
            if args.quick:
                args.max_epochs, args.budget_seconds, args.val_size = 1, 10.0, 200
            record = run_best(x_train, y_train, x_test, y_test, vocabulary, args)
            args.max_epochs, args.budget_seconds, args.val_size = saved
        else:
            x_tr, x_te = (x_train, x_test) if name == "slides-pre" else (im.to_post_padding(x_train), im.to_post_padding(x_test))
            epochs = 1 if args.quick else (args.epochs_pre if name == "slides-pre" else args.epochs_post)
            record = run_slides(args.framework, x_tr, y_train, x_te, y_test, epochs, args.slides_batch_size, args.seed)
            record["padding"] = "pre" if name == "slides-pre" else "post (same truncated reviews, padding moved to the end)"
            if args.framework == "keras":
                import keras
                header["versions"]["keras"] = keras.__version__
        record.update(command=command_line(), started=started, finished=now(), threads=args.threads,
                      n_train=int(len(x_train)), n_test=int(len(x_test)), seq_len=int(x_train.shape[1]),
                      vocab_size=vocab_size, seed=args.seed, quick=args.quick)
        save_record(out, name, record, header)
        rows.append({"run": name, "framework": record["framework"], "epochs": record["epochs"],
                     "test acc": record["test_accuracy"], "wall s": record["train"]["wall_seconds"],
                     "cpu s": record["train"]["cpu_seconds"], "load 1m": record["train"]["loadavg_1min_mean"]})
        print(f"{name}: test accuracy {record['test_accuracy']:.4f} after {record['epochs']} epochs, training "
              f"{record['train']['wall_seconds']:.0f} s wall / {record['train']['cpu_seconds']:.0f} s CPU", flush=True)
    print()
    print_table(rows, [("run", "run"), ("framework", "framework"), ("epochs", "epochs"),
                       ("test acc", "test accuracy", ".4f"), ("wall s", "train wall s", ".0f"),
                       ("cpu s", "train CPU s", ".0f"), ("load 1m", "mean load (1 min)", ".1f")])
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
