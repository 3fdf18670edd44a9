"""Media files: probe (typed errors that name the file), decode frames and audio."""

from ..errors import MediaError
from .audio import SAMPLE_RATE, decode_audio
from .frames import DecordReader, FrameReader, PyAVReader, iter_frames, open_frames
from .probe import VIDEO_SUFFIXES, VideoInfo, file_video_id, find_videos, probe

__all__ = [
    "SAMPLE_RATE",
    "VIDEO_SUFFIXES",
    "DecordReader",
    "FrameReader",
    "MediaError",
    "PyAVReader",
    "VideoInfo",
    "decode_audio",
    "file_video_id",
    "find_videos",
    "iter_frames",
    "open_frames",
    "probe",
]
