"""The grader's guard inside the kernel: snapshot of the grading machinery at start, restored before each test.

:data:`GUARD_SOURCE` is executed silently in the fresh kernel before any student code. It creates the module
``_ag_guard`` with ``snapshot_names``/``capture_names`` (names bound by locked cells), ``restore(nonce)`` (called
from a user expression, so IPython's input transformers never see it) and ``done(nonce)`` (the sentinel printed at
the end of every grade cell). Everything runs in the student's process: see README "Limits".
"""

GUARD_SOURCE = r'''
def _ag_install(trusted, reloaded):
    import builtins, importlib, json, sys, threading, types
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    mod = types.ModuleType("_ag_guard")
    modules = {}
    for name in trusted:
        try:
            modules[name] = importlib.import_module(name)
        except Exception:
            pass
    snap = {
        "builtins": dict(builtins.__dict__),
        "modules": {n: (m, dict(m.__dict__)) for n, m in modules.items()},
        "sys": {k: getattr(sys, k) for k in ("excepthook", "displayhook", "stdout", "stderr", "exit",
                                              "meta_path", "path_hooks") if hasattr(sys, k)},
        "meta_path": list(sys.meta_path), "path_hooks": list(sys.path_hooks), "path": list(sys.path),
        "shell_cls": {k: v for k, v in vars(type(shell)).items() if callable(v)},
        "shell_mro": [(c, dict(vars(c))) for c in type(shell).__mro__ if c.__module__.startswith("IPython")],
        "kernel_cls": [(c, dict(vars(c))) for c in type(kernel).__mro__
                       if c.__module__.startswith("ipykernel")] if kernel else [],
        "transformers": {k: list(getattr(shell, k)) for k in ("input_transformers_cleanup",
                         "input_transformers_post", "ast_transformers") if hasattr(shell, k)},
        "events": {k: list(v) for k, v in shell.events.callbacks.items()},
        "xmode": shell.InteractiveTB.mode,
        "user_ns_builtins": shell.user_ns.get("__builtins__"),
        "locked": {},
    }
    print_ = builtins.print
    stdout = sys.stdout
    fire_keep = ("matplotlib", "matplotlib_inline", "ipykernel", "IPython", "ipywidgets", "comm")
    risky = {"AssertionError", "Exception", "BaseException", "isinstance", "issubclass", "len", "abs", "all",
             "any", "round", "float", "int", "bool", "str", "repr", "print", "type", "getattr", "hasattr",
             "sorted", "zip", "range", "tuple", "list", "dict", "set", "callable", "exit", "quit",
             "ValueError", "TypeError", "NotImplementedError", "KeyError", "IndexError", "RuntimeError"}
    marks = {}

    def mark():
        marks.clear()
        marks.update({k: id(v) for k, v in shell.user_ns.items()})
        return "ok"

    def capture():
        for k, v in shell.user_ns.items():
            if k.startswith("_"):
                continue
            if marks.get(k) != id(v) and (isinstance(v, (types.ModuleType, type, types.FunctionType,
                                                         types.BuiltinFunctionType)) or callable(v)):
                snap["locked"][k] = v
        return "ok"

    def calibrate():
        # the values ipykernel uses while evaluating user expressions (input(), hooks swapped per request)
        snap["builtins"] = dict(builtins.__dict__)
        snap["sys"] = {k: getattr(sys, k) for k in snap["sys"]}
        snap["shell_inst"] = {k: v for k, v in vars(shell).items() if callable(v)}
        snap["kernel_inst"] = {k: v for k, v in vars(kernel).items() if callable(v)} if kernel else {}
        snap["ns_builtins"] = {k: v for k, v in shell.user_ns.items() if k in snap["builtins"]}
        return "ok"

    def ours(v):
        return getattr(v, "__self__", None) is not None and getattr(v, "__self__") in (shell, kernel)

    def restore(nonce):
        found = []
        # builtins: reset every original name, drop nothing the student added
        bdict = builtins.__dict__
        for k, v in snap["builtins"].items():
            cur = bdict.get(k, None)
            if k in ("input", "raw_input", "get_ipython", "getpass", "display"):
                continue  # swapped by ipykernel around each request
            if cur is not v and not (ours(cur) and ours(v)):
                bdict[k] = v
                found.append(f"builtins.{k}")
        if shell.user_ns.get("__builtins__") is not snap["user_ns_builtins"]:
            shell.user_ns["__builtins__"] = snap["user_ns_builtins"]
            found.append("__builtins__")
        # sys hooks and streams
        for k, v in snap["sys"].items():
            if getattr(sys, k, None) is not v:
                setattr(sys, k, v)
                if k not in ("stdout", "stderr"):
                    found.append(f"sys.{k}")
                else:
                    found.append(f"sys.{k} (redirected)")
        sys.meta_path[:] = snap["meta_path"]
        sys.path_hooks[:] = snap["path_hooks"]
        if sys.gettrace() is not None:
            sys.settrace(None); found.append("sys.settrace")
        if sys.getprofile() is not None:
            sys.setprofile(None); found.append("sys.setprofile")
        threading.settrace(None)
        # IPython: instance overrides and class attributes (showtraceback, run_cell, ...)
        for obj, inst, mro in ((shell, snap["shell_inst"], snap["shell_mro"]),
                               (kernel, snap["kernel_inst"], snap["kernel_cls"])):
            if obj is None:
                continue
            for k in list(vars(obj)):
                v = vars(obj)[k]
                if k in inst and v is inst[k]:
                    continue
                if callable(v) and (k in inst or any(k in d for _, d in mro)):
                    if k in inst:
                        obj.__dict__[k] = inst[k]
                    else:
                        del obj.__dict__[k]
                    found.append(f"{type(obj).__name__}.{k}")
        for cls, saved in snap["shell_mro"] + snap["kernel_cls"]:
            for k, v in saved.items():
                if vars(cls).get(k, None) is not v:
                    try:
                        setattr(cls, k, v); found.append(f"{cls.__name__}.{k}")
                    except (TypeError, AttributeError):
                        pass
        for k, saved in snap["transformers"].items():
            current = getattr(shell, k)
            if current != saved:
                current[:] = saved; found.append(f"shell.{k}")
        for k, saved in snap["events"].items():
            current = shell.events.callbacks.get(k, [])
            extra = [f for f in current if f not in saved and
                     not str(getattr(f, "__module__", "") or "").startswith(fire_keep)]
            for f in extra:
                current.remove(f)
            if extra:
                found.append(f"events.{k}")
        if shell.InteractiveTB.mode != snap["xmode"]:
            shell.InteractiveTB.set_mode(snap["xmode"]); found.append("%xmode")
        # trusted modules: monkeypatched attributes back; our checking helpers reloaded from disk
        for name, (m, saved) in snap["modules"].items():
            if sys.modules.get(name) is not m:
                sys.modules[name] = m; found.append(f"sys.modules[{name!r}]")
            d = m.__dict__
            for k, v in saved.items():
                if d.get(k, None) is not v:
                    d[k] = v; found.append(f"{name}.{k}")
        for name in reloaded:
            m = sys.modules.get(name)
            if m is None:
                continue
            old = {id(v): k for k, v in m.__dict__.items()}
            importlib.reload(m)
            if name in snap["modules"]:
                snap["modules"][name] = (m, dict(m.__dict__))
            for k, v in list(shell.user_ns.items()):
                if id(v) in old and (k in snap["locked"] or not k.startswith("_")):
                    attr = old[id(v)]
                    if attr in m.__dict__ and isinstance(v, (types.FunctionType, type)):
                        shell.user_ns[k] = m.__dict__[attr]
                        if k in snap["locked"]:
                            snap["locked"][k] = m.__dict__[attr]
        # names bound by locked cells (imports, helpers) and names shadowing builtins
        for k, v in snap["locked"].items():
            if shell.user_ns.get(k, None) is not v:
                shell.user_ns[k] = v; found.append(f"name {k!r} of a locked cell")
        for k in list(shell.user_ns):
            if k in risky and k in snap["builtins"] and k not in snap["locked"] \
                    and snap.get("ns_builtins", {}).get(k, None) is not shell.user_ns[k]:
                del shell.user_ns[k]; found.append(f"name {k!r} shadowing a builtin")
        return json.dumps({"nonce": nonce, "found": found})

    def done(nonce):
        stdout.write(f"\n{nonce}\n")
        stdout.flush()

    mod.mark, mod.capture, mod.restore, mod.done, mod.calibrate = mark, capture, restore, done, calibrate
    sys.modules["_ag_guard"] = mod

_ag_install(TRUSTED, RELOADED)
del _ag_install
'''


def guard_source(trusted: tuple[str, ...], reloaded: tuple[str, ...]) -> str:
    """Return the code that installs the guard, for the given trusted and reloaded modules."""
    return GUARD_SOURCE.replace("TRUSTED", repr(tuple(trusted))).replace("RELOADED", repr(tuple(reloaded)))


def restore_expression(nonce: str) -> str:
    """The user expression that restores the machinery before a grade cell (evaluated without transformers)."""
    return f"__import__('sys').modules['_ag_guard'].restore({nonce!r})"


def sentinel_line(nonce: str) -> str:
    """The line appended to a grade cell: printed only when execution reaches the end of the cell."""
    return f"\n__import__('sys').modules['_ag_guard'].done({nonce!r})"
