"""Tests of lstm_course.download: mirror, cache, verified atomic downloads and their errors (no network)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import urllib.error
from pathlib import Path

import pytest

from lstm_course import download
from lstm_course.config import CacheNotWritableWarning, ChecksumMismatchError, DataUnavailableError

CONTENT = b"some data file\n" * 100
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """The 'server' copy of a small data file, reachable by a file:// URL."""
    path = tmp_path / "server" / "data.bin"
    path.parent.mkdir()
    path.write_bytes(CONTENT)
    return path


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def demo(monkeypatch, source: Path) -> download.Resource:
    """Register the resource 'demo' (URL = the file:// source) and unset LSTM_COURSE_DATA."""
    res = download.Resource(
        url=source.as_uri(), filename="data.bin", sha256=SHA, size=len(CONTENT),
        mirror_filename="demo_mirror.bin", mirror_sha256=SHA,
    )
    monkeypatch.setitem(download.RESOURCES, "demo", res)
    monkeypatch.delenv("LSTM_COURSE_DATA", raising=False)
    return res


def offline(monkeypatch) -> None:
    def refuse(url, timeout):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(download, "_open_url", refuse)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_is_verified_and_cached(demo, cache, monkeypatch):
    """Does a download land in the cache, and does the next fetch use it without the network?"""
    path = download.fetch("demo", cache=cache, progress=False)
    assert path == cache / "data.bin"
    assert path.read_bytes() == CONTENT
    assert leftovers(cache) == ["data.bin"]
    offline(monkeypatch)
    assert download.fetch("demo", cache=cache, progress=False) == path


def test_progress_bar(demo, cache, capsys):
    """Is a progress bar shown while downloading?"""
    download.fetch("demo", cache=cache, progress=True)
    assert "data.bin" in capsys.readouterr().err


def test_mirror_is_read_in_place(demo, cache, tmp_path, monkeypatch):
    """Is a mirror file verified and used where it is, without a download or a copy?"""
    offline(monkeypatch)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "demo_mirror.bin").write_bytes(CONTENT)
    assert download.fetch("demo", mirror=mirror, cache=cache) == mirror / "demo_mirror.bin"
    monkeypatch.setenv("LSTM_COURSE_DATA", str(mirror))
    assert download.fetch("demo", cache=cache) == mirror / "demo_mirror.bin"
    assert leftovers(cache) == []


def test_mirror_may_name_the_file(demo, cache, source, monkeypatch):
    """Can the mirror argument be the data file itself?"""
    offline(monkeypatch)
    assert download.fetch("demo", mirror=source, cache=cache) == source


def test_bad_mirror_file(demo, cache, tmp_path):
    """Is a mirror file with the wrong checksum an error, and is the user's file left alone?"""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "demo_mirror.bin").write_bytes(CONTENT[:-1] + b"X")
    with pytest.raises(ChecksumMismatchError, match="sha256"):
        download.fetch("demo", mirror=mirror, cache=cache)
    assert (mirror / "demo_mirror.bin").exists()


def test_missing_mirror_folder(demo, cache, tmp_path):
    """Is a mirror path that does not exist a clear error?"""
    with pytest.raises(DataUnavailableError, match="does not exist"):
        download.fetch("demo", mirror=tmp_path / "nowhere", cache=cache)


def test_offline_without_mirror(demo, cache, monkeypatch):
    """Offline with no mirror: is there ONE error naming the URL and LSTM_COURSE_DATA?"""
    offline(monkeypatch)
    with pytest.raises(DataUnavailableError) as caught:
        download.fetch("demo", cache=cache)
    message = str(caught.value)
    assert demo.url in message and "LSTM_COURSE_DATA" in message and "demo_mirror.bin" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert leftovers(cache) == []


def test_offline_with_mirror_lacking_the_file(demo, cache, tmp_path, monkeypatch):
    """Does the error say that the mirror folder lacks the file?"""
    offline(monkeypatch)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataUnavailableError, match="has no 'demo_mirror.bin'"):
        download.fetch("demo", mirror=tmp_path / "empty", cache=cache)


def test_checksum_mismatch_leaves_nothing(demo, cache, monkeypatch):
    """Is a download with the wrong sha256 refused, with nothing left in the cache?"""
    monkeypatch.setitem(download.RESOURCES, "demo", download.Resource(
        url=demo.url, filename="data.bin", sha256="0" * 64, size=len(CONTENT)))
    with pytest.raises(ChecksumMismatchError, match="expected 0000"):
        download.fetch("demo", cache=cache, progress=False)
    assert leftovers(cache) == []


