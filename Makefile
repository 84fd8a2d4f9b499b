# Set-up and the two jobs of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN ?= runs/cgan_mnist
EPOCHS ?= 40

.PHONY: demo test test-slow wheel wheel-smoke publish-zoo lint clean

$(BIN)/kgan: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[test]'
	touch $@

# Train a conditional GAN on the embedded 5,000 MNIST digits, write samples.png and export it
# (SavedModel for TF Serving, TFLite float32 and int8).
demo: $(BIN)/kgan
	rm -rf $(RUN)
	$(BIN)/kgan train cgan --data mnist_5k --epochs $(EPOCHS) --out $(RUN)
	$(BIN)/kgan sample $(RUN) --num 100 --labels 0-9 --out samples.png
	$(BIN)/kgan export $(RUN) --format saved_model,tflite --quantize none,int8 --out exports/cgan_mnist --overwrite

# Two pytest workers, each taking whole test files (module fixtures run once): about half the
# time of one worker on 2 cores, as most of a test is single-threaded tracing and compiling.
test: $(BIN)/kgan
	$(BIN)/ruff check kgan tests benchmarks examples
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15

# The real-training quality checks (marked slow; several minutes each), out of `make test`.
test-slow: $(BIN)/kgan
	$(BIN)/pytest -q -m slow --durations=0

# The wheel alone, installed with its dependencies in a fresh virtual environment, outside the
# checkout: the command, a model and a preset folder work with nothing of the repository.
WHEEL_VENV ?= .wheel-venv
wheel: $(BIN)/kgan
	rm -rf dist build
	$(BIN)/pip wheel --no-deps --no-build-isolation -q -w dist .

wheel-smoke: wheel
	rm -rf $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install -q --disable-pip-version-check dist/kgan-*.whl
	cd $(WHEEL_VENV) && bin/kgan --version && bin/kgan zoo list > /dev/null
	cd $(WHEEL_VENV) && bin/kgan sample $(CURDIR)/zoo/cgan_mnist --num 10 --labels 0-9 --out smoke.png
	cd $(WHEEL_VENV) && bin/python -c "import kgan, os; assert kgan.__file__.startswith(os.getcwd()); \
		assert kgan.zoo.registry.source_zoo_folder() is None; print('wheel smoke: ok')"

# The release step for presets (a maintainer, with a write token for HF_OWNER in HF_TOKEN):
# uploads each preset of zoo/ to hf://$(HF_OWNER)/NAME in one commit and pins that commit in
# zoo/index.json and kgan's registry; commit both before building the release.
HF_OWNER ?= kgan
publish-zoo: $(BIN)/kgan
	@test -n "$$HF_TOKEN" || { echo "set HF_TOKEN to a Hub token with write access to $(HF_OWNER)"; exit 1; }
	for folder in zoo/*/; do \
		name=$$(basename $$folder); \
		[ -f $$folder/metadata.json ] || continue; \
		$(BIN)/kgan zoo publish $$folder --to hf://$(HF_OWNER)/$$name || exit 1; \
	done

clean:
	rm -rf $(VENV) $(WHEEL_VENV) dist build runs exports samples.png
