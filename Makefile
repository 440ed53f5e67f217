# Two commands do all the set-up on a fresh machine:
#   make book   build the website into _build/html (creates/refreshes .venv first)
#   make test   build the book, then run the whole test suite
# Everything runs inside the project's virtual environment .venv, which is
# (re)created from requirements.txt whenever that file or pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed
PYTEST_ARGS ?=

# Quiet TensorFlow: its C++ log lines would otherwise end up in the pages.
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
# nbgrader runs `alembic` as a program: the environment's bin must be on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv book test test-fast clean-book grade exercises

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

book: venv
	book_tools/fetch_mathjax.sh
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The website is in $(CURDIR)/_build/html/index.html"

test: book
	$(BIN)/python -m pytest --durations=25 $(PYTEST_ARGS)

# The quick loop while developing: no book build, no slow or browser tests.
test-fast: venv
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

clean-book:
	$(BIN)/jupyter-book clean . --all

# Grade a folder or zip of submissions: make grade A=lstm_vs_gru S=submissions.zip [WORKERS=2]
WORKERS ?= 2
grade: venv
	@test -n "$(A)" -a -n "$(S)" || { echo "usage: make grade A=<assignment> S=<submissions folder or zip> [WORKERS=2]"; exit 2; }
	$(BIN)/python -m autograder $(A) $(S) --workers $(WORKERS)

# Regenerate the student versions in exercises/ from solutions/ (commit both).
ASSIGNMENTS := lstm_vs_gru imdb_sentiment char_generation lstm_cell
exercises: venv
	cd autograder && for a in $(ASSIGNMENTS); do ../$(BIN)/nbgrader generate_assignment $$a --force --no-db || exit 1; done
