# Sudamall — the front door. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python api/manage.py
HOST ?= 127.0.0.1
SUDAMALL_PORT ?= 8000

# Real-services tier defaults: the MariaDB user from mysql-init/init.sql and a local Redis.
SERVICES_DATABASE_URL ?= mysql://sudamall:sudamall@127.0.0.1:3306/sudamall
SERVICES_REDIS_URL ?= redis://127.0.0.1:6379/0

# Python 3.12 when present (pyenv's install too), else 3.11. A candidate counts only if it runs:
# pyenv shims exist for versions that aren't installed.
PYTHON ?= $(shell for p in python3.13 python3.12 \
	"$$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12 python3.11 python3; do \
	  if "$$p" -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1; then \
	    echo "$$p"; break; fi; done)

.PHONY: help run test test-fast test-services lint clients format check-deploy install install-dev install-services superuser clean

help:
	@echo "make run            install, migrate, demo data, start web + worker + beat (Ctrl-C stops)"
	@echo "make test           install and run the whole test suite on SQLite (what proves the project)"
	@echo "make test-fast      the same without the slow tests: the edit-test loop (under a minute)"
	@echo "make test-services  the same suite on MariaDB + Redis, plus real-worker integration tests"
	@echo "make lint           ruff, mypy, import layers, migrations check, OpenAPI schema validation"
	@echo "make clients        generate a Python client and TypeScript types from the served OpenAPI"
	@echo "                    document, type-check them, and run a buyer's journey through them"
	@echo "make check-deploy   production settings pass 'check --deploy'; compose files validate"
	@echo "make superuser      create an admin account"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11+ not found"; exit 1; }
	@echo "Creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps reinstall when a requirements file changes.
$(VENV)/.installed-dev: $(BIN)/python requirements/*.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	@touch $@

install-dev: $(VENV)/.installed-dev
install: install-dev

# The MySQL/MariaDB driver (real-services tier only) compiles against the MariaDB client
# headers: when they are missing, say exactly what to install instead of a compiler trace.
$(VENV)/.installed-services: $(VENV)/.installed-dev requirements/mysql.txt
	@if ! $(BIN)/python -c "import MySQLdb" 2>/dev/null; then \
	  if ! pkg-config --exists mariadb 2>/dev/null && ! pkg-config --exists mysqlclient 2>/dev/null; then \
	    echo ""; \
	    echo "  The real-services tier (MySQL/MariaDB) needs the mysqlclient driver, which compiles"; \
	    echo "  against the MariaDB client headers. Install them, then run this again:"; \
	    echo "    Debian/Ubuntu: sudo apt-get install libmariadb-dev pkg-config build-essential"; \
	    echo "    Fedora:        sudo dnf install mariadb-connector-c-devel pkgconf gcc"; \
	    echo "    macOS:         brew install mariadb-connector-c pkg-config"; \
	    echo "  (make run and make test need none of this: they run on SQLite.)"; \
	    echo ""; exit 1; \
	  fi; \
	  $(BIN)/pip install --quiet -r requirements/mysql.txt; \
	fi
	@touch $@

install-services: $(VENV)/.installed-services

# Local development runs with DEBUG on unless the environment or .env says otherwise.
run superuser: export DEBUG ?= true
# Links in emails (newsletter confirm, unsubscribe) point at this server, whatever its port.
run: export PUBLIC_URL ?= http://$(HOST):$(SUDAMALL_PORT)

# On MySQL/MariaDB when DATABASE_URL or DB_NAME says so (the driver is installed then).
run: install-dev
	@if [ -n "$${DB_NAME:-}" ] || [[ "$${DATABASE_URL:-}" == mysql* ]]; then $(MAKE) --no-print-directory install-services; fi
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_email_templates
	@if ($(MANAGE) help demo_data) >/dev/null 2>&1; then $(MANAGE) demo_data --if-empty; fi
	@# The search index catches up with a catalogue made before it existed (quick when it has).
	$(MANAGE) search_reindex
	@echo ""
	@echo "  Sudamall is starting (web, Celery worker, Celery beat). Ctrl-C stops all three."
	@echo "  API docs     http://$(HOST):$(SUDAMALL_PORT)/api/schema/swagger-ui/"
	@echo "  ReDoc        http://$(HOST):$(SUDAMALL_PORT)/api/schema/redoc/"
	@echo "  Admin        http://$(HOST):$(SUDAMALL_PORT)/admin/   (demo staff: admin@sudamall.local / sudamall-demo)"
	@echo "  Health       http://$(HOST):$(SUDAMALL_PORT)/health/  and /ready/  (metrics: /metrics)"
	@echo ""
	@# The three processes write their Prometheus samples here; /metrics sums them.
	@rm -rf var/prometheus && mkdir -p var/prometheus
	@# honcho SIGKILLs what is still running 5 s after Ctrl-C; the worker's warm shutdown (finish
	@# the task in hand, then stop polling the SQLite broker) can take longer: give it 30.
	HOST=$(HOST) SUDAMALL_PORT=$(SUDAMALL_PORT) PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/var/prometheus \
		$(BIN)/python -c \
		"import honcho.command, honcho.manager; honcho.manager.KILL_WAIT = 30; honcho.command.main()" \
		-f Procfile start

superuser: install-dev
	$(MANAGE) createsuperuser

# Every core runs tests (pytest-xdist); at most 6 workers share one Redis in the services tier.
XDIST := -n auto --maxprocesses=6

# The embedded default, whatever .env says: no database server, no Redis.
test: install-dev
	DATABASE_URL= DB_NAME= REDIS_URL= CELERY_BROKER_URL= \
		$(BIN)/pytest $(XDIST) --dist worksteal -m "not integration" $(PYTEST_ARGS)

test-fast: install-dev
	DATABASE_URL= DB_NAME= REDIS_URL= CELERY_BROKER_URL= \
		$(BIN)/pytest $(XDIST) --dist worksteal -m "not integration and not slow" $(PYTEST_ARGS)

# The suite on every core, then the integration tests one at a time: they start whole stacks on
# shared Redis indexes.
test-services: install-services
	export DATABASE_URL=$${DATABASE_URL:-$(SERVICES_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(SERVICES_REDIS_URL)}; \
		$(BIN)/pytest $(XDIST) --dist worksteal -m "not integration" $(PYTEST_ARGS) && \
		$(BIN)/pytest -m integration $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy api
	cd api && ../$(BIN)/lint-imports --config ../pyproject.toml --no-cache
	DEBUG=true $(MANAGE) makemigrations --check --dry-run
	DEBUG=true $(MANAGE) spectacular --validate --fail-on-warn --file /dev/null

# Needs Node.js and npm for the TypeScript half.
clients: install-dev
	.ci/clients

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Production settings, as docker-compose.prod.yml gives them.
check-deploy: install-dev
	DEBUG=false SECRET_KEY=$$(head -c 48 /dev/urandom | base64 | tr -d '\n') \
		ALLOWED_HOSTS=shop.example.com CORS_ALLOWED_ORIGINS=https://shop.example.com \
		LOG_TO_FILE=false $(MANAGE) check --deploy --fail-level WARNING
	@bash .ci/validate-compose

clean:
	rm -rf $(VENV) var
