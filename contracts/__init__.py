"""The contracts every stage shares, and the bottom layer of the import graph.

Topic names, table lists, the Debezium change format, the fact row and the settings
model live here, so the stages (connectors, stream_processors, warehouse) agree on them
without importing each other or the operate layer (`boxoffice`). This package imports
nothing else of the project; `make lint` enforces that (import-linter, pyproject.toml).
"""
