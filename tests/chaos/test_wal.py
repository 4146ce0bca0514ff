"""The connector paused under load: the slot's retained WAL grows, stays bounded by
max_slot_wal_keep_size, `status` warns past half of it, and resuming catches up.

The session's PostgreSQL is shared, so the limit is lowered for this test only
(PostgreSQL restarted with it, and restarted with the setting's value afterwards); the WAL is
pushed past the warning line by writing a table outside the publication, in measured
steps that stay well under the limit (past it, PostgreSQL would invalidate the slot).
"""

from __future__ import annotations

import contextlib

from boxoffice import pipeline
from boxoffice.status.connector import connector_section
from boxoffice.status.model import OK
from connectors import manage
from connectors.db import connect
from connectors.slot import slot_state
from tests.chaos import faults
from tests.chaos.pipeline import ChaosPipeline
from tests.chaos.scenario import Outcome, settle, under_load
from tests.support.waiting import wait_until

LIMIT = "96MB"
LIMIT_BYTES = 96 << 20
WAL_SEGMENT_BYTES = 16 << 20
TARGET_FRACTION = 0.6
"""Past the 50 % warning line, far from the limit."""
FILL_STEP_ROWS = 8_000
"""About 8 MB of WAL per step (rows of 960 bytes, below the TOAST threshold)."""
DEADLINE_SECONDS = 180.0


def _restart_postgres(chaos: ChaosPipeline, keep_size: str | None = None) -> None:
    """Restart PostgreSQL with `max_slot_wal_keep_size` = keep_size (None: the setting's).

    The stack passes the limit on the command line, which outranks ALTER SYSTEM, so a
    restart is the only way to change it; the connector reconnects to its slot."""
    settings = chaos.settings if keep_size is None else chaos.settings.model_copy(
        update={"postgres_max_slot_wal_keep_size": keep_size})
    faults.restart(pipeline.supervisor(settings), "postgres")
    manage.wait_running(chaos.settings, deadline_seconds=120)


def _retained(chaos: ChaosPipeline) -> int:
    return slot_state(chaos.settings).retained_bytes or 0


def _wait_caught_up(chaos: ChaosPipeline) -> None:
    """Wait for the resumed connector to bring the slot back under the warning line; a
    timeout says how much the slot still retains, the figure that tells a stuck slot
    from a slow one."""
    line = manage.WAL_WARN_FRACTION * LIMIT_BYTES
    try:
        wait_until(lambda: _retained(chaos) < line, deadline_seconds=DEADLINE_SECONDS,
                   poll=1.0, what="the slot to advance after resume")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: it retains {_retained(chaos):,} B") from None


def _fill_wal_to(chaos: ChaosPipeline, target: int) -> None:
    conn = connect(chaos.settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("create table if not exists public.chaos_wal_filler (t text)")
            while _retained(chaos) < target:
                assert _retained(chaos) < 0.8 * LIMIT_BYTES, "filler overshot"
                cur.execute("insert into public.chaos_wal_filler select repeat(md5(i::text), "
                            "30) from generate_series(1, %s) i", (FILL_STEP_ROWS,))
            cur.execute("drop table public.chaos_wal_filler")
    finally:
        conn.close()


def test_paused_connector_keeps_wal_bounded_and_status_warns(
    chaos: ChaosPipeline, outcome: Outcome
) -> None:
    s = chaos.settings
    _restart_postgres(chaos, LIMIT)
    try:
        before = _retained(chaos)
        under_load(chaos, outcome, lambda: manage.pause(s), at=0.1, duration=20.0, seed=19)
        grown_by_load = _retained(chaos) - before
        _fill_wal_to(chaos, int(TARGET_FRACTION * LIMIT_BYTES))

        current = manage.status(s)
        slot = current.slot
        outcome.notes.append(f"paused: load alone grew retained WAL by {grown_by_load:,} B; "
                             f"filled to {slot.retained_bytes:,} B of {LIMIT_BYTES:,} B")
        assert grown_by_load > 0, "the paused connector's slot must retain the load's WAL"
        assert current.max_wal_keep_bytes == LIMIT_BYTES
        assert slot.wal_status in ("reserved", "extended"), slot
        assert slot.retained_bytes is not None and slot.retained_bytes < LIMIT_BYTES
        # the bound is enforced by PostgreSQL: what is retained plus what may still be
        # written before invalidation is the limit (to a WAL segment or two)
        assert slot.safe_wal_size is not None
        assert slot.retained_bytes + slot.safe_wal_size <= LIMIT_BYTES + 2 * WAL_SEGMENT_BYTES
        assert any("max_slot_wal_keep_size" in w for w in current.warnings), current.warnings

        section = connector_section(s)  # what `boxoffice status` shows
        assert section.state != OK
        assert any("max_slot_wal_keep_size" in w for w in section.data["warnings"]), section

        manage.resume(s)
        _wait_caught_up(chaos)
        assert not manage.status(s).warnings
    finally:
        with contextlib.suppress(Exception):  # never leave later scenarios paused
            manage.resume(s)
        _restart_postgres(chaos)

    settle(chaos, outcome)
