"""The index on disk: a SQLite catalog (videos, segments, stage status) and ChromaDB vector collections.

Layout of an index folder:
    catalog.sqlite          videos, segments, stage status
    chroma/                 ChromaDB (embedded, persistent), unless index.yaml names a Chroma server (vectors.py)
    index.yaml              optional: the Chroma server that holds the vectors instead
    artifacts/<video_id>/   per-stage outputs (see artifacts.py)

A video's rows are replaced whole: vectors are deleted then added, and the catalog flips the video
to `done` in one transaction only after that. Readers see `done` videos only, so an interrupted
ingest never leaves a half-written video visible, and re-running it leaves no duplicates.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..media.probe import VideoInfo

SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
    video_id TEXT PRIMARY KEY, path TEXT NOT NULL, duration_s REAL, info TEXT,
    status TEXT NOT NULL, error TEXT, segmentation TEXT, ingest_hash TEXT, index_hash TEXT, updated_at REAL,
    about TEXT
);
CREATE TABLE IF NOT EXISTS segments (
    video_id TEXT NOT NULL, idx INTEGER NOT NULL, start_s REAL NOT NULL, end_s REAL NOT NULL,
    transcript TEXT NOT NULL DEFAULT '', ocr TEXT NOT NULL DEFAULT '[]', caption TEXT,
    keyframes TEXT NOT NULL DEFAULT '[]', tags TEXT NOT NULL DEFAULT '[]', seen TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '', shot INTEGER,
    PRIMARY KEY (video_id, idx)
);
CREATE TABLE IF NOT EXISTS stages (
    video_id TEXT NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL, detail TEXT,
    PRIMARY KEY (video_id, stage)
);
CREATE TABLE IF NOT EXISTS tracklets (
    video_id TEXT NOT NULL, id TEXT PRIMARY KEY, category TEXT NOT NULL, start_s REAL NOT NULL, end_s REAL NOT NULL,
    enters TEXT, exits TEXT, record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tracklets_by_video ON tracklets (video_id, category, start_s);
CREATE TABLE IF NOT EXISTS video_tags (
    video_id TEXT PRIMARY KEY, library_version TEXT NOT NULL, settings_hash TEXT NOT NULL,
    tags TEXT NOT NULL, content TEXT NOT NULL DEFAULT '{}', updated_at REAL
);
"""
# Chroma's own cap on one add() call.
CHROMA_MAX_BATCH = 5000


@dataclass
class SegmentRecord:
    """Everything the index keeps about one segment of one video."""

    start_s: float
    end_s: float
    transcript: str = ""
    ocr: list[str] = field(default_factory=list)
    caption: str | None = None
    keyframes: list[float] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)  # the image classifier's labels: label, score, t
    description: str = ""  # the describe stage's line (model-written)
    shot: int | None = None  # the shot (span between cuts) it is part of; None: not known (fixed windows)


@dataclass
class VectorRows:
    """Rows for one Chroma collection: ids, embeddings, documents, metadata."""

    collection: str
    ids: list[str] = field(default_factory=list)
    embeddings: list[np.ndarray] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    metadatas: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row_id: str, embedding: np.ndarray, document: str, **meta: Any) -> None:
        self.ids.append(row_id)
        self.embeddings.append(np.asarray(embedding, dtype=np.float32))
        self.documents.append(document)
        self.metadatas.append(meta)


@dataclass
class VideoRows:
    """Everything the index keeps about one video, ready for the store to apply in one go."""

    video_id: str
    segments: list[SegmentRecord]
    vectors: list[VectorRows]
    segmentation: str
    stages: dict[str, str]
    tracklets: list[dict[str, Any]]
    about: dict[str, Any] | None = None  # the describe stage's title, summary, chapters and model


