"""nbgrader configuration of the course (plain `nbgrader` commands run from this folder, or via JUPYTER_CONFIG_DIR).

The course root is found from this file's own path. Submissions, autograded notebooks, feedback and the gradebook
live in the instructor workspace (git-ignored): autograder/workspace/ or $AUTOGRADER_WORKSPACE.
`python -m autograder` does not need this file; it is here so that the usual nbgrader commands
(`nbgrader generate_assignment lstm_vs_gru`, `nbgrader autograde lstm_vs_gru`, formgrader) work on the same folders.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

_here = Path(__file__).resolve().parent
_root = _here.parent
_workspace = Path(os.environ.get("AUTOGRADER_WORKSPACE", _here / "workspace")).resolve()
_workspace.mkdir(parents=True, exist_ok=True)

c.CourseDirectory.root = str(_root)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = str(_workspace / "submitted")
c.CourseDirectory.autograded_directory = str(_workspace / "autograded")
c.CourseDirectory.feedback_directory = str(_workspace / "feedback")
c.CourseDirectory.db_url = f"sqlite:///{_workspace / 'gradebook.db'}"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store"]
c.Execute.timeout = 120  # seconds per cell (ExecutePreprocessor.timeout is ignored by nbgrader)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# nbgrader runs `alembic` as a program
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
