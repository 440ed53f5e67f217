#!/usr/bin/env bash
# Gradescope runs this once while it builds the autograder's image (Ubuntu, as root, with network):
# bubblewrap for the sandbox, a Python venv OUTSIDE /autograder/source (the sandbox shows the venv to the
# kernels, never the source, which holds the solutions and hidden tests), the course's packages installed into
# it (not editable), and the data the assignment declares, fetched into a cache the kernels read.
set -euo pipefail
ROOT="${AUTOGRADER_GRADESCOPE_ROOT:-/autograder}"
SOURCE="$ROOT/source"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap python3 python3-venv
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --no-cache-dir -r "$SOURCE/requirements-gradescope.txt"
"$ROOT/venv/bin/pip" install --no-cache-dir --no-deps "$SOURCE"
export LSTM_COURSE_CACHE="$ROOT/cache"
ASSIGNMENT="$("$ROOT/venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["assignment"])' \
  "$SOURCE/gradescope.json")"
cd "$SOURCE"
"$ROOT/venv/bin/python" - "$ASSIGNMENT" <<'PY'
import sys
from pathlib import Path
from autograder.template import load_template
from lstm_course.download import warm_cache
data = load_template(Path.cwd(), sys.argv[1]).data
if data:
    warm_cache(data, progress=True)
PY
chmod -R go-rwx "$SOURCE"   # root only: solutions and hidden tests (the grader runs as root, kernels do not)
chmod -R go+rX "$ROOT/venv" "$ROOT/cache" 2>/dev/null || true
