"""Bubblewrap sandbox of a grading kernel: probe, kernelspec, cgroup, and the bwrap command line.

The kernelspec written by :func:`install_kernelspec` runs this file as a script (standard library only): it reads
the per-kernel JSON named by $AG_SANDBOX_CONFIG, joins the kernel's cgroup, and execs bubblewrap (or, with
--unsafe, the launcher directly).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import sys
from pathlib import Path

KERNEL_NAME = "autograder-sandbox"
LAUNCHER = Path(__file__).resolve().with_name("_launcher.py")
BWRAP = "bwrap"
#: Inside the sandbox: the private /tmp holds the student's work folder, their read-only files and the launcher.
INSIDE_TMP = "/tmp"
INSIDE_WORK = "/tmp/work"
INSIDE_INPUT = "/tmp/input"
INSIDE_LAUNCHER = "/tmp/ag_launcher.py"
INSIDE_HOME = "/tmp/home"
INSIDE_MPL = "/tmp/mpl-cache"


def probe() -> str | None:
    """Return None when bubblewrap can run a sandbox here, else the reason why not."""
    if sys.platform != "linux":
        return f"bubblewrap needs Linux; this is {sys.platform}"
    exe = shutil.which(BWRAP)
    if exe is None:
        return "bubblewrap (bwrap) is not installed (apt-get install bubblewrap)"
    try:
        res = subprocess.run([*bwrap_prefix([]), "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bwrap failed to start: {err}"
    if res.returncode != 0:
        return f"bwrap cannot create namespaces here (user namespaces disabled?): {res.stderr.strip()}"
    if os.geteuid() != 0:
        # Unprivileged: bwrap maps our uid; RLIMIT_NPROC then counts our own processes. Still a sandbox.
        pass
    return None


def install_kernelspec(jupyter_dir: Path) -> Path:
    """Write the sandbox kernelspec into <jupyter_dir>/kernels/ (a private JUPYTER_PATH folder); return kernels/."""
    kernels = Path(jupyter_dir) / "kernels"
    spec_dir = kernels / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, str(Path(__file__).resolve()), "{connection_file}"],
        "display_name": "Python 3 (autograder sandbox)",
        "language": "python",
        # jupyter_client would otherwise signal the process group on interrupt, which is bwrap's, not the kernel's.
        "interrupt_mode": "message",
    }
    text = json.dumps(spec, indent=1)
    target = spec_dir / "kernel.json"
    if not target.exists() or target.read_text() != text:
        # a name of its own per call: worker threads of one process start kernels at the same time
        fd, tmp = tempfile.mkstemp(dir=spec_dir, prefix=".kernel.json.")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    return kernels


# ---------------------------------------------------------------- cgroup (fork bombs)

def make_pids_cgroup(name: str, max_tasks: int) -> Path | None:
    """Create a pids cgroup limited to max_tasks (cgroup v1 or v2); None when we may not."""
    candidates = [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")]
    for root in candidates:
        if root == Path("/sys/fs/cgroup") and not (root / "cgroup.subtree_control").exists():
            continue
        try:
            if root.name != "pids":
                if "pids" not in (root / "cgroup.subtree_control").read_text():
                    continue
            group = root / "autograder" / name
            group.mkdir(parents=True, exist_ok=True)
            (group / "pids.max").write_text(str(max_tasks))
            return group
        except OSError:
            continue
    return None


def remove_cgroup(group: Path | None) -> None:
    """Kill what is left in the cgroup and remove it."""
    if group is None:
        return
    import signal
    import time
    for _ in range(50):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
    try:
        group.rmdir()
    except OSError:
        pass


# ---------------------------------------------------------------- bwrap command line (deny by default)

#: System folders shown read-only (a symlink, e.g. /bin -> usr/bin on merged-/usr distributions, is recreated as
#: the same symlink). Nothing else of the host file system is mounted unless a caller names it.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
#: Files and folders of /etc the runtime reads (dynamic loader, time zone, name service, MIME types, public CA
#: certificates, os-release); /etc/passwd and /etc/group are replaced by one-line files, nothing else of /etc is
#: there (no shadow, no ssl/private, no hostname, no machine-id).
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "nsswitch.conf", "host.conf",
               "hosts", "gai.conf", "protocols", "services", "mime.types", "locale.alias", "os-release",
               "alternatives", "fonts", "ssl/certs", "ssl/openssl.cnf", "ca-certificates")
#: Read-only parts of /sys: CPU topology only (BLAS, TensorFlow, PyTorch and glibc's get_nprocs read it).
SYS_ENTRIES = ("/sys/devices/system/cpu", "/sys/devices/system/node")
#: Paths never shown whatever a caller asks (binding them would undo deny-by-default).
TOO_BROAD = ("/", "/root", "/home", "/work", "/opt", "/srv", "/mnt", "/media", "/var", "/tmp", "/etc", "/proc",
             "/sys", "/dev", "/run")
NAMESPACES = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
              "--unshare-uts", "--unshare-cgroup-try"]


def _norm(path) -> str:
    return os.path.normpath(os.path.abspath(str(path)))


def _inside(path: str, root: str) -> bool:
    """path equals root or lies below it (both normalised)."""
    return path == root or root == "/" or path.startswith(root.rstrip("/") + "/")


def interpreter_paths(python: str | None = None) -> list[str]:
    """The folders a Python interpreter needs: its prefix and base prefix (venv and the Python it was made from).

    For another interpreter than this one, they are asked from it. Symlinks are resolved by bwrap_prefix.
    """
    if python is None or _norm(python) == _norm(sys.executable):
        paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    else:
        out = subprocess.run([python, "-I", "-S", "-c", "import sys; print(sys.prefix); print(sys.base_prefix);"
                              "print(sys.exec_prefix); print(sys.base_exec_prefix)"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        paths = out.split("\n")[:4]
    python = python or sys.executable
    paths.append(os.path.dirname(os.path.realpath(python)))  # e.g. a venv's bin/python -> /usr/bin/python3.11
    out: list[str] = []
    for p in paths:
        if p and _norm(p) not in out:
            out.append(_norm(p))
    return out


def course_package_path() -> str:
    """The folder Python imports lstm_course from (an editable install points into the repository: only the
    package folder is shown, never the repository)."""
    import importlib.util
    spec = importlib.util.find_spec("lstm_course")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("lstm_course is not importable")
    return _norm(os.path.realpath(list(spec.submodule_search_locations)[0]))


def _expand(paths) -> list[str]:
    """Each existing path, plus its symlink-resolved form when it differs (links inside it then resolve too)."""
    out: list[str] = []
    for p in paths:
        if not p or not os.path.exists(p):
            continue
        for q in (_norm(p), _norm(os.path.realpath(p))):
            if q in TOO_BROAD:
                raise ValueError(f"refusing to show {q} in the sandbox (deny by default): name a narrower folder")
            if q not in out:
                out.append(q)
    return out


class _Mounts:
    """Builds bwrap mount arguments, creating missing parent folders 0755 on the sandbox's tmpfs root."""

    def __init__(self):
        self.argv: list[str] = []
        self.tmpfs = {"/"}  # empty file systems: their sub-folders must be made
        self.bound: list[str] = []  # host folders shown whole: their sub-folders exist
        self.made: set[str] = set()

    def covered(self, path: str) -> bool:
        return any(_inside(path, b) for b in self.bound)

    def _parents(self, dest: str) -> None:
        parents = []
        parent = os.path.dirname(dest)
        while parent != "/":
            parents.append(parent)
            parent = os.path.dirname(parent)
        for parent in reversed(parents):
            if parent in self.tmpfs or parent in self.made or self.covered(parent):
                continue
            self.made.add(parent)
            self.argv += ["--perms", "0755", "--dir", parent]

    def bind(self, src: str, dest: str | None = None, writable: bool = False) -> None:
        dest = _norm(dest or src)
        if not writable and dest == src and self.covered(dest):
            return
        self._parents(dest)
        self.argv += ["--bind" if writable else "--ro-bind", src, dest]
        if os.path.isdir(src):
            self.bound.append(dest)

    def symlink(self, target: str, dest: str) -> None:
        self._parents(dest)
        self.argv += ["--symlink", target, dest]

    def tmpfs_at(self, dest: str, size: int | None = None, perms: str = "0755") -> None:
        self._parents(dest)
        if size:
            self.argv += ["--size", str(size)]
        self.argv += ["--perms", perms, "--tmpfs", dest]
        self.tmpfs.add(dest)
        self.bound = [b for b in self.bound if not _inside(b, dest)]


