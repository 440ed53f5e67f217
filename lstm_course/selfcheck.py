"""Check a saved exercise notebook as the grader will, from inside the notebook: ``lc.selfcheck.run("x.ipynb")``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(notebook: str | os.PathLike, timeout: float = 1800.0) -> int:
    """Run ``python -m autograder.selfcheck NOTEBOOK`` and print its report; returns its exit status.

    The notebook is read from disk: save it first. Where the course's grader is not installed (it comes with
    ``pip install -r requirements.txt`` in the course repository), say so instead of failing.
    """
    path = Path(notebook)
    if not path.is_file():
        print(f"{path} not found: save the notebook, and run this cell from the folder that holds it.")
        return 2
    try:
        from autograder.settings import COURSE_ROOT
    except ImportError:
        COURSE_ROOT = None
    if COURSE_ROOT is None or not (COURSE_ROOT / "exercises").is_dir():
        # e.g. the package installed from the course website's wheel, on Colab: no released notebooks here
        print("The course's grader and its released notebooks are not here (they come with a checkout of the "
              "course's repository and pip install -r requirements.txt), so the notebook cannot be checked as the "
              "grader will. Run the visible tests above instead: they are what this check runs.")
        return 2
    try:
        import autograder.selfcheck  # noqa: F401
    except ImportError as error:
        print(f"The course's grader cannot run here ({error}; pip install -r requirements.txt in the course's "
              "repository installs what it needs). Run the visible tests above instead: they are what this check runs.")
        return 2
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    proc = subprocess.run([sys.executable, "-m", "autograder.selfcheck", str(path)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    print(proc.stdout.strip() or proc.stderr.strip()[-2000:])
    return proc.returncode
