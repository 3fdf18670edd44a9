"""Speech to timed words: faster-whisper (default: the bundled multilingual Whisper base, which detects the
language when the profile names none; profile `fast`: tiny.en) or openai-whisper. A transcriber keeps the
language it detected in the last call (`language`: code and probability) for the stage to record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..config import AsrConfig
from ..media.audio import SAMPLE_RATE
from .weights import MissingWeights, resolve


@dataclass(frozen=True)
class Word:
    start_s: float
    end_s: float
    text: str


class Transcriber(Protocol):
    name: str
    language: tuple[str, float] | None  # what the last call detected (or was told), with its probability

    def transcribe(self, audio: np.ndarray) -> list[Word]: ...


class FasterWhisper:
    def __init__(self, cfg: AsrConfig, device: str, threads: int = 0):
        from faster_whisper import WhisperModel

        self.cfg = cfg
        self.name = f"faster-whisper:{cfg.model}"
        self.language: tuple[str, float] | None = None
        compute = cfg.compute_type if device == "cpu" else "float16"
        self.model = WhisperModel(resolve(cfg.model, "asr"), device=device, compute_type=compute, cpu_threads=threads)

    def transcribe(self, audio: np.ndarray) -> list[Word]:
        segments, info = self.model.transcribe(
            audio,
            language=self.cfg.language,
            beam_size=self.cfg.beam_size,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        words = [Word(float(w.start), float(w.end), w.word.strip()) for s in segments for w in (s.words or [])]
        self.language = (info.language, round(float(info.language_probability), 3))
        return words


class OpenAIWhisper:
    def __init__(self, cfg: AsrConfig, device: str, threads: int = 0):
        import whisper

        self.cfg = cfg
        self.name = f"openai-whisper:{cfg.model}"
        self.language: tuple[str, float] | None = None
        self.device = device
        try:
            self.model = whisper.load_model(resolve(cfg.model, "asr"), device=device)
        except Exception as exc:  # its loader downloads by name; offline that fails
            raise MissingWeights("asr", cfg.model, str(exc)) from exc

    def transcribe(self, audio: np.ndarray) -> list[Word]:
        result = self.model.transcribe(
            audio,
            language=self.cfg.language,
            beam_size=self.cfg.beam_size,
            word_timestamps=True,
            fp16=self.device == "cuda",
            condition_on_previous_text=False,
        )
        self.language = (result.get("language") or self.cfg.language or "", 1.0)
        return [
            Word(float(w["start"]), float(w["end"]), w["word"].strip())
            for s in result["segments"]
            for w in s.get("words", [])
        ]


def transcribe(model: Transcriber, audio: np.ndarray) -> list[Word]:
    """Timed words of `audio` (16 kHz mono float32); nothing for silence or an empty track.

    numpy's BLAS runs on one thread meanwhile: Whisper's log-mel features are a numpy matmul, and a
    multi-threaded OpenBLAS sums it in another order, which flips near-tied greedy choices ("three, two"
    vs "Three, two", other word times). Its thread count came from the environment of whoever started
    the process (ultralytics sets OMP_NUM_THREADS=1 when imported; OpenBLAS reads it), so the same file
    and settings gave other words in another process. One thread gives the same words everywhere.
    """
    from threadpoolctl import threadpool_limits

    if audio.size < SAMPLE_RATE // 10 or float(np.abs(audio).max(initial=0.0)) < 1e-4:
        return []
    with threadpool_limits(limits=1, user_api="blas"):
        return model.transcribe(audio)


def words_in(words: Sequence[Word], start_s: float, end_s: float) -> str:
    """Text of the words whose midpoint falls in [start_s, end_s)."""
    return " ".join(w.text for w in words if start_s <= (w.start_s + w.end_s) / 2 < end_s)
