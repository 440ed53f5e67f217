"""Browser test of the built book: every page of _build/html loaded in headless Chromium.

Run after the book is built (`make test` builds it first):
    .venv/bin/pytest -m browser tests/test_site.py
Settings: LSTM_BOOK_HTML (site folder, default _build/html), LSTM_BOOK_SCREENSHOTS (default
_build/screenshots; one PNG per page is saved there), CI=true turns a missing Chromium into a failure.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("LSTM_BOOK_HTML", ROOT / "_build" / "html"))
SCREENSHOTS = Path(os.environ.get("LSTM_BOOK_SCREENSHOTS", ROOT / "_build" / "screenshots"))
CHROMIUM = os.environ.get("LSTM_BOOK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LSTM_BOOK_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1600",
]
# Text that must never reach a page: tracebacks and TensorFlow/absl/oneDNN log lines.
FORBIDDEN_TEXT = re.compile(
    r"Traceback \(most recent call last\)|Traceback|\bW0000\b|\bI0000\b|\bE0000\b|oneDNN|"
    r"cudart_stub|absl::InitializeLog|tensorflow/core/"
)
# Raw TeX that MathJax should have replaced.
RAW_TEX = re.compile(r"\\begin\{|\$\$|\\\(|\\\[")

SITE_MISSING = f"the built book is missing ({SITE}/index.html): run `make book` first"


def site_pages() -> list[str]:
    """Every HTML page of the site, relative to its root (assets folders left out)."""
    if not (SITE / "index.html").is_file():
        return []
    skip = ("_static/", "_sources/", "mathjax/", "_images/")
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if not p.relative_to(SITE).as_posix().startswith(skip))


PAGES = site_pages()
PAGE_PARAMS = PAGES or [pytest.param(None, marks=pytest.mark.skip(reason=SITE_MISSING))]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="module")
def server():
    """Base URL of _build/html served by http.server on 127.0.0.1, a free port, in a thread."""
    if not PAGES:
        pytest.skip(SITE_MISSING)
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def driver():
    """Headless Chromium driven by selenium, with a fresh profile and the console log on."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("python package selenium")
    if missing:
        message = f"browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    profile = tempfile.mkdtemp(prefix="lstm-book-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(120)
    browser.set_script_timeout(60)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(predicate, timeout: float = 30.0, step: float = 0.2):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > end:
            return value
        time.sleep(step)


def _open(driver, server: str, page: str) -> None:
    driver.get(server + page)
    _wait(lambda: driver.execute_script("return document.readyState") == "complete")


# JavaScript helpers run in the page --------------------------------------------------------------

WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!document.querySelector('.math')) { done('no maths'); return; }
const start = Date.now();
(function poll() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done('typeset'), (e) => done('error: ' + e));
  } else if (Date.now() - start > 30000) {
    done('MathJax did not load');
  } else { setTimeout(poll, 100); }
})();
"""

MATH_REPORT = """
const maths = Array.from(document.querySelectorAll('.math'));
return {
  math: maths.length,
  unrendered: maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
  containers: document.querySelectorAll('mjx-container').length,
  errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80)),
};
"""

PAGE_TEXT = """
// `all`: the page's text with hidden tabs and dropdowns, without scripts and without code that
// is shown as code (cell sources, literal blocks in the prose) -- cell outputs stay in;
// `prose` also leaves out outputs and rendered maths (which legitimately hold TeX)
const body = document.body.cloneNode(true);
body.querySelectorAll('script, style, noscript, template, .cell_input').forEach(e => e.remove());
body.querySelectorAll('div[class*="highlight-"]').forEach(e => { if (!e.closest('.cell_output')) e.remove(); });
const all = body.textContent;
body.querySelectorAll('pre, code, .highlight, mjx-container, mjx-assistive-mml').forEach(e => e.remove());
return {all: all, prose: body.textContent};
"""

LOAD_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach(img => { img.loading = 'eager'; img.scrollIntoView(); });
window.scrollTo(0, 0);
const start = Date.now();
(function poll() {
  if (images.every(img => img.complete) || Date.now() - start > 20000) {
    done(images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.currentSrc || img.src));
  } else { setTimeout(poll, 100); }
})();
"""

SYNCED_TABS = """
// tab sets of sphinx-design that take part in a sync group, with the sync id of each checked tab
const group = arguments[0];
return Array.from(document.querySelectorAll('.sd-tab-set')).map(set => {
  const labels = Array.from(set.querySelectorAll(':scope > label.sd-tab-label'));
  const synced = labels.filter(l => l.dataset.syncGroup === group);
  const checked = labels.find(l => document.getElementById(l.htmlFor).checked);
  return {ids: synced.map(l => l.dataset.syncId), checked: checked ? checked.dataset.syncId : null};
}).filter(s => s.ids.length > 0);
"""


