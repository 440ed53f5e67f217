"""Turn reviews into padded integer sequences with Keras TextVectorization (course setting: 10,000 words, 500 steps),
or without TensorFlow with the same vocabulary and ids (`word_vocabulary`, `encode`)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .config import atomic_write, cache_dir, warn_not_cached
from .download import fetch, sha256sum
from .imdb import load_imdb, source_sha256

if TYPE_CHECKING:  # keras is imported lazily: a cached load_imdb_sequences never imports TensorFlow
    import keras

__all__ = ["encode", "load_imdb_sequences", "make_vectorizer", "vectorize", "word_vocabulary"]

#: Bump when the vectorizing changes, so that old cached sequences are ignored.
FORMAT_VERSION = 1
_SIDES = ("pre", "post")


def make_vectorizer(
    texts: Sequence[str], vocab_size: int = 10_000, seq_len: int | None = 500
) -> keras.layers.TextVectorization:
    """Return a `keras.layers.TextVectorization` adapted on `texts` (lower case, punctuation stripped).

    `vocab_size` counts the padding token "" (index 0) and the OOV token "[UNK]" (index 1), as
    Keras' `max_tokens` does. Used as a layer (e.g. inside a Keras model) it pads and truncates
    at the END to `seq_len` (Keras' own behaviour; None keeps whole sequences); use
    :func:`vectorize` for the course's default pre-padding and pre-truncation.
    """
    import keras

    layer = keras.layers.TextVectorization(
        max_tokens=vocab_size, output_mode="int", output_sequence_length=seq_len
    )
    layer.adapt(list(texts), batch_size=1024)
    return layer


def _unpadded(vectorizer: keras.layers.TextVectorization) -> keras.layers.TextVectorization:
    """Return a vectorizer with the same vocabulary that keeps whole sequences."""
    import keras

    config = vectorizer.get_config()
    if config.get("output_sequence_length") is None:
        return vectorizer
    config.update(output_sequence_length=None, vocabulary=None, idf_weights=None)
    copy = keras.layers.TextVectorization.from_config(config)
    copy.set_vocabulary(vectorizer.get_vocabulary())
    return copy


def vectorize(
    texts: Sequence[str],
    vectorizer: keras.layers.TextVectorization,
    seq_len: int = 500,
    padding: str = "pre",
    truncating: str = "pre",
    batch_size: int = 1024,
) -> np.ndarray:
    """Return an int32 array (n, seq_len) of token ids: 0 = padding, 1 = out of vocabulary.

    Like `keras.utils.pad_sequences`, the default pads and truncates at the start ("pre"):
    a long review keeps its last `seq_len` words and a short one ends at the last step,
    right where a recurrent layer's final state is read. "post" does it at the end.
    The result is a plain NumPy array, for Keras and PyTorch alike.
    """
    _check_sides(padding, truncating)
    import keras

    layer = _unpadded(vectorizer)
    texts = list(texts)
    out = np.zeros((len(texts), seq_len), dtype=np.int32)
    for start in range(0, len(texts), batch_size):
        # (batch, longest review in the batch), padded at the end with 0; ids are never 0 otherwise
        batch = keras.ops.convert_to_numpy(layer(texts[start : start + batch_size]))
        lengths = np.count_nonzero(batch, axis=1)
        for row, (ids, length) in enumerate(zip(batch, lengths), start=start):
            _place(out[row], ids[:length], padding, truncating)
    return out


def _check_sides(padding: str, truncating: str) -> None:
    if padding not in _SIDES or truncating not in _SIDES:
        raise ValueError(f"padding and truncating must be 'pre' or 'post', got {padding!r}, {truncating!r}")


def _place(row: np.ndarray, ids, padding: str, truncating: str) -> None:
    """Write the ids of one text into its zero row of length seq_len, cut and padded on the sides asked."""
    seq_len = len(row)
    if len(ids) > seq_len:
        ids = ids[len(ids) - seq_len :] if truncating == "pre" else ids[:seq_len]
    if len(ids) == 0:
        return
    if padding == "pre":
        row[seq_len - len(ids) :] = ids
    else:
        row[: len(ids)] = ids


# The same vocabulary and ids without TensorFlow (the PyTorch editions) ---------------------------------------

#: Keras' TextVectorization default standardisation: ASCII letters lower-cased (tf.strings.lower leaves "É"),
#: then these characters removed (its DEFAULT_STRIP_REGEX); tokens split on ASCII whitespace.
_STRIP = str.maketrans({**{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)},
                        **{ch: None for ch in "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"}})
_SPLIT = re.compile(r"[ \t\n\v\f\r]+")


def words(text: str) -> list[str]:
    """The tokens Keras' default TextVectorization makes of `text` (lower-cased, punctuation stripped)."""
    return [w for w in _SPLIT.split(text.translate(_STRIP)) if w]


def word_vocabulary(texts: Sequence[str], vocab_size: int = 10_000) -> list[str]:
    """["", "[UNK]", then the `vocab_size` - 2 most frequent words of `texts`]: the vocabulary that
    :func:`make_vectorizer` (Keras' TextVectorization) adapts, entry for entry, in plain Python.

    Like Keras, words of equal count are ordered by their UTF-8 bytes, the larger first. No TensorFlow is
    imported: the PyTorch editions of the exercises build their data with it.
    """
    if vocab_size < 2:
        raise ValueError(f"vocab_size counts the padding and the unknown token: at least 2, got {vocab_size}")
    counts = Counter(w for text in texts for w in words(text))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], _descending(item[0])))
    return ["", "[UNK]", *(word for word, _ in ranked[: vocab_size - 2])]


