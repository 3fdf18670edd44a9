"""videoagent: one persistent index of videos to talk to, search and tag.

    import videoagent

    lib = videoagent.open("~/va-index")
    lib.ingest(["talk.mp4"])
    lib.search("a cat on a blanket").hits
    lib.ask(video_id, "what does the sign say?")

Everything else is reached from the Library that `open` returns (library.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .library import Library

__all__ = ["open"]


def open(index=None, profile=None, pipeline=None) -> Library:  # noqa: A001 - like gzip.open
    """The index at `index` (default `$VIDEOAGENT_HOME` or `./.videoagent`) with a profile and a pipeline
    (shipped names or paths). Importing videoagent stays cheap: the library loads on first call."""
    from .library import Library

    return Library(index, profile, pipeline)
