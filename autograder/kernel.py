"""One grading kernel (sandboxed unless unsafe) and the execution of one cell with timeouts and output caps."""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbformat.v4 import output_from_msg

import lstm_course

from . import sandbox
from .guard import guard_source
from .settings import RELOADED_MODULES, TRUSTED_MODULES, GradingOptions, data_env

#: First uid of the unprivileged users the kernels run as (one per concurrent kernel, so RLIMIT_NPROC counts
#: only that kernel's processes).
UID_BASE = 61000
#: Seconds to wait for a killed kernel process to exit.
KILL_WAIT = 10.0
#: Where each kernel's private ipc folder (sockets + connection file) is made: a short path, because a unix
#: socket path is limited to 107 bytes and a deep workspace made the kernel fail with "File name too long".
IPC_PARENT = "/tmp"


def private_ipc_dir() -> Path:
    """A new folder /tmp/ag-XXXXXXXX (mode 0700) for one kernel's sockets; GradingKernel.stop() removes it."""
    return Path(tempfile.mkdtemp(prefix="ag-", dir=IPC_PARENT))


def _zmq_context() -> zmq.Context:
    """The one ZeroMQ context of all grading kernels and clients.

    jupyter_client otherwise creates a context per KernelManager and per client; a context dropped
    with a socket still open (e.g. after a failed start) is destroyed by the garbage collector, whose
    Context.__del__ -> term() then waits forever for that socket: a later batch hung that way. The
    shared context is never terminated by the grader; every socket is closed explicitly in stop().
    Every socket it makes refuses a message over MAX_MESSAGE bytes (the peer is disconnected, and the kernel is
    then treated as dead): one message of gigabytes would otherwise be read whole into the grader's memory.
    """
    ctx = zmq.Context.instance()
    ctx.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
    return ctx


#: Largest message the grader reads from a kernel (the biggest legitimate one is a packed answer to the checker,
#: at most lstm_course.grading.MAX_PACKED characters).
MAX_MESSAGE = 256 * 2**20


