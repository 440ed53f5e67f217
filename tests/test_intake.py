"""Intake without grading: LMS file names, links, identity collisions, size limits, malformed metadata, CSV, feedback.

Where each name shape comes from:
- Canvas "Download submissions": <name>[_LATE]_<user id>_<submission id>_<file>, resubmissions renamed <file>-1,
  <file>-2 (Canvas renames a re-uploaded file; the README's own examples).
- Moodle "Download all submissions": a folder <Full Name>_<participant id>_assignsubmission_file_ per student
  (Moodle 3.x/4.x, e.g. "First Last_participantId_assignsubmission_file_" as documented in course tooling for
  Moodle feedback uploads), or in older Moodle flat files <Full Name>_<id>_assignsubmission_file_<file>.
- Blackboard Grade Center "Assignment File Download": <Assignment>_<username>_attempt_<yyyy-mm-dd-hh-mm-ss>_<file>
  plus <Assignment>_<username>_attempt_<date>.txt (kwurst/bb-file-cleanup's README and tests:
  "Chapter 13 Problems_jdoe3_attempt_2014-04-30-21-02-38_chapter 13.pdf").
- nbgrader: submitted/<student>/<assignment>/<assignment>.ipynb.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.intake import collect, import_submission, parse_name, protect_recorded, safe_student
from autograder.limits import NotebookTooLarge, check_notebook_file
from autograder.report import StudentResult, save_result, write_csv
from autograder.settings import Limits

A = "lstm_cell"
NB = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _write(root: Path, rel: str, text: str = NB) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _by_student(subs) -> dict:
    return {s.student: s for s in subs}


@pytest.mark.parametrize("name, student", [
    ("jane_doe_lstm_cell.ipynb", "jane_doe"),  # the case: was `jane` / wrong_assignment
    ("jane-doe-lstm_cell.ipynb", "jane-doe"),
    ("jane doe lstm_cell.ipynb", "jane_doe"),
    ("jane.doe_lstm_cell.ipynb", "jane.doe"),
    ("mary_ann_de_la_cruz_lstm_cell.ipynb", "mary_ann_de_la_cruz"),
    ("Jürgen_Müller_lstm_cell.ipynb", "Jürgen_Müller"),
    ("José-Émile lstm_cell.ipynb", "José-Émile"),
    ("王小明_lstm_cell.ipynb", "王小明"),
    ("jane_doe_lstm_cell-2.ipynb", "jane_doe"),
    ("doejane_12345_678_lstm_cell.ipynb", "doejane"),  # Canvas
    ("doejane_LATE_12345_678_lstm_cell-1.ipynb", "doejane"),  # Canvas, late resubmission
    ("doejane_12345_678_jane_doe_lstm_cell.ipynb", "doejane"),  # Canvas wrapping the student's own name
    ("Jane Doe_98765_assignsubmission_file_lstm_cell.ipynb", "Jane_Doe"),  # old Moodle, flat
    ("lstm_cell_jdoe3_attempt_2024-04-30-21-02-38_lstm_cell.ipynb", "jdoe3"),  # Blackboard
    ("LSTM Cell Homework_jdoe3_attempt_2024-04-30-21-02-38_lstm_cell.ipynb", "jdoe3"),  # Blackboard, display name
])
def test_name_shapes(name, student):
    """Is each real export shape read as its student and as this assignment's notebook?"""
    parsed = parse_name(name, A)
    assert safe_student(parsed.raw) == student and parsed.is_assignment, parsed


@pytest.mark.parametrize("name", ["jane_doe_lstm_vs_gru.ipynb", "jane_lstm_cell_v2.ipynb", "homework.ipynb",
                                  "doejane_12345_678_lstm_vs_gru.ipynb"])
def test_other_notebooks_are_not_this_assignment(name):
    """Is a notebook of another assignment (or an unrelated name) never taken as this assignment's?"""
    assert not parse_name(name, A).is_assignment


