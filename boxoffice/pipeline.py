"""`boxoffice up`, `down` and `demo`: the whole pipeline in the order its parts need.

Every step is idempotent, so `up` on a running pipeline only checks it, and a failed
`up` can simply be run again once the named problem is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg2

from boxoffice.stack.components import all_components, pipeline_components, stack_components
from boxoffice.stack.components.sales import Sales
from boxoffice.stack.supervisor import Supervisor
from contracts.settings import Settings

Say = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[], object]


def supervisor(settings: Settings, *, with_sales: bool = False) -> Supervisor:
    components = all_components(settings)
    if with_sales:
        components.append(Sales(settings=settings))
    return Supervisor(settings=settings, components=components)


def setup_steps(settings: Settings, say: Say) -> list[Step]:
    """The pipeline's one-time work against running services, in order: schemas, change
    capture and Superset's assets (docker compose runs these alone, as `boxoffice setup`,
    because its containers are the services and the processes)."""
    from boxoffice.bi.bootstrap import bootstrap as bootstrap_superset
    from boxoffice.topics import require_policy
    from connectors import manage
    from connectors.cdc_topics import ensure_cdc_topics
    from connectors.migrate import migrate as migrate_source
    from warehouse.executor import ClientExecutor, connect
    from warehouse.migrate import migrate as migrate_warehouse

    return [
        Step("source schema", lambda: migrate_source(settings, progress=say)),
        Step("warehouse schema", lambda: migrate_warehouse(
            ClientExecutor(connect(settings)), settings.clickhouse_database, progress=say,
            dedup_window_blocks=settings.clickhouse_dedup_window_blocks)),
        Step("change capture", lambda: (ensure_cdc_topics(settings),
                                        manage.apply(settings, progress=say))),
        Step("topic retention", lambda: require_policy(settings)),
        Step("superset", lambda: bootstrap_superset(settings, progress=say)),
    ]


def up_steps(settings: Settings, say: Say, *, start_services: bool = True) -> list[Step]:
    """What `boxoffice up` does, in order; each step can be re-run safely.

    `start_services=False` assumes the infrastructure runs elsewhere (docker compose,
    testcontainers) and starts only the pipeline's own processes.
    """
    processes = supervisor(settings)
    infrastructure = [c.name for c in stack_components(settings)]
    pipeline = [c.name for c in pipeline_components(settings)]
    *schemas_and_capture, superset = setup_steps(settings, say)
    return [
        Step("services", lambda: processes.up(infrastructure, progress=say)
             if start_services else say("services: provided externally")),
        *schemas_and_capture,
        Step("processors and sink", lambda: processes.up(pipeline, progress=say)),
        superset,
    ]


def run_steps(steps: list[Step], say: Say) -> None:
    for number, step in enumerate(steps, start=1):
        say(f"[{number}/{len(steps)}] {step.title}")
        step.run()


def up(settings: Settings, say: Say, *, start_services: bool = True) -> None:
    run_steps(up_steps(settings, say, start_services=start_services), say)


def setup(settings: Settings, say: Say) -> None:
    run_steps(setup_steps(settings, say), say)


def down(settings: Settings, say: Say, *, only: list[str] | None = None) -> None:
    """Stop processes (all by default, live sales first); data stays for the next `up`."""
    supervisor(settings, with_sales=True).down(only or None, progress=say)


def source_is_empty(settings: Settings) -> bool:
    conn = psycopg2.connect(settings.postgres_dsn())
    try:
        with conn.cursor() as cur:
            cur.execute(f"select not exists (select 1 from {settings.source_schema}.tickets)")
            row = cur.fetchone()
    finally:
        conn.close()
    return bool(row and row[0])


def start_sales(settings: Settings, *, rate: float, say: Say) -> None:
    sales = Sales(settings=settings, rate=rate)
    Supervisor(settings=settings, components=[sales]).up([sales.name], progress=say)