# The checks -------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGE_PARAMS)
def test_page_renders_cleanly(driver, server, page):
    """Does the page load without console errors, with its maths typeset and its images loaded,
    and without tracebacks or TensorFlow log lines in its text?"""
    driver.get_log("browser")  # drop what earlier pages left in the log
    _open(driver, server, page)

    status = driver.execute_async_script(WAIT_FOR_MATHJAX)
    maths = driver.execute_script(MATH_REPORT)
    if maths["math"]:
        assert status == "typeset", f"{page}: {status}"
        assert maths["containers"] > 0 and not maths["unrendered"], (
            f"{page}: maths left as TeX: {maths['unrendered'][:5]}")
        assert not maths["errors"], f"{page}: TeX errors: {maths['errors'][:5]}"

    text = driver.execute_script(PAGE_TEXT)
    raw = RAW_TEX.search(text["prose"])
    assert raw is None, f"{page}: raw TeX in the text: ...{text['prose'][max(0, raw.start() - 60):raw.end() + 60]}..."
    bad = FORBIDDEN_TEXT.search(text["all"])
    assert bad is None, f"{page}: log/traceback text: ...{text['all'][max(0, bad.start() - 80):bad.end() + 80]}..."

    broken = driver.execute_async_script(LOAD_IMAGES)
    assert not broken, f"{page}: images that did not load: {broken}"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / (page.replace("/", "__").removesuffix(".html") + ".png")))

    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"{page}: console errors: {json.dumps(errors, indent=1)}"


@pytest.mark.parametrize("page", PAGE_PARAMS)
def test_synced_tabs_switch_together(driver, server, page):
    """Does clicking the PyTorch tab of one tab set switch every synced tab set on the page?"""
    from selenium.webdriver.common.by import By

    _open(driver, server, page)
    sets = driver.execute_script(SYNCED_TABS, "framework")
    if not sets:
        pytest.skip("no synced framework tabs on this page")
    for target in ("keras", "torch"):
        labels = driver.find_elements(
            By.CSS_SELECTOR, f'label.sd-tab-label[data-sync-group="framework"][data-sync-id="{target}"]')
        assert labels, f"{page}: no {target} tab"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", labels[0])
        labels[0].click()
        sets = _wait(lambda: (lambda s: s if all(t["checked"] == target for t in s if target in t["ids"])
                              else None)(driver.execute_script(SYNCED_TABS, "framework")), timeout=5)
        assert sets, f"{page}: after clicking {target}, tab sets show {driver.execute_script(SYNCED_TABS, 'framework')}"
        visible = [label.find_element(By.XPATH, "following-sibling::div[1]").is_displayed()
                   for label in labels]
        assert all(visible), f"{page}: a {target} tab's content stays hidden after the click"


def test_some_page_has_synced_tab_sets():
    """Is there at least one page with two synced tab sets, so that the tab test checks something?"""
    if not PAGES:
        pytest.skip(SITE_MISSING)
    counts = {p: (SITE / p).read_text(encoding="utf-8").count('data-sync-group="framework"') for p in PAGES}
    assert max(counts.values()) >= 4, "no page has two synced Keras/PyTorch tab sets"


LAUNCH_LINK = re.compile(r'href="(https://(?:colab\.research\.google\.com|mybinder\.org)/[^"]+)"')


@pytest.mark.parametrize("page", PAGE_PARAMS)
def test_launch_and_download_links_open_notebooks(server, page):
    """Do the Colab/Binder buttons (shown when the site is built with a repository) and the
    download button of a notebook page point at .ipynb files: the paired notebook of a source that
    exists, and a download that the site serves?"""
    html = (SITE / page).read_text(encoding="utf-8")
    links = [link.replace("&amp;", "&") for link in LAUNCH_LINK.findall(html)]
    source = (ROOT / page).with_suffix(".md")
    if not (source.is_file() and source.read_text(encoding="utf-8").startswith("---\njupytext:")):
        assert not links, f"{page}: launch buttons on a page that is not a notebook"
        pytest.skip("not a notebook page")
    for link in links:
        path_in_repo = re.split(r"/blob/[^/]+/|\?urlpath=(?:lab/)?tree/", link)[-1]
        assert path_in_repo.endswith(".ipynb"), f"{page}: launch link {link} does not open an .ipynb"
        # the release step (book_tools/release_notebooks.py) writes this .ipynb from the .md beside it
        assert (ROOT / path_in_repo).with_suffix(".md").is_file(), f"{page}: no source for {link}"
    download = re.search(r'href="((?!https?:)[^"]+\.ipynb)"', html)
    assert download, f"{page}: no .ipynb download button"
    url = urllib.request.urljoin(server + page, download.group(1))
    with urllib.request.urlopen(url) as response:
        notebook = json.loads(response.read())
    assert notebook["nbformat"] == 4 and notebook["cells"], f"{page}: {url} is not a notebook"
