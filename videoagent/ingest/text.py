"""The `text` stage: each segment's transcript, on-screen text and caption -> sentence embeddings."""

from __future__ import annotations

from ..models import asr, ocr
from .stage import Context, Outcome, Output, Stage, keyframe_times

CHANNELS = ("transcript", "ocr", "caption")


def segment_texts(ctx: Context) -> list[dict[str, object]]:
    """Per segment: its transcript (words whose midpoint falls in it), on-screen text and caption."""
    words, lines, captions = ctx["asr"], ctx["ocr"], ctx["captions"]
    out, k = [], 0
    for i, (seg, times) in enumerate(zip(ctx["scenes"]["segments"], keyframe_times(ctx), strict=True)):
        shown = lines[k : k + len(times)] if lines is not None else []
        k += len(times)
        out.append(
            {
                "transcript": asr.words_in(words, seg.start_s, seg.end_s),
                "ocr": ocr.segment_text(shown),
                "caption": captions[i] if captions else None,
                "keyframes": times,
            }
        )
    return out


class TextEmbeddings(Stage):
    name = "text"
    reads = ("scenes", "asr", "ocr", "captions")

    def settings(self, profile, pipeline):
        return (profile.text_encoder,)

    def enabled(self, pipeline) -> bool:
        return True

    def run(self, ctx: Context) -> Output:
        docs = [
            [i, channel, text]
            for i, seg in enumerate(segment_texts(ctx))
            for channel, text in (
                ("transcript", seg["transcript"]),
                ("ocr", " | ".join(seg["ocr"])),
                ("caption", seg["caption"]),
            )
            if text
        ]
        encoder = ctx.models.text_encoder()
        embeddings = encoder.encode([d[2] for d in docs])
        value = {"encoder": encoder.name, "docs": docs, "embeddings": embeddings}
        data = {"encoder": encoder.name, "docs": docs}
        return Output(value, Outcome("done", f"{len(docs)} texts ({encoder.name})"), (data, {"embeddings": embeddings}))

    def restore(self, data, arrays, ctx):
        return {**data, "embeddings": arrays.get("embeddings")}
