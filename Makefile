# The two commands: `make run` (set up, index, start the app) and `make test` (set up, run the tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test fuzz install install-dev index check lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

check: install
	$(BIN)/archive-qa corpus check

index: install
	$(BIN)/archive-qa index

run: install
	$(BIN)/archive-qa corpus check
	$(BIN)/archive-qa index
	$(BIN)/streamlit run app.py

test: install-dev
	$(BIN)/python -m pytest

# The fuzz tests with the deep profile: thousands of random examples each (make test runs a fixed few).
fuzz: install-dev
	ARCHIVE_QA_FUZZ=deep $(BIN)/python -m pytest tests/corpus/test_fuzz_corpus.py tests/answer/test_fuzz_questions.py \
		tests/index/test_fuzz_manifest.py tests/chat/test_fuzz_chat.py --hypothesis-show-statistics -q

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) index
