"""Decode a video's audio track to 16 kHz mono float32 (PyAV), what every ASR model here expects."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MediaError
from .probe import ffmpeg_reason

SAMPLE_RATE = 16_000  # what every ASR model here expects


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
        raise MediaError(path, f"audio cannot be decoded ({ffmpeg_reason(exc)})") from None
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)
