# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip -q --disable-pip-version-check

.PHONY: demo test test-all lint docs docs-serve bench clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

# The sentinel files record which extras are installed, so a second run skips pip.
$(VENV)/.installed-demo: $(PY) setup.cfg pyproject.toml
	$(PIP) install -e ".[sample]"
	touch $@

$(VENV)/.installed-dev: $(PY) setup.cfg pyproject.toml
	$(PIP) install -e ".[dev]"
	touch $@

$(VENV)/.installed-docs: $(PY) setup.cfg pyproject.toml
	$(PIP) install -e ".[docs]"
	touch $@

# The LiteRT.js runtime that the web page copies (pinned by package-lock.json); without npm
# the example and the browser tests say they skip the page.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund; \
	else echo "npm not found: no web page (apt-get install npm, then make again)"; fi

# The example quiets TensorFlow's start-up lines itself (keras_vae_cli/console.py); a
# TF_CPP_MIN_LOG_LEVEL set here would count as the user's own choice and show them.
demo: $(VENV)/.installed-demo node_modules/.package-lock.json
	$(PY) examples/mnist_vae.py

# `make test` leaves out the tests marked heavy (minutes of judged generation and Monte Carlo
# estimates) so CI stays within 30 minutes; `make test-all` runs them too. Test files run on
# PYTEST_WORKERS processes (pytest-xdist, one file per process at a time, so a module's
# fixtures are built once); PYTEST_WORKERS=0 runs them in this process. tests/ mirrors the
# packages: `make test PYTEST_ARGS=tests/priors` runs one package's tests.
PYTEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

test: $(VENV)/.installed-dev node_modules/.package-lock.json
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -m "not heavy" $(XDIST) $(PYTEST_ARGS)

test-all: $(VENV)/.installed-dev node_modules/.package-lock.json
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The site from docs/ (mkdocs.yml): broken links, anchors, missing API objects and missing or
# malformed benchmarks/results/*.json fail the build.
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

docs-serve: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

bench: $(VENV)/.installed-dev
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) benchmarks/run.py

clean-venv:
	rm -rf $(VENV)
