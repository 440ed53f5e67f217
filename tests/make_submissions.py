"""Build graded-exercise submissions from the source notebooks: the reference, the blank release, crafted mistakes.

A "student" submission starts from the released notebook (exercises/<a>/<a>.ipynb, what students get) and has
its solution cells filled with the reference answers of solutions/<a>/<a>.ipynb, matched by grade_id. A crafted
wrong submission then applies small text edits to named solution cells; every edit must match exactly once,
so a change to a solution notebook that breaks an edit fails loudly instead of silently grading the reference.

EXPECTED holds the exact autograded score each submission must get (tests/test_assignments.py asserts them).

Packing: a catalogue may split its notebook into independent PARTS (answer cells, and the tests that read only
them). Crafted submissions that change different parts are then graded together, as one notebook (`packed`):
its expected score is the full marks less the sum of their losses, and the points lost on the tests of the parts
that each one changes must equal its own loss, so an interaction between them (a mistake in one part that costs or
saves points in another) fails the test instead of hiding. CATALOGUE=single grades each alone.

Usage: python tests/make_submissions.py OUT_DIR [ASSIGNMENT ...]
writes OUT_DIR/<assignment>/<student>/<assignment>/<assignment>.ipynb, e.g. to grade them by hand:
    python tests/make_submissions.py /tmp/subs imdb_sentiment && python -m autograder imdb_sentiment /tmp/subs/imdb_sentiment
The notebooks are built, never stored: tests/test_assignments.py builds them in a temporary folder.
"""

from __future__ import annotations

import copy
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

# run as a script, this module is __main__: the catalogues' `from make_submissions import Crafted` must find it
sys.modules.setdefault("make_submissions", sys.modules[__name__])

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("lstm_vs_gru", "imdb_sentiment", "char_generation", "lstm_cell", "lstm_vs_gru_torch",
               "imdb_sentiment_torch", "char_generation_torch")


@dataclass
class Crafted:
    """One catalogued submission: the reference answers, then whole answer cells replaced and small edits applied.

    A wrong one carries one realistic bug and must lose points; a right one in another style (functional API,
    `.add()`, keyword arguments, other numerics ...) must keep full marks. `expected` is the exact autograded
    score the grader must give it, `outcome` the outcome.
    """

    student: str
    why: str
    edits: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # grade_id -> the whole answer cell
    expected: float | None = None
    outcome: str = "graded"
    alone: str = ""  # why this one is never packed with others (its mistake reaches another part's tests)

    @property
    def correct(self) -> bool:
        return self.expected is not None and self.expected == MAX_AUTO[self.assignment]

    assignment: str = ""


# Autograded points. (Manual answer cells, 2 points in lstm_vs_gru, lstm_vs_gru_torch and char_generation, are not
# scored by the autograder; they stay ungraded until an instructor grades them.)
MAX_AUTO = {"lstm_cell": 14, "lstm_vs_gru": 9, "imdb_sentiment": 16, "char_generation": 14, "lstm_vs_gru_torch": 11,
            "imdb_sentiment_torch": 18, "char_generation_torch": 16}


@dataclass(frozen=True)
class Part:
    """An independent part of a notebook: answer cells (grade_ids) and the tests that only they can fail."""

    cells: tuple[str, ...]
    tests: tuple[str, ...]


@dataclass
class Packed:
    """One graded notebook of the catalogue: crafted submissions of different parts applied together (or one)."""

    student: str
    members: list[Crafted]
    parts: list[tuple[Part, ...]]  # members[k] changes parts[k] (empty: graded alone)
    expected: float
    outcome: str = "graded"

    @property
    def names(self) -> str:
        return " + ".join(c.student for c in self.members) or self.student


