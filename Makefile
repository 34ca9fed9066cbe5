# Two commands set everything up: `make run` and `make test`. CI also runs
# `make test-postgres`, the suite again against a PostgreSQL server of its own.
# `make bench` runs the benchmark (bench/README.md); the tests never do.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
.PHONY: run test test-postgres venv clean-sandbox bench

venv: $(VENV)/.installed

$(VENV)/.installed: requirements/base.txt requirements/prod.txt requirements/dev.txt
	@scripts/ensure-packages py:ensurepip=python3-venv
	test -x $(BIN)/pip || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

.env:
	umask 077 && $(PYTHON) scripts/make_env.py > .env
	@echo "Wrote .env for a demo on this machine (sandbox on, fresh secrets)."

run: venv .env
	@scripts/ensure-packages --redis-optional redis-server=redis-server
	$(BIN)/python manage.py bootstrap
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@scripts/run

test: venv
	@scripts/ensure-packages redis-server=redis-server chromium=chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=tagmanager_site.settings_test $(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/pytest

test-postgres: venv
	@scripts/ensure-packages redis-server=redis-server chromium=chromium \
		'file:/usr/lib/postgresql/*/bin/initdb=postgresql'
	scripts/test-postgres

clean-sandbox: venv .env
	$(BIN)/python manage.py seed_sandbox --tickets 10000 --reset

# Pass options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--sizes 1000,5000".
bench: venv $(VENV)/.bench-installed
	@scripts/ensure-packages redis-server=redis-server
	$(BIN)/python -m bench.run $(BENCH_ARGS)

$(VENV)/.bench-installed: requirements/bench.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/bench.txt
	touch $@
