"""Tests of lstm_course.imdb: parsing, order, the parsed cache, bad archives, and the real data set."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from lstm_course import download, imdb
from lstm_course.config import (
    CacheNotWritableWarning, ChecksumMismatchError, CorruptArchiveError, DataUnavailableError,
)

# (file in the archive, text): the official layout, with files the loader must skip
TINY_REVIEWS = [
    ("aclImdb/train/pos/3_9.txt", "Great film.<br /><br />Loved it."),
    ("aclImdb/train/pos/1_10.txt", "Superb!"),
    ("aclImdb/train/neg/2_1.txt", "Awful.<br/>Truly <BR>awful."),
    ("aclImdb/train/neg/0_3.txt", "Boring, <i>very</i> boring."),
    ("aclImdb/test/pos/0_8.txt", "Nice one"),
    ("aclImdb/test/neg/0_2.txt", "Not good"),
    ("aclImdb/train/unsup/10_0.txt", "Unlabelled ten"),
    ("aclImdb/train/unsup/9_0.txt", "Unlabelled nine"),
    ("aclImdb/train/unsup/100_0.txt", "Unlabelled hundred \u00e9t\u00e9"),
    ("aclImdb/README", "not a review"),
    ("aclImdb/imdb.vocab", "the\nand\n"),
    ("aclImdb/train/labeledBow.feat", "0:1 2:3"),
    ("aclImdb/train/urls_pos.txt", "http://www.imdb.com/title/tt0000001/usercomments"),
]
TINY_COUNTS = {"train/neg": 2, "train/pos": 2, "test/neg": 1, "test/pos": 1, "train/unsup": 3}


def make_archive(path: Path, reviews=TINY_REVIEWS) -> Path:
    """Write a tar.gz in the layout of aclImdb_v1.tar.gz."""
    with tarfile.open(path, "w:gz") as archive:
        for name, text in reviews:
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def tiny_mirror(tmp_path: Path, monkeypatch) -> Path:
    """A mirror folder holding a tiny archive, registered as the IMDB mirror file with its checksum."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    archive = make_archive(mirror / "aclImdb_v1_text.tar.gz")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(download.RESOURCES, "imdb", download.Resource(
        url="https://example.invalid/aclImdb_v1.tar.gz", filename="aclImdb_v1.tar.gz",
        sha256="f" * 64, size=1, mirror_filename="aclImdb_v1_text.tar.gz", mirror_sha256=sha,
    ))
    monkeypatch.setattr(imdb, "EXPECTED_COUNTS", TINY_COUNTS)
    return mirror


@pytest.mark.parametrize("raw, clean", [
    ("a<br />b", "a b"),
    ("end.<br /><br />Next", "end. Next"),
    ("x <br/> y<BR>z<br>w", "x y z w"),
    ("  no tags here  ", "no tags here"),
    ("keep <i>italics</i> and 1 < 2", "keep <i>italics</i> and 1 < 2"),
    ("<br />", ""),
])
def test_clean_review(raw, clean):
    """Are HTML line breaks (and the blank space around them) replaced by one space?"""
    assert imdb.clean_review(raw) == clean


def test_parse_tiny_archive(tmp_path):
    """Does the parser find every review with its label, clean the text and skip other files?"""
    data = imdb.parse_imdb_archive(make_archive(tmp_path / "a.tar.gz"))
    assert sorted(data.train_files) == ["train/neg/0_3.txt", "train/neg/2_1.txt", "train/pos/1_10.txt", "train/pos/3_9.txt"]
    by_file = dict(zip(data.train_files, zip(data.train_texts, data.train_labels.tolist())))
    assert by_file["train/pos/3_9.txt"] == ("Great film. Loved it.", 1)
    assert by_file["train/neg/2_1.txt"] == ("Awful. Truly awful.", 0)
    assert sorted(zip(data.test_files, data.test_labels.tolist())) == [("test/neg/0_2.txt", 0), ("test/pos/0_8.txt", 1)]
    assert data.train_labels.dtype == np.int64
    # unlabelled reviews by numeric id, UTF-8 decoded
    assert data.unsup_files == ["train/unsup/9_0.txt", "train/unsup/10_0.txt", "train/unsup/100_0.txt"]
    assert data.unsup_texts[2] == "Unlabelled hundred \u00e9t\u00e9"


