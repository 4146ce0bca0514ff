"""A `replay facts` that dies by SIGKILL the moment it reports a given step: a real crash
(no `finally`, no cleanup, the sink left as the replay left it), run in a child process
so the test survives it."""

from __future__ import annotations

import os
import signal

from contracts.settings import Settings
from tests.integration.replay.live import supervised_sink
from warehouse.replay import ReplayOptions, replay_facts


def replay_until(settings: Settings, step: str) -> None:
    """Replay with the supervised sink; SIGKILL ourselves at the line starting `step`."""

    def say(line: str) -> None:
        print(line, flush=True)
        if line.startswith(step):
            os.kill(os.getpid(), signal.SIGKILL)

    replay_facts(settings, sink=supervised_sink(settings), say=say,
                 options=ReplayOptions(show_progress=False, batch_rows=2000))
