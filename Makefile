# The two commands of the quick start: `make up` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: up setup test lint install postgis chromium db down bench bench-full clean

## up: install what is missing, start PostGIS under ./var/, migrate, load the demo data, serve on :8000
up: setup
	$(PY) -m api.serve

## setup: everything `up` does except serving
setup: db
	$(PY) -m alembic upgrade head
	$(PY) -m dispatch.demo

## test: ruff, mypy and the whole test suite against a throwaway PostGIS cluster
test: install postgis chromium lint
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile -q

lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

postgis:
	@bash scripts/ensure-postgis.sh

## chromium: Debian's Chromium (and a CJK font) for the console's browser test
chromium:
	@bash scripts/ensure-chromium.sh

db: install postgis
	$(PY) -m core.localdb up

## down: stop the local cluster of `make up`
down:
	@if [ -x $(PY) ]; then $(PY) -m core.localdb down; fi

## bench: the benchmark samples (about 10 minutes); never part of `make test`
bench: install
	$(PY) -m routing.bench vrptw ../shared/benchmarks/vrptw/solomon/C101.txt ../shared/benchmarks/vrptw/solomon/C201.txt \
		../shared/benchmarks/vrptw/solomon/R101.txt ../shared/benchmarks/vrptw/solomon/R201.txt \
		../shared/benchmarks/vrptw/solomon/RC101.txt ../shared/benchmarks/vrptw/solomon/RC201.txt --time-limit 30

clean: down
	rm -rf $(VENV) var
