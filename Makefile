# The two commands of the README: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Development: `make run`/`make test` turn DEBUG on (the settings default is off, for production).
export DEBUG ?= 1

.PHONY: run test deps train-deps migrate demo lock clean

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

deps: $(STAMP)

# The training environment (torch, TRL, Ray): a venv of its own that training jobs run with.
TRAIN_VENV := .venv-train
TRAIN_STAMP := $(TRAIN_VENV)/.installed
$(TRAIN_STAMP): requirements-train.lock
	test -x $(TRAIN_VENV)/bin/python || $(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/python -m pip install --quiet -r requirements-train.lock
	# verl's package only, for checking our Hydra overrides against its own config (compose-check);
	# training with verl needs its own environment (it pins transformers<5.11, TRL 1.16 needs newer).
	$(TRAIN_VENV)/bin/python -m pip install --quiet --no-deps verl==0.9.1
	touch $(TRAIN_STAMP)

train-deps: $(TRAIN_STAMP)

migrate: deps
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	@echo "MicroCoder: http://127.0.0.1:8000  (web + Celery worker + beat; Ctrl-C stops all)"
	$(VENV)/bin/honcho start -f Procfile

test: deps train-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^pkg_resources' > requirements.lock

clean:
	rm -rf var
