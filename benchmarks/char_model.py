"""Character-level LSTM language model under a wall-clock budget: validation cross-entropy in nats per character.

Corpora: tiny Shakespeare with nanoGPT's split (first 90 % of the characters train, last 10 %
validate; vocabulary = the 65 characters of the whole text), so the figure compares with nanoGPT's
shakespeare_char baseline (validation loss 1.4697 nats, a 6-layer transformer trained on a GPU),
and Heart of Darkness (lstm_course.gutenberg, Project Gutenberg header and footer stripped), split
the same way. The uniform baseline ln V is printed beside the result.

Model (PyTorch): Embedding(V, --embed) -> LSTM(--hidden) x --layers (dropout between layers) ->
dropout -> Linear(V). Training: truncated backpropagation through time over --batch contiguous
streams of the training text, windows of --seq-len characters, the LSTM state carried from one
window to the next (detached), a new random stream offset each epoch; AdamW with a short warm-up
and a cosine learning-rate decay over the time budget; gradient-norm clipping. Training stops
when --budget-seconds of wall-clock time are spent (checked after every step). The reported
figure is the mean cross-entropy over the WHOLE validation split, read once at the end in
stream order with the state carried (each character is predicted from all the characters
before it in its stream); nothing is chosen on the validation split.

Results are stored in benchmarks/results/char_model.json under the corpus name, with the command,
the date, the machine, the wall and CPU time and the load average.

    python benchmarks/char_model.py --corpus shakespeare --budget-seconds 600
    python benchmarks/char_model.py --corpus heart_of_darkness --budget-seconds 300
    python benchmarks/char_model.py --quick            # a smoke run of a few seconds
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from full_run_common import LOAD_NOTE, RESULTS, SCRATCH, Clock, command_line, machine, now, print_table, save_record  # noqa: E402

from lstm_course import char_data as cd  # noqa: E402
from lstm_course import gutenberg  # noqa: E402

#: nanoGPT's README: "the best validation loss is 1.4697" for config/train_shakespeare_char.py on one A100 GPU.
NANOGPT_SHAKESPEARE_CHAR_VAL = 1.4697


def build_model(vocab_size: int, embed: int, hidden: int, layers: int, dropout: float):
    """Embedding -> stacked LSTM -> dropout -> Linear to next-character logits."""
    import torch
    from torch import nn

    class CharLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed)
            self.lstm = nn.LSTM(embed, hidden, num_layers=layers, dropout=dropout if layers > 1 else 0.0,
                                batch_first=True)
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Linear(hidden, vocab_size)

        def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
            out, state = self.lstm(self.embedding(x), state)  # out: (batch, steps, hidden)
            return self.head(self.dropout(out)), state  # (batch, steps, vocab)

    return CharLSTM()


def evaluate(model, ids: np.ndarray, batch: int, seq_len: int) -> tuple[float, int]:
    """(mean cross-entropy in nats per character, characters predicted) over `ids`, state carried."""
    import torch
    import torch.nn.functional as F

    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for x, y in cd.stream_batches(ids, batch, seq_len):
            logits, state = model(torch.as_tensor(x), state)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.as_tensor(y).reshape(-1),
                                           reduction="sum"))
            count += y.size
    model.train()
    return total / count, count


def load_corpus(name: str) -> str:
    if name == "shakespeare":
        return gutenberg.load_tiny_shakespeare()
    return gutenberg.load_heart_of_darkness()


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train under the budget; return the record of the run."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    text = load_corpus(args.corpus)
    vocab = cd.build_vocab(text)
    train_text, val_text = cd.split_text(text, 0.9)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    if args.quick:
        train_ids, val_ids = train_ids[:50_000], val_ids[:5_000]
    print(f"{args.corpus}: {len(text):,} characters, vocabulary {len(vocab)} (uniform baseline ln V = "
          f"{cd.uniform_baseline(len(vocab)):.4f}), train {len(train_ids):,}, validation {len(val_ids):,}", flush=True)

    model = build_model(len(vocab), args.embed, args.hidden, args.layers, args.dropout)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or "embedding" in n]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.99))

    def learning_rate(step: int, fraction: float) -> float:
        """Linear warm-up over the first steps, then cosine decay to 10 % over the time budget."""
        warm = min(1.0, (step + 1) / args.warmup_steps)
        return args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(fraction, 1.0))))

    clock = Clock()
    curve: list[dict[str, float]] = []
    step, epoch, chars_seen = 0, 0, 0
    running, running_n = 0.0, 0
    next_report = args.report_seconds
    done = False
    while not done:
        epoch += 1
        offset = int(rng.integers(0, args.seq_len))
        state = None
        for x, y in cd.stream_batches(train_ids, args.batch, args.seq_len, offset=offset):
            fraction = clock.wall() / args.budget_seconds
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, fraction)
            if state is not None:
                state = tuple(s.detach() for s in state)
            logits, state = model(torch.as_tensor(x), state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.as_tensor(y).reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            step += 1
            chars_seen += y.size
            running += float(loss.detach()) * y.size
            running_n += y.size
            if clock.wall() >= next_report:
                load = clock.sample_load()
                curve.append({"wall_seconds": round(clock.wall(), 1), "cpu_seconds": round(clock.cpu(), 1),
                              "step": step, "epochs": round(chars_seen / len(train_ids), 3),
                              "train_loss": round(running / running_n, 4)})
                print(f"  {clock.wall():6.0f} s wall {clock.cpu():6.0f} s cpu  step {step:5d}  epoch "
                      f"{chars_seen / len(train_ids):5.2f}  train loss {running / running_n:.4f}  "
                      f"lr {optimizer.param_groups[0]['lr']:.2e}  load {load[0]}", flush=True)
                running, running_n = 0.0, 0
                next_report += args.report_seconds
            if clock.wall() >= args.budget_seconds:
                done = True
                break
    train_summary = clock.summary()
    eval_clock = Clock()
    val_loss, val_chars = evaluate(model, val_ids, args.eval_batch, args.seq_len)
    train_loss, train_chars = evaluate(model, train_ids[: len(val_ids)], args.eval_batch, args.seq_len)
    evaluation = eval_clock.summary()
    return {
        "corpus": args.corpus, "characters": len(text), "vocab_size": len(vocab),
        "split": "first 90 % train, last 10 % validation (nanoGPT's data/shakespeare_char/prepare.py)",
        "train_characters": int(len(train_ids)), "val_characters": int(len(val_ids)),
        "uniform_baseline_nats": cd.uniform_baseline(len(vocab)),
        "val_loss_nats": val_loss, "val_chars_predicted": val_chars,
        "train_loss_nats_first_val_size_chars": train_loss,
        "nanogpt_reference_nats": NANOGPT_SHAKESPEARE_CHAR_VAL if args.corpus == "shakespeare" else None,
        "model": (f"Embedding({len(vocab)}, {args.embed}) -> LSTM({args.hidden}) x {args.layers} "
                  f"(dropout {args.dropout}) -> Dropout({args.dropout}) -> Linear({len(vocab)})"),
        "params": int(n_params), "framework": "torch",
        "training": (f"stateful truncated BPTT: {args.batch} streams x {args.seq_len} characters, AdamW(lr={args.lr}, "
                     f"betas=(0.9, 0.99), weight_decay={args.weight_decay}), warm-up {args.warmup_steps} steps, "
                     f"cosine decay to 10 % over the budget, grad-norm clip {args.clip}"),
        "evaluation": (f"whole split, {args.eval_batch} contiguous streams, state carried, windows of {args.seq_len}; "
                       f"the last < {args.eval_batch} characters that do not fill a stream are left out"),
        "budget_seconds": args.budget_seconds, "steps": step, "epochs": round(chars_seen / len(train_ids), 3),
        "train": train_summary, "evaluation_time": evaluation, "curve": curve,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=["shakespeare", "heart_of_darkness"], default="shakespeare")
    parser.add_argument("--budget-seconds", type=float, default=600.0, help="wall-clock training budget")
    parser.add_argument("--embed", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--eval-batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--warmup-steps", type=int, default=50)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads (1: on a shared machine 2 threads spin and run slower)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-seconds", type=float, default=30.0, help="print the training loss this often")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50,000 characters, 5 s budget")
    parser.add_argument("--out", type=Path, default=None,
                        help="result file (default benchmarks/results/char_model.json; --quick: benchmarks/output/)")
    args = parser.parse_args()
    if args.quick:
        args.budget_seconds, args.report_seconds = min(args.budget_seconds, 5.0), 2.0
    import torch

    started = now()
    record = train(args)
    record.update(command=command_line(), started=started, finished=now(), threads=args.threads,
                  seed=args.seed, quick=args.quick)
    out = args.out or (SCRATCH / "char_model_quick.json" if args.quick else RESULTS / "char_model.json")
    header = {"benchmark": "character-level LSTM: validation cross-entropy (nats per character) under a time budget",
              "note": LOAD_NOTE, "machine": machine(), "versions": {"torch": torch.__version__, "numpy": np.__version__}}
    save_record(out, args.corpus, record, header)
    rows = [{"corpus": args.corpus, "V": record["vocab_size"], "ln V": record["uniform_baseline_nats"],
             "val": record["val_loss_nats"], "train": record["train_loss_nats_first_val_size_chars"],
             "ref": record["nanogpt_reference_nats"] or "-", "epochs": record["epochs"],
             "wall": record["train"]["wall_seconds"], "cpu": record["train"]["cpu_seconds"],
             "load": record["train"]["loadavg_1min_mean"]}]
    print()
    print_table(rows, [("corpus", "corpus"), ("V", "V"), ("ln V", "uniform ln V", ".4f"),
                       ("val", "val nats/char", ".4f"), ("train", "train nats/char", ".4f"),
                       ("ref", "nanoGPT", ".4f"), ("epochs", "epochs", ".2f"), ("wall", "train wall s", ".0f"),
                       ("cpu", "train CPU s", ".0f"), ("load", "mean load (1 min)", ".1f")])
    print(f"\n{record['model']}, {record['params']:,} parameters; results: {out}")


if __name__ == "__main__":
    main()
