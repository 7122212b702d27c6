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

# The alerts/metrics tests (tests/promservers.py) start their own Prometheus and Alertmanager on free
# loopback ports: Debian's prometheus and prometheus-alertmanager packages give the binaries (and
# prometheus-node-exporter the [[hosts]] tests' node_exporter, tests/nodeexporter.py). The
# packages' own services are kept from starting (a policy-rc.d that refuses, only while installing,
# when the machine has none) and are never needed.
PROM_SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
alert-servers:
	@if ! command -v prometheus >/dev/null 2>&1 || ! command -v prometheus-alertmanager >/dev/null 2>&1 \
	    || ! command -v prometheus-node-exporter >/dev/null 2>&1; then \
	  echo "installing Debian's prometheus, prometheus-alertmanager and prometheus-node-exporter for their tests"; \
	  made_policy=; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' | $(PROM_SUDO) tee /usr/sbin/policy-rc.d >/dev/null && \
	    $(PROM_SUDO) chmod +x /usr/sbin/policy-rc.d && made_policy=1; \
	  fi; \
	  $(PROM_SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(PROM_SUDO) apt-get install -y -qq --no-install-recommends \
	    -o DPkg::Lock::Timeout=300 prometheus prometheus-alertmanager prometheus-node-exporter >/dev/null; rc=$$?; \
	  if [ -n "$$made_policy" ]; then $(PROM_SUDO) rm -f /usr/sbin/policy-rc.d; fi; \
	  exit $$rc; \
	fi

# The PostgreSQL store's tests start a throwaway server (tests/pg_server.py): they need initdb and
# pg_ctl, from Debian's postgresql package (its /usr/lib/postgresql/*/bin is searched too).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing PostgreSQL (Debian's postgresql package) for the store tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# The design's rules first (seconds), then the suite in two passes: most tests on TEST_JOBS worker
# processes (pytest-xdist; they mostly wait on real servers and subprocesses, so three share two
# cores well), then the tests marked `serial` alone, whose wall-clock limits (a hang-up ends the
# process within 2 s, a failure is detected in time) other tests' load would break. Both passes
# always run, so one report shows every failure; exit 5 is "nothing selected" (ARGS naming a file
# with no test of that pass).
TEST_JOBS ?= 3
test: lint postgres alert-servers
	@$(BIN)/python -m pytest -q -n $(TEST_JOBS) -m "not serial" tests $(ARGS); a=$$?; \
	 echo "== the serial pass (wall-clock limits, run alone)"; \
	 $(BIN)/python -m pytest -q -m serial tests $(ARGS); b=$$?; \
	 for rc in $$a $$b; do [ $$rc -eq 0 ] || [ $$rc -eq 5 ] || exit $$rc; done

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
