"""The stack's components, in start order. Each module holds one component."""

from __future__ import annotations

from boxoffice.stack.component import Component
from contracts.settings import Settings


def stack_components(settings: Settings) -> list[Component]:
    """The infrastructure services, in dependency order."""
    from boxoffice.stack.components.clickhouse import ClickHouse
    from boxoffice.stack.components.connect import KafkaConnect
    from boxoffice.stack.components.kafka import kafka_nodes
    from boxoffice.stack.components.postgres import Postgres
    from boxoffice.stack.components.superset import Superset

    return [
        Postgres(settings=settings),
        *kafka_nodes(settings),
        KafkaConnect(settings=settings),
        ClickHouse(settings=settings),
        Superset(settings=settings),
    ]


def pipeline_components(settings: Settings) -> list[Component]:
    """The pipeline's own processes: Faust workers and the sink processes."""
    from boxoffice.stack.components.processors import ProcessorWorker
    from boxoffice.stack.components.sink import Sink

    workers: list[Component] = [
        ProcessorWorker(settings=settings, index=i) for i in range(settings.faust_workers)
    ]
    sinks: list[Component] = [Sink(settings=settings, index=i)
                              for i in range(settings.sink_processes)]
    return [*workers, *sinks]


def all_components(settings: Settings) -> list[Component]:
    """Everything `boxoffice up` runs, in start order."""
    return [*stack_components(settings), *pipeline_components(settings)]
