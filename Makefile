# The two commands of the EMT book (see README.md):
#   make book   build the HTML book into _build/html, executing every chapter strictly
#   make test   the repository's pre-commit hooks, unit tests, every chapter notebook through nbval,
#               a strict book build, the check of its claims ledger against the executed chapters
#               and the browser check of every built page (headless Chromium, installed if missing;
#               screenshots in _build/screenshots)
# Both set up what they need on a fresh machine: the virtual environment .venv (from the lock
# file requirements-lock.txt) and the vendored JavaScript in vendor/ (from tools/js, via npm ci).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Kernels started by jupyter-book and nbval must find the venv's python first.
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

ENV_STAMP    := $(VENV)/.emt-installed
JS_DIR       := tools/js
VENDOR_STAMP := vendor/.emt-vendored
HTML         := _build/html
SCREENSHOTS  := _build/screenshots
NOTEBOOKS    := $(wildcard book/*.ipynb)
TORCH_INDEX  := https://download.pytorch.org/whl/cpu
BUILD_BOOK   := $(BIN)/jupyter-book build . --all -W -n --keep-going

# One limit per cell for every way the chapters run (the strict build and nbval): _config.yml's.
CELL_TIMEOUT := $(shell sed -n 's/^  timeout: *\([0-9][0-9]*\).*/\1/p' _config.yml)
ifeq ($(CELL_TIMEOUT),)
$(error _config.yml has no execute.timeout (seconds per cell))
endif

.PHONY: help book test lint unit notebooks build ledger browser env vendor lock release-check clean

help:
	@echo "make book   build the HTML book (strict, every chapter executed) into $(HTML)"
	@echo "make test   pre-commit hooks + unit tests + every chapter through nbval + strict book build"
	@echo "            + claims ledger check + browser check"
	@echo "make lint   the pre-commit hooks on every file (nbstripout, ruff, actionlint, cffconvert)"
	@echo "make ledger   check the built claims ledger against the executed chapters (after make book)"
	@echo "make browser  open every page of the built book in headless Chromium (after make book)"
	@echo "make lock   regenerate requirements-lock.txt from requirements.in in a throw-away venv"
	@echo "make release-check  the checks of RELEASING.md, make test included"
	@echo "make clean  remove _build/ and vendor/ (never .venv)"

book: build
	@echo "The book is at: $(abspath $(HTML))/index.html"

test: lint unit notebooks build ledger browser
	@echo "make test: all passed."

# .pre-commit-config.yaml: local hooks on the tools of .venv (never a cloned hook repository).
lint: $(ENV_STAMP)
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

unit: $(ENV_STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/browser --ignore=tests/book

notebooks: $(ENV_STAMP)
ifeq ($(strip $(NOTEBOOKS)),)
	@echo "notebooks: no book/*.ipynb yet, nothing to run"
else
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) $(NOTEBOOKS)
endif

build: $(ENV_STAMP) $(VENDOR_STAMP)
	$(BUILD_BOOK)

# The claims ledger (book/claims.md) of the book that `build` made: every claim's value on the page is
# the one its chapter glued when it was executed (myst-nb's records in _build/jupyter_execute/), and
# every verdict follows from its rule (tests/book).
ledger: $(ENV_STAMP)
	EMT_BOOK_BUILD=_build $(BIN)/python -m pytest tests/book

# The browser check (tests/browser) on the book that `build` made: serves $(HTML) on 127.0.0.1 and
# opens every page in headless Chromium: typeset math, loaded images, no JavaScript errors, saved
# widgets, launch and download buttons on the chapters, the version in the footer. A full-page
# screenshot of every page goes to $(SCREENSHOTS)/. tools/chromium.py finds the Chromium ($$EMT_CHROMIUM,
# one on PATH, or Playwright's download) and, where there is none, installs one (apt-get as root or
# through sudo, else `playwright install chromium`); otherwise it stops with the command to run.
browser: $(ENV_STAMP)
	rm -rf $(SCREENSHOTS)
	chromium=$$($(BIN)/python tools/chromium.py) && \
	EMT_CHROMIUM="$$chromium" EMT_BOOK_HTML=$(HTML) $(BIN)/python -m pytest tests/browser

env: $(ENV_STAMP)
vendor: $(VENDOR_STAMP)

# The environment: created if missing, brought up to date whenever the lock or pyproject changes.
# torch comes first, alone, from PyTorch's CPU index: PyPI's Linux wheel is the CUDA build, and the
# lock pins the "+cpu" build that only that index has (its dependencies are pinned in the lock).
$(ENV_STAMP): requirements-lock.txt pyproject.toml
	@if ! $(BIN)/python -c "" 2>/dev/null; then \
		echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --no-deps --index-url $(TORCH_INDEX) -r <(grep -E '^torch==' requirements-lock.txt)
	$(BIN)/python -m pip install --upgrade -r requirements-lock.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

# MathJax 3, RequireJS and the Jupyter widget HTML manager, so the offline book needs no CDN.
# Sphinx copies vendor/'s contents into _build/html/_static/ (html_static_path in _config.yml).
$(VENDOR_STAMP): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	cd $(JS_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	rm -rf vendor
	mkdir -p vendor/mathjax
	cp -R $(JS_DIR)/node_modules/mathjax/es5/. vendor/mathjax/
	cp $(JS_DIR)/node_modules/requirejs/require.js vendor/
	cp $(JS_DIR)/node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js vendor/
	# icon fonts the widget manager loads from its own folder
	cp $(JS_DIR)/node_modules/@jupyter-widgets/html-manager/dist/*.{woff2,woff,ttf,eot,svg} vendor/
	touch $@

# Regenerate the lock file: resolve requirements.in in a throw-away venv and freeze it (tools/lock.py
# keeps torch's CPU-build lines as requirements.in writes them and refuses any CUDA package).
lock:
	$(PYTHON) tools/lock.py --torch-index $(TORCH_INDEX)

# RELEASING.md: the version agrees everywhere, the documented installs resolve without CUDA, and the
# whole `make test` passes. TORCH_WHEELS=<folder> stands in for PyTorch's CPU index where it cannot
# be reached (tools/install_report.py).
release-check: $(ENV_STAMP)
	$(BIN)/python tools/release.py check
	$(BIN)/python tools/install_report.py $(if $(TORCH_WHEELS),--torch-wheels $(TORCH_WHEELS))
	$(MAKE) test

clean:
	rm -rf _build vendor $(JS_DIR)/node_modules
