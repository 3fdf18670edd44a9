"""Every model role: how to locate, load and describe its weights (`ROLES`), and the per-process cache
of loaded models (`Models`).

`ROLES` is the one list: `videoagent models` (`roles()`) reports it, `Models` and the `load_*`
functions load through it, and the profile's choices (`asr.backend`, `detector.fallback`, ...) are
checked against it (config.py). Like openai/whisper's `_MODELS`, one table both lists and loads.

A role reads one profile section. Each of its backends (what `<section>.backend` names; a section
without that field has one) and each of its fallbacks (what `<section>.fallback` names, `+`-joined
when the role can combine several) is a `Choice` that can locate its weights (-> `Located`, without
loading or downloading anything) and load them (-> the model, or `MissingWeights`). A role whose
backend is missing loads its configured fallbacks instead, and raises `MissingWeights` without one.

Importing this module is cheap: the model wrappers (torch, transformers, cv2, ...) are imported by
the load and locate functions, when called.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import file_sha256
from .weights import Located, MissingWeights, locate, locate_bundled, package_dir, resolve

if TYPE_CHECKING:
    from ..config import AsrConfig, DetectorConfig, FrameEncoderConfig, LlmConfig, Profile, TextEncoderConfig
    from .asr import Transcriber
    from .detect import Detector
    from .encoders import FrameEncoder, TextEncoder
    from .encoders.imagenet import ImageNetClassifier
    from .ocr import OcrReader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadOptions:
    device: str = "cpu"
    threads: int = 0  # CPU threads for the model's own pool (0: its default)
    height: int = 360  # detector: the OpenCV detectors' input height (YOLO uses its imgsz)


@dataclass(frozen=True)
class Choice:
    """One way to play a role: a backend or a fallback. Both functions take the role's profile section."""

    name: str
    locate: Callable[[Any], Located]
    load: Callable[[Any, LoadOptions], Any]  # the model, or raises MissingWeights


@dataclass(frozen=True)
class Role:
    """One model role: the profile section it reads, its backends and fallbacks, and how they combine."""

    name: str  # its row in `videoagent models`
    section: str | None  # the profile section it reads (None: reads none)
    summary: str
    backends: Mapping[str, Choice]  # what `<section>.backend` may name; the first is the default
    fallbacks: Mapping[str, Choice] = field(default_factory=dict)  # what `<section>.fallback` may name
    combine: Callable[[list[Any]], Any] | None = None  # several fallbacks at once ('+'-joined)

    def config(self, profile: Profile) -> Any:
        return getattr(profile, self.section) if self.section else None

    def backend(self, cfg: Any) -> Choice:
        return self.backends[getattr(cfg, "backend", None) or next(iter(self.backends))]

    def chosen_fallbacks(self, cfg: Any) -> list[Choice]:
        named = getattr(cfg, "fallback", None)
        return [self.fallbacks[name] for name in named.split("+")] if named else []

    def __post_init__(self) -> None:
        """The names this role implements are the names config.py lets a profile choose (one list)."""
        from ..config import BACKENDS, COMBINED_FALLBACKS, FALLBACKS

        named = (BACKENDS.get(self.name, ()), FALLBACKS.get(self.name, ()), self.name in COMBINED_FALLBACKS)
        implemented = (tuple(self.backends), tuple(self.fallbacks), self.combine is not None)
        if named != implemented:
            raise ImportError(f"model role {self.name}: config.py names {named}, the registry implements {implemented}")

    def locate(self, cfg: Any) -> Located:
        return self.backend(cfg).locate(cfg)

    def load(self, cfg: Any, options: LoadOptions | None = None) -> Any:
        """The backend's model; when its weights are missing, the configured fallbacks (combined when
        several); else MissingWeights."""
        options = options or LoadOptions()
        backend = self.backend(cfg)
        found = backend.locate(cfg)
        missing = found.missing()
        if found.present:
            try:
                return backend.load(cfg, options)
            except MissingWeights as exc:
                missing = exc
        fallbacks = self.chosen_fallbacks(cfg)
        if not fallbacks:
            raise missing
        log.info("%s; using the fallback %s", missing, "+".join(f.name for f in fallbacks))
        parts = [f.load(cfg, options) for f in fallbacks]
        return parts[0] if len(parts) == 1 or self.combine is None else self.combine(parts)

    def rows(self, profile: Profile) -> list[dict[str, Any]]:
        """Its rows in `videoagent models`: the backend's, then one per configured fallback."""
        cfg = self.config(profile)
        rows = [_row(self.name, self.locate(cfg))]
        rows += [_row(f"{self.name}_fallback", f.locate(cfg)) for f in self.chosen_fallbacks(cfg)]
        return rows


