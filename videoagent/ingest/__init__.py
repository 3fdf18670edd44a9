"""The ingest pipeline: media -> segments -> features -> index, one module per stage."""
