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

# The demo trains the small LightAVSeg on built-in synthetic MS3-like scenes (a few minutes on a laptop
# CPU; the checkpoint is cached in runs/demo and reused), exports it for Android, and scores the
# exported .pte itself on the held-out (test) split.
DEMO_DATA := synthetic-ms3:scenes=300,image_size=64
DEMO_RUN := runs/demo
DEMO_CKPT := $(DEMO_RUN)/last.pt
DEMO_STEPS ?= 600

$(DEMO_CKPT): | $(STAMP)
	$(VENV)/bin/edgeav train --model lightavseg --config small --data $(DEMO_DATA) \
		--steps $(DEMO_STEPS) --batch-size 16 --lr 1e-3 --out $(DEMO_RUN)

demo: install $(DEMO_CKPT)
	$(VENV)/bin/edgeav export --model lightavseg --config small --checkpoint $(DEMO_CKPT) \
		--target android --out dist/demo
	$(VENV)/bin/edgeav eval --artifact dist/demo/lightavseg_small_fp32.pte --data $(DEMO_DATA)

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf dist .pytest_cache
