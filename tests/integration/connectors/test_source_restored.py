"""A source whose WAL is behind what the connector already read turns status red.

That is what a restore from a backup, or a failover to a replica that had not received
everything, looks like to the pipeline: PostgreSQL writes new changes at LSNs that the
connector's committed offset has already passed. Restoring the session's shared
PostgreSQL would roll back every test's database, so the test moves the connector's
committed offset past the WAL instead (Connect's offsets API, connector stopped): the
same condition as seen from the pipeline. Before that, status is green (the negative
control).
"""

from __future__ import annotations

from boxoffice.status.connector import connector_section
from boxoffice.status.model import OK, UNHEALTHY
from connectors import manage
from connectors.connect_api import ConnectClient, offsets, stop_connector
from connectors.slot import current_lsn
from contracts.settings import Settings
from contracts.topics import cdc_topic
from tests.integration.connectors.test_slot_loss import has_key, insert_band
from tests.integration.connectors.topics import wait_for
from tests.support.waiting import wait_until

AHEAD = 1 << 30
"""How far past the source's WAL the offset is moved: 1 GiB of WAL."""


def test_a_source_behind_the_captured_lsn_is_red_and_says_so(
        captured_source: Settings) -> None:
    settings = captured_source
    manage.apply(settings, deadline_seconds=120)
    row = insert_band(settings, "The Band Before The Restore")
    wait_for(settings, cdc_topic(settings, "bands"), has_key(row), deadline_seconds=60)
    client = ConnectClient(settings=settings)
    wait_until(lambda: manage.captured_lsn(settings, client=client), deadline_seconds=60,
               what="the connector to commit an LSN")
    assert manage.source_behind_capture(settings, client=client) is None
    assert connector_section(settings).state == OK

    name = settings.connector_name
    stop_connector(client, name)
    wait_until(lambda: (client.status(name) or {}).get("connector", {}).get("state")
               == "STOPPED", deadline_seconds=60, what="the connector to stop")
    future = current_lsn(settings) + AHEAD
    moved = [{"partition": o["partition"], "offset": {
        **o["offset"], **{k: future for k in ("lsn", "lsn_proc", "lsn_commit")
                          if k in o["offset"]}}} for o in offsets(client, name)]
    response = client._call("PATCH", f"/connectors/{name}/offsets", json={"offsets": moved})
    assert response.status_code == 200, response.text

    behind = manage.source_behind_capture(settings, client=client)
    assert behind is not None and behind[1] == future
    section = connector_section(settings)
    assert section.state == UNHEALTHY
    assert "THE SOURCE WENT BACK IN TIME" in section.summary, section.summary
    assert "docs/source.md, 'Source restored'" in section.summary
