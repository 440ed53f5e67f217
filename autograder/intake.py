"""Import submissions: nbgrader's submitted/<student>/<assignment>/ layout, or a flat folder or zip (Canvas names)."""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: Canvas export names: <name>[_LATE]_<user id>_<submission id>_<file name> (file name may end in -1, -2 ...).
CANVAS_NAME = re.compile(r"^(?P<name>[A-Za-z0-9-]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
MAX_ZIP_BYTES = 512 * 2**20


@dataclass
class Submission:
    """One student's submission as found, before grading."""

    student: str
    notebook: Path | None = None
    files_dir: Path | None = None  # the student's other files (copied into the kernel's work folder)
    outcome: str | None = None  # set when the submission cannot be graded at all
    detail: str = ""


def safe_student(name: str) -> str:
    """A student id usable as a folder name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.@-]", "_", name).strip("._") or "unknown"
    return cleaned[:80]


def _file_stem(name: str) -> str:
    stem = name[:-len(".ipynb")] if name.endswith(".ipynb") else name
    return re.sub(r"-\d+$", "", stem)  # Canvas renames resubmissions foo-1.ipynb


def _extract_zip(path: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path) as zf:
        total = 0
        for info in zf.infolist():
            total += info.file_size
            name = Path(info.filename)
            if info.is_dir() or name.is_absolute() or ".." in name.parts or total > MAX_ZIP_BYTES:
                continue
            dest = target / name.name if len(name.parts) == 1 else target.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return target


def _is_nbgrader_layout(folder: Path) -> bool:
    return any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir()) and not any(
        p.suffix == ".ipynb" for p in folder.iterdir())


def _from_nbgrader(folder: Path, assignment: str) -> list[Submission]:
    subs = []
    for sdir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        student = safe_student(sdir.name)
        adir = sdir / assignment
        if not adir.is_dir():
            others = sorted(p.name for p in sdir.iterdir() if p.is_dir())
            subs.append(Submission(student, outcome="wrong_assignment",
                                   detail=f"no folder {assignment!r}; found {others or 'nothing'}"))
            continue
        notebooks = sorted(adir.glob("*.ipynb"))
        expected = adir / f"{assignment}.ipynb"
        if expected.exists():
            subs.append(Submission(student, expected, adir))
        elif notebooks:
            subs.append(Submission(student, outcome="missing_notebook",
                                   detail=f"expected {assignment}.ipynb, found {', '.join(p.name for p in notebooks)}"))
        else:
            subs.append(Submission(student, outcome="missing_notebook", detail="no notebook submitted"))
    return subs


def _from_flat(folder: Path, assignment: str) -> list[Submission]:
    found: dict[str, tuple[tuple, Submission]] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or "__MACOSX" in path.parts:
            continue
        m = CANVAS_NAME.match(path.name)
        if m:
            student, stem, rank = m["name"], _file_stem(m["file"]), (int(m["sub"]),)
        else:
            stem = _file_stem(path.name)
            student, _, rest = stem.partition("_")
            stem, rank = (rest if rest else assignment), (0,)
        student = safe_student(student)
        if path.suffix != ".ipynb":
            sub = Submission(student, outcome="missing_notebook", detail=f"not a notebook: {path.name}")
        elif stem != assignment:
            sub = Submission(student, outcome="wrong_assignment",
                             detail=f"{path.name} is not {assignment}.ipynb")
        else:
            sub = Submission(student, path)
        key = (sub.outcome is None, *rank)  # a valid notebook beats a stray file; the latest resubmission wins
        if student not in found or key > found[student][0]:
            found[student] = (key, sub)
    return [found[s][1] for s in sorted(found)]


def collect(submissions: Path, assignment: str, staging: Path) -> list[Submission]:
    """Find every student's submission of `assignment` in a folder or zip."""
    submissions = Path(submissions)
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        shutil.rmtree(staging, ignore_errors=True)
        submissions = _extract_zip(submissions, staging)
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder or zip at {submissions}")
    if _is_nbgrader_layout(submissions):
        return _from_nbgrader(submissions, assignment)
    return _from_flat(submissions, assignment)


def import_submission(sub: Submission, submitted: Path, assignment: str) -> Submission:
    """Copy a submission into the workspace's submitted/<student>/<assignment>/ (nbgrader's layout)."""
    if sub.notebook is None:
        return sub
    dest = submitted / sub.student / assignment
    if dest.resolve() == (sub.files_dir or sub.notebook.parent).resolve():
        return sub
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if sub.files_dir is not None:
        shutil.copytree(sub.files_dir, dest, dirs_exist_ok=True, symlinks=True)
    shutil.copy2(sub.notebook, dest / f"{assignment}.ipynb")
    return Submission(sub.student, dest / f"{assignment}.ipynb", dest, sub.outcome, sub.detail)
