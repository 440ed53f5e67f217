"""Accessibility of the built book (issue 14): axe-core on every page in light and dark mode, alt text
of every figure, maths a screen reader can read, synced tabs usable with the keyboard.

Run after the book is built (`make book`):
    .venv/bin/pytest -m browser tests/test_accessibility.py -s     # -s shows the minor findings
axe-core comes from PyPI (axe-core-python, which bundles axe.min.js and a Selenium runner); the
browser and the local server are the fixtures of tests/test_site.py. Every axe finding, minor ones
included, is also written to _build/accessibility.json.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser

import pytest

from test_site import (  # noqa: F401 - driver and server are fixtures
    PAGE_PARAMS, PAGES, ROOT, SITE, SITE_MISSING, WAIT_FOR_MATHJAX, _open, driver, server)

#: impacts that fail the test; "moderate" and "minor" findings are printed and written to the report
BLOCKING_IMPACTS = ("serious", "critical")
REPORT = SITE.parent / "accessibility.json"
#: Exclusions of one axe rule on one selector, each with the reason it cannot be fixed from our side.
#: None are needed today; an entry looks like {"rule": "color-contrast", "selector": ".x", "why": "..."}.
EXCLUSIONS: list[dict] = []
#: alt text that names the file or the figure's number instead of saying what the figure shows
GENERIC_ALT = re.compile(
    r"^(png|jpe?g|svg|gif|image|img|figure|fig\.?|plot|chart|graph)?\s*\d*$|\.(png|jpe?g|svg|gif)$", re.IGNORECASE)
#: a figure's alt text is a sentence or more; shorter ones ("loss curves") say too little
MIN_ALT_WORDS = 8

THEME_MODES = ("light", "dark")

SET_MODE = """
const mode = arguments[0];
// the theme fades colours over a few hundred ms: axe must see the end state, not a blend
if (!document.getElementById('no-transitions')) {
  const style = document.createElement('style');
  style.id = 'no-transitions';
  style.textContent = '*, *::before, *::after {transition: none !important; animation: none !important}';
  document.head.appendChild(style);
}
// what pydata-sphinx-theme's colour switcher does: the attributes on <html> and the stored choice
document.documentElement.dataset.mode = mode;
document.documentElement.dataset.theme = mode;
localStorage.setItem('mode', mode);
localStorage.setItem('theme', mode);
return getComputedStyle(document.body).backgroundColor;
"""

#: axe rules whose outcome depends on colours. Switching the colour mode changes only the theme's CSS
#: variables (the data-theme attribute on <html>), not the page's elements, roles, names or text (the
#: theme's only-light/only-dark logo images aside: this book has no logo), so in dark mode only these
#: rules are run again: the others would give the light mode's answers.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]

RUN_AXE = """
const done = arguments[arguments.length - 1];
const options = {resultTypes: ['violations']};
if (arguments[0]) options.runOnly = {type: 'rule', values: arguments[0]};
axe.run(document, options).then(
  (r) => done(r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary})),
  }))),
  (e) => done({error: String(e)}));
"""

ASSISTIVE_MATHML = """
const containers = Array.from(document.querySelectorAll('mjx-container'));
const unreadable = containers.filter((c) => {
  const mml = c.querySelector('mjx-assistive-mml');
  const math = mml && mml.querySelector('math');
  return !(math && math.textContent.trim() && !mml.closest('[aria-hidden="true"]'));
});
return {containers: containers.length,
        unreadable: unreadable.map((c) => c.textContent.slice(0, 60)),
        visual_hidden: containers.filter((c) => c.querySelector('mjx-math[aria-hidden="true"]')).length};
