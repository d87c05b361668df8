# coopdesa: one entry point per job. Quick start: `make run`, then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run test test-sqlite test-postgres lint format bench translations clean install

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

bench: install
	$(BIN)/python -m bench

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o coopdesa/translations/messages.pot .
	$(BIN)/pybabel update -i coopdesa/translations/messages.pot -d coopdesa/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
