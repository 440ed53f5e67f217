"""Tests of lstm_course.gutenberg: header/footer stripping and the two texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_course import download, gutenberg
from lstm_course.config import ChecksumMismatchError

FILES = Path(__file__).parent / "files"
SAMPLE = (FILES / "gutenberg_sample.txt").read_text()
BOOK = "A SAMPLE BOOK\n\nThe first line of the book.\nThe last line of the book."


def test_header_and_footer():
    """Are the header, the 'Produced by' credit, the end line and the licence footer removed?"""
    assert gutenberg.strip_gutenberg(SAMPLE) == BOOK


def test_header_only():
    """Is a text with a header but no footer (like the mirror file) cut at the start only?"""
    text = SAMPLE.split("End of the Project")[0]
    assert gutenberg.strip_gutenberg(text) == BOOK


def test_footer_only():
    """Is a text with only the *** END OF marker cut at the end only?"""
    text = "Book text.\n\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nlicence"
    assert gutenberg.strip_gutenberg(text) == "Book text."


def test_no_markers():
    """Is a text with neither marker returned unchanged (apart from surrounding blank space)?"""
    text = "Produced by nobody.\n\nPlain text *** START OF nothing.\n"
    assert gutenberg.strip_gutenberg(text) == text.strip()


def test_windows_line_endings_and_bom():
    """Are CRLF line endings and a byte-order mark handled?"""
    text = "\ufeff" + SAMPLE.replace("\n", "\r\n")
    assert gutenberg.strip_gutenberg(text) == BOOK


def test_heart_of_darkness(mirror_folder):
    """Does the mirror give the whole book without the Gutenberg header?"""
    text = gutenberg.load_heart_of_darkness()
    assert "*** START" not in text and "Project Gutenberg" not in text[:2000]
    assert "HEART OF DARKNESS" in text[:200] and "Produced by" not in text[:200]
    assert text.rstrip().endswith("into the heart of an immense darkness.")
    assert len(text) > 200_000


def test_tiny_shakespeare(mirror_folder):
    """Does the mirror give the 1,115,394 characters of tiny Shakespeare?"""
    text = gutenberg.load_tiny_shakespeare()
    assert len(text) == 1_115_394 and text.startswith("First Citizen:")


def test_downloaded_book_is_sanity_checked(tmp_path, monkeypatch):
    """Is a downloaded Gutenberg file (no stable checksum) accepted when it looks right, refused otherwise?"""
    monkeypatch.delenv("LSTM_COURSE_DATA", raising=False)
    server = tmp_path / "pg526.txt"
    res = download.RESOURCES["heart_of_darkness"]
    monkeypatch.setitem(download.RESOURCES, "heart_of_darkness", download.Resource(
        url=server.as_uri(), filename=res.filename, mirror_filename=res.mirror_filename,
        mirror_sha256=res.mirror_sha256, check=res.check))
    cache = tmp_path / "cache"

    server.write_text("<html>Please solve this captcha</html>")
    with pytest.raises(ChecksumMismatchError, match="does not look like"):
        gutenberg.load_heart_of_darkness(cache=cache)
    assert list(cache.iterdir()) == []

    server.write_text(SAMPLE.replace("A Sample Book", "Heart of Darkness") + "The horror! " * 20_000)
    text = gutenberg.load_heart_of_darkness(cache=cache)
    assert text.startswith("A SAMPLE BOOK") and [p.name for p in cache.iterdir()] == ["pg526.txt"]
