"""The `tracks` ingest stage: detect + ByteTrack (tracking.py) -> tracklet records (ChatVideo's columns).

A record: id, category, start_s, end_s, sampled boxes, trajectory (entry/exit sides, direction, mean
speed as fractions of the frame per second), motion, appearance (the colours it wears in words, and an
embedding of its crops: CLIP's or the ImageNet classifier's, else a colour histogram named as such),
the speech overlapping it, and a representative crop saved as JPEG.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..config import TracksConfig
from ..index.store import VectorRows
from ..models.detect import Detector
from ..models.encoders import FrameEncoder, normalize
from ..models.encoders.histogram import ColourHistogram, colour_names
from ..models.weights import MissingWeights
from .scenes import Segment
from .stage import Context, Outcome, Output, Stage
from .tracking import TrackRun, motion, sample_times, sampled_frames, track_frames, trajectory

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


def appearance_encoder(*encoders: FrameEncoder | MissingWeights | None) -> FrameEncoder:
    """The first learned image embedder the profile loaded (CLIP's image tower, the ImageNet classifier's
    features); otherwise the colour histogram (not learned)."""
    return next((e for e in encoders if getattr(e, "learned", False)), None) or ColourHistogram()


def build_records(
    run: TrackRun, video_id: str, detector: str, encoder: FrameEncoder, edge_margin: float, crops_dir: Path
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Tracklet records and their appearance embeddings (one row each); crops are written to `crops_dir`."""
    records, embeddings = [], []
    crops_dir.mkdir(parents=True, exist_ok=True)
    for tr in run.tracklets:
        crops = [c for _, c in run.crops.get(tr.index, [])]
        crop_path = None
        if crops:
            crop_path = crops_dir / f"{tr.index}.jpg"
            cv2.imwrite(str(crop_path), cv2.cvtColor(crops[0], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            embeddings.append(normalize(encoder.encode_images(list(crops)).mean(axis=0)))
        else:  # every box was clipped away at the frame edge: no pixels to describe
            embeddings.append(np.zeros(encoder.dim, np.float32))
        traj = trajectory(tr.times, tr.boxes, edge_margin)
        records.append(
            {
                "id": f"{video_id}:{tr.index}",
                "category": tr.category,
                "start_s": tr.start_s,
                "end_s": tr.end_s,
                "mean_conf": round(tr.mean_conf, 3),
                "times": tr.times,
                "boxes": tr.boxes,
                "trajectory": traj,
                "motion": motion(traj),
                "colours": colour_names(crops[0]) if crops else [],
                "appearance_model": encoder.name,
                "detector": detector,
                "crop": str(crop_path) if crop_path else None,
                "speech": "",
            }
        )
    dim = encoder.dim
    return records, (np.stack(embeddings).astype(np.float32) if embeddings else np.zeros((0, dim), np.float32))


def run_stage(
    path: str,
    video_id: str,
    segments: list[Segment],
    detector: Detector,
    embedders: tuple,
    cfg: TracksConfig,
    crops_dir: Path,
) -> tuple[list[dict[str, Any]], np.ndarray, str, list]:
    """Run detect + track over one video: (records, appearance embeddings, a one-line summary, what each
    sampled frame confidently shows)."""
    run = track_frames(sampled_frames(path, sample_times(segments, cfg.sample_fps)), detector, cfg)
    encoder = appearance_encoder(*embedders)
    records, embeddings = build_records(run, video_id, detector.name, encoder, cfg.edge_margin, crops_dir)
    detail = f"{len(records)} tracklets from {run.frames} frames ({detector.name}, {cfg.sample_fps:g} fps)"
    if run.dropped:
        detail += f"; {run.dropped} short/unconfident tracks dropped"
    if run.failed_frames:
        detail += f"; detector failed on {run.failed_frames} frame(s): {run.first_error}"
    return records, embeddings, detail, [[*row, detector.name] for row in run.seen]


class Tracks(Stage):
    """Whatever goes wrong here is the stage's outcome; the video is still indexed.

    Its value: (tracklet records, their appearance embeddings, the appearance model's name, and per
    sampled frame each category detected confidently: [time, category, best score, boxes, detector])."""

    name = "tracks"
    reads = ("scenes",)
    lane = "tracks"

    def settings(self, profile, pipeline):
        return (
            pipeline.tracks,
            profile.detector,
            profile.face_detector,
            profile.frame_encoder,
            profile.image_classifier,
        )

    def run(self, ctx: Context) -> Output:
        cfg = ctx.pipeline.tracks
        detector = ctx.models.detector(cfg.detect_height)
        if isinstance(detector, MissingWeights):
            return Output(self.off(), Outcome("skipped", str(detector)))
        info = ctx.info
        try:
            records, embeddings, detail, seen = run_stage(
                info.path,
                info.video_id,
                ctx["scenes"]["segments"],
                detector,
                (ctx.models.frame_encoder(), ctx.models.image_classifier()),
                cfg,
                ctx.artifacts.dir / "crops",
            )
        except Exception as exc:  # tracking is an extra: its failure must not lose the video
            log.exception("%s: tracking failed", info.path)
            return Output(self.off(), Outcome("failed", f"{type(exc).__name__}: {exc}"))
        model = records[0]["appearance_model"] if records else ""
        data = {"tracklets": records, "model": model, "seen": seen}
        return Output((records, embeddings, model, seen), Outcome("done", detail), (data, {"appearance": embeddings}))

    def restore(self, data, arrays, ctx):
        return data["tracklets"], arrays.get("appearance"), data["model"], data["seen"]

    def off(self):
        return [], None, "", []


def tracklet_rows(video_id: str, records: list[dict[str, Any]], embeddings, model: str) -> list[VectorRows]:
    """The appearance vectors of a video's tracklets, for `tracklets --like`."""
    from ..index.collections import collection_name

    rows = VectorRows(collection_name("tracklet", model or "none"))
    for rec, emb in zip(records, embeddings if embeddings is not None else [], strict=False):
        if np.any(emb):  # a tracklet with no pixels left has no appearance to search by
            meta = {"video_id": video_id, "category": rec["category"], "start_s": rec["start_s"]}
            rows.add(rec["id"], emb, rec["category"], end_s=rec["end_s"], **meta)
    return [rows] if rows.ids else []
