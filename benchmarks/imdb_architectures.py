"""Full-size IMDB comparison of single, stacked and bidirectional LSTMs, and of pre- vs post-padding.

All 25,000 training and 25,000 test reviews, 10,000 words, 500 steps, the slides' model family
Embedding(10000, 32) -> LSTM(32) -> Dense(1). Writes chapters/data/imdb_architectures.json
(one record per run, rewritten after every run so that a stopped benchmark keeps what finished),
with the command line, the machine and the data pipeline. Used by chapters/stacked_bidirectional.md.

    python benchmarks/imdb_architectures.py --framework torch --epochs 3
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imdb_data import load_sequences  # noqa: E402

from lstm_course import imdb_models as im  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# (name, architecture, padding, mask): the order is the order of importance, in case the run is cut short
VARIANTS = {
    "single-pre": ("single", "pre", False),
    "bidirectional-pre": ("bidirectional", "pre", False),
    "stacked-pre": ("stacked", "pre", False),
    "single-post": ("single", "post", False),
    "single-post-masked": ("single", "post", True),
    "bidirectional-post": ("bidirectional", "post", False),
    "single-pre-masked": ("single", "pre", True),
}


def machine() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        info["cpu"] = next(
            line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--framework", choices=["keras", "torch"], default="torch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--n-train", type=int, default=None, help="use only the first n training reviews")
    parser.add_argument("--n-test", type=int, default=None, help="use only the first n test reviews")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (1: the machine is shared)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "chapters" / "data" / "imdb_architectures.json")
    parser.add_argument("--pipeline", choices=["auto", "package", "standalone"], default="auto",
                        help="where the word ids come from (see benchmarks/imdb_data.py)")
    args = parser.parse_args()

    x_train, y_train, x_test, y_test, vocabulary, pipeline = load_sequences(10_000, 500, args.pipeline)
    if args.n_train:
        x_train, y_train = x_train[: args.n_train], y_train[: args.n_train]
    if args.n_test:
        x_test, y_test = x_test[: args.n_test], y_test[: args.n_test]
    post_train, post_test = im.to_post_padding(x_train), im.to_post_padding(x_test)

    import torch
    if args.threads:
        torch.set_num_threads(args.threads)

    record = {
        "command": "python " + " ".join([f"benchmarks/{Path(sys.argv[0]).name}"] + sys.argv[1:]),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "framework": args.framework,
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "data_pipeline": pipeline,
        "n_train": int(len(x_train)),
        "n_test": int(len(x_test)),
        "vocab_size": 10_000,
        "seq_len": 500,
        "embed_dim": 32,
        "units": 32,
        "stacked_layers": 3,
        "batch_size": args.batch_size,
        "optimizer": "RMSprop(lr=1e-3)",
        "protocol": "train on all training reviews for a fixed number of epochs; test accuracy after the "
                    "last epoch (test_accuracy_per_epoch is a learning curve, not used to pick epochs)",
        "runs": [],
    }
    if args.framework == "keras":
        import keras
        record["versions"]["keras"] = keras.__version__
    args.out.parent.mkdir(parents=True, exist_ok=True)

    for name in args.variants:
        architecture, padding, mask = VARIANTS[name]
        xtr, xte = (x_train, x_test) if padding == "pre" else (post_train, post_test)
        if args.framework == "keras":
            import keras
            keras.utils.set_random_seed(args.seed)
            model = im.build_keras_classifier(architecture, seq_len=500, mask_zero=mask)
        else:
            if mask and padding == "pre":
                print(f"skip {name}: pack_padded_sequence needs post-padding", flush=True)
                continue
            torch.manual_seed(args.seed)
            model = im.build_torch_classifier(architecture, packed=mask)
        print(f"{name}: {im.count_params(model)[0]:,} parameters", flush=True)
        result = im.train_and_evaluate(model, xtr, y_train, xte, y_test, epochs=args.epochs,
                                       batch_size=args.batch_size, seed=args.seed, eval_every_epoch=True,
                                       verbose=1)
        record["runs"].append({
            "variant": name, "architecture": architecture, "padding": padding, "mask": mask,
            "test_accuracy": result.test_accuracy, "epochs": result.epochs,
            "train_seconds": round(result.train_seconds, 1), "params": result.params,
            "train_accuracy_per_epoch": result.history["accuracy"],
            "train_loss_per_epoch": result.history["loss"],
            "test_accuracy_per_epoch": result.history["test_accuracy"],
        })
        record["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"{name}: test accuracy {result.test_accuracy:.4f}, {result.train_seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