class Store:
    """Open (creating if needed) the index at `root`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.root / "catalog.sqlite", timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self._migrate()
        self._chroma = None

    def _migrate(self) -> None:
        """Columns added since an index was made (its videos re-ingest anyway: their stage hashes differ)."""
        added = {
            "segments": {
                "seen": "TEXT NOT NULL DEFAULT '[]'",
                "description": "TEXT NOT NULL DEFAULT ''",
                "shot": "INTEGER",
            },
            "videos": {"about": "TEXT"},
        }
        for table, columns in added.items():
            have = {r["name"] for r in self.db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in have:
                    with self.db:
                        self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    # ---- vectors -------------------------------------------------------------------------
    @property
    def chroma(self):
        if self._chroma is None:
            from .vectors import open_client

            client = open_client(self.root)  # a thread that lost the race drops its client: both share one system
            if self._chroma is None:
                self._chroma = client
        return self._chroma

    def collection(self, name: str):
        # embedding_function=None: Chroma's default embedder would download a model.
        return self.chroma.get_or_create_collection(name, embedding_function=None, metadata={"hnsw:space": "cosine"})

    def collections(self) -> list[str]:
        return [c.name for c in self.chroma.list_collections()]

    # ---- catalog ---------------------------------------------------------------------------
    def begin_video(self, info: VideoInfo, ingest_hash: str) -> None:
        """Register a video before its stages run; an already-done video stays visible meanwhile."""
        with self.db:
            self.db.execute(
                "INSERT INTO videos (video_id, path, duration_s, info, status, ingest_hash, updated_at)"
                " VALUES (?, ?, ?, ?, 'ingesting', ?, ?)"
                " ON CONFLICT(video_id) DO UPDATE SET path=excluded.path, info=excluded.info,"
                " ingest_hash=excluded.ingest_hash, updated_at=excluded.updated_at,"
                " status=CASE WHEN status='done' THEN 'done' ELSE 'ingesting' END",
                (info.video_id, info.path, info.duration_s, json.dumps(asdict(info)), ingest_hash, time.time()),
            )

    def _write_stages(self, video_id: str, stages: dict[str, str]) -> None:
        """Stage outcomes as `status` or `status: detail` (inside the caller's transaction)."""
        self.db.execute("DELETE FROM stages WHERE video_id=?", (video_id,))
        self.db.executemany(
            "INSERT INTO stages (video_id, stage, status, detail) VALUES (?, ?, ?, ?)",
            [(video_id, stage, *(text.split(": ", 1) + [None])[:2]) for stage, text in stages.items()],
        )

    def _replace_rows(self, video_id: str, stages: dict[str, str]) -> None:
        """Write the stage outcomes and drop the video's segments, tags and tracklets (inside the caller's
        transaction)."""
        self._write_stages(video_id, stages)
        self.db.execute("DELETE FROM segments WHERE video_id=?", (video_id,))
        self.db.execute("DELETE FROM video_tags WHERE video_id=?", (video_id,))  # tags of old content are stale
        self.db.execute("DELETE FROM tracklets WHERE video_id=?", (video_id,))

    def fail_video(self, video_id: str, error: str, stages: dict[str, str]) -> None:
        """Mark a video failed and drop any rows it had: the index holds nothing half-made."""
        self._delete_vectors(video_id)
        with self.db:
            self._replace_rows(video_id, stages)
            self.db.execute(
                "UPDATE videos SET status='failed', error=?, updated_at=?, about=NULL WHERE video_id=?",
                (error, time.time(), video_id),
            )

    def commit_video(self, rows: VideoRows) -> None:
        """Replace the video's vectors, segments and tracklets, then flip it to `done` atomically."""
        video_id, segments, vectors, segmentation = rows.video_id, rows.segments, rows.vectors, rows.segmentation
        stages, tracklets, about = rows.stages, rows.tracklets, rows.about
        self._delete_vectors(video_id)
        for vec in vectors:
            coll = self.collection(vec.collection)
            for i in range(0, len(vec.ids), CHROMA_MAX_BATCH):
                sl = slice(i, i + CHROMA_MAX_BATCH)
                coll.upsert(
                    ids=vec.ids[sl],
                    embeddings=np.stack(vec.embeddings[sl]),
                    documents=vec.documents[sl],
                    metadatas=vec.metadatas[sl],
                )
        with self.db:
            self._replace_rows(video_id, stages)
            self.db.executemany(
                "INSERT INTO tracklets (video_id, id, category, start_s, end_s, enters, exits, record)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        video_id,
                        t["id"],
                        t["category"],
                        t["start_s"],
                        t["end_s"],
                        t["trajectory"]["enters"],
                        t["trajectory"]["exits"],
                        json.dumps(t),
                    )
                    for t in tracklets
                ],
            )
            self.db.executemany(
                "INSERT INTO segments (video_id, idx, start_s, end_s, transcript, ocr, caption, keyframes, tags, seen,"
                " description, shot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        video_id,
                        i,
                        s.start_s,
                        s.end_s,
                        s.transcript,
                        json.dumps(s.ocr),
                        s.caption,
                        json.dumps(s.keyframes),
                        json.dumps(s.tags),
                        json.dumps(s.seen),
                        s.description,
                        s.shot,
                    )
                    for i, s in enumerate(segments)
                ],
            )
            self.db.execute(
                "UPDATE videos SET status='done', error=NULL, segmentation=?, index_hash=ingest_hash,"
                " updated_at=?, about=? WHERE video_id=?",
                (segmentation, time.time(), json.dumps(about) if about else None, video_id),
            )

    def _delete_vectors(self, video_id: str) -> None:
        for name in self.collections():
            self.collection(name).delete(where={"video_id": video_id})

    # ---- reads -----------------------------------------------------------------------------
    def video(self, video_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM videos WHERE video_id=?", (video_id,)).fetchone()
        return dict(row) if row else None

    def find_video(self, prefix: str) -> dict[str, Any] | None:
        """A done video by id or unique id prefix."""
        rows = self.db.execute(
            "SELECT * FROM videos WHERE status='done' AND video_id LIKE ? || '%'", (prefix,)
        ).fetchall()
        return dict(rows[0]) if len(rows) == 1 else None

    def videos(self, status: str | None = "done") -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM videos", ()
        if status:
            sql, args = sql + " WHERE status=?", (status,)
        return [dict(r) for r in self.db.execute(sql + " ORDER BY path", args)]

    def listing(self, status: str | None = None) -> list[dict[str, Any]]:
        """One row per video for `videoagent list` and `GET /videos`: id, path, duration, status, error,
        scene count."""
        counts = dict(self.db.execute("SELECT video_id, COUNT(*) FROM segments GROUP BY video_id"))
        keys = ("video_id", "path", "duration_s", "status", "error")
        return [{**{k: v[k] for k in keys}, "segments": counts.get(v["video_id"], 0)} for v in self.videos(status)]

    def textless_segments(self, video_id: str | None = None) -> tuple[int, int, int]:
        """(segments with no transcript, on-screen text, caption or visual labels, all segments, videos
        holding the former) among done videos (of one video, when given): what text search has nothing to
        match in."""
        empty = "s.transcript = '' AND s.ocr = '[]' AND COALESCE(s.caption, '') = '' AND s.seen = '[]'"
        sql = (
            f"SELECT COUNT(*), SUM({empty}), COUNT(DISTINCT CASE WHEN {empty} THEN s.video_id END)"
            " FROM segments s JOIN videos v USING (video_id) WHERE v.status = 'done'"
        )
        args: tuple[str, ...] = ()
        if video_id is not None:
            sql, args = sql + " AND s.video_id = ?", (video_id,)
        total, empty, videos = self.db.execute(sql, args).fetchone()
        return int(empty or 0), int(total or 0), int(videos or 0)

    def segments(self, video_id: str) -> list[SegmentRecord]:
        rows = self.db.execute("SELECT * FROM segments WHERE video_id=? ORDER BY idx", (video_id,))
        return [
            SegmentRecord(
                start_s=r["start_s"],
                end_s=r["end_s"],
                transcript=r["transcript"],
                ocr=json.loads(r["ocr"]),
                caption=r["caption"],
                keyframes=json.loads(r["keyframes"]),
                tags=json.loads(r["tags"]),
                seen=json.loads(r["seen"]),
                description=r["description"],
                shot=r["shot"],
            )
            for r in rows
        ]

    def about(self, video_id: str) -> dict[str, Any]:
        """The video's title, summary and chapters, as the describe stage's model wrote them (empty when it
        did not run): {"title", "summary", "chapters": [{"start_s", "end_s", "first", "title"}], "described_by"};
        and the language its speech is in, as the ASR model heard it ({"code", "name", "p", "by"}; None when no
        speech was heard, or the video was indexed before the language was kept)."""
        row = self.db.execute("SELECT about FROM videos WHERE video_id=?", (video_id,)).fetchone()
        about = json.loads(row["about"]) if row and row["about"] else {}
        return {
            "title": about.get("title", ""),
            "summary": about.get("summary", ""),
            "chapters": about.get("chapters", []),
            "described_by": about.get("model"),
            "language": about.get("language"),
        }

    def describe(self, video_id: str) -> dict[str, Any]:
        """Everything the catalog holds about one video (`videoagent show --json`, the API's /videos/ID)."""
        video = self.video(video_id) or {}
        keys = ("start_s", "end_s", "shot", "transcript", "ocr", "caption", "description", "seen", "tags")
        return {
            "video_id": video_id,
            "path": video.get("path"),
            "duration_s": video.get("duration_s"),
            **self.about(video_id),
            "segments": [{k: getattr(s, k) for k in keys} for s in self.segments(video_id)],
            "tracklets": self.tracklets(video_id),
            "stages": self.stages(video_id),
        }

    # ---- tags (tagging.py) -------------------------------------------------------------------
    def save_tags(
        self,
        video_id: str,
        library_version: str,
        settings_hash: str,
        tags: list[dict[str, Any]],
        content: dict[str, float],
        segment_tags: dict[int, list[str]],
    ) -> None:
        """A video's assigned tags (and the per-segment tags they were found in), in one transaction."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO video_tags"
                " (video_id, library_version, settings_hash, tags, content, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (video_id, library_version, settings_hash, json.dumps(tags), json.dumps(content), time.time()),
            )
            self.db.execute("UPDATE segments SET tags='[]' WHERE video_id=?", (video_id,))
            self.db.executemany(
                "UPDATE segments SET tags=? WHERE video_id=? AND idx=?",
                [(json.dumps(names), video_id, idx) for idx, names in segment_tags.items()],
            )

    def video_tags(self, video_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM video_tags WHERE video_id=?", (video_id,)).fetchone()
        if row is None:
            return None
        return {**dict(row), "tags": json.loads(row["tags"]), "content": json.loads(row["content"])}

    def tracklets(
        self, video_id: str | None = None, category: str | None = None, ids: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Tracklet records of done videos, by video and start time (finer filters: tracklets.TrackletQuery)."""
        sql = "SELECT t.record FROM tracklets t JOIN videos v USING (video_id) WHERE v.status='done'"
        args: list[Any] = []
        for column, value in (("video_id", video_id), ("category", category)):
            if value is not None:
                sql, args = sql + f" AND t.{column}=?", [*args, value]
        if ids is not None:
            sql += f" AND t.id IN ({','.join('?' * len(ids))})"
            args += list(ids)
        return [json.loads(r["record"]) for r in self.db.execute(sql + " ORDER BY t.video_id, t.start_s", args)]

    def stages(self, video_id: str) -> dict[str, dict[str, str | None]]:
        rows = self.db.execute("SELECT * FROM stages WHERE video_id=? ORDER BY stage", (video_id,))
        return {r["stage"]: {"status": r["status"], "detail": r["detail"]} for r in rows}

    def close(self) -> None:
        self.db.close()
