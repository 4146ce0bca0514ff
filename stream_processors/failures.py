"""Which Kafka failures a worker recovers from in-process, and which stop it.

Almost every failure is recoverable: the broker restarting, a coordinator moving, a
transaction timing out, a rebalance fencing a slow worker. The worker then aborts what is
open, rebuilds the partition from its changelog and carries on from the committed offsets
(`join_stage`, `route_stage`). It stops, with a message saying what to do, only when
retrying cannot help: the broker refuses us (authorisation, unsupported version, a record
too large) or keeps refusing the same partition.
"""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from contracts.errors import BoxofficeError

FATAL_CODES = frozenset({
    KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED, KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError._AUTHENTICATION, KafkaError.UNSUPPORTED_VERSION,
    KafkaError._UNSUPPORTED_FEATURE, KafkaError._INVALID_ARG, KafkaError._SSL,
    KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_TRANSACTION_TIMEOUT,
})
FENCED_CODES = frozenset({KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                          KafkaError.INVALID_PRODUCER_EPOCH,
                          KafkaError.TRANSACTION_COORDINATOR_FENCED})
UNREACHABLE_CODES = frozenset({KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN,
                               KafkaError._TIMED_OUT, KafkaError._MSG_TIMED_OUT})
MAX_REFUSALS = 8
"""Consecutive failures of one partition, with the broker answering, before we stop."""


class ProcessorsError(BoxofficeError):
    """The stream processors cannot go on; the message says what to do."""


class FatalWorkerError(ProcessorsError):
    """Retrying cannot help: the worker stops and says what to do."""


def kafka_error(exc: BaseException) -> KafkaError | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None


def is_fatal(exc: BaseException) -> bool:
    error = kafka_error(exc)
    return error is not None and error.code() in FATAL_CODES


def is_fenced(exc: BaseException) -> bool:
    error = kafka_error(exc)
    return error is not None and error.code() in FENCED_CODES


def is_unreachable(exc: BaseException) -> bool:
    """Kafka did not answer (down, restarting, network): wait as long as it takes."""
    error = kafka_error(exc)
    return error is not None and (error.code() in UNREACHABLE_CODES or error.retriable())


def describe(exc: BaseException) -> str:
    """The failure in plain words, for the log."""
    error = kafka_error(exc)
    if error is None:
        return f"{type(exc).__name__}: {exc}"
    if error.code() == KafkaError._FATAL:
        return ("the producer can no longer be used (librdkafka: fatal error, e.g. fenced "
                "by a newer instance); a new one is started")
    return f"Kafka said {error.name()} ({error.str()})"


def fatal(what: str, exc: BaseException, bootstrap: str) -> FatalWorkerError:
    return FatalWorkerError(
        f"processors: {what} failed and retrying cannot help: {describe(exc)}. Check the "
        f"broker at {bootstrap} (its log, ACLs, topic settings), fix it, then start the "
        "worker again: it resumes from the last committed batch.")
