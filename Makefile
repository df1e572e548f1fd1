# pygokit developer commands. Each target creates .venv when needed and installs what it uses,
# so a fresh Debian/Ubuntu machine with Python 3.11+ needs nothing else.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

## run: serve the main example (stringsvc1) on 127.0.0.1:8080 until Ctrl-C
run: $(VENV)/.installed-http
	$(BIN)/python -m examples.stringsvc1

## test: lint, type-check, then pytest with branch coverage against real servers on loopback
test: lint
	scripts/test-services install
	PYGOKIT_VENV=$(VENV) PYGOKIT_REQUIRE_SERVICES=1 scripts/test-services run -- \
		$(BIN)/python -m pytest --cov --cov-report=term

## lint: ruff check, ruff format --check, mypy --strict
lint: $(VENV)/.installed-all
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench
	$(BIN)/mypy src tests examples bench

## bench: run every benchmark and write bench/RESULTS.md (with a real Redis for the limiter)
bench: $(VENV)/.installed-all
	@command -v wrk >/dev/null || scripts/apt-install wrk
	scripts/test-services install
	PYGOKIT_VENV=$(VENV) scripts/test-services run -- $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "pygokit needs Python 3.11 or newer; set PYTHON=python3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || scripts/apt-install python3-venv
	$(PYTHON) -m venv $(VENV)

# A stamp per install set, redone whenever pyproject.toml changes.
$(VENV)/.installed-http: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[http]'
	@touch $@

# The bench extra (FastAPI, Starlette) too: mypy checks bench/, which imports them.
$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[all,test,bench]'
	@touch $@ $(VENV)/.installed-http
