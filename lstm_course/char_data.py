"""Character-level language-model data: vocabulary maps, nanoGPT's 90/10 split and training windows."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "CharVocab",
    "build_vocab",
    "random_windows",
    "split_text",
    "stream_batches",
    "stream_layout",
    "uniform_baseline",
]


@dataclass
class CharVocab:
    """The characters of a text, sorted, with maps both ways (nanoGPT's `stoi`/`itos`).

    >>> vocab = build_vocab("hello")
    >>> vocab.chars, vocab.encode("hell").tolist(), vocab.decode([3, 0])
    (['e', 'h', 'l', 'o'], [1, 0, 2, 2], 'oe')
    """

    chars: list[str]
    stoi: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of `text`, int64 (n,). KeyError for a character outside the vocabulary."""
        return np.fromiter((self.stoi[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        """The text of a sequence of ids."""
        return "".join(self.chars[int(i)] for i in ids)


def build_vocab(text: str) -> CharVocab:
    """The sorted set of characters of `text` (nanoGPT builds it on the whole text, train and validation)."""
    return CharVocab(sorted(set(text)))


def split_text(text: str, train_fraction: float = 0.9) -> tuple[str, str]:
    """nanoGPT's split: the first `int(len(text) * train_fraction)` characters train, the rest validate.

    A contiguous split (not a random one), so no validation passage is also seen in training.
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    n = int(len(text) * train_fraction)
    return text[:n], text[n:]


def uniform_baseline(vocab_size: int) -> float:
    """Cross-entropy in nats per character of a model that guesses uniformly: ln V."""
    return math.log(vocab_size)


def stream_layout(n_ids: int, batch_size: int, offset: int = 0) -> tuple[int, int]:
    """(start, stream_length) of the `batch_size` contiguous streams that :func:`stream_batches` cuts.

    Stream b covers ids `start + b * stream_length` up to `start + (b + 1) * stream_length`
    (inclusive end for the shifted targets).
    """
    usable = n_ids - 1 - offset  # the last id is only ever a target
    stream_length = usable // batch_size
    if stream_length < 1:
        raise ValueError(f"{n_ids} ids are too few for {batch_size} streams (offset {offset})")
    return offset, stream_length


def stream_batches(
    ids: np.ndarray, batch_size: int, seq_len: int, offset: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x, y) windows (batch_size, <= seq_len) for truncated backpropagation through time.

    The text is cut into `batch_size` contiguous streams (after skipping `offset` ids, which a
    training loop can vary from epoch to epoch); consecutive windows continue each stream, so a
    model may carry its state from one window to the next (a "stateful" LSTM). y is x shifted by
    one character. The last window of a pass may be shorter than seq_len; every id of the
    streams is predicted exactly once, which makes this also the evaluation order of a full split.
    """
    ids = np.asarray(ids)
    start, stream_length = stream_layout(len(ids), batch_size, offset)
    rows = np.arange(batch_size)[:, None] * stream_length + start  # (batch, 1)
    for t in range(0, stream_length, seq_len):
        steps = min(seq_len, stream_length - t)
        cols = rows + t + np.arange(steps)[None, :]  # (batch, steps)
        yield ids[cols], ids[cols + 1]


def random_windows(
    ids: np.ndarray, batch_size: int, seq_len: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """nanoGPT's `get_batch`: `batch_size` windows of `seq_len` ids at random starts, and their targets."""
    ids = np.asarray(ids)
    if len(ids) <= seq_len:
        raise ValueError(f"{len(ids)} ids are too few for windows of {seq_len}")
    starts = rng.integers(0, len(ids) - seq_len, size=batch_size)
    cols = starts[:, None] + np.arange(seq_len)[None, :]  # (batch, seq_len)
    return ids[cols], ids[cols + 1]
