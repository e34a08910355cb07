# Two commands do everything on a fresh Debian machine: `make build` and `make test`.
# Each creates the virtual environment, installs what is missing and then does its job.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
TORCH  := torch==2.13.0

.PHONY: build test test-slow test-all bench setup system-deps browser-deps

build: setup
	$(BIN)/dla-docs build

# `make test`: the fast default subset. `make test-all`: everything, the slow tests too (kills,
# browsers, fuzzing); CI runs this. Both on two pytest-xdist workers; PYTEST_ARGS="-n 0" runs
# them in one process.
PYTEST_ARGS ?=
test: setup browser-deps
	$(BIN)/python -m pytest -m "not slow" -n 2 $(PYTEST_ARGS)

test-slow: setup browser-deps
	$(BIN)/python -m pytest -m slow -n 2 $(PYTEST_ARGS)

test-all: setup browser-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: setup $(BENCH_STAMP)
	$(BIN)/python bench/bench.py

# timm needs torchvision; naming the pinned torch keeps pip from trading it for another build.
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -e '.[bench]' '$(TORCH)'
	touch $(BENCH_STAMP)

setup: $(STAMP) system-deps

# torch first, pinned: an open range would pull a multi-GB CUDA build. The test extras hold
# timm, which needs torchvision; naming the pinned torch again keeps pip from trading it for
# the newer (CUDA) torch that the newest torchvision asks for.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install -e '.[test]' '$(TORCH)'
	touch $(STAMP)

# Graphviz's `dot` renders the aggregation graphs, in DejaVu Sans: the committed SVGs were
# laid out with its metrics, so another font would make them differ.
system-deps:
	@command -v dot >/dev/null && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
		|| scripts/apt-install graphviz fonts-dejavu-core

# Debian's Chromium for the browser tests; Playwright never downloads a browser.
browser-deps:
	@test -x /usr/bin/chromium || scripts/apt-install chromium
