"""nbgrader's gradebook at any SQLAlchemy URL (a SQLite file or a database server), one transaction a student."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path

#: PostgreSQL error codes worth a retry: serialization failure and deadlock (the transaction was rolled back whole).
RETRY_PGCODES = ("40001", "40P01")
#: Key of the session-wide advisory lock that serialises creating the tables and an assignment's rows.
SCHEMA_LOCK_KEY = 0x6E62_6772_6164_6572  # "nbgrader"


class GradebookUnavailable(RuntimeError):
    """The gradebook database cannot be reached or used; raised before any submission is graded."""


def default_url(workspace: Path) -> str:
    """The gradebook of a one-machine run: sqlite:///<workspace>/gradebook.db (what `nbgrader` finds there too)."""
    return f"sqlite:///{Path(workspace) / 'gradebook.db'}"


def shown_url(url: str) -> str:
    """The URL as messages show it: any password replaced by ***."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot parse is shown up to its first '@'
        return url.split("@")[-1] if "@" in url else url


def _lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for the given names (stable across processes and machines)."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _retryable(err: BaseException) -> bool:
    """Did another writer get there first (a row created at once, a serialization failure, a deadlock, a locked
    SQLite file)? Then the rolled-back transaction can simply run again."""
    from sqlalchemy.exc import DBAPIError, IntegrityError

    if isinstance(err, IntegrityError):
        return True
    if isinstance(err, DBAPIError):
        code = getattr(err.orig, "pgcode", None) or getattr(err.orig, "sqlstate", None)
        return code in RETRY_PGCODES or "database is locked" in str(err.orig)
    return False


def manual_answers(template, notebook) -> dict[str, bool]:
    """For each hand-graded answer cell (nbgrader grade + solution): did the student change it from the release?

    An answered cell waits for a human (needs_manual_grade); one left as released gets an auto score of 0, as
    nbgrader's autograde gives it. Compared with the release source of the template, never with the checksum in the
    student's own metadata (which the student can edit).
    """
    if notebook is None:
        return {}
    sources = {}
    for cell in notebook.get("cells", []):
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if isinstance(gid, str) and gid not in sources:
            source = cell.get("source", "")
            sources[gid] = "".join(source) if isinstance(source, list) else str(source)
    return {c.grade_id: c.grade_id in sources and sources[c.grade_id].strip() != c.release_source.strip()
            for c in template.cells if c.kind == "manual"}


class GradebookWriter:
    """Writes the auto scores of each graded student into nbgrader's gradebook at `url`.

    Several graders (threads, processes, machines) may write into one database server at once. Nothing relies on a
    lock of this process there: every student is one transaction that first takes a PostgreSQL advisory lock on
    (assignment, student), so two graders of the same student write one after the other, and a transaction that
    loses a race (a row another grader created at that moment, a serialization failure) is rolled back and run
    again. The tables and the assignment's own rows (notebook, grade cells) are created once, under a
    database-wide advisory lock, because nbgrader's `Gradebook()` and `update_or_create_*` are not race-free.
    SQLite (one file, one writer) is written under a lock of this process, as before.
    """

    def __init__(self, url: str, attempts: int = 8):
        self.url = url
        self.attempts = attempts
        self._engine = None
        self._prepared: set[str] = set()
        self._prepare_lock = threading.Lock()
        self._sqlite_lock = threading.Lock()

    @property
    def is_postgres(self) -> bool:
        return self.url.split(":", 1)[0].split("+", 1)[0] == "postgresql"

    def _hint(self, err: BaseException) -> str:
        scheme = self.url.split(":", 1)[0]
        if scheme in ("postgres", "pg", "psql"):
            return " (SQLAlchemy spells the scheme postgresql://, not postgres://)"
        if isinstance(err, ImportError):
            return (f" (its driver {err.name or '?'} is not installed here: install it, or write postgresql:// "
                    "for psycopg, which requirements.txt installs)")
        return ""

    def engine(self):
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self.url, future=True, pool_pre_ping=True)
        return self._engine

    def check(self) -> None:
        """Connect once and run a query; a wrong or unreachable URL raises GradebookUnavailable saying what to do."""
        try:
            from sqlalchemy import text

            with self.engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as err:  # noqa: BLE001 - bad scheme, missing driver, no server, no database, no access
            reason = " ".join(str(getattr(err, "orig", None) or err).split())[:300]
            self.close()
            raise GradebookUnavailable(
                f"cannot use the gradebook database {shown_url(self.url)}{self._hint(err)}: {type(err).__name__}: "
                f"{reason}. Nobody was graded. Give --db-url a SQLAlchemy URL such as "
                f"postgresql://USER@HOST:5432/DBNAME (the database must exist and USER may connect to it) or "
                f"sqlite:///PATH/gradebook.db, or leave it out for the workspace's gradebook.db.") from err

    @contextmanager
    def _schema_lock(self):
        """Hold the database-wide advisory lock (PostgreSQL) or this process' SQLite lock."""
        if not self.is_postgres:
            with self._sqlite_lock:
                yield
            return
        from sqlalchemy import text

        with self.engine().connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCHEMA_LOCK_KEY})
                conn.commit()

    def prepare(self, template) -> None:
        """Create the tables, the assignment, its notebook and grade cells (once a process, idempotent)."""
        with self._prepare_lock:
            if template.assignment in self._prepared:
                return
            if self._complete(template):  # another grader made them: no Gradebook() (its checks, its alembic run)
                self._prepared.add(template.assignment)
                return
            from nbgrader.api import Gradebook

            with self._schema_lock(), Gradebook(self.url) as gb:
                gb.update_or_create_assignment(template.assignment)
                gb.update_or_create_notebook(template.notebook, template.assignment)
                for cell in template.cells:
                    if cell.kind in ("test", "manual"):
                        gb.update_or_create_grade_cell(cell.grade_id, template.notebook, template.assignment,
                                                       max_score=cell.points, cell_type=cell.cell_type)
                    if cell.kind in ("answer", "manual"):  # formgrader shows a comment box under each answer
                        gb.update_or_create_solution_cell(cell.grade_id, template.notebook, template.assignment)
            self._prepared.add(template.assignment)

    def _complete(self, template) -> bool:
        """Do the tables, the assignment, its notebook, grade cells (with these points) and answer cells exist?"""
        from nbgrader.api import Assignment, Notebook
        from sqlalchemy import inspect, select
        from sqlalchemy.orm import Session

        if "alembic_version" not in inspect(self.engine()).get_table_names():
            return False
        with Session(self.engine()) as s:
            notebook = s.scalars(select(Notebook).join(Assignment).where(
                Assignment.name == template.assignment, Notebook.name == template.notebook)).one_or_none()
            if notebook is None:
                return False
            have = {(c.name, c.max_score, c.cell_type) for c in notebook.grade_cells}
            answers = {c.name for c in notebook.solution_cells}
        want = {(c.grade_id, c.points, c.cell_type) for c in template.cells if c.kind in ("test", "manual")}
        return want <= have and {c.grade_id for c in template.cells if c.kind in ("answer", "manual")} <= answers

    def prepare_quietly(self, template) -> None:
        """prepare() in the background while the first kernels start; a failure is met again by record()."""
        try:
            self.prepare(template)
        except Exception:  # noqa: BLE001
            pass

    def record(self, template, student: str, tests: dict, manual: dict | None = None) -> str:
        """Store one student's auto scores; return "" or a note saying why the gradebook was not updated.

        `tests` maps test grade_ids to {"points": ...}; `manual` maps the grade_ids of written answers to True when
        the student answered (needs_manual_grade) or False when the cell is as released (auto score 0, as
        nbgrader's autograde does).
        """
        try:
            self.prepare(template)
            for attempt in range(self.attempts):
                try:
                    if self.is_postgres:
                        self._write(template, student, tests, manual or {})
                    else:
                        with self._sqlite_lock:
                            self._write(template, student, tests, manual or {})
                    return ""
                except Exception as err:  # noqa: BLE001
                    if not _retryable(err) or attempt == self.attempts - 1:
                        raise
                    time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
        except Exception as err:  # noqa: BLE001 - the CSV stays the record; say why the gradebook is not
            return f"gradebook not updated: {' '.join(str(err).split())[:120]}"
        return ""  # pragma: no cover

    def _write(self, template, student: str, tests: dict, manual: dict) -> None:
        """One transaction: the student, the submission, its notebook, a grade and comment row per cell."""
        from nbgrader.api import (Assignment, Comment, Grade, GradeCell, Notebook, SolutionCell, Student,
                                  SubmittedAssignment, SubmittedNotebook)
        from sqlalchemy import select, text
        from sqlalchemy.orm import Session

        with Session(self.engine(), autoflush=True) as s, s.begin():
            if self.is_postgres:  # two graders of this student wait for each other (released at commit/rollback)
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                          {"k": _lock_key(template.assignment, student)})
            assignment = s.scalars(select(Assignment).where(Assignment.name == template.assignment)).one()
            notebook = s.scalars(select(Notebook).where(Notebook.name == template.notebook,
                                                        Notebook.assignment_id == assignment.id)).one()
            if s.get(Student, student) is None:
                s.add(Student(id=student))
                s.flush()
            submission = s.scalars(select(SubmittedAssignment).where(
                SubmittedAssignment.assignment_id == assignment.id,
                SubmittedAssignment.student_id == student)).one_or_none()
            if submission is None:
                submission = SubmittedAssignment(assignment_id=assignment.id, student_id=student)
                s.add(submission)
                s.flush()
            snb = s.scalars(select(SubmittedNotebook).where(SubmittedNotebook.notebook_id == notebook.id,
                                                            SubmittedNotebook.assignment_id == submission.id)
                            ).one_or_none()
            if snb is None:
                snb = SubmittedNotebook(notebook_id=notebook.id, assignment_id=submission.id)
                s.add(snb)
                s.flush()
            cells = s.scalars(select(GradeCell).where(GradeCell.notebook_id == notebook.id)).all()
            grades = {g.cell_id: g for g in s.scalars(select(Grade).where(Grade.notebook_id == snb.id))}
            for cell in cells:
                grade = grades.get(cell.id)
                if grade is None:
                    grade = Grade(cell_id=cell.id, notebook_id=snb.id)
                    s.add(grade)
                if cell.name in tests:
                    grade.auto_score = float(tests[cell.name]["points"])
                    grade.needs_manual_grade = False
                elif cell.name in manual:
                    grade.auto_score = None if manual[cell.name] else 0.0
                    grade.needs_manual_grade = bool(manual[cell.name])
            solution_cells = s.scalars(select(SolutionCell).where(SolutionCell.notebook_id == notebook.id)).all()
            comments = {c.cell_id for c in s.scalars(select(Comment).where(Comment.notebook_id == snb.id))}
            for cell in solution_cells:
                if cell.id not in comments:
                    s.add(Comment(cell_id=cell.id, notebook_id=snb.id))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
