# The two commands of the README:  make run  (set up + launch)  and  make test  (set up + test).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test setup lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/laptrace

# mypy twice: tests/storage imports its helpers by bare name from its own folder, and its
# conftest.py would be a second top-level "conftest" beside tests/conftest.py
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy
	MYPYPATH=tests/storage $(PY) -m mypy tests/storage/*.py
	$(VENV)/bin/lint-imports

# lint first, so the test runner's summary is the last thing printed
test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build dist
