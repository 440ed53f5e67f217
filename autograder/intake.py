"""Import submissions: nbgrader's submitted/<student>/<assignment>/ layout, or a flat folder or zip of LMS exports.

Only regular files are ever taken: a symbolic link (file or folder, in a folder or a zip) or a FIFO/device is never
opened or followed; the student it belongs to gets the outcome `rejected_link`. Student ids keep unicode letters;
two inputs that still map to one id are both flagged `duplicate_student` (each under an id of its own), and an id
that already holds another input's recorded result is never reused for a different input.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from .limits import NotebookTooLarge, check_notebook_file

#: Canvas: <name>[_LATE]_<user id>_<submission id>_<file name> (file name may end in -1, -2 ...).
CANVAS_NAME = re.compile(r"^(?P<name>.+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
#: Moodle "Download all submissions": <Full Name>_<participant id>_assignsubmission_<plugin>_[<file name>]
#: (a folder per submission plugin in Moodle 3.x/4.x, a flat file name with the original name appended in older ones).
MOODLE_NAME = re.compile(r"^(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$")
#: Blackboard Grade Center "Assignment File Download": <Assignment>_<username>_attempt_<yyyy-mm-dd-hh-mm-ss>[_<file>]
#: (plus a <...>_attempt_<date>.txt with the submission's text and comments).
BLACKBOARD_NAME = re.compile(
    r"^(?P<prefix>.+?)_attempt_(?P<date>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})(?:_(?P<file>.+)|\.txt)?$")
MAX_ZIP_BYTES = 512 * 2**20
MAX_ID_BYTES = 120  # a results file name is <id>.json, a temporary one .<id>.json.tmp: well under 255 bytes
JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")


class LinkRejected(OSError):
    """A symbolic link or other non-regular file where a student's regular file was expected."""


@dataclass
class Submission:
    """One student's submission as found, before grading."""

    student: str
    notebook: Path | None = None
    files_dir: Path | None = None  # the student's other files (copied into the kernel's work folder)
    outcome: str | None = None  # set when the submission cannot be graded at all
    detail: str = ""
    source: str = ""  # the name this input gives (folder or LMS name, before cleaning): kept in results/
    inputs: tuple = ()  # the input paths (relative to the submissions root) this submission came from
    lms: str = ""  # "canvas", "moodle" or "blackboard" when the input's name has that LMS's export shape
    lms_user_id: str = ""  # the LMS's user id in that name (Canvas, Moodle); kept in results/ for the exports


# ---------------------------------------------------------------------------------------------------- names

def safe_student(name: str) -> str:
    """A student id usable as a folder name: unicode letters and digits kept, `_ . @ -` kept, others -> `_`."""
    name = unicodedata.normalize("NFC", str(name))
    cleaned = re.sub(r"[^\w.@-]", "_", name).strip("._-@")
    while len(cleaned.encode("utf-8")) > MAX_ID_BYTES:
        cleaned = cleaned[:-1]
    return cleaned.rstrip("._-@") or "unknown"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _resubmission(stem: str) -> tuple[str, int]:
    """Canvas renames a resubmitted file foo-1.ipynb, foo-2.ipynb: return (foo, n)."""
    m = re.match(r"^(.*?)-(\d{1,3})$", stem)
    return (m[1], int(m[2])) if m else (stem, 0)


def _notebook_student(file_name: str, assignment: str) -> tuple[str | None, bool, int]:
    """For a file a student named: (the student part or None, is it this assignment's notebook, resubmission n).

    `jane_doe_lstm_cell.ipynb`, `jane-doe-lstm_cell.ipynb`, `jane doe lstm_cell.ipynb` -> jane_doe / jane-doe /
    jane doe; `lstm_cell.ipynb` -> None; anything else -> the part before the first `_` and False.
    """
    if not file_name.endswith(".ipynb"):
        return file_name.partition("_")[0] or None, False, 0
    stem, n = _resubmission(file_name[:-len(".ipynb")])
    if stem == assignment:
        return None, True, n
    for sep in ("_", "-", " "):
        if stem.endswith(sep + assignment) and len(stem) > len(assignment) + 1:
            return stem[:-len(assignment) - 1], True, n
    return stem.partition("_")[0] or stem, False, n


#: the PyTorch edition of an assignment is its own nbgrader assignment named <assignment>_torch (README)
TORCH_EDITION = "_torch"