def _row(role: str, found: Located) -> dict[str, Any]:
    return {
        "role": role,
        "model": found.model,
        "path": found.path,
        "present": found.present,
        "package": found.package,
        "licence": found.licence,
        "note": found.note,
    }


def _model_spec(role: str) -> Callable[[Any], Located]:
    """Locate the section's `model` spec (bundled, a path, a hub id; weights.locate)."""

    def find(cfg) -> Located:
        return locate(cfg.model, role) if cfg.model else Located(role, None, None, note="no model configured")

    return find


# ---- asr -----------------------------------------------------------------------------------------
def _load_faster_whisper(cfg, o: LoadOptions):
    from .asr import FasterWhisper

    return FasterWhisper(cfg, o.device, o.threads)


def _load_openai_whisper(cfg, o: LoadOptions):
    from .asr import OpenAIWhisper

    return OpenAIWhisper(cfg, o.device, o.threads)


# ---- ocr -----------------------------------------------------------------------------------------
def _locate_rapidocr(cfg) -> Located:
    return dataclasses.replace(locate_bundled("rapidocr-PP-OCRv4", "ocr"), model="rapidocr:PP-OCRv4")


def _load_rapidocr(cfg, o: LoadOptions):
    from .ocr import OcrReader

    return OcrReader(cfg, o.threads)


# ---- text and frame encoders ---------------------------------------------------------------------
def _load_onnx_text_encoder(cfg, o: LoadOptions):
    from .encoders.onnx_text import OnnxSentenceEncoder

    return OnnxSentenceEncoder(resolve(cfg.model, "text_encoder"), name=cfg.model, threads=o.threads)


def _load_sentence_encoder(cfg, o: LoadOptions):
    from .encoders.text import SentenceEncoder

    return SentenceEncoder(resolve(cfg.model, "text_encoder"), name=cfg.model, device=o.device)


def _load_clip(cfg, o: LoadOptions):
    from .encoders.clip import ClipEncoder

    path = resolve(cfg.model, "frame_encoder")
    return ClipEncoder(path, name=f"clip:{cfg.model}", device=o.device, batch_size=cfg.batch_size)


def _load_efficientnet(cfg, o: LoadOptions):
    from .encoders.imagenet import SHA256, ImageNetClassifier

    folder = Path(resolve(cfg.model, "image_classifier"))
    found = sorted(folder.glob("*.pth")) if folder.is_dir() else [folder]
    if not found:
        raise MissingWeights("image_classifier", cfg.model, f"no .pth state dict in {folder}")
    if cfg.model == "bundled:efficientnet-lite0" and file_sha256(found[0]) != SHA256:
        raise MissingWeights("image_classifier", cfg.model, f"{found[0]}: sha256 is not the published one")
    return ImageNetClassifier(str(found[0]), device=o.device, threads=o.threads)


def _locate_fingerprint(cfg) -> Located:
    code = Path(__file__).parent / "encoders" / "fingerprint.py"  # no weights: its code is all there is
    return Located(
        "frame_encoder",
        "fingerprint:colour-layout-v1 (not learned)",
        str(code),
        licence="videoagent's own (a colour layout signal, no weights)",
        note="computed, no weights",
    )


