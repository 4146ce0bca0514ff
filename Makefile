# The two commands a fresh clone needs: `make demo` (the whole pipeline with live sales
# and Superset) and `make test` (lint, types and every test against real services).
# Both install what they need first, idempotently.

SCALE ?= 0.1
PY := .venv/bin/python
BOXOFFICE := .venv/bin/boxoffice

.PHONY: bootstrap demo test test-quick lint unit integration bench chaos chaos-ci down clean

bootstrap:
	bash scripts/bootstrap.sh

demo: bootstrap
	$(BOXOFFICE) demo --scale $(SCALE)

down:
	$(BOXOFFICE) down

# Everything CI runs: lint and types, every test against real services, then the CI tier
# of the fault-injection suite (about 12 minutes more; docs/chaos.md). `make test-quick`
# leaves the chaos suite out.
test: test-quick
	$(PY) -m pytest -p no:cacheprovider -m chaos tests/chaos

test-quick: bootstrap lint
	$(PY) -m pytest -p no:cacheprovider -m "not chaos"

lint:
	.venv/bin/ruff check .
	.venv/bin/mypy boxoffice contracts connectors stream_processors warehouse
	.venv/bin/lint-imports

# One tier at a time: every test carries its directory's marker (tests/conftest.py).
unit:
	$(PY) -m pytest -p no:cacheprovider -m unit

integration: bootstrap
	$(PY) -m pytest -p no:cacheprovider -m integration

# The CI tier of the fault-injection suite alone (one kill point per component, stalls,
# restarts, poison, schema change, TOAST, WAL, negative control), about 12 minutes.
chaos-ci: bootstrap
	$(PY) -m pytest -p no:cacheprovider -m chaos tests/chaos

# The whole fault matrix (every component killed at 10, 50 and 90 %). See docs/chaos.md.
chaos: bootstrap
	BOXOFFICE_CHAOS_FULL=1 $(PY) -m pytest -p no:cacheprovider -m chaos tests/chaos

# `make bench ONLY=history,live` runs a subset (names: bench/run_all.py --help).
bench: bootstrap
	$(PY) -m bench.run_all $(if $(ONLY),--only $(ONLY))

clean:
	$(BOXOFFICE) stack down || true
	rm -rf .boxoffice/data .boxoffice/logs .boxoffice/run
