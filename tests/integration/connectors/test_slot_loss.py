"""A replication slot lost while the connector was stopped stops the connector, loudly.

The slot is dropped (and, in the second case, created anew at the current WAL position,
as an operator "fixing" a missing slot would) while a row changes. Debezium 3.7 refuses
to start streaming when the slot cannot give the changes after its committed offset
("... but this is no longer available on the server"): the task fails rather than
skipping the gap. `status` turns red, says the slot was lost and names the recovery;
before the loss it is green (the negative control of the red light).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from boxoffice.status.connector import connector_section
from boxoffice.status.model import OK, UNHEALTHY
from connectors import manage
from connectors.connect_api import ConnectClient, stop_connector
from connectors.db import connect
from connectors.errors import SlotInvalidatedError
from connectors.slot import drop_slot, slot_state
from contracts.settings import Settings
from contracts.topics import cdc_topic
from tests.integration.connectors.topics import Event, wait_for
from tests.support.sources import admin_connection
from tests.support.waiting import wait_until


def insert_band(settings: Settings, name: str) -> int:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"insert into {settings.source_schema}.bands (name, fee) values (%s, 1) "
                        "returning id", (name,))
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def has_key(row_id: int) -> Callable[[list[Event]], bool]:
    return lambda events: any(e.key == {"id": row_id} for e in events)


def create_slot(settings: Settings) -> None:
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_create_logical_replication_slot(%s, 'pgoutput')",
                        (settings.slot_name,))
    finally:
        conn.close()


def lose_the_slot(settings: Settings, client: ConnectClient, *, recreate: bool) -> int:
    """Stop the connector, drop its slot, change a row meanwhile, and (`recreate`) create
    the slot anew, as an operator "fixing" a missing slot would; the changed row's id."""
    name = settings.connector_name
    stop_connector(client, name)
    wait_until(lambda: (client.status(name) or {}).get("connector", {}).get("state")
               == "STOPPED", deadline_seconds=60, what="the connector to stop")
    wait_until(lambda: not slot_state(settings).exists or drop_slot(settings),
               deadline_seconds=60, what="the slot to be released and dropped")
    gap = insert_band(settings, "The Band Nobody Captured")
    if recreate:
        create_slot(settings)
    time.sleep(1)
    client.resume(name)
    return gap


def streaming(settings: Settings) -> int:
    manage.apply(settings, deadline_seconds=120)
    first = insert_band(settings, "The Captured Band")
    wait_for(settings, cdc_topic(settings, "bands"), has_key(first), deadline_seconds=60)
    return first


@pytest.mark.parametrize("recreate", [False, True], ids=["dropped", "created-anew"])
def test_a_lost_slot_stops_the_connector_and_status_names_the_recovery(
        captured_source: Settings, recreate: bool) -> None:
    settings = captured_source
    streaming(settings)
    client = ConnectClient(settings=settings)
    assert connector_section(settings).state == OK

    gap = lose_the_slot(settings, client, recreate=recreate)
    section = wait_until(
        lambda: (s := connector_section(settings)).state == UNHEALTHY and "FAILED" in
        s.summary and s, deadline_seconds=120, what="the connector's task to fail")
    assert "The slot was dropped, or created anew" in section.summary, section.summary
    assert "boxoffice connector resnapshot" in section.summary
    events = wait_for(settings, cdc_topic(settings, "bands"), lambda _events: True)
    assert not has_key(gap)(events)  # nothing streamed past the gap either


def invalidate_the_slot(settings: Settings, client: ConnectClient) -> None:
    """Stop the connector, then write more WAL than max_slot_wal_keep_size allows the
    idle slot to keep (lowered to 1 MB for the moment) and checkpoint: PostgreSQL
    invalidates the slot (wal_status=lost), as after a long outage."""
    stop_connector(client, settings.connector_name)
    wait_until(lambda: not slot_state(settings).active, deadline_seconds=60,
               what="the slot to be released")
    admin = admin_connection(settings)
    try:
        with admin.cursor() as cur:
            cur.execute("alter system set max_slot_wal_keep_size = '1MB'")
            cur.execute("select pg_reload_conf()")
        time.sleep(2)  # every process, the checkpointer too, reads the new setting
        conn = connect(settings, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("create table public.wal_filler (x text)")

                def invalidated() -> bool:
                    cur.execute("insert into public.wal_filler select repeat('x', 500) "
                                "from generate_series(1, 2000)")
                    cur.execute("select pg_switch_wal()")
                    with admin.cursor() as checkpoint:
                        checkpoint.execute("checkpoint")
                    return slot_state(settings).invalidated

                wait_until(invalidated, deadline_seconds=60,
                           what="the slot to be invalidated")
        finally:
            conn.close()
    finally:
        with admin.cursor() as cur:
            cur.execute("alter system reset max_slot_wal_keep_size")
            cur.execute("select pg_reload_conf()")
        admin.close()


def test_an_invalidated_slot_is_red_in_capitals_and_refuses_a_restart(
        captured_source: Settings) -> None:
    settings = captured_source
    streaming(settings)
    client = ConnectClient(settings=settings)
    assert connector_section(settings).state == OK
    invalidate_the_slot(settings, client)

    section = connector_section(settings)
    assert section.state == UNHEALTHY
    with pytest.raises(SlotInvalidatedError, match="boxoffice connector resnapshot"):
        manage.apply(settings, deadline_seconds=30)

    manage.resnapshot(settings, deadline_seconds=120)  # the recovery runs again
    wait_until(lambda: connector_section(settings).state == OK, deadline_seconds=120,
               what="the connector streaming on a new slot")
    after = insert_band(settings, "The Band After The Recovery")
    wait_for(settings, cdc_topic(settings, "bands"), has_key(after), deadline_seconds=60)
