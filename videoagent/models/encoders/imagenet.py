"""An ImageNet-1k classifier that also embeds images: EfficientNet-Lite0 (pip-bundled weights, Apache-2.0).

It is not CLIP: it names one of ImageNet's 1,000 classes and gives a 1280-d image embedding (the pooled
features before its classifier), comparable image to image, never to text. Its name says so wherever its
output is stored (`imagenet:efficientnet-lite0`).

Input as the weights were trained: the short side resized to 256, a centre crop of 224, (x - 127) / 128.
Label names are torchvision's ImageNet-1k category list (shipped in torchvision's code, no download).

Video frames are not ImageNet photos: they are often letterboxed and wider than tall, and the subject is
rarely centred. `look` first trims black borders, then reads a wide picture as three overlapping square
crops (left, centre, right) and averages their probabilities and features. A softmax over 1,000 fine
classes also spreads its mass: a dog is 0.3 Samoyed, 0.2 white wolf, 0.1 Pomeranian. `kind_scores` sums
the probabilities of every class under each everyday kind (WordNet's hypernyms, data/imagenet_kinds.json):
the frame is then 0.8 "dog". These sums are what the labels stage reports as scores.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import normalize

MODEL = "efficientnet-lite0"
# The bundled state dict's sha256 (its file name carries the first 8 digits, torch hub's convention).
SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
SHORT_SIDE, CROP = 256, 224
BORDER_LEVEL = 24  # rows / columns whose brightest pixel is darker than this are letterbox bars
WIDE = 1.2  # pictures wider (or taller) than this ratio are read as three square crops


@dataclass(frozen=True)
class Label:
    name: str
    score: float  # softmax probability over the 1,000 classes (not yet calibrated for video frames)


def imagenet_categories() -> list[str]:
    from torchvision.models import EfficientNet_B0_Weights  # the metadata only: no weights are read

    return list(EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"])


@functools.cache
def class_kinds() -> dict[str, list[str]]:
    """ImageNet class name -> the everyday kinds it is a kind of (tools/build_label_kinds.py)."""
    text = resources.files("videoagent").joinpath("data", "imagenet_kinds.json").read_text()
    return json.loads(text)["kinds"]


@functools.cache
def kinds_above() -> dict[str, frozenset[str]]:
    """Each class and kind -> the kinds above it (for a kind: those above every class under it)."""
    table = class_kinds()
    above: dict[str, frozenset[str]] = {name: frozenset(kinds) for name, kinds in table.items()}
    for kind in {k for kinds in table.values() for k in kinds}:
        under = [set(kinds) for kinds in table.values() if kind in kinds]
        common = frozenset(set.intersection(*under) - {kind})
        above[kind] = above.get(kind, frozenset()) | common if kind in table else common
    return above


def kind_scores(probs: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Every class's probability, and every kind's: the sum over the classes under it (at most 1)."""
    kinds = class_kinds()
    scores: dict[str, float] = {}
    for name, p in zip(labels, probs.tolist(), strict=True):
        scores[name] = max(scores.get(name, 0.0), p)  # two classes share a name ("crane", "maillot")
        for kind in kinds.get(name, ()):
            scores[f"~{kind}"] = scores.get(f"~{kind}", 0.0) + p
    out: dict[str, float] = {}
    for key, p in scores.items():  # a kind named like a class ("dog"... ) keeps the larger reading
        name = key.lstrip("~")
        out[name] = min(1.0, max(out.get(name, 0.0), p))
    return out


