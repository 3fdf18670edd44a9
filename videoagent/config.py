"""Settings, model profiles (`videoagent/configs/*.yaml`) and pipeline definitions (`videoagent/pipelines/*.yaml`).

Both folders ship inside the package (package data) and are read with importlib.resources, so an
installed wheel finds them without the source tree. A profile given as a path ending in .yaml/.yml,
and any pipeline given as a path, is the user's own file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from .errors import ConfigError

YAML_SUFFIXES = (".yaml", ".yml")


def _one_of(names: Callable[[], Iterable[str]], what: str) -> AfterValidator:
    """A field checked against a registry's names, read when a value is validated (not at import)."""

    def check(value: str) -> str:
        known = list(names())
        if value not in known:
            raise ValueError(f"unknown {what} {value!r} (choices: {', '.join(known)})")
        return value

    return AfterValidator(check)


# What each model role's profile section may name: the one list of them. The model registry
# (models/registry.py, ROLES) maps each name to the code that locates and loads it, and refuses to import
# when a name here has no implementation there or one there has no name here; so a profile is checked
# against what the registry can load without importing any model code (and config imports nothing of it).
BACKENDS: dict[str, tuple[str, ...]] = {
    "asr": ("faster-whisper", "openai-whisper"),
    "ocr": ("rapidocr",),
    "text_encoder": ("onnxruntime", "sentence-transformers"),
    "frame_encoder": ("clip",),
    "image_classifier": ("efficientnet-lite",),
    "detector": ("ssd", "yolo"),
    "face_detector": ("blazeface",),
    "llm": ("llama-cpp", "local-gguf", "hf", "openai", "ollama"),
    "lexicon": ("wordnet",),
}
FALLBACKS: dict[str, tuple[str, ...]] = {"frame_encoder": ("fingerprint",), "detector": ("hog", "haar")}
COMBINED_FALLBACKS = ("detector",)  # roles whose fallbacks may be joined with '+' (hog+haar)


def _role(role: str, field: Literal["backend", "fallback"]) -> AfterValidator:
    """`<section>.backend` / `.fallback` checked against the names the role's registry entry implements."""

    def check(value: str | None) -> str | None:
        if value is None:
            return value
        known = (BACKENDS if field == "backend" else FALLBACKS)[role]
        combine = field == "fallback" and role in COMBINED_FALLBACKS
        parts = value.split("+") if combine else [value]
        for part in parts:
            if part not in known:
                joined = " (or several joined by '+')" if combine else ""
                raise ValueError(f"unknown {role} {field} {part!r} (choices: {', '.join(known)}{joined})")
        if len(set(parts)) != len(parts):
            raise ValueError(f"{role} {field} {value!r} names one part twice")
        return value

    return AfterValidator(check)


def _temporal_modules() -> tuple[str, ...]:
    from .temporal import MODULE_NAMES  # the names of temporal.modules.MODULES, without importing torch

    return MODULE_NAMES


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


class AsrConfig(_Section):
    backend: Annotated[str, _role("asr", "backend")] = "faster-whisper"
    model: str = "bundled:whisper-base"
    language: str | None = None  # None: detected per video
    beam_size: int = 1
    compute_type: str = "int8"
    speech_gate: bool = True  # keep only words where Silero VAD hears speech (no "Music" heard in a score)
    # A stretch Whisper decoded at a mean token log-probability below this is dropped: Whisper's own
    # `logprob_threshold` for a failed decode (the diver's score: -1.3; real speech on the fixtures: -0.2..-0.64).
    min_logprob: float | None = -1.0


class OcrConfig(_Section):
    backend: Annotated[str, _role("ocr", "backend")] = "rapidocr"
    max_side: int = 640  # frames are shrunk to this long side before OCR
    min_score: float = 0.6


class TextEncoderConfig(_Section):
    # onnxruntime: the model exported once to ONNX (no torch at query time); sentence-transformers: the same
    # model on torch (GPU). Same vectors, same name: an index made with one is searched with the other.
    backend: Annotated[str, _role("text_encoder", "backend")] = "onnxruntime"
    model: str = "bundled:all-MiniLM-L6-v2"


