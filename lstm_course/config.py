"""Where the course finds its data: the local mirror folder and the per-user cache folder."""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

#: Environment variable naming a folder that holds a local copy of the data files.
MIRROR_ENV = "LSTM_COURSE_DATA"
#: Environment variable naming the cache folder (downloads and parsed data).
CACHE_ENV = "LSTM_COURSE_CACHE"


class DataError(RuntimeError):
    """Base class of the data errors of the course package."""


class DataUnavailableError(DataError):
    """A data file can be neither found in the mirror or cache nor downloaded."""


class ChecksumMismatchError(DataError):
    """A file does not have the expected size or sha256 (it was deleted if it was in the cache)."""


class CorruptArchiveError(DataError):
    """An archive passed its checks but cannot be read or lacks the expected layout."""


class CacheNotWritableWarning(UserWarning):
    """The cache folder cannot be written (read-only, another user's): the data is used without being cached."""


def warn_not_cached(path: str | os.PathLike, err: OSError, instead: str = "the data is used from memory") -> None:
    """Warn, in one line, that `path` could not be written to the cache (callers then go on without it)."""
    reason = getattr(err, "strerror", None) or str(err)
    warnings.warn(
        f"cannot write the cache file {os.fspath(path)} ({reason}); {instead}. "
        f"Set {CACHE_ENV} to a writable folder to keep it.",
        CacheNotWritableWarning,
        stacklevel=3,
    )


def cache_writable(folder: str | os.PathLike) -> OSError | None:
    """Return None if files can be created in `folder` (created if missing), else the OSError saying why not."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{secrets.token_hex(6)}"
        with open(probe, "xb"):
            pass
        probe.unlink()
    except OSError as err:
        return err
    return None


def resolve_mirror(mirror: str | os.PathLike | None = None) -> Path | None:
    """Return the mirror folder: `mirror` if given, else :func:`data_mirror`.

    Raises DataUnavailableError when a folder is named (here or in LSTM_COURSE_DATA)
    but does not exist, rather than silently falling back to a download.
    """
    if mirror is None:
        return data_mirror()
    path = Path(mirror).expanduser()
    if not path.exists():
        raise DataUnavailableError(f"The data mirror {str(path)!r} does not exist.")
    return path


def data_mirror() -> Path | None:
    """Return the folder named by LSTM_COURSE_DATA, or None when the variable is unset or empty.

    Raises DataUnavailableError if the variable names a folder that does not exist.
    """
    value = os.environ.get(MIRROR_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataUnavailableError(
            f"{MIRROR_ENV}={value!r} is not an existing folder. Point it at the folder holding the "
            f"course data files (e.g. aclImdb_v1_text.tar.gz), or unset it to download the data."
        )
    return path


def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """Return (and create, when possible) the cache folder.

    Order: the `cache` argument, LSTM_COURSE_CACHE, $XDG_CACHE_HOME/lstm_course, ~/.cache/lstm_course.
    A folder that cannot be created (read-only file system, no permission) is returned anyway:
    the loaders then find nothing cached and keep what they compute in memory, with a warning.
    """
    if cache is not None:
        path = Path(cache).expanduser()
    elif os.environ.get(CACHE_ENV, "").strip():
        path = Path(os.environ[CACHE_ENV].strip()).expanduser()
    elif os.environ.get("XDG_CACHE_HOME", "").strip():
        path = Path(os.environ["XDG_CACHE_HOME"].strip()).expanduser() / "lstm_course"
    else:
        path = Path.home() / ".cache" / "lstm_course"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # a read-only cache (e.g. the autograder's sandbox): reads miss, writes warn
    return path


@contextmanager
def atomic_write(target: str | os.PathLike) -> Iterator[BinaryIO]:
    """Write the file `target` atomically: yield a new binary file beside it, renamed into place at the end.

    The temporary file is created as open() creates files (mode 0666 minus the umask: 0644 with the
    usual umask 022), not 0600 as tempfile.mkstemp would: the cache is shared, e.g. mounted read-only
    into the autograder's sandbox where the kernel runs as another user. Readers never see a partial
    file; if the block raises, the temporary file is removed and `target` is left as it was. The
    yielded file's `name` is the temporary path (flush it before reading it back, e.g. to verify).
    """
    target = Path(target)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
    try:
        with open(tmp, "xb") as f:  # O_CREAT | O_EXCL, mode 0666 & ~umask
            yield f
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
