"""grade_submissions: import, grade in parallel (one sandboxed kernel per worker), feedback, CSV, gradebook."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from queue import Queue

import nbformat

from . import sandbox
from .cluster import ClusterUnavailable
from .feedback import write_feedback
from .gradebook import GradebookUnavailable, GradebookWriter, default_url, manual_answers
from .grader import GradedNotebook, grade_notebook
from .intake import (LinkRejected, Submission, collect, copy_regular_tree, import_submission, other_edition,
                     protect_recorded)
from .limits import NotebookTooLarge
from .report import OUTCOMES, StudentResult, save_result, summary_table, write_csv
from .settings import COURSE_ROOT, GradingOptions, Limits, data_env, default_workspace
from .template import load_template
from .trusted import CheckerFailed, TrustedChecker, checker_wrapper, frameworks

__all__ = ["grade_submissions", "StudentResult", "OUTCOMES", "SandboxUnavailable", "DataNotReady",
           "ClusterUnavailable",
           "GradebookUnavailable"]


class SandboxUnavailable(RuntimeError):
    """Bubblewrap cannot run here and --unsafe was not given."""


class DataNotReady(RuntimeError):
    """The data an assignment declares cannot be prepared; raised before any submission is graded."""


def warm_data(template, options: GradingOptions, progress: bool = False) -> dict:
    """Prepare the data the assignment declares, OUTSIDE the sandbox, before any kernel starts.

    The source notebook's metadata lists it (`"lstm_course": {"data": ["imdb"]}`); the kernels see the
    cache read-only (and run as another user), so without this every kernel would parse IMDB again
    (20-30 s) or fail. Warms exactly the mirror and cache the kernels get (settings.data_env).
    """
    if not template.data:
        return {}
    from lstm_course import download  # looked up at call time (tests replace warm_cache)
    from lstm_course.config import DataError

    env = data_env(options.extra_env)
    where = f"solutions/{template.assignment}/{template.notebook}.ipynb metadata lstm_course.data"
    if progress:
        print(f"preparing the data of {template.assignment}: {', '.join(template.data)} "
              f"(cache {env['LSTM_COURSE_CACHE']})", file=sys.stderr)
    try:
        files = download.warm_cache(template.data, mirror=env.get("LSTM_COURSE_DATA"),
                                    cache=env["LSTM_COURSE_CACHE"], progress=progress)
    except (DataError, ValueError) as err:
        raise DataNotReady(f"assignment {template.assignment!r} needs the data {template.data} ({where}), which "
                           f"cannot be prepared, so nobody was graded: {err}") from err
    if os.geteuid() == 0 and not options.unsafe:  # the kernels run as another user: they need o+r
        for path in (p for p in (files or {}).values() if p is not None):
            mode = Path(path).stat().st_mode
            if not mode & 0o004:
                try:
                    os.chmod(path, mode | 0o044)  # e.g. a 0600 file written by an older version
                except OSError as err:
                    raise DataNotReady(f"the grading kernels (another user) cannot read {path}: make it readable "
                                       f"by others (chmod o+r): {err}") from err
    return files


def _ensure_path() -> None:
    """nbgrader runs `alembic` as a program: put this environment's bin folder first on PATH."""
    bindir = str(Path(sys.executable).parent)
    if not os.environ.get("PATH", "").startswith(bindir):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def _hidden_paths(options: GradingOptions, submissions: Path) -> list[Path]:
    paths = [options.course_root, options.workspace, Path(submissions).resolve(), Path.home(), Path("/root"),
             Path("/home"), Path("/var/tmp"), COURSE_ROOT]
    if Path(submissions).is_file():
        paths[2] = Path(submissions).resolve().parent
    out = []
    for p in paths:
        p = Path(p).resolve()
        if p not in out and str(p) != "/":
            out.append(p)
    return out


def _failure(err: BaseException) -> tuple[str, str]:
    """The outcome and detail of one student's grading that raised `err` (never stops the batch)."""
    if isinstance(err, NotebookTooLarge):
        return "too_large", str(err)[:300]
    if isinstance(err, LinkRejected):
        return "rejected_link", f"{err}: links and special files are never followed"[:300]
    from .tamper import MalformedNotebook
    if isinstance(err, MalformedNotebook):
        return "tampered", f"malformed nbgrader metadata (scored 0): {err}"[:300]
    return "error", f"grader error: {err!r}"[:300]


def _import_all(subs: list[Submission], ws: Path, submissions: Path, assignment: str, limits: Limits):
    """Copy every submission into <ws>/submitted/ (regular files only); a failure is that student's outcome."""
    own = Path(submissions).resolve() == (ws / "submitted").resolve()
    if not own:  # an id that holds another input's recorded result is never reused
        subs = protect_recorded(subs, ws)
    out = []
    for sub in subs:
        try:
            out.append(import_submission(sub, ws / "submitted", assignment, limits))
        except Exception as err:  # noqa: BLE001 - a link, a vanished file, a full disk: this student only
            outcome, detail = _failure(err)
            out.append(Submission(sub.student, None, None, outcome, detail, sub.source, sub.inputs, sub.lms,
                                  sub.lms_user_id))
    return out


