"""The ingest pipeline: probe -> segments -> (ASR || keyframes -> OCR + frame embeddings [-> Q-Former captions])
-> text embeddings -> index.

Each stage's output is an artifact keyed by the stage's config hash (artifacts.py), so a re-run after a
crash picks up where it stopped, and a changed setting re-runs only the stages it touches. ASR runs in
a worker thread while the vision stages run in the caller's: both spend their time in native code
(CTranslate2, ONNX Runtime, torch) that releases the GIL, so on two cores they overlap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Pipeline, Profile, config_hash
from ..index.collections import collection_name
from ..index.store import SegmentRecord, Store, VectorRows
from ..media.audio import decode_audio
from ..media.frames import open_frames
from ..media.probe import MediaError, VideoInfo, find_videos, probe
from ..models import asr, ocr
from ..models.registry import Models
from ..models.weights import MissingWeights
from ..temporal import modules as temporal
from . import tracks as tracklets
from .artifacts import Artifacts
from .scenes import Segment, keyframe_times, segment_video

log = logging.getLogger(__name__)
FRAME_CHUNK = 32  # keyframes decoded at a time: bounds memory on long videos
CAPTION_BATCH = 8  # segments captioned per LLM call


@dataclass
class VideoResult:
    path: str
    status: str  # done | skipped | failed
    video_id: str | None = None
    duration_s: float | None = None
    error: str | None = None
    segments: list[dict[str, float]] = field(default_factory=list)
    stages: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The CLI's --json row for this file."""
        return asdict(self)


