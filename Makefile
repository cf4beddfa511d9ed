# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run demo test test-fast lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch, pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	@# The report's charts draw Japanese names with Noto Sans CJK (Debian's fonts-noto-cjk).
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || (apt-get update -qq && apt-get install -y -qq \
		fonts-noto-cjk) || echo "charts need a Japanese font: install fonts-noto-cjk (Debian/Ubuntu)"
	touch $@

demo: install
	$(BIN)/partnermatch import catalog catalog/data/demo_catalog.yaml
	$(BIN)/partnermatch demo-data

run: demo
	$(BIN)/partnermatch serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

# The inner loop: everything but the tests marked slow (real models on large data, real processes)
# and those that need PostgreSQL. `make test` stays the whole suite.
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not postgres"

lint: install
	$(BIN)/ruff check service models catalog scripts tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var
