"""`boxoffice replay cdc`: re-run the processors (as the code is now) from the CDC topics
into a new version of the facts topic, then rebuild the warehouse from it and switch the
whole pipeline to it. The path after a change to the transformation.

    names     facts topic vN -> vN+1, app id -> <base>-vN+1 (new consumer group, join
              topic and state changelog: the new run starts from empty state)
    workers   `replay-processors-<i>` under the supervisor, reading the CDC topics from
              the beginning (compacted: the current state of every row) into vN+1
    catch up  their group reaches the CDC end offsets taken at the start, then the join
              topic's end offsets
    rebuild   replay facts from vN+1 into a shadow (as `replay facts`), the sink paused
    switch    after the swap: record the generation (<state_dir>/facts-generation.json),
              stop the replay workers and the old processors, start the processors and
              the sink on vN+1 (they continue from the offsets the replay left)

The old facts topic and the old processors' group are left in place (delete them once
satisfied); a failure before the swap leaves the pipeline on vN as it was.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from boxoffice.pipeline import supervisor
from boxoffice.replay.control import ProcessControl
from boxoffice.stack.components import pipeline_components
from boxoffice.stack.components.processors import ProcessorWorker
from boxoffice.stack.components.sink import Sink, sink_names
from boxoffice.stack.supervisor import Supervisor
from contracts.settings import Settings
from contracts.topics import join_topic, processor_input_topics
from warehouse.replay.errors import ReplayError
from warehouse.replay.facts import Reconcile, ReplayOptions, ReplayReport, replay_facts
from warehouse.replay.generation import record_generation, with_generation
from warehouse.replay.names import app_id_for_version, next_facts_topic, topic_version
from warehouse.replay.offsets import committed_offsets, end_offsets, nothing_readable

Say = Callable[[str], None]


@dataclass
class CdcReport:
    facts_topic: str
    faust_app_id: str
    catch_up_seconds: float
    facts: ReplayReport


def new_generation(settings: Settings) -> Settings:
    version = topic_version(settings.facts_topic) + 1
    return with_generation(settings, facts_topic=next_facts_topic(settings.facts_topic),
                           faust_app_id=app_id_for_version(settings.faust_app_id, version))


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def replay_cdc(settings: Settings, *, options: ReplayOptions | None = None,
               say: Say = print, catch_up_deadline_seconds: float = 3600.0,
               reconcile: Reconcile | None = None) -> CdcReport:
    """See the module doc; `reconcile` compares the rebuilt shadow with the source before
    the swap (the CLI passes verify's checks)."""
    new = new_generation(settings)
    say(f"new generation: facts topic {new.facts_topic}, processors {new.faust_app_id}")
    first = settings.faust_workers  # indexes past the live workers: own data dirs
    workers = []
    for number in range(settings.faust_workers):
        index = first + number
        port_base = _free_port(settings.bind_host) - index
        worker_settings = new.model_copy(update={"faust_web_port": port_base})
        workers.append(ProcessorWorker(settings=worker_settings, index=index,
                                       name=f"replay-processors-{number}"))
    replay_workers = Supervisor(settings=new, components=workers)
    cdc = list(processor_input_topics(settings))
    cdc_ends = {topic: end_offsets(settings, topic) for topic in cdc}
    began = time.monotonic()
    replay_workers.up(progress=say)
    switched = False
    try:
        _wait_caught_up(new, cdc_ends, deadline=began + catch_up_deadline_seconds, say=say)
        join = join_topic(new)
        _wait_caught_up(new, {join: end_offsets(new, join)},
                        deadline=began + catch_up_deadline_seconds, say=say)
        catch_up = time.monotonic() - began
        say(f"processors caught up with the CDC topics in {catch_up:.1f} s")
        sink = ProcessControl(supervisor(settings), sink_names(settings), say)

        def switch() -> None:
            nonlocal switched
            record_generation(settings, facts_topic=new.facts_topic,
                              faust_app_id=new.faust_app_id)
            switched = True
            replay_workers.down(progress=say)
            live = supervisor(settings)
            for component in pipeline_components(settings):
                if not isinstance(component, Sink):
                    live.stop(live.component(component.name))
            processors = [c.name for c in pipeline_components(new)
                          if not isinstance(c, Sink)]
            supervisor(new).up(processors, progress=say)
            sink.supervisor = supervisor(new)  # the sink restarts on the new topic

        report = replay_facts(new, sink=sink, options=options, topic=new.facts_topic,
                              sink_has_read=False, reconcile=reconcile, say=say,
                              on_swapped=switch)
    finally:
        if not switched:
            replay_workers.down(progress=say)
    return CdcReport(facts_topic=new.facts_topic, faust_app_id=new.faust_app_id,
                     catch_up_seconds=catch_up, facts=report)


def _wait_caught_up(new: Settings, ends: dict[str, dict[int, int]], *, deadline: float,
                    say: Say) -> None:
    """Until the new processors' group has committed at least `ends` on every topic, or
    all that lies below `ends` after its commit is unreadable (transaction markers: the
    CDC topics are written in Connect's transactions, so a quiet table ends on one)."""
    last_report = 0.0
    seen: dict[tuple[str, int], int] = {}
    while True:
        behind = 0
        for topic, offsets in ends.items():
            committed = committed_offsets(new, new.faust_app_id, topic)
            for partition, end in offsets.items():
                at = committed.get(partition, 0)
                if at >= end:
                    continue
                stalled = seen.get((topic, partition)) == at
                seen[(topic, partition)] = at
                if not (stalled and nothing_readable(new, topic, partition, at, end)):
                    behind += end - at
        if behind == 0:
            return
        now = time.monotonic()
        if now > deadline:
            raise ReplayError(
                f"replay cdc: the new processors ({new.faust_app_id}) are still {behind} "
                "records behind; see the replay-processors log under the state "
                "directory's logs. The pipeline is unchanged (still on "
                "the previous facts topic).")
        if now - last_report > 5:
            say(f"processors: {behind:,} records to go")
            last_report = now
        time.sleep(1.0)
