"""Speech to timed words: faster-whisper (default: the bundled multilingual Whisper base, which detects the
language when the profile names none; profile `fast`: tiny.en) or openai-whisper. A transcriber keeps the
language it detected in the last call (`language`: code and probability) for the stage to record.

Long audio is transcribed a few minutes at a time (`chunks`), each piece cut at its quietest moment near
the boundary: both Whisper backends compute the log-mel features of the whole array at once, and for an
hour of audio that is a 3.5 GB peak (measured), which made ingest memory grow with the video's length.
The language is detected on the first piece with speech and held for the rest. faster-whisper's own detection
encodes the first 30 s window once more before transcribing it: for a clip under 30 s that doubled the
encoder's work (measured: 8.3 s vs 3.6 s with the language given, 20 s of 720p narration, one thread). Here
the detection encodes the very window the transcription starts with, and the model keeps its last encoder
output, so that window is encoded once.

Whisper writes words over music and noise too: the diver clip's score came out as "Music" or as "I'm going
to get some water", depending on the language it guessed. So the words are gated by Silero VAD (the copy
faster-whisper ships): a word is kept when it overlaps a stretch the VAD calls speech, padded by
GATE_PAD_S. The VAD still heard a blip of speech in the diver's bubbles, and the "I'm" Whisper wrote there
made the whole silent shot a scene with speech; Whisper itself scored that decode -1.3 (mean token
log-probability, real speech on the fixtures -0.2 to -0.64), below its own failed-decode threshold of -1.0,
so a stretch scored below `min_logprob` is dropped too.

Whisper still transcribes the whole audio: cutting the audio to the VAD's stretches first
(faster-whisper's `vad_filter`) changed what it heard in real speech ("Jesper ... I pronounce it Jesper"
became "Jasper ... yes, Paul" on the linus clip)."""

from __future__ import annotations

import hashlib
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


@dataclass(frozen=True)
class Transcript:
    """What the asr stage hands on: the timed words, and the language they are in (its code and how sure
    the model was; None when nothing was heard)."""

    words: list[Word]
    language: tuple[str, float] | None = None


def language_name(code: str) -> str:
    """Whisper's own name for a language code ("en" -> "English"); the code when Whisper has none. (The
    table is openai-whisper's: importing it imports torch, which ingest has loaded already.)"""
    from whisper.tokenizer import LANGUAGES

    return LANGUAGES.get(code, code).title()


class Transcriber(Protocol):
    name: str
    language: tuple[str, float] | None  # what the last call detected (or was told), with its probability

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> list[Word]: ...


