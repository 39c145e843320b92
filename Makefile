# Two commands do everything on a fresh clone:
#   make run   installs what is needed, prepares the database and demo, serves on :5000
#   make test  installs what the tests need and runs the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := APP_ENV=development $(BIN)/flask --app wsgi

.PHONY: run test install assets database clean

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

survey_app/static/build/app.css: node_modules/.package-lock.json survey_app/static_src/app.scss
	mkdir -p survey_app/static/build
	npm run --silent build

install: $(VENV)/.installed assets

assets: survey_app/static/build/app.css

database: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) questionnaires load
	$(FLASK) demo

run: install database
	@echo ""
	@echo "  Serving on http://127.0.0.1:$(PORT)  (stop with Ctrl+C)"
	@echo "  The demo surveys are listed on the home page."
	@echo ""
	APP_ENV=development PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

test: $(VENV)/.installed-test assets
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) node_modules survey_app/static/build instance .pytest_cache