"""


class _Images(HTMLParser):
    """The alt attribute of every <img> of a page (None when it has none)."""

    def __init__(self):
        super().__init__()
        self.images: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            attributes = dict(attrs)
            self.images.append((attributes.get("src", ""), attributes.get("alt")))


def alt_problem(src: str, alt: str | None) -> str | None:
    """Why `alt` does not describe the image at `src`, or None when it does."""
    if alt is None or not alt.strip():
        return "no alt text"
    text = alt.strip()
    name = src.rsplit("/", 1)[-1]
    if GENERIC_ALT.search(text) or (name and (name in text or text in src)):
        return f"generic alt text {text!r}"
    if len(text.split()) < MIN_ALT_WORDS:
        return f"alt text too short to say what the figure shows ({text!r})"
    return None


def excluded(rule: str, target: str) -> bool:
    """Is this axe rule excluded, with a reason, on exactly this element (EXCLUSIONS)?"""
    return any(e["rule"] == rule and e["selector"] == target for e in EXCLUSIONS)


@pytest.fixture(scope="module")
def axe_script() -> str:
    try:
        from axe_core_python.base import AXE_SCRIPT
    except ImportError:
        pytest.fail("axe-core-python is missing: .venv/bin/pip install -r requirements.txt")
    return AXE_SCRIPT


@pytest.fixture(scope="module")
def audit(driver, server, axe_script):  # noqa: F811 - fixtures of test_site
    """Each page loaded once: axe-core in light mode, then in dark mode (the page's colour mode
    switched in place, as the theme's button does), and the maths checked for assistive MathML.
    Returns {"axe": {mode: {page: violations}}, "maths": {page: report}}."""
    found = {"axe": {mode: {} for mode in THEME_MODES}, "maths": {}, "seconds": {}}
    for page in PAGES:
        _open(driver, server, page)
        assert driver.execute_async_script(WAIT_FOR_MATHJAX) in ("typeset", "no maths"), page
        found["maths"][page] = driver.execute_script(ASSISTIVE_MATHML)
        driver.execute_script(axe_script)
        backgrounds = []
        for mode in THEME_MODES:
            backgrounds.append(driver.execute_script(SET_MODE, mode))
            start = time.monotonic()
            violations = driver.execute_async_script(RUN_AXE, None if mode == "light" else COLOUR_RULES)
            found["seconds"][f"{page} {mode}"] = round(time.monotonic() - start, 1)
            assert "error" not in violations, (page, mode, violations)
            found["axe"][mode][page] = violations
        assert len(set(backgrounds)) == len(THEME_MODES), f"{page}: the colour mode did not change {backgrounds}"
    driver.execute_script(SET_MODE, "light")
    REPORT.write_text(json.dumps({"violations": found["axe"], "axe_seconds": found["seconds"]}, indent=1))
    return found


@pytest.mark.browser
@pytest.mark.parametrize("mode", THEME_MODES)
def test_axe_finds_no_serious_or_critical_violation(audit, mode):
    """Does axe-core find no serious or critical violation on any page in this colour mode?
    (Moderate and minor findings are printed, e.g. the theme's sidebar outside any landmark.)"""
    blocking, others = [], []
    for page, violations in audit["axe"][mode].items():
        for violation in violations:
            for node in violation["nodes"]:
                if excluded(violation["id"], node["target"]):
                    continue
                line = f"{page} [{violation['impact']}] {violation['id']}: {node['target']}"
                if violation["impact"] in BLOCKING_IMPACTS:
                    blocking.append(f"{line}\n    {violation['help']}\n    {node['summary']}")
                else:
                    others.append(line)
    if others:
        print(f"\naxe-core, {mode} mode, not blocking ({len(others)}):\n" + "\n".join(sorted(set(others))))
    assert not blocking, f"{len(blocking)} serious/critical violations in {mode} mode:\n" + "\n".join(blocking)


@pytest.mark.browser
def test_every_equation_carries_mathml_for_screen_readers(audit):
    """Does every equation MathJax typesets carry an assistive MathML copy (mjx-assistive-mml with
    a non-empty <math>, not hidden from screen readers), on every page with maths? The book's
    maths would otherwise be read out as nothing, or as the glyphs of the visual rendering."""
    with_maths = {page: r for page, r in audit["maths"].items() if r["containers"]}
    assert len(with_maths) >= 5, f"only {sorted(with_maths)} have typeset maths"
    for page, report in with_maths.items():
        assert not report["unreadable"], f"{page}: equations without assistive MathML: {report['unreadable'][:5]}"
        assert report["visual_hidden"] == report["containers"], (
            f"{page}: the visual rendering of some equations is not hidden from screen readers (read twice)")


@pytest.mark.parametrize("page", PAGE_PARAMS)
def test_every_image_has_alt_text_that_says_what_it_shows(page):
    """Does every <img> of the page have alt text of a sentence or more, not empty, not the file
    name, not "figure 3"? (The figures are {glue:figure} directives with an :alt: option.)"""
    parser = _Images()
    parser.feed((SITE / page).read_text(encoding="utf-8"))
    problems = [f"{src}: {why}" for src, alt in parser.images if (why := alt_problem(src, alt))]
    assert not problems, f"{page}:\n" + "\n".join(problems)


FIGURE_DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{(glue:figure|figure|image|glue:image)\}[^\n]*\n((?::[^\n]*\n)*)", re.M)


def test_every_figure_directive_in_the_chapters_has_an_alt_option():
    """Does every {glue:figure}, {figure} and {image} directive of chapters/*.md carry an :alt:
    option of a sentence or more? (Checked in the sources too, so a figure without alt text is
    caught without a build. The alt goes on the directive in Markdown, not on the code cell:
    jupyter-cache hashes code cells' metadata, so alt text there would re-execute the chapter.)"""
    chapters = sorted((ROOT / "chapters").glob("*.md"))
    found, problems = 0, []
    for chapter in chapters:
        for match in FIGURE_DIRECTIVE.finditer(chapter.read_text(encoding="utf-8")):
            found += 1
            alt = re.search(r"^:alt:(.*)$", match.group(3), re.M)
            why = alt_problem("", alt.group(1) if alt else None)
            if why:
                line = chapter.read_text(encoding="utf-8")[: match.start()].count("\n") + 1
                problems.append(f"{chapter.name}:{line}: {why}; add ':alt: <what the figure shows>'")
    assert found >= 10, f"only {found} figure directives found in {len(chapters)} chapters"
    assert not problems, "\n".join(problems)


def test_the_site_has_figures_to_check():
    """Are the figures there at all (so that the alt-text check above checks something)?"""
    if not PAGES:
        pytest.skip(SITE_MISSING)
    count = sum(len(re.findall(r"<img\b", (SITE / page).read_text(encoding="utf-8"))) for page in PAGES)
    assert count >= 10, f"only {count} images in the built site"


@pytest.mark.parametrize(("src", "alt", "bad"), [
    ("../_images/ab12.png", None, True),
    ("../_images/ab12.png", "  ", True),
    ("../_images/ab12.png", "../_images/ab12.png", True),
    ("../_images/ab12.png", "png", True),
    ("../_images/ab12.png", "Figure 3", True),
    ("../_images/ab12.png", "loss curves", True),
    ("../_images/ab12.png", "Line chart of the validation loss against the training step for three models", False),
])
def test_alt_check_tells_descriptions_from_placeholders(src, alt, bad):
    """Does the alt-text check reject missing, empty, file-name, "png", "Figure 3" and too-short alt
    text, and accept a sentence that says what the chart shows?"""
    assert (alt_problem(src, alt) is not None) == bad


TAB_STATE = """
const sets = Array.from(document.querySelectorAll('.sd-tab-set'));
const active = document.activeElement;
return {
  focused: active && active.matches('.sd-tab-set > input') ? active.id : null,
  outline: active && active.nextElementSibling ? getComputedStyle(active.nextElementSibling).outlineStyle : null,
  checked: sets.map((s) => {
    const input = s.querySelector(':scope > input:checked');
    return input ? input.nextElementSibling.textContent.trim() : null;
  }),
  visible: sets.map((s) => Array.from(s.querySelectorAll(':scope > .sd-tab-content'))
                          .filter((c) => c.offsetParent !== null).length),
};
"""


@pytest.mark.browser
def test_synced_tabs_work_with_the_keyboard(driver, server):  # noqa: F811 - fixtures of test_site
    """On the notation page, whose two tab-sets (Keras / PyTorch) are synced: does Tab reach a tab
    with a visible focus ring, does the right arrow key switch it (and show its panel), does the
    other tab-set follow, and does the left arrow key switch back? (sphinx-design tabs are radio
    buttons: the arrow keys choose, as in the ARIA tabs pattern.)"""
    from selenium.webdriver.common.keys import Keys

    page = "chapters/notation.html"
    if page not in PAGES:
        pytest.skip(SITE_MISSING)
    _open(driver, server, page)
    driver.execute_script("localStorage.clear()")
    _open(driver, server, page)
    start = driver.execute_script(TAB_STATE)
    assert len(start["checked"]) >= 2 and len(set(start["checked"])) == 1, start
    body = driver.find_element("css selector", "body")
    body.click()
    state = start
    for _ in range(400):  # the tabs come after the navigation links, the search button, ...
        driver.switch_to.active_element.send_keys(Keys.TAB)
        state = driver.execute_script(TAB_STATE)
        if state["focused"]:
            break
    assert state["focused"], "Tab never reached a tab of the page"
    assert state["outline"] not in (None, "none"), f"the focused tab shows no focus ring: {state}"
    first = state["checked"][0]
    driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    switched = driver.execute_script(TAB_STATE)
    assert switched["checked"][0] != first, f"the right arrow key did not switch the tab: {switched}"
    assert len(set(switched["checked"])) == 1, f"the synced tab-sets did not follow: {switched['checked']}"
    assert all(n == 1 for n in switched["visible"]), f"not exactly one panel shown per tab-set: {switched}"
    driver.switch_to.active_element.send_keys(Keys.ARROW_LEFT)
    back = driver.execute_script(TAB_STATE)
    assert set(back["checked"]) == {first}, f"the left arrow key did not switch back: {back}"