def checker_prelude(template) -> tuple[str, list[str]]:
    """The assignment's trusted setup cells that every checker runs once, and the key it caches them under."""
    cells = [template.by_id()[g].source for g in template.prelude]
    return f"{template.assignment}:{hash(tuple(cells))}", cells


def _checker_for(checkers: dict, slot: int, options: GradingOptions, template) -> TrustedChecker:
    """The slot's TrustedChecker (one process a slot, started on first use, replaced if it died), reset."""
    checker = checkers.get(slot)
    if checker is None or checker.proc.poll() is not None:
        checker = checkers[slot] = TrustedChecker(options, checker_wrapper(options), warm=frameworks(template))
    checker.prelude(*checker_prelude(template))
    checker.new_student()
    return checker


def grade_in_slot(notebook: Path, files_dir: Path | None, student: str, template, options: GradingOptions,
                  slot: int, hide: list[Path], checkers: dict) -> GradedNotebook:
    """Grade one imported notebook in sandbox slot `slot` (its kernel; its checker kept in `checkers`).

    The same code grades on the local pool and on a Dask worker (autograder/cluster.py); it never raises for a
    problem of the submission: whatever fails is this student's outcome."""
    ws = options.workspace
    run_dir = ws / "run" / f"{student}-{os.getpid()}-{slot}"
    shutil.rmtree(run_dir, ignore_errors=True)
    other_files = ws / "run" / f"{student}-{os.getpid()}-{slot}-files"
    shutil.rmtree(other_files, ignore_errors=True)
    try:
        if files_dir:  # regular files only, never a link (LinkRejected -> rejected_link)
            copy_regular_tree(files_dir, other_files, skip=lambda name: name.endswith(".ipynb"))
        else:
            other_files.mkdir(parents=True)
        return grade_notebook(notebook, template, options, slot, run_dir, other_files, hide,
                              _checker_for(checkers, slot, options, template))
    except Exception as err:  # noqa: BLE001 - one student's failure must not stop the batch
        if isinstance(err, CheckerFailed) and slot in checkers:  # a fresh checker for the next one
            checkers.pop(slot).close()
        return GradedNotebook(0.0, template.max_score, *_failure(err))
    finally:
        shutil.rmtree(other_files, ignore_errors=True)


