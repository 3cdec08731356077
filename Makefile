# casework: the two commands are `make run` and `make test` (see README.md).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: run test lint install install-dev browser clean-db

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, create/upgrade the SQLite database, load processes, forms and demo data, serve on :5000
run: install
	$(BIN)/casework init
	$(BIN)/casework demo
	$(BIN)/casework serve --host 127.0.0.1 --port 5000

## make test: lint with ruff, then the whole pytest suite (SQLite by default; TEST_DATABASE_URL for PostgreSQL)
test: install-dev browser
	$(BIN)/ruff check .
	$(BIN)/casework returns install-dfe-validator   # the DfE CIN rules engine in its own venv (once; pandas<2)
	test -f tests/oidc/node_modules/oidc-provider/package.json || (cd tests/oidc && npm ci --no-audit --no-fund --silent)
	$(BIN)/pytest -n 2

# Browser journeys use Debian's chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

clean-db:
	rm -f instance/casework.db instance/casework.db-wal instance/casework.db-shm
