"""Decode frames by time: decord (fast seeking), PyAV where decord cannot, and one sequential pass.

Frame numbers live only here and in ingest/scenes.py; everything else speaks float seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import MediaError
from ..native import system_libstdcxx_first
from .probe import ffmpeg_reason


class FrameReader(Protocol):
    """Random access to frames by time; a decode backend."""

    def frame_times(self) -> np.ndarray: ...

    def read(self, times_s: Sequence[float]) -> np.ndarray: ...


class DecordReader:
    """Seeking reader over decord (fast random access for most codecs)."""

    def __init__(self, path: str | Path):
        system_libstdcxx_first()  # before decord's RTLD_GLOBAL library: see videoagent/native.py
        import decord

        self.path = str(path)
        self._vr = decord.VideoReader(self.path, ctx=decord.cpu(0), num_threads=1)
        self._times = self._vr.get_frame_timestamp(np.arange(len(self._vr)))[:, 0].astype(np.float64)

    def frame_times(self) -> np.ndarray:
        return self._times

    def read(self, times_s: Sequence[float]) -> np.ndarray:
        idx = _nearest(self._times, times_s)
        frames = self._vr.get_batch(list(idx)).asnumpy()
        # Left where it stopped, decord's decoder keeps decoding ahead on its own thread and queues the
        # frames (dmlc/decord#157, #208): while the classifier ran, a 5-minute 720p ingest grew by 1.5 GB
        # of frames nobody asked for. Seeking back to the start parks it (the next batch seeks anyway).
        self._vr.seek(0)
        return frames


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

    Every frame is decoded: skipping the B-frames (as the scenes pass does) cost the tracks a third less
    decoding but moved their samples by a frame or two, and with them what the detector saw (a "person"
    in the narrated_small tagging test), for no gain in the stage's time measured alone (3.28 -> 3.17 s).
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
        raise MediaError(path, f"frames cannot be decoded ({ffmpeg_reason(exc)})") from None
    if last is None and pending:
        raise MediaError(path, "no frame could be decoded (truncated or corrupt)")
    for _ in pending:
        yield last


class ReferenceFrames:
    """The reference frames of a video whose codec has B-frames, in one pass, shrunk by `downscale` as they
    are decoded (libswscale): (pts counted from the video's start, time base, BGR image). The B-frames are
    skipped by the decoder, not decoded (ingest/scenes.py: the cuts from these are the cuts)."""

    def __init__(self, path: str | Path, fps: float, width: int, height: int):
        self.path, self.fps, self.width, self.height = str(path), fps, width, height

    def __iter__(self) -> Iterator[tuple[int, Any, np.ndarray]]:
        import av

        with av.open(self.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            stream.codec_context.skip_frame = "NONREF"
            start = stream.start_time or 0
            for frame in container.decode(stream):
                if frame.pts is not None:
                    image = frame.to_ndarray(
                        format="bgr24", width=self.width, height=self.height, interpolation="FAST_BILINEAR"
                    )
                    yield frame.pts - start, stream.time_base, image


def reference_frames(path: str | Path, downscale: int = 1) -> ReferenceFrames | None:
    """A pass over the reference frames, or None when the codec has no B-frames (nothing to skip)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if not stream.codec_context.has_b_frames:
            return None
        fps = float(stream.average_rate or stream.guessed_rate or 25.0)
        width, height = stream.codec_context.width, stream.codec_context.height
    return ReferenceFrames(path, fps, max(1, width // downscale), max(1, height // downscale))


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
        raise MediaError(path, f"frames cannot be decoded ({ffmpeg_reason(exc)})") from None
