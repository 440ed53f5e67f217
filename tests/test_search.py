"""The site's built-in search (Sphinx's search page and searchindex.js) finds the right chapters,
served locally with no network: a browser test on _build/html (`make book` first).

Run: .venv/bin/pytest -m browser tests/test_search.py (the browser and the local server are the
fixtures of tests/test_site.py).
"""

from __future__ import annotations

import time
from urllib.parse import quote_plus, urlsplit

import pytest

from test_site import driver, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

RESULTS = """
const status = document.querySelector('#search-results .search-summary');
const links = Array.from(document.querySelectorAll('#search-results ul.search > li > a'));
return {status: status ? status.innerText : '',
        links: links.map(a => ({href: a.getAttribute('href'), title: a.textContent, score: Number(a.dataset.score)}))};
"""


def search(driver, server: str, query: str) -> list[dict]:
    """Results of the site's search page for `query`, best first, once the search has finished."""
    driver.get(f"{server}search.html?q={quote_plus(query)}")
    end = time.monotonic() + 60
    while True:
        found = driver.execute_script(RESULTS)
        if found["status"].startswith(("Search finished", "Your search did not match")):
            return found["links"]
        assert time.monotonic() < end, f"the search for {query!r} did not finish: {found['status']!r}"
        time.sleep(0.2)


def ranked_chapters(results: list[dict]) -> list[str]:
    """The chapters of the results in the order they first appear (a chapter can match in several sections)."""
    chapters = []
    for result in results:
        chapter = urlsplit(result["href"]).path.rsplit("/", 1)[-1].removesuffix(".html")
        if chapter not in chapters:
            chapters.append(chapter)
    return chapters


def test_forget_gate_finds_the_chapters_that_build_it_first(driver, server):
    """Does "forget gate" lead first to the two chapters that build the gate: gru_to_lstm (which
    turns the GRU step by step into the LSTM and its forget gate) and lstm_cell (whose section
    "Forget gate" defines f_t), with that section among the first three results? The other
    chapters only use the gate (vanishing_gradient, lstm_in_practice) or mention it in passing.
    (Sphinx gives a match in a heading 15 points and one in the text 5; equal scores are ordered by
    title, which starts with the chapter number. counting_parameters also scores 15, through its
    heading "forgetting the biases", and comes third.)"""
    results = search(driver, server, "forget gate")
    chapters = ranked_chapters(results)
    assert set(chapters[:2]) == {"gru_to_lstm", "lstm_cell"}, [(r["title"], r["score"]) for r in results[:8]]
    top = [r["href"] for r in results[:3]]
    assert "chapters/lstm_cell.html#forget-gate" in top, top


def test_reset_after_finds_the_counting_chapter_first(driver, server):
    """Does "reset_after" (Keras' GRU option) lead first to counting_parameters, whose section
    "The GRU and reset_after" explains what the option does to the bias count, and find exactly the
    chapters that name it (gru_to_lstm and the notation page mention it; no other chapter does)?"""
    results = search(driver, server, "reset_after")
    chapters = ranked_chapters(results)
    assert chapters and chapters[0] == "counting_parameters", [(r["title"], r["score"]) for r in results[:8]]
    assert results[0]["score"] > max(r["score"] for r in results[1:]), results[:3]
    assert set(chapters) == {"counting_parameters", "gru_to_lstm", "notation"}, chapters
