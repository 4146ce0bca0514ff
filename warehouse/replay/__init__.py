"""Backfills: rebuild the warehouse's derived tables from the retained topics.

`replay_facts` rebuilds the fact table and every aggregate from the facts topic into a
shadow database and swaps it in; `replay_cdc` re-runs the processors from the CDC topics
into a new facts topic version first. See docs/replay.md.
"""

from warehouse.replay.errors import ReplayError, ShadowCheckFailed
from warehouse.replay.facts import ReplayOptions, ReplayReport, replay_facts

__all__ = ["ReplayError", "ReplayOptions", "ReplayReport", "ShadowCheckFailed",
           "replay_facts"]
