"""Tests of lstm_course.glove: the packaged 50-d vectors, GloVe text files, the embedding matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lstm_course import glove as G
from lstm_course.config import DataUnavailableError

TINY = Path(__file__).parent / "files" / "glove_tiny.txt"


@pytest.fixture(scope="module")
def glove50() -> G.Glove:
    return G.load_glove()


@pytest.fixture
def tiny() -> G.Glove:
    return G.load_glove(dim=3, path=TINY)


def test_packaged_vectors(glove50):
    """Are the packaged GloVe 6B 50d vectors 400,000 x 50 float32 with 'the' first?"""
    assert glove50.vectors.shape == (400_000, 50) and glove50.vectors.dtype == np.float32
    assert len(glove50) == len(glove50.words) == len(glove50.index) == 400_000
    assert glove50.words[0] == "the" and glove50.index["the"] == 0 and glove50.dim == 50
    assert np.isfinite(glove50.vectors).all()
    assert "400,000 words" in repr(glove50)


def test_text_file(tiny):
    """Is a GloVe text file read with every word kept as a string (even '"', 'nan', 'null', '1.5')?"""
    assert tiny.words == ["the", ",", '"', "nan", "null", "1.5", "movie"]
    np.testing.assert_allclose(tiny.vectors[tiny.index["movie"]], [0.25, -0.5, 0.4])
    assert tiny.vectors.dtype == np.float32


def test_text_file_dimension_checked():
    """Is a file whose vectors have another length than dim an error?"""
    with pytest.raises(ValueError, match="3-d"):
        G.load_glove(dim=50, path=TINY)


def test_missing_sources(tmp_path):
    """Are a missing file and an unshipped size clear errors?"""
    with pytest.raises(DataUnavailableError, match="does not exist"):
        G.load_glove(path=tmp_path / "glove.6B.50d.txt")
    with pytest.raises(DataUnavailableError, match="glove.6B.100d.txt"):
        G.load_glove(dim=100)


def test_embedding_matrix(tiny):
    """Are rows 0 and 1 zero, known words their vectors, unknown words zero, and the coverage right?"""
    vocabulary = ["", "[UNK]", "the", "Movie", "zzzunknown", "nan"]
    matrix, coverage = G.embedding_matrix(vocabulary, tiny)
    assert matrix.shape == (6, 3) and matrix.dtype == np.float32
    assert not matrix[[0, 1, 4]].any()
    np.testing.assert_array_equal(matrix[2], tiny.vectors[0])
    np.testing.assert_array_equal(matrix[3], tiny.vectors[tiny.index["movie"]])  # lower-case fallback
    np.testing.assert_array_equal(matrix[5], [1, 1, 1])
    assert coverage == pytest.approx(3 / 4)


def test_embedding_matrix_random_rows(tiny):
    """With missing='random', do unknown words get reproducible non-zero rows while pad/OOV stay zero?"""
    vocabulary = ["", "[UNK]", "the", "zzz1", "zzz2"]
    first, _ = G.embedding_matrix(vocabulary, tiny, missing="random", seed=1)
    second, _ = G.embedding_matrix(vocabulary, tiny, missing="random", seed=1)
    np.testing.assert_array_equal(first, second)
    assert not first[:2].any() and first[3:].all()
    with pytest.raises(ValueError):
        G.embedding_matrix(vocabulary, tiny, missing="mean")


def test_coverage_with_real_vectors(glove50):
    """Is the coverage of common English words full, and zero of made-up words?"""
    _, full = G.embedding_matrix(["", "[UNK]", "movie", "film", "great"], glove50)
    _, none = G.embedding_matrix(["", "[UNK]", "qqqzzz", "xxyyzzww"], glove50)
    assert full == 1.0 and none == 0.0
    assert G.embedding_matrix(["", "[UNK]"], glove50)[1] == 0.0
