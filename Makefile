# Two commands matter: `make demo` runs the product, `make test` runs every check.
# Both install what they need into .venv/ and node_modules/ first.
# PY: the Python (>= 3.11) the venv is made with; `make PY=python3.12 test` picks one. Default:
# the first of python3.13, python3.12, python3.11, python3 on PATH that is 3.11 or newer.
PY ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
DESCRIPTORS ?= build/krakengw-v1.binpb

.PHONY: install install-runtime postgres demo test lint typecheck proto proto-lint descriptors test-node \
	bench sim gateway clean cpp-toolchain chromium dockerfile-lint

# Runtime only (the gateway, the simulator, the client): what `make demo` needs.
$(BIN)/.runtime: pyproject.toml clients/python/pyproject.toml
	@test -n "$(PY)" || { echo "need Python >= 3.11 on PATH (or make PY=/path/to/python)"; exit 1; }
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "$(PY) is older than 3.11"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e clients/python -e .
	touch $@

# Everything `make test` needs on top: linters, type checker, test and benchmark tools.
$(BIN)/.installed: $(BIN)/.runtime
	$(BIN)/python -m pip install -q --disable-pip-version-check -e clients/python -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@# npm 11 ci rejects the lock over buf's other-platform optional packages; install honours the lock.
	npm install --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed node_modules/.installed

install-runtime: $(BIN)/.runtime

demo: install-runtime
	$(BIN)/kraken-gateway demo

sim: install-runtime
	$(BIN)/kraken-gateway sim

gateway: install-runtime
	$(BIN)/kraken-gateway serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

proto: install
	scripts/gen_protos.sh

proto-lint: install
	npx --no-install buf lint

# The contract as one self-describing FileDescriptorSet (imports and comments included), for
# tools that need no .proto files: grpcurl/grpcui -protoset, Envoy's transcoder, code generators.
descriptors: install
	mkdir -p $(dir $(DESCRIPTORS))
	npx --no-install buf build -o $(DESCRIPTORS)
	@echo "wrote $(DESCRIPTORS)"

test-node: install
	cd clients/node && node --test

postgres:
	scripts/ensure_postgres.sh

# The C++ example's toolchain (Debian packages), installed only when something is missing.
CPP_PACKAGES := libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc pkg-config g++ make
cpp-toolchain:
	@if command -v grpc_cpp_plugin >/dev/null && command -v g++ >/dev/null \
	  && pkg-config --exists grpc++ protobuf 2>/dev/null; then :; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends $(CPP_PACKAGES); fi

# The console's browser tests drive Debian's Chromium; installed from apt when missing.
chromium:
	scripts/ensure_chromium.sh

dockerfile-lint: install
	$(BIN)/hadolint Dockerfile

test: lint typecheck proto-lint dockerfile-lint postgres cpp-toolchain chromium
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-node

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache build
