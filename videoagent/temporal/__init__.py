"""Temporal modules (frame features -> one vector) and the video Q-Former."""
