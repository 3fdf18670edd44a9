"""Both bundled Whisper models on real and synthetic speech: word error rate against the known text."""

from __future__ import annotations

import pytest
from test_quality import WER_LIMIT, wer

from videoagent.config import AsrConfig
from videoagent.media.audio import decode_audio
from videoagent.models.asr import load_transcriber, transcribe

pytestmark = pytest.mark.slow  # the bundled Whisper models


@pytest.mark.parametrize(("model", "language"), [("bundled:whisper-tiny.en", "en"), ("bundled:whisper-base", None)])
def test_bundled_whisper_wer(media, model, language):
    asr = load_transcriber(AsrConfig(model=model, language=language))
    for name in ("narrated", "speech"):
        words = transcribe(asr, decode_audio(media.path(name)))
        score = wer(media[name]["transcript"], " ".join(w.text for w in words))
        print(f"{model} on {name}: WER {score:.3f}")
        assert score <= WER_LIMIT, (name, [w.text for w in words])
        assert all(0 <= w.start_s <= w.end_s <= media[name]["duration_s"] + 0.5 for w in words)


def test_silence_gives_no_words(media):
    import numpy as np

    asr = load_transcriber(AsrConfig())
    assert transcribe(asr, np.zeros(16000 * 3, dtype=np.float32)) == []
