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
        res = subprocess.run([exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
                              "--unshare-net", "--die-with-parent", "--new-session", "true"],
                             capture_output=True, text=True, timeout=30)
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


# ---------------------------------------------------------------- bwrap command line

def _parents_under(path: str, covers: list[str]) -> list[str]:
    """Ancestors of path strictly inside one of the tmpfs mounts `covers` (bwrap would create them mode 0700).

    The mount points themselves exist already (e.g. /tmp, whose 1777 mode must stay).
    """
    out = []
    parent = os.path.dirname(path.rstrip("/"))
    while parent not in ("", "/"):
        if any(parent.startswith(c.rstrip("/") + "/") for c in covers):
            out.append(parent)
        parent = os.path.dirname(parent)
    return out[::-1]


def _bind(kind: str, src: str, dest: str, covers: list[str], made: set) -> list[str]:
    argv = []
    for parent in _parents_under(dest, covers):
        if parent not in made:
            made.add(parent)
            argv += ["--perms", "0755", "--dir", parent]
    return argv + [kind, src, dest]


def bwrap_argv(cfg: dict, connection_file: str, config_path: str) -> list[str]:
    """Return the bwrap command line that runs the launcher in a sandbox (see autograder/README.md)."""
    argv = [BWRAP, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "grader",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    covers = [INSIDE_TMP]
    for path in cfg["hide"]:  # invisible: course root, workspace, submissions, home folders
        if os.path.isdir(path):
            argv += ["--tmpfs", path]
            covers.append(path)
    made: set = set()
    for path in ("/etc/shadow", "/etc/gshadow"):
        if os.path.exists(path):
            argv += ["--ro-bind", "/dev/null", path]
    argv += ["--ro-bind", cfg["passwd"], "/etc/passwd", "--ro-bind", cfg["group"], "/etc/group"]
    argv += ["--size", str(cfg["limits"]["tmp_size"]), "--perms", "1777", "--tmpfs", INSIDE_TMP]
    for path in cfg["read_only"]:  # the venv, Python, the course package, the data mirror and cache
        if os.path.exists(path):
            argv += _bind("--ro-bind", path, path, covers, made)
    argv += _bind("--bind", cfg["run_dir"], cfg["run_dir"], covers, made)  # connection file, ipc sockets
    argv += _bind("--ro-bind", cfg["conf_dir"], cfg["conf_dir"], covers, made)  # this configuration
    if cfg.get("host_mpl_cache") and os.path.isdir(cfg["host_mpl_cache"]):
        argv += ["--ro-bind", cfg["host_mpl_cache"], INSIDE_MPL]
    argv += ["--ro-bind", cfg["host_input_dir"], INSIDE_INPUT,
             "--ro-bind", str(LAUNCHER), INSIDE_LAUNCHER,
             "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--chdir", INSIDE_TMP,
             cfg["python"], INSIDE_LAUNCHER, config_path, connection_file]
    return argv


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
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