def grade_submissions(assignment: str, submissions: Path, workers: int = 2, workspace: Path | None = None,
                      unsafe: bool = False, *, course_root: Path | None = None, limits: Limits | None = None,
                      progress: bool = False, extra_env: dict | None = None,
                      template_folder: str = "solutions", db_url: str | None = None,
                      scheduler: str | None = None, scheduler_timeout: float = 10.0) -> list[StudentResult]:
    """Grade every submission of `assignment` found in `submissions` (folder or zip); see autograder/README.md.

    `db_url`: nbgrader's gradebook as a SQLAlchemy URL (e.g. postgresql://user@host/db, shared by several graders);
    default sqlite:///<workspace>/gradebook.db. It is checked before anyone is graded (GradebookUnavailable).

    `scheduler`: the address of a Dask scheduler (tcp://HOST:8786): one task a notebook on its workers, which
    must show they can grade in the sandbox (autograder/cluster.py); ClusterUnavailable, before anyone is graded,
    if it cannot be reached within `scheduler_timeout` seconds or no worker can grade. Without it: `workers`
    local sandbox slots.

    Results are written as each student finishes to <workspace>/results/<assignment>/<student>.json; grades.csv,
    feedback/<student>/<assignment>/<assignment>.html and autograded/ are rebuilt from them.
    """
    _ensure_path()
    warnings.filterwarnings("ignore", module="nbformat")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    options = GradingOptions(course_root=Path(course_root or COURSE_ROOT).resolve(),
                             workspace=Path(workspace or default_workspace()).resolve(),
                             limits=limits or Limits(), unsafe=unsafe, extra_env=dict(extra_env or {}))
    client = None
    if scheduler:  # before anything else: an unreachable scheduler is one clear error, nobody graded
        from . import cluster
        client = cluster.connect(scheduler, scheduler_timeout)
    elif not unsafe:  # with a scheduler, the workers check their own sandbox (cluster.check_workers)
        reason = sandbox.probe()
        if reason is not None:
            raise SandboxUnavailable(f"refusing to run student code without a sandbox: {reason}. "
                                     "Pass --unsafe (unsafe=True) to grade trusted notebooks anyway.")
    ws = options.workspace
    ws.mkdir(parents=True, exist_ok=True)
    gradebook = GradebookWriter(db_url or default_url(ws))
    gradebook.check()  # a wrong or unreachable database: one clear error before anybody is graded
    template = load_template(options.course_root, assignment, template_folder)
    try:
        if client is None:
            warm_data(template, options, progress)  # before any kernel starts: they see the cache read-only
        else:  # each worker warms its own data in its probe
            requirements = cluster.requirements(assignment, options, template_folder)
            reports = cluster.check_workers(client, requirements)
            if progress:
                print(f"Dask workers at {scheduler}:\n{cluster.describe(reports)}", file=sys.stderr)
    except BaseException:
        if client is not None:
            client.close()
        raise
    other = other_edition(assignment)  # a notebook of the other edition gets told which assignment grades it
    other = other if (options.course_root / template_folder / other).is_dir() else None
    subs = collect(Path(submissions), assignment, ws / "staging" / assignment, other)
    subs = _import_all(subs, ws, Path(submissions), assignment, options.limits)
    hide = _hidden_paths(options, Path(submissions))
    slots: Queue = Queue()
    for i in range(max(1, workers)):
        slots.put(i)
    # the tables and the assignment's rows (nbgrader's migrations, about 3 s) are made while the first kernels start
    threading.Thread(target=gradebook.prepare_quietly, args=(template,), name="gradebook", daemon=True).start()
    results: list[StudentResult] = []
    checkers: dict = {}  # worker slot -> TrustedChecker (one process per worker, started on first use)

    def grade(sub: Submission) -> StudentResult:
        if sub.outcome is not None:
            graded = GradedNotebook(0.0, template.max_score, sub.outcome, sub.detail)
        else:
            slot = slots.get()
            try:
                graded = grade_in_slot(sub.notebook, sub.files_dir, sub.student, template, options, slot, hide,
                                       checkers)
            finally:
                slots.put(slot)
        return finish(sub, graded)

    def finish(sub: Submission, graded: GradedNotebook) -> StudentResult:
        """Record one graded notebook (wherever it was graded): autograded/, feedback, gradebook, results/."""
        result = StudentResult(sub.student, graded.score, graded.max_score, graded.outcome, graded.detail,
                               sub.source, sub.lms, sub.lms_user_id)
        if graded.notebook is not None:
            out = ws / "autograded" / sub.student / assignment / f"{template.notebook}.ipynb"
            out.parent.mkdir(parents=True, exist_ok=True)
            from nbformat.validator import normalize
            nbformat.write(nbformat.from_dict(normalize(graded.notebook)[1]), str(out))
        try:
            write_feedback(ws / "feedback" / sub.student / assignment / f"{template.notebook}.html",
                           graded.notebook, template, sub.student, result.score, result.max_score,
                           result.outcome, result.detail, graded.tests)
        except Exception as err:  # noqa: BLE001
            result.detail = (result.detail + f"; feedback not written: {err!r}")[:500]
        if graded.tests and result.outcome != "tampered":
            note = gradebook.record(template, sub.student, graded.tests,
                                    manual_answers(template, graded.notebook))
            if note:
                result.detail = f"{result.detail}; {note}" if result.detail else note
        save_result(ws, assignment, result, graded.tests, seconds=graded.seconds or None)
        return result

    def grade_safely(sub: Submission, graded: GradedNotebook | None = None) -> StudentResult:
        """Every input gets a row: whatever fails for this student is this student's outcome."""
        try:
            return grade(sub) if graded is None else finish(sub, graded)
        except Exception as err:  # noqa: BLE001
            outcome, detail = _failure(err)
            result = StudentResult(sub.student, 0.0, template.max_score, outcome, detail, sub.source, sub.lms,
                                   sub.lms_user_id)
            try:
                save_result(ws, assignment, result, {})
            except Exception as err2:  # noqa: BLE001 - still in the summary, even if not on disk
                result.detail = f"{detail}; result not saved: {err2!r}"[:500]
            return result

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(subs), desc=f"grading {assignment}", unit="nb", file=sys.stderr)
    try:
        if client is not None:  # one Dask task a notebook; recorded here as each one comes back
            results = cluster.grade_on_cluster(client, requirements, subs, template, options, grade_safely,
                                               _failure, on_result=lambda r: bar.update(1) if bar else None,
                                               reports=reports)
        else:
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                futures = [pool.submit(grade_safely, s) for s in subs]
                for fut in as_completed(futures):
                    results.append(fut.result())
                    if bar is not None:
                        bar.update(1)
    finally:
        for checker in checkers.values():
            checker.close()
        if client is not None:
            client.close()
        gradebook.close()
    if bar is not None:
        bar.close()
    write_csv(ws, assignment)
    if template_folder == "solutions":  # the instructor's batch (not a student's self-check): the cohort page
        try:
            from .cohort import write_cohort_report
            write_cohort_report(ws, assignment, options.course_root, template)
        except Exception as err:  # noqa: BLE001 - the grades are recorded; the page can be rebuilt from them
            print(f"cohort report not written ({err!r}); rebuild it: python -m autograder.cohort {assignment} "
                  f"--workspace {ws}", file=sys.stderr)
    shutil.rmtree(ws / "run", ignore_errors=True)
    return sorted(results, key=lambda r: r.student)
