"""Deny-by-default sandbox and output caps, attacked in ONE sandboxed batch (2 workers) next to two honest students.

Copies of solutions/ with a unique secret each are planted where a careless sandbox would show them (the host's
/tmp, /opt, /srv, /mnt, /var/tmp, $HOME, a sibling of the repository); hostile notebooks look for them, list the
file system, read the repository, other students' files and other processes, and flood the output with errors,
display metadata, updates and raw iopub messages. For each case: the batch finishes, honest grades are unchanged,
nothing outside the expected outputs changes, no secret reaches any file the grader writes, and the attacker gets
0 or its named outcome. A "steal" that DOES find a solutions notebook (one the student submitted themselves) scores
full marks: the zero scores below are the sandbox's doing, not a broken attack.
The trusted checker's command line (sandbox.checker_argv) is attacked the same way at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest

import autograder_toy as toy
from autograder import grade_submissions, sandbox
from autograder.sandbox import probe
from autograder.settings import COURSE_ROOT, Limits
from test_adversarial import WRONG, tree_hash

pytestmark = pytest.mark.skipif(probe() is not None, reason=f"no bubblewrap sandbox: {probe()}")

TAG = uuid.uuid4().hex[:10]
#: Where copies of the course's solutions are planted on the host (a place -> its folder).
PLANT_PARENTS = {"tmp": Path("/tmp"), "opt": Path("/opt"), "srv": Path("/srv"), "mnt": Path("/mnt"),
                 "var_tmp": Path("/var/tmp"), "home": Path.home(), "sibling": COURSE_ROOT.parent}
GRADER_ENV_SECRET = f"GRADER-ENV-SECRET-{TAG}"
LIMITS = Limits(cell_timeout=30, notebook_timeout=120, interrupt_grace=3, address_space=2 * 2**30,
                tmp_size=64 * 2**20, file_size=16 * 2**20, output_hard_cap=4 * 2**20, max_tasks=128)
ANSWER_IDS = ("add_answer", "count_answer", "greet_answer")


def secret(place: str) -> str:
    return f"PLANTED-SECRET-{place}-{TAG}"


#: Reads every path given, prints what it could read when it holds a planted secret (exfiltration: the leak test
#: catches it), and runs the solution cells of any notebook it read (an attack that works scores 6/6).
STEAL = '''
import glob, json, os
def _steal(paths):
    got = 0
    for p in paths:
        for q in sorted(glob.glob(p)) or [p]:
            try:
                text = open(q, errors="replace").read()
            except Exception as e:
                print("denied", q, type(e).__name__)
                continue
            print("READ", q, len(text), text if "PLANTED-SECRET" in text else "")
            try:
                cells = json.loads(text)["cells"]
            except Exception:
                continue
            for c in cells:
                src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                if "BEGIN SOLUTION" in src:
                    exec(src, globals())
                    got += 1
    print("STOLEN", got)
'''


def steal(*paths) -> str:
    """Answer cells that each try to read `paths` (globs) and run the solutions found there."""
    return STEAL + f"_steal({list(map(str, paths))!r})"


def cases(course: Path, sub: Path, ws: Path, plants: dict, unix_sock: Path) -> dict:
    """student -> (notebook or (nb, extra files), expected outcomes, expected score)."""
    def hostile(code, answers=WRONG, where="setup"):
        return toy.submission(course, answers, after={where: code})

    def stealer(*paths):
        return toy.submission(course, {gid: steal(*paths) for gid in ANSWER_IDS})

    planted = {place: f"{folder}/solutions/toy/toy.ipynb" for place, folder in plants.items()}
    too_large = {"output_too_large"}
    out = {
        # -------- copies of solutions/ planted elsewhere on the host (each with its own secret)
        **{f"planted_{place}": (stealer(path, f"{plants[place]}/secret.txt"), {"graded"})
           for place, path in planted.items()},
        "planted_glob": (stealer("/tmp/ag-plant-*/solutions/*/*.ipynb", "/opt/*/solutions/*/*.ipynb",
                                 "/srv/*/solutions/*/*.ipynb", "/mnt/*/solutions/*/*.ipynb",
                                 "/var/tmp/*/solutions/*/*.ipynb", f"{COURSE_ROOT.parent}/*/solutions/*/*.ipynb",
                                 "/home/*/*/solutions/*/*.ipynb", "/root/*/solutions/*/*.ipynb"), {"graded"}),
        "planted_walk": (toy.submission(course, {gid: STEAL + (
            "import os, sys\nfound = []\nfor top in ('/tmp', '/opt', '/srv', '/mnt', '/media', '/var', '/home', "
            "'/root', '/work', '/etc'):\n"
            "    for d, dirs, files in os.walk(top):\n"
            "        dirs[:] = [x for x in dirs if not os.path.join(d, x).startswith((sys.prefix, sys.base_prefix))]\n"
            "        found += [os.path.join(d, f) for f in files if f.endswith(('.ipynb', '.txt'))]\n"
            "_steal(found)") for gid in ANSWER_IDS}), {"graded"}),
        "planted_proc_root": (stealer(*[f"/proc/{pid}/root{path}" for pid in ("1", "self", "2")
                                        for path in (planted["opt"], planted["tmp"])],
                                      f"/proc/1/cwd/../..{planted['sibling']}"), {"graded"}),
        "write_planted": (hostile("for p in " + repr([f"{folder}/solutions/toy/evil.txt" for folder in plants.values()])
                                  + ":\n    try:\n        open(p, 'a').write('PWNED')\n        print('wrote', p)\n"
                                  "    except Exception as e:\n        print(p, type(e).__name__)"), {"graded"}),
        # -------- what is visible at all
        "list_root": (hostile("import os, sys\nprint('ROOT', sorted(os.listdir('/')))\n"
                              "skip = ('/usr', '/proc', '/sys', '/dev', sys.prefix, sys.base_prefix)\n"
                              "for d, dirs, files in os.walk('/'):\n"
                              "    dirs[:] = [x for x in dirs if not os.path.join(d, x).startswith(skip)]\n"
                              "    print('SEEN', d, sorted(files)[:20])"), {"graded"}),
        # -------- the repository (where the venv and the editable lstm_course live) and the toy course
        "repo_solutions": (stealer(f"{COURSE_ROOT}/solutions/*/*.ipynb", f"{COURSE_ROOT}/solutions/*/*.py",
                                   f"{COURSE_ROOT}/README.md", f"{COURSE_ROOT}/.git/config",
                                   f"{course}/solutions/toy/toy.ipynb", "../../solutions/toy/toy.ipynb"), {"graded"}),
        "repo_via_package": (toy.submission(course, {gid: STEAL + (
            "import os, sys, lstm_course\nroots = [os.path.dirname(os.path.dirname(lstm_course.__file__)), "
            "os.path.dirname(sys.prefix)]\nfor f in __import__('glob').glob(sys.prefix + '/lib/*/site-packages/"
            "__editable__*finder.py'):\n    print('finder', f)\n"
            "print('REPO', [(r, sorted(os.listdir(r))) for r in roots])\n"
            "_steal([r + '/solutions/*/*.ipynb' for r in roots] + [r + '/autograder/workspace/*/*/*/*' "
            "for r in roots])") for gid in ANSWER_IDS}), {"graded"}),
        # -------- other students and the grader's workspace
        "other_students": (stealer(f"{sub}/alice/toy/toy.ipynb", f"{sub}/bob/toy/*", f"{ws}/submitted/*/toy/*",
                                   f"{ws}/autograded/*/toy/*", f"{ws}/results/toy/*.json", f"{ws}/run/*/*",
                                   f"{ws}/run/*/conf/sandbox.json", f"{ws}/gradebook.db", "/tmp/input/*",
                                   "/tmp/work/../../tmp/*/toy.ipynb"), {"graded"}),
        "other_kernels": (hostile("import glob, json\nfiles = glob.glob('/tmp/ag-*/kernel.json')\n"
                                  "print('CONNECTION FILES', len(files))\nfrom jupyter_client import "
                                  "BlockingKernelClient\nfor f in files:\n    c = BlockingKernelClient("
                                  "connection_file=f)\n    c.load_connection_file()\n    c.start_channels()\n"
                                  "    try:\n        c.execute(\"import os; open('/tmp/work/pwned','w')\")\n"
                                  "    finally:\n        c.stop_channels()"), {"graded"}),
        # -------- other processes (PID namespace) and the grader's environment
        "proc_environ": (hostile("import os\nfor p in ['1', '2', 'self']:\n    for f in ('environ', 'cmdline'):\n"
                                 "        try:\n            data = open(f'/proc/{p}/{f}', 'rb').read()\n"
                                 "            print(p, f, data.replace(b'\\0', b' ').decode(errors='replace'))\n"
                                 "        except Exception as e:\n            print(p, f, type(e).__name__)"),
                         {"graded"}),
        "proc_scan": (hostile("import os\npids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
                              "print('PIDS', pids)\nfor p in pids:\n    try:\n        print(p, open(f'/proc/{p}/comm')"
                              ".read().strip(), open(f'/proc/{p}/status').read().count('\\n'))\n"
                              "    except Exception as e:\n        print(p, type(e).__name__)\n"
                              "import signal\nfor p in range(2, 40000):\n    try:\n        os.kill(p, 0)\n"
                              "    except OSError:\n        pass"), {"graded"}),
        # -------- network, including a unix socket the test listens on in the host's /tmp
        "unix_socket": (hostile(f"import socket\ntry:\n    s = socket.socket(socket.AF_UNIX)\n    s.connect("
                                f"'{unix_sock}')\n    s.sendall(b'PWNED')\nexcept OSError as e:\n    print('no', e)\n"
                                "try:\n    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                                "    u.sendto(b'x', ('8.8.8.8', 53))\nexcept OSError as e:\n    print('no udp', e)"),
                        {"graded"}),
        # -------- output: every byte counts (hard cap 4 MB here, 100 kB kept per cell)
        "error_value_5mb": (hostile("raise ValueError('E' * 5_000_000)"), too_large),
        "error_loop": (hostile("for i in range(100):\n    try:\n        raise ValueError('E' * 5_000_000)\n"
                               "    except ValueError:\n        get_ipython().showtraceback()"), too_large),
        "error_notes": (hostile("for i in range(100):\n    try:\n        e = KeyError('k')\n"
                                "        e.add_note('N' * 2_000_000)\n        raise e\n    except KeyError:\n"
                                "        get_ipython().showtraceback()"), too_large),
        "display_metadata": (hostile("from IPython.display import publish_display_data\nfor i in range(100):\n"
                                     "    publish_display_data({'text/plain': 'x'}, metadata={'m': 'M' * 5_000_000})"),
                             too_large),
        "display_mimetypes": (hostile("from IPython.display import publish_display_data\nfor i in range(10):\n"
                                      "    publish_display_data({f'application/x-{j}': 'D' * 1_000_000 "
                                      "for j in range(8)})"), too_large),
        "display_transient": (hostile("from IPython.display import publish_display_data\nfor i in range(100):\n"
                                      "    publish_display_data({'text/plain': 'x'}, transient={'display_id': "
                                      "'T' * 5_000_000})"), too_large),
        "update_display": (hostile("from IPython.display import display, update_display\n"
                                   "display('x', display_id='a')\nfor i in range(100):\n"
                                   "    update_display({'text/plain': 'U' * 1_000_000}, raw=True, display_id='a')"),
                           too_large),
        "result_metadata": (hostile("class R:\n    def _repr_mimebundle_(self, include=None, exclude=None):\n"
                                    "        return {'text/plain': 'r'}, {'text/plain': {'m': 'M' * 5_000_000}}\nR()"),
                            too_large),
        "raw_comm_msgs": (hostile("ip = get_ipython()\nk = ip.kernel\nfor i in range(100):\n"
                                  "    k.session.send(k.iopub_socket, 'comm_msg', {'comm_id': 'c', 'data': "
                                  "{'d': 'C' * 1_000_000}}, parent=ip.parent_header)"), too_large),
        # under the hard cap but over the per-cell keep: graded, and the notebook written stays small
        "error_kept_small": (hostile("raise ValueError('E' * 600_000)"), {"graded"}),
        "metadata_kept_small": (hostile("from IPython.display import publish_display_data\nfor i in range(3):\n"
                                        "    publish_display_data({'text/plain': 'x'}, metadata={'m': 'M' * 600_000})"),
                                {"graded"}),
    }
    # the control: a solutions notebook the student hands in themselves is visible, so the steal works
    control = toy.submission(course, {gid: steal("/tmp/work/notes.json") for gid in ANSWER_IDS})
    notes = (toy.TOY / "solutions" / "toy" / "toy.ipynb").read_text().replace("### BEGIN SOLUTION", "# BEGIN SOLUTION")
    out["control_steal"] = ((control, {"notes.json": notes}), {"graded"}, 6)  # (no "###": the leak test's marker)
    return out


SMALL_NOTEBOOKS = ("error_kept_small", "metadata_kept_small")


def plant(folder: Path, place: str) -> None:
    """A copy of the toy course's solutions with the place's secret in a cell and in secret.txt."""
    shutil.copytree(toy.TOY / "solutions", folder / "solutions")
    nb_path = folder / "solutions" / "toy" / "toy.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f"# {secret(place)}"))
    nbformat.write(nb, str(nb_path))
    (folder / "secret.txt").write_text(secret(place))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial_sandbox")
    course = toy.make_course(root / "course")
    plants = {}
    for place, parent in PLANT_PARENTS.items():
        folder = parent / (f".ag-plant-{TAG}" if place in ("home", "sibling") else f"ag-plant-{TAG}")
        try:
            plant(folder, place)
            plants[place] = folder
        except OSError:  # a folder we may not write to here: that place is not tested
            shutil.rmtree(folder, ignore_errors=True)
    sock_dir = Path(f"/tmp/ag-plant-{TAG}")
    sock_dir.mkdir(exist_ok=True)
    unix_sock = sock_dir / "s"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(unix_sock))
    listener.listen(5)
    listener.setblocking(False)
    sub, ws = root / "submitted", root / "workspace"
    expected = {}
    toy.write_submitted(sub, "alice", toy.submission(course))
    toy.write_submitted(sub, "bob", toy.submission(course, toy.PARTIAL))
    for student, case in cases(course, sub, ws, plants, unix_sock).items():
        nb, extra = (case[0], {}) if not isinstance(case[0], tuple) else case[0]
        path = toy.write_submitted(sub, student, nb)
        for name, text in extra.items():
            (path.parent / name).write_text(text)
        expected[student] = (case[1], case[2] if len(case) > 2 else 0)
    before = {"course": tree_hash(course), "sub": tree_hash(sub),
              "plants": {place: tree_hash(folder) for place, folder in plants.items()}}
    os.environ["AG_TEST_GRADER_SECRET"] = GRADER_ENV_SECRET
    try:
        results = grade_submissions("toy", sub, workers=2, workspace=ws, course_root=course, limits=LIMITS)
        try:
            listener.accept()[0].close()
            accepted = True
        except BlockingIOError:
            accepted = False
        after = {"course": tree_hash(course), "sub": tree_hash(sub),
                 "plants": {place: tree_hash(folder) for place, folder in plants.items()}}
    finally:
        os.environ.pop("AG_TEST_GRADER_SECRET", None)
        listener.close()
        for folder in [*plants.values(), sock_dir]:
            shutil.rmtree(folder, ignore_errors=True)
    yield {r.student: r for r in results}, expected, before, after, ws, accepted, plants


def outputs_text(ws: Path, student: str) -> str:
    """Every output of the student's autograded notebook, as text."""
    nb = nbformat.read(str(ws / "autograded" / student / "toy" / "toy.ipynb"), as_version=4)
    return "\n".join(json.dumps(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_batch_grades_every_submission(batch):
    """Does the batch finish with one result per submission, every planted place included?"""
    results, expected, *_ = batch
    assert set(results) == set(expected) | {"alice", "bob"}
    assert {"tmp", "var_tmp", "sibling", "home"} <= set(batch[6]), batch[6]  # the places writable on any machine


def test_honest_grades_unchanged(batch):
    """Are the honest students graded exactly as alone?"""
    results = batch[0]
    assert (results["alice"].score, results["alice"].outcome) == (6, "graded")
    assert (results["bob"].score, results["bob"].outcome) == (3, "graded")


def test_hostile_outcomes(batch):
    """Does every hostile notebook get its outcome and no unearned point (the control steal: full marks)?"""
    results, expected = batch[0], batch[1]
    wrong = {s: (results[s].outcome, results[s].score, results[s].detail[:200]) for s, (outcomes, score)
             in expected.items() if results[s].outcome not in outcomes or results[s].score != score}
    assert wrong == {}


def test_nothing_outside_changed(batch):
    """Are the course, the submissions and every planted copy untouched, and the workspace free of stray files?"""
    _, _, before, after, ws, *_ = batch
    assert before == after
    allowed = ("results/", "feedback/", "autograded/", "submitted/", "jupyter/", "grades.csv", "gradebook.db",
               "instructor/")
    assert [p for p in tree_hash(ws) if not p.startswith(allowed)] == []


def test_no_secret_leaks(batch):
    """Does no file the grader wrote contain a planted secret, the grader's environment or a solution?"""
    ws, plants = batch[4], batch[6]
    secrets = [secret(place) for place in plants] + [GRADER_ENV_SECRET]
    for path in ws.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not [s for s in secrets if s in text], path
            assert "### BEGIN SOLUTION" not in text, path
            assert "root:x:0:0" not in text, path


def test_only_the_policy_is_visible(batch):
    """Does a kernel listing / see only the system folders, /tmp, /dev, /proc, /sys and the python/course paths?"""
    ws = batch[4]
    text = outputs_text(ws, "list_root")
    line = next(x for x in text.split("\\n") if "ROOT [" in x)
    top = set(json.loads(line.split("ROOT ", 1)[1].replace("'", '"')))
    needed = [*sandbox.interpreter_paths(), sandbox.course_package_path()]
    allowed = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "sys", "tmp"}
    allowed |= {Path(p).parts[1] for p in needed if len(Path(p).parts) > 1}
    assert top <= allowed, top - allowed
    for forbidden in ("opt", "srv", "mnt", "media", "var", "home", "boot"):
        assert forbidden not in top or forbidden in allowed
    assert "SEEN" in text and "solutions" not in text and "ag-plant" not in text
    assert str(COURSE_ROOT / "README.md") not in text and ".git" not in text


def test_repository_is_not_visible(batch):
    """Does a kernel see only .venv and lstm_course of the repository (where both live), nothing else of it?"""
    text = outputs_text(batch[4], "repo_via_package")
    assert "REPO" in text and "STOLEN 0" in text
    for name in ("solutions", "autograder", "README.md", "tests", "chapters", ".git"):
        assert f"'{name}'" not in text, name


def test_other_processes_are_not_visible(batch):
    """Does a kernel see only its own sandbox's processes, and no environment of the grader?"""
    text = outputs_text(batch[4], "proc_scan")
    line = next(x for x in text.split("\\n") if "PIDS [" in x)
    pids = json.loads(line.split("PIDS ", 1)[1])
    assert pids and max(pids) < 20 and len(pids) <= 6, pids
    assert GRADER_ENV_SECRET not in outputs_text(batch[4], "proc_environ")


def test_no_foreign_kernel_connection_file(batch):
    """Does a kernel find no other kernel's connection file (which would let it run code in another student's)?"""
    text = outputs_text(batch[4], "other_kernels")
    assert "CONNECTION FILES 0" in text or "CONNECTION FILES 1" in text  # none, or its own


def test_no_network(batch):
    """Could no kernel reach the unix socket the test listens on in the host's /tmp?"""
    assert batch[5] is False


def test_outputs_kept_small(batch):
    """Is an over-large error or metadata under the hard cap kept within the per-cell limit (the error as a stub)?"""
    ws = batch[4]
    for student in SMALL_NOTEBOOKS:
        path = ws / "autograded" / student / "toy" / "toy.ipynb"
        assert path.stat().st_size < 500_000, (student, path.stat().st_size)
    assert "ValueError" in outputs_text(ws, "error_kept_small")


def test_stopped_for_output_say_why(batch):
    """Do the output floods stop with output_too_large and a detail naming the cap?"""
    results = batch[0]
    for student, (outcomes, _) in batch[1].items():
        if outcomes == {"output_too_large"}:
            assert "more than" in results[student].detail, (student, results[student].detail)


# ---------------------------------------------------------------- the trusted checker's sandbox

@pytest.fixture(scope="module")
def planted_checker(tmp_path_factory):
    folders = []
    for parent in (Path("/tmp"), Path("/var/tmp"), Path.home(), COURSE_ROOT.parent, Path("/opt")):
        folder = parent / f".ag-checker-{TAG}"
        try:
            plant(folder, "checker")
            folders.append(folder)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
    yield folders
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def run_checker(code: str, read_only=(), stdin: str = "") -> subprocess.CompletedProcess:
    argv = sandbox.checker_argv(sys.executable, ["-c", code], read_only)
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120)


