"""Cut a video into segments (PySceneDetect scenes, fixed windows as fallback) and pick keyframes."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from ..config import KeyframeConfig, SceneConfig
from ..media.frames import reference_frames
from ..media.probe import VideoInfo
from .stage import Context, Outcome, Output, Stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    shot: int | None = None  # which shot (span between cuts) it is part of; None: fixed windows, not shots

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def detect_cuts(path: str | Path, cfg: SceneConfig) -> list[float]:
    """Times (s) of the scene cuts PySceneDetect's detector finds.

    Where the codec has B-frames (H.264, HEVC, MPEG-2), one PyAV pass decodes only the reference frames,
    shrunk by libswscale as they are decoded, and feeds them to the detector with their own timestamps. A
    cut on a B-frame is then seen on the next reference frame, a few frames late (encoders put an I-frame
    at a cut they see). On every fixture the cuts are the OpenCV backend's, in 0.7-0.85x its time on the
    720p ones (narrated 2.1 -> 1.5 s); this stage is what the frame stages and tracks wait for. Other
    codecs (mjpeg, msmpeg4, vp8: nothing to skip) go through PySceneDetect's OpenCV backend, which decodes
    those faster here."""
    from scenedetect import AdaptiveDetector, ContentDetector, SceneManager, open_video

    # Importing scenedetect resets its logger to INFO; its per-video chatter would break our progress lines.
    logging.getLogger("pyscenedetect").setLevel(max(log.getEffectiveLevel(), logging.WARNING))

    def detector(fps: float):
        min_len = max(1, round(cfg.min_scene_s * fps))
        if cfg.detector == "adaptive":
            return AdaptiveDetector(min_scene_len=min_len)
        return ContentDetector(threshold=cfg.threshold, min_scene_len=min_len)

    cuts = _reference_frame_cuts(path, cfg.downscale, detector)
    if cuts is not None:
        return cuts
    video = open_video(str(path), backend="opencv")
    manager = SceneManager()
    manager.auto_downscale = False
    manager.downscale = cfg.downscale
    manager.add_detector(detector(float(video.frame_rate)))
    manager.detect_scenes(video)
    return [start.seconds for start, _ in manager.get_scene_list(start_in_scene=True)[1:]]


def _reference_frame_cuts(path: str | Path, downscale: int, detector) -> list[float] | None:
    """The cuts from the reference frames alone (see detect_cuts); None when the codec has no B-frames."""
    from scenedetect.common import FrameTimecode, Timecode

    frames = reference_frames(path, downscale)
    if frames is None:
        return None
    scenes, found, last = detector(frames.fps), [], None
    for pts, time_base, image in frames:
        last = FrameTimecode(Timecode(pts, time_base), frames.fps)
        found += scenes.process_frame(last, image)
    if last is not None:
        found += scenes.post_process(last)
    return sorted({round(c.seconds, 6) for c in found if c.seconds > 0})


def segments_from_cuts(cuts: list[float], duration_s: float, cfg: SceneConfig) -> list[Segment]:
    """Scenes between cuts; scenes longer than `max_scene_s` split into equal windows (of the same shot)."""
    bounds = [0.0] + sorted(c for c in cuts if 0.0 < c < duration_s) + [duration_s]
    segments: list[Segment] = []
    for shot, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False)):
        pieces = max(1, math.ceil((end - start) / cfg.max_scene_s - 1e-9))
        step = (end - start) / pieces
        segments.extend(
            Segment(round(start + i * step, 3), round(start + (i + 1) * step, 3), shot) for i in range(pieces)
        )
    return segments


def fixed_windows(duration_s: float, window_s: float) -> list[Segment]:
    pieces = max(1, math.ceil(duration_s / window_s - 1e-9))
    step = duration_s / pieces
    return [Segment(round(i * step, 3), round((i + 1) * step, 3)) for i in range(pieces)]


def segment_video(info: VideoInfo, cfg: SceneConfig) -> tuple[list[Segment], str]:
    """Segments and how they were made ("scenes" or "windows: <why>")."""
    if cfg.detector == "windows":
        return fixed_windows(info.duration_s, cfg.window_s), "windows"
    try:
        cuts = detect_cuts(info.path, cfg)
    except Exception as exc:  # a backend that cannot read this file: windows still index it
        log.warning("%s: scene detection failed (%s); using %.0f s windows", info.path, exc, cfg.window_s)
        return fixed_windows(info.duration_s, cfg.window_s), f"windows: {exc}"
    return segments_from_cuts(cuts, info.duration_s, cfg), "scenes"


def keyframe_times(segment: Segment, cfg: KeyframeConfig) -> list[float]:
    """Evenly spaced interior times: one per `interval_s`, at least one, at most `max_per_segment`.

    Interior (not the boundaries) so a keyframe never lands on a cut's transition frame.
    """
    n = min(cfg.max_per_segment, max(1, round(segment.duration_s / cfg.interval_s)))
    step = segment.duration_s / n
    return [round(segment.start_s + (i + 0.5) * step, 3) for i in range(n)]


class Scenes(Stage):
    """Segments: PySceneDetect scenes (long ones split), or fixed windows when detection cannot run; with
    each segment's keyframe times (from the pipeline's `keyframes:`, which the frame stages' hashes cover)."""

    name = "scenes"

    def settings(self, profile, pipeline):
        return (pipeline.scenes,)

    def enabled(self, pipeline) -> bool:
        return True  # every other stage reads the segments

    def run(self, ctx: Context) -> Output:
        segments, how = segment_video(ctx.info, ctx.pipeline.scenes)
        saved = {"segments": [[s.start_s, s.end_s] for s in segments], "how": how, "shots": [s.shot for s in segments]}
        return Output(self._value(segments, how, ctx), Outcome("done", how), (saved, None))

    def restore(self, data, arrays, ctx):
        shots = data.get("shots") or [None] * len(data["segments"])  # artifacts of before shots were kept: unknown
        return self._value(
            [Segment(a, b, n) for (a, b), n in zip(data["segments"], shots, strict=True)], data["how"], ctx
        )

    @staticmethod
    def _value(segments: list[Segment], how: str, ctx: Context) -> dict:
        keyframes = [keyframe_times(s, ctx.pipeline.keyframes) for s in segments]
        return {"segments": segments, "how": how, "keyframes": keyframes}
