"""Fetch data files from the local mirror, the cache or the internet, with checksums and an atomic cache."""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .config import (
    MIRROR_ENV,
    ChecksumMismatchError,
    CorruptArchiveError,
    DataError,
    DataUnavailableError,
    atomic_write,
    cache_dir,
    cache_writable,
    resolve_mirror,
    warn_not_cached,
)

__all__ = [
    "RESOURCES",
    "ChecksumMismatchError",
    "CorruptArchiveError",
    "DataError",
    "DataUnavailableError",
    "Resource",
    "fetch",
    "locate",
    "sha256sum",
    "text_sanity_check",
    "verify_file",
    "warm_cache",
]

#: Seconds to wait for a server before giving up.
TIMEOUT = 30.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Resource:
    """One data file: where it lives on the internet and in the mirror, and how to verify it.

    `sha256`/`size` pin the file at `url`; None means the file changes upstream (Project
    Gutenberg rewrites its files), so a download is only checked by `check`, a sanity check
    that raises DataError. `mirror_filename`/`mirror_sha256` describe the file of the same data
    in a local mirror folder (LSTM_COURSE_DATA), which may differ from the upstream file.
    """

    url: str
    filename: str
    sha256: str | None = None
    size: int | None = None
    mirror_filename: str | None = None
    mirror_sha256: str | None = None
    check: Callable[[Path], None] | None = None


def text_sanity_check(min_chars: int, must_contain: str) -> Callable[[Path], None]:
    """Return a check that a file is UTF-8 text of at least `min_chars` characters containing `must_contain`."""

    def check(path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ChecksumMismatchError(f"{path} is not UTF-8 text: {exc}") from exc
        if len(text) < min_chars or must_contain.lower() not in text.lower():
            raise ChecksumMismatchError(
                f"{path} does not look like the expected text (fewer than {min_chars:,} characters "
                f"or no {must_contain!r} in it)."
            )

    return check


#: The data files of the course. Tests replace entries to point at small local files.
RESOURCES: dict[str, Resource] = {
    "imdb": Resource(
        url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        filename="aclImdb_v1.tar.gz",
        sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
        size=84_125_825,
        mirror_filename="aclImdb_v1_text.tar.gz",
        mirror_sha256="00033f9e7fd387bd1b51962eac79a32f1d33afa213a5578ba9a2cc056d3949a2",
    ),
    "heart_of_darkness": Resource(
        url="https://www.gutenberg.org/cache/epub/526/pg526.txt",
        filename="pg526.txt",
        mirror_filename="heart_of_darkness_pg526.txt",
        mirror_sha256="3a480c0480912422d721deae30069bf360d0691e47fa8ea82300cfdf37935b94",
        check=text_sanity_check(150_000, "heart of darkness"),
    ),
    "tiny_shakespeare": Resource(
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        filename="tinyshakespeare.txt",
        # The file in karpathy/char-rnn has not changed since 2015; the mirror holds the same bytes.
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        size=1_115_394,
        mirror_filename="tinyshakespeare.txt",
        mirror_sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ),
}


def sha256sum(path: str | os.PathLike) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(
    path: str | os.PathLike,
    sha256: str | None = None,
    size: int | None = None,
    check: Callable[[Path], None] | None = None,
) -> None:
    """Raise ChecksumMismatchError unless the file has the given size and sha256 and passes `check`."""
    path = Path(path)
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise ChecksumMismatchError(
            f"{path} has {actual_size:,} bytes, expected {size:,} (truncated or wrong file)."
        )
    if sha256 is not None:
        actual = sha256sum(path)
        if actual != sha256.lower():
            raise ChecksumMismatchError(f"{path} has sha256 {actual}, expected {sha256}.")
    if check is not None:
        check(path)


def _open_url(url: str, timeout: float):
    """Open `url` for reading (the one place that touches the network; tests replace it)."""
    request = urllib.request.Request(url, headers={"User-Agent": "lstm-course (python urllib)"})
    return urllib.request.urlopen(request, timeout=timeout)


def _find_in_mirror(folder: Path, res: Resource) -> tuple[Path, str | None, int | None] | None:
    """Return (path, sha256, size) of the resource's file in a mirror folder, or None.

    `folder` may also be the data file itself; it must then match the mirror's or the
    upstream checksum (when one is known).
    """
    if folder.is_file():
        actual = sha256sum(folder)
        known = {s for s in (res.mirror_sha256, res.sha256) if s}
        if known and actual not in known:
            raise ChecksumMismatchError(f"{folder} has sha256 {actual}, expected one of {sorted(known)}.")
        return folder, None, None
    candidates = [(res.mirror_filename, res.mirror_sha256, None), (res.filename, res.sha256, res.size)]
    for name, sha, size in candidates:
        if name and (folder / name).is_file():
            return folder / name, sha, size
    return None


def locate(
    name: str, mirror: str | os.PathLike | None = None, cache: str | os.PathLike | None = None
) -> tuple[Path, str | None] | None:
    """Return where :func:`fetch` would take the file from and the sha256 it checks there, without reading it.

    None means that fetch would download the file; a sha256 of None means that the file's
    checksum is not known in advance (a mirror given as a file, an unpinned resource).
    """
    res = RESOURCES[name]
    folder = resolve_mirror(mirror)
    if folder is not None:
        if folder.is_file():
            return folder, None
        for filename, sha in ((res.mirror_filename, res.mirror_sha256), (res.filename, res.sha256)):
            if filename and (folder / filename).is_file():
                return folder / filename, sha
    target = cache_dir(cache) / res.filename
    return (target, res.sha256) if target.exists() else None


def fetch(
    name: str,
    mirror: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
) -> Path:
    """Return a verified local path to the data file `name` (a key of RESOURCES).

    Looks, in order, in the mirror (`mirror`, else LSTM_COURSE_DATA; a folder or the file
    itself; files there are checked against their known sha256 and read in place, never
    copied), in the cache folder (:func:`lstm_course.config.cache_dir`), then downloads the
    file with a progress bar (into a temporary folder, with a CacheNotWritableWarning, when the
    cache folder cannot be written). A download goes to a temporary file in the cache folder, is
    verified (size and sha256, or only a sanity check for files without a stable checksum
    such as Project Gutenberg texts) and only then renamed into place, so a bad or partial
    file never stays in the cache.

    Raises DataUnavailableError (offline and no mirror; mirror folder missing) or
    ChecksumMismatchError (a file fails verification).
    """
    res = RESOURCES[name]
    folder = resolve_mirror(mirror)
    if folder is not None:
        found = _find_in_mirror(folder, res)
        if found is not None:
            path, sha, size = found
            verify_file(path, sha256=sha, size=size, check=None if sha else res.check)
            return path

    target = cache_dir(cache) / res.filename
    if target.exists():
        try:
            verify_file(target, sha256=res.sha256, size=res.size, check=res.check)
            return target
        except DataError:
            try:
                target.unlink()  # a damaged cache entry: fetch it again
            except OSError:
                pass  # a read-only cache: the download below goes to a temporary folder
    problem = cache_writable(target.parent)
    if problem is not None:
        fallback = Path(tempfile.mkdtemp(prefix="lstm_course-")) / res.filename
        warn_not_cached(target, problem, f"downloading {name!r} to {fallback} instead")
        target = fallback
    return _download(name, res, target, progress, folder)


def _download(name: str, res: Resource, target: Path, progress: bool, folder: Path | None) -> Path:
    """Download `res.url` to `target` through a verified temporary file in the same folder."""
    where = f"the mirror folder {str(folder)!r} has no {res.mirror_filename!r} and " if folder else ""

    def unavailable(reason: object) -> DataUnavailableError:
        return DataUnavailableError(
            f"Cannot get the {name!r} data: {where}downloading {res.url} failed ({reason}). "
            f"Connect to the internet, or set {MIRROR_ENV} to a folder holding "
            f"{res.mirror_filename or res.filename!r} (a local mirror)."
        )

    try:
        response = _open_url(res.url, TIMEOUT)
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise unavailable(getattr(exc, "reason", exc)) from None  # one message, no urllib traceback
    length = getattr(response, "headers", {}).get("Content-Length")
    total = int(length) if length and str(length).isdigit() else res.size

    try:
        with response, atomic_write(target) as out, tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024,
            desc=res.filename, disable=not progress, leave=False,
        ) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
            out.flush()
            verify_file(out.name, sha256=res.sha256, size=res.size, check=res.check)  # before the rename
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise unavailable(f"interrupted: {exc}") from None
    except ChecksumMismatchError as exc:
        raise ChecksumMismatchError(f"Downloaded {res.url} but it failed verification: {exc}") from exc
    return target


