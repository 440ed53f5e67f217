"""Grading on a Dask cluster: one task a notebook, run by any worker that has shown it can grade in the sandbox.

The client (``grade_submissions(..., scheduler=ADDRESS)``) does the intake, sends each notebook's bytes and the
files beside it to the cluster as one task, and writes results/, grades.csv, the gradebook, the feedback and the
summary from the plain data that comes back, exactly as a local run does. A worker grades with the same code as
a local run (``core.grade_in_slot``: sandboxed kernel, the worker process's own TrustedChecker). Before any
notebook is sent, one probe task a worker reports what it can do (bubblewrap, course version, the assignment's
source notebook, data ready); a worker that cannot grade safely refuses every grading task (it returns a refusal,
never a grade) and the client sends that notebook to another worker.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import hashlib
import json
import os
import queue
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

#: Where the command line reads the scheduler's address when --scheduler is not given (Dask's own variable).
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
#: Seconds a worker gets to answer its probe (preparing IMDB on a cold cache takes 20-30 s).
PROBE_TIMEOUT = 900.0
#: Times a grading task is run again after it raised (distributed's own `retries`); a worker that dies while
#: grading is handled by the scheduler, which runs the task elsewhere (KilledWorker after 3 such deaths).
TASK_RETRIES = 2
#: Seconds between checks that a task restricted to some workers still has one of them alive.
WATCH_INTERVAL = 10.0
#: Refusals one notebook may meet before the batch stops with ClusterUnavailable.
MAX_REFUSALS = 5
#: Sandbox slots (kernel uid 61000 + slot) of cluster workers are claimed machine-wide from here, so two worker
#: processes on one machine never share a kernel uid, nor with a local run (slots 0 .. workers-1).
SLOT_BASE = 100
SLOT_COUNT = 400
SLOT_LOCKS = Path(tempfile.gettempdir()) / "autograder-slots"


class ClusterUnavailable(RuntimeError):
    """The scheduler cannot be reached, has no worker, or no worker can grade safely."""


# ------------------------------------------------------------------------------------------ what both sides compare

@functools.lru_cache(maxsize=1)
def code_fingerprint() -> dict:
    """The version of the course package and a hash of the code that grades (autograder/, lstm_course/)."""
    from importlib import metadata

    import lstm_course

    try:
        version = metadata.version("lstm-course")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256()
    for package in (Path(__file__).resolve().parent, Path(lstm_course.__file__).resolve().parent):
        for path in sorted(package.rglob("*.py")):
            if "workspace" in path.relative_to(package).parts:
                continue
            digest.update(f"{package.name}/{path.relative_to(package)}\0".encode())
            digest.update(path.read_bytes())
    return {"version": version, "code_sha256": digest.hexdigest()}


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def requirements(assignment: str, options, template_folder: str = "solutions") -> dict:
    """What a worker must match to grade this batch: code, the assignment's source notebook, settings."""
    from .template import source_notebook

    source = source_notebook(options.course_root, assignment, template_folder)
    return {"assignment": assignment, "template_folder": template_folder, "course_root": str(options.course_root),
            "notebook_sha256": file_sha256(source), **code_fingerprint(), "unsafe": bool(options.unsafe),
            "extra_env": dict(options.extra_env), "limits": options.limits.to_dict()}


# ------------------------------------------------------------------------------------------ worker side

@dataclass
class WorkerState:
    """One worker process's grading setup for one set of requirements (kept for the life of the process)."""

    report: dict
    options: object = None
    template: object = None
    hide: list = field(default_factory=list)
    slots: queue.Queue = field(default_factory=queue.Queue)
    checkers: dict = field(default_factory=dict)  # slot -> TrustedChecker (one process a slot, started on use)


_STATES: dict[str, WorkerState] = {}
_STATES_LOCK = threading.Lock()
_SLOT_FILES: list = []  # open lock files of the slots this process holds (released when it exits)


def _worker():
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):  # called outside a Dask worker (tests, a plain thread)
        return None


def _worker_name() -> str:
    worker = _worker()
    return str(worker.address) if worker is not None else f"{socket.gethostname()}:{os.getpid()}"


