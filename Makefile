# Set-up and the two jobs of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN ?= runs/cgan_mnist
EPOCHS ?= 40

.PHONY: demo test test-slow lint clean

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

clean:
	rm -rf $(VENV) runs exports samples.png
