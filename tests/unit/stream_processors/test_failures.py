"""Which Kafka failures the worker recovers from, and which stop it with a message."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from stream_processors.failures import (
    FatalWorkerError,
    describe,
    fatal,
    is_fatal,
    is_fenced,
    is_unreachable,
)


def _exc(code: int, *, retriable: bool = False) -> KafkaException:
    return KafkaException(KafkaError(code, "broker says no", retriable=retriable))


def test_refusals_that_retrying_cannot_fix_are_fatal() -> None:
    for code in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.MSG_SIZE_TOO_LARGE,
                 KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED):
        assert is_fatal(_exc(code))
    assert not is_fatal(_exc(KafkaError._TRANSPORT))
    assert not is_fatal(ValueError("not a Kafka error"))


def test_fencing_and_an_unreachable_broker_are_recovered() -> None:
    assert is_fenced(_exc(KafkaError.PRODUCER_FENCED))
    assert is_fenced(_exc(KafkaError._FENCED))
    assert is_unreachable(_exc(KafkaError._ALL_BROKERS_DOWN))
    assert is_unreachable(_exc(KafkaError.COORDINATOR_NOT_AVAILABLE, retriable=True))
    assert not is_unreachable(_exc(KafkaError.INVALID_TXN_STATE))
    assert not is_unreachable(RuntimeError("a bug: counted, then fatal"))


def test_the_fatal_message_says_what_failed_and_what_to_do() -> None:
    error = fatal("join partition 2: a transaction", _exc(KafkaError.CLUSTER_AUTHORIZATION_FAILED),
                  "127.0.0.1:9092")
    assert isinstance(error, FatalWorkerError)
    text = str(error)
    assert "join partition 2" in text and "CLUSTER_AUTHORIZATION_FAILED" in text
    assert "127.0.0.1:9092" in text and "start the worker again" in text
    assert describe(ValueError("x")) == "ValueError: x"
