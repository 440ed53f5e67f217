# Two commands do all the set-up on a fresh machine:
#   make book   build the website into _build/html (creates/refreshes .venv first)
#   make pdf    the whole book as one PDF, _build/html/lstm-course.pdf (after the website, which links it)
#   make test   build the book and the PDF, then run the whole test suite
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

.PHONY: venv book pdf pdf-only test test-fast clean-book grade exercises

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

# The whole book as one PDF: Jupyter Book's LaTeX builder with XeLaTeX (Unicode in the outputs), TeX from
# the system packages in PDF_PACKAGES. It builds in _build/pdf, so that its Sphinx environment does not
# replace the website's, and reads the website's execution cache (_build/.jupyter_cache, linked in):
# nothing is re-executed. Any Sphinx warning, LaTeX error, missing glyph or unresolved reference fails it.
# The PDF lands beside the pages (the intro links it) and in $(PDF_DIR).
PDF_PACKAGES := latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-xetex fonts-freefont-otf poppler-utils
PDF_DIR  := _build/pdf/_build/latex
PDF_NAME := lstm-course
pdf: book
	@$(MAKE) --no-print-directory pdf-only

# the PDF alone, from the sources and the execution cache as they are (tests/test_pdf.py rebuilds with it)
pdf-only: venv
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null || { \
	  echo "make pdf needs TeX: apt-get install --no-install-recommends $(PDF_PACKAGES)"; exit 2; }
	@mkdir -p _build/pdf/_build
	@test -L _build/pdf/_build/.jupyter_cache || rm -rf _build/pdf/_build/.jupyter_cache
	ln -sfn ../../.jupyter_cache _build/pdf/_build/.jupyter_cache
	$(BIN)/jupyter-book build . --builder pdflatex --path-output _build/pdf -W -n --keep-going
	@! grep -nE '^! |Missing character|undefined references|(Reference|Citation|Hyper reference) .* undefined' \
	  $(PDF_DIR)/$(PDF_NAME).log || { echo "LaTeX errors or unresolved references: see $(PDF_DIR)/$(PDF_NAME).log"; exit 1; }
	@mkdir -p _build/html
	cp $(PDF_DIR)/$(PDF_NAME).pdf _build/html/$(PDF_NAME).pdf
	@echo "The PDF is $(CURDIR)/_build/html/$(PDF_NAME).pdf"

# the PDF before the tests: the site links it (tests/test_links.py) and tests/test_pdf.py reads it
test: book pdf
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
ASSIGNMENTS := lstm_vs_gru imdb_sentiment char_generation lstm_cell lstm_vs_gru_torch imdb_sentiment_torch char_generation_torch
exercises: venv
	cd autograder && for a in $(ASSIGNMENTS); do ../$(BIN)/nbgrader generate_assignment $$a --force --no-db || exit 1; done
