"""Paths of the course and instructor workspace, and the limits applied to every grading kernel."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, asdict
from pathlib import Path

#: The course root: the folder holding solutions/, exercises/ and autograder/.
COURSE_ROOT = Path(__file__).resolve().parent.parent
#: Environment variable overriding the instructor workspace (gradebook, submitted, autograded, feedback).
WORKSPACE_ENV = "AUTOGRADER_WORKSPACE"
#: Modules whose attributes the guard restores before every grade cell (imported at kernel start when available).
TRUSTED_MODULES = ("math", "numpy", "numpy.testing", "lstm_course.checks")
#: Of those, the ones reloaded from disk before every grade cell (our own checking helpers).
RELOADED_MODULES = ("lstm_course.checks",)


def default_workspace() -> Path:
    """Return the instructor workspace: $AUTOGRADER_WORKSPACE or autograder/workspace/ (git-ignored)."""
    env = os.environ.get(WORKSPACE_ENV)
    return Path(env).expanduser().resolve() if env else COURSE_ROOT / "autograder" / "workspace"


@dataclass
class Limits:
    """Resource limits of one grading kernel; every hit becomes a per-student outcome."""

    cell_timeout: float = 120.0  # wall seconds per cell
    notebook_timeout: float = 1800.0  # wall seconds per notebook
    startup_timeout: float = 60.0  # seconds for the kernel to answer
    address_space: int = 6 * 2**30  # RLIMIT_AS bytes (TensorFlow needs 3-4 GiB)
    cpu_seconds: int = 3600  # RLIMIT_CPU per process
    max_tasks: int = 256  # processes + threads (cgroup pids.max; RLIMIT_NPROC as a second line)
    file_size: int = 256 * 2**20  # RLIMIT_FSIZE bytes per file written
    tmp_size: int = 256 * 2**20  # size of the private /tmp tmpfs (holds the work folder too)
    output_kept_per_cell: int = 100_000  # characters of output kept in the graded notebook per cell
    output_hard_cap: int = 32 * 2**20  # characters streamed by one notebook before it is stopped
    interrupt_grace: float = 5.0  # seconds a kernel gets to answer an interrupt before it is killed
    max_notebook_bytes: int = 20 * 2**20  # a bigger notebook file is `too_large`, never parsed
    max_cells: int = 2000  # a notebook with more cells is `too_large` (counted before nbformat parses it)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GradingOptions:
    """Everything a grading run needs besides the submissions."""

    course_root: Path = COURSE_ROOT
    workspace: Path = field(default_factory=default_workspace)
    limits: Limits = field(default_factory=Limits)
    unsafe: bool = False
    extra_env: dict = field(default_factory=dict)


#: The course package's data settings passed on to (and bound read-only into) every grading kernel.
DATA_VARS = ("LSTM_COURSE_DATA", "LSTM_COURSE_CACHE")


def data_env(extra_env: dict) -> dict[str, str]:
    """LSTM_COURSE_DATA and LSTM_COURSE_CACHE as the grading kernels see them.

    `extra_env` wins over this process's environment; the cache defaults like
    lstm_course.config.cache_dir ($XDG_CACHE_HOME/lstm_course, else ~/.cache/lstm_course).
    The grader warms exactly this cache before the kernels start.
    """
    env = {}
    for var in DATA_VARS:
        value = str(extra_env.get(var, os.environ.get(var, ""))).strip()
        if value:
            env[var] = value
    if "LSTM_COURSE_CACHE" not in env:
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
        env["LSTM_COURSE_CACHE"] = str(Path(base) / "lstm_course")
    return env
