// Accessibility repairs of the HTML that Sphinx writes, run on every page of the book
// (Jupyter Book adds every .js file in _static/ to every page). Checked by tests/test_accessibility.py.
//
// The bibliography (sphinxcontrib-bibtex through docutils' HTML writer) is a
// <div role="list" class="citation-list"> whose entries have role="doc-biblioentry". That role is
// deprecated (DPUB-ARIA 1.1) and is not a list item, so a list with no items is announced
// (axe-core: aria-required-children, critical; aria-allowed-role, aria-roles). The entries become
// list items: a screen reader then announces the bibliography as a list of N references.
document.addEventListener("DOMContentLoaded", () => {
  document
    .querySelectorAll('[role="list"].citation-list > [role="doc-biblioentry"]')
    .forEach((entry) => entry.setAttribute("role", "listitem"));
});