def _load_fingerprint(cfg, o: LoadOptions):
    from .encoders.fingerprint import Fingerprint

    return Fingerprint()


# ---- detector ------------------------------------------------------------------------------------
def _locate_yolo(cfg) -> Located:
    from .detect import locate_yolo

    if not cfg.model:
        return Located("detector", None, None, note="no model configured")
    path = locate_yolo(cfg.model)
    if path is None:
        why = "weights not found on disk (never downloaded)"
    elif package_dir("ultralytics") is None:
        path, why = None, "package ultralytics is not installed"
    else:
        why = "local file"
    return Located("detector", cfg.model, path, "ultralytics", "AGPL-3.0 (Ultralytics YOLO)", why)


def _load_ssd(cfg, o: LoadOptions):
    from .detect import SsdOpenImages

    folder = Path(resolve(cfg.model, "detector"))
    if not ((folder / "model.tflite").is_file() and (folder / "labels.txt").is_file()):
        raise MissingWeights("detector", cfg.model, f"{folder} is not a folder with model.tflite and labels.txt")
    return SsdOpenImages(str(folder), min_score=cfg.min_score, threads=o.threads)


BLAZEFACE_FILE = "face_detection_full_range.tflite"
BLAZEFACE_SHA256 = "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"


def _load_blazeface(cfg, o: LoadOptions):
    from .detect import BlazeFace

    found = Path(resolve(cfg.model, "face_detector"))
    path = found / BLAZEFACE_FILE if found.is_dir() else found
    if not path.is_file():
        raise MissingWeights("face_detector", cfg.model, f"{path} is missing")
    if cfg.model == "bundled:blazeface-full-range" and file_sha256(path) != BLAZEFACE_SHA256:
        raise MissingWeights("face_detector", cfg.model, f"{path}: sha256 is not the published one")
    return BlazeFace(str(path), min_score=cfg.min_score, threads=o.threads)


def _load_yolo(cfg, o: LoadOptions):
    from .detect import YoloDetector

    return YoloDetector(_locate_yolo(cfg).require(), imgsz=cfg.yolo_imgsz, conf=cfg.yolo_conf, device=o.device)


def _opencv(choice: str, name: str, cls: str, licence: str) -> Choice:
    """One of the detectors that ship inside opencv-python (`fallback: hog`, `haar`)."""

    def find(cfg) -> Located:
        from .detect import opencv_detector_files

        path = opencv_detector_files()[name]
        why = "in this opencv build" if path else "not in this opencv build"
        return Located("detector", f"opencv:{name}", path, "opencv-python", licence, why)

    def load(cfg, o: LoadOptions):
        from . import detect

        return getattr(detect, cls)(o.height)

    return Choice(choice, find, load)


def _combined(parts: list[Any]) -> Any:
    from .detect import Combined

    return Combined(parts)


# ---- llm -----------------------------------------------------------------------------------------
def _llm_row(found: Located, cfg) -> Located:
    return dataclasses.replace(found, model=f"{cfg.backend}:{cfg.model}")


def _locate_local_llm(cfg) -> Located:
    """A bundled GGUF (its conversion once made), a .gguf file, a folder or a cached hub id."""
    return _llm_row(locate(cfg.model, "llm"), cfg)


def _locate_endpoint(package: str, default_url: str, needs_key: bool):
    """A remote backend: present when its LangChain package is installed (and, if it needs one, an API
    key or a base_url is set); nothing connects until the first question."""

    def find(cfg) -> Located:
        url: str | None = cfg.base_url or default_url
        why = "endpoint (connects on first use)"
        if package_dir(package) is None:
            url, why = None, f"package {package} is not installed"
        elif needs_key and not (cfg.base_url or os.environ.get(cfg.api_key_env)):
            url, why = None, f"no ${cfg.api_key_env} and no base_url"
        return _llm_row(Located("llm", cfg.model, url, package, "the endpoint's own terms", why), cfg)

    return find