def _claim_slots(count: int) -> list[int]:
    """Claim `count` sandbox slots no other process on this machine holds (flock on one file a slot)."""
    SLOT_LOCKS.mkdir(mode=0o700, parents=True, exist_ok=True)
    claimed = []
    for n in range(SLOT_BASE, SLOT_BASE + SLOT_COUNT):
        if len(claimed) == count:
            break
        f = open(SLOT_LOCKS / f"slot-{n}.lock", "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        _SLOT_FILES.append(f)
        claimed.append(n)
    if len(claimed) < count:
        raise RuntimeError(f"only {len(claimed)} free grading slots on this machine ({SLOT_LOCKS})")
    return claimed


def _build_state(req: dict) -> WorkerState:
    """Check what this worker can do for `req`; the report says why it refuses, if it does."""
    from . import core, sandbox
    from .settings import COURSE_ROOT, GradingOptions, Limits
    from .template import load_template, source_notebook

    reasons: list[str] = []
    report = {"worker": _worker_name(), "host": socket.gethostname(), "pid": os.getpid(), **code_fingerprint()}
    if req["unsafe"]:
        report["sandbox"] = "none (--unsafe)"
    else:
        why = sandbox.probe()
        report["sandbox"] = "bubblewrap" if why is None else f"unavailable: {why}"
        if why is not None:
            reasons.append(f"no sandbox ({why})")
    for name in ("version", "code_sha256"):
        if report[name] != req[name]:
            reasons.append(f"its course code differs from the client's ({name} {report[name][:12]} here, "
                           f"{req[name][:12]} there): install the same commit on every worker")
    a, folder = req["assignment"], req["template_folder"]
    course_root = Path(req["course_root"])  # the client's course folder when this machine has it (shared disk)
    try:
        source = source_notebook(course_root, a, folder)
    except FileNotFoundError:
        course_root = COURSE_ROOT  # else the course this worker's code belongs to
        try:
            source = source_notebook(course_root, a, folder)
        except FileNotFoundError:
            source = None
            reasons.append(f"it has no {folder}/{a}/{a}.ipynb (neither under {req['course_root']} nor {COURSE_ROOT})")
    report["notebook_sha256"] = file_sha256(source) if source is not None else None
    if source is not None and report["notebook_sha256"] != req["notebook_sha256"]:
        reasons.append(f"its {source} differs from the client's source notebook (sha256 "
                       f"{report['notebook_sha256'][:12]} here, {req['notebook_sha256'][:12]} there)")
    state = WorkerState(report)
    if not reasons:
        worker = _worker()
        base = Path(worker.local_directory) if worker is not None else Path(tempfile.gettempdir())
        workspace = base / f"autograder-{os.getpid()}"
        workspace.mkdir(parents=True, exist_ok=True)
        state.options = GradingOptions(course_root=course_root.resolve(), workspace=workspace,
                                       limits=Limits(**req["limits"]), unsafe=req["unsafe"],
                                       extra_env=dict(req["extra_env"]))
        state.template = load_template(course_root, a, folder)
        try:
            core.warm_data(state.template, state.options)
            report["data"] = list(state.template.data)
        except core.DataNotReady as err:
            reasons.append(f"data not ready: {err}")
        state.hide = core._hidden_paths(state.options, workspace)
        threads = int(getattr(getattr(worker, "state", None), "nthreads", 0) or getattr(worker, "nthreads", 1) or 1)
        if not reasons:
            for slot in _claim_slots(threads):
                state.slots.put(slot)
    report["ok"] = not reasons
    report["reasons"] = reasons
    return state


def _state(req: dict) -> WorkerState:
    """This worker's state for `req` (one a worker: several workers may share a process, e.g. threads)."""
    key = _worker_name() + hashlib.sha256(json.dumps(req, sort_keys=True).encode()).hexdigest()
    with _STATES_LOCK:
        state = _STATES.get(key)
        if state is None or not state.report["ok"]:  # a refusal is checked again (bubblewrap installed since...)
            try:
                state = _build_state(req)
            except Exception as err:  # noqa: BLE001 - e.g. an unreadable template or no free slot: refuse, say why
                state = WorkerState({"worker": _worker_name(), "host": socket.gethostname(), "ok": False,
                                     "reasons": [f"cannot prepare grading here: {err!r}"[:500]]})
            if state.report["ok"]:
                if not _STATES:  # the checkers end with this process, also under --unsafe (no bwrap around them)
                    atexit.register(close_checkers)
                _STATES[key] = state
        return state


def worker_report(req: dict) -> dict:
    """The probe task: what this worker can do for the batch described by `req` (plain data)."""
    return dict(_state(req).report)


def _write_job_files(job: dict, folder: Path) -> tuple[Path, Path]:
    """Write the notebook and the student's other files of `job` under `folder`; relative names only."""
    nb_dir, files_dir = folder / "notebook", folder / "files"
    nb_dir.mkdir(parents=True)
    files_dir.mkdir()
    name = job["name"]
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"bad notebook name {name!r}")
    notebook = nb_dir / name
    notebook.write_bytes(job["notebook"])
    for rel, data in job["files"].items():
        parts = Path(rel).parts
        if Path(rel).is_absolute() or ".." in parts or not parts:
            raise ValueError(f"bad file name {rel!r}")
        target = files_dir.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return notebook, files_dir


