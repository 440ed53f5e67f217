"""Test accuracy against the number of labelled reviews: random vs GloVe-frozen vs GloVe-fine-tuned embeddings.

Model: Embedding(10000, 50) -> LSTM(32) -> Dense(1), RMSprop(1e-3), batch 64. The embedding starts
random (Keras' U(-0.05, 0.05), which the course's PyTorch builder copies) and is trained, or starts
from GloVe 6B 50d and is frozen or fine-tuned. The "glove-rescaled-*" conditions multiply the whole
GloVe table by one number so that its rows have the root-mean-square length of the random start's
(0.05 * sqrt(50 / 3) = 0.204, against 4.66 for the GloVe rows of the course vocabulary): same
directions, random-start scale.
Training sets are nested balanced subsets of the 25,000 training reviews (the n=500 set
contains the n=250 set, ...). Epochs depend on n (small sets get more passes, see epochs_for), fixed
in advance: no early stopping, no tuning on the test set. Writes chapters/data/small_n_glove.json
(rewritten after every run), with the command line, the machine and the data pipeline.
Used by chapters/pretrained_embeddings.md.

    python benchmarks/small_n_glove.py --pipeline standalone --seq-len 200 --n-test 10000 --seeds 0

(14 minutes on 2 cores shared with other jobs, all five conditions.) The chapter's second file, five
seeds at the two smallest sizes (9 minutes):

    python benchmarks/small_n_glove.py --pipeline standalone --seq-len 200 --n-test 10000 \
        --sizes 250 1000 --seeds 0 1 2 3 4 --out chapters/data/small_n_glove_seeds.json

Before 2026-12-01 this script passed one GloVe array to every model; fine-tuning wrote into it (see
the comment in main), so every GloVe run after the first fine-tuned one started from fine-tuned
vectors. Results from before that date are not comparable.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imdb_architectures import machine  # noqa: E402
from imdb_data import glove_matrix, load_sequences  # noqa: E402

from lstm_course import imdb_models as im  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONDITIONS = {  # name: (GloVe table: None, "as is" or "rescaled"; trainable embedding)
    "random": (None, True),
    "glove-frozen": ("as is", False),
    "glove-fine-tuned": ("as is", True),
    "glove-rescaled-frozen": ("rescaled", False),
    "glove-rescaled-fine-tuned": ("rescaled", True),
}
RANDOM_LIMIT = 0.05  # the random start U(-RANDOM_LIMIT, RANDOM_LIMIT) of Keras' Embedding and the course's builders


def rescale_to_random_start(matrix: np.ndarray, limit: float = RANDOM_LIMIT) -> tuple[np.ndarray, float]:
    """(matrix * s, s): s makes the RMS length of the non-zero rows that of a U(-limit, limit) row.

    A U(-a, a) component has variance a^2 / 3, so a row of d of them has mean squared length d a^2 / 3.
    Zero rows (padding, OOV, words GloVe lacks) stay zero.
    """
    rows = matrix[matrix.any(axis=1)]
    target = limit * np.sqrt(matrix.shape[1] / 3)
    scale = float(target / np.sqrt((rows.astype(np.float64) ** 2).sum(axis=1).mean()))
    return (matrix * scale).astype(matrix.dtype), scale


def epochs_for(n: int, examples: int = 10_000, low: int = 2, high: int = 20) -> int:
    """Passes over n reviews: about `examples` reviews seen in all, between low and high epochs."""
    return int(np.clip(int(np.ceil(examples / n)), low, high))


def balanced_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n indices, half of each class; the first n/2 of a seeded permutation per class (nested in n)."""
    rng = np.random.default_rng(seed)
    picks = [rng.permutation(np.flatnonzero(labels == c))[: n // 2] for c in (0, 1)]
    return np.sort(np.concatenate(picks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2500, 5000, 10000, 25000])
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--seq-len", type=int, default=200, help="keep the last seq_len steps of the 500")
    parser.add_argument("--n-test", type=int, default=10_000, help="balanced test subset (25000 = all)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "chapters" / "data" / "small_n_glove.json")
    parser.add_argument("--pipeline", choices=["auto", "package", "standalone"], default="auto",
                        help="where the word ids come from (see benchmarks/imdb_data.py)")
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)

    x_train, y_train, x_test, y_test, vocabulary, pipeline = load_sequences(10_000, 500, args.pipeline)
    x_train, x_test = x_train[:, -args.seq_len:], x_test[:, -args.seq_len:]  # pre-truncated, pre-padded
    if args.n_test < len(x_test):
        keep = balanced_indices(y_test, args.n_test, seed=12345)
        x_test, y_test = x_test[keep], y_test[keep]
    matrix, coverage = glove_matrix(vocabulary)
    tables = {None: None, "as is": matrix}
    tables["rescaled"], scale = rescale_to_random_start(matrix)
    pristine = {key: table.copy() for key, table in tables.items() if table is not None}

    record = {
        "command": "python " + " ".join([f"benchmarks/{Path(sys.argv[0]).name}"] + sys.argv[1:]),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "framework": "torch",
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "data_pipeline": pipeline,
        "vocab_size": 10_000, "seq_len": args.seq_len, "embed_dim": 50, "units": 32,
        "batch_size": args.batch_size, "optimizer": "RMSprop(lr=1e-3)",
        "n_test": int(len(x_test)), "glove_coverage": coverage,
        "epochs_rule": "clip(ceil(10000 / n), 2, 20)",
        "rescale_factor": scale,
        "runs": [],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for n in args.sizes:
            idx = balanced_indices(y_train, n, seed)
            for name in args.conditions:
                table, trainable = CONDITIONS[name]
                torch.manual_seed(seed)
                # a fresh copy per model: build_torch_classifier wraps a float32 array without copying it, so
                # fine-tuning would write into `tables` and every later GloVe run would start from those weights
                start = None if table is None else tables[table].copy()
                model = im.build_torch_classifier(
                    "single", embed_dim=50, embedding_matrix=start, trainable_embedding=trainable,
                )
                epochs = epochs_for(n)
                result = im.train_and_evaluate(model, x_train[idx], y_train[idx], x_test, y_test, epochs=epochs,
                                               batch_size=args.batch_size, seed=seed)
                assert all(np.array_equal(tables[key], table) for key, table in pristine.items()), "a table moved"
                record["runs"].append({
                    "condition": name, "n_train": int(n), "seed": seed, "epochs": epochs,
                    "test_accuracy": result.test_accuracy, "train_accuracy": result.history["accuracy"][-1],
                    "train_seconds": round(result.train_seconds, 1),
                    "params": result.params, "trainable_params": result.trainable_params,
                })
                record["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
                args.out.write_text(json.dumps(record, indent=1) + "\n")
                print(f"seed {seed} n {n:>6} {name:<17} epochs {epochs:>2}: test accuracy "
                      f"{result.test_accuracy:.4f} ({result.train_seconds:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
