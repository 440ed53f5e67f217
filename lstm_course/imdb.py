"""IMDB movie reviews (Maas et al. 2011): load from the mirror or the official archive, with a parsed cache."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import CorruptArchiveError, atomic_write, cache_dir, warn_not_cached
from .download import fetch, locate, sha256sum

__all__ = [
    "EXPECTED_COUNTS", "ImdbData", "clean_review", "imdb_subset", "load_imdb", "parse_imdb_archive", "parsed_cache_file",
    "source_sha256",
]

#: Reviews per folder of the Large Movie Review Dataset v1.0; load_imdb checks them.
EXPECTED_COUNTS: dict[str, int] | None = {
    "train/neg": 12_500, "train/pos": 12_500, "test/neg": 12_500, "test/pos": 12_500, "train/unsup": 50_000,
}
#: Bump when the parsing or the order changes, so that old parsed caches are ignored.
FORMAT_VERSION = 2

_MEMBER = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
_CHUNK = 1 << 20
_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)


@dataclass(repr=False, eq=False)
class ImdbData:
    """The IMDB reviews; labels are 1 = positive, 0 = negative (int64).

    `*_files` name each review's file in the archive without the `aclImdb/` prefix, e.g.
    `train/pos/4715_9.txt` (id 4715, rating 9 of 10), so any review can be traced back.
    """

    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    unsup_texts: list[str]
    train_files: list[str] = field(default_factory=list)
    test_files: list[str] = field(default_factory=list)
    unsup_files: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"ImdbData(train={len(self.train_texts):,} (pos {int(np.sum(self.train_labels)):,}), "
            f"test={len(self.test_texts):,} (pos {int(np.sum(self.test_labels)):,}), "
            f"unsup={len(self.unsup_texts):,})"
        )


def clean_review(text: str) -> str:
    """Replace the HTML line breaks of a review (`<br />`, `<br/>`, `<br>`, runs of them) by one space."""
    if "<" not in text:
        return text.strip()
    marked = text.replace("<br />", "\0")  # the common form, without a (slow) regex
    if "<" in marked:
        marked = _BREAK_TAG.sub("\0", marked)
    parts = (part.strip() for part in marked.split("\0"))
    return " ".join(part for part in parts if part)


def _order_key(name: str) -> bytes:
    """A fixed pseudo-random key of a review's file name (same on every machine and version)."""
    return hashlib.blake2b(name.encode(), digest_size=8).digest()


def parse_imdb_archive(path: str | os.PathLike) -> ImdbData:
    """Read the reviews straight from the tar.gz stream (official archive or the text-only mirror).

    Order (deterministic, independent of the archive's member order): train and test reviews
    are sorted by a fixed hash of their file name (blake2b of e.g. `train/pos/4715_9.txt`),
    which mixes positive and negative reviews, so that taking the last 20% (Keras'
    `validation_split`) gives a balanced validation set; unlabelled reviews are sorted by
    their numeric id. Text is decoded as UTF-8 and `<br />` tags are replaced by a space.
    Raises CorruptArchiveError if the archive is truncated or cannot be read.
    """
    found: dict[str, list[tuple[str, str]]] = {"train": [], "test": [], "unsup": []}
    try:
        # gzip.open, unlike tarfile's own "r|gz", raises EOFError on a truncated file and checks the CRC
        with gzip.open(path, "rb") as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                match = _MEMBER.match(member.name)
                if match is None or not member.isfile():
                    continue
                split, label, _, _ = match.groups()
                raw = archive.extractfile(member).read()
                name = member.name.split("aclImdb/", 1)[1]
                found["unsup" if label == "unsup" else split].append(
                    (name, clean_review(raw.decode("utf-8", errors="replace")))
                )
            while stream.read(_CHUNK):  # read to the end, so that truncation and a bad CRC show
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise CorruptArchiveError(f"Cannot read the IMDB archive {path} (truncated or damaged?): {exc}") from exc

    def labelled(items: list[tuple[str, str]]) -> tuple[list[str], np.ndarray, list[str]]:
        items = sorted(items, key=lambda item: _order_key(item[0]))
        labels = np.array([name.split("/")[1] == "pos" for name, _ in items], dtype=np.int64)
        return [text for _, text in items], labels, [name for name, _ in items]

    train_texts, train_labels, train_files = labelled(found["train"])
    test_texts, test_labels, test_files = labelled(found["test"])
    unsup = sorted(found["unsup"], key=lambda item: int(_MEMBER.match("aclImdb/" + item[0]).group(3)))
    return ImdbData(
        train_texts, train_labels, test_texts, test_labels, [text for _, text in unsup],
        train_files, test_files, [name for name, _ in unsup],
    )


