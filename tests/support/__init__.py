"""What many test packages share: waiting, the isolated pipeline, the CDC model.

Tests import from here rather than from each other's modules, so a test package can be
read (and moved) on its own.
"""
