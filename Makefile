# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT := 8000
# Our own Redis for development, on a port of its own, unless REDIS_URL says
# where one already runs.
DEV_REDIS_PORT := 6390

.PHONY: run test venv lint check clean-sandbox

venv: $(VENV)/.installed

$(VENV)/.installed: requirements/base.txt requirements/prod.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

.env:
	$(PYTHON) scripts/make_env.py > .env
	@echo "Wrote .env for a demo on this machine (sandbox on, fresh secrets)."

run: venv .env
	@scripts/ensure-packages redis-server=redis-server
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py migrate --noinput --database sandbox
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py create_demo_users
	$(BIN)/python manage.py seed_sandbox --tickets 10000
	@echo
	@echo "Tag Manager: http://127.0.0.1:$(PORT)/  (Ctrl-C stops it)"
	@echo
	@export PATH="$(CURDIR)/$(BIN):$$PATH"; \
	if [ -n "$$REDIS_URL" ]; then \
		exec honcho start web worker; \
	else \
		REDIS_URL=redis://127.0.0.1:$(DEV_REDIS_PORT)/0 REDIS_PORT=$(DEV_REDIS_PORT) \
			exec honcho start redis web worker; \
	fi

test: venv
	@scripts/ensure-packages redis-server=redis-server chromium=chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=tagmanager_site.settings_test $(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/pytest

clean-sandbox: venv .env
	$(BIN)/python manage.py seed_sandbox --tickets 10000 --reset