def _descending(word: str) -> tuple[int, ...]:
    """A sort key that orders words by their UTF-8 bytes from the largest (a prefix after its extensions)."""
    return tuple(-b for b in word.encode("utf-8")) + (1,)


def encode(
    texts: Sequence[str],
    vocabulary: Sequence[str],
    seq_len: int = 500,
    padding: str = "pre",
    truncating: str = "pre",
) -> np.ndarray:
    """int32 (n, seq_len) ids of `texts` under `vocabulary` (from :func:`word_vocabulary`): 0 = padding,
    1 = unknown word; padded and cut as :func:`vectorize` does (the same ids, without TensorFlow)."""
    _check_sides(padding, truncating)
    if list(vocabulary[:2]) != ["", "[UNK]"]:
        raise ValueError('the vocabulary must start with "" (padding, 0) and "[UNK]" (unknown, 1)')
    index = {word: i for i, word in enumerate(vocabulary) if i >= 2}
    out = np.zeros((len(texts), seq_len), dtype=np.int32)
    for row, text in enumerate(texts):
        _place(out[row], [index.get(w, 1) for w in words(text)], padding, truncating)
    return out


def _sequences_file(folder: Path, source_sha256: str, settings: dict) -> Path:
    """Cache file name keyed on the settings, the data checksum and the Keras version."""
    key = dict(settings, source=source_sha256, format=FORMAT_VERSION, keras=importlib.metadata.version("keras"))
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    name = "-".join(str(settings[k]) for k in ("vocab_size", "seq_len", "padding", "truncating"))
    return folder / f"imdb-seq-{name}-{digest}.npz"


def load_imdb_sequences(
    vocab_size: int = 10_000,
    seq_len: int = 500,
    padding: str = "pre",
    truncating: str | None = None,
    mirror: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Return `(x_train, y_train, x_test, y_test, vocabulary)` for the IMDB reviews.

    The vectorizer is adapted on the 25,000 training reviews only (no test words leak into
    the vocabulary). x: int32 (25000, seq_len); y: int64, 1 = positive; `vocabulary[i]` is
    the word of id i ("" = padding, "[UNK]" = OOV). `truncating` defaults to `padding`.
    The arrays are cached in the cache folder as an .npz keyed on the settings, the data
    checksum and the Keras version; a cached load reads only that file (it neither imports
    Keras nor reads the archive). When the cache folder cannot be written, the arrays are
    returned with a CacheNotWritableWarning.
    """
    truncating = padding if truncating is None else truncating
    _check_sides(padding, truncating)
    settings = dict(vocab_size=vocab_size, seq_len=seq_len, padding=padding, truncating=truncating)
    sha = source_sha256(mirror, cache)
    if sha is None:  # not in the mirror or cache yet: fetch it (and hash it if its checksum is unknown)
        source = fetch("imdb", mirror=mirror, cache=cache)
        sha = source_sha256(mirror, cache) or sha256sum(source)
    target = _sequences_file(cache_dir(cache), sha, settings)
    if target.exists():
        try:
            with np.load(target, allow_pickle=False) as npz:
                return (
                    npz["x_train"].astype(np.int32), npz["y_train"].astype(np.int64),
                    npz["x_test"].astype(np.int32), npz["y_test"].astype(np.int64),
                    npz["vocabulary"].tolist(),
                )
        except Exception:  # noqa: BLE001 - any unreadable entry (zlib.error, truncated, another format ...)
            pass  # is a miss: compute again (the save below replaces it)

    data = load_imdb(mirror=mirror, cache=cache)
    vectorizer = make_vectorizer(data.train_texts, vocab_size=vocab_size, seq_len=seq_len)
    vocabulary = [str(word) for word in vectorizer.get_vocabulary()]
    x_train = vectorize(data.train_texts, vectorizer, seq_len, padding, truncating)
    x_test = vectorize(data.test_texts, vectorizer, seq_len, padding, truncating)
    ids = np.uint16 if vocab_size <= np.iinfo(np.uint16).max + 1 else np.int32  # half the file size

    try:
        with atomic_write(target) as f:
            np.savez_compressed(
                f, x_train=x_train.astype(ids), y_train=data.train_labels.astype(np.int8),
                x_test=x_test.astype(ids), y_test=data.test_labels.astype(np.int8),
                vocabulary=np.array(vocabulary, dtype=str),
            )
    except OSError as err:  # a read-only cache (a sandbox, a shared folder): go on without it
        warn_not_cached(target, err)
    return x_train, data.train_labels.astype(np.int64), x_test, data.test_labels.astype(np.int64), vocabulary