def test_order_does_not_depend_on_the_archive(tmp_path):
    """Is the order the same whatever the order of the files in the archive?"""
    first = imdb.parse_imdb_archive(make_archive(tmp_path / "a.tar.gz"))
    second = imdb.parse_imdb_archive(make_archive(tmp_path / "b.tar.gz", TINY_REVIEWS[::-1]))
    assert first.train_files == second.train_files and first.test_files == second.test_files
    assert first.unsup_files == second.unsup_files and first.train_texts == second.train_texts


def test_load_writes_and_reads_the_parsed_cache(tiny_mirror, tmp_path, monkeypatch):
    """Does the first load store a parsed cache keyed by the checksum, and the second read it?"""
    cache = tmp_path / "cache"
    first = imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    sha = download.RESOURCES["imdb"].mirror_sha256
    assert [p.name for p in cache.iterdir()] == [f"imdb-{sha[:16]}-v{imdb.FORMAT_VERSION}.npz"]

    def no_parsing(path):
        raise AssertionError("the archive was parsed again")

    monkeypatch.setattr(imdb, "parse_imdb_archive", no_parsing)
    monkeypatch.setattr(imdb, "fetch", no_parsing)  # nor reads the archive
    second = imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    for field in ("train_texts", "test_texts", "unsup_texts", "train_files", "test_files", "unsup_files"):
        assert getattr(first, field) == getattr(second, field)
    assert np.array_equal(first.train_labels, second.train_labels)
    assert second.test_labels.dtype == np.int64


def test_parsed_cache_is_world_readable(tiny_mirror, tmp_path):
    """Is the parsed cache written 0644 (umask 022), so that a sandboxed kernel running as another user can read it?"""
    cache = tmp_path / "cache"
    old = os.umask(0o022)
    try:
        imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    finally:
        os.umask(old)
    (path,) = cache.iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_parsed_cache_is_plain_arrays(tiny_mirror, tmp_path):
    """Can the parsed cache be read without pickle (no Python objects in it)?"""
    cache = tmp_path / "cache"
    imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    (path,) = cache.iterdir()
    with np.load(path, allow_pickle=False) as npz:
        assert all(npz[key].dtype != object for key in npz.files)


def test_damaged_parsed_cache_is_rebuilt(tiny_mirror, tmp_path):
    """Is a damaged parsed cache replaced by a fresh parse?"""
    cache = tmp_path / "cache"
    imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    (path,) = cache.iterdir()
    path.write_bytes(b"not an npz")
    data = imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    assert len(data.unsup_texts) == 3
    with np.load(path, allow_pickle=False) as npz:
        assert "blob" in npz.files


