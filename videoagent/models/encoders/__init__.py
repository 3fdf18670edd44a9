"""Frame and text encoders behind one small interface (the registry, models/registry.py, picks and loads them).

Every encoder returns L2-normalised float32 rows, so a dot product is a cosine similarity.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


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