class Ingestor:
    """Runs the pipeline over files; one bad file is reported and the rest go on."""

    def __init__(
        self,
        store: Store,
        profile: Profile,
        pipeline: Pipeline,
        models: Models | None = None,
        on_stage: Callable[[str, str], None] | None = None,
    ):
        self.store = store
        self.profile = profile
        self.pipeline = pipeline
        self.models = models or Models.shared(profile)
        self.on_stage = on_stage or (lambda path, stage: None)

    # ---- hashes: a stage's hash covers its own settings and everything upstream of it -------
    def _hashes(self) -> dict[str, str]:
        p, prof = self.pipeline, self.profile
        scenes = config_hash("scenes", p.scenes)
        keys = config_hash(scenes, p.keyframes)
        encoder = prof.frame_encoder
        # The checkpoint's contents, not just its path: retraining into the same file must re-index.
        ckpt = Path(p.temporal.checkpoint).expanduser() if p.temporal.checkpoint else None
        ckpt_id = temporal.checkpoint_id(ckpt) if ckpt and ckpt.is_file() else None
        qf = Path(p.captions.checkpoint).expanduser() if p.captions.checkpoint else None
        qf_id = temporal.checkpoint_id(qf) if qf and qf.is_file() else None
        frames = config_hash("frames", keys, encoder)
        return {
            "scenes": scenes,
            "asr": config_hash("asr", prof.asr),
            "ocr": config_hash("ocr", keys, prof.ocr),
            "frames": frames,
            "captions": config_hash("captions", frames, p.captions, qf_id),
            "tracks": config_hash("tracks", scenes, p.tracks, prof.detector, encoder),
            "index": config_hash("index", scenes, keys, prof, p, ckpt_id, qf_id),
        }

    def ingest(self, paths: Iterable[str | Path]) -> list[VideoResult]:
        candidates, _ = find_videos(paths)
        return [self.ingest_one(path) for path in candidates]

    def ingest_one(self, path: str | Path) -> VideoResult:
        try:
            info = probe(path)
        except MediaError as exc:
            return VideoResult(path=str(path), status="failed", error=str(exc))
        result = VideoResult(path=info.path, status="done", video_id=info.video_id, duration_s=info.duration_s)
        hashes = self._hashes()
        existing = self.store.video(info.video_id)
        if existing and existing["status"] == "done" and existing["index_hash"] == hashes["index"]:
            result.status = "skipped"
            result.segments = [{"start_s": s.start_s, "end_s": s.end_s} for s in self.store.segments(info.video_id)]
            return result
        self.store.begin_video(info, hashes["index"])
        try:
            records, vectors, how, tracks = self._run(info, hashes, result)
            self.store.commit_video(info.video_id, records, vectors, how, result.stages, tracks)
        except Exception as exc:  # one bad file must not stop a bulk run: record it, drop its rows, go on
            reason = exc.reason if isinstance(exc, MediaError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, MediaError):
                log.exception("%s: ingest failed", info.path)
            self.store.fail_video(info.video_id, reason, result.stages)
            result.status, result.error = "failed", f"{info.path}: {reason}"
            return result
        result.segments = [{"start_s": r.start_s, "end_s": r.end_s} for r in records]
        return result

    # ---- the stages ------------------------------------------------------------------------
    def _run(
        self, info: VideoInfo, hashes: dict[str, str], result: VideoResult
    ) -> tuple[list[SegmentRecord], list[VectorRows], str, list[dict[str, Any]]]:
        art = Artifacts(self.store.root, info.video_id)
        # Two lanes. ASR needs no segments: it starts first, beside scene detection; tracking (which needs the
        # scene cuts) queues behind it. This thread runs scenes, then keyframes -> OCR + frame encoder.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lane2") as pool:
            words_future = pool.submit(self._asr, info, art, hashes["asr"], result)
            self.on_stage(info.path, "scenes")
            cached = art.load("scenes", hashes["scenes"])
            if cached is None:
                segs, how = segment_video(info, self.pipeline.scenes)
                art.save("scenes", hashes["scenes"], {"segments": [[s.start_s, s.end_s] for s in segs], "how": how})
            else:
                segs, how = [Segment(a, b) for a, b in cached[0]["segments"]], cached[0]["how"]
            self._mark(result, "scenes", "done", how)
            tracks_future = pool.submit(self._tracks, info, segs, art, hashes["tracks"], result)
            frames = self._vision(info, segs, art, hashes, result)
            frames["captions"] = self._captions(info, frames, art, hashes["captions"], result)
            words = words_future.result()
            tracks, track_rows = tracks_future.result()

        self.on_stage(info.path, "index")
        for rec in tracks:  # ChatVideo's audio column: what is said while the object is in view
            rec["speech"] = asr.words_in(words, rec["start_s"], rec["end_s"])
        records, vectors = self._assemble(info, segs, words, frames)
        return records, vectors + track_rows, how, tracks

    @staticmethod
    def _mark(result: VideoResult, stage: str, status: str, detail: str | None = None) -> None:
        # Only recorded here: the ASR lane runs in another thread, and the catalog is written by the
        # caller's thread when the video commits.
        result.stages[stage] = status if not detail else f"{status}: {detail}"

    def _asr(self, info: VideoInfo, art: Artifacts, h: str, result: VideoResult) -> list[asr.Word]:
        if not self.pipeline.asr.enabled:
            self._mark(result, "asr", "skipped", "disabled in pipeline")
            return []
        cached = art.load("asr", h)
        if cached is not None:
            self._mark(result, "asr", "done", "cached")
            return [asr.Word(**w) for w in cached[0]["words"]]
        if not info.has_audio:
            self._mark(result, "asr", "skipped", "no audio track")
            art.save("asr", h, {"words": []})
            return []
        model = self.models.transcriber()
        if isinstance(model, MissingWeights):
            self._mark(result, "asr", "skipped", str(model))
            return []
        self.on_stage(info.path, "asr")
        try:
            words = asr.transcribe(model, decode_audio(info.path))
        except MediaError as exc:  # a broken audio track loses the speech, not the video
            self._mark(result, "asr", "failed", exc.reason)
            return []
        art.save("asr", h, {"model": model.name, "words": [asdict(w) for w in words]})
        self._mark(result, "asr", "done", f"{len(words)} words")
        return words

    def _vision(
        self, info: VideoInfo, segs: list[Segment], art: Artifacts, hashes: dict[str, str], result: VideoResult
    ) -> dict[str, Any]:
        """Keyframes decoded once, in chunks; OCR and the frame encoder share each chunk."""
        times = [keyframe_times(s, self.pipeline.keyframes) for s in segs]
        flat = [t for ts in times for t in ts]
        want_ocr = self.pipeline.ocr.enabled
        want_frames = self.pipeline.frames.enabled
        ocr_cached = art.load("ocr", hashes["ocr"]) if want_ocr else None
        frames_cached = art.load("frames", hashes["frames"]) if want_frames else None
        encoder = self.models.frame_encoder() if want_frames and frames_cached is None else None
        reader = self.models.ocr() if want_ocr and ocr_cached is None else None

        ocr_lines: list[list[ocr.TextLine]] = []
        embeddings: list[np.ndarray] = []
        if reader is not None or encoder is not None:
            self.on_stage(info.path, "keyframes")
            frames = open_frames(info.path)
            for i in range(0, len(flat), FRAME_CHUNK):
                batch = frames.read(flat[i : i + FRAME_CHUNK])
                if reader is not None:
                    self.on_stage(info.path, "ocr")
                    ocr_lines.extend(reader.read(f) for f in batch)
                if encoder is not None:
                    self.on_stage(info.path, "frames")
                    embeddings.append(encoder.encode_images(batch))

        out: dict[str, Any] = {"times": times, "ocr": None, "embeddings": None, "encoder": None}
        if not want_ocr:
            self._mark(result, "ocr", "skipped", "disabled in pipeline")
        elif ocr_cached is not None:
            out["ocr"] = [[ocr.TextLine(t, s, tuple(b)) for t, s, b in lines] for lines in ocr_cached[0]["frames"]]
            self._mark(result, "ocr", "done", "cached")
        else:
            art.save(
                "ocr",
                hashes["ocr"],
                {
                    "model": reader.name,
                    "frames": [[[ln.text, ln.score, list(ln.box)] for ln in lines] for lines in ocr_lines],
                },
            )
            out["ocr"] = ocr_lines
            self._mark(result, "ocr", "done", f"{sum(map(len, ocr_lines))} lines")

        if not want_frames:
            self._mark(result, "frames", "skipped", "disabled in pipeline")
        elif frames_cached is not None:
            out["embeddings"], out["encoder"] = frames_cached[1]["embeddings"], frames_cached[0]["encoder"]
            self._mark(result, "frames", "done", "cached")
        elif encoder is None:
            self._mark(result, "frames", "skipped", "no frame encoder weights and no fallback")
        else:
            out["embeddings"], out["encoder"] = np.concatenate(embeddings), encoder.name
            art.save("frames", hashes["frames"], {"encoder": encoder.name}, {"embeddings": out["embeddings"]})
            self._mark(result, "frames", "done", encoder.name)
        if out["embeddings"] is not None:
            cfg = self.pipeline.temporal
            out["pooler"], detail = temporal.pooler_for(
                cfg.module, cfg.checkpoint, out["encoder"], out["embeddings"].shape[1]
            )
            ran = out["pooler"].module.name == cfg.module
            self._mark(result, "temporal", "done" if ran else "skipped", detail)
        return out

    def _captions(
        self, info: VideoInfo, vision: dict[str, Any], art: Artifacts, h: str, result: VideoResult
    ) -> list[str] | None:
        """One caption per segment from its keyframe embeddings, when a Q-Former checkpoint is configured."""
        cfg = self.pipeline.captions
        if not cfg.checkpoint:
            self._mark(result, "captions", "skipped", "no Q-Former checkpoint in the pipeline")
            return None
        if vision["embeddings"] is None:
            self._mark(result, "captions", "skipped", "no frame embeddings")
            return None
        cached = art.load("captions", h)
        if cached is not None:
            self._mark(result, "captions", "done", "cached")
            return cached[0]["captions"]
        try:
            captioner = self.models.captioner(cfg.checkpoint, vision["encoder"])
        except (OSError, ValueError) as exc:  # a missing or mismatched checkpoint loses captions, not the video
            self._mark(result, "captions", "skipped", str(exc))
            return None
        self.on_stage(info.path, "captions")
        ends = np.cumsum([len(times) for times in vision["times"]])
        groups = np.split(vision["embeddings"], ends[:-1])
        texts = [
            text
            for i in range(0, len(groups), CAPTION_BATCH)
            for text in captioner.caption(groups[i : i + CAPTION_BATCH], cfg.max_new_tokens)
        ]
        art.save("captions", h, {"captions": texts})
        self._mark(result, "captions", "done", f"{len(texts)} segments")
        return texts

    def _tracks(
        self, info: VideoInfo, segs: list[Segment], art: Artifacts, h: str, result: VideoResult
    ) -> tuple[list[dict[str, Any]], list[VectorRows]]:
        records, rows, outcome = tracklets.ingest_stage(
            info, segs, art, h, self.models, self.pipeline.tracks, lambda: self.on_stage(info.path, "tracks")
        )
        self._mark(result, "tracks", *outcome)
        return records, rows

    def _assemble(
        self, info: VideoInfo, segs: list[Segment], words: list[asr.Word], vision: dict[str, Any]
    ) -> tuple[list[SegmentRecord], list[VectorRows]]:
        vid = info.video_id
        records: list[SegmentRecord] = []
        k = 0
        for seg, times in zip(segs, vision["times"], strict=True):
            lines = vision["ocr"][k : k + len(times)] if vision["ocr"] is not None else []
            records.append(
                SegmentRecord(
                    seg.start_s,
                    seg.end_s,
                    transcript=asr.words_in(words, seg.start_s, seg.end_s),
                    ocr=ocr.segment_text(lines),
                    caption=vision["captions"][len(records)] if vision.get("captions") else None,
                    keyframes=times,
                )
            )
            k += len(times)

        text_encoder = self.models.text_encoder()
        text_rows = VectorRows(collection_name("text", text_encoder.name))
        docs = [
            (i, ch, txt)
            for i, r in enumerate(records)
            for ch, txt in (("transcript", r.transcript), ("ocr", " | ".join(r.ocr)), ("caption", r.caption))
            if txt
        ]
        for (i, ch, txt), emb in zip(docs, text_encoder.encode([d[2] for d in docs]), strict=True):
            r = records[i]
            text_rows.add(
                f"{vid}:{i}:{ch}", emb, txt, video_id=vid, seg=i, start_s=r.start_s, end_s=r.end_s, channel=ch
            )
        vectors = [text_rows]

        if vision["embeddings"] is not None:
            pooler, emb = vision["pooler"], vision["embeddings"]
            visual = VectorRows(collection_name("visual", vision["encoder"]) + pooler.suffix)
            per_video = VectorRows(collection_name("video", vision["encoder"]) + pooler.suffix)
            ends = np.cumsum([len(times) for times in vision["times"]])
            for i, (r, vec) in enumerate(zip(records, pooler.pool(np.split(emb, ends[:-1])), strict=True)):
                visual.add(f"{vid}:{i}", vec, "", video_id=vid, seg=i, start_s=r.start_s, end_s=r.end_s, **pooler.meta)
            per_video.add(
                vid,
                pooler.pool([emb])[0],
                info.path,
                video_id=vid,
                start_s=0.0,
                end_s=info.duration_s,
                **pooler.meta,
            )
            vectors += [visual, per_video]
        return records, vectors
