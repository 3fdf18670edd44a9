"""Detections -> tracklets: any detector's boxes fed to ultralytics' ByteTrack at a sampled frame rate.

Tracks reset at scene cuts (a new tracker per segment); short or unconfident tracks are dropped. Each
tracklet gets ChatVideo's columns: category, appearance (an embedding of its crops and the colours it
wears), motion, trajectory (entry/exit sides, direction, speed) and a representative crop.

ByteTrack matches boxes by IoU. At a couple of samples per second a walking person moves more than
their own width between samples, so plain IoU loses them; as in C-BIoU (Yang et al., 2023) boxes are
grown by a buffer before matching, and the recorded boxes are the detector's own.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np

from ..config import TracksConfig
from ..media.frames import iter_frames
from ..models.detect import Detections, Detector, ultralytics_env
from .scenes import Segment

log = logging.getLogger(__name__)
CROPS_PER_TRACK = 4  # best crops kept per track for its appearance embedding
CROP_SIDE = 256  # crops are kept at most this large (the appearance models read 224 px): memory stays flat


@dataclass
class Tracklet:
    """One object followed through one scene. Boxes are x1,y1,x2,y2 as fractions of the frame."""

    index: int
    category: str
    times: list[float] = field(default_factory=list)
    boxes: list[list[float]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    @property
    def start_s(self) -> float:
        return self.times[0]

    @property
    def end_s(self) -> float:
        return self.times[-1]

    @property
    def mean_conf(self) -> float:
        return float(np.mean(self.scores))


@dataclass
class TrackRun:
    """What a tracking pass found and what happened on the way."""

    tracklets: list[Tracklet]
    crops: dict[int, list[tuple[float, np.ndarray]]]  # tracklet index -> [(score, RGB crop)], best first
    frames: int = 0
    failed_frames: int = 0
    first_error: str | None = None
    dropped: int = 0  # tracks filtered out as too short or unconfident
    detect_s: float = 0.0
    track_s: float = 0.0
    # Per sampled frame, each category detected confidently (score >= high_conf), tracked or not:
    # (time, category, best score, boxes) - what the frame shows, for the segment's `seen` labels.
    seen: list[tuple[float, str, float, int]] = field(default_factory=list)


class _Boxes:
    """The minimal Results-like object BYTETracker reads: xywh, xyxy, conf, cls, boolean indexing."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, buffer: float):
        self.xyxy = xyxy.astype(np.float32)
        self.conf = conf.astype(np.float32)
        self.cls = np.zeros(len(conf), np.float32)
        wh = self.xyxy[:, 2:4] - self.xyxy[:, 0:2]
        self.xywh = np.concatenate([self.xyxy[:, 0:2] + wh / 2, wh * (1 + 2 * buffer)], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, mask):
        out = object.__new__(_Boxes)
        out.xyxy, out.conf, out.cls, out.xywh = self.xyxy[mask], self.conf[mask], self.cls[mask], self.xywh[mask]
        return out


def _byte_tracker(cfg: TracksConfig):
    ultralytics_env()
    from ultralytics.trackers.byte_tracker import BYTETracker

    args = SimpleNamespace(
        track_high_thresh=cfg.high_conf,
        track_low_thresh=cfg.low_conf,
        new_track_thresh=cfg.new_track_conf,
        track_buffer=max(1, round(cfg.lost_s * cfg.sample_fps)),
        match_thresh=1.0 - cfg.match_iou,
        fuse_score=True,
    )
    return BYTETracker(args)


class SceneTracker:
    """ByteTrack within one scene, one tracker per category (a face never continues a person)."""

    def __init__(self, cfg: TracksConfig):
        self.cfg = cfg
        self._trackers: dict[str, Any] = {}

    def update(self, dets: Detections) -> list[tuple[int, str, int]]:
        """(tracker id, category, detection index) for each detection that continues or starts a track."""
        out = []
        labels = np.asarray(dets.labels, dtype=object)
        for category in sorted(set(dets.labels) | set(self._trackers)):  # sorted: the same ids in every process
            tracker = self._trackers.get(category)
            if tracker is None:
                tracker = self._trackers[category] = _byte_tracker(self.cfg)
            where = np.flatnonzero(labels == category) if len(dets) else np.zeros(0, int)
            rows = tracker.update(_Boxes(dets.boxes[where], dets.scores[where], self.cfg.box_buffer))
            out += [(int(r[4]), category, int(where[int(r[7])])) for r in rows]
        return out


def sample_times(segments: Sequence[Segment], fps: float) -> list[list[float]]:
    """Evenly spaced times inside each segment (half a step in from its start), at least one each."""
    step = 1.0 / fps
    out = []
    for seg in segments:
        if seg.duration_s < step:
            out.append([round((seg.start_s + seg.end_s) / 2, 3)])
        else:
            n = math.floor(seg.duration_s / step + 1e-9)
            out.append([round(seg.start_s + (i + 0.5) * step, 3) for i in range(n)])
    return out


def sampled_frames(path: str, times_per_segment: list[list[float]]) -> Iterator[tuple[int, float, np.ndarray]]:
    """(segment index, time, RGB frame) for every sampled time, decoded in one sequential pass."""
    flat = [(k, t) for k, times in enumerate(times_per_segment) for t in times]
    for (k, t), frame in zip(flat, iter_frames(path, [t for _, t in flat]), strict=True):
        yield k, t, frame


