"""Every model role, loaded once per process on first use; and where each role's weights are.

Roles: asr, ocr, frames (frame encoder), text (text encoder), detector (tracklets), llm. A role whose
weights are missing holds the MissingWeights error instead of a model, so the stage that needs it is
skipped and says why; `text_encoder()` and `llm()` raise it instead, as their callers cannot go on without.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from ..config import Profile
from . import asr, ocr
from .detect import Detector, load_detector, locate_yolo, opencv_detector_files
from .encoders import FrameEncoder, TextEncoder, load_frame_encoder, load_text_encoder
from .weights import MissingWeights, locate, package_dir

log = logging.getLogger(__name__)


class Models:
    """Every model the pipeline needs, each loaded on first use; `Models.shared` keeps one set per
    profile for the whole process, so a second ingest (or a test) pays no load time."""

    _shared: dict[tuple[Profile, int], Models] = {}

    @classmethod
    def shared(cls, profile: Profile, threads: int | None = None) -> Models:
        key = (profile, threads if threads is not None else _threads_per_lane())
        if key not in cls._shared:
            cls._shared[key] = cls(profile, key[1])
        return cls._shared[key]

    def __init__(self, profile: Profile, threads: int = 0):
        self.profile = profile
        self.device = profile.torch_device()
        self.threads = threads
        self._cache: dict[str, Any] = {}
        if threads:  # OpenCV's pool (scene-cut decode, HOG) is process-wide: give it a lane's share too
            import cv2

            cv2.setNumThreads(threads)

    def _get(self, role: str, load: Callable[[], Any]) -> Any:
        if role not in self._cache:
            started = time.perf_counter()
            try:
                self._cache[role] = load()
            except MissingWeights as exc:
                self._cache[role] = exc
            log.info("loaded %s in %.1f s", role, time.perf_counter() - started)
        return self._cache[role]

    def transcriber(self) -> asr.Transcriber | MissingWeights:
        return self._get("asr", lambda: asr.load_transcriber(self.profile.asr, self.device, self.threads))

    def ocr(self) -> ocr.OcrReader:
        return self._get("ocr", lambda: ocr.OcrReader(self.profile.ocr, self.threads))

    def frame_encoder(self) -> FrameEncoder | None:
        return self._get("frames", lambda: load_frame_encoder(self.profile.frame_encoder, self.device))

    def detector(self, height: int) -> Detector | MissingWeights:
        """The tracklet detector; `height` is the OpenCV detectors' input height (YOLO uses its imgsz)."""
        return self._get(f"detector:{height}", lambda: load_detector(self.profile.detector, height, self.device))

    def captioner(self, checkpoint: str, frame_encoder: str):
        """The Q-Former checkpoint's captioner (qformer.py), with the LLM it was trained against."""
        from ..temporal.qformer import load_captioner

        return self._get(f"captioner:{checkpoint}", lambda: load_captioner(checkpoint, frame_encoder))

    def load_all(self) -> dict[str, float]:
        """Load every model now (seconds per role): for servers and benchmarks that load up front."""
        timings = {}
        for role, load in (
            ("asr", self.transcriber),
            ("ocr", self.ocr),
            ("frames", self.frame_encoder),
            ("text", self.text_encoder),
        ):
            started = time.perf_counter()
            load()
            timings[role] = time.perf_counter() - started
        return timings

    def llm(self):
        """The profile's chat model (llm.py); raises MissingWeights when a local model's weights are absent."""
        from ..qa.llm import load_chat_model

        found = self._get("llm", lambda: load_chat_model(self.profile.llm, self.device))
        if isinstance(found, MissingWeights):
            raise found
        return found

    def text_encoder(self) -> TextEncoder:
        found = self._get("text", lambda: load_text_encoder(self.profile.text_encoder, self.device))
        if isinstance(found, MissingWeights):
            raise found
        return found


def _threads_per_lane() -> int:
    """Split the cores between the ASR lane and the vision lane, so the two overlap, not contend."""
    return max(1, (os.cpu_count() or 2) // 2)


def roles(profile: Profile) -> list[dict[str, Any]]:
    rows = []
    for role, spec in (
        ("asr", profile.asr.model),
        ("text_encoder", profile.text_encoder.model),
        ("frame_encoder", profile.frame_encoder.model),
    ):
        found = locate(spec, role) if spec else None
        rows.append(
            {
                "role": role,
                "model": spec,
                "path": found.path if found else None,
                "present": bool(found and found.present),
            }
        )
    ocr_dir = package_dir("rapidocr_onnxruntime")
    ocr_path = str(ocr_dir / "models") if ocr_dir and (ocr_dir / "models").exists() else None
    rows.insert(1, {"role": "ocr", "model": "rapidocr:PP-OCRv4", "path": ocr_path, "present": ocr_path is not None})
    if profile.frame_encoder.fallback:
        rows.append(
            {
                "role": "frame_encoder_fallback",
                "model": "fingerprint:colour-layout-v1 (not learned)",
                "path": None,
                "present": True,
            }
        )
    yolo = locate_yolo(profile.detector.model)
    rows.append({"role": "detector", "model": profile.detector.model, "path": yolo, "present": yolo is not None})
    opencv = opencv_detector_files()
    for part in profile.detector.fallback.split("+") if profile.detector.fallback else []:
        name = {"hog": "hog-people", "haar": "haar-face"}[part]
        found = opencv[name]
        rows.append(
            {"role": "detector_fallback", "model": f"opencv:{name}", "path": found, "present": found is not None}
        )
    from ..qa.llm import locate_llm

    llm_path, _ = locate_llm(profile.llm)
    rows.append({"role": "llm", "model": f"{profile.llm.backend}:{profile.llm.model}", "path": llm_path,
                 "present": llm_path is not None})  # fmt: skip
    from ..qa.lexicon import locate as locate_wordnet

    wordnet = locate_wordnet()
    rows.append({"role": "lexicon", "model": "wordnet:3.0", "path": str(wordnet) if wordnet else None,
                 "present": wordnet is not None})  # fmt: skip
    return rows