def _corrupt_compressed(path: Path) -> bytes:
    """The parsed cache rewritten with zip compression and bytes flipped inside the deflate stream."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    data = bytearray(buffer.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("blob.npy")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len  # the member's deflate stream
    data[start : start + 8] = b"\xff" * 8  # an invalid deflate block type
    return bytes(data)


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated", "corrupt_deflate", "other_npz", "pickle"])
def test_any_unreadable_parsed_cache_is_a_miss(tiny_mirror, tmp_path, damage):
    """Whatever is wrong with the parsed cache entry (garbage, truncated, a corrupt compressed member raising
    zlib.error, another format), does load_imdb parse the archive again and replace the entry?"""
    cache = tmp_path / "cache"
    good = imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    (path,) = cache.iterdir()
    original = path.read_bytes()
    other = io.BytesIO()
    np.savez(other, x=np.arange(3))
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    path.write_bytes({
        "empty": b"", "garbage": b"not an npz \x00\xff" * 100, "truncated": original[: len(original) // 2],
        "corrupt_deflate": _corrupt_compressed(path), "other_npz": other.getvalue(), "pickle": pickled.getvalue(),
    }[damage])
    data = imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    assert data.train_files == good.train_files and data.unsup_texts == good.unsup_texts
    assert path.read_bytes() == original


@pytest.mark.parametrize("error", [zlib.error("Error -3 while decompressing data: invalid distance too far back"),
                                   EOFError("Compressed file ended before the end-of-stream marker was reached"),
                                   RuntimeError("anything else")])
def test_parsed_cache_read_errors_are_misses(tiny_mirror, tmp_path, monkeypatch, error):
    """Is any exception while reading the parsed cache (zlib.error seen in a shared cache) a miss, not a failure?"""
    cache = tmp_path / "cache"
    imdb.load_imdb(mirror=tiny_mirror, cache=cache)

    def broken(path):
        raise error

    monkeypatch.setattr(imdb, "_load_parsed", broken)
    assert len(imdb.load_imdb(mirror=tiny_mirror, cache=cache).train_texts) == 4


def test_unwritable_cache_folder_parses_in_memory(tiny_mirror, tmp_path):
    """With a cache folder that cannot even be created, does load_imdb return the data (with one warning)?"""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.warns(CacheNotWritableWarning, match="cannot write the cache file") as caught:
        data = imdb.load_imdb(mirror=tiny_mirror, cache=blocker / "cache")
    assert len(caught) == 1
    assert len(data.train_texts) == 4 and len(data.unsup_texts) == 3


def test_read_only_cache_with_a_damaged_entry(tiny_mirror, tmp_path, monkeypatch):
    """In a read-only cache (writes fail: simulated, since root ignores permissions) holding a damaged parse,
    does load_imdb parse in memory, warn, and leave the folder as it was?"""
    cache = tmp_path / "cache"
    imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    (path,) = cache.iterdir()
    path.write_bytes(b"damaged")

    def read_only(target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(imdb, "atomic_write", read_only)
    with pytest.warns(CacheNotWritableWarning, match="Permission denied"):
        data = imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    assert len(data.test_texts) == 2
    assert [p.name for p in cache.iterdir()] == [path.name] and path.read_bytes() == b"damaged"


def test_truncated_archive(tiny_mirror, tmp_path, monkeypatch):
    """Is a truncated archive a CorruptArchiveError, with no parsed cache left behind?"""
    archive = tiny_mirror / "aclImdb_v1_text.tar.gz"
    archive.write_bytes(archive.read_bytes()[:200])
    res = download.RESOURCES["imdb"]
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()  # let it pass the checksum to reach the parser
    monkeypatch.setitem(download.RESOURCES, "imdb", download.Resource(
        url=res.url, filename=res.filename, mirror_filename=res.mirror_filename, mirror_sha256=sha))
    cache = tmp_path / "cache"
    with pytest.raises(CorruptArchiveError, match="truncated or damaged"):
        imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    assert list(cache.iterdir()) == []


def test_checksum_mismatch(tiny_mirror, tmp_path):
    """Is a mirror archive whose checksum differs refused before parsing?"""
    archive = tiny_mirror / "aclImdb_v1_text.tar.gz"
    archive.write_bytes(archive.read_bytes()[:-10])
    with pytest.raises(ChecksumMismatchError):
        imdb.load_imdb(mirror=tiny_mirror, cache=tmp_path / "cache")


def test_wrong_counts(tiny_mirror, tmp_path, monkeypatch):
    """Is an archive without the expected numbers of reviews an error, and not cached?"""
    monkeypatch.setattr(imdb, "EXPECTED_COUNTS", dict(TINY_COUNTS, **{"train/pos": 12_500}))
    cache = tmp_path / "cache"
    with pytest.raises(CorruptArchiveError, match="expected"):
        imdb.load_imdb(mirror=tiny_mirror, cache=cache)
    assert list(cache.iterdir()) == []


def test_offline_without_mirror(tmp_path, monkeypatch):
    """Offline and without a mirror, is there one clear error naming the URL and LSTM_COURSE_DATA?"""
    monkeypatch.delenv("LSTM_COURSE_DATA", raising=False)
    with pytest.raises(DataUnavailableError, match="LSTM_COURSE_DATA") as caught:
        imdb.load_imdb(cache=tmp_path / "cache", progress=False)
    assert "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz" in str(caught.value)


def test_missing_mirror(tmp_path):
    """Is a mirror path that does not exist a clear error?"""
    with pytest.raises(DataUnavailableError, match="does not exist"):
        imdb.load_imdb(mirror=tmp_path / "nowhere", cache=tmp_path / "cache")


# ---- the real data set (parsed once per session by the imdb_data fixture) ----

def test_real_counts(imdb_data):
    """Are there 25,000 / 25,000 / 50,000 reviews, 12,500 per class in train and test?"""
    assert len(imdb_data.train_texts) == len(imdb_data.train_labels) == 25_000
    assert len(imdb_data.test_texts) == len(imdb_data.test_labels) == 25_000
    assert len(imdb_data.unsup_texts) == 50_000
    for labels in (imdb_data.train_labels, imdb_data.test_labels):
        assert np.bincount(labels).tolist() == [12_500, 12_500]
        assert set(np.unique(labels)) == {0, 1}


def test_real_texts_are_clean(imdb_data):
    """Are all `<br />` tags gone, and no review empty?"""
    for texts in (imdb_data.train_texts, imdb_data.test_texts, imdb_data.unsup_texts):
        assert not any("<br" in text.lower() for text in texts)
        assert all(text.strip() for text in texts)


def test_real_labels_match_the_files(imdb_data):
    """Does every label agree with its review's folder, and are the files unique?"""
    for files, labels in ((imdb_data.train_files, imdb_data.train_labels), (imdb_data.test_files, imdb_data.test_labels)):
        assert [f.split("/")[1] == "pos" for f in files] == labels.astype(bool).tolist()
        assert len(set(files)) == len(files)
    assert all(f.startswith("train/unsup/") for f in imdb_data.unsup_files)


