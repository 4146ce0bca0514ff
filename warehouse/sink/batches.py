"""Cut one partition's records into batches that a restart re-forms identically.

The deduplication token of a batch is its offset range, so exactly-once needs the SAME
ranges after a crash. Before inserting, the sink commits the partition's current offset
again with the planned batch ends as commit metadata (`encode_plan`); a consumer that
picks the partition up (after a crash or a rebalance) reads that plan and cuts exactly
there before batching freely again. Size and time limits only shape new batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.columns import SourceSchemaChanged

PLAN_PREFIX = "boxoffice-sink/1 ends="
TOPIC_MARK = " topic="
"""Followed by the topic's Kafka id (`incarnations`): a commit names the incarnation its
offset belongs to, so an offset left from a deleted topic is not trusted."""


def encode_plan(ends: list[int], incarnation: str = "") -> str:
    text = PLAN_PREFIX + ",".join(str(end) for end in ends)
    return text + TOPIC_MARK + incarnation if incarnation else text


def decode_plan(metadata: str | None, committed: int) -> list[int]:
    """The planned batch ends at or after the committed offset (none if no plan)."""
    if not metadata or not metadata.startswith(PLAN_PREFIX):
        return []
    listed = metadata[len(PLAN_PREFIX):].split(TOPIC_MARK, 1)[0]
    try:
        ends = [int(part) for part in listed.split(",") if part]
    except ValueError:
        return []
    return [end for end in ends if end >= committed]


def committed_incarnation(metadata: str | None) -> str:
    """The topic id a commit was made for ('' for commits that name none)."""
    if not metadata or not metadata.startswith(PLAN_PREFIX) or TOPIC_MARK not in metadata:
        return ""
    return metadata.split(TOPIC_MARK, 1)[1].strip()


@dataclass
class DeadRecord:
    offset: int
    reason: str
    key: bytes | None
    value: bytes | None


@dataclass
class Batch:
    """Consecutive records of one partition: rows to insert and records that failed."""

    topic: str
    partition: int
    first_offset: int
    opened_at: float
    last_offset: int = -1
    records: int = 0
    lines: list[bytes] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    dead: list[DeadRecord] = field(default_factory=list)
    incarnation: str = ""
    """Kafka's id of the topic (`incarnations`); empty where none is known (tests)."""

    @property
    def token(self) -> str:
        return self.token_of(self.first_offset, self.last_offset)

    def token_of(self, first: int, last: int) -> str:
        return token(self.topic, self.partition, first, last, self.incarnation)


def token(topic: str, partition: int, first: int, last: int, incarnation: str = "") -> str:
    """The insert deduplication token of an offset range of one topic incarnation."""
    name = f"{topic}@{incarnation}" if incarnation else topic
    return f"{name}:{partition}:{first}-{last}"


class PartitionBatcher:
    """Batches of one topic partition, following a recovered plan first."""

    def __init__(self, *, topic: str, partition: int, max_records: int,
                 max_seconds: float, min_seconds: float | None = None,
                 plan: list[int] | None = None, start: int = 0,
                 incarnation: str = "") -> None:
        self.topic = topic
        self.partition = partition
        self.incarnation = incarnation
        self.next_offset = start
        """The lowest offset this batcher takes next: where the consumer was sent to read
        from, then one past the last record taken. A record below it was taken already."""
        self.max_records = max_records
        self.max_seconds = max_seconds
        self.min_seconds = max_seconds if min_seconds is None else min(min_seconds,
                                                                       max_seconds)
        """A batch that holds everything the partition has so far is sealed once it is
        this old: waiting longer would only add latency, since no record is there to
        fill it. `max_seconds` bounds a batch that keeps filling."""
        self.at_end = False
        """Everything written to the partition so far has been taken (librdkafka said so
        after the last record taken)."""
        self.plan = list(plan or [])
        self.recovered = tuple(self.plan)
        """The plan as recovered; `self.plan` is what is left of it to follow."""
        self.open: Batch | None = None
        self.sealed: list[Batch] = []
        self.stopped: tuple[int, SourceSchemaChanged] | None = None
        """Where a source schema change stopped this partition, and why: it takes no
        record from there on, and its commits end there (`contracts.columns`)."""

    def stop(self, offset: int, reason: SourceSchemaChanged) -> None:
        """Take nothing from `offset` on. The open batch is sealed now (free batching)
        or when its planned end is passed (a plan made before the stop cannot end
        beyond it: those records were stored once, so they decoded)."""
        self.stopped = (offset, reason)
        if not self.plan:
            self._seal()

    def add(self, offset: int, now: float, *, line: bytes | None = None,
            dead: DeadRecord | None = None) -> None:
        while self.plan and offset > self.plan[0]:
            # the planned last record is gone (compaction): the plan still cuts here
            self._seal()
            self.plan.pop(0)
        if self.open is None:
            self.open = Batch(self.topic, self.partition, offset, now,
                              incarnation=self.incarnation)
        self.at_end = False
        batch = self.open
        batch.last_offset = offset
        batch.records += 1
        self.next_offset = offset + 1
        if line is not None:
            batch.lines.append(line)
            batch.offsets.append(offset)
        if dead is not None:
            batch.dead.append(dead)
        if self.plan:
            if offset == self.plan[0]:
                self._seal()
                self.plan.pop(0)
        elif batch.records >= self.max_records:
            self._seal()

    def planned_ends_from(self, offset: int) -> list[int]:
        """Recovered batch ends at or after `offset`: every commit of this partition
        must carry them until they are passed, because those batches may have been
        inserted before the crash and must be cut the same way again after another."""
        return [end for end in self.recovered if end >= offset]

    def add_line(self, offset: int, now: float, line: bytes) -> None:
        """`add` for the common case, a row: see `add_lines`."""
        self.add_lines([offset], [line], now)

    def add_lines(self, offsets: list[int], lines: list[bytes], now: float) -> None:
        """Rows of consecutive records: whole slices go into the open batch, cut where
        the size limit says; the record-at-a-time `add` only opens a batch or follows a
        recovered plan. The sink calls this for every run of rows, so it does only what
        that case needs."""
        i, count = 0, len(lines)
        while i < count:
            batch = self.open
            if self.plan or batch is None:
                self.add(offsets[i], now, line=lines[i])
                i += 1
                continue
            end = min(count, i + self.max_records - batch.records)
            self.at_end = False
            batch.lines.extend(lines[i:end])
            batch.offsets.extend(offsets[i:end])
            batch.records += end - i
            batch.last_offset = offsets[end - 1]
            self.next_offset = batch.last_offset + 1
            i = end
            if batch.records >= self.max_records:
                self._seal()

    def due_at(self) -> float | None:
        """When the open batch is to be sealed: `min_seconds` after it opened once the
        partition has nothing more, else `max_seconds`. None without an open batch, or
        while a plan is followed (a planned batch waits for its last record)."""
        if self.open is None or self.plan:
            return None
        return self.open.opened_at + (self.min_seconds if self.at_end else self.max_seconds)

    def seal_if_old(self, now: float) -> None:
        due = self.due_at()
        if due is not None and now >= due:
            self._seal()

    def take_sealed(self) -> list[Batch]:
        sealed, self.sealed = self.sealed, []
        return sealed

    def _seal(self) -> None:
        if self.open is not None:
            self.sealed.append(self.open)
            self.open = None
