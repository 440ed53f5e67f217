"""Tests of lstm_course.char_data: vocabulary maps, nanoGPT's split and the training windows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_course import char_data as cd


def test_vocab_round_trip():
    """Does decoding the encoded text give the text back, with sorted character ids?"""
    text = "To be, or not to be:\nthat is the question."
    vocab = cd.build_vocab(text)
    assert vocab.chars == sorted(set(text))
    assert len(vocab) == len(set(text))
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert vocab.decode(ids) == text


def test_encode_rejects_unknown_character():
    """Is a character outside the vocabulary an error rather than a silent id?"""
    with pytest.raises(KeyError):
        cd.build_vocab("abc").encode("abd")


def test_split_is_nanogpt_split():
    """Are the first int(0.9 n) characters the training part and the rest the validation part?"""
    text = "".join(chr(97 + i % 26) for i in range(1_115_394))  # tiny Shakespeare's length
    train, val = cd.split_text(text)
    assert len(train) == int(len(text) * 0.9) == 1_003_854
    assert len(val) == 111_540
    assert train + val == text


def test_split_rejects_bad_fraction():
    """Is a fraction outside (0, 1) refused?"""
    with pytest.raises(ValueError):
        cd.split_text("abc", 1.0)


def test_uniform_baseline_is_log_vocab():
    """Is the uniform baseline ln V (ln 65 = 4.17 nats for tiny Shakespeare)?"""
    assert cd.uniform_baseline(65) == pytest.approx(math.log(65))
    assert cd.uniform_baseline(65) == pytest.approx(4.1744, abs=1e-4)


@pytest.mark.parametrize("offset", [0, 3])
def test_stream_batches_cover_each_target_once_and_continue(offset):
    """Do consecutive windows continue each stream, y = x shifted by one, each target predicted once?"""
    ids = np.arange(1000)
    batch, seq_len = 4, 32
    windows = list(cd.stream_batches(ids, batch, seq_len, offset=offset))
    start, length = cd.stream_layout(len(ids), batch, offset)
    xs = np.concatenate([x for x, _ in windows], axis=1)  # (batch, length)
    ys = np.concatenate([y for _, y in windows], axis=1)
    assert xs.shape == (batch, length)
    np.testing.assert_array_equal(ys, xs + 1)
    for b in range(batch):
        np.testing.assert_array_equal(xs[b], np.arange(start + b * length, start + (b + 1) * length))
    assert len(np.unique(ys)) == batch * length  # no target twice
    assert all(x.shape[1] <= seq_len for x, _ in windows)


def test_random_windows_are_shifted_pairs():
    """Does random_windows return (batch, seq_len) windows whose targets are the next characters?"""
    ids = np.arange(500)
    x, y = cd.random_windows(ids, 8, 16, np.random.default_rng(0))
    assert x.shape == y.shape == (8, 16)
    np.testing.assert_array_equal(y, x + 1)
    assert (y.max() < 500) and (x.min() >= 0)
