# Every target bootstraps .venv itself, so a fresh machine needs only `make demo` / `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo run test lint fix bench screenshots soak clean venv postgres

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

# glances, the peer reference of the idle benchmark, only for `make bench`.
$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,bench]'
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/warroom demo $(ARGS)

run: $(STAMP)
	$(BIN)/warroom $(if $(CONFIG),--config $(CONFIG)) $(ARGS)

# The PostgreSQL store's tests start a throwaway server (tests/pg_server.py): they need initdb and
# pg_ctl, from Debian's postgresql package (its /usr/lib/postgresql/*/bin is searched too).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing PostgreSQL (Debian's postgresql package) for the store tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# The design's rules first (seconds), then the suite.
test: lint postgres
	$(BIN)/python -m pytest -q tests $(ARGS)

# ruff (pyflakes, bugbear, isort), mypy (strict for tui/incident and checks), the layer
# contracts (import-linter); all configured in pyproject.toml. `make fix` sorts imports.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fix: $(STAMP)
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed-bench postgres
	$(BIN)/python -m tests.bench $(ARGS)

soak: $(STAMP)
	WARROOM_SOAK=1 $(BIN)/python -m pytest -q tests/test_durability.py -k soak $(ARGS)

screenshots: $(STAMP)
	$(BIN)/python -m tests.screenshots

clean:
	rm -rf $(VENV) build *.egg-info