def test_flat_folder_of_many_shapes(tmp_path):
    """Does a flat folder mixing shapes give one submission a student, the latest resubmission winning?"""
    for rel in ["jane_doe_lstm_cell.ipynb", "jane-roe-lstm_cell.ipynb", "王小明_lstm_cell.ipynb",
                "doejane_12345_678_lstm_cell.ipynb", "doejane_LATE_12345_700_lstm_cell-1.ipynb",
                "lstm_cell_jdoe3_attempt_2024-04-30-21-02-38_lstm_cell.ipynb",
                "lstm_cell_jdoe3_attempt_2024-05-01-08-00-00_lstm_cell.ipynb",
                "lstm_cell_jdoe3_attempt_2024-05-01-08-00-00.txt", "smith_lstm_vs_gru.ipynb"]:
        _write(tmp_path, rel)
    subs = _by_student(collect(tmp_path, A, tmp_path / "staging"))
    assert set(subs) == {"jane_doe", "jane-roe", "王小明", "doejane", "jdoe3", "smith"}
    assert subs["doejane"].notebook.name == "doejane_LATE_12345_700_lstm_cell-1.ipynb"
    assert subs["jdoe3"].notebook.name.startswith("lstm_cell_jdoe3_attempt_2024-05-01")
    assert subs["smith"].outcome == "wrong_assignment"
    assert all(subs[s].outcome is None for s in ("jane_doe", "jane-roe", "王小明", "doejane", "jdoe3"))


def test_moodle_folders(tmp_path):
    """Is Moodle's folder-per-submission export read (not mistaken for nbgrader's layout), other files kept?"""
    _write(tmp_path, "Jane Doe_101_assignsubmission_file_/lstm_cell.ipynb")
    _write(tmp_path, "Jane Doe_101_assignsubmission_file_/weights.txt", "1 2 3")
    _write(tmp_path, "Jane Doe_101_assignsubmission_onlinetext_/onlinetext.html", "<p>hi</p>")
    _write(tmp_path, "Ana Lía_102_assignsubmission_file_/ana_lia_lstm_cell.ipynb")
    _write(tmp_path, "Bo Li_103_assignsubmission_file_/notes.pdf", "%PDF")
    subs = _by_student(collect(tmp_path, A, tmp_path / "staging"))
    assert subs["Jane_Doe"].outcome is None and subs["Jane_Doe"].files_dir.name.startswith("Jane Doe_101")
    assert subs["Ana_Lía"].outcome is None
    assert subs["Bo_Li"].outcome == "missing_notebook"


def test_nbgrader_layout(tmp_path):
    """Is nbgrader's submitted/<student>/<assignment>/ layout read with unicode student folders?"""
    _write(tmp_path, f"zoë/{A}/{A}.ipynb")
    _write(tmp_path, f"bob/{A}/other.ipynb")
    subs = _by_student(collect(tmp_path, A, tmp_path / "staging"))
    assert subs["zoë"].outcome is None and subs["bob"].outcome == "missing_notebook"


def test_symlinks_in_folders_are_rejected(tmp_path):
    """Is a symlinked student folder, assignment folder, notebook or extra file `rejected_link`, never followed?"""
    secret = tmp_path / "secret"
    _write(secret, f"{A}/{A}.ipynb")
    sub = tmp_path / "sub"
    _write(sub, f"honest/{A}/{A}.ipynb")
    (sub / "linkdir").symlink_to(secret, target_is_directory=True)
    (sub / "linkassign").mkdir()
    (sub / "linkassign" / A).symlink_to(secret / A, target_is_directory=True)
    _write(sub, f"linknb/{A}/data.txt", "x")
    (sub / "linknb" / A / f"{A}.ipynb").symlink_to(secret / A / f"{A}.ipynb")
    _write(sub, f"linkextra/{A}/{A}.ipynb")
    (sub / "linkextra" / A / "shadow").symlink_to("/etc/shadow")
    _write(sub, f"fifo/{A}/{A}.ipynb")
    os.mkfifo(sub / "fifo" / A / "pipe")
    subs = _by_student(collect(sub, A, tmp_path / "staging"))
    assert subs["honest"].outcome is None
    for name in ("linkdir", "linkassign", "linknb", "linkextra", "fifo"):
        assert subs[name].outcome == "rejected_link" and subs[name].notebook is None, name
    assert "symbolic link" in subs["linkextra"].detail and "not a regular file" in subs["fifo"].detail