def _confident(t: float, dets: Detections, threshold: float) -> list[tuple[float, str, float, int]]:
    best: dict[str, list] = {}
    for label, score in zip(dets.labels, dets.scores.tolist(), strict=True):
        if score >= threshold:
            row = best.setdefault(label, [t, label, 0.0, 0])
            row[2], row[3] = max(row[2], round(score, 3)), row[3] + 1
    return [tuple(r) for r in best.values()]


def track_frames(frames: Iterable[tuple[int, float, np.ndarray]], detector: Detector, cfg: TracksConfig) -> TrackRun:
    """Detect and track over (segment index, time, frame) samples; a new segment starts every track anew.
    A frame the detector fails on is counted and skipped."""
    run = TrackRun([], {})
    live: dict[tuple[str, int], Tracklet] = {}
    tracker, segment = None, None
    for k, t, frame in frames:
        if k != segment:  # a scene cut ends every track; the crops of those that will be dropped go now
            for tr in live.values():
                if len(tr.times) < cfg.min_boxes or tr.mean_conf < cfg.min_mean_conf:
                    run.crops.pop(tr.index, None)
            tracker, segment = SceneTracker(cfg), k
            live.clear()
        run.frames += 1
        started = time.perf_counter()
        try:
            dets = detector.detect(frame)
        except Exception as exc:  # one bad frame loses its detections, not the video
            run.failed_frames += 1
            run.first_error = run.first_error or f"{type(exc).__name__}: {exc}"
            log.warning("detector failed at %.2f s: %s", t, exc)
            dets = Detections.empty()
        tracked = time.perf_counter()
        run.detect_s += tracked - started
        run.seen += _confident(t, dets, cfg.high_conf)
        for track_id, category, i in tracker.update(dets):
            key = (category, track_id)
            if key not in live:
                live[key] = Tracklet(len(run.tracklets), category)
                run.tracklets.append(live[key])
            _extend(live[key], t, dets.boxes[i], float(dets.scores[i]), frame, run.crops)
        run.track_s += time.perf_counter() - tracked
    kept = [tr for tr in run.tracklets if len(tr.times) >= cfg.min_boxes and tr.mean_conf >= cfg.min_mean_conf]
    run.dropped = len(run.tracklets) - len(kept)
    run.crops = {new: run.crops.get(tr.index, []) for new, tr in enumerate(kept)}
    for new, tr in enumerate(kept):
        tr.index = new
    run.tracklets = kept
    return run


def _extend(tr: Tracklet, t: float, box: np.ndarray, score: float, frame: np.ndarray, crops: dict) -> None:
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = np.clip(box, 0, [w, h, w, h])
    tr.times.append(t)
    tr.boxes.append(
        [round(float(x1) / w, 4), round(float(y1) / h, 4), round(float(x2) / w, 4), round(float(y2) / h, 4)]
    )
    tr.scores.append(round(score, 4))
    crop = frame[int(y1) : int(math.ceil(y2)), int(x1) : int(math.ceil(x2))]
    if crop.size == 0:
        return
    kept = crops.setdefault(tr.index, [])
    if kept and len(kept) >= CROPS_PER_TRACK and score <= kept[-1][0]:
        return  # no better than the crops it has
    scale = CROP_SIDE / max(crop.shape[:2])
    if scale < 1:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    kept.append((score, np.ascontiguousarray(crop)))
    kept.sort(key=lambda sc: -sc[0])
    del kept[CROPS_PER_TRACK:]


def trajectory(times: Sequence[float], boxes: Sequence[Sequence[float]], edge_margin: float) -> dict[str, Any]:
    """Entry and exit sides, overall direction and mean speed (fractions of the frame per second).

    A side is the nearest frame edge when the box is within `edge_margin` of it, else "inside" (the
    object appeared or vanished in view: from behind something, or the detector only caught it there).
    """
    b = np.asarray(boxes, dtype=np.float64)
    centres = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)
    dt = np.diff(np.asarray(times, dtype=np.float64))
    steps = np.linalg.norm(np.diff(centres, axis=0), axis=1)
    speed = float(np.sum(steps) / max(np.sum(dt), 1e-9)) if len(dt) else 0.0
    dx, dy = centres[-1] - centres[0]
    span = float(times[-1] - times[0])
    if span <= 0 or math.hypot(dx, dy) / span < 0.01:  # under 1% of the frame a second: standing still
        direction = "still"
    elif abs(dx) >= abs(dy):
        direction = "right" if dx > 0 else "left"
    else:
        direction = "down" if dy > 0 else "up"
    return {
        "enters": _side(b[0], edge_margin),
        "exits": _side(b[-1], edge_margin),
        "direction": direction,
        "mean_speed": round(speed, 4),
        "displacement": [round(float(dx), 4), round(float(dy), 4)],
    }


def _side(box: np.ndarray, margin: float) -> str:
    gaps = {"left": box[0], "right": 1 - box[2], "top": box[1], "bottom": 1 - box[3]}
    side = min(gaps, key=gaps.get)
    return side if gaps[side] <= margin else "inside"


def motion(traj: dict[str, Any]) -> str:
    """ChatVideo's action column, from motion alone: "still" or "moving <direction>"."""
    return "still" if traj["direction"] == "still" else f"moving {traj['direction']}"
