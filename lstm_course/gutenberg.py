"""Plain texts for character models: Heart of Darkness (Project Gutenberg #526) and tiny Shakespeare."""

from __future__ import annotations

import os
import re

from .download import fetch

__all__ = ["load_heart_of_darkness", "load_tiny_shakespeare", "strip_gutenberg"]

# "*** START OF THIS PROJECT GUTENBERG EBOOK ... ***" and "*** END OF THE PROJECT GUTENBERG EBOOK ... ***"
_START = re.compile(r"^\*{3}\s*START OF\b.*$", re.IGNORECASE | re.MULTILINE)
_END = re.compile(r"^\*{3}\s*END OF\b.*$", re.IGNORECASE | re.MULTILINE)
# older files also end the book with "End of the Project Gutenberg EBook of ..." before the marker
_END_LINE = re.compile(r"^\s*End of (?:the |this )?Project Gutenberg\b.*$", re.IGNORECASE | re.MULTILINE)
# a transcriber credit right after the header: "Produced by ..." up to the next blank line
_PRODUCED_BY = re.compile(r"\AProduced by\b.*?(?:\n\s*\n|\Z)", re.IGNORECASE | re.DOTALL)


def strip_gutenberg(text: str) -> str:
    """Return the book without the Project Gutenberg header and licence footer.

    Cuts everything up to and including the `*** START OF ...` line, everything from the
    `*** END OF ...` line (or an earlier `End of the Project Gutenberg EBook ...` line) on,
    and a leading `Produced by ...` credit paragraph; each part is cut only when present, so
    a text with neither marker comes back unchanged apart from line endings (normalised to
    "\\n"), a byte-order mark and surrounding blank space.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    start = _START.search(text)
    if start:
        text = text[start.end() :]
    end = _END.search(text)
    if end:
        text = text[: end.start()]
    end_line = _END_LINE.search(text)
    if end_line:
        text = text[: end_line.start()]
    text = text.strip()
    if start:
        text = _PRODUCED_BY.sub("", text, count=1).strip()
    return text


def load_heart_of_darkness(
    mirror: str | os.PathLike | None = None, cache: str | os.PathLike | None = None
) -> str:
    """Return Joseph Conrad's *Heart of Darkness* (about 210,000 characters) without the Gutenberg header/footer.

    The mirror file `heart_of_darkness_pg526.txt` is verified by its known sha256. A download
    from gutenberg.org cannot be pinned by a checksum (Project Gutenberg regenerates its
    files), so it is only checked for sanity: UTF-8 text of at least 150,000 characters that
    names the book.
    """
    path = fetch("heart_of_darkness", mirror=mirror, cache=cache)
    return strip_gutenberg(path.read_text(encoding="utf-8-sig"))


def load_tiny_shakespeare(
    mirror: str | os.PathLike | None = None, cache: str | os.PathLike | None = None
) -> str:
    """Return the tiny Shakespeare corpus of char-rnn (1,115,394 characters), as is.

    Both the mirror file and the download from GitHub are verified by sha256 (the file is
    stable upstream).
    """
    path = fetch("tiny_shakespeare", mirror=mirror, cache=cache)
    return path.read_text(encoding="utf-8")
