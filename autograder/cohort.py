"""The cohort report: one instructor-only HTML page on a batch (scores, tests, grading time, similar answers)."""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import keyword
import os
import statistics
import sys
import tokenize
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .report import _one_component, results_dir
from .template import Template, load_template, source_notebook

#: The report's folder in the workspace: nothing in it is ever copied to a student (feedback/ is).
REPORT_FOLDER = "instructor"
#: Token k-grams compared: 5 normalised tokens, about one short statement.
KGRAM = 5
#: A pair whose own k-grams have at least this Jaccard similarity is listed.
THRESHOLD = 0.7
#: A student with fewer distinct k-grams of their own (beyond the given code and the reference) is not compared:
#: a blank, a copy of the reference or a one-line answer is no evidence of anything.
FLOOR = 10
#: Rows of the slowest-notebooks table.
SLOWEST = 10
#: Pairs shown with their code side by side (all pairs above the threshold are listed).
SHOWN_PAIRS = 30
#: Token types that carry no content: layout and comments.
SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
           tokenize.ENDMARKER}
#: Nobody runs anything of the page (same policy as the students' feedback pages).
CSP_META = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            'img-src data:; base-uri \'none\'; form-action \'none\'">')


def normalise_tokens(source: str) -> list[str]:
    """The tokens of `source` with comments and layout dropped and every identifier replaced by `ID`.

    Keywords, operators and literals are kept, so renaming variables or reformatting changes nothing. IPython
    lines (`%magic`, `!shell`) are skipped; code that does not tokenise to its end keeps the tokens read so far.
    """
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    out: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if tok.type in SKIPPED:
                continue
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                out.append("ID")
            else:
                out.append(tok.string)
    except (tokenize.TokenError, SyntaxError):  # an unclosed bracket or string, a bad dedent
        pass
    return out