class ImageClassifierConfig(_Section):
    """ImageNet-1k labels and a 1280-d image embedding per picture (models/encoders/imagenet.py). Not CLIP:
    its embedding compares images with images, never with text."""

    backend: Annotated[str, _role("image_classifier", "backend")] = "efficientnet-lite"
    model: str = "bundled:efficientnet-lite0"
    top_k: int = 5


class FrameEncoderConfig(_Section):
    model: str | None = "openai/clip-vit-base-patch32"
    fallback: Annotated[str | None, _role("frame_encoder", "fallback")] = "fingerprint"
    batch_size: int = 16


class DetectorConfig(_Section):
    """Object detector for tracklets: MediaPipe's SSD MobileNetV2 on 24 Open Images classes (`ssd`, from its
    npm package) or a YOLO checkpoint (`yolo`: a path, or a file name in the current folder) when on disk;
    else OpenCV's bundled HOG people (`hog`) and/or Haar face (`haar`) detectors."""

    backend: Annotated[str, _role("detector", "backend")] = "ssd"
    model: str | None = "bundled:ssd-mobilenetv2-oidv4"
    fallback: Annotated[str | None, _role("detector", "fallback")] = "hog"
    min_score: float = 0.25  # ssd: boxes scoring below this (calibrated: 0.5 = MediaPipe keeps it) are dropped
    yolo_imgsz: int = 640
    yolo_conf: float = 0.1  # low: ByteTrack's second association uses the low-confidence boxes


class FaceDetectorConfig(_Section):
    """Faces for face tracklets, beside the object detector's boxes: MediaPipe's BlazeFace (full range).
    It finds faces; it does not tell whose they are."""

    enabled: bool = True
    backend: Annotated[str, _role("face_detector", "backend")] = "blazeface"
    model: str = "bundled:blazeface-full-range"
    min_score: float = 0.6  # MediaPipe's own threshold


class RetrievalConfig(_Section):
    """Socratic-style fusion: each channel's cosine similarity, weighted, summed per segment."""

    transcript_weight: float = 1.0
    ocr_weight: float = 1.0
    visual_weight: float = 1.0  # only learned visual encoders (CLIP) take part in text search
    caption_weight: float = 1.0  # segment captions, when a Q-Former wrote them
    labels_weight: float = 1.0  # the image classifier's labels (words), through the text encoder
    description_weight: float = 0.5  # the describe stage's model-written lines: they restate the other channels
    candidates: int = 200  # rows fetched per channel before fusion


class LlmConfig(_Section):
    """The LLM that answers questions, and how the planner uses it (see qa/llama_cpp.py, qa/answerer.py)."""

    backend: Annotated[str, _role("llm", "backend")] = "llama-cpp"
    model: str = "bundled:qwen2.5-coder-1.5b-instruct"
    # auto: the answering planner (the model writes, the code checks its citations) for instruction-tuned
    # models; the grounded planner (scores evidence lines) for the tiny transformers models; tools:
    # LangChain tool calling
    planner: Literal["auto", "answer", "grounded", "tools"] = "auto"
    base_url: str | None = None  # openai-compatible or ollama server
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this environment variable, never from a file
    max_new_tokens: int = 200
    temperature: float = 0.0
    context: int = 4096  # llama-cpp: context length in tokens (the scene list, the conversation, the answer)
    # CPU threads: llama-cpp uses them all (0: one per core, at most 8); the tiny transformers models are
    # given one, because their short forward passes gain little from a second core and lose 5-10x when
    # it is busy
    threads: int = 0
    # grounded planner: evidence PMI below this means "not in this video" (tools/eval_qa.py measures it)
    cutoff: float = 0.72


