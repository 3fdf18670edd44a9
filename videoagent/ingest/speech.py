"""The `asr` stage: the audio track -> timed words (the profile's ASR model). Runs in a lane of its own."""

from __future__ import annotations

from dataclasses import asdict

from ..errors import MediaError
from ..media.audio import decode_audio
from ..models import asr
from ..models.weights import MissingWeights
from .stage import Context, Outcome, Output, Stage


class Speech(Stage):
    name = "asr"
    lane = "speech"

    def settings(self, profile, pipeline):
        return (profile.asr,)

    def run(self, ctx: Context) -> Output:
        if not ctx.info.has_audio:
            return Output(asr.Transcript([]), Outcome("skipped", "no audio track"), ({"words": []}, None))
        model = ctx.models.transcriber()
        if isinstance(model, MissingWeights):
            return Output(asr.Transcript([]), Outcome("skipped", str(model)))
        try:
            words = asr.transcribe(model, decode_audio(ctx.info.path))
        except MediaError as exc:  # a broken audio track loses the speech, not the video
            return Output(asr.Transcript([]), Outcome("failed", exc.reason))
        language = getattr(model, "language", None) if words else None
        data = {"model": model.name, "words": [asdict(w) for w in words], "language": language}
        heard = f" ({language[0]}, p={language[1]:.2f})" if language else ""
        return Output(asr.Transcript(words, language), Outcome("done", f"{len(words)} words{heard}"), (data, None))

    def restore(self, data, arrays, ctx):
        language = data.get("language")
        return asr.Transcript([asr.Word(**w) for w in data["words"]], tuple(language) if language else None)

    def off(self):
        return asr.Transcript([])
