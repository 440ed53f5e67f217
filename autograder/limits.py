"""Size and cell-count limits checked on a notebook file BEFORE nbformat parses it (outcome `too_large`)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path


class NotebookTooLarge(ValueError):
    """A notebook file over Limits.max_notebook_bytes or with more than Limits.max_cells cells."""


def check_notebook_file(path: Path, limits) -> None:
    """Raise NotebookTooLarge if the file at `path` is over the limits; return None otherwise.

    The size comes from lstat (no read, no link followed); only a file under the size cap is read and parsed
    with the plain json module (bounded by that cap) to count its cells. A file that is not valid JSON or has
    no list of cells passes: nbformat reports it as corrupt afterwards.
    """
    max_bytes = int(getattr(limits, "max_notebook_bytes", 20 * 2**20))
    max_cells = int(getattr(limits, "max_cells", 2000))
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotebookTooLarge(f"{Path(path).name} is not a regular file")
    if info.st_size > max_bytes:
        raise NotebookTooLarge(f"the notebook is {info.st_size / 2**20:.1f} MB, over the limit of "
                               f"{max_bytes / 2**20:g} MB (not parsed)")
    with open(path, "rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:  # grew after lstat
        raise NotebookTooLarge(f"the notebook is over the limit of {max_bytes / 2**20:g} MB (not parsed)")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):  # nbformat 3 keeps cells in worksheets
        worksheets = data.get("worksheets") if isinstance(data, dict) else None
        if isinstance(worksheets, list):
            cells = [c for w in worksheets if isinstance(w, dict) and isinstance(w.get("cells"), list)
                     for c in w["cells"]]
    if isinstance(cells, list) and len(cells) > max_cells:
        raise NotebookTooLarge(f"the notebook has {len(cells)} cells, over the limit of {max_cells} (not parsed)")
    return None