def trim_borders(frame: np.ndarray, level: int = BORDER_LEVEL) -> np.ndarray:
    """The picture inside letterbox / pillarbox bars (the whole frame when it has none, or is all dark)."""
    h = frame.shape[0]
    # Row and column maxima over contiguous memory: the same test as `frame.max(axis=2) >= level` per pixel,
    # ~10x faster on a 720p frame (a max over the 3-channel axis is a strided reduce: 34 ms of it per frame).
    rows = np.flatnonzero(frame.reshape(h, -1).max(axis=1) >= level)
    cols = np.flatnonzero(frame.max(axis=0).reshape(frame.shape[1], -1).max(axis=1) >= level)
    if len(rows) < 16 or len(cols) < 16:
        return frame
    return frame[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def square_crops(frame: np.ndarray) -> list[np.ndarray]:
    """One square (the centre) for a picture near square; three overlapping ones along a wide one."""
    h, w = frame.shape[:2]
    side = min(h, w)
    if max(h, w) / side < WIDE:
        return [frame]
    starts = [0, (max(h, w) - side) // 2, max(h, w) - side]
    if w >= h:
        return [frame[:, x : x + side] for x in starts]
    return [frame[y : y + side, :] for y in starts]


def _load_torch(weights: str, device: str):
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(sys.stderr):  # it prints "Loaded pretrained weights" on stdout
        return EfficientNet.from_pretrained(MODEL, weights_path=weights).to(device).eval()


def _heads(model):
    """The network as one module with the two outputs kept: pooled features and class probabilities."""
    import torch

    class Heads(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = model

        def forward(self, x):
            pooled = self.net._avg_pooling(self.net.extract_features(x)).flatten(1)
            return pooled, torch.softmax(self.net._fc(pooled), dim=-1)

    return Heads().eval()


def onnx_file(weights: str) -> Path:
    """The state dict exported to ONNX once, into the cache (`cache_dir()/onnx/efficientnet-lite0-<sha>`,
    keyed by the weights' own hash prefix in their file name); the only step that needs torch."""
    from ...atomic import atomic_folder
    from ..weights import cache_dir

    def export(work: Path) -> None:
        import torch

        heads = _heads(_load_torch(weights, "cpu"))
        example = torch.zeros(1, 3, CROP, CROP)
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracing exporter's notes on shapes it keeps dynamic
            torch.onnx.export(heads, example, str(work / "model.onnx"), input_names=["x"], output_names=["f", "p"],
                              dynamic_axes={"x": {0: "n"}, "f": {0: "n"}, "p": {0: "n"}}, opset_version=17,
                              dynamo=False)  # fmt: skip

    target = cache_dir() / "onnx" / f"{MODEL}-{Path(weights).stem.rsplit('-', 1)[-1]}"
    return atomic_folder(target, export) / "model.onnx"


class ImageNetClassifier:
    """On CPU through ONNX Runtime (the state dict exported once: several times faster than torch's eager
    depthwise convolutions on one thread, same outputs to 1e-6); on CUDA through torch."""

    name = f"imagenet:{MODEL}"
    learned = True
    dim = 1280

    def __init__(self, weights: str, device: str = "cpu", batch_size: int = 16, threads: int = 0):
        self.device, self.batch_size = device, batch_size
        self.labels = imagenet_categories()
        self._session = self._heads = None
        if device == "cpu":
            import onnxruntime as ort

            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            self._session = ort.InferenceSession(str(onnx_file(weights)), options, providers=["CPUExecutionProvider"])
        else:
            self._heads = _heads(_load_torch(weights, device))

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
            yield np.ascontiguousarray(((np.stack(crops).astype(np.float32) - 127.0) / 128.0).transpose(0, 3, 1, 2))

    def _run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[N,3,224,224] float32 -> (pooled features [N,1280], class probabilities [N,1000])."""
        if self._session is not None:
            feats, probs = self._session.run(None, {"x": x})
            return feats, probs
        import torch

        with torch.inference_mode():
            feats, probs = self._heads(torch.from_numpy(x).to(self.device))
        return feats.float().cpu().numpy(), probs.float().cpu().numpy()

    def _forward(self, frames) -> tuple[np.ndarray, np.ndarray]:
        """(pooled features [N,1280], class probabilities [N,1000])."""
        feats, probs = [], []
        for x in self._batches(frames):
            f, p = self._run(x)
            feats.append(f)
            probs.append(p)
        if not feats:
            return np.zeros((0, self.dim), np.float32), np.zeros((0, len(self.labels)), np.float32)
        return np.concatenate(feats), np.concatenate(probs)

    def encode_images(self, frames: np.ndarray) -> np.ndarray:
        """[N,H,W,3] uint8 RGB -> [N,1280] unit-length image embeddings."""
        return normalize(self._forward(frames)[0])

    def look(self, frames) -> tuple[np.ndarray, np.ndarray]:
        """Video frames -> (unit-length embeddings [N,1280], class probabilities [N,1000]): borders
        trimmed, wide pictures read as three crops, averaged."""
        crops, owner = [], []
        for i, frame in enumerate(frames):
            for crop in square_crops(trim_borders(np.asarray(frame))):
                crops.append(crop)
                owner.append(i)
        n = len(frames)
        if not n:
            return np.zeros((0, self.dim), np.float32), np.zeros((0, len(self.labels)), np.float32)
        feats, probs = self._forward(crops)
        owner_idx = np.asarray(owner, int)
        emb = np.zeros((n, self.dim), np.float32)
        mean = np.zeros((n, probs.shape[1]), np.float32)
        np.add.at(emb, owner_idx, normalize(feats))
        np.add.at(mean, owner_idx, probs)
        return normalize(emb), mean / np.bincount(owner_idx, minlength=n).reshape(-1, 1)

    def classify(self, frames: np.ndarray, top: int = 5) -> list[list[Label]]:
        """The `top` ImageNet classes of each frame, most probable first."""
        _, probs = self._forward(frames)
        best = np.argsort(-probs, axis=1)[:, :top]
        return [[Label(self.labels[j], float(p[j])) for j in row] for p, row in zip(probs, best, strict=True)]