def _load_local_llm(cfg, o: LoadOptions):
    from ..qa.llm import load_local

    return load_local(cfg, o.device)


def _load_llama_cpp(cfg, o: LoadOptions):
    from ..qa.llama_cpp import load_llama_cpp

    return load_llama_cpp(cfg, o.device)


def _load_openai(cfg, o: LoadOptions):
    from ..qa.llm import load_openai

    return load_openai(cfg)


def _load_ollama(cfg, o: LoadOptions):
    from ..qa.llm import load_ollama

    return load_ollama(cfg)


# ---- lexicon -------------------------------------------------------------------------------------
def _locate_wordnet(cfg) -> Located:
    from ..qa.lexicon import locate as locate_wordnet

    folder = locate_wordnet()
    return Located(
        "lexicon",
        "wordnet:3.0",
        str(folder) if folder else None,
        "wordnet-base (Debian; or $VIDEOAGENT_WORDNET, or nltk_data)",
        "WordNet 3.0 licence (Princeton University)",
        "database files" if folder else "WordNet's database files not found (`make system` installs them)",
    )


def _load_wordnet(cfg, o: LoadOptions):
    from ..qa import lexicon

    found = lexicon.load()
    if found is None:
        raise _locate_wordnet(cfg).missing()
    return found


def _choices(*choices: Choice) -> dict[str, Choice]:
    return {c.name: c for c in choices}


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            "asr",
            "asr",
            "speech to timed words",
            _choices(
                Choice("faster-whisper", _model_spec("asr"), _load_faster_whisper),
                Choice("openai-whisper", _model_spec("asr"), _load_openai_whisper),
            ),
        ),
        Role("ocr", "ocr", "on-screen text", _choices(Choice("rapidocr", _locate_rapidocr, _load_rapidocr))),
        Role(
            "text_encoder",
            "text_encoder",
            "sentence vectors for search and tagging",
            _choices(
                Choice("onnxruntime", _model_spec("text_encoder"), _load_onnx_text_encoder),
                Choice("sentence-transformers", _model_spec("text_encoder"), _load_sentence_encoder),
            ),
        ),
        Role(
            "image_classifier",
            "image_classifier",
            "ImageNet-1k labels and a 1280-d image embedding (EfficientNet-Lite0; not CLIP)",
            _choices(Choice("efficientnet-lite", _model_spec("image_classifier"), _load_efficientnet)),
        ),
        Role(
            "frame_encoder",
            "frame_encoder",
            "keyframe vectors (CLIP; the fingerprint when CLIP is missing)",
            _choices(Choice("clip", _model_spec("frame_encoder"), _load_clip)),
            _choices(Choice("fingerprint", _locate_fingerprint, _load_fingerprint)),
        ),
        Role(
            "detector",
            "detector",
            "boxes for tracklets (MediaPipe's SSD on Open Images, or YOLO; OpenCV's HOG people / Haar faces"
            " when their weights are missing)",
            _choices(Choice("ssd", _model_spec("detector"), _load_ssd), Choice("yolo", _locate_yolo, _load_yolo)),
            _choices(
                _opencv("hog", "hog-people", "HogPeople", "Apache-2.0 (OpenCV's HOG people SVM, in cv2)"),
                _opencv("haar", "haar-face", "HaarFaces", "Intel open-source licence (OpenCV's Haar face cascade)"),
            ),
            combine=_combined,
        ),
        Role(
            "face_detector",
            "face_detector",
            "faces for face tracklets, beside the detector's boxes (MediaPipe BlazeFace; finds faces, names no one)",
            _choices(Choice("blazeface", _model_spec("face_detector"), _load_blazeface)),
        ),
        Role(
            "llm",
            "llm",
            "answers questions (and writes segment descriptions); tiny models score evidence instead",
            _choices(
                Choice("llama-cpp", _locate_local_llm, _load_llama_cpp),
                Choice("local-gguf", _locate_local_llm, _load_local_llm),
                Choice("hf", _locate_local_llm, _load_local_llm),
                Choice("openai", _locate_endpoint("langchain_openai", "https://api.openai.com/v1", True), _load_openai),
                Choice("ollama", _locate_endpoint("langchain_ollama", "http://localhost:11434", False), _load_ollama),
            ),
        ),
        Role(
            "lexicon",
            None,
            "WordNet, for the grounding check's kind-of and same-sense questions",
            _choices(Choice("wordnet", _locate_wordnet, _load_wordnet)),
        ),
    )
}