def kgrams(source: str, k: int = KGRAM) -> set[tuple[str, ...]]:
    """The distinct k-grams of the normalised tokens of one cell (a cell shorter than k is one k-gram)."""
    tokens = normalise_tokens(source)
    if 0 < len(tokens) < k:
        return {tuple(tokens)}
    return {tuple(tokens[i:i + k]) for i in range(len(tokens) - k + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def answer_cells(notebook: dict, template: Template) -> list[tuple[str, str]]:
    """(label, source) of the code a student wrote: the answer cells and any code cell they added.

    Locked and test cells (the given code, restored from the template by the grader) are left out.
    """
    by_id = template.by_id()
    out = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbg = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        gid = nbg.get("grade_id")
        tcell = by_id.get(gid) if isinstance(gid, str) else None
        if tcell is None:
            out.append((f"added cell {index}", _source(cell)))
        elif tcell.kind in ("answer", "manual"):
            out.append((gid, _source(cell)))
    return out


@dataclass
class PassCount:
    """How the class did on one test cell."""

    grade_id: str
    question: str  # first line of the test cell's docstring
    points: float
    hidden: bool
    passed: int = 0
    recorded: int = 0  # submissions whose result records this test

    @property
    def flag(self) -> str:
        if not self.recorded:
            return ""
        if self.passed == self.recorded:
            return "everybody passed"
        return "nobody passed" if self.passed == 0 else ""


@dataclass
class Similarity:
    """The outcome of comparing every pair of students' own code."""

    pairs: list[tuple[float, str, str, int]]  # (similarity, student a, student b, shared k-grams), most similar first
    compared: list[str]
    skipped: list[str]  # below the floor: blank, the reference, or too short to tell
    missing: list[str]  # no executed notebook to read
    median: float | None = None  # median similarity of all compared pairs ("usual")
    sources: dict = field(default_factory=dict)  # student -> [(label, source)]


def load_records(workspace: Path, assignment: str) -> list[dict]:
    """Every recorded result of `assignment` (results/<assignment>/<student>.json), sorted by student."""
    folder = results_dir(workspace, assignment)
    if not folder.is_dir():
        raise FileNotFoundError(f"no results for assignment {assignment!r} in {folder}: grade it first "
                                f"(python -m autograder {assignment} SUBMISSIONS --workspace {workspace})")
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("student"), str):
                raise ValueError("not a result written by the grader (no student)")
        except ValueError as err:
            raise ValueError(f"{path}: {err}; re-grade that student or move the file away") from err
        if not isinstance(data.get("tests"), dict):
            data["tests"] = {}
        records.append(data)
    return records


def pass_counts(records: list[dict], template: Template) -> list[PassCount]:
    """Pass counts of every test cell of the template, hidden ones included, in notebook order."""
    from .feedback import docstring

    stats = {}
    for cell in template.cells:
        if cell.kind == "test":
            doc = docstring(cell.source).strip()
            stats[cell.grade_id] = PassCount(cell.grade_id, doc.splitlines()[0] if doc else "", cell.points,
                                             cell.grade_id in template.hidden_cells)
    for record in records:
        for gid, result in record["tests"].items():
            if gid in stats and isinstance(result, dict):
                stats[gid].recorded += 1
                stats[gid].passed += bool(result.get("passed"))
    return list(stats.values())


def reference_kgrams(course_root: Path, template: Template, k: int = KGRAM) -> tuple[set, set]:
    """The k-grams of the given code (what students saw in their answer cells) and of the reference solution."""
    given = set()
    answer_ids = {c.grade_id for c in template.cells if c.kind in ("answer", "manual") and c.cell_type == "code"}
    for cell in template.cells:
        if cell.grade_id in answer_ids:
            given |= kgrams(cell.release_source, k)
    reference = set()
    path = source_notebook(course_root, template.assignment)
    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answer_ids:
            reference |= kgrams(_source(cell), k)
    return given, reference


def similar_pairs(workspace: Path, assignment: str, template: Template, course_root: Path, students: list[str],
                  k: int = KGRAM, threshold: float = THRESHOLD, floor: int = FLOOR) -> Similarity:
    """Compare every pair of students' own k-grams (Jaccard); O(n^2) pairs: 400 students with 300
    k-grams each take about 5 s on a busy 2-core machine.

    A student's own k-grams are those of their answer and added cells, minus every k-gram of the given code and
    of the reference solution: two answers that equal the reference have nothing of their own to share.
    """
    given, reference = reference_kgrams(course_root, template, k)
    own, sources, skipped, missing = {}, {}, [], []
    for student in students:
        path = workspace / "autograded" / student / assignment / f"{template.notebook}.ipynb"
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            missing.append(student)
            continue
        cells = answer_cells(notebook if isinstance(notebook, dict) else {}, template)
        grams = set().union(*(kgrams(src, k) for _, src in cells)) - given - reference
        if len(grams) < floor:
            skipped.append(student)
            continue
        own[student] = {hash(g) for g in grams}  # ints compare faster than tuples of strings
        sources[student] = cells
    names = sorted(own)
    pairs, values = [], []
    for i, a in enumerate(names):
        mine = own[a]
        for b in names[i + 1:]:
            shared = len(mine & own[b])
            value = shared / (len(mine) + len(own[b]) - shared)  # Jaccard; both sets hold >= floor items
            values.append(value)
            if value >= threshold:
                pairs.append((value, a, b, shared))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    median = statistics.median(values) if values else None
    return Similarity(pairs, names, skipped, missing, median, sources)


def _load_matplotlib(cache: Path) -> None:
    """Import matplotlib's fonts without writing to the instructor's home: where no font cache exists yet (and
    MPLCONFIGDIR is not set), matplotlib builds it in `cache` in the workspace, not in ~/.cache/matplotlib.

    The grading kernels' matplotlib settings are untouched (MPLCONFIGDIR is set only for this import).
    """
    if "matplotlib.font_manager" in sys.modules or os.environ.get("MPLCONFIGDIR"):
        return
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib"
    if any(default.glob("fontlist-*.json")):
        return
    os.environ["MPLCONFIGDIR"] = str(cache)
    try:
        import matplotlib.font_manager  # noqa: F401 - builds the font list once, in `cache`
    finally:
        del os.environ["MPLCONFIGDIR"]


def _figure(draw, left: float = 0.12) -> str:
    """A matplotlib figure drawn by `draw(ax)` as an <img> with an embedded PNG (Agg backend, no display).

    Fixed margins (`left` for the labels): a layout engine would draw the figure twice.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.0), dpi=100)
    FigureCanvasAgg(fig)  # Agg, whatever backend pyplot may use in this process
    fig.subplots_adjust(left=left, right=0.97, bottom=0.16, top=0.9)
    draw(fig.add_subplot())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode("ascii")}">'


def _histogram(scores: list[float], max_score: float):
    from matplotlib.ticker import MaxNLocator

    def draw(ax):
        top = max([max_score, *scores, 1.0])
        bins = [x - 0.5 for x in range(int(top) + 2)] if top <= 40 else 20
        ax.hist(scores, bins=bins, color="#4477aa", edgecolor="white")
        ax.set_xlabel(f"score (of {max_score:g})")
        ax.set_ylabel("submissions")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("Scores, every outcome")
    return draw


def _outcome_bars(counts: dict[str, int]):
    from matplotlib.ticker import MaxNLocator

    def draw(ax):
        names = sorted(counts, key=lambda o: (-counts[o], o))
        ax.barh(names[::-1], [counts[o] for o in names[::-1]], color="#ee6677")
        ax.set_xlabel("submissions")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("Outcomes")
    return draw


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _rate(passed: int, recorded: int) -> str:
    return f"{passed} / {recorded} ({100 * passed / recorded:.0f} %)" if recorded else "not recorded"


STYLE = """body{font-family:sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;
vertical-align:top}th{background:#f3f3f3}.rate,.flag{white-space:nowrap}.flag{color:#a00;font-weight:bold}
.note{color:#555}
pre{background:#f7f7f7;padding:.4rem;overflow-x:auto;max-height:30rem}.pair{display:flex;gap:1rem}
.pair>div{flex:1;min-width:0}.warn{background:#fff3cd;padding:.5rem;border:1px solid #e0c060}"""


def render(assignment: str, template: Template, records: list[dict], similarity: Similarity, k: int = KGRAM,
           threshold: float = THRESHOLD, floor: int = FLOOR) -> str:
    """The report page (every text that comes from a submission is HTML-escaped)."""
    scores = [float(r.get("score", 0) or 0) for r in records]
    counts: dict[str, int] = {}
    for r in records:
        counts[str(r.get("outcome"))] = counts.get(str(r.get("outcome")), 0) + 1
    graded = [float(r.get("score", 0) or 0) for r in records if r.get("outcome") == "graded"]
    stats = pass_counts(records, template)
    parts = [f"<!DOCTYPE html><html><head>{CSP_META}<meta charset='utf-8'>"
             f"<title>Cohort report: {_e(assignment)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Cohort report: {_e(assignment)}</h1>",
             "<p class='warn'>Instructor only: this page names the hidden tests and shows students' code. "
             "Never share it.</p>",
             f"<p class='note'>{len(records)} submissions recorded in results/{_e(assignment)}/; "
             f"built {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.</p>"]

    parts.append("<h2>Scores and outcomes</h2>")
    if records:
        parts.append(_figure(_histogram(scores, template.max_score)) + _figure(_outcome_bars(counts), left=0.3))
    if graded:
        parts.append(f"<p id='score-summary'>Outcome <code>graded</code>: {len(graded)} submissions, mean "
                     f"{statistics.mean(graded):.2f}, median {statistics.median(graded):g}, lowest {min(graded):g}, "
                     f"highest {max(graded):g} of {template.max_score:g}.</p>")
    parts.append("<table id='outcomes'><tr><th>outcome</th><th>submissions</th></tr>"
                 + "".join(f"<tr><td>{_e(o)}</td><td>{n}</td></tr>"
                           for o, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))) + "</table>")

    parts.append("<h2>Tests</h2><p class='note'>Pass rate of every test cell among the submissions whose result "
                 "records it (a notebook that could not be read or was scored 0 for deleted cells records none). "
                 "A test everybody or nobody passed is flagged: it may be too easy, too hard or wrong.</p>")
    rows = []
    for s in stats:
        rows.append(f"<tr id='test-{_e(s.grade_id)}'><td><code>{_e(s.grade_id)}</code></td><td>{_e(s.question)}</td>"
                    f"<td>{s.points:g}</td><td>{'hidden + visible' if s.hidden else 'visible'}</td>"
                    f"<td class='rate'>{_rate(s.passed, s.recorded)}</td><td class='flag'>{_e(s.flag)}</td></tr>")
    parts.append("<table id='tests'><tr><th>grade id</th><th>question (docstring)</th><th>points</th><th>tests</th>"
                 "<th>passed</th><th>flag</th></tr>" + "".join(rows) + "</table>")

    timed = sorted(((float(r["seconds"]), r) for r in records if isinstance(r.get("seconds"), (int, float))),
                   key=lambda x: (-x[0], str(x[1].get("student"))))
    parts.append("<h2>Slowest notebooks</h2>")
    if timed:
        times = [t for t, _ in timed]
        parts.append(f"<p class='note'>Grading time per notebook (kernel start to last test; a worker's first "
                     f"notebook also waits for its checker to import Keras and PyTorch): median "
                     f"{statistics.median(times):.1f} s, total {sum(times):.0f} s over {len(times)} notebooks.</p>")
        parts.append("<table id='slowest'><tr><th>student</th><th>seconds</th><th>outcome</th><th>score</th></tr>"
                     + "".join(f"<tr><td>{_e(r.get('student'))}</td><td>{t:.1f}</td><td>{_e(r.get('outcome'))}</td>"
                               f"<td>{float(r.get('score', 0) or 0):g}</td></tr>" for t, r in timed[:SLOWEST])
                     + "</table>")
    else:
        parts.append("<p>No grading times recorded (results written by an older grader).</p>")

    parts.append(_similarity_section(similarity, k, threshold, floor))
    parts.append("</body></html>")
    return "\n".join(parts)


def _similarity_section(sim: Similarity, k: int, threshold: float, floor: int) -> str:
    usual = f"; the median similarity of all compared pairs is {sim.median:.2f}" if sim.median is not None else ""
    out = ["<h2>Similar answers</h2>",
           f"<p id='similarity-method'>Each student's answer cells and added code cells are tokenised (Python "
           f"<code>tokenize</code>): comments and layout dropped, every identifier replaced by one placeholder, "
           f"keywords, operators and literals kept. The distinct {k}-token sequences ({k}-grams) that are neither "
           f"in the given code nor in the reference solution are a student's own; pairs are compared by the "
           f"Jaccard similarity of those sets and listed from <b>threshold {threshold:.2f}</b>. Students with "
           f"fewer than {floor} own {k}-grams (blank, the reference, a one-line answer) are not compared. "
           f"{_count(len(sim.compared), 'student')} compared "
           f"({_count(len(sim.compared) * (len(sim.compared) - 1) // 2, 'pair')}, "
           f"every pair: O(n&#178;), fine up to a few hundred students){usual}; {len(sim.skipped)} below the "
           f"floor; {len(sim.missing)} without an executed notebook. A similar pair is a reason to look, "
           f"not a finding.</p>"]
    if not sim.pairs:
        out.append("<p id='no-pairs'>No pair reaches the threshold.</p>")
        return "\n".join(out)
    out.append("<table id='pairs'><tr><th>student</th><th>student</th><th>similarity</th><th>shared k-grams</th>"
               "</tr>" + "".join(f"<tr class='pair-row'><td>{_e(a)}</td><td>{_e(b)}</td><td>{v:.2f}</td>"
                                 f"<td>{n}</td></tr>" for v, a, b, n in sim.pairs) + "</table>")
    for v, a, b, _ in sim.pairs[:SHOWN_PAIRS]:
        sides = []
        for student in (a, b):
            cells = "".join(f"<p><code>{_e(label)}</code></p><pre>{_e(src)}</pre>"
                            for label, src in sim.sources.get(student, []))
            sides.append(f"<div><h4>{_e(student)}</h4>{cells}</div>")
        out.append(f"<details><summary>{_e(a)} and {_e(b)} ({v:.2f})</summary>"
                   f"<div class='pair'>{''.join(sides)}</div></details>")
    if len(sim.pairs) > SHOWN_PAIRS:
        out.append(f"<p class='note'>Code shown for the first {SHOWN_PAIRS} pairs only.</p>")
    return "\n".join(out)


def report_path(workspace: Path, assignment: str) -> Path:
    """<workspace>/instructor/cohort_<assignment>.html: outside feedback/ and autograded/."""
    return Path(workspace) / REPORT_FOLDER / f"cohort_{_one_component(assignment)}.html"


def write_cohort_report(workspace: Path, assignment: str, course_root: Path, template: Template | None = None,
                        k: int = KGRAM, threshold: float = THRESHOLD, floor: int = FLOOR) -> Path:
    """Build the cohort page of `assignment` from the recorded results and executed notebooks; return its path."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    if k < 1 or floor < 1:
        raise ValueError(f"k and floor must be at least 1, got k={k}, floor={floor}")
    workspace, course_root = Path(workspace), Path(course_root)
    path = report_path(workspace, assignment)
    records = load_records(workspace, assignment)
    template = template or load_template(course_root, assignment)
    students = [str(r.get("student")) for r in records]
    similarity = similar_pairs(workspace, assignment, template, course_root, students, k, threshold, floor)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)  # the instructor's: names hidden tests and shows students' code
    _load_matplotlib(path.parent / ".matplotlib")
    page = render(assignment, template, records, similarity, k, threshold, floor)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    from .settings import COURSE_ROOT, default_workspace

    parser = argparse.ArgumentParser(prog="python -m autograder.cohort", description=(
        "Rebuild the instructor-only cohort report of an assignment from its recorded results."))
    parser.add_argument("assignment", help="assignment name (solutions/<a>/<a>.ipynb)")
    parser.add_argument("--workspace", type=Path, default=None, help="instructor workspace (autograder/workspace)")
    parser.add_argument("--course-root", type=Path, default=None, help="course root (default: this repository)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help=f"similarity listed from (default "
                        f"{THRESHOLD})")
    parser.add_argument("--kgram", type=int, default=KGRAM, help=f"tokens per k-gram (default {KGRAM})")
    parser.add_argument("--floor", type=int, default=FLOOR, help=f"own k-grams needed to be compared (default "
                        f"{FLOOR})")
    args = parser.parse_args(argv)
    workspace = (args.workspace or default_workspace()).resolve()
    try:
        path = write_cohort_report(workspace, args.assignment, (args.course_root or COURSE_ROOT).resolve(),
                                   k=args.kgram, threshold=args.threshold, floor=args.floor)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
