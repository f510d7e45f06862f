# Developer entry points. Everything installs what it needs: uv (with pip, when missing) and the
# project's environment (.venv, from uv.lock). See README.md.
#
#   make run [PORT=8001]           the service with demo data on http://127.0.0.1:8000/
#   make test [ARGS="-k foo -x"]   lint + migration check + the pytest suite on PostgreSQL and Redis

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Runs a command in the project's environment, creating or updating it first.
IN_ENV := bash scripts/uv-run.sh
ARGS ?=
PROCFILE ?= Procfile
PORT ?= 8000
BENCH ?= bench/*.py

.PHONY: help sync test run migrate lint fmt bench drill clean clean-all

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

sync: ## create or update .venv from uv.lock (dev tools included)
	@$(IN_ENV)

test: ## ruff, migration check and the whole pytest suite on PostgreSQL + Redis (ARGS= for pytest)
	@bash scripts/test.sh $(ARGS)

run: ## migrate, load demo data, start the Procfile's processes (web on 127.0.0.1:8000; PORT=8001 for another)
	@PROCFILE="$(PROCFILE)" PORT="$(PORT)" bash scripts/run.sh

migrate: ## apply migrations (SQLite in var/db.sqlite3 unless DATABASE_URL is set)
	@mkdir -p var
	@$(IN_ENV) python manage.py migrate

lint: ## ruff check and ruff format --check
	@$(IN_ENV) ruff check .
	@$(IN_ENV) ruff format --check .

fmt: ## fix what ruff can fix, then format
	@$(IN_ENV) ruff check --fix .
	@$(IN_ENV) ruff format .

bench: ## run every bench/*.py (BENCH=bench/x.py for one); files starting with _ are helpers
	@$(IN_ENV)
	@set -e; found=; \
	for f in $(BENCH); do \
		[ -f "$$f" ] || continue; \
		case "$${f##*/}" in _*|__init__.py) continue;; esac; \
		found=1; echo "==> $$f"; \
		NO_SYNC=1 $(IN_ENV) python "$$f"; \
	done; \
	[ -n "$$found" ] || echo "no benchmarks in bench/"

drill: ## scale-out drill on a throwaway PostgreSQL + Redis, faults injected (~8 min; ARGS= for options)
	@bash scripts/drill.sh $(ARGS)

clean: ## remove caches and collected static files (keeps .venv and var/)
	@find . -path ./.venv -prune -o -type d -name __pycache__ -print0 | xargs -0r rm -rf
	@rm -rf .pytest_cache .ruff_cache .hypothesis staticfiles

clean-all: clean ## also remove .venv and var/ (the development database!)
	@rm -rf .venv var
