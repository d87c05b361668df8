# coopdesa: one entry point per job. Quick start: `make run`, then `make test`.
# The interpreter of the venv: the distribution's own when it is Python 3.11 or newer with
# venv, else `python3`. Debian builds its Python with PGO and LTO; on this project's machine
# it renders a document about 17 % faster than a plain source build such as pyenv's
# (docs/performance.md), and it is what production runs (docs/deploy.md).
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo $(SYSTEM_PYTHON) || echo python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run test test-sqlite test-postgres lint security format bench load translations clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d coopdesa/translations -D messages >/dev/null

run: install
	$(BIN)/flask coopdesa init
	@echo "coopdesa berjalan di http://$(HOST):$(PORT)  (Ctrl+C untuk berhenti)"
	$(BIN)/waitress-serve --listen=$(HOST):$(PORT) --threads=8 wsgi:app

# The whole suite on SQLite, then on PostgreSQL when COOPDESA_TEST_DATABASE_URL is set.
test: install
	env -u COOPDESA_TEST_DATABASE_URL $(BIN)/python -m pytest
ifneq ($(COOPDESA_TEST_DATABASE_URL),)
	COOPDESA_TEST_DATABASE_URL=$(COOPDESA_TEST_DATABASE_URL) $(BIN)/python -m pytest -m "not browser"
endif

lint: install
	$(BIN)/ruff check .

# Security gates, run by CI before the tests: ruff's S rules (bandit; part of `ruff check .`)
# and pip-audit of every package installed in $(VENV) (the pins of setup.cfg) against
# pip-audit's default vulnerability source, PyPI's JSON API (pypi.org/pypi/NAME/VERSION/json).
# --strict: a package it cannot look up fails the audit instead of being skipped in silence.
# When that per-version data cannot be reached (a mirror serving only pypi.org/pypi/NAME/json),
# tools/audit_latest.py audits through the project data instead: the packages installed at
# their latest release are audited with the same data; any other is listed as NOT audited.
# A vulnerability fails the gate. When some packages could not be audited the gate says so
# and fails; AUDIT_UNREACHABLE=warn reports them and goes on.
AUDIT_UNREACHABLE ?= fail
security: install
	$(BIN)/ruff check .
	@echo "pip-audit: the packages installed in $(VENV), against PyPI's vulnerability data"
	@out=$$($(BIN)/pip-audit --strict --skip-editable --progress-spinner off 2>&1); rc=$$?; \
	echo "$$out"; \
	if [ $$rc -eq 0 ]; then echo "pip-audit: no known vulnerability"; exit 0; fi; \
	if ! echo "$$out" | grep -qiE "not found on PyPI|connection|max retries|resolve|timed out"; \
	then echo "pip-audit: known vulnerabilities above: update those pins in setup.cfg"; exit 1; fi; \
	echo "pip-audit could not reach PyPI's per-version data; auditing through the project data:"; \
	$(BIN)/python tools/audit_latest.py; rc=$$?; \
	if [ $$rc -eq 0 ]; then echo "audit: no known vulnerability"; exit 0; fi; \
	if [ $$rc -eq 1 ]; then echo "audit: known vulnerabilities above: update those pins"; exit 1; fi; \
	echo "SECURITY GATE INCOMPLETE: the packages marked NOT AUDITED above were not audited"; \
	echo "(AUDIT_UNREACHABLE=$(AUDIT_UNREACHABLE))."; \
	[ "$(AUDIT_UNREACHABLE)" = warn ]

bench: install
	$(BIN)/python -m bench

# gunicorn + PostgreSQL under 50 locust users for 60 s, then wrk on the list page
# (bench/load/run.sh; figures in docs/performance.md, section Load). Needs PostgreSQL on
# 127.0.0.1 (database coopdesa_load, created and dropped), Redis db 3, wrk, and locust:
# $(BIN)/pip install -e '.[load]'.
load: install
	bench/load/run.sh

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o coopdesa/translations/messages.pot .
	$(BIN)/pybabel update -i coopdesa/translations/messages.pot -d coopdesa/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