def other_edition(assignment: str) -> str:
    """The other edition's assignment name: lstm_vs_gru <-> lstm_vs_gru_torch."""
    return assignment[:-len(TORCH_EDITION)] if assignment.endswith(TORCH_EDITION) else assignment + TORCH_EDITION


def _edition_hint(file_names, assignment: str, other: str | None) -> str:
    """When one of the notebooks is named for `other`, this assignment's other edition: a sentence that says what
    to do ("" otherwise)."""
    if not other or not any(parse_name(name, other).is_assignment for name in file_names):
        return ""
    kind = "PyTorch" if other.endswith(TORCH_EDITION) else "Keras"
    return f" (it is the {kind} edition: grade it with the assignment {other})"


@dataclass
class _Parsed:
    raw: str  # the student's name as the input gives it
    key: str  # raw name + LMS user id: two inputs with the same key are one student's resubmissions
    is_assignment: bool
    rank: tuple  # larger = later submission
    shape: str
    user_id: str = ""  # the LMS's user id in the name (Canvas user id, Moodle participant id)


def parse_name(file_name: str, assignment: str, folder_student: str | None = None) -> _Parsed:
    """Who submitted the file called `file_name`, and is it this assignment's notebook? (LMS export names)."""
    m = MOODLE_NAME.match(file_name)
    if m:
        _, ok, n = _notebook_student(m["file"], assignment)
        return _Parsed(m["name"], f"{m['name']}\x00moodle{m['uid']}", ok, (0, n), "moodle", m["uid"])
    m = BLACKBOARD_NAME.match(file_name)
    if m:
        prefix = m["prefix"]
        user = prefix[len(assignment) + 1:] if prefix.startswith(assignment + "_") else prefix.rsplit("_", 1)[-1]
        _, ok, n = _notebook_student(m["file"] or "", assignment)
        return _Parsed(user, f"{user}\x00blackboard", ok, (int(m["date"].replace("-", "")), n), "blackboard")
    m = CANVAS_NAME.match(file_name)
    if m:
        _, ok, n = _notebook_student(m["file"], assignment)
        return _Parsed(m["name"], f"{m['name']}\x00canvas{m['uid']}", ok, (int(m["sub"]), n), "canvas", m["uid"])
    student, ok, n = _notebook_student(file_name, assignment)
    if student is None:
        student = folder_student if folder_student is not None else assignment
    return _Parsed(student, student, ok, (0, n), "plain")


# ------------------------------------------------------------------------------------------------ file system

def _lstat_kind(path: Path) -> str:
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "special"


def _describe(path: Path, rel: str) -> str:
    kind = _lstat_kind(path)
    if kind == "link":
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"{rel} is a symbolic link (to {target[:120]})"
    return f"{rel} is not a regular file"


def scan_tree(folder: Path) -> tuple[list[Path], list[str]]:
    """Regular files under `folder` (never following a link), and a description of every link or special file."""
    files, bad = [], []
    stack = [Path(folder)]
    while stack:
        current = stack.pop()
        with os.scandir(current) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            path = Path(entry.path)
            rel = str(path.relative_to(folder))
            if entry.is_symlink():
                bad.append(_describe(path, rel))
            elif entry.is_dir(follow_symlinks=False):
                stack.append(path)
            elif entry.is_file(follow_symlinks=False):
                files.append(path)
            else:
                bad.append(_describe(path, rel))
    return sorted(files), bad


