# coalition — every set-up step lives here, so a fresh machine needs only `make demo` / `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench chromium softhsm2 clean lint messages

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

# The main job on the embedded paris-2026 scenario; outputs land in out/.
demo: $(VENV)/.installed
	@mkdir -p out
	$(BIN)/coalition plan --out out

# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded by Playwright).
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# Debian's SoftHSM2: a real PKCS#11 token for the tests of nations' signing keys (python-pkcs11).
softhsm2:
	@command -v softhsm2-util >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq softhsm2 >/dev/null; }

# Two pytest-xdist workers (the suite's solves are single-threaded; PostgreSQL tests get a schema
# each, files their own temporary folders). --dist loadfile keeps a file on one worker, so its
# module-scoped fixtures (a migrated app, a live server) are built once. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2

test: $(VENV)/.dev-installed chromium softhsm2
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# ruff (rules and limits in pyproject.toml), the formatter's check and mypy --strict over src/.
# Installs nothing itself: the tools are in the dev extras.
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src
	$(BIN)/ruff format --check src
	$(BIN)/mypy --strict src

# The dashboard's translations: extract every UI string, merge into each .po, compile the .mo
# (committed, so a fresh clone runs without this step; the i18n test fails when it is stale).
messages: $(VENV)/.installed
	$(BIN)/python -m coalition.dashboard.catalogue

bench: $(VENV)/.dev-installed
	$(BIN)/python -m benchmarks

clean:
	rm -rf out artifacts .coalition .pytest_cache
