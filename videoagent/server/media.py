"""What the page shows of a video besides its data: keyframe thumbnails and tracklet crops, as JPEG files.

A thumbnail is decoded once (media.frames) and kept under `<index>/thumbs/<video_id>/`, named by its
time in milliseconds and its width, so a scene strip costs one decode per keyframe per index. Files are
only ever found from a video id or tracklet id through the catalog, never from a path in the request.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from ..atomic import atomic_write
from ..errors import MediaError, NoSuchVideo, UnknownTracklet

WIDTHS = (160, 320, 640)  # the sizes asked for, so a client cannot fill the disk with one per pixel


def thumbnail(root: Path, video: dict, t: float, width: int) -> Path:
    """A JPEG of the frame nearest `t` s of `video` (a catalog row), `width` pixels wide (one of WIDTHS)."""
    from ..media.frames import open_frames

    width = min(WIDTHS, key=lambda w: abs(w - width))
    t = min(max(0.0, t), max(0.0, float(video.get("duration_s") or t) - 0.05))  # the last frame, not past it
    out = root / "thumbs" / video["video_id"] / f"{round(t * 1000)}-{width}.jpg"
    if out.is_file():
        return out
    try:
        frame = open_frames(video["path"]).read([t])[0]
    except MediaError:
        raise
    except Exception as exc:  # a moved or truncated file
        raise MediaError(video["path"], f"cannot decode a frame at {t:.2f} s ({exc})") from None
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 82])
    if not ok:
        raise MediaError(video["path"], f"cannot encode the frame at {t:.2f} s")
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda f: f.write(jpeg.tobytes()))
    return out


def crop(root: Path, record: dict) -> Path:
    """A tracklet's saved crop; only a file inside the index's artifacts counts."""
    path = Path(record.get("crop") or "")
    artifacts = (root / "artifacts").resolve()
    if not record.get("crop") or not path.resolve().is_relative_to(artifacts) or not path.is_file():
        raise UnknownTracklet(f"tracklet {record.get('id')}: no crop saved")
    return path


def media_file(video: dict) -> Path:
    """The video's own file, as the catalog names it (404 when it was moved or deleted since ingest)."""
    path = Path(video["path"])
    if not path.is_file():
        raise NoSuchVideo(f"{video['video_id']}: its file {path} is gone (moved or deleted since ingest)")
    return path
