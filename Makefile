# Two commands matter: `make demo` runs the product, `make test` runs every check.
# Both install what they need into .venv/ and node_modules/ first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install demo test lint typecheck proto proto-lint test-node bench sim gateway clean

$(BIN)/.installed: pyproject.toml clients/python/pyproject.toml
	@command -v $(PY) >/dev/null || { echo "need $(PY) on PATH"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e clients/python -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@# npm 11 ci rejects the lock over buf's other-platform optional packages; install honours the lock.
	npm install --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed node_modules/.installed

demo: install
	$(BIN)/kraken-gateway demo

sim: install
	$(BIN)/kraken-gateway sim

gateway: install
	$(BIN)/kraken-gateway serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

proto: install
	scripts/gen_protos.sh

proto-lint: install
	npx --no-install buf lint

test-node: install
	cd clients/node && node --test

test: lint typecheck proto-lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-node

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
