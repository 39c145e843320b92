# Two commands do everything on a fresh clone:
#   make run   installs what is needed, prepares the database and demo, serves on :5000
#   make test  installs what the tests need and runs the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := APP_ENV=development $(BIN)/flask --app wsgi

.PHONY: run test install assets database clean compile-translations translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

survey_app/static/build/app.css: node_modules/.package-lock.json survey_app/static_src/app.scss scripts/plotly-css.mjs
	mkdir -p survey_app/static/build
	npm run --silent build

# Interface translations (Flask-Babel; catalogues in survey_app/translations).
#   make compile-translations  compiles every <language>/LC_MESSAGES/messages.po
#                              into the .mo file the app reads (build output, not
#                              committed). Fuzzy entries are never used: an entry
#                              marked fuzzy shows in English until it is checked,
#                              and a catalogue whose header is still marked fuzzy
#                              (as `pybabel init` leaves it) is skipped entirely.
#                              `install` and `test` run it.
#   make translations          for maintainers, after changing interface text:
#                              extracts every string marked with _(), ngettext,
#                              lazy_gettext or _l (see babel.cfg) into
#                              messages.pot, then updates each language's
#                              messages.po from it (wrapped at 100 columns, as
#                              the catalogues are written, so only what changed
#                              shows in a diff). Translate the new entries,
#                              then run make compile-translations.
CATALOGUES = $(wildcard survey_app/translations/*/LC_MESSAGES/messages.po)

compile-translations: $(VENV)/.installed
ifneq ($(strip $(CATALOGUES)),)
	$(BIN)/pybabel compile -d survey_app/translations --statistics
else
	@echo "No translation catalogues in survey_app/translations: nothing to compile."
endif

translations: $(VENV)/.installed
	mkdir -p survey_app/translations
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --sort-by-file -o survey_app/translations/messages.pot .
ifneq ($(strip $(CATALOGUES)),)
	$(BIN)/pybabel update -i survey_app/translations/messages.pot -d survey_app/translations --no-fuzzy-matching --width 100
else
	@echo "No catalogues to update yet. Start one with: $(BIN)/pybabel init -i survey_app/translations/messages.pot -d survey_app/translations -l cy"
endif

install: $(VENV)/.installed assets compile-translations

assets: survey_app/static/build/app.css

# Remembers that this checkout is set up for development, so that the README's
# `flask --app wsgi ...` commands work later as printed, on the same instance
# database, without APP_ENV. The app uses it only while APP_ENV, SECRET_KEY and
# DATABASE_URL are all unset, so a deployment (which sets SECRET_KEY) is never
# made development by it; it is in instance/, which git ignores.
instance/app-env:
	@mkdir -p instance
	@printf '%s\n' \
	  '# Left by `make run`: flask --app wsgi commands run in this checkout use development' \
	  '# settings (the key kept in this folder, the database instance/survey.db) while' \
	  '# APP_ENV, SECRET_KEY and DATABASE_URL are all unset. Delete this file to stop that.' \
	  'APP_ENV=development' > $@

database: $(VENV)/.installed instance/app-env
	$(FLASK) db upgrade
	$(FLASK) questionnaires load
	PORT=$(PORT) $(FLASK) demo

run: install database
	@echo ""
	@echo "  Serving on http://127.0.0.1:$(PORT)  (stop with Ctrl+C)"
	@echo "  The demo surveys are listed on the home page."
	@echo "  Later 'flask --app wsgi ...' commands in this checkout use these development"
	@echo "  settings too (instance/app-env), unless APP_ENV, SECRET_KEY or DATABASE_URL is set."
	@echo ""
	@cat instance/demo-login.txt
	@echo ""
	APP_ENV=development PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

test: $(VENV)/.installed-test assets compile-translations
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) node_modules survey_app/static/build instance .pytest_cache