def _check_counts(data: ImdbData, source: Path) -> None:
    """Raise CorruptArchiveError if the folders do not hold EXPECTED_COUNTS reviews."""
    if EXPECTED_COUNTS is None:
        return
    counts = {"train/unsup": len(data.unsup_texts)}
    for split, labels in (("train", data.train_labels), ("test", data.test_labels)):
        counts[f"{split}/pos"] = int(np.sum(labels == 1))
        counts[f"{split}/neg"] = int(np.sum(labels == 0))
    if counts != EXPECTED_COUNTS:
        raise CorruptArchiveError(f"{source} holds {counts} reviews, expected {EXPECTED_COUNTS}.")


def _save_parsed(data: ImdbData, target: Path) -> None:
    """Write the parsed reviews as an .npz of plain arrays (no pickle), atomically.

    Texts are one UTF-8 blob plus character offsets (not compressed: decompressing 130 MB
    would take most of the cached load's time); labels int8; file names a fixed-width
    unicode array.
    """
    texts = data.train_texts + data.test_texts + data.unsup_texts
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    blob = np.frombuffer("".join(texts).encode("utf-8"), dtype=np.uint8)
    with atomic_write(target) as f:
        np.savez(
            f,
            blob=blob,
            offsets=offsets,
            sizes=np.array([len(data.train_texts), len(data.test_texts), len(data.unsup_texts)]),
            labels=np.concatenate([data.train_labels, data.test_labels]).astype(np.int8),
            files=np.array(data.train_files + data.test_files + data.unsup_files, dtype=str),
        )