def copy_regular_file(src: Path, dst: Path) -> None:
    """Copy one regular file without following a link at `src` or `dst` (O_NOFOLLOW; FIFOs never block)."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        if _lstat_kind(Path(src)) == "link":
            raise LinkRejected(f"{Path(src).name} is a symbolic link: not followed") from err
        raise
    with os.fdopen(fd, "rb") as fin:
        if not stat.S_ISREG(os.fstat(fin.fileno()).st_mode):
            raise LinkRejected(f"{Path(src).name} is not a regular file")
        out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(out, "wb") as fout:
            shutil.copyfileobj(fin, fout)


def copy_regular_tree(src: Path, dst: Path, skip=lambda name: False) -> None:
    """Copy the regular files under `src` to `dst`; raise LinkRejected at the first link or special file."""
    files, bad = scan_tree(src)
    if bad:
        raise LinkRejected("; ".join(bad[:5]))
    Path(dst).mkdir(parents=True, exist_ok=True)
    for path in files:
        if skip(path.name):
            continue
        target = Path(dst) / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_regular_file(path, target)


def _remove(path: Path) -> None:
    """Remove a file, link or folder tree at `path` without following links."""
    try:
        kind = _lstat_kind(path)
    except FileNotFoundError:
        return
    if kind == "dir":
        shutil.rmtree(path)
    else:
        path.unlink()


# ---------------------------------------------------------------------------------------------------- zip files

def _zip_entry_is_link(info: zipfile.ZipInfo) -> bool:
    """A zip entry written by a Unix zip for a symbolic link (or FIFO, device) rather than a file or folder."""
    if info.create_system != 3:  # only Unix zips store a file type in the high 16 bits of external_attr
        return False
    kind = stat.S_IFMT(info.external_attr >> 16)
    return kind not in (0, stat.S_IFREG, stat.S_IFDIR)


def _extract_zip(path: Path, target: Path) -> Path:
    """Extract regular files only. A link entry becomes a dangling link to /dev/null (never its own target), so
    the intake below rejects it like a link in a folder; bad paths and oversize archives are skipped."""
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path) as zf:
        total = 0
        for info in zf.infolist():
            total += info.file_size
            name = Path(info.filename.replace("\\", "/"))
            if info.is_dir() or name.is_absolute() or ".." in name.parts or not name.parts or total > MAX_ZIP_BYTES:
                continue
            dest = target.joinpath(*name.parts)
            try:
                for parent in reversed(dest.relative_to(target).parents):  # no component may be a link
                    p = target / parent
                    if p != target and p.is_symlink():
                        raise LinkRejected(f"{parent} is a link")
                dest.parent.mkdir(parents=True, exist_ok=True)
                if os.path.lexists(dest):
                    continue
                if _zip_entry_is_link(info):
                    os.symlink("/dev/null", dest)
                    continue
                with zf.open(info) as src, open(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                                                        0o644), "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, EOFError):  # one bad entry: skip it
                continue
    return target


# ------------------------------------------------------------------------------------------------ layouts

def _visible(root: Path) -> list[os.DirEntry]:
    with os.scandir(root) as it:
        return sorted((e for e in it if not e.name.startswith(".") and e.name not in JUNK), key=lambda e: e.name)


def _is_dirlike(entry: os.DirEntry) -> bool:
    return entry.is_dir(follow_symlinks=False) or entry.is_symlink()


def _is_nbgrader_layout(folder: Path) -> bool:
    entries = _visible(folder)
    return (any(_is_dirlike(e) for e in entries) and not any(e.name.endswith(".ipynb") for e in entries)
            and not any(MOODLE_NAME.match(e.name) for e in entries))


def _from_nbgrader(folder: Path, assignment: str, other: str | None = None) -> list[Submission]:
    subs = []
    for entry in _visible(folder):
        if not _is_dirlike(entry):
            continue
        sdir = Path(entry.path)
        name = unicodedata.normalize("NFC", entry.name)
        base = dict(student=safe_student(name), source=name, inputs=(f"{entry.name}/",))
        if entry.is_symlink():
            subs.append(Submission(**base, outcome="rejected_link",
                                   detail=_describe(sdir, entry.name + "/") + ": links are never followed"))
            continue
        adir = sdir / assignment
        if not os.path.lexists(adir) or _lstat_kind(adir) not in ("dir", "link"):
            with os.scandir(sdir) as it:
                others = sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
            subs.append(Submission(**base, outcome="wrong_assignment",
                                   detail=f"no folder {assignment!r}; found {others or 'nothing'}"))
            continue
        if _lstat_kind(adir) == "link":
            subs.append(Submission(**base, outcome="rejected_link",
                                   detail=_describe(adir, f"{entry.name}/{assignment}/") + ": links are never followed"))
            continue
        files, bad = scan_tree(adir)
        if bad:
            subs.append(Submission(**base, outcome="rejected_link",
                                   detail="; ".join(bad[:5]) + ": links and special files are never followed"))
            continue
        expected = adir / f"{assignment}.ipynb"
        notebooks = [p.name for p in files if p.parent == adir and p.suffix == ".ipynb"]
        if expected in files:
            subs.append(Submission(**base, notebook=expected, files_dir=adir))
        elif notebooks:
            hint = _edition_hint(notebooks, assignment, other)
            subs.append(Submission(**base, outcome="missing_notebook",
                                   detail=f"expected {assignment}.ipynb, found {', '.join(notebooks)}{hint}"))
        else:
            subs.append(Submission(**base, outcome="missing_notebook", detail="no notebook submitted"))
    return subs


def _priority(sub: Submission) -> int:
    """Which of one student's inputs counts: a link always (it must be seen), then a notebook, then a stray file."""
    return 3 if sub.outcome == "rejected_link" else 2 if sub.outcome is None else 1


