"""Shared bookkeeping of the full-run benchmarks: clocks, machine load, machine description, result files."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = ROOT / "benchmarks" / "output"  # git-ignored: --quick runs write here

LOAD_NOTE = (
    "The machine (2 cores) was shared with other people's jobs while this ran: wall-clock times are "
    "inflated by the sharing. cpu_seconds is the CPU time of this process (all its threads, "
    "time.process_time); loadavg is os.getloadavg() (1, 5, 15 min) sampled during the run."
)


class Clock:
    """Wall time and process CPU time since start, plus load-average samples."""

    def __init__(self) -> None:
        self.wall0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.loads: list[list[float]] = []
        self.sample_load()

    def wall(self) -> float:
        return time.perf_counter() - self.wall0

    def cpu(self) -> float:
        return time.process_time() - self.cpu0

    def sample_load(self) -> list[float]:
        load = [round(x, 2) for x in os.getloadavg()]
        self.loads.append(load)
        return load

    def summary(self) -> dict[str, Any]:
        one_minute = [load[0] for load in self.loads]
        return {
            "wall_seconds": round(self.wall(), 1),
            "cpu_seconds": round(self.cpu(), 1),
            "loadavg_samples": self.loads,
            "loadavg_1min_mean": round(sum(one_minute) / len(one_minute), 2),
        }


def machine() -> dict[str, Any]:
    """CPU model, core count, OS and Python of this machine."""
    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                            "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return info


def command_line() -> str:
    """The command that reproduces this run, from the repo root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script_name = str(script.relative_to(ROOT))
    except ValueError:
        script_name = str(script)
    return "python " + " ".join(shlex.quote(a) for a in [script_name, *sys.argv[1:]])


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def save_record(path: Path, key: str, record: dict[str, Any], header: dict[str, Any]) -> None:
    """Store `record` under runs[key] of the JSON file at `path` (other runs are kept), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            data = {}
    data.update(header)
    record.setdefault("nice", os.nice(0))  # the scheduling niceness the run had (nice -n 10 on a shared machine)
    data.setdefault("runs", {})[key] = record
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def print_table(rows: list[dict[str, Any]], columns: list[tuple[str, ...]]) -> None:
    """Print rows as an aligned text table; columns are (key, header) or (key, header, format spec)."""
    cells = [[c[1] for c in columns]]
    cells += [[_fmt(r.get(c[0], ""), c[2] if len(c) > 2 else None) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(row, widths)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: Any, spec: str | None = None) -> str:
    if spec is not None and isinstance(value, (int, float)):
        return format(value, spec)
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
