"""Shared test set-up: the local data mirror, a per-session cache folder, no network for the data loaders."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FILES = Path(__file__).resolve().parent / "files"

# CI and the development machines keep the data in ../shared/data next to the repository.
_MIRROR = REPO.parent / "shared" / "data"
if not os.environ.get("LSTM_COURSE_DATA") and _MIRROR.is_dir():
    os.environ["LSTM_COURSE_DATA"] = str(_MIRROR)


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder shared by the tests of one session, so they never touch the user's cache."""
    folder = tmp_path_factory.mktemp("lstm_course_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LSTM_COURSE_CACHE", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the loaders open file:// URLs only; anything else fails as if offline."""
    from lstm_course import download

    def open_local_only(url: str, timeout: float):
        if not url.startswith("file:"):
            raise urllib.error.URLError("network disabled in the tests")
        return urllib.request.urlopen(url, timeout=timeout)

    monkeypatch.setattr(download, "_open_url", open_local_only)


@pytest.fixture(scope="session")
def mirror_folder() -> Path:
    """The local data mirror (LSTM_COURSE_DATA); tests that need the real data skip without it."""
    value = os.environ.get("LSTM_COURSE_DATA")
    if not value or not Path(value).is_dir():
        pytest.skip("no data mirror: set LSTM_COURSE_DATA to a folder like ../shared/data")
    return Path(value)


@pytest.fixture(scope="session")
def imdb_data(mirror_folder: Path, session_cache: Path):
    """The real IMDB reviews, parsed at most once per test session (later loads read the session cache)."""
    from lstm_course.imdb import load_imdb

    return load_imdb(progress=False)
