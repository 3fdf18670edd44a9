"""Frame and text encoders behind one small interface, and the factory that picks them from a profile.

Every encoder returns L2-normalised float32 rows, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from ...config import FrameEncoderConfig, TextEncoderConfig
from ..weights import MissingWeights

log = logging.getLogger(__name__)


class FrameEncoder(Protocol):
    name: str  # recorded in the index: vectors from different encoders never mix
    dim: int
    learned: bool  # False for signals that are not a trained model (the fingerprint)

    def encode_images(self, frames: np.ndarray) -> np.ndarray:
        """[N,H,W,3] uint8 RGB -> [N,dim] float32, unit length."""
        ...


class TextEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """N strings -> [N,dim] float32, unit length."""
        ...


def normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def load_frame_encoder(cfg: FrameEncoderConfig, device: str = "cpu") -> FrameEncoder | None:
    """CLIP when its weights are on disk; else the configured fallback; else None (stage skipped).
    The frame_encoder role of the model registry (models/registry.py)."""
    from ..registry import ROLES, LoadOptions

    try:
        return ROLES["frame_encoder"].load(cfg, LoadOptions(device=device))
    except MissingWeights as exc:
        log.info("%s", exc)
        return None


def load_text_encoder(cfg: TextEncoderConfig, device: str = "cpu") -> TextEncoder:
    """The sentence encoder, or MissingWeights: the text_encoder role of the model registry."""
    from ..registry import ROLES, LoadOptions

    return ROLES["text_encoder"].load(cfg, LoadOptions(device=device))