def test_symlinks_in_flat_folder_are_rejected(tmp_path):
    """In a flat folder, does a linked notebook reject its student, even next to a valid notebook of theirs?"""
    target = _write(tmp_path / "elsewhere", "x.ipynb")
    sub = tmp_path / "flat"
    _write(sub, "alice_lstm_cell.ipynb")
    _write(sub, "mallory_lstm_cell.ipynb")
    (sub / "mallory_lstm_cell-1.ipynb").symlink_to(target)
    (sub / "eve_lstm_cell.ipynb").symlink_to(target)
    subs = _by_student(collect(sub, A, tmp_path / "staging"))
    assert subs["alice"].outcome is None
    assert subs["mallory"].outcome == "rejected_link" and subs["eve"].outcome == "rejected_link"


def test_zip_symlink_entries_are_rejected(tmp_path):
    """Is a zip entry that is a symlink (S_IFLNK in external_attr) rejected, its target never read or made?"""
    z = tmp_path / "subs.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("alice_lstm_cell.ipynb", NB)
        link = zipfile.ZipInfo("mallory_lstm_cell.ipynb")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/shadow")
        zf.writestr("../escape_lstm_cell.ipynb", NB)
        zf.writestr("/abs_lstm_cell.ipynb", NB)
    staging = tmp_path / "staging"
    subs = _by_student(collect(z, A, staging))
    assert subs["alice"].outcome is None and subs["mallory"].outcome == "rejected_link"
    assert os.readlink(staging / "mallory_lstm_cell.ipynb") == "/dev/null"
    assert not (tmp_path / "escape_lstm_cell.ipynb").exists() and "escape" not in subs and "abs" not in subs


def test_import_never_follows_a_link(tmp_path):
    """If a link is swapped in after the scan, does the copy refuse it (LinkRejected) instead of following it?"""
    from autograder.intake import LinkRejected
    sub = tmp_path / "sub"
    _write(sub, f"eve/{A}/{A}.ipynb")
    (s,) = collect(sub, A, tmp_path / "staging")
    (sub / "eve" / A / "key").symlink_to("/etc/hostname")
    with pytest.raises(LinkRejected):
        import_submission(s, tmp_path / "ws" / "submitted", A)


def test_colliding_ids_are_both_flagged(tmp_path):
    """Do `honestok` and `honestok.` (one id after cleaning) both get duplicate_student, with distinct ids?"""
    _write(tmp_path, f"honestok/{A}/{A}.ipynb")
    _write(tmp_path, f"honestok./{A}/{A}.ipynb")
    _write(tmp_path, f"other/{A}/{A}.ipynb")
    subs = collect(tmp_path, A, tmp_path / "staging")
    flagged = [s for s in subs if s.outcome == "duplicate_student"]
    assert len(flagged) == 2 and len({s.student for s in subs}) == 3
    assert all("'honestok/'" in s.detail and "'honestok./'" in s.detail for s in flagged)
    assert {s.student for s in flagged} >= {"honestok"}


def test_unicode_names_keep_distinct_ids(tmp_path):
    """Do names that differ only in accents or script keep distinct ids (no false collision)?"""
    for name in ("José", "Jose", "Jośe", "王小明", "王小朋"):
        _write(tmp_path, f"{name}_lstm_cell.ipynb")
    subs = collect(tmp_path, A, tmp_path / "staging")
    assert len({s.student for s in subs}) == 5 and all(s.outcome is None for s in subs)


def test_recorded_result_of_another_input_is_never_reused(tmp_path):
    """Is an input that maps to an id already holding ANOTHER input's result flagged under an id of its own?"""
    ws = tmp_path / "ws"
    save_result(ws, A, StudentResult("honestok", 6, 6, "graded", "", "honestok"), {})
    _write(tmp_path / "sub", f"honestok./{A}/{A}.ipynb")
    (sub,) = protect_recorded(collect(tmp_path / "sub", A, tmp_path / "staging"), ws)
    assert sub.outcome == "duplicate_student" and sub.student != "honestok" and "honestok" in sub.detail
    _write(tmp_path / "again", f"honestok/{A}/{A}.ipynb")  # the same input again: its own id
    (same,) = protect_recorded(collect(tmp_path / "again", A, tmp_path / "staging"), ws)
    assert same.outcome is None and same.student == "honestok"


