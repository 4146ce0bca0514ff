"""`python -m warehouse.sink`: the sink process (what `boxoffice sink` runs).

Everything comes from Settings (BOXOFFICE_* environment variables): tests point a sink at
their own topics, database and consumer group that way.
"""

from __future__ import annotations

from contracts.settings import load_settings
from warehouse.sink.app import run_sink


def main() -> None:
    run_sink(load_settings())


if __name__ == "__main__":
    main()
