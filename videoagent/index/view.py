"""A read-only view of one index: segments, transcript, on-screen text, tracklets and search.

`IndexView` opens its own connections to the catalog with SQLite's `query_only` switched on, so nothing
that reads through it (the planner's tools included, and anything a tool is talked into) can write to
the index; vectors are only ever queried. Each thread reads through a connection of its own, so a
server's requests (and an agent framework's tool threads) read side by side without taking turns.
Everything it returns names its `video_id`, `start_s` and `end_s`, so an answer can cite it.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ..errors import NoSuchVideo
from .store import SegmentRecord, Store


class _PerThread:
    """A read-only SQLite connection per thread, behind the one attribute the Store code uses (`db`)."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn(), name)

    def __enter__(self) -> sqlite3.Connection:
        return self._conn().__enter__()

    def __exit__(self, *exc: Any) -> Any:
        return self._conn().__exit__(*exc)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class IndexView:
    """Read-only access to one index: segments, transcript, on-screen text, tracklets, search."""

    def __init__(self, root: str | Path, models: Any = None):
        """`models` (models.Models) enables search_segments; without it the tool finds nothing."""
        self.store = Store(root)
        # Connections of its own, with writes switched off: any INSERT/UPDATE/DELETE fails. One per thread.
        self.store.db.close()
        self.store.db = _PerThread(self.store.root / "catalog.sqlite")
        self.lock = threading.Lock()  # for callers that want one tool call at a time (qa/tools.py)
        self.retriever = None
        if models is not None:
            from .retrieval import Retriever

            self.retriever = Retriever(self.store, models)
        self._segments: dict[str, list[SegmentRecord]] = {}

    def video(self, video_id: str) -> dict[str, Any]:
        found = self.store.find_video(video_id)
        if found is None:
            raise NoSuchVideo(f"{video_id}: no such video in {self.store.root} (or the prefix is ambiguous)")
        return found

    def forget(self) -> None:
        """Drop what was read so far (the index was written meanwhile)."""
        self._segments.clear()

    def segments(self, video_id: str) -> list[SegmentRecord]:
        if video_id not in self._segments:
            self._segments[video_id] = self.store.segments(video_id)
        return self._segments[video_id]

    def about(self, video_id: str) -> dict[str, Any]:
        """The title, summary and chapters the describe stage wrote (empty strings and list when it did not)."""
        with self.lock:
            return self.store.about(video_id)

    def _overlapping(self, video_id: str, start_s: float | None, end_s: float | None) -> list[SegmentRecord]:
        lo = -1.0 if start_s is None else start_s
        hi = float("inf") if end_s is None else end_s
        return [s for s in self.segments(video_id) if s.end_s > lo and s.start_s < hi]

    # ---- the tools ----------------------------------------------------------------------------
    def search_segments(self, query: str, video_id: str, top_k: int = 5) -> list[dict[str, Any]]:
        if self.retriever is None:
            return []
        return [
            {"video_id": h.video_id, "start_s": h.start_s, "end_s": h.end_s, "score": round(h.score, 4), "why": h.why}
            for h in self.retriever.search_text(query, top_k=top_k, video_id=video_id)
        ]

    def get_transcript(self, video_id: str, start_s: float | None = None, end_s: float | None = None) -> list[dict]:
        return [
            {"video_id": video_id, "start_s": s.start_s, "end_s": s.end_s, "transcript": s.transcript}
            for s in self._overlapping(video_id, start_s, end_s)
            if s.transcript
        ]

    def get_ocr(self, video_id: str, start_s: float | None = None, end_s: float | None = None) -> list[dict]:
        return [
            {"video_id": video_id, "start_s": s.start_s, "end_s": s.end_s, "text": s.ocr}
            for s in self._overlapping(video_id, start_s, end_s)
            if s.ocr
        ]

    def describe_segment(self, video_id: str, start_s: float | None = None, end_s: float | None = None) -> list[dict]:
        return [
            {"video_id": video_id, "start_s": s.start_s, "end_s": s.end_s, "caption": s.caption}
            for s in self._overlapping(video_id, start_s, end_s)
            if s.caption
        ]

    def has_captions(self, video_id: str) -> bool:
        return any(s.caption for s in self.segments(video_id))

    def has_ocr(self, video_id: str) -> bool:
        """Whether the OCR stage read this video's frames (so a scene with no text shows none)."""
        return self.store.stages(video_id).get("ocr", {}).get("status") == "done"

    def has_asr(self, video_id: str) -> bool:
        """Whether the ASR stage transcribed this video's sound (so a scene with no words has none)."""
        return self.store.stages(video_id).get("asr", {}).get("status") == "done"

    def has_tracklets(self, video_id: str) -> bool:
        return self.store.stages(video_id).get("tracks", {}).get("status") == "done"

    def list_tracklets(
        self, video_id: str, category: str | None = None, start_s: float | None = None, end_s: float | None = None
    ) -> dict[str, Any]:
        if not self.has_tracklets(video_id):
            return {"available": False, "why": "no tracklets stage in this index for this video", "tracklets": []}
        from .tracklets import TrackletQuery, describe

        query = TrackletQuery(video_id=video_id, category=category, start_s=start_s, end_s=end_s)
        rows = [r for r in self.store.tracklets(video_id, category) if query.matches(r)]
        return {
            "available": True,
            "count": len(rows),
            "tracklets": [
                {"video_id": video_id, "start_s": r["start_s"], "end_s": r["end_s"], **describe(r), "moved": _moved(r)}
                for r in rows
            ],
        }

    def video_info(self, video_id: str) -> dict[str, Any]:
        v = self.video(video_id)
        info = json.loads(v["info"] or "{}")
        segs = self.segments(v["video_id"])
        return {
            "video_id": v["video_id"],
            "start_s": 0.0,
            "end_s": v["duration_s"],
            "duration_s": v["duration_s"],
            "file": Path(v["path"]).name,
            "width": info.get("width"),
            "height": info.get("height"),
            "has_audio": info.get("has_audio"),
            "scenes": len(segs),
        }

    def close(self) -> None:
        self.store.close()


def _moved(rec: dict[str, Any]) -> float:
    """How far the tracklet's centre ends from where it began, as a fraction of the frame."""
    dx, dy = rec["trajectory"].get("displacement") or (0.0, 0.0)
    return round(math.hypot(dx, dy), 4)
