"""On-screen text from keyframes (RapidOCR, PP-OCRv4 ONNX bundled in its wheel), de-duplicated.

PP-OCRv4's recogniser often drops the space between words of a title ("SYSTEMOVERRIDE"). RapidOCR can
return where each character was read (`return_word_box`); `spaced` puts a space back wherever the step
from one character to the next is much wider than the line's usual step."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..config import OcrConfig


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the frame


class OcrReader:
    name = "rapidocr:PP-OCRv4"

    def __init__(self, cfg: OcrConfig, threads: int = 0):
        from rapidocr_onnxruntime import RapidOCR

        self.cfg = cfg
        opts = {"intra_op_num_threads": threads} if threads else {}
        self.engine = RapidOCR(det_limit_type="max", use_cls=False, **opts)  # "min" would upscale small frames

    def read(self, frame_rgb: np.ndarray) -> list[TextLine]:
        # Shrink first: RapidOCR otherwise scans a 720p frame at full size (its own size options are
        # overridden inside it), ~4x the work for the same readings of screen-sized text.
        frame_rgb = _fit(frame_rgb, self.cfg.max_side)
        h, w = frame_rgb.shape[:2]
        result, _ = self.engine(np.ascontiguousarray(frame_rgb[:, :, ::-1]), use_cls=False, return_word_box=True)
        lines = []
        for box, text, score, *chars in result or []:
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            if len(chars) >= 2 and len(chars[1]) == len(chars[0]):
                text = spaced(chars[1], [min(p[0] for p in c) for c in chars[0]]) or text
            # Lone characters are mostly texture read as letters (an 'O' in a saucer's rim), not text.
            if float(score) >= self.cfg.min_score and len(text.strip()) >= 2:
                lines.append(TextLine(text.strip(), float(score), (min(xs) / w, min(ys) / h, max(xs) / w, max(ys) / h)))
        return lines


WORD_GAP = 1.6  # a step this many times the line's median step between characters is a space


def spaced(chars: Sequence[str], starts: Sequence[float]) -> str:
    """A line's characters (left to right, with where each starts) joined, with a space wherever the step
    to the next character is over WORD_GAP times the median step (and none is there already)."""
    if len(chars) < 3:
        return "".join(chars)
    steps = np.diff(np.asarray(starts, np.float64))
    usual = float(np.median(steps))
    if usual <= 0:
        return "".join(chars)
    out = [chars[0]]
    for ch, step in zip(chars[1:], steps, strict=True):
        if step > WORD_GAP * usual and not out[-1].isspace() and not ch.isspace():
            out.append(" ")
        out.append(ch)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _fit(frame: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    scale = max_side / max(frame.shape[:2])
    if scale >= 1:
        return frame
    return cv2.resize(
        frame, (round(frame.shape[1] * scale), round(frame.shape[0] * scale)), interpolation=cv2.INTER_AREA
    )


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def dedupe(texts: Iterable[str], similarity: float = 0.85) -> list[str]:
    """Text that stays on screen across keyframes, kept once (first reading wins, near-matches merged)."""
    kept: list[str] = []
    seen: list[str] = []
    for text in texts:
        key = _norm(text)
        if key and not any(difflib.SequenceMatcher(None, key, s).ratio() >= similarity for s in seen):
            kept.append(text.strip())
            seen.append(key)
    return kept


def segment_text(frames: Sequence[Sequence[TextLine]]) -> list[str]:
    """One segment's on-screen text from its keyframes' lines, top-to-bottom, de-duplicated."""
    return dedupe(line.text for lines in frames for line in sorted(lines, key=lambda ln: ln.box[1]))