class KernelStopped(Exception):
    """The kernel is gone or was stopped; `reason` is an outcome name."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class CellExecution:
    """What one execute request produced."""

    status: str  # "ok", "error", "timeout"
    outputs: list = field(default_factory=list)
    reply: dict | None = None
    sentinel_seen: bool = False
    truncated: int = 0  # characters dropped


class OutputCollector:
    """Turn iopub messages into nbformat outputs, keeping at most `keep` characters per cell.

    Every message counts, whatever its type and in full (data of every MIME type, metadata, transient, error
    names, values and tracebacks, display updates, comm messages): `received` is what the hard cap of the
    notebook is checked against, `kept` never exceeds `keep` by more than one ERROR_STUB. An error that does not
    fit is kept as a stub (its name and the start of its value, no traceback) so that the feedback and the
    resource-error detection still see why the cell failed; only the latest such stub is kept.
    """

    #: characters of an error's value kept in the stub of an error that did not fit
    ERROR_STUB = 300

    def __init__(self, keep: int, sentinel: str | None):
        self.keep = keep
        self.kept = 0
        self.dropped = 0
        self.received = 0
        self.outputs: list = []
        self.sentinel = sentinel
        self.tail = ""
        self.sentinel_seen = False
        self._stub = None  # the error stub kept, replaced by a later one

    @staticmethod
    def _size(content) -> int:
        try:
            return len(json.dumps(content, default=str))
        except (TypeError, ValueError, RecursionError):
            return len(str(content))

    def add(self, msg: dict) -> None:
        kind = msg["msg_type"]
        content = msg.get("content") or {}
        if kind == "clear_output":
            self.received += 1
            self.outputs.clear()
            self._stub = None
            return
        if kind == "stream":
            text = content.get("text", "")
            if not isinstance(text, str):
                text = str(text)
            self.received += len(text) + len(str(content.get("name", "")))
            if self.sentinel and content.get("name") == "stdout":
                window = self.tail + text
                if self.sentinel in window:
                    self.sentinel_seen = True
                self.tail = window[-(len(self.sentinel) + 2):]
            room = self.keep - self.kept
            if len(text) > room:
                self.dropped += len(text) - max(room, 0)
                text = text[:max(room, 0)]
            if not text:
                return
            self.kept += len(text)
            last = self.outputs[-1] if self.outputs else None
            if last is not None and last.output_type == "stream" and last.name == content.get("name"):
                last.text += text
            else:
                out = output_from_msg(msg)
                out.text = text
                self.outputs.append(out)
            return
        size = self._size(content)
        self.received += size  # status messages never reach here (the caller handles them)
        if kind not in ("display_data", "execute_result", "error"):
            return  # update_display_data, comm messages, execute_input ...: counted, not kept
        if self.kept + size <= self.keep:
            self.kept += size
            self.outputs.append(output_from_msg(msg))
            return
        self.dropped += size
        if kind == "error":
            stub = {"output_type": "error", "ename": str(content.get("ename", "Error"))[:100],
                    "evalue": str(content.get("evalue", ""))[:self.ERROR_STUB], "traceback": []}
            if self._stub is not None:
                self.outputs = [o for o in self.outputs if o is not self._stub]
                self.kept -= self._size(self._stub)
            from nbformat import from_dict
            self._stub = from_dict(stub)
            self.kept += self._size(stub)
            self.outputs.append(self._stub)

    def finish(self) -> list:
        if self.sentinel:
            marker = f"\n{self.sentinel}\n"
            for out in self.outputs:
                if out.output_type == "stream" and marker in out.text:
                    out.text = out.text.replace(marker, "")
            self.outputs = [o for o in self.outputs if not (o.output_type == "stream" and not o.text)]
        if self.dropped:
            self.outputs.append({"output_type": "stream", "name": "stderr",
                                 "text": f"\n[autograder: {self.dropped} characters of output were not kept]\n"})
        from nbformat import from_dict
        return [from_dict(o) for o in self.outputs]


class GradingKernel:
    """A kernel started for one student's notebook; use as a context manager."""

    def __init__(self, options: GradingOptions, slot: int, run_dir: Path, input_dir: Path, hide: list[Path]):
        self.options = options
        self.limits = options.limits
        self.slot = slot
        self.run_dir = Path(run_dir)
        self.input_dir = Path(input_dir)
        self.hide = hide
        self.km: KernelManager | None = None
        self.ipc_dir: Path | None = None
        self.kc = None
        self.cgroup = None
        self.received = 0
        self.deadline = time.monotonic() + self.limits.notebook_timeout
        self.dead: KernelStopped | None = None

    # ------------------------------------------------------------------ start / stop
    def _config(self, ipc_dir: Path) -> dict:
        opts = self.options
        unsafe = opts.unsafe
        uid = None if unsafe or os.geteuid() != 0 else UID_BASE + self.slot
        home = str(self.run_dir / "home") if unsafe else sandbox.INSIDE_HOME
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home, "IPYTHONDIR": f"{home}/.ipython", "MPLCONFIGDIR": f"{home}/.mpl",
            "JUPYTER_RUNTIME_DIR": f"{home}/.runtime", "LANG": "C.UTF-8", "PYTHONNOUSERSITE": "1",
            "NBGRADER_EXECUTION": "autograde", "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        if unsafe:
            env["TMPDIR"] = str(self.run_dir / "tmp")
            (self.run_dir / "tmp").mkdir(exist_ok=True)
        data = data_env(opts.extra_env)  # the mirror and the cache the grader warmed, read-only in the sandbox
        env.update(data)
        # lstm_course from where this Python imports it: an editable install points into the repository, which
        # the sandbox hides, so <course root>/lstm_course is not necessarily it
        package = Path(lstm_course.__file__).resolve().parent
        read_only = [sys.prefix, sys.base_prefix, str(package), *data.values()]
        if not unsafe:  # the kernel imports the package shown to it, not what an editable install points at
            env["PYTHONPATH"] = str(package.parent)
        env.update(opts.extra_env)
        mpl = os.environ.get("MPLCONFIGDIR") or str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                                                      / "matplotlib")
        passwd, group = self.run_dir / "conf" / "passwd", self.run_dir / "conf" / "group"
        shown_uid = uid if uid is not None else os.getuid()
        passwd.write_text(f"student:x:{shown_uid}:{shown_uid}:student:{home}:/usr/sbin/nologin\n")
        group.write_text(f"student:x:{shown_uid}:\n")
        return {
            "unsafe": unsafe, "uid": uid, "python": sys.executable, "env": env,
            "limits": self.limits.to_dict(), "run_dir": str(ipc_dir), "cgroup": str(self.cgroup or ""),
            "host_input_dir": str(self.input_dir),
            "input_dir": str(self.input_dir) if unsafe else sandbox.INSIDE_INPUT,
            "work_dir": str(self.run_dir / "work") if unsafe else sandbox.INSIDE_WORK,
            "hide": [str(p) for p in self.hide], "read_only": read_only,
            "host_mpl_cache": mpl, "mpl_cache": mpl if unsafe else sandbox.INSIDE_MPL,
            "passwd": str(passwd), "group": str(group), "conf_dir": str(self.run_dir / "conf"),
        }

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # not under run_dir: the workspace path may be long; the sandbox binds this folder at the same path
        self.ipc_dir = ipc_dir = private_ipc_dir()
        (self.run_dir / "conf").mkdir(exist_ok=True)
        if not self.options.unsafe:
            self.cgroup = sandbox.make_pids_cgroup(f"{os.getpid()}-{uuid.uuid4().hex[:8]}", self.limits.max_tasks)
        cfg = self._config(ipc_dir)
        config_path = self.run_dir / "conf" / "sandbox.json"
        config_path.write_text(json.dumps(cfg))
        kernels = sandbox.install_kernelspec(self.options.workspace / "jupyter")
        ksm = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
        km = KernelManager(kernel_name=sandbox.KERNEL_NAME, kernel_spec_manager=ksm,
                           transport="ipc", ip=str(ipc_dir / "k"), context=_zmq_context())
        km.connection_file = str(ipc_dir / "kernel.json")
        env = {k: v for k, v in os.environ.items()}
        env["AG_SANDBOX_CONFIG"] = str(config_path)
        self.log = open(self.run_dir / "kernel.log", "wb")
        # stored BEFORE starting: start_kernel may launch the process and then fail (e.g. connecting its
        # control socket), and stop() must still kill that process and close what was opened
        self.km = km
        try:
            km.start_kernel(env=env, stdout=self.log, stderr=self.log)
            self.kc = km.client(context=_zmq_context())
            self.kc.start_channels()
        except Exception as err:  # noqa: BLE001 - e.g. ZMQError; stop() (in __enter__) cleans up
            raise KernelStopped("error", f"the grading kernel did not start: {err!r}; {self.log_tail()}") from None
        kc = self.kc
        try:
            kc.wait_for_ready(timeout=self.limits.startup_timeout)
        except RuntimeError as err:
            raise KernelStopped("error", f"the grading kernel did not start: {err}; {self.log_tail()}") from None
        if os.geteuid() == 0 and not self.options.unsafe:
            # sockets are bound: the kernel may no longer create files in the host folder
            os.chown(ipc_dir, 0, 0)
            os.chmod(ipc_dir, 0o700)
        ex = self.execute(guard_source(TRUSTED_MODULES, RELOADED_MODULES), silent=True, store_history=False,
                          timeout=self.limits.startup_timeout)
        if ex.status != "ok":
            raise KernelStopped("error", f"the grader's guard failed to install: {ex.reply}")
        self.user_expression("__import__('sys').modules['_ag_guard'].calibrate()")
        # the tests ask the notebook through lstm_course.grading: a kernel that cannot import it would fail every
        # test, which is the grader's failure, never the student's zero
        ex = self.execute("import lstm_course.grading", silent=True, store_history=False,
                          timeout=self.limits.startup_timeout)
        if ex.status != "ok":
            raise KernelStopped("error", "the grading kernel cannot import the course package lstm_course "
                                f"({(ex.reply or {}).get('evalue', ex.status)}); check the course's installation")

    def log_tail(self, n: int = 1500) -> str:
        try:
            self.log.flush()
            data = (self.run_dir / "kernel.log").read_bytes()[-n:]
            return data.decode(errors="replace").strip()
        except OSError:
            return ""

    def _kill_process(self) -> None:
        """SIGKILL the kernel's process group (bwrap or the launcher) and reap it, waiting at most KILL_WAIT."""
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # started with start_new_session: its own group
            except OSError:
                try:
                    proc.kill()
                except OSError:
                    pass
        try:
            proc.wait(timeout=KILL_WAIT)
        except Exception:  # noqa: BLE001 - the cgroup removal below kills what is left
            pass

    def stop(self) -> None:
        """Release everything start() acquired, whatever state it reached; every step is bounded in time."""
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
        if self.km is not None:
            try:
                if self.km.has_kernel:
                    self.km.shutdown_kernel(now=True)
            except Exception:
                pass
            self._kill_process()  # shutdown_kernel may have failed before killing (it interrupts first)
            try:
                self.km.cleanup_resources()  # closes the control socket, removes the connection file
            except Exception:
                pass
        sandbox.remove_cgroup(self.cgroup)
        if self.ipc_dir is not None:
            shutil.rmtree(self.ipc_dir, ignore_errors=True)
        try:
            self.log.close()
        except Exception:
            pass

    def __enter__(self) -> "GradingKernel":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ execution
    def exit_detail(self) -> str:
        code = None
        try:
            code = self.km.provisioner.process.poll()  # type: ignore[union-attr]
        except Exception:
            pass
        return f"exit status {code}" if code is not None else "no exit status"

    def _kill(self, reason: str, detail: str) -> KernelStopped:
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:
            pass
        self.dead = KernelStopped(reason, detail)
        return self.dead

    def execute(self, code: str, *, silent: bool = False, store_history: bool = True,
                user_expressions: dict | None = None, timeout: float | None = None,
                sentinel: str | None = None) -> CellExecution:
        """Run code; raise KernelStopped when the kernel dies or must be stopped."""
        if self.dead is not None:
            raise self.dead
        limits = self.limits
        timeout = limits.cell_timeout if timeout is None else timeout
        msg_id = self.kc.execute(code, silent=silent, store_history=store_history,
                                 user_expressions=user_expressions or {}, allow_stdin=False, stop_on_error=False)
        collector = OutputCollector(limits.output_kept_per_cell, sentinel)
        start = time.monotonic()
        deadline = min(start + timeout, self.deadline)
        idle, reply, interrupted = False, None, None
        while not (idle and reply is not None):
            now = time.monotonic()
            if now >= deadline:
                if interrupted is None:
                    which = "notebook" if self.deadline <= start + timeout else "cell"
                    if which == "notebook":
                        raise self._kill("timeout", f"the notebook exceeded {limits.notebook_timeout:.0f} s")
                    interrupted = f"a cell exceeded the {limits.cell_timeout:.0f} s limit"
                    try:
                        self.km.interrupt_kernel()
                    except Exception:
                        pass
                    deadline = now + limits.interrupt_grace
                    continue
                raise self._kill("timeout", f"{interrupted} and the kernel ignored the interrupt")
            wait = max(0.01, min(1.0, deadline - now))
            try:
                if not idle:
                    msg = self.kc.get_iopub_msg(timeout=wait)
                    if msg["parent_header"].get("msg_id") != msg_id:
                        continue
                    if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                        idle = True
                        continue
                    collector.add(msg)
                    if self.received + collector.received > limits.output_hard_cap:
                        raise self._kill("output_too_large",
                                         f"the notebook printed more than {limits.output_hard_cap} characters")
                else:
                    msg = self.kc.get_shell_msg(timeout=wait)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        reply = msg["content"]
            except Empty:
                if not self.km.is_alive():
                    raise self._kill("kernel_died", f"the kernel died ({self.exit_detail()})")
        self.received += collector.received
        status = "timeout" if interrupted else reply.get("status", "error")
        ex = CellExecution(status, collector.finish(), reply, collector.sentinel_seen, collector.dropped)
        if interrupted:
            ex.outputs.append({"output_type": "error", "ename": "TimeoutError",
                               "evalue": interrupted, "traceback": [f"TimeoutError: {interrupted}"]})
        return ex

    def user_expression(self, expression: str, timeout: float = 30.0):
        """Evaluate one expression without input transformers; return its value (a Python literal) or raise."""
        ex = self.execute("", silent=True, store_history=False, user_expressions={"x": expression}, timeout=timeout)
        result = (ex.reply or {}).get("user_expressions", {}).get("x", {})
        if result.get("status") != "ok":
            raise RuntimeError(f"{result.get('ename', '?')}: {result.get('evalue', '')}")
        return ast.literal_eval(result["data"]["text/plain"])
