"""Probe media files and decode frames (decord, PyAV fallback) and audio (PyAV), with typed errors.

Frame numbers live only here and in segment.py; everything else speaks float seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

VIDEO_SUFFIXES = {
    ".mp4",
    ".m4v",
    ".mov",
    ".mkv",
    ".webm",
    ".avi",
    ".mpg",
    ".mpeg",
    ".ts",
    ".mts",
    ".m2ts",
    ".wmv",
    ".flv",
    ".3gp",
    ".ogv",
}
SAMPLE_RATE = 16_000  # what every ASR model here expects


class MediaError(Exception):
    """A file that cannot be ingested; the message names the file and says why in one line."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class VideoInfo:
    path: str
    video_id: str
    duration_s: float
    fps: float
    width: int
    height: int
    has_audio: bool
    video_codec: str
    container: str


def file_video_id(path: str | Path) -> str:
    """First 16 hex chars of the sha256 of the bytes: the same file under any name is one video."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def find_videos(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Expand folders (recursively, by video suffix). Returns (candidates, skipped non-video files).

    Explicitly named files are always candidates, whatever their suffix: the probe decides.
    """
    found: list[Path] = []
    skipped: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                (found if child.suffix.lower() in VIDEO_SUFFIXES else skipped).append(child)
        else:
            found.append(path)
    return found, skipped


def probe(path: str | Path) -> VideoInfo:
    """Open the container, check it holds a decodable video stream, and describe it."""
    import av

    path = Path(path)
    if not path.exists():
        raise MediaError(path, "no such file")
    if path.is_dir():
        raise MediaError(path, "is a folder, not a video file")
    if path.stat().st_size == 0:
        raise MediaError(path, "is empty (0 bytes)")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                kinds = sorted({s.type for s in container.streams}) or ["nothing"]
                raise MediaError(path, f"has no video stream (holds {', '.join(kinds)})")
            stream = container.streams.video[0]
            if not stream.codec_context.width or not stream.codec_context.height:
                raise MediaError(path, "video stream has no frame size (corrupt header?)")
            duration = _duration(container, stream)
            fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
            # Decode the first frame: a header alone does not prove the data is there.
            first = next(container.decode(stream), None)
            if first is None:
                raise MediaError(path, "no frame could be decoded (truncated or corrupt)")
            info = VideoInfo(
                path=str(path),
                video_id=file_video_id(path),
                duration_s=duration,
                fps=fps,
                width=first.width,
                height=first.height,
                has_audio=bool(container.streams.audio),
                video_codec=stream.codec_context.name,
                container=container.format.name,
            )
    except MediaError:
        raise
    except av.error.FFmpegError as exc:
        raise MediaError(path, f"not a readable video ({_ffmpeg_reason(exc)})") from None
    if info.duration_s <= 0:
        raise MediaError(path, "has zero duration")
    return info


def _ffmpeg_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip().rstrip(".").lower() or type(exc).__name__


