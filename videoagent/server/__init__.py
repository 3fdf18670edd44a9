"""`videoagent serve`: the web app and the HTTP API over one index (app.py), with its parts beside it —
the token gate (auth.py), thumbnails and crops (media.py), chat sessions (sessions.py) and the one
writer's job queue for ingest and tagging (jobs.py)."""

from .app import create_app

__all__ = ["create_app"]