def test_checker_sees_only_its_inputs(planted_checker):
    """Can a process under checker_argv import the course package and autograder, read stdin, and nothing else?"""
    paths = [str(f / "solutions" / "toy" / "toy.ipynb") for f in planted_checker] + [
        str(COURSE_ROOT / "solutions"), str(COURSE_ROOT / "README.md"), str(COURSE_ROOT / ".git"),
        str(COURSE_ROOT / "autograder" / "workspace"), "/root", str(Path.home()), "/etc/shadow", "/etc/hostname"]
    code = ("import os, sys, json, lstm_course, autograder.settings\n"
            f"paths = {paths!r}\n"
            "seen = {p: sorted(os.listdir(p)) if os.path.isdir(p) else 'file' for p in paths if os.path.exists(p)}\n"
            "print(json.dumps({'seen': seen, 'stdin': sys.stdin.read(), 'root': sorted(os.listdir('/')),"
            " 'repo': sorted(os.listdir(autograder.settings.COURSE_ROOT)), 'uid': os.getuid(),"
            " 'env1': open('/proc/1/environ', 'rb').read().decode(errors='replace')}))")
    os.environ["AG_TEST_GRADER_SECRET"] = GRADER_ENV_SECRET
    try:
        res = run_checker(code, stdin="SOLUTIONS-ON-STDIN")
    finally:
        os.environ.pop("AG_TEST_GRADER_SECRET", None)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout)
    assert got["stdin"] == "SOLUTIONS-ON-STDIN"
    needed = [*sandbox.interpreter_paths(), sandbox.course_package_path()]
    for path, listing in got["seen"].items():  # at most the folders leading to the interpreter (/root/.pyenv ...)
        assert listing != "file", path
        lead = {Path(n).relative_to(path).parts[0] for n in needed if n.startswith(path.rstrip("/") + "/")}
        assert set(listing) <= lead, (path, listing)
    assert set(got["repo"]) <= {".venv", "lstm_course", "autograder"}, got["repo"]
    assert not {"opt", "srv", "mnt", "media", "var", "home"} & set(got["root"]), got["root"]
    assert GRADER_ENV_SECRET not in got["env1"] and "PATH" not in got["env1"]
    assert secret("checker") not in res.stdout


