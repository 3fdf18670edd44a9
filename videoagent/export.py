"""One video's index entry as files other tools read: SubRip and WebVTT captions, or one JSON document.

    videoagent export VIDEO_ID --format srt|vtt|json [--out FILE]      # also GET /api/videos/ID/captions.vtt

Captions come from the ASR stage's timed words (its artifact), cut into cues the way subtitle editors
do: at the end of a sentence, at a pause, or before a cue grows past two short lines or seven seconds.
A video indexed without timed words falls back to one cue per scene transcript. The JSON document is
`videoagent show --json` (scenes, transcript, on-screen text, tags, tracklets, title and chapters) plus
the cues and the video's tags.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = ("srt", "vtt", "json")
CUE_CHARS = 84  # two lines of 42: the common subtitle limit
CUE_SECONDS = 7.0
PAUSE_S = 1.0


@dataclass
class Cue:
    start_s: float
    end_s: float
    text: str


def cues(index_root: str | Path, video: dict[str, Any]) -> list[Cue]:
    """Caption cues of a video `Store.describe` document: from its timed words, else its scene transcripts."""
    words = _words(Path(index_root), video["video_id"])
    if not words:
        return [Cue(s["start_s"], s["end_s"], s["transcript"]) for s in video["segments"] if s["transcript"].strip()]
    out: list[Cue] = []
    run: list[dict[str, Any]] = []
    for word in words:
        if run and _breaks(run, word):
            out.append(_cue(run))
            run = []
        run.append(word)
    if run:
        out.append(_cue(run))
    return out


def _words(root: Path, video_id: str) -> list[dict[str, Any]]:
    """The ASR artifact's words (the latest run's: re-ingest overwrites it along with the index rows)."""
    try:
        meta = json.loads((root / "artifacts" / video_id / "asr.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    return [w for w in meta.get("data", {}).get("words", []) if str(w.get("text", "")).strip()]


def _breaks(run: list[dict[str, Any]], word: dict[str, Any]) -> bool:
    text = " ".join(w["text"].strip() for w in run)
    return (
        run[-1]["text"].rstrip().endswith((".", "?", "!"))
        or word["start_s"] - run[-1]["end_s"] > PAUSE_S
        or len(text) + 1 + len(word["text"].strip()) > CUE_CHARS
        or word["end_s"] - run[0]["start_s"] > CUE_SECONDS
    )


def _cue(run: list[dict[str, Any]]) -> Cue:
    return Cue(run[0]["start_s"], run[-1]["end_s"], " ".join(w["text"].strip() for w in run))


def stamp(seconds: float, sep: str = ".") -> str:
    """hh:mm:ss.mmm (WebVTT) or hh:mm:ss,mmm (SubRip, sep=",")."""
    ms = round(max(0.0, seconds) * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_vtt(items: list[Cue]) -> str:
    body = "".join(f"\n{i}\n{stamp(c.start_s)} --> {stamp(c.end_s)}\n{_safe(c.text)}\n" for i, c in enumerate(items, 1))
    return "WEBVTT\n" + body


def to_srt(items: list[Cue]) -> str:
    return "".join(
        f"{i}\n{stamp(c.start_s, ',')} --> {stamp(c.end_s, ',')}\n{c.text}\n\n" for i, c in enumerate(items, 1)
    )


def _safe(text: str) -> str:
    """Cue text as WebVTT reads it: '<' and '&' would start markup, and '-->' must not appear."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def export(index_root: str | Path, video: dict[str, Any], tags: list[dict[str, Any]], fmt: str) -> str:
    """The video in `fmt` (one of FORMATS); `video` is its `Store.describe` document, `tags` its assigned tags."""
    items = cues(index_root, video)
    if fmt == "vtt":
        return to_vtt(items)
    if fmt == "srt":
        return to_srt(items)
    doc = {
        **video,
        "tags": tags,
        "captions": [{"start_s": c.start_s, "end_s": c.end_s, "text": c.text} for c in items],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
