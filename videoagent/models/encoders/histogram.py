"""A non-learned colour descriptor for object crops: what tracklet appearance search uses without CLIP.

It compares the colours an object wears (an HSV histogram, Hellinger-normalised so a dot product is
a Bhattacharyya-style similarity), not what the object is. Its name says so wherever it is stored.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import normalize

BINS = (12, 4, 4)  # hue, saturation, value


class ColourHistogram:
    name = "colour-histogram:hsv-12x4x4"
    learned = False
    dim = int(np.prod(BINS))

    def encode_images(self, frames: np.ndarray | list[np.ndarray]) -> np.ndarray:
        if len(frames) == 0:
            return np.zeros((0, self.dim), np.float32)
        return normalize(np.stack([self._one(f) for f in frames]))

    def _one(self, crop: np.ndarray) -> np.ndarray:
        hsv = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2HSV)
        hist = cv2.calcHist([hsv], [0, 1, 2], None, list(BINS), [0, 180, 0, 256, 0, 256]).reshape(-1)
        return np.sqrt(hist / max(float(hist.sum()), 1.0)).astype(np.float32)


# Hue ranges (OpenCV hue is 0-179) for naming a crop's colours in words.
_HUES = ((8, "red"), (22, "orange"), (34, "yellow"), (85, "green"), (100, "cyan"), (130, "blue"), (160, "purple"))


def colour_names(crop: np.ndarray, top: int = 2, min_share: float = 0.15) -> list[str]:
    """The crop's dominant colours as words ("black", "blue", ...), most common first."""
    if crop.size == 0:
        return []
    hsv = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.int32)
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    names = np.full(len(hsv), "red", dtype=object)  # hues past the last bound wrap back to red
    for bound, name in reversed(_HUES):
        names[h < bound] = name
    grey = s < 50
    names[grey] = "grey"
    names[grey & (v > 190)] = "white"
    names[v < 50] = "black"
    values, counts = np.unique(names, return_counts=True)
    order = np.argsort(-counts)
    return [str(values[i]) for i in order[:top] if counts[i] / len(names) >= min_share]
