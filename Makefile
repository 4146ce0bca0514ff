# The two commands a fresh clone needs: `make demo` (the whole pipeline with live sales
# and Superset) and `make test` (lint, types and every test against real services).
# Both install what they need first, idempotently.

SCALE ?= 0.1
PY := .venv/bin/python
BOXOFFICE := .venv/bin/boxoffice

.PHONY: bootstrap demo test lint unit integration bench down clean

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

bench: bootstrap
	$(PY) -m bench.run_all

clean:
	$(BOXOFFICE) stack down || true
	rm -rf .boxoffice/data .boxoffice/logs .boxoffice/run