#: Names warm_cache accepts besides the keys of RESOURCES: data that needs no download.
PACKAGED = ("glove",)


def warm_cache(
    names: list[str] | tuple[str, ...],
    mirror: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = False,
) -> dict[str, Path | None]:
    """Prepare the data `names` ahead of time, so that later loads only read the cache.

    The autograder calls it once, outside the sandbox and before any kernel starts, with the
    names an assignment's source notebook declares in its metadata (`"lstm_course": {"data":
    ["imdb"]}`): the kernels see the cache read-only and must not each parse IMDB (20-30 s).

    * "imdb": the archive is fetched and verified and the parsed cache that
      :func:`lstm_course.imdb.load_imdb` reads is written (or checked, if present);
    * another key of RESOURCES ("heart_of_darkness", "tiny_shakespeare"): the file is fetched and verified;
    * "glove": the GloVe vectors of the installed package are loaded once (nothing is cached).

    Returns {name: the file the loaders will read (None for packaged data)}. Raises ValueError
    for an unknown name, the loaders' DataError when the data cannot be had (e.g.
    DataUnavailableError naming the URL and LSTM_COURSE_DATA), and DataError when the parsed
    IMDB cache cannot be written (every later load would parse the archive again).
    """
    unknown = [n for n in names if n not in RESOURCES and n not in PACKAGED]
    if unknown:
        raise ValueError(f"unknown data {unknown}; known: {sorted(RESOURCES) + list(PACKAGED)}")
    ready: dict[str, Path | None] = {}
    for name in dict.fromkeys(names):
        if name == "imdb":
            from . import imdb  # imdb imports this module

            imdb.load_imdb(mirror=mirror, cache=cache, progress=progress)
            parsed = imdb.parsed_cache_file(mirror, cache)
            if parsed is not None and not parsed.is_file():
                raise DataError(
                    f"The parsed IMDB cache {parsed} could not be written (see the warning above): every load "
                    f"would parse the archive again. Make the cache folder writable, or set LSTM_COURSE_CACHE."
                )
            ready[name] = parsed
        elif name == "glove":
            from .glove import load_glove

            load_glove(50)
            ready[name] = None
        else:
            ready[name] = fetch(name, mirror=mirror, cache=cache, progress=progress)
    return ready
