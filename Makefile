# The two commands a fresh clone needs: `make demo` (the whole pipeline with live sales
# and Superset) and `make test` (lint, types and every test against real services).
# Both install what they need first, idempotently.

SCALE ?= 0.1
PY := .venv/bin/python
BOXOFFICE := .venv/bin/boxoffice

.PHONY: bootstrap demo test lint unit integration bench chaos down clean

bootstrap:
	bash scripts/bootstrap.sh

demo: bootstrap
	$(BOXOFFICE) demo --scale $(SCALE)

down:
	$(BOXOFFICE) down

test: bootstrap lint
	$(PY) -m pytest -p no:cacheprovider

lint:
	.venv/bin/ruff check .
	.venv/bin/mypy boxoffice connectors stream_processors warehouse

unit:
	$(PY) -m pytest tests/unit

# The whole fault matrix (every component killed at 10, 50 and 90 %); `make test` runs
# the CI tier of the same suite. See docs/chaos.md.
chaos: bootstrap
	BOXOFFICE_CHAOS_FULL=1 $(PY) -m pytest -p no:cacheprovider -m chaos tests/chaos

# `make bench ONLY=history,live` runs a subset (names: bench/run_all.py --help).
bench: bootstrap
	$(PY) -m bench.run_all $(if $(ONLY),--only $(ONLY))

clean:
	$(BOXOFFICE) stack down || true
	rm -rf .boxoffice/data .boxoffice/logs .boxoffice/run