def test_real_order_mixes_labels(imdb_data):
    """Is the last 20% of the training set (Keras' validation_split) balanced?"""
    tail = imdb_data.train_labels[-5_000:]
    assert 0.45 < tail.mean() < 0.55


def test_second_load_reads_the_cache(imdb_data, monkeypatch):
    """Does a second load read the parsed cache and give the same reviews in the same order?"""
    monkeypatch.setattr(imdb, "parse_imdb_archive", lambda path: pytest.fail("parsed again"))
    monkeypatch.setattr(imdb, "fetch", lambda *a, **k: pytest.fail("archive read again"))
    again = imdb.load_imdb(progress=False)
    assert again.train_texts == imdb_data.train_texts and again.unsup_files == imdb_data.unsup_files
    assert np.array_equal(again.test_labels, imdb_data.test_labels)


def test_subset(imdb_data):
    """Is imdb_subset balanced, of the asked size, and reproducible?"""
    small = imdb.imdb_subset(imdb_data, 101, 40, seed=3, n_unsup=5)
    assert len(small.train_texts) == 101 and np.bincount(small.train_labels).tolist() == [51, 50]
    assert len(small.test_texts) == 40 and np.bincount(small.test_labels).tolist() == [20, 20]
    assert len(small.unsup_texts) == 5
    position = {f: i for i, f in enumerate(imdb_data.train_files)}
    for f, text, label in zip(small.train_files, small.train_texts, small.train_labels):
        assert imdb_data.train_texts[position[f]] == text and imdb_data.train_labels[position[f]] == label
    same = imdb.imdb_subset(imdb_data, 101, 40, seed=3, n_unsup=5)
    assert same.train_files == small.train_files and same.unsup_texts == small.unsup_texts
    assert imdb.imdb_subset(imdb_data, 101, 40, seed=4).train_files != small.train_files
    with pytest.raises(ValueError):
        imdb.imdb_subset(imdb_data, 30_000, 10)
    assert "train=101" in repr(small)
