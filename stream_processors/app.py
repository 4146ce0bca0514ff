"""The Faust app: the worker's entry point, web page, timer and lifecycle.

The processing itself (`runner.Runner`: route stage + join stage) runs in one thread
with librdkafka clients, because Faust's per-event machinery (fetcher, conductor, stream
buffers, acks) costs several times the join logic, paid twice per change. Faust keeps
what it is good at here: the worker process and its signals, the metrics web page that
`boxoffice status` reads, the metrics timer, and crashing the worker with a clear
message when the runner meets a failure it cannot recover from.

Faust's own Kafka consumer only joins the small group ``<faust_app_id>-app`` (its leader
topic): the processing group ``faust_app_id`` is the runner's, so offsets, consumer lag
and `replay cdc` all read that one group. See docs/processors.md.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import faust
import orjson

from contracts.metrics_http import serve_in_background
from contracts.settings import Settings
from stream_processors.failures import FatalWorkerError
from stream_processors.metrics import Metrics
from stream_processors.prometheus import worker_registry
from stream_processors.runner import Runner

log = logging.getLogger("boxoffice.processors")

METRICS_PAGE = "/boxoffice/metrics/"


def create_app(settings: Settings, *, worker_index: int = 0) -> tuple[faust.App, Metrics]:
    """The Faust app of one worker process and the metrics it keeps."""
    datadir = settings.data_dir / "processors" / f"worker-{worker_index}"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"{settings.faust_app_id}-app",
        broker=[f"kafka://{address}" for address in settings.kafka_bootstrap.split(",")],
        store="memory://",
        autodiscover=False,
        topic_partitions=1,
        topic_replication_factor=settings.kafka_replication_factor,
        topic_allow_declare=True,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        web_enabled=True,
        web_bind=settings.bind_host,
        web_port=settings.faust_web_port + worker_index,
        datadir=str(datadir),
    )
    metrics = Metrics(worker=f"{settings.faust_app_id}-{worker_index}")
    stats = app.topic(settings.metrics_topic, key_serializer="raw", value_serializer="raw")
    stop = threading.Event()
    finished = threading.Event()

    def crash(loop: asyncio.AbstractEventLoop, exc: BaseException) -> None:
        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(app.crash(exc)))

    def work(loop: asyncio.AbstractEventLoop) -> None:
        try:
            Runner(settings=settings, metrics=metrics).run(stop)
        except FatalWorkerError as exc:
            log.error("%s", exc)
            crash(loop, exc)
        except BaseException as exc:
            log.exception("processors: the worker stopped on an unexpected error; it "
                          "resumes from the last committed batch when started again")
            crash(loop, exc)
        finally:
            finished.set()

    @app.task
    async def start_runner() -> None:
        serve_in_background(settings, worker_registry(metrics),
                            settings.processors_metrics_port + worker_index,
                            setting="BOXOFFICE_PROCESSORS_METRICS_PORT")
        loop = asyncio.get_running_loop()
        threading.Thread(target=work, args=(loop,), name="processors-runner",
                         daemon=True).start()

    @app.page(METRICS_PAGE)
    async def metrics_page(web: Any, request: Any) -> Any:
        return web.json(metrics.snapshot())

    @app.timer(5.0)
    async def publish_metrics() -> None:
        metrics.tick()
        stats.send_soon(key=metrics.worker.encode(),
                        value=orjson.dumps(metrics.snapshot()))

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def stop_runner(sender: Any, **_: Any) -> None:
        stop.set()
        await asyncio.to_thread(finished.wait, 60.0)

    del start_runner, metrics_page, publish_metrics, stop_runner
    return app, metrics
