"""The `ocr` stage: keyframes -> on-screen text lines (RapidOCR), fed in the shared keyframe pass."""

from __future__ import annotations

import numpy as np

from ..models import ocr
from .stage import Context, Feeder, FrameStage, Outcome, Output


class ScreenText(FrameStage):
    name = "ocr"

    def settings(self, profile, pipeline):
        return (pipeline.keyframes, profile.ocr)

    def start(self, ctx: Context) -> Feeder:
        return _Reading(ctx.models.ocr())

    def restore(self, data, arrays, ctx):
        return [[ocr.TextLine(t, s, tuple(b)) for t, s, b in lines] for lines in data["frames"]]


class _Reading(Feeder):
    def __init__(self, reader: ocr.OcrReader):
        self.reader = reader
        self.lines: list[list[ocr.TextLine]] = []

    def feed(self, frames: np.ndarray) -> None:
        self.lines.extend(self.reader.read(f) for f in frames)

    def finish(self) -> Output:
        data = {
            "model": self.reader.name,
            "frames": [[[ln.text, ln.score, list(ln.box)] for ln in lines] for lines in self.lines],
        }
        return Output(self.lines, Outcome("done", f"{sum(map(len, self.lines))} lines"), (data, None))
