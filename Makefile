# The two commands of the quick start: `make up` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: up worker setup test lint install postgis chromium report-fonts db down bench bench-sync bench-full clean

## up: install what is missing, start PostGIS under ./var/, migrate, load the demo data, serve on :8000
## (FSD_API_WORKERS API processes, default 1, and one queue worker process, stopped together)
up: setup
	$(PY) -m api.serve

## worker: one more queue worker (plans, sweeps, customer messages) on the configured database
worker: install
	$(PY) -m dispatch.worker

## setup: everything `up` does except serving
setup: db report-fonts
	$(PY) -m alembic upgrade head
	$(PY) -m dispatch.demo
	$(PY) -m dispatch.demo_day

## test: ruff, mypy and the whole test suite against a throwaway PostGIS cluster
test: install postgis chromium report-fonts lint
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

## report-fonts: the CJK font the service-report PDFs embed, and poppler-utils that reads them back in tests
report-fonts:
	@bash scripts/ensure-report-fonts.sh

## chromium: Debian's Chromium (and a CJK font) for the console's browser test
chromium:
	@bash scripts/ensure-chromium.sh

db: install postgis
	$(PY) -m core.localdb up

## down: stop the local cluster of `make up`
down:
	@if [ -x $(PY) ]; then $(PY) -m core.localdb down; fi

## bench: the benchmark samples (about 40 minutes, prints tables), then the sync benchmarks, the KPI
## report over 100,000 work orders (bench/kpis.py, about 2 minutes), the growth tables at 10,000,
## 100,000 and 1,000,000 stored work orders (bench/growth.py, about 30 minutes) and the simulated week
## of faults under the product and a plain dispatcher (comparison printed, charts in var/simulation/);
## never part of `make test`. Every VRPTW sample runs the product on one core with the textbook
## baseline in the same process; then the 1,000-visit field benchmark at 30 s and the scaling table.
BENCH := ../shared/benchmarks/vrptw
bench: install
	$(PY) -m routing.bench vrptw $(BENCH)/solomon/C101.txt $(BENCH)/solomon/C201.txt \
		$(BENCH)/solomon/R101.txt $(BENCH)/solomon/R201.txt \
		$(BENCH)/solomon/RC101.txt $(BENCH)/solomon/RC201.txt --time-limit 30
	$(PY) -m routing.bench vrptw $(BENCH)/homberger_200/c1_2_1.txt $(BENCH)/homberger_200/c2_2_1.txt \
		$(BENCH)/homberger_200/r1_2_1.txt $(BENCH)/homberger_200/r2_2_1.txt \
		$(BENCH)/homberger_200/rc1_2_1.txt $(BENCH)/homberger_200/rc2_2_1.txt --time-limit 60
	$(PY) -m routing.bench vrptw $(BENCH)/homberger_400/c1_4_2.txt $(BENCH)/homberger_400/c2_4_2.txt \
		$(BENCH)/homberger_400/r1_4_2.txt $(BENCH)/homberger_400/r2_4_2.txt \
		$(BENCH)/homberger_400/rc1_4_2.txt $(BENCH)/homberger_400/rc2_4_2.txt --time-limit 60
	$(PY) -m routing.fieldbench --time-limit 30
	$(PY) -m routing.fieldbench --time-limit 30 --scale 250,500,1000,2000
	$(MAKE) bench-sync
	$(PY) -m bench.work_order_list
	$(PY) -m bench.kpis
	$(PY) -m bench.growth --explain
	$(PY) -m dispatch.simulation --days 7 --engineers 30 --faults-per-day 150 --seed 1 --out var/simulation

## bench-sync: sync push/pull against in-process baselines, then the sync state machine with
## the `long` hypothesis profile (10,000 examples of 30 steps; it prints the count)
bench-sync: install postgis
	$(PY) -m bench.sync
	HYPOTHESIS_PROFILE=long $(PY) -m pytest tests/offline_sync -q -s -p no:cacheprovider

## bench-full: every instance under ../shared/benchmarks/vrptw, in the background, into bench-results/*.json
bench-full: install
	@mkdir -p bench-results
	@stamp=$$(date +%Y%m%d-%H%M%S); \
	( for dir in $(BENCH)/*/; do \
		name=$$(basename $$dir); limit=30; \
		case $$name in solomon) limit=30;; *) limit=60;; esac; \
		$(PY) -m routing.bench vrptw $$dir*.txt --time-limit $$limit --json > bench-results/$$name-$$stamp.json; \
	  done; \
	  $(PY) -m routing.fieldbench --time-limit 30 --json > bench-results/fieldbench-$$stamp.json ) \
		> bench-results/bench-full-$$stamp.log 2>&1 & \
	echo "bench-full running in the background (pid $$!): bench-results/*-$$stamp.json"

clean: down
	rm -rf $(VENV) var
