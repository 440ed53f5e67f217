"""Tests of lstm_course.vectorize: the course's TextVectorization, pre/post padding, the cached IMDB sequences."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_course import imdb, vectorize  # noqa: E402
from lstm_course.config import CacheNotWritableWarning  # noqa: E402

CORPUS = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "The cat, the dog!",
    "a very long review " + "word " * 30 + "the end",
]


@pytest.fixture(scope="module")
def small_vectorizer():
    return vectorize.make_vectorizer(CORPUS, vocab_size=8, seq_len=6)


def test_vocabulary(small_vectorizer):
    """Does the vocabulary start with padding and OOV and hold at most vocab_size entries?"""
    vocabulary = small_vectorizer.get_vocabulary()
    assert vocabulary[:4] == ["", "[UNK]", "word", "the"]  # then by frequency
    assert len(vocabulary) == 8


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_matches_pad_sequences(small_vectorizer, padding, truncating):
    """Does vectorize pad and truncate exactly like keras.utils.pad_sequences?"""
    whole = vectorize.make_vectorizer(CORPUS, vocab_size=8, seq_len=None)
    sequences = [[int(i) for i in np.asarray(whole([text]))[0] if i != 0] for text in CORPUS]
    expected = keras.utils.pad_sequences(sequences, maxlen=6, padding=padding, truncating=truncating)
    got = vectorize.vectorize(CORPUS, small_vectorizer, seq_len=6, padding=padding, truncating=truncating)
    assert got.dtype == np.int32 and got.shape == (len(CORPUS), 6)
    np.testing.assert_array_equal(got, expected)


def test_default_is_pre(small_vectorizer):
    """Are short texts padded at the start and long ones cut at the start by default?"""
    ids = vectorize.vectorize(["cat", "the zebra", CORPUS[3]], small_vectorizer, seq_len=4, batch_size=2)
    vocabulary = small_vectorizer.get_vocabulary()
    assert ids[0, :3].tolist() == [0, 0, 0] and vocabulary[ids[0, 3]] == "cat"
    assert ids[1, 2:].tolist() == [vocabulary.index("the"), 1]  # "zebra" is out of vocabulary
    assert [vocabulary[i] for i in ids[2, -2:]] == ["the", "[UNK]"]  # ... "the end": the last words stay


def test_empty_text(small_vectorizer):
    """Is an empty text all padding?"""
    assert not vectorize.vectorize([""], small_vectorizer, seq_len=5).any()


def test_layer_keeps_keras_behaviour(small_vectorizer):
    """Used as a layer, does the vectorizer give Keras' fixed length (post padding)?"""
    out = np.asarray(small_vectorizer(["cat"]))
    assert out.shape == (1, 6) and out[0, 0] != 0 and not out[0, 1:].any()


def test_bad_padding(small_vectorizer):
    """Is an unknown padding side a ValueError?"""
    with pytest.raises(ValueError, match="'pre' or 'post'"):
        vectorize.vectorize(CORPUS, small_vectorizer, padding="middle")
    with pytest.raises(ValueError):
        vectorize.load_imdb_sequences(truncating="both")


@pytest.fixture
def small_imdb(imdb_data, monkeypatch, tmp_path):
    """Make load_imdb_sequences work on 300 + 100 real reviews, with a fresh cache folder."""
    small = imdb.imdb_subset(imdb_data, 300, 100, seed=1)
    monkeypatch.setattr(vectorize, "load_imdb", lambda mirror=None, cache=None: small)
    return small, tmp_path / "cache"


def test_load_imdb_sequences_small(small_imdb, monkeypatch):
    """Are shapes, dtypes and labels right, and does a second call read the cache?"""
    small, cache = small_imdb
    x_train, y_train, x_test, y_test, vocabulary = vectorize.load_imdb_sequences(
        vocab_size=500, seq_len=40, cache=cache)
    assert x_train.shape == (300, 40) and x_test.shape == (100, 40)
    assert x_train.dtype == x_test.dtype == np.int32 and y_train.dtype == np.int64
    np.testing.assert_array_equal(y_train, small.train_labels)
    assert len(vocabulary) == 500 and vocabulary[:2] == ["", "[UNK]"]
    assert x_train.max() < 500 and (x_train[:, -1] != 0).all()  # pre-padding: the last step is a word

    monkeypatch.setattr(vectorize, "make_vectorizer", lambda *a, **k: pytest.fail("not cached"))
    again = vectorize.load_imdb_sequences(vocab_size=500, seq_len=40, cache=cache)
    for a, b in zip(again[:4], (x_train, y_train, x_test, y_test)):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert again[4] == vocabulary
    with np.load(next(cache.glob("imdb-seq-*.npz")), allow_pickle=False) as npz:
        assert npz["vocabulary"].dtype.kind == "U"
    # the sandboxed grading kernel runs as another user: the cache file must be readable by others
    assert next(cache.glob("imdb-seq-*.npz")).stat().st_mode & 0o004


