"""The topics' retention and cleanup against the policy: red when a record could be
deleted by time before it is used (see boxoffice/topics.py)."""

from __future__ import annotations

from boxoffice.status.kafka_admin import REQUEST_TIMEOUT_SECONDS, admin_client
from boxoffice.status.model import OK, UNHEALTHY, Section
from boxoffice.topics import FIX, drift
from contracts.settings import Settings


def topics_section(settings: Settings) -> Section:
    found = drift(settings, admin_client(settings), timeout=REQUEST_TIMEOUT_SECONDS)
    if not found:
        return Section("topics", OK, "every pipeline topic follows the retention policy")
    return Section("topics", UNHEALTHY,
                   f"{len(found)} setting(s) differ from the retention policy, e.g. "
                   f"{found[0]}; records could be deleted before they are used: run `{FIX}`",
                   data={"drift": [str(d) for d in found]})
