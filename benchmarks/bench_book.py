"""Time the book build: clean build, rebuild without changes, and each chapter's execution time.

Goals (2 cores): clean build <= 15 min, rebuild without changes <= 30 s.

    .venv/bin/python benchmarks/bench_book.py                 # clean build of HEAD in a temp copy
    .venv/bin/python benchmarks/bench_book.py --working-tree  # ... of the work tree as it is
    .venv/bin/python benchmarks/bench_book.py --in-place      # no clean build: rebuild the repo's
                                                              # own _build and read its cache
    .venv/bin/python benchmarks/bench_book.py --toc my_toc.yml   # a subset of the pages

The copy gets the local MathJax (.book_cache/html_extra) of the repository when it has one, so the
build needs no network; otherwise book_tools/fetch_mathjax.sh runs first (timed apart). Chapter
times come from the jupyter-cache of the build (_build/.jupyter_cache): the execution time
myst-nb recorded for the latest cached run of each chapter.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_CLEAN_S = 15 * 60
GOAL_REBUILD_S = 30
BUILD_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONHASHSEED": "0"}
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "_build", ".book_cache", "node_modules",
                                     "__pycache__", ".pytest_cache", ".hypothesis", "*.egg-info")


def jupyter_book() -> str:
    local = Path(sys.executable).with_name("jupyter-book")
    return str(local) if local.exists() else "jupyter-book"


def copy_repository(source: Path, target: Path, working_tree: bool) -> None:
    """A fresh copy of the repository: HEAD (git archive) or the work tree as it is."""
    if working_tree:
        shutil.copytree(source, target, ignore=COPY_IGNORE, symlinks=True)
    else:
        archive = subprocess.run(["git", "-C", str(source), "archive", "--format=tar", "HEAD"],
                                 capture_output=True, check=True).stdout
        target.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    mathjax = source / ".book_cache" / "html_extra"
    if mathjax.is_dir():
        shutil.copytree(mathjax, target / ".book_cache" / "html_extra")


def build(book: Path, toc: Path | None, log: Path) -> tuple[float, int]:
    """Run the strict build once; return (seconds, exit code). Output goes to `log`."""
    command = [jupyter_book(), "build", str(book), "-W", "-n", "--keep-going"]
    if toc is not None:
        command += ["--toc", str(toc)]
    env = {**os.environ, **BUILD_ENV}
    default_data = ROOT.parent / "shared" / "data"
    if "LSTM_COURSE_DATA" not in env and default_data.is_dir():
        env["LSTM_COURSE_DATA"] = str(default_data)
    start = time.perf_counter()
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(command)}\n".encode())
        out.flush()
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env).returncode
    return time.perf_counter() - start, code


def chapter_times(book: Path) -> dict[str, float | None]:
    """{chapter path: execution seconds} of the latest cached execution of each chapter."""
    from jupyter_cache import get_cache

    cache_dir = book / "_build" / ".jupyter_cache"
    if not cache_dir.is_dir():
        return {}
    latest: dict[str, tuple] = {}
    for record in get_cache(cache_dir).list_cache_records():
        uri = Path(record.uri)
        name = uri.relative_to(book).as_posix() if uri.is_relative_to(book) else record.uri
        if name not in latest or record.created > latest[name][0]:
            latest[name] = (record.created, (record.data or {}).get("execution_seconds"))
    return {name: seconds for name, (_, seconds) in sorted(latest.items())}


def verdict(seconds: float, goal: float) -> str:
    return "ok" if seconds <= goal else f"OVER the goal of {goal:.0f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--working-tree", action="store_true", help="copy the work tree, not HEAD")
    where.add_argument("--in-place", action="store_true",
                       help="skip the clean build; time a rebuild of the repository's own _build")
    parser.add_argument("--toc", type=Path, help="alternative _toc.yml (a subset of the pages)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args(argv)
    toc = args.toc.resolve() if args.toc else None

    tmp = None
    if args.in_place:
        book = ROOT
        log = ROOT / "_build" / "bench_book.log"
        log.parent.mkdir(exist_ok=True)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="lstm-book-bench-"))
        book = tmp / "book"
        copy_repository(ROOT, book, args.working_tree)
        log = tmp / "build.log"
        print(f"copy of {'the work tree' if args.working_tree else 'HEAD'} in {book}; log {log}")
        if not (book / ".book_cache" / "html_extra").is_dir():
            start = time.perf_counter()
            subprocess.run(["bash", str(book / "book_tools" / "fetch_mathjax.sh")], check=True)
            print(f"MathJax fetch (npm):       {time.perf_counter() - start:8.1f} s")

    failed = False
    if not args.in_place:
        seconds, code = build(book, toc, log)
        failed |= code != 0
        print(f"clean build:               {seconds:8.1f} s  exit {code}  {verdict(seconds, GOAL_CLEAN_S)}")
    seconds, code = build(book, toc, log)
    failed |= code != 0
    print(f"rebuild without changes:   {seconds:8.1f} s  exit {code}  {verdict(seconds, GOAL_REBUILD_S)}")

    times = chapter_times(book)
    print("chapter execution (latest cached run):")
    for name, secs in times.items():
        print(f"  {name:<40} {'?' if secs is None else f'{secs:8.1f} s'}")
    if times:
        total = sum(s for s in times.values() if s is not None)
        print(f"  {'total':<40} {total:8.1f} s")
    if failed:
        print(f"a build failed: see {log}")
    if tmp is not None and not args.keep and not failed:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
