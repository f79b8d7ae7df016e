"""The ground every layer stands on: errors, messages, units, the canonical schema, CRS checks, progress.

Nothing here imports another part of landkit.
"""
