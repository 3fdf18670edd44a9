"""Search the index: text -> segments (fused channels), video -> videos, image -> segments.

Text search is Socratic-style fusion: the query is compared with each segment's transcript, on-screen
text and visual labels (what the image classifier saw, as words: sentence embeddings) and, when a learned
image-text encoder (CLIP) is loaded, with the segment's visual vector; each channel's cosine similarity is
weighted (profile `retrieval:`) and summed.

Image and video queries are compared with every learned image embedding in the index (the ImageNet
classifier's, CLIP's): "looks like". The colour/layout fingerprint is not semantic: it only decides
near-duplicates (similarity >= DUPLICATE_SIMILARITY), which rank above everything else.

Visual vectors were pooled from keyframes by a temporal module (temporal/modules.py) recorded in each row;
a query is encoded through that same module (and checkpoint), collection by collection, so it is
always compared in the space the rows were made in. Only videos whose ingest is complete are returned.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NoFrameEncoder
from ..media.frames import open_frames
from ..media.probe import MediaError, probe
from ..models.registry import Models
from .collections import collection_name
from .store import Store

if TYPE_CHECKING:
    from ..temporal.modules import Pooler

log = logging.getLogger(__name__)
QUERY_FRAME_INTERVAL_S = 2.0  # how densely a query video is sampled (ingest's keyframe interval)
DUPLICATE_SIMILARITY = 0.9  # whole-video cosine above which `why` calls a match a near-duplicate


@dataclass
class Hit:
    video_id: str
    start_s: float
    end_s: float
    score: float
    why: str
    channels: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"video_id": self.video_id, "start_s": self.start_s, "end_s": self.end_s,
                "score": round(self.score, 4), "why": self.why,
                "channels": {k: round(v, 4) for k, v in self.channels.items()}}  # fmt: skip


@dataclass
class Space:
    """One collection of visual vectors and the temporal pooler that made them."""

    collection: str
    pooler: Pooler

    @property
    def label(self) -> str:
        return self.pooler.tag


class Retriever:
    def __init__(self, store: Store, models: Models):
        self.store = store
        self.models = models
        self.cfg = models.profile.retrieval
        self._local = threading.local()  # each thread's search has its own warnings
        self._spaces: dict[str, Space] = {}  # a collection's name fixes its module and checkpoint id
        self._textless: dict[str | None, tuple[tuple[int, int], tuple[int, int, int]]] = {}

    @property
    def warnings(self) -> list[str]:
        """Collections left out of this thread's latest search, and why."""
        if not hasattr(self._local, "warnings"):
            self._local.warnings = []
        return self._local.warnings

    @warnings.setter
    def warnings(self, value: list[str]) -> None:
        self._local.warnings = value

    def _done(self) -> set[str]:
        return {v["video_id"] for v in self.store.videos()}

    def _query(self, collection: str, embedding: np.ndarray, n: int, video_id: str | None, done: set[str]):
        coll = self.store.collection(collection)
        count = coll.count()
        if count == 0:
            return []
        got = coll.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=min(n, count),
            where={"video_id": video_id} if video_id else None,
            include=["metadatas", "documents", "distances"],
        )
        return [
            (meta, doc, 1.0 - dist)  # cosine space: similarity = 1 - distance
            for meta, doc, dist in zip(got["metadatas"][0], got["documents"][0], got["distances"][0], strict=True)
            if meta["video_id"] in done
        ]

    def spaces(self, kind: str, encoder) -> list[Space]:
        """Collections of `kind` ("visual" or "video") vectors from `encoder`, one per temporal module.

        A collection whose checkpoint cannot be had any more is left out and reported in `warnings`.
        """
        base = collection_name(kind, encoder.name)
        found = []
        for name in sorted(self.store.collections()):
            if name != base and not name.startswith(base + "__"):
                continue
            if name in self._spaces:
                found.append(self._spaces[name])
                continue
            peek = self.store.collection(name).get(limit=1, include=["metadatas"])
            if not peek["ids"]:
                continue
            try:
                from ..temporal.modules import pooler_from_meta  # torch: only when there are visual spaces

                self._spaces[name] = Space(name, pooler_from_meta(peek["metadatas"][0], encoder.dim))
                found.append(self._spaces[name])
            except ValueError as exc:
                self.warnings.append(f"{name} left out: {exc}")
                log.warning("%s left out: %s", name, exc)
        return found

    def search_text(self, query: str, top_k: int = 10, video_id: str | None = None) -> list[Hit]:
        """Segments ranked by the fused score of transcript, on-screen text and (CLIP) visual similarity."""
        done = self._done()
        hits: dict[tuple[str, int], Hit] = {}
        texts: dict[tuple[str, int, str], str] = {}

        def add(meta: dict, channel: str, sim: float, text: str) -> None:
            key = (meta["video_id"], int(meta["seg"]))
            hit = hits.setdefault(key, Hit(meta["video_id"], meta["start_s"], meta["end_s"], 0.0, ""))
            if sim > hit.channels.get(channel, -1.0):
                hit.channels[channel] = sim
                texts[(*key, channel)] = text

        text_encoder = self.models.text_encoder()
        weights = {
            "transcript": self.cfg.transcript_weight,
            "ocr": self.cfg.ocr_weight,
            "caption": self.cfg.caption_weight,
            "labels": self.cfg.labels_weight,
            "description": self.cfg.description_weight,
        }
        text_collection = collection_name("text", text_encoder.name)
        sources: dict[str, str] = {}
        if text_collection in self.store.collections():
            query_vec = text_encoder.encode([query])[0]
            for meta, doc, sim in self._query(text_collection, query_vec, self.cfg.candidates, video_id, done):
                if weights.get(meta["channel"], 0.0) > 0:
                    if "score" in meta:  # a visual label: as good a match as the classifier was sure
                        sim *= float(meta["score"]) ** 0.5
                    add(meta, meta["channel"], sim, doc)
                    sources[meta["channel"]] = meta.get("source", meta["channel"])

        encoder = self.models.frame_encoder()
        pixels = getattr(encoder, "learned", False) and hasattr(encoder, "encode_text") and self.cfg.visual_weight > 0
        if not pixels:
            self._warn_textless(video_id)
        else:
            weights["visual"] = self.cfg.visual_weight
            for space in self.spaces("visual", encoder):
                vec = space.pooler.encode_text(encoder, [query])[0]
                for meta, _, sim in self._query(space.collection, vec, self.cfg.candidates, video_id, done):
                    add(meta, "visual", sim, f"frames match ({encoder.name}, {space.label} pooling)")

        for (vid, seg), hit in hits.items():
            hit.score = sum(weights[ch] * sim for ch, sim in hit.channels.items())
            best = max(hit.channels, key=lambda ch: weights[ch] * hit.channels[ch])
            hit.why = f"{sources.get(best, best)}: {texts[(vid, seg, best)]}"
        return sorted(hits.values(), key=lambda h: -h.score)[:top_k]

    def _warn_textless(self, video_id: str | None) -> None:
        """Say which segments text search cannot reach: no words in them, and no image-text encoder."""
        # Counted once per state of the catalog, not per query: a scan of every segment on each search
        # would be most of a search's time on a big index.
        state = (self.store.db.execute("PRAGMA data_version").fetchone()[0], self.store.db.total_changes)
        cached = self._textless.get(video_id)
        if cached is None or cached[0] != state:
            cached = self._textless[video_id] = (state, self.store.textless_segments(video_id))
        empty, total, videos = cached[1]
        if total == 0:
            self.warnings.append("the index holds no done video to search" + (f" ({video_id})" if video_id else ""))
        elif empty:
            self.warnings.append(
                f"{empty} of {total} segments (in {videos} video{'s' * (videos != 1)}) have no speech, on-screen "
                "text or caption, and this profile has no image-text encoder (CLIP): text search cannot find them"
            )

    def _image_models(self) -> list:
        """The image embedders a query image goes through: the frame encoder (CLIP, or the fingerprint)
        and the image classifier, where the profile has them."""
        found = [self.models.frame_encoder(), self.models.image_classifier()]
        models = [m for m in found if m is not None and hasattr(m, "encode_images")]
        if not models:
            raise NoFrameEncoder("no image embedder is available in this profile (see `videoagent models`)")
        return models

    @staticmethod
    def _embed(model, frames: np.ndarray) -> np.ndarray:
        """Frames as this model embeds them at ingest (the classifier: borders trimmed, three crops)."""
        return model.look(frames)[0] if hasattr(model, "look") else model.encode_images(frames)

    def _matches(self, kind: str, frames: np.ndarray, n: int, video_id: str | None) -> list[tuple]:
        """(rank key, meta, doc, similarity, how) of `kind` rows close to these frames (pooled as one clip)
        for every image model; the fingerprint's only when they are near-duplicates, which rank first."""
        done, out = self._done(), []
        for model in self._image_models():
            emb = self._embed(model, frames)
            for space in self.spaces(kind, model):
                vec = space.pooler.pool([emb])[0]
                for meta, doc, sim in self._query(space.collection, vec, n, video_id, done):
                    pooling = f"{model.name} {sim:.2f}, {space.label} pooling"
                    if model.learned:
                        out.append(((0, sim), meta, doc, sim, f"looks like ({pooling})"))
                    elif sim >= DUPLICATE_SIMILARITY:
                        out.append(((1, sim), meta, doc, sim, f"near-duplicate ({pooling})"))
        return sorted(out, key=lambda m: m[0], reverse=True)

    def search_video(self, path: str | Path, top_k: int = 10) -> list[Hit]:
        """Whole videos most like the query video (itself excluded when it is in the index)."""
        info = probe(path)
        n = max(1, round(info.duration_s / QUERY_FRAME_INTERVAL_S))
        frames = open_frames(info.path).read([(i + 0.5) * info.duration_s / n for i in range(n)])
        best: dict[str, Hit] = {}
        for _, meta, doc, sim, how in self._matches("video", frames, top_k + 1, None):
            vid = meta["video_id"]
            if vid != info.video_id and vid not in best:  # matches come best first
                best[vid] = Hit(vid, meta["start_s"], meta["end_s"], sim, f"{how}: {Path(doc).name}")
        return list(best.values())[:top_k]

    def search_image(self, path: str | Path, top_k: int = 10, video_id: str | None = None) -> list[Hit]:
        """Segments whose frames look most like the image."""
        frame = _read_image(Path(path))
        best: dict[tuple[str, int], Hit] = {}
        for _, meta, _, sim, how in self._matches("visual", frame[None], max(top_k, 50), video_id):
            best.setdefault(
                (meta["video_id"], int(meta["seg"])), Hit(meta["video_id"], meta["start_s"], meta["end_s"], sim, how)
            )
        return list(best.values())[:top_k]


def rank_of(hits: list[Hit], video_id: str, at_s: float | None = None) -> int | None:
    """1-based rank of the first hit in `video_id` (covering time `at_s`, when given); None if absent."""
    for rank, hit in enumerate(hits, 1):
        if hit.video_id == video_id and (at_s is None or hit.start_s <= at_s < hit.end_s):
            return rank
    return None


def _read_image(path: Path) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise MediaError(path, "no such file")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise MediaError(path, "not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