def _from_flat(folder: Path, assignment: str, other: str | None = None) -> list[Submission]:
    found: dict[str, tuple[tuple, Submission]] = {}

    def offer(parsed: _Parsed, sub: Submission) -> None:
        sub.student = safe_student(parsed.raw)
        sub.source = unicodedata.normalize("NFC", parsed.raw)
        if parsed.shape != "plain":
            sub.lms, sub.lms_user_id = parsed.shape, parsed.user_id
        key = (_priority(sub), *parsed.rank)  # the latest resubmission wins
        if parsed.key not in found or key > found[parsed.key][0]:
            found[parsed.key] = (key, sub)

    def visit(path: Path, rel: str, folder_student: str | None) -> None:
        kind = _lstat_kind(path)
        name = path.name
        if kind == "dir":
            m = MOODLE_NAME.match(name)
            if m:
                moodle_folder(path, rel, m)
                return
            with os.scandir(path) as it:
                children = sorted(e.name for e in it if not e.name.startswith(".") and e.name not in JUNK)
            for child in children:
                visit(path / child, f"{rel}/{child}", folder_student or name)
            return
        parsed = parse_name(name, assignment, folder_student)
        if kind in ("link", "special"):
            m = MOODLE_NAME.match(name)
            if m and not m["file"]:  # a Moodle submission folder that is a link
                parsed = _Parsed(m["name"], f"{m['name']}\x00moodle{m['uid']}", False, (0, 0), "moodle", m["uid"])
            offer(parsed, Submission("", outcome="rejected_link", inputs=(rel,),
                                     detail=_describe(path, rel) + ": links and special files are never followed"))
        elif not name.endswith(".ipynb"):
            if parsed.shape == "blackboard" and not BLACKBOARD_NAME.match(name)["file"]:
                return  # Blackboard's own <...>_attempt_<date>.txt (the submission's text): not an input
            offer(parsed, Submission("", outcome="missing_notebook", detail=f"not a notebook: {rel}", inputs=(rel,)))
        elif not parsed.is_assignment:
            hint = _edition_hint([name], assignment, other)
            offer(parsed, Submission("", outcome="wrong_assignment", inputs=(rel,),
                                     detail=f"{rel} is not {assignment}.ipynb{hint}"))
        else:
            offer(parsed, Submission("", notebook=path, inputs=(rel,)))

    def moodle_folder(path: Path, rel: str, m) -> None:
        parsed = _Parsed(m["name"], f"{m['name']}\x00moodle{m['uid']}", True, (0, 0), "moodle", m["uid"])
        files, bad = scan_tree(path)
        if bad:
            offer(parsed, Submission("", outcome="rejected_link", inputs=(rel + "/",), detail="; ".join(
                f"{rel}/{b}" for b in bad[:5]) + ": links and special files are never followed"))
            return
        notebooks = [p for p in files if p.suffix == ".ipynb"]
        mine = [p for p in notebooks if _notebook_student(p.name, assignment)[1]]
        if mine:
            best = max(mine, key=lambda p: (_notebook_student(p.name, assignment)[2], p.name))
            offer(parsed, Submission("", notebook=best, files_dir=path, inputs=(f"{rel}/{best.relative_to(path)}",)))
        else:
            what = ", ".join(str(p.relative_to(path)) for p in notebooks) or "no notebook"
            outcome = "wrong_assignment" if notebooks else "missing_notebook"
            hint = _edition_hint([p.name for p in notebooks], assignment, other)
            offer(parsed, Submission("", outcome=outcome, inputs=(rel + "/",),
                                     detail=f"{rel}/ holds {what}, not {assignment}.ipynb{hint}"))

    for entry in _visible(folder):
        visit(Path(entry.path), entry.name, None)
    return [sub for _, sub in found.values()]


