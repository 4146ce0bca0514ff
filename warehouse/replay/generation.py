"""The facts generation an installation runs on: which facts topic the processors write
and the sink reads, and the processors' app id. `replay cdc` switches it by writing
`<state_dir>/facts-generation.json`; `load_settings()` reads it (an explicit override or
BOXOFFICE_FACTS_TOPIC / BOXOFFICE_FAUST_APP_ID still wins), so the sink, the processors
and `status` of every later command agree without anyone exporting a variable."""

from __future__ import annotations

import json
import os

from contracts.settings import GENERATION_FILE, Settings


def record_generation(settings: Settings, *, facts_topic: str, faust_app_id: str) -> None:
    """Persist the generation atomically (write a temp file, then rename)."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    path = settings.state_dir / GENERATION_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"facts_topic": facts_topic, "faust_app_id": faust_app_id},
                              indent=2) + "\n")
    os.replace(tmp, path)


def with_generation(settings: Settings, *, facts_topic: str, faust_app_id: str) -> Settings:
    return settings.model_copy(update={"facts_topic": facts_topic,
                                       "faust_app_id": faust_app_id})
