# Every target installs what it needs first, so each works from a fresh clone.
VENV := .venv
PY := $(VENV)/bin/python
BUF := node_modules/.bin/buf
PYTHON_DIRS := server tests tools bench clients/python
THIRD_PARTY := build/third_party/google/api
TS_CLIENT := clients/typescript
TS_DEPS := $(TS_CLIENT)/node_modules/.installed
# The sandbox's native helpers (sandboxes/local/native), built with the machine's C compiler.
NATIVE := build/native
NATIVE_SRC := server/agent_runtime/sandboxes/local/native
# The web console, built into console/dist, which the runtime serves at /.
CONSOLE := console
CONSOLE_BUILT := $(CONSOLE)/dist/index.html
CONSOLE_SOURCES = $(shell find $(CONSOLE) -path $(CONSOLE)/node_modules -prune -o -path $(CONSOLE)/dist -prune -o -type f -print)
GOOGLEAPIS = $(shell $(PY) -c 'import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]))')

.PHONY: install run test proto proto-check clients go-client lint buf-deps bench clean

install: $(VENV)/.installed $(BUF) $(TS_DEPS) /usr/bin/bwrap $(NATIVE)/exec-guard $(NATIVE)/private-process.so \
	$(NATIVE)/sandbox-enter $(CONSOLE_BUILT)

$(VENV)/.installed: pyproject.toml clients/python/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet -e clients/python
	touch $@

# The local sandbox. Installing it needs root, as running the sandbox does.
/usr/bin/bwrap:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq bubblewrap; \
	else echo "bubblewrap is missing: run 'sudo apt-get install bubblewrap'" >&2; exit 1; fi

/usr/bin/cc:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq gcc libc6-dev; \
	else echo "a C compiler is missing: run 'sudo apt-get install gcc'" >&2; exit 1; fi

$(NATIVE)/exec-guard: $(NATIVE_SRC)/exec_guard.c $(NATIVE_SRC)/seccomp_filter.h | /usr/bin/cc
	mkdir -p $(NATIVE) && cc -O2 -Wall -Wextra -Werror -o $@ $<

$(NATIVE)/sandbox-enter: $(NATIVE_SRC)/sandbox_enter.c $(NATIVE_SRC)/seccomp_filter.h | /usr/bin/cc
	mkdir -p $(NATIVE) && cc -O2 -Wall -Wextra -Werror -o $@ $<

$(NATIVE)/private-process.so: $(NATIVE_SRC)/private_process.c | /usr/bin/cc
	mkdir -p $(NATIVE) && cc -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $<

# From its lock file, then the bundler; nothing is fetched when it runs.
$(CONSOLE_BUILT): $(CONSOLE_SOURCES)
	cd $(CONSOLE) && npm ci --no-audit --no-fund --loglevel=error && npm run build

# The console's tests drive Debian's Chromium (Playwright downloads no browser). Installing it needs root.
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "chromium is missing: run 'sudo apt-get install chromium'" >&2; exit 1; fi

# From the lock files as they are (npm ci), so a clean clone stays clean.
$(BUF): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The TypeScript client and storage server, and protoc-gen-es for `make proto`.
$(TS_DEPS): $(TS_CLIENT)/package.json $(TS_CLIENT)/package-lock.json
	cd $(TS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(VENV)/bin/agent-runtime serve

test: install /usr/bin/chromium
	$(PY) -m pytest -q -rs

bench: install
	$(PY) -m bench.run

proto: install
	$(PY) tools/gen_protos.py

proto-check: install
	$(PY) tools/gen_protos.py --check

# The clients' code generated afresh from the contract, and the TypeScript type-checked.
clients: proto
	cd $(TS_CLIENT) && node_modules/.bin/tsc -p .
	cd $(CONSOLE) && npm run lint

buf-deps: install
	mkdir -p $(THIRD_PARTY)
	cp $(GOOGLEAPIS)/annotations.proto $(GOOGLEAPIS)/http.proto $(THIRD_PARTY)/

# The Go client, built into build/go (once: sudo clients/go/install-toolchain.sh).
go-client: install
	clients/go/build.sh

lint: install buf-deps proto-check
	$(VENV)/bin/ruff check $(PYTHON_DIRS)
	$(VENV)/bin/ruff format --check $(PYTHON_DIRS)
	$(VENV)/bin/mypy
	$(BUF) lint
	$(BUF) format --diff --exit-code proto
	cd $(TS_CLIENT) && node_modules/.bin/tsc -p .
	cd $(CONSOLE) && npm run lint

clean:
	rm -rf $(VENV) node_modules $(TS_CLIENT)/node_modules $(CONSOLE)/node_modules $(CONSOLE)/dist build data
