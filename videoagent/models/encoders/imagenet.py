"""An ImageNet-1k classifier that also embeds images: EfficientNet-Lite0 (pip-bundled weights, Apache-2.0).

It is not CLIP: it names one of ImageNet's 1,000 classes and gives a 1280-d image embedding (the pooled
features before its classifier), comparable image to image, never to text. Its name says so wherever its
output is stored (`imagenet:efficientnet-lite0`).

Input as the weights were trained: the short side resized to 256, a centre crop of 224, (x - 127) / 128.
Label names are torchvision's ImageNet-1k category list (shipped in torchvision's code, no download).
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass

import numpy as np

from . import normalize

MODEL = "efficientnet-lite0"
# The bundled state dict's sha256 (its file name carries the first 8 digits, torch hub's convention).
SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
SHORT_SIDE, CROP = 256, 224


@dataclass(frozen=True)
class Label:
    name: str
    score: float  # softmax probability over the 1,000 classes (not yet calibrated for video frames)


def imagenet_categories() -> list[str]:
    from torchvision.models import EfficientNet_B0_Weights  # the metadata only: no weights are read

    return list(EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"])


class ImageNetClassifier:
    name = f"imagenet:{MODEL}"
    learned = True
    dim = 1280

    def __init__(self, weights: str, device: str = "cpu", batch_size: int = 16):
        import torch
        from efficientnet_lite_pytorch import EfficientNet

        self.device, self.batch_size = device, batch_size
        with contextlib.redirect_stdout(sys.stderr):  # it prints "Loaded pretrained weights" on stdout
            self.model = EfficientNet.from_pretrained(MODEL, weights_path=weights).to(device).eval()
        self.labels = imagenet_categories()
        self._torch = torch

    def _batches(self, frames):
        import cv2

        for i in range(0, len(frames), self.batch_size):
            crops = []
            for frame in frames[i : i + self.batch_size]:
                h, w = frame.shape[:2]
                scale = SHORT_SIDE / min(h, w)
                small = cv2.resize(frame, (max(CROP, round(w * scale)), max(CROP, round(h * scale))),
                                   interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)  # fmt: skip
                y, x = (small.shape[0] - CROP) // 2, (small.shape[1] - CROP) // 2
                crops.append(small[y : y + CROP, x : x + CROP])
            batch = (np.stack(crops).astype(np.float32) - 127.0) / 128.0
            yield self._torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device)

    def _forward(self, frames) -> tuple[np.ndarray, np.ndarray]:
        """(pooled features [N,1280], class probabilities [N,1000])."""
        torch = self._torch
        feats, probs = [], []
        with torch.inference_mode():
            for x in self._batches(frames):
                pooled = self.model._avg_pooling(self.model.extract_features(x)).flatten(1)
                feats.append(pooled.float().cpu().numpy())
                probs.append(torch.softmax(self.model._fc(pooled), dim=-1).float().cpu().numpy())
        if not feats:
            return np.zeros((0, self.dim), np.float32), np.zeros((0, len(self.labels)), np.float32)
        return np.concatenate(feats), np.concatenate(probs)

    def encode_images(self, frames: np.ndarray) -> np.ndarray:
        """[N,H,W,3] uint8 RGB -> [N,1280] unit-length image embeddings."""
        return normalize(self._forward(frames)[0])

    def classify(self, frames: np.ndarray, top: int = 5) -> list[list[Label]]:
        """The `top` ImageNet classes of each frame, most probable first."""
        _, probs = self._forward(frames)
        best = np.argsort(-probs, axis=1)[:, :top]
        return [[Label(self.labels[j], float(p[j])) for j in row] for p, row in zip(probs, best, strict=True)]
