"""The local stack runner: real processes, each with a health check, a deadline and a log."""
