"""Settings, model profiles (`configs/*.yaml`) and pipeline definitions (`pipelines/*.yaml`)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "configs"
PIPELINE_DIR = ROOT / "pipelines"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


class AsrConfig(_Section):
    backend: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    model: str = "bundled:whisper-tiny.en"
    language: str | None = "en"
    beam_size: int = 1
    compute_type: str = "int8"


class OcrConfig(_Section):
    backend: Literal["rapidocr"] = "rapidocr"
    det_limit_side_len: int = 640
    min_score: float = 0.6


class TextEncoderConfig(_Section):
    model: str = "bundled:all-MiniLM-L6-v2"


class FrameEncoderConfig(_Section):
    model: str | None = "openai/clip-vit-base-patch32"
    fallback: Literal["fingerprint"] | None = "fingerprint"
    batch_size: int = 16


class RetrievalConfig(_Section):
    """Socratic-style fusion: each channel's cosine similarity, weighted, summed per segment."""

    transcript_weight: float = 1.0
    ocr_weight: float = 1.0
    visual_weight: float = 1.0  # only learned visual encoders (CLIP) take part in text search
    candidates: int = 200  # rows fetched per channel before fusion


class Profile(_Section):
    """Which model plays each role."""

    name: str = "default"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    asr: AsrConfig = AsrConfig()
    ocr: OcrConfig = OcrConfig()
    text_encoder: TextEncoderConfig = TextEncoderConfig()
    frame_encoder: FrameEncoderConfig = FrameEncoderConfig()
    retrieval: RetrievalConfig = RetrievalConfig()

    def torch_device(self) -> str:
        if self.device != "auto":
            return self.device
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


class Pipeline(_Section):
    """Which ingest stages run, with which parameters."""

    name: str = "ingest"
    scenes: SceneConfig = SceneConfig()
    keyframes: KeyframeConfig = KeyframeConfig()
    asr: StageSwitch = StageSwitch()
    ocr: StageSwitch = StageSwitch()
    frames: StageSwitch = StageSwitch()


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ValueError(f"{path}: no such config file") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def _profile_dict(name_or_path: str) -> dict[str, Any]:
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = CONFIG_DIR / f"{name_or_path}.yaml"
    data = _read_yaml(path)
    parent = data.pop("extends", None)
    return _merge(_profile_dict(parent), data) if parent else data


def load_profile(name_or_path: str | None = None) -> Profile:
    """Load a profile by name (`configs/NAME.yaml`) or path; `extends:` chains are merged."""
    name = name_or_path or os.environ.get("VIDEOAGENT_PROFILE", "default")
    return Profile.model_validate(_profile_dict(name))


def load_pipeline(path: str | Path | None = None) -> Pipeline:
    return Pipeline.model_validate(_read_yaml(Path(path) if path else PIPELINE_DIR / "ingest.yaml"))


def index_dir(explicit: str | Path | None = None) -> Path:
    """`--index DIR`, else `$VIDEOAGENT_HOME`, else `./.videoagent`."""
    return Path(explicit or os.environ.get("VIDEOAGENT_HOME") or ".videoagent").resolve()


def config_hash(*parts: BaseModel | dict[str, Any] | str | None) -> str:
    """Stable short hash of stage settings: an artifact is reused only under the same hash."""
    blob = json.dumps([p.model_dump(mode="json") if isinstance(p, BaseModel) else p for p in parts], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
