"""The `text` stage: each segment's transcript, on-screen text, caption, description and visual labels ->
sentence embeddings (one row per channel; the visual labels one row per label, embedding its name, "dog",
with its score in the row so that search can weigh a match by how sure the classifier was; its document
also names the frame, for `why`). Its value also keeps the segment texts themselves (`segments`), which
the index rows are made of: computed once, restored with the embeddings."""

from __future__ import annotations

from ..models import asr, ocr
from .labels import labels_document, merged, segment_labels, segment_objects
from .stage import Context, Outcome, Output, Stage, keyframe_times

CHANNELS = ("transcript", "ocr", "caption", "description", "labels")


def segment_texts(ctx: Context) -> list[dict[str, object]]:
    """Per segment: its transcript (words whose midpoint falls in it), on-screen text, caption and what
    is seen in it (`seen`: the image classifier's labels and the detector's objects)."""
    words, lines, captions = ctx["asr"].words, ctx["ocr"], ctx["captions"]
    segments = ctx["scenes"]["segments"]
    seen = [merged(a, b) for a, b in zip(segment_labels(ctx), segment_objects(ctx["tracks"][3], segments), strict=True)]
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
                "seen": seen[i],
            }
        )
    return out


class TextEmbeddings(Stage):
    name = "text"
    reads = ("scenes", "asr", "ocr", "captions", "labels", "tracks", "describe")
    version = "2"  # 2: the segment texts and descriptions kept in the artifact

    def settings(self, profile, pipeline):
        return (profile.text_encoder, self.version)

    def enabled(self, pipeline) -> bool:
        return True

    def run(self, ctx: Context) -> Output:
        rows = []  # (segment, channel, document, text embedded, extra row metadata)
        story = ctx["describe"]
        written = {"source": f"describe:{story['model']}"} if story else {}  # model-written: named for the model
        texts = segment_texts(ctx)
        for i, seg in enumerate(texts):
            seg["description"] = story["segments"][i] if story else ""
            for channel, document in (
                ("transcript", seg["transcript"]),
                ("ocr", " | ".join(seg["ocr"])),
                ("caption", seg["caption"]),
                ("description", seg["description"]),
            ):
                if document:
                    rows.append((i, channel, document, document, written if channel == "description" else {}))
            for label in seg["seen"]:  # one row per label: a query is matched with its best label
                extra = {"label": label["label"], "score": float(label["score"]), "source": label["source"]}
                rows.append((i, "labels", labels_document([label]), label["label"], extra))
        docs = [[i, channel, document, extra] for i, channel, document, _, extra in rows]
        encoder = ctx.models.text_encoder()
        embeddings = encoder.encode([r[3] for r in rows])
        data = {"encoder": encoder.name, "docs": docs, "segments": texts}
        value = {**data, "embeddings": embeddings}
        return Output(value, Outcome("done", f"{len(docs)} texts ({encoder.name})"), (data, {"embeddings": embeddings}))

    def restore(self, data, arrays, ctx):
        return {**data, "embeddings": arrays.get("embeddings")}
