"""Build the zip to upload as a Gradescope programming assignment's autograder (one assignment a zip).

    python -m autograder.gradescope.package lstm_cell [--out lstm_cell_gradescope.zip]

At the zip's root: `setup.sh` and `run_autograder` (Gradescope looks for them there), `gradescope.json` (the
assignment and the visibility of its hidden tests), `requirements-gradescope.txt` (requirements.txt without the
editable install), `pyproject.toml`, the packages `lstm_course/` and `autograder/` (Python files only) and
`solutions/<assignment>/` (the source notebook with the hidden tests, readable by root only after setup.sh).
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from ..exports import VISIBILITIES, ExportError
from ..settings import COURSE_ROOT

HERE = Path(__file__).resolve().parent


def _python_files(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        rel = path.relative_to(folder)
        if "__pycache__" in rel.parts or "workspace" in rel.parts:
            continue
        yield path


def build_zip(assignment: str, out: Path, *, course_root: Path = COURSE_ROOT,
              hidden_visibility: str = "after_due_date") -> Path:
    """Write the Gradescope autograder zip of `assignment` to `out`; return `out`."""
    if hidden_visibility not in VISIBILITIES:
        raise ExportError(f"visibility {hidden_visibility!r}: choose from {', '.join(VISIBILITIES)}")
    course_root = Path(course_root)
    solutions = course_root / "solutions" / assignment
    if not (solutions / f"{assignment}.ipynb").is_file():
        raise ExportError(f"no source notebook {solutions / (assignment + '.ipynb')}: is {assignment!r} an "
                          f"assignment of {course_root}?")
    requirements = [line for line in (COURSE_ROOT / "requirements.txt").read_text().splitlines()
                    if not line.strip().startswith("-e")]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("run_autograder", "setup.sh"):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable regular file
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (HERE / name).read_bytes())
        zf.writestr("gradescope.json", json.dumps({"assignment": assignment,
                                                   "hidden_visibility": hidden_visibility}, indent=1) + "\n")
        zf.writestr("requirements-gradescope.txt", "\n".join(requirements) + "\n")
        zf.write(COURSE_ROOT / "pyproject.toml", "pyproject.toml")
        for package in ("lstm_course", "autograder"):
            for path in _python_files(COURSE_ROOT / package):
                zf.write(path, f"{package}/{path.relative_to(COURSE_ROOT / package)}")
        for path in sorted(p for p in solutions.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
            zf.write(path, f"solutions/{assignment}/{path.relative_to(solutions)}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope.package", description=__doc__.split("\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--out", type=Path, default=None, help="zip file (default <assignment>_gradescope.zip)")
    parser.add_argument("--course-root", type=Path, default=COURSE_ROOT)
    parser.add_argument("--hidden-visibility", default="after_due_date", choices=VISIBILITIES,
                        help="when students see the tests that hold hidden checks, and the total (default "
                             "after_due_date)")
    args = parser.parse_args(argv)
    try:
        out = build_zip(args.assignment, args.out or Path(f"{args.assignment}_gradescope.zip"),
                        course_root=args.course_root, hidden_visibility=args.hidden_visibility)
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{out}: upload it as the autograder of the Gradescope assignment {args.assignment!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
