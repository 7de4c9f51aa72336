# Two commands for a fresh machine: `make demo` and `make test`.
# Both create .venv with Python 3.12 when it is missing and install what they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)

# python3.12 on PATH, else pyenv's 3.12, else fail with a clear message.
PYTHON312 := $(shell command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' >/dev/null 2>&1 && echo python3.12 || ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12 2>/dev/null | head -n1)

.PHONY: demo test test-all lint bench bench-peers clean install

$(PY):
	@if [ -z "$(PYTHON312)" ]; then echo "error: python3.12 not found; install Python 3.12" >&2; exit 1; fi
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[all]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/empathy-models demo --out demo_output

test: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow" --durations=15

test-all: $(STAMP)
	$(PY) -m pytest -n 2 --durations=15

lint: $(STAMP)
	$(VENV)/bin/ruff check empathy_models tests examples benchmarks
	$(VENV)/bin/ruff format --check empathy_models tests examples benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run.py --out benchmarks/results

bench-peers: $(STAMP)
	bash benchmarks/install_peers.sh
	$(PY) benchmarks/run.py --out benchmarks/results --peers

clean:
	rm -rf $(VENV) demo_output .pytest_cache
