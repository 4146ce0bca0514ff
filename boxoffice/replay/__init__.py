"""Replay orchestration: the processes a replay stops, starts and switches.

`warehouse.replay` rebuilds tables from a facts topic and knows nothing of processes; the
operate layer hands it the sink to pause (`control.sink_control`) and, for `replay cdc`,
runs a new generation of processors first (`cdc.replay_cdc`).
"""