def bwrap_prefix(read_only, writable=(), *, hide=(), tmp_size: int | None = None, passwd: str | None = None,
                 group: str | None = None, hostname: str = "grader", files: dict | None = None) -> list[str]:
    """The bwrap command line up to (not including) --clearenv/--chdir and the command: deny by default.

    The sandbox's root is an empty read-only tmpfs. Shown: the system folders (SYSTEM_DIRS, read-only), the /etc
    entries of ETC_ENTRIES, the CPU topology of /sys, a fresh /dev and a /proc of its own PID namespace, a private
    /tmp (tmpfs of `tmp_size` bytes), and exactly the folders and files in `read_only` (read-only) and `writable`
    (read-write), at their own paths and, when a symlink leads elsewhere, also at their resolved path. Nothing else
    of the host: not /root, /home, /work, /opt, /srv, /mnt, /media, /var, nor the course repository. A folder of
    `hide` (course root, workspace, submissions) lying inside a shown folder is covered by an empty tmpfs.
    `passwd`/`group`: host files bound as /etc/passwd and /etc/group (else none). `files`: {inside path: host
    path} bound read-only at another path. No network (own network namespace), own PID/IPC/UTS namespaces.
    """
    m = _Mounts()
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            m.symlink(os.readlink(path), path)
        elif os.path.isdir(path):
            m.bind(path)
    for name in ETC_ENTRIES:
        path = f"/etc/{name}"
        if os.path.islink(path):
            m.symlink(os.readlink(path), path)
        elif os.path.exists(path):
            m.bind(path)
    if passwd:
        m.bind(passwd, "/etc/passwd")
    if group:
        m.bind(group, "/etc/group")
    for path in SYS_ENTRIES:
        if os.path.isdir(path):
            m.bind(path)
    m.tmpfs_at("/tmp", tmp_size, "1777")
    ro = sorted(_expand(read_only), key=lambda p: p.count("/"))  # parents first: their children are then covered
    mounts = [(path, path, False) for path in ro]
    mounts += [(path, path, True) for path in _expand(writable)]
    mounts += [(_norm(src), _norm(inside), False) for inside, src in (files or {}).items()]
    for src, dest, rw in mounts:
        m.bind(src, dest, rw)
    for path in hide:  # a hidden folder inside a shown one (e.g. a workspace inside a data folder): cover it
        path = _norm(path)
        if os.path.isdir(path) and any(_inside(path, b) and b != path for b in m.bound) or path in m.bound:
            m.tmpfs_at(path)
            for src, dest, rw in mounts:  # what was explicitly asked for inside it is shown again
                if dest != path and _inside(dest, path):
                    m.bind(src, dest, rw)
    return [BWRAP, *NAMESPACES, "--hostname", hostname, "--dev", "/dev", "--proc", "/proc", *m.argv,
            "--remount-ro", "/"]


