# The two commands of the README: `make dev` (the bot on demo data, with Microsoft's Teams
# Playground) and `make test` (every test). Both set up what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup dev test lint bench

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

dev: setup
	$(BIN)/marac dev

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile
	$(BIN)/checkov --quiet --compact --skip-download --framework dockerfile bicep secrets \
		$(addprefix --file ,Dockerfile $(wildcard infra/azure/*.bicep))

test: lint
	scripts/ensure-postgres
	scripts/ensure-chromium
	$(BIN)/python -m pytest

# The benchmark of the README's "Benchmark" section; BENCH_ARGS=--quick for a short run.
bench: setup
	$(BIN)/python -c 'import psutil' 2>/dev/null || $(BIN)/pip install --quiet -e '.[bench]'
	scripts/ensure-postgres
	$(BIN)/python -m bench $(BENCH_ARGS)
