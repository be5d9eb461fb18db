# The README's two commands: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.edgeav-installed

.PHONY: install demo test test-fast apps-test clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	# torch first and exact: the local CPU build; a later resolver pass then sees it satisfied.
	$(VENV)/bin/pip install torch==2.13.0
	$(VENV)/bin/pip install -e ".[all]"
	touch $(STAMP)

install: $(STAMP)

# The demo trains the small LightAVSeg on built-in synthetic MS3-like scenes with the audio window a live
# app has (trailing: the second before the frame; a few minutes on a laptop CPU; the checkpoint is cached
# in runs/demo-trailing and reused), exports it for Android straight into android_demo's assets, and
# scores the exported .pte itself on the held-out (test) split.
DEMO_DATA := synthetic-ms3:scenes=300,image_size=64,audio_window=trailing
DEMO_RUN := runs/demo-trailing
DEMO_CKPT := $(DEMO_RUN)/last.pt
DEMO_STEPS ?= 600

$(DEMO_CKPT): | $(STAMP)
	$(VENV)/bin/edgeav train --model lightavseg --config small --data $(DEMO_DATA) \
		--steps $(DEMO_STEPS) --batch-size 16 --lr 1e-3 --out $(DEMO_RUN)

demo: install $(DEMO_CKPT)
	$(VENV)/bin/edgeav export --model lightavseg --config small --checkpoint $(DEMO_CKPT) \
		--target android --out dist/demo --app android_demo
	$(VENV)/bin/edgeav eval --artifact dist/demo/lightavseg_small_fp32.pte --data $(DEMO_DATA)
	@echo "android_demo/app/src/main/assets/models/ holds the demo model: open android_demo in Android Studio and Run"

# --durations: the slowest tests, so a test that outgrows CI's budget shows up in every run.
test: install apps-test
	$(PY) -m pytest -q --durations=25

# The demo apps' Kotlin core: compiled with the pinned kotlinc and its JUnit tests run on golden vectors the
# exporter writes now (no Gradle, offline; .ci/run installs the toolchain). A missing toolchain fails.
APPS_GOLDEN := android_demo/build/golden-fresh
apps-test: install
	$(PY) -m tests.apps.golden --out $(APPS_GOLDEN)
	android_demo/tools/host-test.sh $(APPS_GOLDEN)

# Everything but the budgeted end-to-end checks: unit tests plus the real converters on tiny models.
test-fast: install
	$(PY) -m pytest -q -m "not slow" --durations=10

clean:
	rm -rf dist .pytest_cache