def _duration(container, stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return 0.0


class FrameReader(Protocol):
    """Random access to frames by time; a decode backend."""

    def frame_times(self) -> np.ndarray: ...

    def read(self, times_s: Sequence[float]) -> np.ndarray: ...


class DecordReader:
    """Seeking reader over decord (fast random access for most codecs)."""

    def __init__(self, path: str | Path):
        import decord

        self.path = str(path)
        self._vr = decord.VideoReader(self.path, ctx=decord.cpu(0), num_threads=1)
        self._times = self._vr.get_frame_timestamp(np.arange(len(self._vr)))[:, 0].astype(np.float64)

    def frame_times(self) -> np.ndarray:
        return self._times

    def read(self, times_s: Sequence[float]) -> np.ndarray:
        idx = _nearest(self._times, times_s)
        return self._vr.get_batch(list(idx)).asnumpy()


def _pyav_frames(path: str | Path, decode: bool) -> Iterator[tuple[float, Any]]:
    """(time, frame) in decode order, times counted from the video's start as decord counts them;
    with decode=False only packet times (no frame is decoded)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base = float(stream.time_base or 0)
        start = stream.start_time or 0
        if decode:
            for frame in container.decode(stream):
                yield ((frame.pts or start) - start) * base, frame
        else:
            for packet in container.demux(stream):
                if packet.pts is not None:
                    yield (packet.pts - start) * base, None


class PyAVReader:
    """Sequential reader over PyAV for files decord cannot open (it decodes each frame once)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        # Packets arrive in decode order; sorted, the times are in presentation order.
        self._times = np.sort(np.asarray([t for t, _ in _pyav_frames(self.path, decode=False)], dtype=np.float64))

    def frame_times(self) -> np.ndarray:
        return self._times

    def read(self, times_s: Sequence[float]) -> np.ndarray:
        keys = [round(float(self._times[i]), 6) for i in _nearest(self._times, times_s)]
        found: dict[float, np.ndarray] = {}
        missing = set(keys)
        for t, frame in _pyav_frames(self.path, decode=True):
            key = round(t, 6)
            if key in missing:
                found[key] = frame.to_ndarray(format="rgb24")
                missing.discard(key)
                if not missing:
                    break
        if missing:
            raise MediaError(self.path, "frames missing while decoding (truncated or corrupt)")
        return np.stack([found[k] for k in keys])


def _nearest(times: np.ndarray, wanted: Sequence[float]) -> np.ndarray:
    if len(times) == 0:
        raise ValueError("video has no frames")
    pos = np.clip(np.searchsorted(times, np.asarray(wanted, dtype=np.float64)), 1, len(times) - 1)
    left, right = times[pos - 1], times[pos]
    return np.where(np.abs(np.asarray(wanted) - left) <= np.abs(right - np.asarray(wanted)), pos - 1, pos)


def iter_frames(path: str | Path, times_s: Sequence[float]) -> Iterator[np.ndarray]:
    """RGB frames nearest to ascending `times_s`, in one sequential decoding pass (PyAV, threaded).

    For dense sampling (a frame every second or more often) this beats seeking, which decodes from
    the previous keyframe for every frame. Times past the last frame get the last frame.
    """
    import av

    pending = list(times_s)
    last = None
    prev_t = None
    try:
        for t, frame in _pyav_frames(path, decode=True):
            if not pending:
                break
            # Half a frame's gap: the frame nearest to a wanted time is the first within that distance.
            half = 0.5 * (t - prev_t) if prev_t is not None and t > prev_t else 0.02
            prev_t = t
            if t + half >= pending[0]:
                last = frame.to_ndarray(format="rgb24")
                while pending and t + half >= pending[0]:
                    pending.pop(0)
                    yield last
    except av.error.FFmpegError as exc:
        raise MediaError(path, f"frames cannot be decoded ({_ffmpeg_reason(exc)})") from None
    if last is None and pending:
        raise MediaError(path, "no frame could be decoded (truncated or corrupt)")
    for _ in pending:
        yield last


def open_frames(path: str | Path) -> FrameReader:
    """decord where it can, PyAV where it cannot; errors name the file."""
    try:
        reader: FrameReader = DecordReader(path)
        if len(reader.frame_times()) == 0:
            raise RuntimeError("no frames")
        return reader
    except Exception:  # decord raises its own untyped errors for codecs it lacks
        pass
    try:
        return PyAVReader(path)
    except Exception as exc:
        raise MediaError(path, f"frames cannot be decoded ({_ffmpeg_reason(exc)})") from None


def decode_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Whole audio track as mono float32 at `sample_rate`; empty array when there is no audio."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return np.zeros(0, dtype=np.float32)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            chunks = []
            for frame in container.decode(container.streams.audio[0]):
                chunks.extend(r.to_ndarray().reshape(-1) for r in resampler.resample(frame))
            chunks.extend(r.to_ndarray().reshape(-1) for r in resampler.resample(None))
    except av.error.FFmpegError as exc:
        raise MediaError(path, f"audio cannot be decoded ({_ffmpeg_reason(exc)})") from None
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)
