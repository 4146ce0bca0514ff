"""The pipeline's health as Prometheus metrics: what `boxoffice status` knows, scraped.

`families` turns one status report into metric families; `hops` keeps the per-hop
latency histograms fed from the heartbeats; `server` serves `/metrics` behind basic auth.
"""
