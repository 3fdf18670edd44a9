"""The errors videoagent raises on purpose: each says in one line what is wrong and with which file or id.

A `VideoAgentError` is the user's to fix (a bad file, an unknown video, a profile that cannot do what was
asked): the CLI prints it and exits 2, the HTTP API answers with its `http_status`. Anything else is a
bug or an environment failure (a torch `RuntimeError`, a full disk): exit 1, HTTP 500.
"""

from __future__ import annotations

from pathlib import Path


class VideoAgentError(Exception):
    """Base of the errors a user can act on."""

    http_status = 400


class BadInput(VideoAgentError, ValueError):
    """A file, setting or argument that cannot be used as given (a ValueError too)."""


class ConfigError(BadInput):
    """A profile or pipeline that cannot be read or does not validate."""


class MediaError(BadInput):
    """A file that cannot be ingested or searched with; the message names the file and says why."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class NoIndex(VideoAgentError):
    """The folder holds no index."""

    http_status = 404


class IndexUnavailable(VideoAgentError):
    """The index's vector server cannot be reached."""

    http_status = 503


class ContextFull(VideoAgentError):
    """A request to the LLM is longer than its context (the question drew in too much evidence)."""

    http_status = 413


class NoSuchVideo(VideoAgentError, LookupError):
    """No done video has this id (or the prefix names more than one)."""

    http_status = 404


class UnknownTracklet(VideoAgentError, LookupError):
    """No tracklet has this id."""

    http_status = 404


class NoFrameEncoder(VideoAgentError):
    """The profile has no frame encoder, so image and video queries cannot be answered."""

    http_status = 409