class Profile(_Section):
    """Which model plays each role."""

    name: str = "default"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    asr: AsrConfig = AsrConfig()
    ocr: OcrConfig = OcrConfig()
    text_encoder: TextEncoderConfig = TextEncoderConfig()
    frame_encoder: FrameEncoderConfig = FrameEncoderConfig()
    image_classifier: ImageClassifierConfig = ImageClassifierConfig()
    detector: DetectorConfig = DetectorConfig()
    face_detector: FaceDetectorConfig = FaceDetectorConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    llm: LlmConfig = LlmConfig()

    def torch_device(self) -> str:
        """cpu or cuda. "auto" asks torch, but only on a machine with an NVIDIA driver: importing torch
        (~1.5 s) just to learn there is no GPU would double a cold `videoagent search`."""
        if self.device != "auto":
            return self.device
        if not Path("/proc/driver/nvidia/version").exists() and not os.environ.get("CUDA_VISIBLE_DEVICES"):
            return "cpu"
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"


class SceneConfig(_Section):
    detector: Literal["content", "adaptive", "windows"] = "content"
    threshold: float = 27.0
    downscale: int = 4
    min_scene_s: float = 0.6
    max_scene_s: float = 30.0
    window_s: float = 10.0


class KeyframeConfig(_Section):
    interval_s: float = 2.0
    max_per_segment: int = 8


class StageSwitch(_Section):
    enabled: bool = True


class TemporalConfig(_Section):
    """How a segment's keyframe embeddings become one vector (temporal/modules.py; names = its MODULES).
    A learned module needs a checkpoint from tools/train_temporal.py made for the same frame encoder;
    without one, ingest uses `mean` and says so in the stage status."""

    module: Annotated[str, _one_of(_temporal_modules, "temporal module")] = "mean"
    checkpoint: str | None = None


class CaptionsConfig(_Section):
    """Segment captions from a video Q-Former (qformer.py) trained by tools/train_qformer.py on the profile's
    frame encoder; none ships, so without a checkpoint the stage is skipped and says so."""

    checkpoint: str | None = None
    max_new_tokens: int = 24


class TracksConfig(_Section):
    """Detect + ByteTrack at `sample_fps` (tracks reset at scene cuts) -> tracklets (see track.py)."""

    enabled: bool = True
    sample_fps: float = 2.0
    detect_height: int = 360  # frames are resized to this height before the OpenCV detectors
    high_conf: float = 0.5  # ByteTrack: first-association / low-confidence split
    low_conf: float = 0.3  # detections below this are dropped
    new_track_conf: float = 0.55  # a track starts only from a detection at least this confident
    match_iou: float = 0.2  # minimum IoU (buffered boxes, score-fused) for a detection to join a track
    box_buffer: float = 1.0  # boxes grow by this fraction of their size on each side before matching
    lost_s: float = 4.0  # a track unseen this long ends
    min_boxes: int = 3  # shorter tracks are dropped
    min_mean_conf: float = 0.55  # tracks less confident on average are dropped
    edge_margin: float = 0.1  # a box this close (fraction of the frame) to an edge touches that side


class LabelsConfig(_Section):
    """What the image classifier sees per segment (ingest/labels.py): its classes and their everyday kinds,
    pooled over the segment's keyframes, the `top_k` best kept when their probability reaches `min_score`."""

    enabled: bool = True
    top_k: int = 8
    min_score: float = 0.1


class DescribeConfig(_Section):
    """Lines per segment and a title, summary and chapters per video, written by the profile's LLM from
    what the other stages found (ingest/describe.py)."""

    enabled: bool = False  # on: `videoagent ingest --describe` (its cost: tools/bench_ingest.py)
    long_said: int = 25  # segments with more words of speech than this get a line of their own
    max_words: int = 12  # per segment line
    batch: int = 12  # segment lines written per model call
    window: int = 40  # segment lines one summary (and its chapters) is written from; longer videos get more
    max_chapters: int = 8  # per window


class Pipeline(_Section):
    """Which ingest stages run, with which parameters."""

    name: str = "ingest"
    scenes: SceneConfig = SceneConfig()
    keyframes: KeyframeConfig = KeyframeConfig()
    asr: StageSwitch = StageSwitch()
    ocr: StageSwitch = StageSwitch()
    frames: StageSwitch = StageSwitch()
    labels: LabelsConfig = LabelsConfig()
    temporal: TemporalConfig = TemporalConfig()
    captions: CaptionsConfig = CaptionsConfig()
    tracks: TracksConfig = TracksConfig()
    describe: DescribeConfig = DescribeConfig()


