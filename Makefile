# The README's two commands: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.edgeav-installed

.PHONY: install demo test test-fast clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	# torch first and exact: the local CPU build; a later resolver pass then sees it satisfied.
	$(VENV)/bin/pip install torch==2.13.0
	$(VENV)/bin/pip install -e ".[all]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/edgeav export --model lightavseg --target android --out dist/demo

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf dist .pytest_cache
