"""Search the index: text -> segments (fused channels), video -> videos, image -> segments.

Text search is Socratic-style fusion: the query is compared with each segment's transcript and
on-screen text (sentence embeddings) and, when a learned image-text encoder (CLIP) is loaded, with the
segment's frames; each channel's cosine similarity is weighted (profile `retrieval:`) and summed.
Only videos whose ingest is complete are ever returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .encoders import normalize
from .media import MediaError, open_frames, probe
from .models import Models
from .orchestrator import collection_name
from .store import Store

QUERY_FRAME_INTERVAL_S = 2.0  # how densely a query video is sampled


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
                "score": round(self.score, 4), "why": self.why}  # fmt: skip


class Retriever:
    def __init__(self, store: Store, models: Models):
        self.store = store
        self.models = models
        self.cfg = models.profile.retrieval

    def _done(self) -> set[str]:
        return {v["video_id"] for v in self.store.videos()}

    def _query(self, collection: str, embedding: np.ndarray, n: int, video_id: str | None):
        if collection not in self.store.collections():
            return []
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
        done = self._done()
        return [
            (meta, doc, 1.0 - dist)  # cosine space: similarity = 1 - distance
            for meta, doc, dist in zip(got["metadatas"][0], got["documents"][0], got["distances"][0], strict=True)
            if meta["video_id"] in done
        ]

    def search_text(self, query: str, top_k: int = 10, video_id: str | None = None) -> list[Hit]:
        """Segments ranked by the fused score of transcript, on-screen text and (CLIP) visual similarity."""
        hits: dict[tuple[str, int], Hit] = {}
        texts: dict[tuple[str, int, str], str] = {}

        def add(meta: dict, channel: str, sim: float, text: str) -> None:
            key = (meta["video_id"], int(meta["seg"]))
            hit = hits.setdefault(key, Hit(meta["video_id"], meta["start_s"], meta["end_s"], 0.0, ""))
            if sim > hit.channels.get(channel, -1.0):
                hit.channels[channel] = sim
                texts[(*key, channel)] = text

        text_encoder = self.models.text_encoder()
        query_vec = text_encoder.encode([query])[0]
        weights = {"transcript": self.cfg.transcript_weight, "ocr": self.cfg.ocr_weight}
        for meta, doc, sim in self._query(
            collection_name("text", text_encoder.name), query_vec, self.cfg.candidates, video_id
        ):
            add(meta, meta["channel"], sim, doc)

        encoder = self.models.frame_encoder()
        if getattr(encoder, "learned", False) and hasattr(encoder, "encode_text") and self.cfg.visual_weight > 0:
            weights["visual"] = self.cfg.visual_weight
            for meta, _, sim in self._query(
                collection_name("visual", encoder.name), encoder.encode_text([query])[0], self.cfg.candidates, video_id
            ):
                add(meta, "visual", sim, "")

        for (vid, seg), hit in hits.items():
            hit.score = sum(weights[ch] * sim for ch, sim in hit.channels.items())
            best = max(hit.channels, key=lambda ch: weights[ch] * hit.channels[ch])
            hit.why = f"{best}: {texts[(vid, seg, best)]}" if texts[(vid, seg, best)] else best
        return sorted(hits.values(), key=lambda h: -h.score)[:top_k]

    def _frame_encoder(self):
        encoder = self.models.frame_encoder()
        if encoder is None or isinstance(encoder, Exception):
            raise RuntimeError("no frame encoder is available in this profile (see `videoagent models`)")
        return encoder

    def search_video(self, path: str | Path, top_k: int = 10) -> list[Hit]:
        """Whole videos most like the query video (itself excluded when it is in the index)."""
        info = probe(path)
        encoder = self._frame_encoder()
        n = max(1, round(info.duration_s / QUERY_FRAME_INTERVAL_S))
        times = [(i + 0.5) * info.duration_s / n for i in range(n)]
        query_vec = normalize(encoder.encode_images(open_frames(info.path).read(times)).mean(axis=0))
        rows = self._query(collection_name("video", encoder.name), query_vec, top_k + 1, None)
        kind = "near-duplicate fingerprint" if not encoder.learned else "visual"
        return [
            Hit(meta["video_id"], meta["start_s"], meta["end_s"], sim, f"{kind}: {Path(doc).name}")
            for meta, doc, sim in rows
            if meta["video_id"] != info.video_id
        ][:top_k]

    def search_image(self, path: str | Path, top_k: int = 10, video_id: str | None = None) -> list[Hit]:
        """Segments whose frames look most like the image."""
        frame = _read_image(Path(path))
        encoder = self._frame_encoder()
        query_vec = encoder.encode_images(frame[None])[0]
        kind = "near-duplicate fingerprint" if not encoder.learned else "visual"
        rows = self._query(collection_name("visual", encoder.name), query_vec, top_k, video_id)
        return [Hit(m["video_id"], m["start_s"], m["end_s"], sim, kind) for m, _, sim in rows]


def _read_image(path: Path) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise MediaError(path, "no such file")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise MediaError(path, "not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