def _module(assignment: str):
    import importlib

    if str(Path(__file__).resolve().parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
    return importlib.import_module(f"catalogue.{assignment}")


def _catalogue(assignment: str) -> list[Crafted]:
    items = _module(assignment).CATALOGUE
    for item in items:
        item.assignment = assignment
    names = [c.student for c in items]
    assert len(names) == len(set(names)), f"{assignment}: a student name is used twice in the catalogue"
    return items


#: assignment -> its catalogue (tests/catalogue/<assignment>.py): wrong answers and right answers in other styles.
CRAFTED: dict[str, list[Crafted]] = {a: _catalogue(a) for a in ASSIGNMENTS}
#: assignment -> the independent parts of its notebook, as its catalogue declares them (none: no packing).
PARTS: dict[str, list[Part]] = {a: list(getattr(_module(a), "PARTS", [])) for a in ASSIGNMENTS}
#: assignment -> student -> the exact autograded score ("reference" full marks, "blank" 0).
EXPECTED: dict[str, dict[str, float]] = {
    a: {"reference": MAX_AUTO[a], "blank": 0, **{c.student: c.expected for c in CRAFTED[a]}} for a in ASSIGNMENTS}


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_sources(assignment: str, root: Path = REPO) -> dict[str, str]:
    """grade_id -> source of every solution cell of the source notebook (code and written answers)."""
    nb = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {_grade_id(c): c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def released(assignment: str, root: Path = REPO) -> nbformat.NotebookNode:
    """The student version as released (exercises/<a>/<a>.ipynb)."""
    return nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)


def filled(assignment: str, edits: dict[str, list[tuple[str, str]]] | None = None, root: Path = REPO,
           cells: dict[str, str] | None = None):
    """The released notebook with every solution cell answered by the reference (or by `cells`), then `edits`."""
    answers = solution_sources(assignment, root)
    for gid, source in (cells or {}).items():
        if gid not in answers:
            raise KeyError(f"{assignment}: no solution cell {gid!r}")
        answers[gid] = source
    for gid, changes in (edits or {}).items():
        if gid not in answers:
            raise KeyError(f"{assignment}: no solution cell {gid!r}")
        for old, new in changes:
            count = answers[gid].count(old)
            if count != 1:
                raise ValueError(f"{assignment}/{gid}: the edit target occurs {count} times: {old!r}")
            answers[gid] = answers[gid].replace(old, new)
    nb = copy.deepcopy(released(assignment, root))
    for cell in nb.cells:
        gid = _grade_id(cell)
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in answers:
            cell.source = _strip_markers(answers[gid])
    return nb


def _strip_markers(source: str) -> str:
    """Remove the nbgrader solution markers (a student's notebook never has them)."""
    lines = [ln for ln in source.splitlines() if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(lines)


def graded_points(assignment: str, root: Path = REPO) -> dict[str, float]:
    """grade_id -> points of every autograded test cell of the source notebook, as the grader reads them."""
    from autograder.template import load_template

    return {c.grade_id: c.points for c in load_template(root, assignment).cells if c.kind == "test"}


def footprint(crafted: Crafted, parts: list[Part], points: dict[str, float]) -> tuple[Part, ...]:
    """The parts whose cells the crafted submission changes, if they hold every cell it changes and its loss fits
    in their tests (empty: it is graded alone)."""
    if crafted.alone or crafted.outcome != "graded":
        return ()
    touched = set(crafted.edits) | set(crafted.cells)
    mine = tuple(part for part in parts if touched & set(part.cells))
    if touched - {gid for part in mine for gid in part.cells}:
        return ()  # it changes a cell outside every part
    if MAX_AUTO[crafted.assignment] - crafted.expected > sum(points[t] for part in mine for t in part.tests):
        return ()  # a loss larger than its parts' tests are worth reaches other tests
    return mine


def packed(assignment: str, single: bool | None = None) -> list[Packed]:
    """The notebooks that grade the catalogue: "reference", "blank", then the crafted submissions, each put in the
    first notebook ("packNN") none of whose submissions changes a part it changes (one left alone keeps its name),
    the others alone. `single` (default: the environment's CATALOGUE=single) grades every one alone."""
    full = MAX_AUTO[assignment]
    if single is None:
        single = os.environ.get("CATALOGUE") == "single"
    parts = [] if single else PARTS[assignment]
    points = graded_points(assignment) if parts else {}
    bins: list[list[tuple[Crafted, tuple[Part, ...]]]] = []
    alone: list[Crafted] = []
    for crafted in CRAFTED[assignment]:
        mine = footprint(crafted, parts, points)
        if not mine:
            alone.append(crafted)
            continue
        target = next((b for b in bins if not set(mine) & {part for _, used in b for part in used}), None)
        if target is None:
            bins.append(target := [])
        target.append((crafted, mine))
    out = [Packed("reference", [], [], full), Packed("blank", [], [], 0)]
    for k, members in enumerate(bins):
        student = members[0][0].student if len(members) == 1 else f"pack{k + 1:02d}"
        out.append(Packed(student, [c for c, _ in members], [used for _, used in members],
                          full - sum(full - c.expected for c, _ in members)))
    out += [Packed(c.student, [c], [()], c.expected, c.outcome) for c in alone]
    assert len({p.student for p in out}) == len(out), f"{assignment}: a packed notebook's name is used twice"
    return out


def grading_problems(pack: Packed, score: float, outcome: str, tests: dict) -> list[str]:
    """What is wrong with the grade of one notebook of the catalogue (empty: as predicted). `tests` is the grader's
    grade_id -> {"points", "max", "passed"} of that notebook: in a packed notebook, each crafted submission must
    lose exactly its own points on the tests of the parts it changes."""
    failed = [gid for gid, t in tests.items() if not t.get("passed")]
    problems = []
    if outcome != pack.outcome or score != pack.expected:
        problems.append(f"{pack.student} ({pack.names}): {score:g} {outcome}, expected {pack.expected:g} "
                        f"{pack.outcome} (failed: {failed})")
    if len(pack.members) > 1 and outcome == pack.outcome:
        for crafted, mine in zip(pack.members, pack.parts):
            own = [gid for part in mine for gid in part.tests]
            lost = sum(tests[gid]["max"] - tests[gid]["points"] for gid in own)
            want = MAX_AUTO[crafted.assignment] - crafted.expected
            if lost != want:
                problems.append(f"{crafted.student} (in {pack.student}: {pack.names}): lost {lost:g} on {own}, "
                                f"expected {want:g} (failed: {failed}): it reaches another part's tests; give it "
                                "alone=\"why\" in its catalogue")
    return problems


def submissions(assignment: str, root: Path = REPO, single: bool | None = None) -> dict[str, nbformat.NotebookNode]:
    """student -> notebook: "reference", "blank" and the crafted ones of the assignment, packed (see `packed`)."""
    subs = {}
    for pack in packed(assignment, single):
        if pack.student == "blank":
            subs["blank"] = released(assignment, root)
            continue
        edits: dict[str, list[tuple[str, str]]] = {}
        cells: dict[str, str] = {}
        for crafted in pack.members:  # members change different parts, so different cells
            for gid, changes in crafted.edits.items():
                edits.setdefault(gid, []).extend(changes)
            cells.update(crafted.cells)
        subs[pack.student] = filled(assignment, edits, root, cells)
    return subs


def write_submissions(assignment: str, out: Path, root: Path = REPO, single: bool | None = None) -> Path:
    """Write out/<student>/<assignment>/<assignment>.ipynb for every submission (see `packed`); returns `out`."""
    for student, nb in submissions(assignment, root, single).items():
        folder = out / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    target = Path(sys.argv[1])
    for a in sys.argv[2:] or ASSIGNMENTS:
        write_submissions(a, target / a)
        print("wrote", target / a)
