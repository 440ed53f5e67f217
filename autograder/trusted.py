"""The grader's side of the trusted checker: start it, hand it test cells, relay its requests to the kernel.

The checker (``autograder/checker.py``) runs in its own process, which never runs student code; the grader
relays each of its requests to the student's kernel as one user expression calling
``lstm_course.grading.serve`` and hands back the packed answer untouched (the checker unpacks it as plain
data). Nothing of a test cell's code is ever sent to the kernel.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .kernel import GradingKernel, KernelStopped
from .settings import GradingOptions, data_env

#: Seconds the checker gets to start (it imports NumPy; Keras is imported by the prelude).
START_TIMEOUT = 60.0
#: Seconds for a prelude (loading an assignment's data once per checker).
PRELUDE_TIMEOUT = 600.0
#: Largest line the checker may send (its requests are small; results carry at most ~30 kB of text).
MAX_LINE = 64 * 2**20


class CheckerFailed(RuntimeError):
    """The checker process failed (a grader problem, never the student's)."""


def serve_expression(payload: str) -> str:
    """The user expression that asks the student's kernel one question (the payload is plain packed data)."""
    return (f"__import__('lstm_course.grading', fromlist=['serve']).serve({payload!r}, "
            "get_ipython().user_ns)")


class TrustedChecker:
    """One checker process (used by one worker at a time); `close()` ends it."""

    def __init__(self, options: GradingOptions, argv_wrapper=None, warm: tuple[str, ...] = ()):
        """`warm`: frameworks (of checker.WARM_IMPORTS) the checker imports in the background as it starts."""
        self.options = options
        self.tmp = Path(tempfile.mkdtemp(prefix="ag-checker-"))
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(self.tmp), "LANG": "C.UTF-8",
            "MPLCONFIGDIR": str(self.tmp / "mpl"), "MPLBACKEND": "Agg", "PYTHONNOUSERSITE": "1",
            "NBGRADER_EXECUTION": "autograde", "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "CUDA_VISIBLE_DEVICES": "",
        }
        for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if os.environ.get(var):
                env[var] = os.environ[var]
        env.update(data_env(options.extra_env))
        env["AG_CHECKER_WARM"] = ",".join(warm)
        argv = [sys.executable, "-m", "autograder.checker"]
        if argv_wrapper is not None:
            argv = argv_wrapper(argv, env, self.tmp)
        self.log = open(self.tmp / "checker.log", "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     env=env, cwd=str(self.tmp), start_new_session=True)
        self.buffer = b""
        self.prelude_key: str | None = None
        self.pending_prelude: tuple[str, list[str]] | None = None
        self.unanswered = 0  # messages sent whose answers have not been read yet
        hello = self._receive(START_TIMEOUT)
        if hello.get("op") != "ready":
            raise CheckerFailed(f"the checker did not start: {hello}")

    # ------------------------------------------------------------------ protocol
    def _send(self, msg: dict) -> None:
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise CheckerFailed(f"the checker stopped: {err}; {self.log_tail()}") from None

    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise CheckerFailed(f"the checker did not answer within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                if self.proc.poll() is not None:
                    raise CheckerFailed(f"the checker exited ({self.proc.returncode}); {self.log_tail()}")
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise CheckerFailed(f"the checker exited ({self.proc.poll()}); {self.log_tail()}")
            self.buffer += chunk
            if len(self.buffer) > MAX_LINE:
                self.close()
                raise CheckerFailed("the checker sent a line that is too long")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def log_tail(self, n: int = 1500) -> str:
        try:
            self.log.flush()
            return (self.tmp / "checker.log").read_bytes()[-n:].decode(errors="replace").strip()
        except OSError:
            return ""

    # ------------------------------------------------------------------ operations
    def prelude(self, key: str, cells: list[str]) -> None:
        """Run the assignment's trusted locked cells once (cached in the checker by `key`).

        Sent with the first test, not now: the checker imports its frameworks while the student's kernel runs
        the notebook, and would make this wait for them."""
        self.pending_prelude = (key, cells)

    def new_student(self) -> None:
        """Forget the previous student's answers. Sent now and answered later: the checker clears its
        framework state while the kernel runs the notebook; `_flush` collects the answer."""
        self._send({"op": "student"})
        self.unanswered += 1

    def _flush(self) -> None:
        while self.unanswered:
            reply = self._receive(START_TIMEOUT + PRELUDE_TIMEOUT)
            self.unanswered -= 1
            if not reply.get("ok"):
                raise CheckerFailed(f"the checker could not start a new student: {reply.get('error')}")
        if self.pending_prelude is not None and self.pending_prelude[0] != self.prelude_key:
            key, cells = self.pending_prelude
            self._send({"op": "prelude", "key": key, "cells": cells})
            reply = self._receive(PRELUDE_TIMEOUT)
            if not reply.get("ok"):
                raise CheckerFailed(f"the assignment's setup failed in the checker: {reply.get('error')}\n"
                                    f"{reply.get('traceback', '')}")
            self.prelude_key = key
        self.pending_prelude = None

    def run_test(self, grade_id: str, source: str, kernel: GradingKernel, timeout: float) -> dict:
        """Run one test cell in the checker, answering its questions from `kernel`; returns its result."""
        self._flush()
        self._send({"op": "test", "grade_id": grade_id, "source": source})
        deadline = time.monotonic() + timeout
        stopped: KernelStopped | None = None
        while True:
            msg = self._receive(max(1.0, deadline - time.monotonic()) + 30.0)
            if msg.get("op") == "result":
                if stopped is not None:
                    raise stopped
                return msg
            if msg.get("op") != "request":
                raise CheckerFailed(f"unexpected message from the checker: {str(msg)[:200]}")
            if stopped is not None:
                self._send({"op": "response", "error": "the notebook's kernel has stopped"})
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                self._send({"op": "response", "error": f"the test ran out of time ({timeout:.0f} s)"})
                continue
            try:
                answer = kernel.user_expression(serve_expression(msg["payload"]), timeout=left)
            except KernelStopped as err:
                stopped = err
                self._send({"op": "response", "error": "the notebook's kernel has stopped"})
                continue
            except Exception as err:  # noqa: BLE001 - the kernel's own failure to answer
                self._send({"op": "response", "error": f"the notebook did not answer ({str(err)[:200]})"})
                continue
            if not isinstance(answer, str):
                self._send({"op": "response", "error": "the notebook's answer was not plain data"})
                continue
            self._send({"op": "response", "payload": answer})

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self.proc.stdin.write(b'{"op": "quit"}\n')
                    self.proc.stdin.flush()
                except OSError:
                    pass
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, 9)
                    self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            pass
        try:
            self.log.close()
        except Exception:  # noqa: BLE001
            pass
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


_FRAMEWORK_IMPORT = re.compile(r"^\s*(?:import|from)\s+(keras|torch|tensorflow)\b", re.MULTILINE)


def frameworks(template) -> tuple[str, ...]:
    """The frameworks the assignment's notebook imports (keras, torch): what its checker should load early."""
    found = {m.group(1) for cell in template.cells for m in _FRAMEWORK_IMPORT.finditer(cell.source or "")}
    return tuple(name for name in ("keras", "torch") if name in found or (name == "keras" and "tensorflow" in found))


def checker_wrapper(options: GradingOptions):
    """How the checker process is started: sandboxed (deny by default) unless grading is --unsafe.

    It sees the interpreter, lstm_course, the autograder's own files and the data (read-only), writes only a
    private /tmp, and has no network: it runs no student code, but it reads what students' kernels send.
    """
    if options.unsafe:
        return None
    from . import sandbox

    def wrap(argv: list[str], env: dict, tmp: Path) -> list[str]:
        data = [p for p in data_env(options.extra_env).values() if Path(p).exists()]
        inner = {k: v for k, v in env.items() if k not in ("PATH", "HOME", "MPLCONFIGDIR")}
        return sandbox.checker_argv(sys.executable, argv[1:], read_only=data, env=inner)

    return wrap