def test_size_and_cell_limits_before_parsing(tmp_path):
    """Are a 200 MB notebook and one of 30,000 tiny cells rejected in well under a second each, unparsed?"""
    big = tmp_path / "big.ipynb"
    with open(big, "wb") as f:
        f.truncate(200 * 2**20)  # sparse: a 200 MB file
    many = tmp_path / "many.ipynb"
    many.write_text(json.dumps({"cells": [{"cell_type": "raw", "metadata": {}, "source": ""}] * 30_000,
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    for path, word in ((big, "MB"), (many, "cells")):
        start = time.process_time()  # CPU time: the test machine is shared
        with pytest.raises(NotebookTooLarge, match=word):
            check_notebook_file(path, Limits())
        assert time.process_time() - start < 0.5, word
    ok = _write(tmp_path, "ok.ipynb")
    assert check_notebook_file(ok, Limits()) is None
    assert check_notebook_file(_write(tmp_path, "bad.ipynb", "[" * 100_000), Limits()) is None  # corrupt later
    with pytest.raises(NotebookTooLarge):
        check_notebook_file(ok, Limits(max_notebook_bytes=10))


def test_import_gives_too_large(tmp_path):
    """Does intake give `too_large` (nothing copied) for a notebook over the cap?"""
    sub = tmp_path / "sub"
    path = _write(sub, f"eve/{A}/{A}.ipynb")
    with open(path, "ab") as f:
        f.truncate(30 * 2**20)
    (s,) = collect(sub, A, tmp_path / "staging")
    out = import_submission(s, tmp_path / "ws" / "submitted", A, Limits())
    assert out.outcome == "too_large" and not (tmp_path / "ws" / "submitted" / "eve").exists()


@pytest.mark.parametrize("mutate, words", [
    (lambda c: c["metadata"]["nbgrader"].__setitem__("grade_id", ["test_add"]), "grade_id is a list"),
    (lambda c: c["metadata"]["nbgrader"].__setitem__("grade_id", {"a": 1}), "grade_id is a mapping"),
    (lambda c: c["metadata"].__setitem__("nbgrader", ["x"]), "nbgrader metadata is a list"),
    (lambda c: c.__setitem__("metadata", "x"), "metadata is a string"),
    (lambda c: c["metadata"]["nbgrader"].__setitem__("locked", "yes"), "'locked' is a string"),
    (lambda c: c.__setitem__("source", [1, 2]), "source is a list"),
    (lambda c: c.__setitem__("cell_type", 7), "cell_type"),
])
def test_malformed_nbgrader_metadata(mutate, words):
    """Does malformed nbgrader metadata raise MalformedNotebook naming the cell, not a TypeError?"""
    from autograder.tamper import MalformedNotebook, assemble
    from autograder.template import Template, TemplateCell
    meta = {"nbgrader": {"grade_id": "test_add", "grade": True, "solution": False, "locked": True, "points": 1}}
    template = Template("toy", "toy", [TemplateCell("test_add", "code", "test", 1.0, "assert 1", "assert 1", meta)])
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("assert 1", metadata=json.loads(json.dumps(meta)))
    nb.cells.append(cell)
    assert not assemble(template, nb).deleted
    mutate(cell)
    with pytest.raises(MalformedNotebook, match=words):
        assemble(template, nb)


NASTY = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", 'Doe, "Jane"', "line\nbreak",
         '=HYPERLINK("evil.example","click")', "plain"]


def test_csv_survives_and_cannot_be_a_formula(tmp_path):
    """Do names and details with commas, quotes, newlines and a leading = + - @ tab CR round-trip through
    grades.csv, each formula-like cell prefixed with a single quote (OWASP CSV injection)?"""
    for i, name in enumerate(NASTY):
        save_result(tmp_path, "toy", StudentResult(name, 1, 2, "graded", name), {})
    rows = list(csv.DictReader(open(write_csv(tmp_path, "toy"), newline="", encoding="utf-8")))
    assert len(rows) == len(NASTY)
    got = {r["student"] for r in rows}
    for name in NASTY:
        expected = "'" + name if name[0] in "=+-@\t\r" else name
        assert expected in got, name
        row = next(r for r in rows if r["student"] == expected)
        assert row["detail"] == expected and row["score"] == "1"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")) and not value.startswith("-")


def test_result_file_names_stay_in_their_folder(tmp_path):
    """Is a student id that is not one file name (a slash, `..`) refused rather than written elsewhere?"""
    for bad in ("../x", "a/b", "..", ".hidden", ""):
        with pytest.raises(ValueError):
            save_result(tmp_path, "toy", StudentResult(bad, 0, 1, "error", ""), {})
    assert not (tmp_path / "x.json").exists()


def test_summary_has_no_control_characters():
    """Can a student's file name not drive the instructor's terminal (escape sequences in the summary)?"""
    from autograder.report import summary_table
    table = summary_table([StudentResult("eve", 0, 1, "missing_notebook", "not a notebook: \x1b]0;pwn\x07x.txt")])
    assert "\x1b" not in table and "\x07" not in table


# ------------------------------------------------------------------------------------------- feedback HTML

PAYLOADS = {
    "markdown script": ("markdown", "<script>window.pwned = 'md-script'</script>"),
    "markdown img onerror": ("markdown", "<img src=x onerror=\"window.pwned='md-img'\">"),
    "markdown javascript link": ("markdown", "[x](javascript:window.pwned='md-link')"),
    "markdown iframe": ("markdown", "<iframe srcdoc=\"<script>parent.pwned='md-iframe'</script>\"></iframe>"),
    "markdown svg": ("markdown", "<svg onload=\"window.pwned='md-svg'\"><script>window.pwned='md-svg2'</script></svg>"),
    "html output": ("html", "<script>window.pwned='html'</script><img src=x onerror=\"window.pwned='html-img'\">"),
    "html body onload": ("html", "<body onload=\"window.pwned='onload'\"><details open ontoggle=\"window.pwned='tg'\">"),
    "javascript output": ("javascript", "window.pwned = 'js-output'"),
    "svg output": ("svg", "<svg xmlns='http://www.w3.org/2000/svg' onload=\"window.pwned='svg'\">"
                          "<script>window.pwned='svg2'</script></svg>"),
    "markdown output": ("md-output", "<script>window.pwned='md-output'</script>"),
    "raw html cell": ("raw", "<script>window.pwned='raw'</script>"),
    "meta refresh": ("html", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:window.pwned='refresh'\">"),
    "style import": ("html", "<style>@import 'http://127.0.0.1:9/x.css';</style><img src='http://127.0.0.1:9/y'>"),
    "object": ("html", "<object data=\"javascript:window.pwned='object'\"></object><embed src=\"javascript:1\">"),
}


def _payload_notebook(kind: str, text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    if kind == "markdown":
        nb.cells.append(nbformat.v4.new_markdown_cell(text))
    elif kind == "raw":
        cell = nbformat.v4.new_raw_cell(text)
        cell.metadata["format"] = "text/html"
        nb.cells.append(cell)
    else:
        mime = {"html": "text/html", "javascript": "application/javascript", "svg": "image/svg+xml",
                "md-output": "text/markdown"}[kind]
        cell = nbformat.v4.new_code_cell("x = 1")
        cell.outputs = [nbformat.v4.new_output("display_data", data={mime: text})]
        nb.cells.append(cell)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0, "x": "</script><script>window.pwned='widget'</script>"}}
    return nb


def _feedback(tmp_path: Path, name: str, nb) -> Path:
    from autograder.feedback import write_feedback
    from autograder.template import Template
    return write_feedback(tmp_path / f"{name.replace(' ', '_')}.html", nb, Template("toy", "toy", []), "eve", 0, 1,
                          "graded", "<script>window.pwned='detail'</script>", {})


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_feedback_is_sanitised_and_has_csp(tmp_path, name):
    """Does the feedback file keep no student script, handler or javascript: URL, and carry a strict CSP first?"""
    from autograder.feedback import CSP
    html = _feedback(tmp_path, name, _payload_notebook(*PAYLOADS[name])).read_text()
    head = html[:html.lower().index("<head") + 300]
    assert CSP in head
    assert _active_payloads(html) == [], name


def _active_payloads(html: str) -> list:
    """Elements and attributes of the page that could run the payload (escaped text does not count)."""
    from html.parser import HTMLParser

    found = []

    class Finder(HTMLParser):
        script = False

        def handle_starttag(self, tag, attrs):
            self.script = tag == "script"
            if tag in ("iframe", "object", "embed", "frame", "base") or (tag == "meta" and "refresh" in str(attrs)):
                found.append(tag)
            for key, value in attrs:
                value = (value or "").strip().lower()
                if key.startswith("on") and "pwned" in value or value.startswith(("javascript:", "vbscript:")):
                    found.append(f"{tag} {key}={value[:40]}")

        def handle_data(self, data):
            if self.script and "pwned" in data:
                found.append(f"script {data[:40]}")

        def handle_endtag(self, tag):
            self.script = False

    Finder().feed(html)
    return found


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (as tests/test_site.py drives it)."""
    import shutil
    import tempfile
    chromium = os.environ.get("LSTM_BOOK_CHROMIUM", "/usr/bin/chromium")
    driver_path = os.environ.get("LSTM_BOOK_CHROMEDRIVER", "/usr/bin/chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("needs selenium")
    if not (Path(chromium).exists() and Path(driver_path).exists()):
        pytest.skip("needs chromium and chromium-driver")
    profile = tempfile.mkdtemp(prefix="ag-feedback-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _ran(driver, url: str) -> object:
    """Open `url`; return what the page's scripts did (window.pwned, an alert), or None."""
    from selenium.common.exceptions import NoAlertPresentException
    driver.get(url)
    time.sleep(0.3)
    try:
        alert = driver.switch_to.alert
        text = alert.text
        alert.accept()
        return f"alert {text}"
    except NoAlertPresentException:
        pass
    return driver.execute_script("return window.pwned || document.title.indexOf('PWNED') >= 0 || null")


@pytest.mark.browser
def test_feedback_runs_no_student_script_in_chromium(tmp_path, browser):
    """Opened in a real browser, does no payload run (no window.pwned, no alert), sanitised or not?"""
    for name, (kind, text) in PAYLOADS.items():
        path = _feedback(tmp_path, name, _payload_notebook(kind, text.replace("window.pwned", "alert(1);window.pwned")))
        assert _ran(browser, path.as_uri()) is None, name


@pytest.mark.browser
def test_csp_alone_stops_a_missed_vector(tmp_path, browser):
    """If the sanitiser missed something, does the CSP meta tag alone keep it from running? (Control: the same
    page without the tag does run it, so the test can tell.)"""
    from autograder.feedback import add_csp
    page = ("<!DOCTYPE html><html><head><title>t</title></head><body><script>window.pwned='inline'</script>"
            "<img src=x onerror=\"window.pwned='img'\"><a id=a href=\"javascript:window.pwned='link'\">a</a></body></html>")
    bare = tmp_path / "bare.html"
    bare.write_text(page)
    assert _ran(browser, bare.as_uri()) is not None
    guarded = tmp_path / "guarded.html"
    guarded.write_text(add_csp(page))
    assert _ran(browser, guarded.as_uri()) is None
    browser.execute_script("document.getElementById('a').click()")
    time.sleep(0.2)
    assert browser.execute_script("return window.pwned || null") is None


def test_a_notebook_of_the_other_edition_is_named_to_its_student(tmp_path):
    """Is a PyTorch-edition notebook handed in for the Keras assignment (and the reverse), in a flat folder, a
    Canvas download, a Moodle folder or nbgrader's layout, `wrong_assignment` or `missing_notebook` with the
    assignment that grades it, and is the hint left out when the course has no such edition?"""
    flat = tmp_path / "flat"
    _write(flat, "jane_lstm_vs_gru_torch.ipynb")
    _write(flat, "doejane_12345_678_lstm_vs_gru_torch.ipynb")
    _write(flat, "Bo Li_103_assignsubmission_file_/lstm_vs_gru_torch.ipynb")
    subs = _by_student(collect(flat, "lstm_vs_gru", tmp_path / "s1", "lstm_vs_gru_torch"))
    assert {s.outcome for s in subs.values()} == {"wrong_assignment"} and len(subs) == 3
    assert all("PyTorch edition: grade it with the assignment lstm_vs_gru_torch" in s.detail for s in subs.values())
    back = tmp_path / "back"
    _write(back, "jane_lstm_vs_gru.ipynb")
    sub, = collect(back, "lstm_vs_gru_torch", tmp_path / "s2", "lstm_vs_gru")
    assert sub.outcome == "wrong_assignment" and "Keras edition: grade it with the assignment lstm_vs_gru" in sub.detail
    sub, = collect(back, "lstm_vs_gru_torch", tmp_path / "s3", None)  # no other edition in the course
    assert sub.outcome == "wrong_assignment" and "edition" not in sub.detail
    layout = tmp_path / "nbgrader"
    _write(layout, "jane/lstm_vs_gru/lstm_vs_gru_torch.ipynb")
    sub, = collect(layout, "lstm_vs_gru", tmp_path / "s4", "lstm_vs_gru_torch")
    assert sub.outcome == "missing_notebook" and "grade it with the assignment lstm_vs_gru_torch" in sub.detail
