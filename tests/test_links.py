"""Links of the built site: every external host is one the course means to use, no placeholder
repository, and every link inside the site reaches a file the site serves.

Reads _build/html (`make book` first; LSTM_BOOK_HTML points elsewhere). The site's build-info.json
(written by book_ext) says which repository it was built with: the repository's host and the
notebook services (Colab, Binder) are allowed only when one was configured.
"""

from __future__ import annotations

import html.parser
import json
import os
import posixpath
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import book_ext  # noqa: E402

SITE = Path(os.environ.get("LSTM_BOOK_HTML", ROOT / "_build" / "html"))
SITE_MISSING = f"the built book is missing ({SITE}/index.html): run `make book` first"

#: Hosts the pages may link to whatever the configuration: where the cited papers, books and
#: sources live (references.bib's DOIs and URLs, links in the chapters). A new host is a decision:
#: add it here on purpose.
CONTENT_HOSTS = {
    "doi.org",                   # DOIs of the bibliography
    "arxiv.org",                 # preprints
    "proceedings.mlr.press",     # PMLR papers
    "jmlr.org",                  # JMLR papers
    "aclanthology.org",          # ACL papers
    "people.idsia.ch",           # Hochreiter's 1991 thesis and the 1995 report (Schmidhuber's pages)
    "colah.github.io",           # Olah's "Understanding LSTM Networks"
    "karpathy.github.io",        # Karpathy's "The Unreasonable Effectiveness of RNNs"
}
#: GitHub pages the chapters cite whatever the configuration (URL prefixes)
GITHUB_PAGES = ("https://github.com/pytorch/pytorch/issues/",)
#: Hosts of the services that open a notebook from the repository: only with a repository
NOTEBOOK_SERVICE_HOSTS = {"colab_url": "colab.research.google.com", "binderhub_url": "mybinder.org"}
PLACEHOLDER = "lstm-course/lstm-course"
LINK_ATTRIBUTES = {"href", "src", "action", "poster", "data", "formaction", "cite"}
#: the whole-book PDF that the intro links, copied into the site by `make pdf`
WHOLE_BOOK_PDF = "lstm-course.pdf"


class _LinkCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (tag, url)
        self.redirect = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            self.redirect = True
            target = (attrs.get("content") or "").partition("url=")[2]
            if target:
                self.links.append((tag, target))
        for name, value in attrs.items():
            if name in LINK_ATTRIBUTES and value:
                self.links.append((tag, value.strip()))
            elif name == "srcset" and value:
                self.links += [(tag, part.split()[0]) for part in value.split(",") if part.strip()]


def page_links(path: Path) -> _LinkCollector:
    collector = _LinkCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def site_pages() -> list[Path]:
    if not (SITE / "index.html").is_file():
        return []
    return sorted(p for p in SITE.rglob("*.html")
                  if not p.relative_to(SITE).as_posix().startswith(("_static/", "mathjax/")))


PAGES = site_pages()


@pytest.fixture(scope="module")
def build_info() -> dict:
    """What the site was built with (build-info.json, written by book_ext at the end of a build)."""
    if not PAGES:
        pytest.skip(SITE_MISSING)
    path = SITE / book_ext.BUILD_INFO
    assert path.is_file(), f"{path} is missing: the site was built before book_ext wrote it; rebuild (`make book`)"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def links() -> dict[str, list[str]]:
    """Every link of every page: {page relative to the site: [url, ...]}."""
    if not PAGES:
        pytest.skip(SITE_MISSING)
    return {p.relative_to(SITE).as_posix(): [url for _, url in page_links(p).links] for p in PAGES}


