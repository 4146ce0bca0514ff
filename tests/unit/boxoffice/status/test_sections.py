"""The pure parts of status: lag arithmetic, metric totals, rates, dead-letter counting."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING

from boxoffice.status.collect import run_probes
from boxoffice.status.connector import task_failure
from boxoffice.status.dead_letters import Tally, count_stages, stage_of
from boxoffice.status.lag import group_lag
from boxoffice.status.model import DOWN, OK, UNKNOWN, WARN, Section, StatusReport, worst
from boxoffice.status.processors import summarise
from boxoffice.status.sink import rows_per_second


def test_group_lag_sums_partitions_per_topic_and_ignores_unknown() -> None:
    committed = {("facts", 0): 10, ("facts", 1): 5, ("dims", 0): 7, ("gone", 0): 3,
                 ("fresh", 0): -1001}
    ends = {("facts", 0): 12, ("facts", 1): 5, ("dims", 0): 6, ("fresh", 0): 9}
    assert group_lag(committed, ends) == {"facts": 2, "dims": 0}


def test_processor_metrics_are_totalled_over_workers() -> None:
    totals = summarise([{"pending_joins": 3, "events_in_per_s": 10.5, "dead_letters": 1},
                        {"pending_joins": 4, "events_in_per_s": 2.0, "consumer_lag": 9}])
    assert totals["pending_joins"] == 7
    assert totals["events_in_per_s"] == 12.5
    assert (totals["dead_letters"], totals["consumer_lag"]) == (1, 9)


def test_sink_rate_is_zero_once_batches_stop() -> None:
    metrics = {"rows_per_second": 1234.56, "last_batch_at": 100.0}
    assert rows_per_second(metrics, now=101.0) == 1234.6
    assert rows_per_second(metrics, now=200.0) == 0.0
    assert rows_per_second({"rows_per_second": 5.0, "last_batch_at": None}, now=1.0) == 0.0


def test_dead_letters_are_counted_by_stage() -> None:
    values = [json.dumps({"stage": "sink"}).encode(), b'{"stage":"processors"}',
              b'{"stage":"sink","reason":"x"}', b"not json", None, b"[1]"]
    assert count_stages(values) == {"sink": 2, "processors": 1, "unknown": 3}
    assert stage_of(b'{"stage": ""}') == "unknown"


def test_tally_resumes_and_starts_over_when_the_topic_shrank(tmp_path: Path) -> None:
    tally = Tally(topic="dlq")
    assert tally.start_offset(0, 0, 0) == 0
    assert tally.start_offset(0, 0, 5) == OFFSET_BEGINNING
    tally.next_offsets[0] = 5
    tally.stages["sink"] = 5
    assert tally.start_offset(0, 0, 9) == 5
    assert tally.start_offset(0, 7, 9) == 7  # retention removed counted records
    path = tmp_path / "tally.json"
    path.write_text(tally.to_json())
    loaded = Tally.load(path, "dlq")
    assert (loaded.next_offsets, loaded.stages) == ({0: 5}, {"sink": 5})
    assert Tally.load(path, "another-topic").stages == {}
    assert loaded.start_offset(0, 0, 2) == OFFSET_BEGINNING  # recreated topic
    assert loaded.stages == {}


def test_worst_state_wins_and_warn_is_healthy() -> None:
    assert worst([OK, WARN]) == WARN
    assert worst([OK, DOWN, UNKNOWN]) == DOWN
    report = StatusReport(sections=[Section("a", OK, ""), Section("b", WARN, "")],
                          collected_at=0.0, seconds=0.1)
    assert report.healthy
    assert not StatusReport(sections=[Section("a", UNKNOWN, "")], collected_at=0.0,
                            seconds=0.1).healthy


def test_a_hung_or_failing_probe_does_not_hold_the_others() -> None:
    never = threading.Event()

    def hung() -> Section:
        never.wait()
        return Section("hung", OK, "")

    def broken() -> Section:
        raise RuntimeError("boom")

    sections = run_probes({"fine": lambda: Section("fine", OK, "up"), "hung": hung,
                           "broken": broken}, deadline_seconds=0.3)
    never.set()
    by_name = {s.name: s for s in sections}
    assert [s.name for s in sections] == ["fine", "hung", "broken"]
    assert by_name["fine"].state == OK
    assert by_name["hung"].state == UNKNOWN and "timed out" in by_name["hung"].summary
    assert by_name["broken"].state == UNKNOWN and "boom" in by_name["broken"].summary


def test_a_failed_task_names_its_innermost_cause_and_the_restart() -> None:
    trace = ("org.apache.kafka.connect.errors.ConnectException: An exception occurred\n"
             "\tat io.debezium.pipeline.ErrorHandler.setProducerThrowable\n"
             "Caused by: org.apache.kafka.connect.errors.ConnectException: Error while\n"
             "Caused by: org.postgresql.util.PSQLException: FATAL: password authentication "
             "failed\n")
    text = task_failure(trace)
    assert "An exception occurred" in text
    assert "(caused by org.postgresql.util.PSQLException: FATAL: password" in text
    assert text.endswith("`boxoffice connector restart`")


def test_a_value_debezium_could_not_convert_names_the_resnapshot_not_a_restart() -> None:
    trace = ("org.apache.kafka.connect.errors.ConnectException: An exception occurred\n"
             "Caused by: org.apache.kafka.connect.errors.DataException: Invalid value: null "
             'used for required field: "price", schema type: INT32\n')
    text = task_failure(trace)
    assert "`boxoffice connector resnapshot`" in text
    assert "restart fails the same way" in text
