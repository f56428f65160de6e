# Every target installs what it needs first, so each works from a fresh clone.
VENV := .venv
PY := $(VENV)/bin/python
BUF := node_modules/.bin/buf
PYTHON_DIRS := server tests tools bench
THIRD_PARTY := build/third_party/google/api
GOOGLEAPIS = $(shell $(PY) -c 'import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]))')

.PHONY: install run test proto proto-check lint buf-deps bench clean

install: $(VENV)/.installed $(BUF) /usr/bin/bwrap

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The local sandbox. Installing it needs root, as running the sandbox does.
/usr/bin/bwrap:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq bubblewrap; \
	else echo "bubblewrap is missing: run 'sudo apt-get install bubblewrap'" >&2; exit 1; fi

$(BUF): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(VENV)/bin/agent-runtime serve

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) -m bench.run

proto: install
	$(PY) tools/gen_protos.py

proto-check: install
	$(PY) tools/gen_protos.py --check

buf-deps: install
	mkdir -p $(THIRD_PARTY)
	cp $(GOOGLEAPIS)/annotations.proto $(GOOGLEAPIS)/http.proto $(THIRD_PARTY)/

lint: install buf-deps
	$(VENV)/bin/ruff check $(PYTHON_DIRS)
	$(VENV)/bin/ruff format --check $(PYTHON_DIRS)
	$(VENV)/bin/mypy
	$(BUF) lint
	$(BUF) format --diff --exit-code proto

clean:
	rm -rf $(VENV) node_modules build data