def test_truncated_download_leaves_nothing(demo, cache, source):
    """Is a truncated download refused by its size, with nothing left in the cache?"""
    source.write_bytes(CONTENT[: len(CONTENT) // 2])
    with pytest.raises(ChecksumMismatchError, match="truncated"):
        download.fetch("demo", cache=cache, progress=False)
    assert leftovers(cache) == []


def test_interrupted_download_leaves_nothing(demo, cache, monkeypatch):
    """Is a connection that breaks mid-download a DataUnavailableError, with no partial file kept?"""

    class Broken(io.BytesIO):
        headers = {"Content-Length": str(len(CONTENT))}

        def read(self, size=-1):
            if self.tell() > 0:
                raise ConnectionResetError("connection reset by peer")
            return super().read(100)

    monkeypatch.setattr(download, "_open_url", lambda url, timeout: Broken(CONTENT))
    with pytest.raises(DataUnavailableError, match="interrupted"):
        download.fetch("demo", cache=cache, progress=False)
    assert leftovers(cache) == []


def test_damaged_cache_entry_is_replaced(demo, cache):
    """Is a damaged file in the cache deleted and fetched again?"""
    cache.mkdir()
    (cache / "data.bin").write_bytes(b"garbage")
    path = download.fetch("demo", cache=cache, progress=False)
    assert path.read_bytes() == CONTENT


def test_sanity_check_for_unpinned_files(cache, source, monkeypatch):
    """Without a checksum, is a download checked for sanity, and a bad one not kept?"""
    monkeypatch.delenv("LSTM_COURSE_DATA", raising=False)
    check = download.text_sanity_check(10, "some data")
    monkeypatch.setitem(download.RESOURCES, "demo", download.Resource(url=source.as_uri(), filename="t.txt", check=check))
    assert download.fetch("demo", cache=cache, progress=False).read_bytes() == CONTENT
    (cache / "t.txt").unlink()
    source.write_text("<html>Access denied</html>")
    with pytest.raises(ChecksumMismatchError, match="does not look like"):
        download.fetch("demo", cache=cache, progress=False)
    assert leftovers(cache) == []


def test_sanity_check_rejects_binary(tmp_path):
    """Does the text sanity check reject a file that is not UTF-8?"""
    path = tmp_path / "x.txt"
    path.write_bytes(b"\xff\xfe\x00" * 10)
    with pytest.raises(ChecksumMismatchError, match="UTF-8"):
        download.text_sanity_check(1, "x")(path)


def test_real_mirror_checksums(mirror_folder):
    """Do the files of the real mirror match their known sha256 (as fetch checks them)?"""
    for name, res in download.RESOURCES.items():
        path = download.fetch(name, progress=False)
        assert path == mirror_folder / res.mirror_filename


def test_locate_does_not_read(demo, cache, tmp_path, source):
    """Does locate say where fetch would look and which checksum applies, without downloading?"""
    assert download.locate("demo", cache=cache) is None
    download.fetch("demo", cache=cache, progress=False)
    assert download.locate("demo", cache=cache) == (cache / "data.bin", SHA)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "demo_mirror.bin").write_bytes(CONTENT)
    assert download.locate("demo", mirror=mirror, cache=cache) == (mirror / "demo_mirror.bin", SHA)
    assert download.locate("demo", mirror=source, cache=cache) == (source, None)


def test_downloaded_file_is_world_readable(demo, cache):
    """Is a downloaded cache file 0644 (umask 022), so that a sandboxed kernel running as another user can read it?"""
    old = os.umask(0o022)
    try:
        path = download.fetch("demo", cache=cache, progress=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_read_only_cache_downloads_elsewhere(demo, tmp_path):
    """With a cache folder that cannot be written, does fetch still return the verified file (and warn once)?"""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.warns(CacheNotWritableWarning, match="cannot write the cache file") as caught:
        path = download.fetch("demo", cache=blocker / "cache", progress=False)
    assert len(caught) == 1
    assert path.read_bytes() == CONTENT and not path.is_relative_to(blocker)
    shutil.rmtree(path.parent)


def test_read_only_cache_with_mirror_needs_no_write(demo, tmp_path, monkeypatch, recwarn):
    """Is a mirror file read in place, without touching (or warning about) a read-only cache?"""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "demo_mirror.bin").write_bytes(CONTENT)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    offline(monkeypatch)
    assert download.fetch("demo", mirror=mirror, cache=blocker / "cache") == mirror / "demo_mirror.bin"
    assert not [w for w in recwarn if issubclass(w.category, CacheNotWritableWarning)]


def test_warm_cache(mirror_folder, tmp_path):
    """Does warm_cache prepare a file and the packaged GloVe, return what the loaders will read, refuse unknown names?"""
    ready = download.warm_cache(["heart_of_darkness", "glove"], mirror=mirror_folder, cache=tmp_path / "cache")
    assert ready == {"heart_of_darkness": mirror_folder / "heart_of_darkness_pg526.txt", "glove": None}
    with pytest.raises(ValueError, match="unknown data"):
        download.warm_cache(["imbd"])