def test_checker_sees_only_package_files_of_autograder():
    """Is the autograder package shown as its Python files only (not workspace/, README, anything else)?"""
    res = run_checker("import os, autograder\nprint(sorted(os.listdir(os.path.dirname(autograder.__file__))))")
    assert res.returncode == 0, res.stderr[-2000:]
    names = eval(res.stdout)
    assert names and all(n.endswith(".py") for n in names), names


def test_checker_has_no_network():
    """Can a process under checker_argv reach a port the test listens on at 127.0.0.1? (no)"""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        res = run_checker(f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                          "    print('CONNECTED')\nexcept OSError as e:\n    print('refused', e)")
        try:
            listener.accept()[0].close()
            accepted = True
        except BlockingIOError:
            accepted = False
    finally:
        listener.close()
    assert res.returncode == 0, res.stderr[-2000:]
    assert "CONNECTED" not in res.stdout and not accepted


def test_checker_reads_named_folders_read_only(tmp_path):
    """Is a folder passed in read_only visible at its own path, and not writable?"""
    data = tmp_path / "cache"
    data.mkdir()
    (data / "x.txt").write_text("DATA")
    res = run_checker(f"print(open('{data}/x.txt').read())\ntry:\n    open('{data}/y.txt', 'w')\n"
                      "    print('WROTE')\nexcept OSError as e:\n    print('ro', e.errno)", read_only=[str(data)])
    assert res.returncode == 0, res.stderr[-2000:]
    assert "DATA" in res.stdout and "WROTE" not in res.stdout
    assert not (data / "y.txt").exists()


def test_policy_refuses_broad_folders():
    """Does bwrap_prefix refuse to show /, /home, /opt ... whole (deny by default cannot be undone by a caller)?"""
    for path in ("/", "/home", "/opt", "/var", "/work", "/root"):
        if os.path.exists(path):
            with pytest.raises(ValueError):
                sandbox.bwrap_prefix([path])
    argv = sandbox.bwrap_prefix([])
    assert "/" not in [argv[i + 1] for i, a in enumerate(argv) if a in ("--ro-bind", "--bind")]
