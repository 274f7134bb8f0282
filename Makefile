# The two commands of the README: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Development: `make run`/`make test` turn DEBUG on (the settings default is off, for production).
export DEBUG ?= 1

.PHONY: run test deps migrate demo lock clean

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

deps: $(STAMP)

migrate: deps
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	@echo "MicroCoder: http://127.0.0.1:8000  (web + Celery worker + beat; Ctrl-C stops all)"
	$(VENV)/bin/honcho start -f Procfile

test: deps
	$(PY) -m pytest $(PYTEST_ARGS)

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^pkg_resources' > requirements.lock

clean:
	rm -rf var

# torch + transformers[serving] for the `transformers serve` end-to-end evaluation test
# (tests/integration/test_evaluation_transformers_serve.py; it is skipped without this venv).
serve-venv:
	test -x .venv-serve/bin/python || $(PYTHON) -m venv .venv-serve
	.venv-serve/bin/pip install --quiet torch==2.13.0 "transformers[serving]==5.24.0"