def roles(profile: Profile) -> list[dict[str, Any]]:
    """`videoagent models`: one row per role of `ROLES` (and per configured fallback), with
    {role, model, path, present, package, licence, note}."""
    return [row for role in ROLES.values() for row in role.rows(profile)]


# ---- the loaded models ---------------------------------------------------------------------------
class Models:
    """Every model the pipeline needs, each loaded through `ROLES` on first use; `Models.shared` keeps
    one set per profile for the whole process, so a second ingest (or a test) pays no load time.

    A role whose weights are missing is held as its MissingWeights: `transcriber()` and `detector()`
    return it (their stage is skipped and says why), `frame_encoder()` returns None (the stage is
    skipped), and `ocr()`, `text_encoder()` and `llm()` raise it (their callers cannot go on without)."""

    _shared: dict[tuple[Profile, int], Models] = {}

    @classmethod
    def shared(cls, profile: Profile, threads: int | None = None) -> Models:
        key = (profile, threads if threads is not None else _threads_per_lane())
        if key not in cls._shared:
            cls._shared[key] = cls(profile, key[1])
        return cls._shared[key]

    def __init__(self, profile: Profile, threads: int = 0):
        self.profile = profile
        self.threads = threads
        self._cache: dict[str, Any] = {}
        self._device: str | None = None
        self._loading = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @property
    def device(self) -> str:
        """The profile's device; "auto" asks torch, so only when a model is loaded (commands that load no
        torch model never import torch)."""
        if self._device is None:
            self._device = self.profile.torch_device()
            if self.threads:  # OpenCV's pool (scene-cut decode, HOG) is process-wide: a lane's share too
                import cv2

                cv2.setNumThreads(self.threads)
        return self._device

    def _get(self, key: str, load: Callable[[], Any]) -> Any:
        with self._loading:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one load per key, also when `load_soon` started it on another thread
            if key not in self._cache:
                started = time.perf_counter()
                try:
                    self._cache[key] = load()
                except MissingWeights as exc:
                    self._cache[key] = exc
                log.info("loaded %s in %.1f s", key, time.perf_counter() - started)
        return self._cache[key]

    def load_soon(self, *roles: str) -> None:
        """Start loading these roles' models on background threads; `get` then waits for them. Native
        loaders release the GIL, so a cold `ask` reads the LLM's weights while it imports the rest."""
        for role in roles:
            threading.Thread(target=self._quietly, args=(role,), name=f"load-{role}", daemon=True).start()

    def _quietly(self, role: str) -> None:
        try:
            self.get(role)
        except Exception:  # noqa: BLE001 - the caller's own `get` meets the same error and reports it
            log.debug("background load of %s failed", role, exc_info=True)

    def get(self, role: str, key: str | None = None, **options: Any) -> Any:
        """The role's model (loaded once per `key`, default the role's name), or its MissingWeights."""
        spec = ROLES[role]
        opts = LoadOptions(device=self.device, threads=self.threads, **options)
        return self._get(key or role, lambda: spec.load(spec.config(self.profile), opts))

    def _required(self, role: str) -> Any:
        found = self.get(role)
        if isinstance(found, MissingWeights):
            raise found
        return found

    def transcriber(self) -> Transcriber | MissingWeights:
        return self.get("asr")

    def ocr(self) -> OcrReader:
        return self._required("ocr")

    def frame_encoder(self) -> FrameEncoder | None:
        found = self.get("frame_encoder")
        return None if isinstance(found, MissingWeights) else found

    def detector(self, height: int) -> Detector | MissingWeights:
        """The tracklet detector, with the face detector beside it when the profile enables one; `height`
        is the OpenCV detectors' input height (the SSD and YOLO use their own input sizes)."""
        main = self.get("detector", f"detector:{height}", height=height)
        faces = self.get("face_detector") if self.profile.face_detector.enabled else None
        if isinstance(main, MissingWeights) or faces is None or isinstance(faces, MissingWeights):
            return main
        if "face" in main.categories:  # Haar faces already
            return main
        return self._get(f"detector+faces:{height}", lambda: _combined([main, faces]))

    def image_classifier(self) -> ImageNetClassifier | MissingWeights:
        """ImageNet labels + image embeddings; the MissingWeights instead when its package is absent."""
        return self.get("image_classifier")

    def text_encoder(self) -> TextEncoder:
        return self._required("text_encoder")

    def llm(self):
        """The profile's chat model (qa/llm.py); raises MissingWeights when its weights (or key) are absent."""
        return self._required("llm")

    def captioner(self, checkpoint: str, frame_encoder: str):
        """The Q-Former checkpoint's captioner (temporal/qformer.py), with the LLM it was trained against."""
        from ..temporal.qformer import load_captioner

        return self._get(f"captioner:{checkpoint}", lambda: load_captioner(checkpoint, frame_encoder))

    def load_all(self, llm: bool = False) -> dict[str, float]:
        """Load every model ingest uses now (seconds per role), and the LLM too when asked (the describe
        stage's): for servers and benchmarks that load up front."""
        timings = {}
        roles = [
            ("asr", self.transcriber),
            ("ocr", self.ocr),
            ("frames", self.frame_encoder),
            ("labels", self.image_classifier),
            ("text", self.text_encoder),
        ]
        for role, load in roles + ([("llm", self.llm)] if llm else []):
            started = time.perf_counter()
            load()
            timings[role] = time.perf_counter() - started
        return timings


