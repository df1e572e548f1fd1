# pygokit developer commands. Each target creates .venv when needed and installs what it uses,
# so a fresh Debian/Ubuntu machine with Python 3.11+ needs nothing else.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench proto clean

## run: serve the flagship example, addsvc, on Go kit's ports on 127.0.0.1 until Ctrl-C
run: $(VENV)/.installed-run
	$(BIN)/python -m examples.addsvc.cmd.addsvc

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

## proto: regenerate the committed *_pb2.py and *_pb2.pyi next to every .proto file
# tests/transport/grpc/test_codegen.py runs the same protoc over the same files and fails on a diff.
PROTOS = $(shell find src tests examples bench -name '*.proto' -not -path '*/.*')
proto: $(VENV)/.installed-all
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. $(PROTOS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "pygokit needs Python 3.11 or newer; set PYTHON=python3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || scripts/apt-install python3-venv
	$(PYTHON) -m venv $(VENV)

# A stamp per install set, redone whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[http,grpc,prometheus]'
	@touch $@

# The bench extra (FastAPI, Starlette) too: mypy checks bench/, which imports them.
$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[all,test,bench]'
	@touch $@ $(VENV)/.installed-run
