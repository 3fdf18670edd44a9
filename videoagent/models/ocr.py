"""On-screen text from keyframes (RapidOCR, PP-OCRv4 ONNX bundled in its wheel), de-duplicated."""

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
        result, _ = self.engine(np.ascontiguousarray(frame_rgb[:, :, ::-1]), use_cls=False)
        lines = []
        for box, text, score in result or []:
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            # Lone characters are mostly texture read as letters (an 'O' in a saucer's rim), not text.
            if float(score) >= self.cfg.min_score and len(text.strip()) >= 2:
                lines.append(TextLine(text.strip(), float(score), (min(xs) / w, min(ys) / h, max(xs) / w, max(ys) / h)))
        return lines


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
