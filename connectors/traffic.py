"""`boxoffice sell`: the ticketing system's own traffic, as ordinary short transactions.

Every step of a plan (`connectors.workload`) runs in its own transaction on one
connection, the way a ticketing web app would write. Rows are chosen against the current
state (ids known at start plus those created since), so the same seed on the same
database gives the same sequence of changes.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from connectors.db import connect
from connectors.generator import FEES, TICKETS_PER_PURCHASE
from connectors.names import BAND_FIRST, BAND_SECOND, FIRST_NAMES, LAST_NAMES
from connectors.workload import Planner, Step
from contracts.settings import Settings

_TICKET_COUNTS = list(range(1, 9))
_TICKET_WEIGHTS = TICKETS_PER_PURCHASE.tolist()
MIN_UPCOMING = 6


@dataclass(frozen=True)
class Applied:
    """What one step changed: table -> ids touched, for tests to check events against."""

    kind: str
    changes: dict[str, tuple[int, ...]]


@dataclass
class TrafficResult:
    transactions: int = 0
    seconds: float = 0.0
    by_kind: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    """Steps that found nothing to act on (e.g. a refund when no ticket exists)."""
    applied: list[Applied] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.transactions / self.seconds if self.seconds > 0 else 0.0


class TrafficExecutor:
    """Runs steps against the source, one short transaction each."""

    def __init__(self, *, conn: psycopg2.extensions.connection, schema: str,
                 bootstrap_seed: int = 0) -> None:
        self._conn = conn
        self._schema = schema
        self._t = {name: sql.Identifier(schema, name).as_string(conn)
                   for name in ("bands", "venues", "performances", "people", "purchases",
                                "tickets")}
        self._dropped: set[str] = set()
        self._load_state()
        self._ensure_upcoming(random.Random(bootstrap_seed))

    # --- state ------------------------------------------------------------------------
    def _scalar(self, query: str, args: tuple[object, ...] = ()) -> int:
        with self._conn.cursor() as cur:
            cur.execute(query, args)
            row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _load_state(self) -> None:
        t = self._t
        with self._conn, self._conn.cursor() as cur:
            cur.execute(f"select id from {t['venues']} order by id")
            self._venues = [r[0] for r in cur.fetchall()]
            cur.execute(f"select id from {t['performances']} "
                        "where performance_start > now() order by id")
            self._upcoming = [r[0] for r in cur.fetchall()]
        self._max_person = self._scalar(f"select max(id) from {t['people']}")
        self._max_band = self._scalar(f"select max(id) from {t['bands']}")
        self._max_purchase = self._scalar(f"select max(id) from {t['purchases']}")
        self._max_ticket = self._scalar(f"select max(id) from {t['tickets']}")
        if not self._venues:
            from connectors.errors import SourceError

            raise SourceError(f"source: {self._schema}.venues is empty; run "
                              "`boxoffice seed` before `boxoffice sell`")

    def _ensure_upcoming(self, rng: random.Random) -> None:
        """A sale needs upcoming performances; create a small lineup if there is none."""
        while len(self._upcoming) < MIN_UPCOMING:
            try:
                with self._conn:
                    self._new_performance(rng, {})
            except psycopg2.errors.UndefinedColumn as exc:
                self._dropped.add(_optional_column(exc))

    # --- running ------------------------------------------------------------------------
    def run(self, step: Step, *, record: bool = False) -> Applied | None:
        """One step in one transaction; None when it found nothing to act on."""
        try:
            done, changes = self._apply(step)
        except psycopg2.errors.UndefinedColumn as exc:
            self._dropped.add(_optional_column(exc))  # dropped by an analyst: go on
            done, changes = self._apply(step)
        if not done:
            return None
        return Applied(step.kind, {k: tuple(v) for k, v in changes.items()}) if record \
            else Applied(step.kind, {})

    def _apply(self, step: Step) -> tuple[bool, dict[str, list[int]]]:
        """The step in one transaction (rolled back on any error)."""
        changes: dict[str, list[int]] = {}
        with self._conn:
            done = getattr(self, f"_{step.kind}")(random.Random(step.seed), changes)
        return done, changes

    def _cur(self) -> psycopg2.extensions.cursor:
        return self._conn.cursor()

    def _pick(self, table: str, upper: int, rng: random.Random) -> int | None:
        """An existing id at or after a random point (wrapping), or None if empty."""
        t = self._t[table]
        start = rng.randint(1, max(upper, 1))
        with self._cur() as cur:
            cur.execute(f"select id from {t} where id >= %s order by id limit 1", (start,))
            row = cur.fetchone()
            if row is None:
                cur.execute(f"select min(id) from {t}")
                row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else None

    # --- operations (each returns False when there was nothing to do) -----------------
    def _purchase(self, rng: random.Random, changes: dict[str, list[int]]) -> bool:
        t = self._t
        performance = rng.choice(self._upcoming)
        count = rng.choices(_TICKET_COUNTS, _TICKET_WEIGHTS)[0]
        base = rng.randint(20, 30)
        with self._cur() as cur:
            if self._max_person == 0 or rng.random() < 0.1:
                cur.execute(f"insert into {t['people']} (name) values (%s) returning id",
                            (_person_name(rng),))
                person = cur.fetchone()[0]  # type: ignore[index]
                self._max_person = max(self._max_person, person)
                changes.setdefault("people", []).append(person)
            else:
                person = rng.randint(1, self._max_person)
            cur.execute(f"insert into {t['purchases']} (purchase_date, person_id) "
                        "values (now(), %s) returning id", (person,))
            purchase = cur.fetchone()[0]  # type: ignore[index]
            self._max_purchase = max(self._max_purchase, purchase)
            rows: list[tuple[object, ...]] = [
                (max(10, base + rng.randint(-2, 2)), performance, purchase,
                 f"ACL-{performance:05d}-P{purchase}-{k + 1}") for k in range(count)]
            columns = "price, performance_id, purchase_id, ticketnum"
            if "ticketnum" in self._dropped:
                rows = [r[:3] for r in rows]
                columns = "price, performance_id, purchase_id"
            shape = "(" + ",".join(["%s"] * len(rows[0])) + ")"
            args = ",".join(cur.mogrify(shape, r).decode() for r in rows)
            cur.execute(f"insert into {t['tickets']} ({columns}) values {args} returning id")
            tickets = [r[0] for r in cur.fetchall()]
        self._max_ticket = max([self._max_ticket, *tickets])
        changes.setdefault("purchases", []).append(purchase)
        changes.setdefault("tickets", []).extend(tickets)
        return True

    def _refund_ticket(self, rng: random.Random, changes: dict[str, list[int]]) -> bool:
        ticket = self._pick("tickets", self._max_ticket, rng)
        if ticket is None:
            return False
        with self._cur() as cur:
            cur.execute(f"delete from {self._t['tickets']} where id = %s", (ticket,))
        changes["tickets"] = [ticket]
        return True

    def _refund_purchase(self, rng: random.Random, changes: dict[str, list[int]]) -> bool:
        purchase = self._pick("purchases", self._max_purchase, rng)
        if purchase is None:
            return False
        with self._cur() as cur:
            cur.execute(f"delete from {self._t['tickets']} where purchase_id = %s "
                        "returning id", (purchase,))
            changes["tickets"] = sorted(r[0] for r in cur.fetchall())
            cur.execute(f"delete from {self._t['purchases']} where id = %s", (purchase,))
        changes["purchases"] = [purchase]
        return True

    def _price_correction(self, rng: random.Random, changes: dict[str, list[int]]) -> bool:
        ticket = self._pick("tickets", self._max_ticket, rng)
        if ticket is None:
            return False
        delta = rng.choice([-5, -3, -2, -1, 1, 2, 3, 5])
        with self._cur() as cur:
            cur.execute(f"update {self._t['tickets']} set price = greatest(1, price + %s) "
                        "where id = %s", (delta, ticket))
        changes["tickets"] = [ticket]
        return True

    def _move_performance(self, rng: random.Random, changes: dict[str, list[int]]) -> bool:
        performance = rng.choice(self._upcoming)
        venue = rng.choice(self._venues)
        shift = dt.timedelta(minutes=15 * rng.randint(-8, 8))
        with self._cur() as cur:
            cur.execute(f"update {self._t['performances']} set venue_id = %s, "
                        "performance_start = performance_start + %s where id = %s",
                        (venue, shift, performance))
        changes["performances"] = [performance]
        return True

    def _new_performance(self, rng: random.Random, changes: dict[str, list[int]]) -> bool:
        t = self._t
        with self._cur() as cur:
            if self._max_band == 0 or rng.random() < 0.5:
                band = self._insert_band(cur, _band_name(rng), int(rng.choice(FEES.tolist())))
                self._max_band = max(self._max_band, band)
                changes["bands"] = [band]
            else:
                band = rng.randint(1, self._max_band)
            start_in = dt.timedelta(days=rng.randint(20, 60), minutes=15 * rng.randint(0, 40))
            cur.execute(f"insert into {t['performances']} (performance_start, band_id, "
                        "venue_id) values (date_trunc('hour', now()) + %s, %s, %s) "
                        "returning id", (start_in, band, rng.choice(self._venues)))
            performance = cur.fetchone()[0]  # type: ignore[index]
        self._upcoming.append(performance)
        changes["performances"] = [performance]
        return True

    def _insert_band(self, cur: psycopg2.extensions.cursor, name: str, fee: int) -> int:
        if "fee" in self._dropped:
            cur.execute(f"insert into {self._t['bands']} (name) values (%s) returning id",
                        (name,))
        else:
            cur.execute(f"insert into {self._t['bands']} (name, fee) values (%s, %s) "
                        "returning id", (name, fee))
        return int(cur.fetchone()[0])  # type: ignore[index]

    def _rename_band(self, rng: random.Random, changes: dict[str, list[int]]) -> bool:
        band = self._pick("bands", self._max_band, rng)
        if band is None:
            return False
        with self._cur() as cur:
            cur.execute(f"update {self._t['bands']} set name = %s where id = %s",
                        (_band_name(rng), band))
        changes["bands"] = [band]
        return True


OPTIONAL_COLUMNS = ("fee", "ticketnum")
"""bands.fee and tickets.ticketnum: columns boxoffice does not carry. The traffic fills
them while the source has them and goes on without them once an analyst drops them."""
_COLUMN = re.compile(r'column "([^"]+)"')


def _optional_column(exc: psycopg2.errors.UndefinedColumn) -> str:
    """The optional column the error is about; anything else is raised again."""
    match = _COLUMN.search(str(exc))
    if match is None or match.group(1) not in OPTIONAL_COLUMNS:
        raise exc
    return match.group(1)


def _band_name(rng: random.Random) -> str:
    return f"The {rng.choice(BAND_FIRST)} {rng.choice(BAND_SECOND)}"


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {chr(65 + rng.randint(0, 25))}. {rng.choice(LAST_NAMES)}"


def run_workload(settings: Settings, seed: int, steps: int,
                 mix: Mapping[str, float] | None = None) -> TrafficResult:
    """Exactly `steps` steps of the plan for `seed`, recording what each one changed."""
    conn = connect(settings)
    try:
        executor = TrafficExecutor(conn=conn, schema=settings.source_schema,
                                   bootstrap_seed=seed)
        planner = Planner(seed=seed, mix=mix)
        result = TrafficResult()
        started = time.perf_counter()
        for _ in range(steps):
            _account(result, executor.run(planner.next(), record=True), keep=True)
        result.seconds = time.perf_counter() - started
        return result
    finally:
        conn.close()


def sell(settings: Settings, *, rate: float, duration: float,
         mix: Mapping[str, float] | None = None, seed: int | None = None) -> TrafficResult:
    """Traffic at `rate` transactions per second (0 = as fast as possible) for `duration`."""
    seed = seed if seed is not None else random.SystemRandom().getrandbits(32)
    conn = connect(settings)
    try:
        executor = TrafficExecutor(conn=conn, schema=settings.source_schema,
                                   bootstrap_seed=seed)
        planner = Planner(seed=seed, mix=mix)
        result = TrafficResult()
        started = time.perf_counter()
        deadline = started + duration
        interval = 1.0 / rate if rate > 0 else 0.0
        due = started
        while True:
            now = time.perf_counter()
            if now >= deadline:
                break
            if interval and now < due:
                time.sleep(min(due - now, deadline - now))
                continue
            _account(result, executor.run(planner.next()), keep=False)
            due += interval
        result.seconds = time.perf_counter() - started
        return result
    finally:
        conn.close()


def _account(result: TrafficResult, applied: Applied | None, *, keep: bool) -> None:
    if applied is None:
        result.skipped += 1
        return
    result.transactions += 1
    result.by_kind[applied.kind] += 1
    if keep:
        result.applied.append(applied)