def _flag_duplicates(subs: list[Submission]) -> list[Submission]:
    """Inputs of different students that clean to one id: all flagged, each under an id of its own."""
    by_id: dict[str, list[Submission]] = {}
    for sub in subs:
        by_id.setdefault(sub.student, []).append(sub)
    out = []
    for sid, group in by_id.items():
        if len(group) == 1:
            out.extend(group)
            continue
        names = " and ".join(repr(", ".join(s.inputs) or s.source) for s in group)
        keepers = [s for s in group if s.source == sid]
        for sub in group:
            new_id = sid if len(keepers) == 1 and sub is keepers[0] else f"{sid}~{_short_hash(sub.source + '|' + ','.join(sub.inputs))}"
            out.append(replace(sub, student=new_id, notebook=None, files_dir=None, outcome="duplicate_student",
                               detail=f"inputs {names} map to the same student id {sid!r}: none of them is graded "
                                      "(rename one and grade again)"))
    return sorted(out, key=lambda s: s.student)


def collect(submissions: Path, assignment: str, staging: Path, other: str | None = None) -> list[Submission]:
    """Find every student's submission of `assignment` in a folder or zip (never following a link). `other`: the
    course's other edition of the assignment (Keras or PyTorch), named to the student whose notebook is that one."""
    submissions = Path(submissions)
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        shutil.rmtree(staging, ignore_errors=True)
        submissions = _extract_zip(submissions, staging)
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder or zip at {submissions}")
    if _is_nbgrader_layout(submissions):
        subs = _from_nbgrader(submissions, assignment, other)
    else:
        subs = _from_flat(submissions, assignment, other)
    return _flag_duplicates(subs)


def recorded_source(workspace: Path, student: str) -> str | None:
    """The input name recorded for `student` in any assignment's results (None if none or not recorded)."""
    for path in sorted((Path(workspace) / "results").glob(f"*/{glob_escape(student)}.json")):
        try:
            source = json.loads(path.read_text()).get("source")
        except (OSError, ValueError, AttributeError):
            continue
        if source:
            return str(source)
    return None


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def protect_recorded(subs: list[Submission], workspace: Path) -> list[Submission]:
    """Never reuse an id whose recorded result came from another input: such an input is flagged instead."""
    taken = {s.student for s in subs}
    out = []
    for sub in subs:
        other = recorded_source(workspace, sub.student)
        if other is None or not sub.source or other == sub.source:
            out.append(sub)
            continue
        new_id = f"{sub.student}~{_short_hash(sub.source)}"
        while new_id in taken:
            new_id += "x"
        taken.add(new_id)
        out.append(replace(sub, student=new_id, notebook=None, files_dir=None, outcome="duplicate_student",
                           detail=f"student id {sub.student!r} already holds the result of input {other!r}; this input "
                                  f"{sub.source!r} ({', '.join(sub.inputs)}) maps to the same id and is not graded "
                                  "(rename it and grade again)"))
    return out


def import_submission(sub: Submission, submitted: Path, assignment: str, limits=None) -> Submission:
    """Copy a submission into the workspace's submitted/<student>/<assignment>/ (nbgrader's layout).

    Regular files only: a link met here (e.g. swapped in after the scan) raises LinkRejected. A notebook over
    the size or cell limits gets `too_large` before anything is copied or parsed.
    """
    if sub.notebook is None:
        return sub
    if limits is not None:
        try:
            check_notebook_file(sub.notebook, limits)
        except NotebookTooLarge as err:
            return replace(sub, notebook=None, files_dir=None, outcome="too_large", detail=str(err))
    dest = submitted / sub.student / assignment
    source_dir = sub.files_dir or sub.notebook.parent
    if os.path.lexists(dest) and _lstat_kind(dest) == "dir" and os.path.samefile(dest, source_dir):
        if _lstat_kind(sub.notebook) != "file":
            raise LinkRejected(f"{sub.notebook.name} is not a regular file")
        return sub
    _remove(dest)
    dest.mkdir(parents=True)
    if sub.files_dir is not None:
        copy_regular_tree(sub.files_dir, dest, skip=lambda name: name == sub.notebook.name)
    copy_regular_file(sub.notebook, dest / f"{assignment}.ipynb")
    return replace(sub, notebook=dest / f"{assignment}.ipynb", files_dir=dest)
