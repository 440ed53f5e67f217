"""Start one grading kernel: copy the student's files, apply resource limits, drop privileges, exec ipykernel.

Runs as a standalone script (standard library only), inside the bubblewrap sandbox or, with --unsafe, directly.
Usage: python _launcher.py CONFIG_JSON CONNECTION_FILE
"""

import json
import os
import resource
import shutil
import sys


def _copy_inputs(src: str, dst: str, uid: int | None) -> None:
    os.makedirs(dst, exist_ok=True)
    if os.path.isdir(src):
        shutil.copytree(src, dst, dirs_exist_ok=True, symlinks=False)
    if uid is not None:
        for root, dirs, files in os.walk(dst):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), uid, uid)
        os.chown(dst, uid, uid)


def _set_limits(limits: dict) -> None:
    pairs = {
        resource.RLIMIT_AS: limits["address_space"],
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_size"],
        resource.RLIMIT_NPROC: limits["max_tasks"],
        resource.RLIMIT_CORE: 0,
    }
    for which, value in pairs.items():
        if value:
            resource.setrlimit(which, (value, value))


def main() -> None:
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    connection_file = sys.argv[2]
    uid = cfg.get("uid")
    for folder in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
        if folder in cfg["env"]:
            os.makedirs(cfg["env"][folder], exist_ok=True)
            if uid is not None:
                os.chown(cfg["env"][folder], uid, uid)
    _copy_inputs(cfg["input_dir"], cfg["work_dir"], uid)
    if cfg.get("mpl_cache") and os.path.isdir(cfg["mpl_cache"]) and "MPLCONFIGDIR" in cfg["env"]:
        _copy_inputs(cfg["mpl_cache"], cfg["env"]["MPLCONFIGDIR"], uid)  # no font-cache rebuild per kernel
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)  # real, effective and saved uid: no capability survives
    _set_limits(cfg["limits"])
    os.chdir(cfg["work_dir"])
    env = dict(cfg["env"])
    env.pop("JPY_PARENT_PID", None)  # the parent is invisible in the PID namespace: the kernel would exit
    python = cfg["python"]
    os.execve(python, [python, "-m", "ipykernel_launcher", "-f", connection_file], env)


if __name__ == "__main__":
    main()
