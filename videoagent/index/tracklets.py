"""Queries over the tracklet table: ChatVideo's row in words, filters, and look-alikes across videos.

A record (written by the `tracks` ingest stage, ingest/tracks.py): id, category, start_s, end_s, sampled
boxes, trajectory (entry/exit sides, direction, mean speed as fractions of the frame per second),
motion, appearance, the speech overlapping it, and a representative crop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UnknownTracklet
from .store import Store

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

SIDES = ("left", "right", "top", "bottom", "inside")


def describe(rec: dict[str, Any]) -> dict[str, str]:
    """ChatVideo's table row in words: id, category, appearance, action/motion, trajectory, speech."""
    traj = rec["trajectory"]
    return {
        "id": rec["id"],
        "category": rec["category"],
        "time": f"{rec['start_s']:.1f}-{rec['end_s']:.1f}s",
        "appearance": ", ".join(rec["colours"]) or "-",
        "motion": rec["motion"],
        "trajectory": f"enters {traj['enters']}, exits {traj['exits']}, {traj['mean_speed']:.2f} frame/s",
        "speech": rec["speech"],
    }


@dataclass(frozen=True)
class TrackletQuery:
    """Filters over a video's (or every video's) tracklets; every field optional."""

    video_id: str | None = None
    category: str | None = None
    start_s: float | None = None  # overlaps [start_s, end_s]
    end_s: float | None = None
    enters: str | None = None
    exits: str | None = None

    def matches(self, rec: dict[str, Any]) -> bool:
        if self.category and rec["category"] != self.category:
            return False
        if self.start_s is not None and rec["end_s"] < self.start_s:
            return False
        if self.end_s is not None and rec["start_s"] > self.end_s:
            return False
        if self.enters and rec["trajectory"]["enters"] != self.enters:
            return False
        return not (self.exits and rec["trajectory"]["exits"] != self.exits)


def similar(store: Store, tracklet_id: str, query: TrackletQuery, top: int) -> list[tuple[dict[str, Any], float]]:
    """Tracklets (of any video, unless the query names one) whose appearance is closest to this one's,
    by cosine similarity in the tracklet's own appearance collection. UnknownTracklet: no such tracklet."""
    from .collections import collection_name

    found = store.tracklets(ids=[tracklet_id])
    if not found:
        raise UnknownTracklet(f"{tracklet_id}: no such tracklet in {store.root}")
    coll = store.collection(collection_name("tracklet", found[0]["appearance_model"]))
    got = coll.get(ids=[tracklet_id], include=["embeddings"])
    if len(got["ids"]) == 0:
        return []  # it had no pixels to describe
    where = {"video_id": query.video_id} if query.video_id else None
    res = coll.query(query_embeddings=got["embeddings"], n_results=min(coll.count(), top * 4 + 1), where=where)
    scores = {i: 1.0 - d for i, d in zip(res["ids"][0], res["distances"][0], strict=True) if i != tracklet_id}
    records = [r for r in store.tracklets(ids=list(scores)) if query.matches(r)]
    records.sort(key=lambda r: -scores[r["id"]])
    return [(r, round(scores[r["id"]], 4)) for r in records[:top]]
