"""A non-learned colour/layout fingerprint: what near-duplicate search can use when no CLIP is present.

It is not a semantic embedding: it matches re-encoded, resized or recompressed copies of the same
footage, not "a cat" to a different cat. Its name says so wherever its vectors are stored.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import normalize

GRID = 8  # 8x8 layout cells
BINS = (8, 4, 4)  # hue, saturation, value histogram


class Fingerprint:
    name = "fingerprint:colour-layout-v1"
    learned = False
    dim = GRID * GRID * 3 + int(np.prod(BINS))

    def encode_images(self, frames: np.ndarray) -> np.ndarray:
        return normalize(np.stack([self._one(f) for f in frames])) if len(frames) else np.zeros((0, self.dim))

    def _one(self, frame: np.ndarray) -> np.ndarray:
        small = cv2.resize(frame, (64, 64), interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32) / 255.0
        # Layout: mean Lab per cell, centred so the vector encodes the pattern, not overall brightness.
        cells = lab.reshape(GRID, 64 // GRID, GRID, 64 // GRID, 3).mean(axis=(1, 3)).reshape(-1)
        cells -= cells.mean()
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        hist = cv2.calcHist([hsv], [0, 1, 2], None, list(BINS), [0, 180, 0, 256, 0, 256]).reshape(-1)
        hist = np.sqrt(hist / max(hist.sum(), 1.0))  # Hellinger: histograms compare by cosine
        return np.concatenate([cells * 2.0, hist * 0.5]).astype(np.float32)