def bwrap_argv(cfg: dict, connection_file: str, config_path: str) -> list[str]:
    """Return the bwrap command line that runs the launcher in a sandbox (see autograder/README.md)."""
    read_only = [*interpreter_paths(cfg["python"]), *cfg["read_only"], cfg["conf_dir"]]
    files = {INSIDE_INPUT: cfg["host_input_dir"], INSIDE_LAUNCHER: str(LAUNCHER)}
    if cfg.get("host_mpl_cache") and os.path.isdir(cfg["host_mpl_cache"]):
        files[INSIDE_MPL] = cfg["host_mpl_cache"]
    argv = bwrap_prefix(read_only, [cfg["run_dir"]], hide=cfg["hide"], tmp_size=cfg["limits"]["tmp_size"],
                        passwd=cfg["passwd"], group=cfg["group"], files=files)
    return argv + ["--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--chdir", INSIDE_TMP,
                   cfg["python"], INSIDE_LAUNCHER, config_path, connection_file]


def checker_argv(python: str, args: list[str], read_only=(), *, hide=(), env: dict | None = None,
                 tmp_size: int = 256 * 2**20) -> list[str]:
    """Command line running `python args...` (e.g. ["-m", "autograder.checker"]) under the kernels' policy.

    For a trusted process that runs no student code but must not read more of the host than it needs either.
    Shown read-only: what bwrap_prefix always shows, the interpreter's folders (interpreter_paths), the course
    package lstm_course (course_package_path), the autograder package's Python files (not its folder: the default
    workspace lives there) at their own paths, and `read_only` (e.g. the data mirror and cache). Nothing is
    writable but a private /tmp (also the working folder and HOME); no network. Give the process its input on
    stdin (bwrap passes stdin, stdout and stderr through) and run it with subprocess.run(argv, input=...).
    The command starts with `env -i`, so bwrap (PID 1 of the sandbox) holds no variable of the caller.
    `env` adds variables to a cleared environment (PATH, HOME=/tmp, LANG, PYTHONPATH to find autograder,
    PYTHONNOUSERSITE, PYTHONDONTWRITEBYTECODE and one thread per BLAS are set).
    """
    pkg = Path(__file__).resolve().parent
    files = {str(f): str(f) for f in sorted(pkg.glob("*.py"))}
    read_only = [*interpreter_paths(python), course_package_path(), *read_only]
    argv = bwrap_prefix(read_only, hide=hide, tmp_size=tmp_size, files=files) + ["--clearenv"]
    variables = {"PATH": f"{os.path.dirname(python)}:/usr/bin:/bin", "HOME": INSIDE_TMP, "LANG": "C.UTF-8",
                 "PYTHONPATH": str(pkg.parent), "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
                 "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                 "TF_CPP_MIN_LOG_LEVEL": "3", "MPLCONFIGDIR": f"{INSIDE_TMP}/mpl", **(env or {})}
    for key, value in variables.items():
        argv += ["--setenv", key, str(value)]
    # env -i: bwrap itself (PID 1 inside, /proc/1/environ) keeps none of the caller's environment
    return [shutil.which("env") or "/usr/bin/env", "-i", shutil.which(BWRAP) or BWRAP, *argv[1:],
            "--chdir", INSIDE_TMP, python, *args]


def main() -> None:
    """Kernelspec entry point: exec the sandbox (or the bare launcher when unsafe)."""
    connection_file = sys.argv[1]
    config_path = os.environ["AG_SANDBOX_CONFIG"]
    with open(config_path) as f:
        cfg = json.load(f)
    if cfg.get("cgroup"):
        try:
            with open(os.path.join(cfg["cgroup"], "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            pass
    if cfg["unsafe"]:
        os.execv(cfg["python"], [cfg["python"], str(LAUNCHER), config_path, connection_file])
    uid = cfg.get("uid")
    if uid is not None and os.geteuid() == 0:
        for path in (cfg["run_dir"], connection_file):
            os.chown(path, uid, uid)
    argv = bwrap_argv(cfg, connection_file, config_path)
    # an empty environment: bwrap's own process is PID 1 of the sandbox, and a kernel of the same uid (an
    # unprivileged grader) could read the instructor's environment from /proc/1/environ
    os.execve(shutil.which(argv[0]) or argv[0], argv, {})


if __name__ == "__main__":
    main()
