"""The `captions` stage: each segment's keyframe embeddings -> a video Q-Former -> an LLM writes a caption.

None ships a checkpoint, so by default the stage is skipped and says so."""

from __future__ import annotations

import numpy as np

from .frames import checkpoint_id
from .stage import Context, Outcome, Output, Stage, keyframe_times

CAPTION_BATCH = 8  # segments captioned per LLM call


class Captions(Stage):
    name = "captions"
    reads = ("frames",)

    def settings(self, profile, pipeline):
        return (pipeline.captions, checkpoint_id(pipeline.captions.checkpoint))

    def run(self, ctx: Context) -> Output:
        cfg = ctx.pipeline.captions
        if not cfg.checkpoint:
            return Output(None, Outcome("skipped", "no Q-Former checkpoint in the pipeline"))
        frames = ctx["frames"]
        if frames is None:
            return Output(None, Outcome("skipped", "no frame embeddings"))
        try:
            captioner = ctx.models.captioner(cfg.checkpoint, frames["encoder"])
        except (OSError, ValueError) as exc:  # a missing or mismatched checkpoint loses captions, not the video
            return Output(None, Outcome("skipped", str(exc)))
        ends = np.cumsum([len(times) for times in keyframe_times(ctx)])
        groups = np.split(frames["embeddings"], ends[:-1])
        texts = [
            text
            for i in range(0, len(groups), CAPTION_BATCH)
            for text in captioner.caption(groups[i : i + CAPTION_BATCH], cfg.max_new_tokens)
        ]
        return Output(texts, Outcome("done", f"{len(texts)} segments"), ({"captions": texts}, None))

    def restore(self, data, arrays, ctx):
        return data["captions"]