def _load_parsed(source: Path) -> ImdbData:
    """Read a file written by _save_parsed (allow_pickle=False)."""
    with np.load(source, allow_pickle=False) as npz:
        text = npz["blob"].tobytes().decode("utf-8")
        offsets = npz["offsets"].tolist()
        n_train, n_test, n_unsup = npz["sizes"].tolist()
        labels = npz["labels"].astype(np.int64)
        files = npz["files"].tolist()
    texts = [text[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    if len(texts) != n_train + n_test + n_unsup or len(labels) != n_train + n_test:
        raise ValueError("inconsistent parsed IMDB cache")
    cut = n_train + n_test
    return ImdbData(
        texts[:n_train], labels[:n_train], texts[n_train:cut], labels[n_train:], texts[cut:],
        files[:n_train], files[n_train:cut], files[cut:],
    )


def _parsed_file(folder: Path, source_sha256: str) -> Path:
    """Name of the parsed cache of the archive with this sha256."""
    return folder / f"imdb-{source_sha256[:16]}-v{FORMAT_VERSION}.npz"


def source_sha256(mirror: str | os.PathLike | None = None, cache: str | os.PathLike | None = None) -> str | None:
    """The sha256 of the IMDB archive that load_imdb would read, when known without reading it."""
    found = locate("imdb", mirror=mirror, cache=cache)
    return found[1] if found else None


def parsed_cache_file(mirror: str | os.PathLike | None = None, cache: str | os.PathLike | None = None) -> Path | None:
    """The parsed cache file load_imdb reads for this mirror and cache (None if the archive's sha256 is unknown)."""
    sha = source_sha256(mirror, cache)
    return None if sha is None else _parsed_file(cache_dir(cache), sha)


def _read_parsed(folder: Path, sha: str | None) -> ImdbData | None:
    """The cached parse for the archive with this sha256, or None (a damaged file is replaced by the next save)."""
    if sha is None or not _parsed_file(folder, sha).exists():
        return None
    parsed = _parsed_file(folder, sha)
    try:
        data = _load_parsed(parsed)
        _check_counts(data, parsed)
        return data
    except Exception:  # noqa: BLE001 - ANY unreadable entry (zlib.error, EOFError, truncated, another format ...)
        return None  # is a miss: parse again (the save replaces it); a wrong cache must never stop a load


def load_imdb(
    mirror: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
) -> ImdbData:
    """Load the 25,000 train, 25,000 test (12,500 per class each) and 50,000 unlabelled reviews.

    The archive comes from `mirror` (a folder like LSTM_COURSE_DATA holding
    `aclImdb_v1_text.tar.gz` or `aclImdb_v1.tar.gz`, or the archive itself), else
    LSTM_COURSE_DATA, else the cache folder, else a verified download of the official
    archive (see :func:`lstm_course.download.fetch`). The first load verifies the archive's
    sha256, parses it (several seconds) and stores the result in the cache folder as
    `imdb-<archive sha256>-v<format>.npz` (about 140 MB, uncompressed for speed); later
    loads read only that file. When the cache folder cannot be written, the parse is returned
    with a CacheNotWritableWarning. See :func:`parse_imdb_archive` for the order of the reviews
    and the text cleaning.
    """
    folder = cache_dir(cache)
    data = _read_parsed(folder, source_sha256(mirror, cache))
    if data is not None:
        return data
    source = fetch("imdb", mirror=mirror, cache=cache, progress=progress)
    sha = source_sha256(mirror, cache) or sha256sum(source)
    data = parse_imdb_archive(source)
    _check_counts(data, source)
    try:
        _save_parsed(data, _parsed_file(folder, sha))
    except OSError as err:  # a read-only cache (a sandbox, a shared folder): go on without it
        warn_not_cached(_parsed_file(folder, sha), err)
    return data


def imdb_subset(data: ImdbData, n_train: int, n_test: int, seed: int = 0, n_unsup: int = 0) -> ImdbData:
    """Return a smaller ImdbData with balanced classes, drawn without replacement, for fast runs.

    An odd count gives the extra review to the negative class. The reviews are in a random
    order fixed by `seed`.
    """
    rng = np.random.default_rng(seed)

    def pick(texts: list[str], labels: np.ndarray, files: list[str], n: int):
        chosen = []
        for label, count in ((0, n - n // 2), (1, n // 2)):
            pool = np.flatnonzero(labels == label)
            if count > len(pool):
                raise ValueError(f"asked for {count} reviews of label {label}, only {len(pool)} exist")
            chosen.append(rng.choice(pool, size=count, replace=False))
        idx = rng.permutation(np.concatenate(chosen))
        return [texts[i] for i in idx], labels[idx], [files[i] for i in idx] if files else []

    train = pick(data.train_texts, data.train_labels, data.train_files, n_train)
    test = pick(data.test_texts, data.test_labels, data.test_files, n_test)
    if n_unsup > len(data.unsup_texts):
        raise ValueError(f"asked for {n_unsup} unlabelled reviews, only {len(data.unsup_texts)} exist")
    unsup_idx = np.sort(rng.choice(len(data.unsup_texts), size=n_unsup, replace=False))
    return ImdbData(
        train[0], train[1], test[0], test[1], [data.unsup_texts[i] for i in unsup_idx],
        train[2], test[2], [data.unsup_files[i] for i in unsup_idx] if data.unsup_files else [],
    )
