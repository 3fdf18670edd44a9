"""The `frames` stage (keyframes -> embeddings from the profile's frame encoder, in the shared keyframe
pass) and the `temporal` stage (the module that pools them into one vector per segment and per video)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..temporal import modules as temporal
from .stage import Context, Feeder, FrameStage, Outcome, Output, Stage


class FrameEmbeddings(FrameStage):
    name = "frames"

    def settings(self, profile, pipeline):
        return (pipeline.keyframes, profile.frame_encoder)

    def start(self, ctx: Context) -> Feeder | Outcome:
        encoder = ctx.models.frame_encoder()
        if encoder is None:
            return Outcome("skipped", "no frame encoder weights and no fallback")
        return _Encoding(encoder)

    def restore(self, data, arrays, ctx):
        return {"embeddings": arrays["embeddings"], "encoder": data["encoder"]}


class _Encoding(Feeder):
    def __init__(self, encoder):
        self.encoder = encoder
        self.chunks: list[np.ndarray] = []

    def feed(self, frames: np.ndarray) -> None:
        self.chunks.append(self.encoder.encode_images(frames))

    def finish(self) -> Output:
        embeddings = np.concatenate(self.chunks)
        value = {"embeddings": embeddings, "encoder": self.encoder.name}
        return Output(
            value, Outcome("done", self.encoder.name), ({"encoder": self.encoder.name}, {"embeddings": embeddings})
        )


def checkpoint_id(path: str | None) -> str | None:
    """A checkpoint's content id (retraining into the same file must re-index), None when absent."""
    found = Path(path).expanduser() if path else None
    return temporal.checkpoint_id(found) if found and found.is_file() else None


class Pooling(Stage):
    """Which temporal module pools the keyframe embeddings (a learned one only with its checkpoint)."""

    name = "temporal"
    reads = ("frames",)
    cached = False  # choosing the module is cheap; the pooling itself happens as rows are made

    def settings(self, profile, pipeline):
        return (pipeline.temporal.module, checkpoint_id(pipeline.temporal.checkpoint))

    def run(self, ctx: Context) -> Output:
        frames = ctx["frames"]
        if frames is None:
            return Output(None, Outcome("skipped", "no frame embeddings"))
        cfg = ctx.pipeline.temporal
        pooler, detail = temporal.pooler_for(
            cfg.module, cfg.checkpoint, frames["encoder"], frames["embeddings"].shape[1]
        )
        ran = pooler.module.name == cfg.module
        return Output(pooler, Outcome("done" if ran else "skipped", detail))
