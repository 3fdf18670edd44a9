"""Temporal modules (frame features -> one vector) and the video Q-Former."""

# The registry of temporal modules is `modules.MODULES` (torch classes); these are its names, in its
# order, importable without torch so that config.py can check a pipeline's `temporal.module` cheaply.
# modules.py refuses to import if the two ever differ.
MODULE_NAMES = ("mean", "weighted", "transformer", "tdb", "tab")