class ChromaServerConfig(_Section):
    """A Chroma server (`chroma run`) holding an index's vectors, so that several ingest workers, the Ray
    executor and several servers can write and read one index (the embedded client allows one process)."""

    host: str = "localhost"
    port: int = 8000
    ssl: bool = False
    tenant: str = "default_tenant"
    database: str = "videoagent"  # one database per index: collections are named the same in every index
    token_env: str | None = None  # a bearer token is read from this environment variable, never from the file


class IndexConfig(_Section):
    """How an index stores its vectors: `<index>/index.yaml` (`videoagent init` writes it); every process that
    opens the index reads it, so none can write to another backend by mistake. Without it: embedded Chroma."""

    chroma: ChromaServerConfig | None = None


INDEX_CONFIG = "index.yaml"


def load_index_config(root: str | Path) -> IndexConfig:
    path = Path(root) / INDEX_CONFIG
    return _validated(IndexConfig, _read_yaml(path), str(path)) if path.is_file() else IndexConfig()


# Hub libraries read these when imported: set them before transformers, chromadb or ultralytics load.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "YOLO_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # weight-loading bars would flood stderr
}


def use_offline_env() -> None:
    """Offline by construction: nothing may try the network behind the user's back (explicit settings win)."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _shipped(folder: str) -> Traversable:
    """A folder of YAML files shipped inside the package (`configs`, `pipelines`)."""
    return resources.files("videoagent") / folder


def shipped_profiles() -> list[str]:
    """Names of the profiles that ship with the package (`videoagent/configs/NAME.yaml`)."""
    return sorted(f.name.removesuffix(".yaml") for f in _shipped("configs").iterdir() if f.name.endswith(".yaml"))


def _read_yaml(path: Path | Traversable) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _profile_file(name_or_path: str) -> Path | Traversable:
    """A path (ends in .yaml/.yml) is the user's file; anything else names a shipped profile."""
    if Path(name_or_path).suffix in YAML_SUFFIXES:
        return Path(name_or_path)
    shipped = _shipped("configs") / f"{name_or_path}.yaml"
    if not shipped.is_file():
        names = ", ".join(shipped_profiles())
        raise ConfigError(f"{name_or_path}: no such config file (shipped profiles: {names}; or a path to a .yaml file)")
    return shipped


def _profile_dict(name_or_path: str) -> dict[str, Any]:
    data = _read_yaml(_profile_file(name_or_path))
    parent = data.pop("extends", None)
    return _merge(_profile_dict(str(parent)), data) if parent else data


def load_profile(name_or_path: str | None = None) -> Profile:
    """Load a shipped profile by name (`videoagent/configs/NAME.yaml`) or the user's own by path; `extends:`
    chains are merged (a name in `extends:` is a shipped profile, a .yaml/.yml value a path)."""
    name = name_or_path or os.environ.get("VIDEOAGENT_PROFILE", "default")
    return _validated(Profile, _profile_dict(name), name)


def load_pipeline(path: str | Path | None = None) -> Pipeline:
    """Load a pipeline from a path, else the shipped `videoagent/pipelines/ingest.yaml`."""
    source = Path(path) if path else _shipped("pipelines") / "ingest.yaml"
    return _validated(Pipeline, _read_yaml(source), str(source))


def _validated(kind: type[_Section], data: dict[str, Any], source: str):
    """The settings, or a ConfigError naming the file and the first bad field in one line."""
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{source}: {where}: {first['msg']} ({exc.error_count()} problem(s))") from None


def index_dir(explicit: str | Path | None = None) -> Path:
    """`--index DIR`, else `$VIDEOAGENT_HOME`, else `./.videoagent`."""
    return Path(explicit or os.environ.get("VIDEOAGENT_HOME") or ".videoagent").resolve()


def config_hash(*parts: BaseModel | dict[str, Any] | str | None) -> str:
    """Stable short hash of stage settings: an artifact is reused only under the same hash."""
    blob = json.dumps([p.model_dump(mode="json") if isinstance(p, BaseModel) else p for p in parts], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