def grade_task(req: dict, job: dict) -> dict:
    """The grading task: grade one notebook with this worker's sandbox and checker; return plain data.

    A worker whose probe failed returns {"refused": why} and grades nothing."""
    from . import core

    state = _state(req)
    if not state.report["ok"]:
        return {"student": job["student"], "refused": "; ".join(state.report["reasons"]),
                "worker": state.report["worker"]}
    slot = state.slots.get()
    incoming = state.options.workspace / "incoming" / f"{uuid.uuid4().hex[:12]}-{slot}"
    try:
        notebook, files_dir = _write_job_files(job, incoming)
        graded = core.grade_in_slot(notebook, files_dir, job["student"], state.template, state.options, slot,
                                    state.hide, state.checkers)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
        state.slots.put(slot)
    nb = json.loads(json.dumps(graded.notebook)) if graded.notebook is not None else None
    return {"student": job["student"], "score": graded.score, "max_score": graded.max_score,
            "outcome": graded.outcome, "detail": graded.detail, "tests": graded.tests, "notebook": nb,
            "seconds": graded.seconds, "worker": state.report["worker"]}


def close_checkers() -> None:
    """End the checker processes of this worker process (they also die with it)."""
    with _STATES_LOCK:
        for state in _STATES.values():
            for checker in state.checkers.values():
                checker.close()
            state.checkers.clear()


# ------------------------------------------------------------------------------------------ client side

def connect(address: str, timeout: float = 10.0):
    """A distributed Client on `address` that has at least one worker; ClusterUnavailable (fast) if not."""
    try:
        from distributed import Client
    except ImportError as err:  # pragma: no cover - pinned in requirements.txt
        raise ClusterUnavailable(f"grading on a cluster needs `distributed` (pip install -r requirements.txt): "
                                 f"{err}") from err
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({err}), so "
                                 "nobody was graded: check the address (tcp://HOST:8786), that `dask scheduler` "
                                 "runs there and that the port is open") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError):
        client.close()
        raise ClusterUnavailable(f"the Dask scheduler at {address} has no worker (waited {timeout:g} s), so nobody "
                                 "was graded: start workers with `dask worker "
                                 f"{address} --nthreads 1` (see autograder/README.md)") from None
    return client