def _threads_per_lane() -> int:
    """Split the cores between the ASR lane and the vision lane, so the two overlap, not contend."""
    return max(1, (os.cpu_count() or 2) // 2)


# ---- one role's model, without a Models cache (tools, tests) ------------------------------------------
def load_transcriber(cfg: AsrConfig, device: str = "cpu", threads: int = 0) -> Transcriber:
    """The configured ASR backend, or MissingWeights."""
    return ROLES["asr"].load(cfg, LoadOptions(device=device, threads=threads))


def load_text_encoder(cfg: TextEncoderConfig, device: str = "cpu") -> TextEncoder:
    """The sentence encoder, or MissingWeights."""
    return ROLES["text_encoder"].load(cfg, LoadOptions(device=device))


def load_frame_encoder(cfg: FrameEncoderConfig, device: str = "cpu") -> FrameEncoder | None:
    """CLIP when its weights are on disk; else the configured fallback; else None (the stage is skipped)."""
    try:
        return ROLES["frame_encoder"].load(cfg, LoadOptions(device=device))
    except MissingWeights as exc:
        log.info("%s", exc)
        return None


def load_detector(cfg: DetectorConfig, height: int, device: str = "cpu") -> Detector:
    """YOLO when its weights are on disk; else the configured OpenCV fallback; else MissingWeights."""
    return ROLES["detector"].load(cfg, LoadOptions(device=device, height=height))


def load_chat_model(cfg: LlmConfig, device: str = "cpu"):
    """The chat model (MissingWeights when its weights, package or key are absent). Remote backends are
    only configured; they connect on first use."""
    return ROLES["llm"].load(cfg, LoadOptions(device=device))


def locate_llm(cfg: LlmConfig) -> tuple[str | None, str]:
    """(where the weights or endpoint are, or None; what that is, or why not), loading nothing."""
    found = ROLES["llm"].locate(cfg)
    return found.path, found.note
