"""Where the live checks start. Both sides of a comparison read from the same instants,
taken once per pass, so a sale on the window's edge is in both or in neither."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

LIVE_WINDOW_MINUTES = 60
"""The minute-by-venue aggregate is compared over the live dashboard's last hour."""
RUSH_COMPARED_SECONDS = 14 * 60
"""The on-sale rush view holds the last 15 minutes by ClickHouse's clock; the last 14 of
them are compared, so the two clocks may differ by up to a minute."""


def window_start_for(now: dt.datetime, minutes: int = LIVE_WINDOW_MINUTES) -> dt.datetime:
    """The first whole UTC minute of the live window ending at `now`."""
    start = now.astimezone(dt.UTC) - dt.timedelta(minutes=minutes)
    return start.replace(second=0, microsecond=0)


def rush_start_for(now: dt.datetime) -> dt.datetime:
    """The first whole 10 seconds of the compared rush window ending at `now`."""
    start = now.astimezone(dt.UTC) - dt.timedelta(seconds=RUSH_COMPARED_SECONDS)
    return start.replace(second=start.second - start.second % 10, microsecond=0)


@dataclass(frozen=True)
class Windows:
    live: dt.datetime
    rush: dt.datetime

    @classmethod
    def ending(cls, now: dt.datetime, live_minutes: int = LIVE_WINDOW_MINUTES) -> Windows:
        return cls(live=window_start_for(now, live_minutes), rush=rush_start_for(now))