def check_workers(client, req: dict, timeout: float = PROBE_TIMEOUT) -> list[dict]:
    """Run one probe task on every worker; return the reports; ClusterUnavailable if none can grade."""
    batch = uuid.uuid4().hex[:8]
    addresses = sorted(client.scheduler_info(n_workers=-1)["workers"])
    futures = {client.submit(worker_report, req, key=f"autograder-probe-{batch}-{addr}", workers=[addr],
                             allow_other_workers=False, pure=False): addr for addr in addresses}
    deadline = time.monotonic() + timeout
    reports = []
    for fut, addr in futures.items():
        try:
            reports.append(fut.result(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            fut.cancel()
            reports.append({"worker": addr, "ok": False, "reasons": [f"no answer to the probe within {timeout:g} s"]})
        except Exception as err:  # noqa: BLE001 - e.g. the worker died while probing
            reports.append({"worker": addr, "ok": False, "reasons": [f"its probe failed: {err!r}"]})
    if not any(r["ok"] for r in reports):
        lines = "\n".join(f"  {r['worker']}: {'; '.join(r['reasons'])}" for r in reports) or "  (no worker)"
        raise ClusterUnavailable("no worker of the Dask cluster can grade safely, so nobody was graded:\n" + lines)
    return reports


def pack_job(sub, limits) -> dict:
    """The task's input for one imported submission: notebook bytes and the other files (regular files only).

    Raises what a local run raises for the same submission (NotebookTooLarge, LinkRejected)."""
    from .intake import copy_regular_tree
    from .limits import check_notebook_file

    check_notebook_file(sub.notebook, limits)
    fd = os.open(sub.notebook, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        notebook = f.read()
    files: dict[str, bytes] = {}
    if sub.files_dir:
        with tempfile.TemporaryDirectory(prefix="ag-pack-") as tmp:
            copy_regular_tree(sub.files_dir, Path(tmp) / "f", skip=lambda name: name.endswith(".ipynb"))
            for path in sorted((Path(tmp) / "f").rglob("*")):
                if path.is_file():
                    files[str(path.relative_to(Path(tmp) / "f"))] = path.read_bytes()
    return {"student": sub.student, "name": Path(sub.notebook).name, "notebook": notebook, "files": files}


def grade_on_cluster(client, req: dict, subs: list, template, options, finish, failure, on_result=None,
                     reports: list[dict] | None = None) -> list:
    """Grade `subs` on the cluster; `finish(sub, GradedNotebook)` records one student as a local run does.

    The first result for a student is the one recorded; a refusal (in `reports`, the probes' answers, or from a
    grading task) sends the notebook to the other workers."""
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    from .grader import GradedNotebook

    batch = uuid.uuid4().hex[:8]
    results, done = [], set()
    refused = {r["worker"]: "; ".join(r.get("reasons", [])) for r in reports or [] if not r.get("ok")}
    refusals: dict[str, int] = {}

    def report(result):
        results.append(result)
        if on_result is not None:
            on_result(result)

    def allowed_workers() -> list[str] | None:
        """The workers that have not refused (None: all); ClusterUnavailable when none is left."""
        if not refused:
            return None
        workers = [w for w in client.scheduler_info(n_workers=-1)["workers"] if w not in refused]
        if not workers:
            raise ClusterUnavailable("every worker of the Dask cluster refused to grade "
                                     f"({len(results)} students recorded, the others not):\n" +
                                     "\n".join(f"  {w}: {why}" for w, why in refused.items()))
        return workers

    attempts: dict[str, int] = {}

    def submit(sub, job) -> None:
        # strict restrictions: loose ones let the scheduler hand a task back to a worker that refused it
        workers = allowed_workers()
        attempts[sub.student] = attempts.get(sub.student, -1) + 1
        key = f"autograde-{req['assignment']}-{sub.student}-{batch}-{attempts[sub.student]}"
        fut = client.submit(grade_task, req, job, key=key, pure=False, retries=TASK_RETRIES, workers=workers)
        pending[fut] = (sub, job, workers)

    pending: dict = {}
    for sub in subs:
        if sub.outcome is not None:
            report(finish(sub, GradedNotebook(0.0, template.max_score, sub.outcome, sub.detail)))
            continue
        try:
            job = pack_job(sub, options.limits)
        except Exception as err:  # noqa: BLE001 - this student's outcome, as in a local run
            report(finish(sub, GradedNotebook(0.0, template.max_score, *failure(err))))
            continue
        submit(sub, job)
    checked = time.monotonic()
    while pending:
        ready = [fut for fut in pending if fut.done()]
        if not ready:
            time.sleep(0.1)
            if refused and time.monotonic() - checked > WATCH_INTERVAL:
                # a task restricted to workers that have all gone since would wait forever: send it again
                checked = time.monotonic()
                alive = set(client.scheduler_info(n_workers=-1)["workers"])
                for fut, (sub, job, workers) in list(pending.items()):
                    if workers is not None and not alive.intersection(workers):
                        pending.pop(fut)
                        fut.cancel()
                        submit(sub, job)
            continue
        fut = ready[0]
        sub, job, _ = pending.pop(fut)
        try:
            data = fut.result()
        except KilledWorker as err:
            graded = GradedNotebook(0.0, template.max_score, "error",
                                    f"grader error: the Dask workers grading this notebook died ({err})"[:300])
            data = None
        except (FutureCancelledError, OSError) as err:
            raise ClusterUnavailable(f"lost the Dask scheduler in the middle of the batch ({err!r}): "
                                     f"{len(results)} students are recorded, the others are not; run again") from None
        except Exception as err:  # noqa: BLE001 - the task raised on every try: this student's outcome
            graded, data = GradedNotebook(0.0, template.max_score, *failure(err)), None
        if data is not None and "refused" in data:
            refused[data["worker"]] = data["refused"]
            refusals[sub.student] = refusals.get(sub.student, 0) + 1
            if refusals[sub.student] > MAX_REFUSALS:
                raise ClusterUnavailable(f"workers refused {sub.student}'s notebook {MAX_REFUSALS} times:\n" +
                                         "\n".join(f"  {w}: {why}" for w, why in refused.items()))
            submit(sub, job)
            continue
        if sub.student in done:  # the first result of a student is the one recorded
            continue
        done.add(sub.student)
        if data is not None:
            import nbformat

            nb = nbformat.from_dict(data["notebook"]) if data["notebook"] is not None else None
            graded = GradedNotebook(data["score"], data["max_score"], data["outcome"], data["detail"],
                                    data["tests"], nb, data["seconds"])
        report(finish(sub, graded))
    return results


def describe(reports: list[dict]) -> str:
    """One line a worker: where it is, its sandbox, and why it refuses (if it does)."""
    lines = []
    for r in reports:
        state = "ready" if r.get("ok") else "REFUSES: " + "; ".join(r.get("reasons", []))
        lines.append(f"  {r.get('worker')} ({r.get('host', '?')}, sandbox {r.get('sandbox', '?')}): {state}")
    return "\n".join(lines)


