"""One-command nbgrader autograder with sandboxed kernels: ``grade_submissions`` and ``StudentResult``."""

from __future__ import annotations

__all__ = ["grade_submissions", "StudentResult", "OUTCOMES", "DataNotReady"]


def __getattr__(name):  # lazy: the kernelspec runs autograder/sandbox.py without importing nbgrader
    if name in __all__:
        from . import core
        return getattr(core, name)
    raise AttributeError(name)