def test_sequences_cache_keyed_on_settings(small_imdb):
    """Do other settings give another cache file, post padding included?"""
    _, cache = small_imdb
    pre = vectorize.load_imdb_sequences(vocab_size=500, seq_len=40, cache=cache)[0]
    post = vectorize.load_imdb_sequences(vocab_size=500, seq_len=40, padding="post", cache=cache)[0]
    assert len(list(cache.glob("imdb-seq-*.npz"))) == 2
    assert (post[:, 0] != 0).all() and not np.array_equal(pre, post)


def test_unreadable_sequences_cache_is_a_miss(small_imdb):
    """Is a garbage or truncated sequences cache entry computed again (and replaced), never an error?"""
    _, cache = small_imdb
    first = vectorize.load_imdb_sequences(vocab_size=500, seq_len=40, cache=cache)[0]
    (path,) = cache.glob("imdb-seq-*.npz")
    good = path.read_bytes()
    for damaged in (b"garbage" * 10, good[: len(good) // 2], good[:-200]):
        path.write_bytes(damaged)
        np.testing.assert_array_equal(vectorize.load_imdb_sequences(vocab_size=500, seq_len=40, cache=cache)[0], first)
        assert path.read_bytes() == good


def test_load_imdb_sequences_read_only_cache(small_imdb, tmp_path):
    """With a cache folder that cannot be written, are the arrays still returned (with one warning)?"""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.warns(CacheNotWritableWarning, match="cannot write the cache file") as caught:
        x_train, y_train, *_ = vectorize.load_imdb_sequences(vocab_size=500, seq_len=40, cache=blocker / "cache")
    assert len(caught) == 1
    assert x_train.shape == (300, 40) and len(y_train) == 300


@pytest.mark.slow
def test_load_imdb_sequences_real(imdb_data):
    """On the real data (10,000 words, 500 steps): are the shapes and labels right?"""
    x_train, y_train, x_test, y_test, vocabulary = vectorize.load_imdb_sequences()
    assert x_train.shape == x_test.shape == (25_000, 500)
    assert len(vocabulary) == 10_000 and x_train.max() == 9_999
    np.testing.assert_array_equal(y_train, imdb_data.train_labels)
    np.testing.assert_array_equal(y_test, imdb_data.test_labels)


TRICKY = ["Ça va? L'ÉTÉ\u00a0est\u2009là — très «bien»", "a\u3000b  c\x1cd", "Tab\there\nnew", "", "!!! ...",
          "bb b ba ab a aa", "B b A a"]


@pytest.mark.parametrize("padding, truncating", [("pre", "pre"), ("post", "post"), ("pre", "post")])
def test_without_tensorflow_same_vocabulary_and_ids(padding, truncating):
    """Do word_vocabulary and encode (plain Python, for the PyTorch editions) give Keras' TextVectorization's
    vocabulary entry for entry (ties by byte order, only ASCII lower-cased, Unicode spaces inside words, the
    cut-off inside a tie) and vectorize's ids, on small and awkward texts?"""
    texts = CORPUS + TRICKY
    for size in (5, 8, 12, 50):
        layer = vectorize.make_vectorizer(texts, vocab_size=size, seq_len=6)
        vocabulary = vectorize.word_vocabulary(texts, size)
        assert vocabulary == [str(w) for w in layer.get_vocabulary()], size
        np.testing.assert_array_equal(vectorize.encode(texts, vocabulary, 6, padding, truncating),
                                      vectorize.vectorize(texts, layer, 6, padding, truncating))


def test_without_tensorflow_same_as_keras_on_imdb(imdb_data):
    """On 2,000 real training reviews (the course's 10,000-entry vocabulary) and 300 test reviews, are the
    vocabulary and the padded ids exactly Keras'?"""
    subset = imdb.imdb_subset(imdb_data, 2000, 300, seed=1)
    layer = vectorize.make_vectorizer(subset.train_texts, vocab_size=10_000, seq_len=200)
    vocabulary = vectorize.word_vocabulary(subset.train_texts, 10_000)
    assert vocabulary == [str(w) for w in layer.get_vocabulary()]
    np.testing.assert_array_equal(vectorize.encode(subset.test_texts, vocabulary, 200),
                                  vectorize.vectorize(subset.test_texts, layer, 200))


def test_without_tensorflow_bad_input():
    """Are a vocabulary without its two reserved entries, a size below 2 and an unknown side refused, saying why?"""
    with pytest.raises(ValueError, match="padding"):
        vectorize.encode(["a"], ["a", "b"], 4)
    with pytest.raises(ValueError, match="at least 2"):
        vectorize.word_vocabulary(["a"], 1)
    with pytest.raises(ValueError, match="'pre' or 'post'"):
        vectorize.encode(["a"], ["", "[UNK]"], 4, padding="middle")
