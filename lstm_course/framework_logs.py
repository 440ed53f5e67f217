"""Recognise the log lines that TensorFlow, XLA and absl write to stderr from C++.

`TF_CPP_MIN_LOG_LEVEL=3` silences most of them, but not the ones written before absl's logging
is initialised (e.g. ``I0000 00:00:... cudart_stub.cc:31] Could not find cuda drivers ...`` and
``WARNING: All log messages before absl::InitializeLog() is called are written to STDERR``).
A kernel captures them like any other output of the process, so they land in executed notebooks.
The autograder removes them from the feedback students read (the book drops all stderr output
instead, and tests/test_site.py checks its pages). Everything else a notebook writes to stderr,
a student's own warnings for instance, is kept.
"""

from __future__ import annotations

import re

# glog/absl prefix: severity letter, MMDD, time, thread id, file:line]
_GLOG = r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]"
LOG_LINE = re.compile(
    rf"^(?:{_GLOG}.*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|.*\bThis TensorFlow binary is optimized to use available CPU instructions\b.*"
    r"|.*\boneDNN custom operations are on\b.*"
    r"|.*\bTo enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)$"
)


def is_log_line(line: str) -> bool:
    """True for one line (without its newline) that a framework's C++ logging wrote."""
    return bool(LOG_LINE.match(line.rstrip("\r\n")))


def strip_log_lines(text: str) -> str:
    """`text` without the framework log lines (other lines and their line ends unchanged)."""
    return "".join(line for line in text.splitlines(keepends=True) if not is_log_line(line))


def strip_notebook_logs(nb) -> int:
    """Remove framework log lines from the stderr stream outputs of a notebook (nbformat node or
    plain dict), in place; stream outputs left empty are dropped. Returns the number of lines removed."""
    removed = 0
    for cell in nb.get("cells", []):
        outputs = cell.get("outputs")
        if not outputs:
            continue
        kept = []
        for out in outputs:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = out.get("text", "")
                text = "".join(text) if isinstance(text, list) else text
                clean = strip_log_lines(text)
                removed += len(text.splitlines()) - len(clean.splitlines())
                if not clean:
                    continue
                out["text"] = clean
            kept.append(out)
        cell["outputs"] = kept
    return removed