def is_external(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") or url.startswith("//")


def allowed_hosts(info: dict) -> set[str]:
    hosts = set(CONTENT_HOSTS) | {"github.com"}
    if info.get("site_url"):  # the site's own address (canonical links), when the build was given one
        hosts.add(urlsplit(info["site_url"]).hostname)
    if info["repository"]:
        hosts.add(urlsplit(info["repository"]).hostname)
        hosts |= {host for key, host in NOTEBOOK_SERVICE_HOSTS.items() if key in info["launch_services"]}
    return hosts


def test_every_external_link_goes_to_a_host_the_course_uses(links, build_info):
    """Does every external link (href, src, ... of every page) go to a host of the course's list:
    the hosts of its sources, plus the site's own host when the build was given its address, and the
    repository and Colab/Binder only when a repository was configured for the build?"""
    hosts = allowed_hosts(build_info)
    strangers = {}
    for page, urls in links.items():
        for url in urls:
            if is_external(url) and urlsplit(url).hostname not in hosts:
                strangers.setdefault(urlsplit(url).hostname, []).append(f"{page}: {url}")
    assert not strangers, (
        f"links to hosts the course does not list (add a host to CONTENT_HOSTS only on purpose): "
        f"{json.dumps(strangers, indent=1)[:3000]}")


def test_github_links_are_the_repository_or_cited_pages(links, build_info):
    """Does every GitHub link point into the configured repository (buttons) or at a page a
    chapter cites, so that no button links to a repository that is not the course's?"""
    repository = build_info["repository"]
    prefixes = GITHUB_PAGES + ((repository + "/", ) if repository else ())
    wrong = [f"{page}: {url}" for page, urls in links.items() for url in urls
             if urlsplit(url).hostname == "github.com" and url != repository and not url.startswith(prefixes)]
    assert not wrong, wrong[:20]


def test_notebook_services_open_the_configured_repository(links, build_info):
    """Do the Colab and Binder links open the configured repository's notebooks, and are there
    none at all when no repository was configured?"""
    services = [f"{page}: {url}" for page, urls in links.items() for url in urls
                if urlsplit(url).hostname in NOTEBOOK_SERVICE_HOSTS.values()]
    if not build_info["repository"]:
        assert not services, f"launch links without a repository: {services[:5]}"
        return
    owner_name = urlsplit(build_info["repository"]).path.strip("/")
    assert services, "a repository is configured, yet no page has a Colab or Binder button"
    assert all(f"/{owner_name}/" in url for url in services), services[:5]


def test_no_page_mentions_the_placeholder_repository():
    """Is the old placeholder repository gone from every page, in links and in text?"""
    if not PAGES:
        pytest.skip(SITE_MISSING)
    found = [p.relative_to(SITE).as_posix() for p in PAGES if PLACEHOLDER in p.read_text(encoding="utf-8")]
    assert not found, f"pages naming {PLACEHOLDER}: {found}"


def test_links_inside_the_site_reach_served_files(links):
    """Does every relative link (pages, images, scripts, downloads such as the exercise notebooks)
    reach a file that the built site holds?"""
    broken = []
    for page, urls in links.items():
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme or url.startswith(("//", "#")) or not parts.path:
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path)))
            path = SITE / target
            if target == WHOLE_BOOK_PDF and not path.is_file():
                continue  # put there by `make pdf`, not `make book`: tests/test_pdf.py checks it (fails in CI)
            if target.startswith("..") or not (path.is_file() or (path / "index.html").is_file()):
                broken.append(f"{page}: {url}")
    assert not broken, f"links to files the site does not serve: {broken[:20]}"


def test_graded_exercises_download_the_student_notebooks(links):
    """Does the graded-exercises page offer every assignment's student notebook as a download
    served with the site, byte for byte the notebook of exercises/?"""
    page = "chapters/graded_exercises.html"
    downloads = {Path(unquote(url)).name: url for url in links[page] if url.endswith(".ipynb")
                 and "_downloads/" in url}
    expected = {p.name for p in (ROOT / "exercises").glob("*/*.ipynb") if p.stem == p.parent.name}
    assert set(downloads) == expected, (sorted(downloads), sorted(expected))
    package_url = json.loads((SITE / book_ext.BUILD_INFO).read_text(encoding="utf-8")).get("package_url", "")
    for name, url in downloads.items():
        served = SITE / posixpath.normpath(posixpath.join("chapters", unquote(url)))
        source = ROOT / "exercises" / Path(name).stem / name
        # a site built with an address serves the notebook with the wheel's address in its install cell
        expected = book_ext.filled_notebook(source.read_text(encoding="utf-8"), package_url).encode("utf-8")
        assert served.read_bytes() == expected, f"{url} is not the current {source}: rebuild"
