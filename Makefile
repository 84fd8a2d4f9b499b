# Set-up and the two jobs of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN ?= runs/cgan_mnist
EPOCHS ?= 40

.PHONY: demo test lint clean

$(BIN)/kgan: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[test]'
	touch $@

# Train a conditional GAN on the embedded 5,000 MNIST digits and write samples.png.
demo: $(BIN)/kgan
	rm -rf $(RUN)
	$(BIN)/kgan train cgan --data mnist_5k --epochs $(EPOCHS) --out $(RUN)
	$(BIN)/kgan sample $(RUN) --num 100 --labels 0-9 --out samples.png

test: $(BIN)/kgan
	$(BIN)/ruff check kgan tests benchmarks examples
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) runs samples.png
