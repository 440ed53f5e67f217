"""Tests of lstm_course.config: the mirror and cache folder settings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lstm_course import config


def test_errors_are_runtime_errors():
    """Can callers catch every data error as a RuntimeError (and as DataError)?"""
    for error in (config.DataUnavailableError, config.ChecksumMismatchError, config.CorruptArchiveError):
        assert issubclass(error, config.DataError)
        assert issubclass(error, RuntimeError)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_no_mirror_when_unset_or_empty(monkeypatch, value):
    """Is there no mirror when LSTM_COURSE_DATA is unset or empty?"""
    if value is None:
        monkeypatch.delenv(config.MIRROR_ENV, raising=False)
    else:
        monkeypatch.setenv(config.MIRROR_ENV, value)
    assert config.data_mirror() is None
    assert config.resolve_mirror(None) is None


def test_mirror_from_environment(monkeypatch, tmp_path):
    """Does data_mirror return the folder named by LSTM_COURSE_DATA?"""
    monkeypatch.setenv(config.MIRROR_ENV, str(tmp_path))
    assert config.data_mirror() == tmp_path
    assert config.resolve_mirror(None) == tmp_path


def test_mirror_from_environment_must_exist(monkeypatch, tmp_path):
    """Is a missing LSTM_COURSE_DATA folder a clear error naming the variable?"""
    monkeypatch.setenv(config.MIRROR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(config.DataUnavailableError, match="LSTM_COURSE_DATA"):
        config.data_mirror()


def test_explicit_mirror_must_exist(tmp_path):
    """Is a mirror argument that does not exist a clear error naming the path?"""
    with pytest.raises(config.DataUnavailableError, match="nowhere"):
        config.resolve_mirror(tmp_path / "nowhere")


def test_explicit_mirror_wins(monkeypatch, tmp_path):
    """Does an explicit mirror argument win over LSTM_COURSE_DATA?"""
    monkeypatch.setenv(config.MIRROR_ENV, str(tmp_path / "nowhere"))
    assert config.resolve_mirror(tmp_path) == tmp_path


def test_cache_dir_order(monkeypatch, tmp_path):
    """Is the cache folder the argument, else LSTM_COURSE_CACHE, else XDG_CACHE_HOME, else ~/.cache, and created?"""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(config.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert config.cache_dir() == tmp_path / "home" / ".cache" / "lstm_course"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert config.cache_dir() == tmp_path / "xdg" / "lstm_course"
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "env"))
    assert config.cache_dir() == tmp_path / "env"
    assert config.cache_dir(tmp_path / "arg") == tmp_path / "arg"
    for name in ("home/.cache/lstm_course", "xdg/lstm_course", "env", "arg"):
        assert (tmp_path / name).is_dir()


def test_tests_use_a_session_cache(session_cache: Path):
    """Do the tests write to a temporary cache folder, never the user's?"""
    assert config.cache_dir() == session_cache


@pytest.fixture
def umask():
    """Set the process umask for one test (returns a setter) and restore it afterwards."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_atomic_write_mode_follows_the_umask(tmp_path, umask, mask, mode):
    """Is a cache file created like open() creates it (0666 minus the umask, e.g. 0644), not 0600 like mkstemp?

    The grader's sandbox mounts the cache read-only and runs the kernel as another user: a 0600 file is unreadable.
    """
    umask(mask)
    target = tmp_path / "file.bin"
    with config.atomic_write(target) as f:
        f.write(b"data")
    assert target.read_bytes() == b"data"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_atomic_write_failure_leaves_the_old_file(tmp_path):
    """Does an exception inside the block keep the previous file and leave no temporary file?"""
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with config.atomic_write(target) as f:
            f.write(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_cache_dir_that_cannot_be_created(tmp_path):
    """Does cache_dir return a folder it cannot create (read-only cache) instead of failing?

    Tests run as root, who ignores permissions: a folder below a regular file cannot be created by anyone.
    """
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert config.cache_dir(blocker / "cache") == blocker / "cache"
    assert config.cache_writable(blocker / "cache") is not None
    assert config.cache_writable(tmp_path / "fine") is None and (tmp_path / "fine").is_dir()
    assert list((tmp_path / "fine").iterdir()) == []
