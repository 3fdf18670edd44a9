"""Find and probe media files: what a video holds, its id, and typed errors that name the file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..atomic import file_sha256
from ..errors import MediaError

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
    return file_sha256(path)[:16]


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
        raise MediaError(path, f"not a readable video ({ffmpeg_reason(exc)})") from None
    if info.duration_s <= 0:
        raise MediaError(path, "has zero duration")
    return info


def ffmpeg_reason(exc: Exception) -> str:
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