class FasterWhisper:
    def __init__(self, cfg: AsrConfig, device: str, threads: int = 0):
        from faster_whisper import WhisperModel

        self.cfg = cfg
        self.name = f"faster-whisper:{cfg.model}"
        self.language: tuple[str, float] | None = None
        compute = cfg.compute_type if device == "cpu" else "float16"
        model = _encoding_once(WhisperModel)
        self.model = model(resolve(cfg.model, "asr"), device=device, compute_type=compute, cpu_threads=threads)

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> list[Word]:
        language = language or self.cfg.language
        detected = None
        if language is None and self.model.model.is_multilingual:
            detected = self._detect(audio)
            language = detected[0]
        segments, info = self.model.transcribe(
            audio,
            language=language,
            beam_size=self.cfg.beam_size,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        words = [
            Word(float(w.start), float(w.end), w.word.strip())
            for s in segments
            if confident(s.avg_logprob, self.cfg)
            for w in (s.words or [])
        ]
        self.language = detected or (info.language, round(float(info.language_probability), 3))
        return words

    def _detect(self, audio: np.ndarray) -> tuple[str, float]:
        """The language of the first window, read from the encoder output its transcription then reuses
        (the window exactly as faster-whisper's `generate_segments` cuts it: the features less their last
        frame, at most 30 s, padded)."""
        from faster_whisper.audio import pad_or_trim

        extractor = self.model.feature_extractor
        features = extractor(audio)
        first = pad_or_trim(features[:, : min(extractor.nb_max_frames, features.shape[-1] - 1)])
        token, probability = self.model.model.detect_language(self.model.encode(first))[0][0]
        return token[2:-2], round(float(probability), 3)


def _encoding_once(base: type) -> type:
    """faster-whisper's WhisperModel, keeping its last encoder output: the same window asked again (by the
    language detection, then the transcription) is not encoded twice."""

    class EncodingOnce(base):
        _last: tuple[bytes, object] | None = None

        def encode(self, features: np.ndarray):
            key = hashlib.blake2b(np.ascontiguousarray(features).tobytes(), digest_size=16).digest()
            if self._last is None or self._last[0] != key:
                self._last = (key, super().encode(features))
            return self._last[1]

    return EncodingOnce


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

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> list[Word]:
        result = self.model.transcribe(
            audio,
            language=language or self.cfg.language,
            beam_size=self.cfg.beam_size,
            word_timestamps=True,
            fp16=self.device == "cuda",
            condition_on_previous_text=False,
        )
        self.language = (result.get("language") or language or self.cfg.language or "", 1.0)
        return [
            Word(float(w["start"]), float(w["end"]), w["word"].strip())
            for s in result["segments"]
            if confident(s.get("avg_logprob", 0.0), self.cfg)
            for w in s.get("words", [])
        ]


def confident(avg_logprob: float, cfg: AsrConfig) -> bool:
    """Whether a decoded stretch is kept: its mean token log-probability is at least `cfg.min_logprob`."""
    return cfg.min_logprob is None or float(avg_logprob) >= cfg.min_logprob


def transcribe(model: Transcriber, audio: np.ndarray) -> list[Word]:
    """Timed words of `audio` (16 kHz mono float32); nothing for silence or an empty track.

    numpy's BLAS runs on one thread meanwhile: Whisper's log-mel features are a numpy matmul, and a
    multi-threaded OpenBLAS sums it in another order, which flips near-tied greedy choices ("three, two"
    vs "Three, two", other word times). Its thread count came from the environment of whoever started
    the process (ultralytics sets OMP_NUM_THREADS=1 when imported; OpenBLAS reads it), so the same file
    and settings gave other words in another process. One thread gives the same words everywhere.
    """
    from threadpoolctl import threadpool_limits

    words: list[Word] = []
    heard: tuple[str, float] | None = None
    with threadpool_limits(limits=1, user_api="blas"):
        for start, end in chunks(audio):
            piece = audio[start:end]
            if piece.size < SAMPLE_RATE // 10 or float(np.abs(piece).max(initial=0.0)) < 1e-4:
                continue
            got = model.transcribe(piece, language=heard[0] if heard else None)
            offset = start / SAMPLE_RATE
            words += [Word(w.start_s + offset, w.end_s + offset, w.text) for w in got]
            if got and heard is None:
                heard = model.language
    if heard is not None:
        model.language = heard
    if words and getattr(getattr(model, "cfg", None), "speech_gate", False):
        words = spoken(words, audio)
    return words


GATE_PAD_S = 0.5  # a word this close to a stretch of speech is kept (the VAD trims soft word edges)


def speech_spans(audio: np.ndarray) -> list[tuple[float, float]]:
    """The stretches (s) of `audio` that Silero VAD calls speech."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found = get_speech_timestamps(audio, VadOptions(), sampling_rate=SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in found]


def spoken(words: list[Word], audio: np.ndarray) -> list[Word]:
    """The words that overlap speech (`speech_spans`, padded by GATE_PAD_S)."""
    spans = speech_spans(audio)
    return [w for w in words if any(w.start_s < b + GATE_PAD_S and w.end_s > a - GATE_PAD_S for a, b in spans)]


CHUNK_S = 300.0  # seconds of audio transcribed at a time (about 0.5 GB at the peak)
QUIET_S = 5.0  # a piece ends at the quietest 0.1 s within this many seconds of its nominal end


def chunks(audio: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) sample ranges of about CHUNK_S each (audio up to 1.5x that is one piece), each cut where
    the sound is quietest near its nominal boundary, so that words are rarely split."""
    n, size = len(audio), int(CHUNK_S * SAMPLE_RATE)
    pieces = max(1, round(n / size))
    step, frame, reach = n / pieces, SAMPLE_RATE // 10, int(QUIET_S * SAMPLE_RATE)
    cuts = [0]
    for i in range(1, pieces):
        lo, hi = max(cuts[-1] + frame, int(i * step) - reach), min(n - frame, int(i * step) + reach)
        window = audio[lo : hi - (hi - lo) % frame].reshape(-1, frame)
        cuts.append(lo + frame * int(np.argmin(np.square(window).mean(axis=1))) + frame // 2)
    return list(zip(cuts, [*cuts[1:], n], strict=True))


def words_in(words: Sequence[Word], start_s: float, end_s: float) -> str:
    """Text of the words whose midpoint falls in [start_s, end_s)."""
    return " ".join(w.text for w in words if start_s <= (w.start_s + w.end_s) / 2 < end_s)
